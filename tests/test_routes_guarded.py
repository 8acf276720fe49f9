"""Every route is guarded: anonymous visitors reach only the public pages, and
a patient reaches no staff page. Walks the whole URL map, so a new route
without a check fails here."""

import pytest
from werkzeug.routing import IntegerConverter

from intake.accounts.roles import Role

PUBLIC = {
    "static",
    "bootstrap.static",
    "healthz",
    "accounts.index",
    "accounts.login",
    "accounts.register",
    "accounts.forgot_password",
    "accounts.reset_password",
    "accounts.confirm_registration",
    "accounts.login_code",
    "accounts.set_language",
    "scheduling.availability_api",
}
# Patient pages: the patient's own records (object checks are tested per domain).
PATIENT_PREFIXES = (
    "/me",
    "/messages",
    "/journey",
    "/questionnaire",
    "/consent",
    "/panel/",  # the patient's own results; other patients' answer 404 (tests/eligibility)
    "/my-",
    "/visits",
    "/book",
    "/trips",
    "/waitlist",  # the patient's place on the collection waitlist
    "/password/change",
    "/logout",
)


def _urls(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        values = {
            arg: 1 if isinstance(rule._converters[arg], IntegerConverter) else "x"
            for arg in rule.arguments
        }
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, _build(app, rule, values)


def _build(app, rule, values):
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_anonymous_is_sent_to_login_everywhere_else(app, client):
    seen = 0
    for endpoint, method, url in _urls(app):
        with client.open(url, method=method) as r:
            assert r.status_code in (302, 401, 404), (endpoint, method, url, r.status_code)
            if r.status_code == 302:
                assert "/login" in r.headers["Location"], (endpoint, url)
        seen += 1
    assert seen > 40


@pytest.mark.parametrize("role", [Role.PATIENT, Role.LAB])
def test_no_staff_page_for_patients_and_no_clinical_page_for_lab(app, client, login_as, role):
    login_as(role)
    for endpoint, method, url in _urls(app):
        if method != "GET":
            continue
        if role == Role.PATIENT and url.startswith(PATIENT_PREFIXES):
            continue
        if role == Role.LAB and url.startswith(
            ("/lab", "/messages", "/password/change", "/logout", "/account/two-factor")
        ):
            continue
        with client.get(url) as r:
            assert r.status_code in (403, 404), (role, endpoint, url, r.status_code)
