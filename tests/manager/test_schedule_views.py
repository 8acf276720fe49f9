"""The schedule over HTTP: the week, day and month views, each visit in the
lane of every resource it holds with patient, visit type, status and clinic
time; the incubator places per day; closures and holidays; filters; moving
between dates; odd query strings; who reads it; the list per day for phones;
the CSV export (bounded range, formula-safe cells, an audit row)."""

# ruff: noqa: F811 - the ``clinic`` fixture is imported, then named by the tests

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.scheduling.models import Appointment, AppointmentStatus, Closure, Hold
from tests.helpers import course_of
from tests.scheduling.conftest import clinic  # noqa: F401

MONDAY = date(2027, 3, 1)  # an ordinary week: Monday 1 to Sunday 7 March 2027


def add_visit(
    clinic,
    patient,
    code: str,
    day: date,
    hhmm: str,
    minutes: int,
    resources: tuple[str, ...],
    status=AppointmentStatus.BOOKED,
) -> Appointment:
    """A visit written straight into the tables, with one hold per resource
    per 15-minute unit (what booking writes), none when it holds nothing."""
    start = clinic.at(day, hhmm)
    appointment = Appointment(
        patient=patient,
        course=course_of(patient),
        visit_type=clinic.visit_type(code),
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        status=status,
    )
    db.session.add(appointment)
    db.session.flush()
    if status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED):
        rows = []
        for code_ in resources:
            resource = clinic.resource(code_)
            taken = {
                (h.unit_start, h.seat)
                for h in db.session.execute(
                    select(Hold).where(Hold.resource_id == resource.id)
                ).scalars()
            }
            for n in range(0, minutes, 15):
                unit = start + timedelta(minutes=n)
                seat = next(s for s in range(100) if (unit, s) not in taken)
                rows.append(
                    {
                        "appointment_id": appointment.id,
                        "resource_id": resource.id,
                        "unit_start": unit,
                        "seat": seat,
                    }
                )
        if rows:
            db.session.execute(insert(Hold), rows)
    db.session.commit()
    return appointment


def hold_places(clinic, patient, first: date, days: int) -> None:
    """The course's culture holds an incubator place on ``days`` days from ``first``."""
    incubator = clinic.resource("incubator")
    course = course_of(patient)
    used = {
        (h.unit_start, h.seat)
        for h in db.session.execute(select(Hold).where(Hold.resource_id == incubator.id)).scalars()
    }
    rows = []
    for n in range(days):
        unit = clinic.cal.day_start(first + timedelta(days=n))
        seat = next(s for s in range(100) if (unit, s) not in used)
        rows.append(
            {"course_id": course.id, "resource_id": incubator.id, "unit_start": unit, "seat": seat}
        )
    db.session.execute(insert(Hold), rows)
    db.session.commit()


def page(client, url: str, status: int = 200) -> str:
    with client.get(url) as r:
        assert r.status_code == status, (url, r.status_code)
        return r.get_data(as_text=True)


def grid_of(body: str) -> str:
    return body.split('data-layout="grid"', 1)[1].split('data-layout="list"', 1)[0]


def list_of(body: str) -> str:
    return body.split('data-layout="list"', 1)[1]


@pytest.fixture
def week(clinic, make_patient):
    """A collection (room, doctor, nurse) and an IV drip on Wednesday, a
    consultation on Thursday, a cancelled one on Friday, three places held."""
    wang = make_patient(family_name="王", given_name="丽")
    smith = make_patient(family_name="Smith", given_name="Anna")
    wed, thu, fri = MONDAY + timedelta(days=2), MONDAY + timedelta(days=3), MONDAY + timedelta(4)
    collection = add_visit(
        clinic, wang, "collection", wed, "10:00", 60, ("procedure-room-1", "dr-sato", "nurse-chen")
    )
    drip = add_visit(clinic, smith, "reinfusion-iv", wed, "10:30", 90, ("infusion-chair",))
    consult = add_visit(
        clinic, smith, "consultation", thu, "14:00", 30, ("dr-sato",),
        status=AppointmentStatus.ARRIVED,
    )  # fmt: skip
    cancelled = add_visit(
        clinic, wang, "consultation", fri, "09:00", 30, ("dr-sato",),
        status=AppointmentStatus.CANCELLED,
    )  # fmt: skip
    hold_places(clinic, wang, wed, 3)
    return {
        "collection": collection,
        "drip": drip,
        "consult": consult,
        "cancelled": cancelled,
        "wed": wed,
        "thu": thu,
    }


