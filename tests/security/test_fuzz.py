"""Property-based fuzzing (hypothesis): whatever is typed into any form,
query parameter or path segment (any Unicode, NUL bytes, numbers past 64
bits, dates in year 1 or 9999, very long text, markup), the answer is never a
server error. The forms are found by reading every page each role can open,
so a new form is fuzzed without being listed here. Bounded: a few examples
per target, no shrinking database, the same examples on every run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter

from tests.security.world import ROLES, build_world
from tests.test_security_matrix import expected

# A few examples per target keep the suite fast; FUZZ_EXAMPLES=200 for a deep run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))

# Query parameters the views read (and a few they do not).
QUERY_PARAMS = (
    "page",
    "patient_id",
    "actor_id",
    "q",
    "day",
    "visit_type",
    "next",
    "role",
    "service",
    "start",
    "days",
    "entity_type",
    "entity_id",
    "action",
    "mode",
)

ODD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "%00",
    "\u202e\u0645\u0631\u062d\u0628\u0627",
    "𠀋𡈽🩸",
    "ｐａｇｅ１２３",
    "１２３",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE users; --",
    "../../etc/passwd",
    "//evil.example/",
    "javascript:alert(1)",
    "null",
    "[]",
    "{}",
    "1e309",
    "NaN",
    "-0",
    "0x1F",
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "99999-01-01",
    "25:61",
    "2026-01-05T09:00",
    "2026-01-05T09:00:00+99:00",
    str(2**31 - 1),
    str(2**31),
    str(2**63),
    str(2**63 - 1),
    str(-(2**63) - 1),
    "9" * 400,
]

NASTY = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=40),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda d: d.replace(tzinfo=UTC).isoformat()
    ),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=4), st.integers(300, 6000)),
)

# Ids in the path: the largest an id column holds on each database and past it.
IDS = st.one_of(
    st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 10**30]),
    st.integers(min_value=0, max_value=2**70),
)

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Form:
    method: str
    url: str
    fields: dict[str, list[str]] = field(default_factory=dict)


class FormReader(HTMLParser):
    """The forms of a page: where they go and their fields' current values."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False
        self._textarea: str | None = None

    def _add(self, name, value):
        if self.forms and name:
            self.forms[-1].fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            method = (a.get("method") or "get").upper()
            self.forms.append(Form(method, a.get("action") or self.page_url))
        elif tag in ("input", "button"):
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            if kind in ("checkbox", "radio"):
                self.forms and a.get("name") and self.forms[-1].fields.setdefault(a["name"], [])
                if "checked" in a:
                    self._add(a.get("name"), a.get("value") or "on")
            elif kind not in ("submit", "reset", "image") or a.get("name"):
                self._add(a.get("name"), a.get("value") or "")
        elif tag == "select":
            self._select, self._first_option, self._selected = a.get("name"), None, False
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._add(self._select, value)
                self._selected = True
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._add(self._textarea, "")

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self._selected and self._first_option is not None:
                self._add(self._select, self._first_option)
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea][-1] += data


@dataclass
class Target:
    role: str
    method: str
    url: str
    fields: dict[str, list[str]]
    where: str  # "form", "query" or "path"


def _client(app, world, role):
    client = app.test_client()
    if role != "anonymous":
        user = world.user(role)
        data = {"email": user.email, "password": world.password(role)}
        client.post("/login", data=data).close()
    return client


# POST routes whose form the world's pages do not show (the step is done
# already, or the form comes with a chosen time): their fields, by endpoint.
FALLBACK_FIELDS = {
    "accounts.login_code": ["code"],
    "accounts.logout": ["next"],
    "accounts.reset_password": ["password", "confirm"],
    "cultures.receive": ["received_by", "occurred_at", "condition"],
    "eligibility.consent_sign": ["document_id", "fingerprint", "has_read", "password"],
    "eligibility.questionnaire_page": ["action", "indication", "indication_details"],
    "eligibility.questionnaire_submit": ["confirm"],
    "feeds.revoke": ["csrf_token"],
    "eligibility.review_decide": [
        "decision-decision",
        "decision-reason",
        "decision-override_reason",
        "decision-password",
    ],
    "eligibility.review_notes": [
        "notes-history_notes",
        "notes-consultation_date",
        "notes-indication_code",
        "notes-planned_route",
    ],
    "patients.invite": ["email"],
    # The waitlist's buttons are their forms (no field but the CSRF token).
    "scheduling.waitlist_accept": ["csrf_token"],
    "scheduling.waitlist_decline": ["csrf_token"],
    "scheduling.waitlist_leave": ["csrf_token"],
    # The world's patient already waits: the join page leads to her place.
    "scheduling.waitlist_join": ["weeks", "fit_trips"],
    # The world's dose is confirmed (no proposal left to confirm, the propose
    # pages lead to the move page) and its change request is open.
    "reinfusion.confirm": ["csrf_token"],
    "reinfusion.propose": ["route", "times"],
    "reinfusion.propose_dose": ["route", "times"],
    "reinfusion.request_change": ["reason"],
    # The reinfusion day's forms show on the visit's day only.
    "reinfusion_day.bedside": ["label", "name", "date_of_birth"],
    "reinfusion_day.clearance": [
        *("systolic", "diastolic", "pulse", "temperature_c", "spo2"),
        *("decision", "reason", "password"),
    ],
    "patients.new_course": ["reason"],
    "scheduling.book": ["start", "mode", "book_anyway"],
    "scheduling.desk_book": ["start", "mode", "book_anyway"],
    "scheduling.desk_reschedule": ["start", "mode"],
    "scheduling.desk_status": ["action", "next"],
    "scheduling.visit_reschedule": ["start", "mode"],
}
SKIPPED = {"static", "bootstrap.static"}


