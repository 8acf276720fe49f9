"""Who reaches what: every route of the URL map, for every role and for an
anonymous visitor, against an explicit table. A route missing from the table
fails (a new route gets its row consciously), and so does a row for a route
that no longer exists.

The table's words: ``ok`` the page answered (a page, a redirect elsewhere
than the login page, or a 400/410/422 about the input or the link: access
was granted); ``in`` sent to the login page; ``403`` forbidden to the role;
``404`` hidden (the record is not theirs). The patient is the owner of every
patient record in the URLs (``tests/security/world.py``); other patients'
records are in ``tests/security/test_object_access.py``."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.security.world import ROLES, build_world

# Columns: anonymous, patient, coordinator, doctor, lab, manager, admin.
MATRIX = """
# method and rule                                             anon pat  crd  doc  lab  mgr  adm
GET  /                                                        ok   ok   ok   ok   ok   ok   ok
GET  /account/two-factor                                      in   403  ok   ok   ok   ok   ok
POST /account/two-factor                                      in   403  ok   ok   ok   ok   ok
GET  /admin/users                                             in   403  403  403  403  403  ok
GET  /admin/users/<int:user_id>                               in   403  403  403  403  403  ok
POST /admin/users/<int:user_id>                               in   403  403  403  403  403  ok
GET  /admin/users/new                                         in   403  403  403  403  403  ok
POST /admin/users/new                                         in   403  403  403  403  403  ok
GET  /adverse-events                                          in   403  403  ok   403  ok   403
POST /adverse-events/<int:event_id>/reported                  in   403  403  ok   403  ok   403
GET  /audit                                                   in   403  403  403  403  ok   ok
GET  /book/<visit_type>                                       in   ok   403  403  403  403  403
POST /book/<visit_type>                                       in   ok   403  403  403  403  403
GET  /book/kind/<kind>                                        in   ok   403  403  403  403  403
GET  /bootstrap/static/<path:filename>                        ok   ok   ok   ok   ok   ok   ok
GET  /consent                                                 in   ok   403  403  403  403  403
GET  /consent/<kind>                                          in   ok   403  403  403  403  403
POST /consent/<kind>                                          in   ok   403  403  403  403  403
GET  /consent/<kind>/withdraw                                 in   ok   403  403  403  403  403
POST /consent/<kind>/withdraw                                 in   ok   403  403  403  403  403
GET  /consent/signatures/<int:signature_id>                   in   ok   ok   ok   403  ok   403
GET  /desk                                                    in   403  ok   ok   403  ok   403
GET  /desk/book                                               in   403  ok   ok   403  403  403
POST /desk/book                                               in   403  ok   ok   403  403  403
GET  /desk/visits/<int:appointment_id>                        in   403  ok   ok   403  ok   403
GET  /follow-ups                                              in   403  ok   ok   403  ok   403
GET  /follow-ups/<int:follow_up_id>                           in   ok   403  403  403  403  403
POST /follow-ups/<int:follow_up_id>                           in   ok   403  403  403  403  403
POST /follow-ups/<int:follow_up_id>/close                     in   403  ok   ok   403  403  403
POST /desk/visits/<int:appointment_id>/cancel                 in   403  ok   ok   403  403  403
GET  /desk/visits/<int:appointment_id>/reschedule             in   403  ok   ok   403  403  403
POST /desk/visits/<int:appointment_id>/reschedule             in   403  ok   ok   403  403  403
POST /desk/visits/<int:appointment_id>/status                 in   403  ok   ok   403  403  403
GET  /feeds/<token>.ics                                        ok   ok   ok   ok   ok   ok   ok
GET  /healthz                                                 ok   ok   ok   ok   ok   ok   ok
GET  /journey                                                 in   ok   403  403  403  403  403
GET  /lab                                                     in   403  ok   ok   ok   ok   403
GET  /lab/adverse-events                                      in   403  403  403  ok   403  403
POST /lab/adverse-events/<int:event_id>/acknowledge           in   403  403  403  ok   403  403
GET  /lab/batches/<int:batch_id>                              in   403  ok   ok   ok   ok   403
POST /lab/batches/<int:batch_id>/events/<kind>                in   403  403  403  ok   403  403
GET  /lab/batches/<int:batch_id>/label                        in   403  ok   ok   ok   ok   403
POST /lab/batches/<int:batch_id>/receive                      in   403  403  403  ok   403  403
POST /lab/batches/<int:batch_id>/transition                   in   403  403  403  ok   403  403
GET  /lab/collections/<int:appointment_id>/complete           in   403  ok   ok   403  403  403
POST /lab/collections/<int:appointment_id>/complete           in   403  ok   ok   403  403  403
GET  /lab/identity-check                                      in   403  ok   ok   ok   ok   403
POST /lab/identity-check                                      in   403  403  403  ok   403  403
POST /language                                                ok   ok   ok   ok   ok   ok   ok
GET  /login                                                   ok   ok   ok   ok   ok   ok   ok
POST /login                                                   ok   ok   ok   ok   ok   ok   ok
GET  /login/code                                              ok   ok   ok   ok   ok   ok   ok
POST /login/code                                              ok   ok   ok   ok   ok   ok   ok
POST /logout                                                  in   ok   ok   ok   ok   ok   ok
GET  /manager                                                 in   403  403  403  403  ok   403
GET  /manager/capacity                                        in   403  403  403  403  ok   ok
GET  /manager/consents                                        in   403  403  403  403  ok   403
POST /manager/consents                                        in   403  403  403  403  ok   403
GET  /manager/deadlines                                       in   403  403  403  403  ok   ok
GET  /manager/feeds                                           in   403  403  403  403  ok   403
POST /manager/feeds                                           in   403  403  403  403  ok   403
POST /manager/feeds/<int:feed_id>/revoke                      in   403  403  403  403  ok   403
GET  /manager/indications                                     in   403  403  403  403  ok   403
POST /manager/indications                                     in   403  403  403  403  ok   403
GET  /manager/indications/<int:indication_id>                 in   403  403  403  403  ok   403
POST /manager/indications/<int:indication_id>                 in   403  403  403  403  ok   403
GET  /manager/schedule                                        in   403  ok   ok   403  ok   403
GET  /manager/schedule.csv                                    in   403  403  403  403  ok   403
GET  /manager/schedule/export                                 in   403  403  403  403  ok   403
GET  /manager/pipeline                                        in   403  403  403  403  ok   ok
GET  /manager/pipeline/<stage>                                in   403  403  403  403  ok   ok
GET  /manager/settings                                        in   403  403  403  403  ok   403
POST /manager/settings                                        in   403  403  403  403  ok   403
GET  /me                                                      in   ok   403  403  403  403  403
GET  /messages/                                               in   ok   ok   ok   ok   ok   ok
GET  /messages/<int:message_id>                               in   ok   404  404  404  404  404
GET  /my-reinfusion                                           in   ok   403  403  403  403  403
GET  /my-reinfusion/doses/<int:dose_id>/change                in   ok   403  403  403  403  403
POST /my-reinfusion/doses/<int:dose_id>/change                in   ok   403  403  403  403  403
POST /my-reinfusion/proposals/<int:proposal_id>/confirm       in   ok   403  403  403  403  403
GET  /panel-items                                             in   403  403  ok   403  ok   403
POST /panel-items                                             in   403  403  ok   403  ok   403
GET  /panel-items/<int:item_id>                               in   403  403  ok   403  ok   403
POST /panel-items/<int:item_id>                               in   403  403  ok   403  ok   403
POST /panel-items/<int:item_id>/move                          in   403  403  ok   403  ok   403
GET  /panel/<int:patient_id>                                  in   ok   ok   ok   403  ok   403
POST /panel/<int:patient_id>                                  in   403  ok   ok   403  403  403
GET  /password/change                                         in   ok   ok   ok   ok   ok   ok
POST /password/change                                         in   ok   ok   ok   ok   ok   ok
GET  /password/forgot                                         ok   ok   ok   ok   ok   ok   ok
POST /password/forgot                                         ok   ok   ok   ok   ok   ok   ok
GET  /password/reset/<token>                                  ok   ok   ok   ok   ok   ok   ok
POST /password/reset/<token>                                  ok   ok   ok   ok   ok   ok   ok
GET  /patients                                                in   403  ok   ok   403  ok   403
GET  /patients/<int:patient_id>                               in   403  ok   ok   403  ok   403
GET  /patients/<int:patient_id>/adverse-events/new            in   403  ok   ok   403  403  403
POST /patients/<int:patient_id>/adverse-events/new            in   403  ok   ok   403  403  403
POST /patients/<int:patient_id>/consent/withdraw              in   403  ok   ok   403  403  403
POST /patients/<int:patient_id>/courses                       in   403  ok   ok   403  403  403
POST /patients/<int:patient_id>/invite                        in   403  ok   ok   403  403  403
GET  /patients/<int:patient_id>/trips                         in   403  ok   ok   403  403  403
POST /patients/<int:patient_id>/trips                         in   403  ok   ok   403  403  403
GET  /patients/<int:patient_id>/trips/<int:trip_id>/edit      in   403  ok   ok   403  403  403
POST /patients/<int:patient_id>/trips/<int:trip_id>/edit      in   403  ok   ok   403  403  403
POST /patients/<int:patient_id>/trips/<int:trip_id>/cancel    in   403  ok   ok   403  403  403
GET  /patients/new                                            in   403  ok   ok   403  403  403
POST /patients/new                                            in   403  ok   ok   403  403  403
GET  /questionnaire                                           in   ok   403  403  403  403  403
GET  /questionnaire/<page_code>                               in   ok   403  403  403  403  403
POST /questionnaire/<page_code>                               in   ok   403  403  403  403  403
GET  /questionnaire/review                                    in   ok   403  403  403  403  403
POST /questionnaire/submit                                    in   ok   403  403  403  403  403
GET  /questionnaires/<int:questionnaire_id>                   in   ok   ok   ok   403  ok   403
GET  /register                                                ok   ok   ok   ok   ok   ok   ok
POST /register                                                ok   ok   ok   ok   ok   ok   ok
GET  /register/confirm/<token>                                ok   ok   ok   ok   ok   ok   ok
GET  /reinfusion                                              in   403  ok   ok   403  403  403
GET  /reinfusion/batches/<int:batch_id>/propose               in   403  ok   ok   403  403  403
POST /reinfusion/batches/<int:batch_id>/propose               in   403  ok   ok   403  403  403
GET  /reinfusion/doses/<int:dose_id>/move                     in   403  ok   ok   403  403  403
POST /reinfusion/doses/<int:dose_id>/move                     in   403  ok   ok   403  403  403
GET  /reinfusion/doses/<int:dose_id>/propose                  in   403  ok   ok   403  403  403
POST /reinfusion/doses/<int:dose_id>/propose                  in   403  ok   ok   403  403  403
GET  /reinfusion/requests                                     in   403  ok   ok   403  403  403
GET  /reinfusion/requests/<int:request_id>                    in   403  ok   ok   403  403  403
POST /reinfusion/requests/<int:request_id>                    in   403  ok   ok   403  403  403
GET  /reinfusion/batches/<int:batch_id>/doses                in   403  ok   ok   403  ok   403
POST /reinfusion/batches/<int:batch_id>/doses                in   403  403  ok   403  403  403
GET  /reinfusion/today                                        in   403  ok   ok   403  ok   403
GET  /reinfusion/visits/<int:appointment_id>                  in   403  ok   ok   403  ok   403
POST /reinfusion/visits/<int:appointment_id>/administration   in   403  403  ok   403  403  403
POST /reinfusion/visits/<int:appointment_id>/bedside          in   403  ok   ok   403  403  403
POST /reinfusion/visits/<int:appointment_id>/clearance        in   403  403  ok   403  403  403
GET  /reviews                                                 in   403  ok   ok   403  ok   403
GET  /reviews/<int:questionnaire_id>                          in   403  ok   ok   403  ok   403
GET  /reviews/<int:questionnaire_id>/answers/<question_code>  in   403  403  ok   403  403  403
POST /reviews/<int:questionnaire_id>/answers/<question_code>  in   403  403  ok   403  403  403
POST /reviews/<int:questionnaire_id>/decision                 in   403  403  ok   403  403  403
POST /reviews/<int:questionnaire_id>/notes                    in   403  403  ok   403  403  403
POST /reviews/<int:questionnaire_id>/panel                    in   403  403  ok   403  403  403
GET  /scheduling/availability                                 ok   ok   ok   ok   ok   ok   ok
GET  /scheduling/closures                                     in   403  403  403  403  ok   403
POST /scheduling/closures                                     in   403  403  403  403  ok   403
POST /scheduling/closures/<int:closure_id>/remove             in   403  403  403  403  ok   403
GET  /scheduling/resources                                    in   403  403  403  403  ok   403
GET  /scheduling/resources/<int:resource_id>                  in   403  403  403  403  ok   403
POST /scheduling/resources/<int:resource_id>                  in   403  403  403  403  ok   403
GET  /scheduling/resources/new                                in   403  403  403  403  ok   403
POST /scheduling/resources/new                                in   403  403  403  403  ok   403
GET  /scheduling/visit-types                                  in   403  403  403  403  ok   403
GET  /scheduling/visit-types/<int:visit_type_id>              in   403  403  403  403  ok   403
POST /scheduling/visit-types/<int:visit_type_id>              in   403  403  403  403  ok   403
GET  /scheduling/visit-types/new                              in   403  403  403  403  ok   403
POST /scheduling/visit-types/new                              in   403  403  403  403  ok   403
GET  /static/<path:filename>                                  ok   ok   ok   ok   ok   ok   ok
GET  /trips                                                   in   ok   403  403  403  403  403
POST /trips                                                   in   ok   403  403  403  403  403
GET  /trips/<int:trip_id>/edit                                in   ok   403  403  403  403  403
POST /trips/<int:trip_id>/edit                                in   ok   403  403  403  403  403
POST /trips/<int:trip_id>/cancel                              in   ok   403  403  403  403  403
GET  /visits                                                  in   ok   403  403  403  403  403
GET  /visits/<int:appointment_id>.ics                         in   ok   ok   ok   404  ok   404
GET  /visits/<int:appointment_id>/cancel                      in   ok   403  403  403  403  403
POST /visits/<int:appointment_id>/cancel                      in   ok   403  403  403  403  403
GET  /visits/<int:appointment_id>/reschedule                  in   ok   403  403  403  403  403
POST /visits/<int:appointment_id>/reschedule                  in   ok   403  403  403  403  403
GET  /worklist                                                in   403  ok   ok   403  ok   403
GET  /me/courses/<int:course_id>/fhir                         in   ok   403  403  403  403  403
GET  /patients/<int:patient_id>/courses/<int:course_id>/fhir  in   403  ok   ok   403  ok   403
GET  /waitlist                                                in   ok   403  403  403  403  403
GET  /waitlist/join/<visit_type>                              in   ok   403  403  403  403  403
POST /waitlist/join/<visit_type>                              in   ok   403  403  403  403  403
POST /waitlist/offers/<int:offer_id>/accept                   in   ok   403  403  403  403  403
POST /waitlist/offers/<int:offer_id>/decline                  in   ok   403  403  403  403  403
POST /waitlist/leave                                          in   ok   403  403  403  403  403
GET  /desk/waitlist                                           in   403  ok   ok   403  ok   403
"""

COLUMNS = ROLES
WORDS = {"ok", "in", "403", "404"}


def expected() -> dict[tuple[str, str], dict[str, str]]:
    rows = {}
    for line in MATRIX.strip().splitlines():
        if line.startswith("#"):
            continue
        method, rule, *words = line.split()
        assert len(words) == len(COLUMNS) and set(words) <= WORDS, line
        assert (method, rule) not in rows, f"two rows for {method} {rule}"
        rows[method, rule] = dict(zip(COLUMNS, words, strict=True))
    return rows


def category(response) -> str:
    code = response.status_code
    if code in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        to_login = urlsplit(location).path == "/login" and "next=" in location
        return "in" if to_login else "ok"
    if code in (403, 404):
        return str(code)
    if code < 300 or code in (400, 410, 422):
        return "ok"
    return str(code)  # never expected: 401, 405, 5xx


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, rule


def _log_in(client, world, role: str) -> None:
    if role == "anonymous":
        return
    user = world.user(role)
    data = {"email": user.email, "password": world.password(role)}
    with client.post("/login", data=data) as r:
        assert r.status_code == 302 and urlsplit(r.headers["Location"]).path != "/login", role


def test_the_table_names_every_route_once(app):
    rows = set(expected())
    routes = {(method, rule.rule) for method, rule in _routes(app)}
    missing = sorted(f"{m} {r}" for m, r in routes - rows)
    stale = sorted(f"{m} {r}" for m, r in rows - routes)
    assert not missing, f"routes without a row in MATRIX (add them): {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_route_allows_and_denies_as_the_table_says(app):
    world = build_world()
    table = expected()
    routes = sorted(_routes(app), key=lambda mr: (mr[0] != "GET", mr[1].rule))  # GETs first
    wrong = []
    for role in COLUMNS:
        client = app.test_client()
        _log_in(client, world, role)
        for method, rule in routes:
            url = world.url(app, rule)
            with client.open(url, method=method) as r:
                got = category(r)
            want = table.get((method, rule.rule), {}).get(role)
            if got != want:
                wrong.append(f"{role:<11} {method:<4} {url}: {got} (table: {want})")
            if rule.endpoint == "accounts.logout":
                _log_in(client, world, role)
    assert not wrong, "\n".join(wrong)