def test_the_week_shows_each_visit_in_every_lane_it_holds(client, login_as, clinic, week):
    login_as(Role.MANAGER)
    body = page(client, f"/manager/schedule?view=week&date={week['wed'].isoformat()}")
    grid, listing = grid_of(body), list_of(body)
    collection = week["collection"]
    assert grid.count(f'data-visit="{collection.id}"') == 3  # room, Dr Sato, Nurse Chen
    assert listing.count(f'data-visit="{collection.id}"') == 1
    assert grid.count(f'data-visit="{week["drip"].id}"') == 1
    for text in ("王丽", "Anna Smith", "Collection visit", "Reinfusion: IV drip", "Consultation"):
        assert text in grid
    assert "Booked" in grid and "Arrived" in grid
    assert "10:00" in grid and "11:00" in grid and "12:00" in grid  # the drip ends at 12:00
    assert "JST, Asia/Tokyo" in body
    assert f'href="/desk/visits/{collection.id}"' in grid  # click through to the visit
    assert f'data-visit="{week["cancelled"].id}"' not in body
    for lane in ("Procedure room 1", "Infusion chairs", "Recovery beds", "Dr. Sato Hiroshi",
                 "Nurse Chen Mei"):  # fmt: skip
        assert lane in grid
    # The incubator places: a count per day, not a lane per place.
    assert "Incubator places" in grid
    assert grid.count("1 of 40 in use") == 3 and grid.count("0 of 40 in use") == 4
    # Resources of the visit named in the phone list.
    assert "Procedure room 1, Dr. Sato Hiroshi, Nurse Chen Mei" in listing or all(
        name in listing for name in ("Procedure room 1", "Dr. Sato Hiroshi", "Nurse Chen Mei")
    )


def test_the_list_per_day_has_every_day_of_the_week(client, login_as, clinic, week):
    login_as(Role.MANAGER)
    listing = list_of(page(client, f"/manager/schedule?date={MONDAY.isoformat()}"))
    assert len(re.findall(r'<section class="mb-3" aria-labelledby="list-', listing)) == 7
    assert listing.index("王丽") < listing.index("Anna Smith")  # 10:00 before 10:30
    assert "No visits on this day." in listing


def test_closures_and_holidays_are_marked(client, login_as, clinic):
    new_year = date(2027, 1, 1)  # a public holiday (a Friday)
    db.session.add_all(
        [
            Closure(
                start_at=clinic.at(date(2026, 12, 29), "00:00"),
                end_at=clinic.at(date(2026, 12, 30), "00:00"),
                reason="Year-end stocktake",
            ),
            Closure(
                start_at=clinic.at(date(2026, 12, 30), "14:00"),
                end_at=clinic.at(date(2026, 12, 30), "16:00"),
                reason="Fire drill",
            ),
        ]
    )
    db.session.commit()
    login_as(Role.MANAGER)
    body = page(client, f"/manager/schedule?view=week&date={new_year.isoformat()}")
    assert "Public holiday" in grid_of(body) and "Public holiday" in list_of(body)
    assert "Closed all day: Year-end stocktake" in body
    assert "Closed 14:00–16:00: Fire drill" in body
    assert "Clinic closed" in body  # Sunday 3 January