def _endpoint(app, method: str, url: str) -> str:
    adapter = app.url_map.bind("localhost")
    return adapter.match(urlsplit(url).path, method=method)[0]


def _first_role(table, method, rule) -> str | None:
    return next((r for r in ROLES if table[method, rule.rule][r] == "ok"), None)


def _targets(app, world) -> list[Target]:
    table = expected()
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    targets: dict[tuple[str, str, str], Target] = {}
    for role in ROLES:
        client = _client(app, world, role)
        for rule in rules:
            if rule.endpoint in SKIPPED or "GET" not in rule.methods:
                continue
            if table["GET", rule.rule][role] != "ok":
                continue
            url = world.url(app, rule)
            query = dict.fromkeys(QUERY_PARAMS, [])
            targets.setdefault(
                ("query", "GET", rule.endpoint), Target(role, "GET", url, query, "query")
            )
            if rule.arguments:
                targets.setdefault(
                    ("path", "GET", rule.endpoint),
                    Target(role, "GET", rule.endpoint, {a: [] for a in rule.arguments}, "path"),
                )
            with client.get(url) as r:
                if r.status_code != 200 or "html" not in (r.content_type or ""):
                    continue
                reader = FormReader(url)
                reader.feed(r.get_data(as_text=True))
            for form in reader.forms:
                if not form.fields:
                    continue
                endpoint = _endpoint(app, form.method, form.url)
                targets.setdefault(
                    ("form", form.method, endpoint),
                    Target(role, form.method, form.url, form.fields, "form"),
                )
    for rule in rules:
        if "POST" not in rule.methods or ("form", "POST", rule.endpoint) in targets:
            continue
        role = _first_role(table, "POST", rule)
        fields = {name: [] for name in FALLBACK_FIELDS.get(rule.endpoint, [])}
        if role and fields:
            targets["form", "POST", rule.endpoint] = Target(
                role, "POST", world.url(app, rule), fields, "form"
            )
    # Changes that end the session or the demo set-up go last.
    last = ("accounts.", "manager.settings_page")
    return sorted(
        targets.values(),
        key=lambda t: (_endpoint(app, t.method, t.url) if t.where != "path" else t.url).startswith(
            last
        ),
    )


def _fuzz(app, world, target: Target) -> None:
    client = _client(app, world, target.role)
    names = sorted(target.fields)
    rule = None
    if target.where == "path":
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == target.url)

    @SETTINGS
    @given(data=st.data())
    def run(data):
        chosen = data.draw(
            st.lists(st.sampled_from(names), min_size=1, max_size=min(4, len(names)), unique=True)
        )
        if rule is not None:  # values in the path: ids and words
            values = world.values(rule)
            for name in chosen:
                is_id = isinstance(rule._converters[name], IntegerConverter)
                values[name] = data.draw(IDS if is_id else NASTY, label=name)
            with app.test_request_context():
                response = client.get(url_for(rule.endpoint, **values))
        else:
            values = {n: list(v) for n, v in target.fields.items()}
            for name in chosen:
                value = data.draw(st.one_of(NASTY, st.none()), label=name)
                if value is None:
                    values.pop(name, None)  # a field missing altogether
                else:
                    values[name] = [value]
            if target.method == "GET":
                parts = urlsplit(target.url)
                query = {**parse_qs(parts.query), **values}
                response = client.get(parts.path, query_string=query)
            else:
                response = client.open(target.url, method=target.method, data=values)
        with response:
            assert response.status_code < 500, (target.role, target.method, target.url, values)

    run()


def test_every_route_is_a_target(app):
    """Every POST route is fuzzed through its form (found on a page, or its
    fields named in FALLBACK_FIELDS); every GET route through its query."""
    world = build_world()
    targets = _targets(app, world)
    covered = {(t.method, _endpoint(app, t.method, t.url)) for t in targets if t.where != "path"}
    wanted = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in SKIPPED
        for method in rule.methods & {"GET", "POST"}
    }
    assert sorted(wanted - covered) == []
    assert {t.where for t in targets} == {"form", "query", "path"}


def test_no_input_anywhere_is_a_server_error(app):
    world = build_world()
    for target in _targets(app, world):
        _fuzz(app, world, target)