def test_filters_by_resource_and_visit_type(client, login_as, clinic, week):
    login_as(Role.MANAGER)
    day = week["wed"].isoformat()
    room = clinic.resource("procedure-room-1").id
    grid = grid_of(page(client, f"/manager/schedule?date={day}&resource={room}"))
    assert f'data-visit="{week["collection"].id}"' in grid
    assert f'data-visit="{week["drip"].id}"' not in grid
    assert "Infusion chairs" not in grid and "Incubator places" not in grid
    doctors = clinic.resource("doctor").id  # the pool: its members' lanes
    grid = grid_of(page(client, f"/manager/schedule?date={day}&resource={doctors}"))
    assert "Dr. Sato Hiroshi" in grid and "Dr. Kobayashi Emi" in grid
    assert f'data-visit="{week["consult"].id}"' in grid
    assert f'data-visit="{week["drip"].id}"' not in grid
    incubator = clinic.resource("incubator").id
    grid = grid_of(page(client, f"/manager/schedule?date={day}&resource={incubator}"))
    assert "1 of 40 in use" in grid and "data-visit" not in grid
    iv = clinic.visit_type("reinfusion-iv").id
    body = page(client, f"/manager/schedule?date={day}&visit_type={iv}")
    assert f'data-visit="{week["drip"].id}"' in body
    assert f'data-visit="{week["collection"].id}"' not in body
    assert f'<option value="{iv}" selected>' in body


def test_the_day_view_lays_out_a_time_grid(client, login_as, clinic, week, make_patient):
    chen = make_patient(family_name="陈", given_name="静")
    overlap = add_visit(
        clinic, chen, "reinfusion-iv", week["wed"], "11:00", 90, ("infusion-chair",)
    )
    login_as(Role.MANAGER)
    grid = grid_of(page(client, f"/manager/schedule?view=day&date={week['wed'].isoformat()}"))
    assert '<th scope="row" class="schedule-time">09:00</th>' in grid
    assert 'rowspan="4" class="schedule-cell-visit"' in grid  # the collection, an hour
    assert 'rowspan="6" class="schedule-cell-visit"' in grid  # the drips, 90 minutes
    assert 'colspan="2">Infusion chairs' in grid  # the two drips overlap: side by side
    assert f'data-visit="{overlap.id}"' in grid
    assert 'class="schedule-off"' in grid  # the lunch break


def test_the_month_view_shows_the_first_visits_and_links_the_rest(
    client,
    login_as,
    clinic,
    make_patient,
):
    patient = make_patient()
    day = MONDAY + timedelta(days=1)
    for n in range(6):
        add_visit(clinic, patient, "reinfusion-iv", day, f"{9 + n:02d}:00", 30, ("infusion-chair",))
    login_as(Role.MANAGER)
    body = page(client, f"/manager/schedule?view=month&date={day.isoformat()}")
    grid = grid_of(body)
    assert grid.count("data-visit=") == 4
    assert "2 more" in grid
    assert f"view=day&amp;date={day.isoformat()}" in grid
    assert "Schedule: March 2027" in body
    assert len(re.findall(r'<section class="mb-3"', list_of(body))) == 31


def test_moving_between_dates_keeps_the_view_and_filters(client, login_as, clinic):
    login_as(Role.MANAGER)
    room = clinic.resource("procedure-room-1").id
    body = page(client, f"/manager/schedule?view=week&date=2027-03-03&resource={room}")
    assert f"/manager/schedule?view=week&amp;date=2027-02-24&amp;resource={room}" in body
    assert f"/manager/schedule?view=week&amp;date=2027-03-10&amp;resource={room}" in body
    body = page(client, "/manager/schedule?view=month&date=2027-01-31")
    assert "date=2027-02-28" in body and "date=2026-12-31" in body
    body = page(client, "/manager/schedule?view=day&date=2200-12-31")
    assert "Later" not in body.split('aria-label="Views and dates"', 1)[1].split("</nav>", 1)[0]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date=2027-02-30", "The date could not be read, so today is shown."),
        ("date=9999-01-01", "The date could not be read, so today is shown."),
        ("view=year", "Choose the day, week or month view; the week is shown."),
        ("resource=abc", "That resource is not in the list; every resource is shown."),
        ("resource=99999", "That resource is not in the list; every resource is shown."),
        ("resource=99999999999999999999", "That resource is not in the list"),
        ("visit_type=-1", "That visit type is not in the list; every visit type is shown."),
        ("visit_type=424242", "That visit type is not in the list"),
    ],
)
def test_odd_query_strings_get_a_message_and_a_sensible_default(
    client,
    login_as,
    clinic,
    query,
    message,
):
    login_as(Role.MANAGER)
    body = page(client, f"/manager/schedule?{query}")
    assert message in body
    assert 'data-layout="grid"' in body


def test_messages_and_headings_in_the_readers_language(client, login_as, clinic):
    login_as(Role.MANAGER, locale="ja")
    body = page(client, "/manager/schedule?resource=abc")
    assert "スケジュール" in body
    assert "That resource" not in body


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.DOCTOR])
def test_the_desk_and_doctors_read_the_schedule_but_do_not_export(
    client,
    login_as,
    clinic,
    week,
    role,
):
    login_as(role)
    body = page(client, f"/manager/schedule?date={week['wed'].isoformat()}")
    assert "王丽" in body and 'href="/manager/schedule"' in body  # in their navigation
    assert "/manager/schedule.csv" not in body
    page(client, "/manager/schedule.csv?from=2027-03-01&to=2027-03-07", status=403)


def test_the_manager_reaches_the_schedule_from_the_overview(client, login_as, clinic):
    login_as(Role.MANAGER)
    body = page(client, "/manager")
    assert 'href="/manager/schedule"' in body


# --------------------------------------------------------------------------- the CSV export


def _rows(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_has_every_visit_of_the_range_and_leaves_an_audit_row(
    client,
    login_as,
    clinic,
    week,
):
    manager = login_as(Role.MANAGER)
    with client.get("/manager/schedule.csv?from=2027-03-01&to=2027-03-07") as r:
        assert r.status_code == 200
        assert r.mimetype == "text/csv"
        assert 'filename="schedule-2027-03-01-2027-03-07.csv"' in r.headers["Content-Disposition"]
        rows = _rows(r.get_data())
    header, *visits = rows
    assert header[:5] == ["Date", "Start", "End", "Time zone", "Patient"]
    assert len(visits) == 4  # the cancelled one too, with its status
    first = visits[0]
    assert first[:5] == ["2027-03-03", "10:00", "11:00", "JST, Asia/Tokyo", "王丽"]
    assert first[7].startswith("Collection visit") and first[9] == "Booked"
    assert first[10] == "Procedure room 1; Dr. Sato Hiroshi; Nurse Chen Mei"
    assert first[11] == str(week["collection"].id)
    assert [v[9] for v in visits] == ["Booked", "Booked", "Arrived", "Cancelled"]
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "manager.schedule_export")
    ).scalar_one()
    assert entry.actor_id == manager.id
    assert entry.entity_type == "schedule_exports" and entry.entity_id == "2027-03-01/2027-03-07"
    assert entry.after == {"from": "2027-03-01", "to": "2027-03-07", "visits": 4}


def test_csv_cells_cannot_run_as_formulas(client, login_as, clinic, make_patient):
    evil = make_patient(family_name='=HYPERLINK("http://evil.example")', given_name="@x")
    add_visit(clinic, evil, "consultation", MONDAY, "09:00", 30, ("dr-sato",))
    login_as(Role.MANAGER)
    with client.get("/manager/schedule.csv?from=2027-03-01&to=2027-03-01") as r:
        rows = _rows(r.get_data())
    cells = [cell for row in rows for cell in row]
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells)
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)


def test_the_csv_speaks_the_readers_language(client, login_as, clinic, week):
    login_as(Role.MANAGER, locale="zh_Hans")
    with client.get("/manager/schedule.csv?from=2027-03-01&to=2027-03-07") as r:
        rows = _rows(r.get_data())
    assert rows[0][0] == "日期" and rows[1][9] == "已预约"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2027-01-01&to=2027-04-04", "to", "Choose at most 93 days at a time."),
        ("from=2027-03-07&to=2027-03-01", "to", "The last day must not be before the first day."),
        ("from=&to=2027-03-01", "from", "Enter a date."),
        ("from=2027-02-30&to=2027-03-01", "from", "Enter the date as YYYY-MM-DD."),
        ("from=0001-01-01&to=2027-03-01", "from", "Enter a date between the years 1900 and 2200."),
        ("", "from", "Enter a date."),
    ],
)
def test_a_wrong_range_comes_back_with_the_message_beside_the_field(
    client,
    login_as,
    clinic,
    query,
    field,
    message,
):
    login_as(Role.MANAGER)
    with client.get(f"/manager/schedule.csv?{query}") as r:
        assert r.status_code == 302
        location = r.headers["Location"]
    assert location.startswith("/manager/schedule/export")
    body = page(client, location, status=400)
    assert f'id="export-{field}-error" class="invalid-feedback d-block">{message}<' in body
    if "2027-03-01" in query:
        assert 'value="2027-03-01"' in body  # what was typed is kept
    assert db.session.execute(select(AuditEntry.id).where(
        AuditEntry.action == "manager.schedule_export")).first() is None  # fmt: skip


def test_the_range_message_is_in_the_readers_language(client, login_as, clinic):
    login_as(Role.MANAGER, locale="ja")
    body = page(client, "/manager/schedule/export?from=2027-01-01&to=2027-12-31", status=400)
    assert "93" in body and "Choose at most" not in body


def test_the_export_form_opens_empty(client, login_as, clinic):
    login_as(Role.MANAGER)
    body = page(client, "/manager/schedule/export")
    assert 'action="/manager/schedule.csv"' in body and "invalid-feedback" not in body


def test_no_odd_value_is_a_server_error(client, login_as, clinic):
    login_as(Role.MANAGER)
    odd = ["", " ", "\x00", "a\x00b", "-1", "0", "1e9", "2027-02-29", "99999-01-01",
           "２０２７-０３-０１", "<script>", "9" * 40, "2027-03-01T00:00"]  # fmt: skip
    for value in odd:
        for name in ("view", "date", "resource", "visit_type"):
            with client.get("/manager/schedule", query_string={name: value}) as r:
                assert r.status_code in (200, 400), (name, value, r.status_code)
        for name in ("from", "to"):
            with client.get(
                "/manager/schedule.csv", query_string={"from": "2027-03-01", name: value}
            ) as r:
                assert r.status_code in (200, 302, 400), (name, value, r.status_code)
            with client.get("/manager/schedule/export", query_string={name: value}) as r:
                assert r.status_code in (200, 400), (name, value, r.status_code)


def test_times_are_clinic_times(client, login_as, clinic, make_patient):
    # 08:30 in Tokyo is the evening before in UTC: the visit is on the Tokyo day.
    patient = make_patient()
    visit = add_visit(clinic, patient, "consultation", MONDAY, "08:30", 30, ("dr-sato",))
    assert visit.start_at.astimezone().tzinfo is not None
    assert visit.start_at.date() == MONDAY - timedelta(days=1)
    login_as(Role.MANAGER)
    body = page(client, f"/manager/schedule?view=day&date={MONDAY.isoformat()}")
    assert f'data-visit="{visit.id}"' in body and "08:30" in body
    body = page(client, f"/manager/schedule?view=day&date={(MONDAY - timedelta(1)).isoformat()}")
    assert f'data-visit="{visit.id}"' not in body
