"""Proposals and confirmation (issue 10 points 1, 2, 7, access and bad input):
only valid times (inside the window, 14 days ahead, open with capacity),
1-3 of them, the indication's routes, only coordinators and doctors, a batch
on track, the patient told in their language; the patient confirms their own
proposal, the visit is booked through the engine and locked, a double submit
is harmless, a time taken meanwhile keeps the other proposals."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from intake.core import settings
from intake.core.errors import Conflict, DomainError, FormErrors, NotAllowed
from intake.core.models import AuditEntry
from intake.cultures.lifecycle import BatchState
from intake.extensions import db
from intake.notifications.models import Message
from intake.reinfusion import queries, rules, services
from intake.reinfusion.models import Dose, DoseSource, DoseStatus, Proposal, ProposalStatus
from intake.scheduling import queries as scheduling_queries
from intake.scheduling import services as scheduling
from intake.scheduling.models import Appointment, AppointmentStatus, Hold
from tests.conftest import log_in

pytest_plugins = ["tests.reinfusion.offer_fixtures"]


def count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def messages(user, template: str) -> list[Message]:
    return list(
        db.session.execute(
            select(Message).where(Message.user_id == user.id, Message.template == template)
        ).scalars()
    )


# --------------------------------------------------------------------------- valid times


def test_valid_times_are_inside_the_window_far_enough_ahead_and_open(offer):
    o = offer(days_ago=10)
    cal = o.clinic.cal
    times = o.valid("local")
    assert times
    window = rules.batch_window(o.batch.collected_on, min_days=28, max_days=42)
    earliest = o.clinic.today + timedelta(days=14)
    open_starts = set(
        scheduling_queries.availability(
            "reinfusion-local",
            window.first,
            window.days(),
            times[0] - timedelta(days=40),
            for_patient=False,
        )
    ) | set(times)
    for start in times:
        day = cal.local_date(start)
        assert day in window and day >= earliest
        assert start in open_starts


def test_the_lock_minimum_cuts_the_window_when_it_comes_later(offer):
    # Day 20 of the culture: 14 days ahead is day 34, after the window opens.
    o = offer(days_ago=20)
    days = {o.clinic.cal.local_date(t) for t in o.valid("local")}
    assert min(days) >= o.clinic.today + timedelta(days=14)
    assert max(days) <= o.batch.collected_on + timedelta(days=42)


def test_no_valid_time_once_the_window_is_less_than_14_days_away(offer):
    o = offer(days_ago=30)  # the window ends 12 days ahead
    assert o.valid("local") == []


def test_a_setting_moves_the_window(offer, manager):
    o = offer(days_ago=10)
    settings.update_settings({"culture_max_days": "30"}, actor=manager)
    days = {o.clinic.cal.local_date(t) for t in o.valid("local")}
    assert days and max(days) <= o.batch.collected_on + timedelta(days=30)


# --------------------------------------------------------------------------- proposing


def test_proposing_makes_dose_one_and_tells_the_patient_in_their_language(offer):
    o = offer(locale="zh_Hans")
    proposals = o.propose(3)
    dose = queries.first_dose(o.batch.id)
    assert dose.number == 1 and dose.route == "local" and dose.source == DoseSource.FRESH
    assert dose.planned_cells == o.batch.planned_dose_low
    assert dose.status == DoseStatus.PROPOSED
    assert [p.status for p in proposals] == [ProposalStatus.OFFERED] * 3
    assert {p.visit_type.code for p in proposals} == {"reinfusion-local"}
    (message,) = messages(o.user, "reinfusion_proposed")
    assert message.subject.startswith("选择您的回输日期")
    assert "Asia/Tokyo" in message.body
    assert count(AuditEntry, AuditEntry.action == "reinfusion.propose") == 1
    assert count(AuditEntry, AuditEntry.action == "reinfusion.dose_plan") == 1


def test_new_proposals_withdraw_the_earlier_open_ones(offer):
    o = offer()
    first = o.propose(2)
    second = services.propose(first[0].dose, o.spread(3)[2:], "local", actor=o.doctor)
    db.session.commit()
    for p in first:
        db.session.refresh(p)
        assert p.status == ProposalStatus.WITHDRAWN and p.close_reason == "replaced"
    assert [p.status for p in second] == [ProposalStatus.OFFERED]
    assert count(Dose) == 1


def test_the_route_can_be_iv_for_knee_osteoarthritis(offer):
    o = offer()
    proposals = o.propose(1, route="iv")
    assert proposals[0].visit_type.code == "reinfusion-iv"
    assert proposals[0].dose.route == "iv"


@pytest.mark.parametrize(
    ("route", "field", "fragment"),
    [
        ("intrathecal", "route", "indication does not allow"),
        ("oral", "route", "routes offered"),
        ("", "route", "routes offered"),
    ],
)
def test_a_route_the_indication_does_not_allow_is_refused_nothing_saved(
    offer, route, field, fragment
):
    o = offer()
    times = o.spread(1)
    with pytest.raises(DomainError) as caught:
        services.propose_for_batch(o.batch, times, route, actor=o.coordinator)
    db.session.rollback()
    assert caught.value.field == field and fragment in caught.value.message
    assert count(Dose) == 0 and count(Proposal) == 0


def test_times_are_checked_nothing_saved(offer):
    o = offer()
    good = o.spread(3)
    outside = cal_at(o, o.batch.collected_on + timedelta(days=43))
    too_soon = cal_at(o, o.clinic.today + timedelta(days=13))
    odd = good[0] + timedelta(minutes=7)
    cases = [
        ([], "Choose at least one time."),
        ([*good, good[0] + timedelta(days=1)], "at most 3"),
        ([good[0], good[0]], "different times"),
        ([outside], "outside the batch's window"),
        ([too_soon], "outside the batch's window"),
        ([odd], "not open"),
    ]
    for times, fragment in cases:
        with pytest.raises(DomainError) as caught:
            services.propose_for_batch(o.batch, times, "local", actor=o.coordinator)
        db.session.rollback()
        errors = caught.value.errors if isinstance(caught.value, FormErrors) else [caught.value]
        assert any(fragment in e.message for e in errors), (times, caught.value.message)
        assert all(e.field == "times" for e in errors)
    assert count(Dose) == 0 and count(Proposal) == 0


def cal_at(o, day, hhmm: str = "10:00"):
    return o.clinic.at(day, hhmm)


def test_too_soon_when_the_lock_minimum_is_later_than_the_window_start(offer):
    o = offer(days_ago=20)  # window opens on day 28 = 8 days ahead
    soon = cal_at(o, o.clinic.today + timedelta(days=13))
    with pytest.raises(DomainError) as caught:
        services.propose_for_batch(o.batch, [soon], "local", actor=o.coordinator)
    assert "at least 14 days ahead" in caught.value.message


@pytest.mark.parametrize("role", ["lab", "manager", "patient"])
def test_only_coordinators_and_doctors_propose(offer, manager, role):
    o = offer()
    actor = {"lab": o.lab, "manager": manager, "patient": o.user}[role]
    with pytest.raises(NotAllowed):
        services.propose_for_batch(o.batch, o.spread(1), "local", actor=actor)
    db.session.rollback()
    assert count(Dose) == 0


@pytest.mark.parametrize(
    "state", [BatchState.FAILED, BatchState.DISCARDED, BatchState.ADMINISTERED]
)
def test_a_batch_not_on_track_gets_no_proposals(offer, state):
    o = offer()
    times = o.spread(1)
    o.batch.state = state
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        services.propose_for_batch(o.batch, times, "local", actor=o.coordinator)
    assert caught.value.code == "not_on_track"


def test_a_batch_at_risk_gets_no_proposals(offer):
    # Counts that do not rise: no growth, at risk.
    o = offer(counts=((2, 5_000_000), (6, 4_000_000)))
    times = o.spread(1)
    with pytest.raises(DomainError) as caught:
        services.propose_for_batch(o.batch, times, "local", actor=o.coordinator)
    assert caught.value.code == "not_on_track"


def test_a_confirmed_dose_is_not_proposed_again(offer):
    o = offer()
    dose = o.locked()
    with pytest.raises(DomainError) as caught:
        services.propose(dose, o.spread(3)[2:], "local", actor=o.coordinator)
    assert "move it instead" in caught.value.message


# --------------------------------------------------------------------------- confirming


def test_confirming_books_through_the_engine_and_locks(offer):
    o = offer(locale="ja")
    proposals = o.propose(3)
    dose = o.confirm(proposals[1])
    appointment = dose.appointment
    assert dose.status == DoseStatus.CONFIRMED and dose.confirmed_by_id == o.user.id
    assert appointment.start_at == proposals[1].start_at
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.is_locked and appointment.locked_by_id == o.user.id
    assert appointment.visit_type.code == "reinfusion-local"
    assert count(Hold, Hold.appointment_id == appointment.id) > 0
    statuses = []
    for p in proposals:
        db.session.refresh(p)
        statuses.append(p.status)
    assert statuses == [ProposalStatus.WITHDRAWN, ProposalStatus.CHOSEN, ProposalStatus.WITHDRAWN]
    (message,) = messages(o.user, "reinfusion_confirmed")
    assert message.attachment_name and message.attachment_name.endswith(".ics")
    assert "Request a change" not in message.body  # Japanese
    assert messages(o.coordinator, "reinfusion_confirmed_desk")
    assert count(AuditEntry, AuditEntry.action == "reinfusion.confirm") == 1


def test_a_double_submit_books_once(offer):
    o = offer()
    proposals = o.propose(2)
    first = o.confirm(proposals[0])
    again = o.confirm(proposals[0])
    assert again.id == first.id
    assert count(Appointment, Appointment.visit_type.has(code="reinfusion-local")) == 1


def test_the_other_proposal_after_a_confirmation_is_withdrawn(offer):
    o = offer()
    proposals = o.propose(2)
    o.confirm(proposals[0])
    db.session.refresh(proposals[1])
    with pytest.raises(DomainError) as caught:
        services.confirm(proposals[1], actor=o.user)
    assert caught.value.code == "withdrawn"


def test_only_the_patient_confirms_their_own_proposal(offer, other_patient):
    o = offer()
    proposals = o.propose(1)
    for actor in (other_patient, o.coordinator):
        with pytest.raises(NotAllowed):
            services.confirm(proposals[0], actor=actor)
        db.session.rollback()
    assert count(Appointment, Appointment.visit_type.has(code="reinfusion-local")) == 0


def test_a_time_taken_meanwhile_keeps_the_other_proposals(offer, make_ready):
    o = offer()
    proposals = o.propose(2)
    taken = proposals[0].start_at
    # Another patient's local injection takes the procedure room at that time.
    someone = make_ready()
    scheduling.book_visit(someone.patient, "reinfusion-local", taken, actor=o.coordinator)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        services.confirm(proposals[0], actor=o.user)
    db.session.rollback()
    assert "other proposed times are still open" in caught.value.message
    for p in proposals:
        db.session.refresh(p)
        assert p.status == ProposalStatus.OFFERED
    assert proposals[0].dose.status == DoseStatus.PROPOSED
    dose = o.confirm(proposals[1])
    assert dose.appointment.start_at == proposals[1].start_at


def test_a_proposal_now_closer_than_14_days_cannot_be_fixed(offer):
    o = offer()
    proposals = o.propose(1)
    later = proposals[0].start_at - timedelta(days=13)
    with pytest.raises(DomainError) as caught:
        services.confirm(proposals[0], actor=o.user, now=later)
    assert caught.value.code == "too_soon"


# --------------------------------------------------------------------------- pages and queries


def test_batches_needing_proposals_until_dates_are_proposed(offer):
    o = offer()
    failed = offer()
    failed.batch.state = BatchState.FAILED
    db.session.commit()
    waiting = [b.id for b, _p in queries.batches_needing_proposals(o.clinic.today)]
    assert waiting == [o.batch.id]
    o.propose(1)
    assert queries.batches_needing_proposals(o.clinic.today) == []
    overview = queries.reinfusion_overview(o.clinic.today)
    assert [r.dose.batch_id for r in overview["proposed"]] == [o.batch.id]
    assert [d.number for d in queries.course_doses(o.batch.course_id)] == [1]


def test_the_propose_page_offers_only_valid_times_grouped_by_day(client, offer):
    o = offer()
    log_in(client, o.coordinator)
    with client.get("/reinfusion") as response:
        body = response.get_data(as_text=True)
    assert f"/reinfusion/batches/{o.batch.id}/propose" in body
    with client.get(f"/reinfusion/batches/{o.batch.id}/propose") as response:
        body = response.get_data(as_text=True)
    valid = o.valid("local")
    offered = set(re.findall(r'name="times" value="([^"]+)"', body))
    assert offered == {t.astimezone(o.clinic.cal.tz).isoformat() for t in valid}
    assert "Asia/Tokyo" in body
    assert body.count("<details") == len({o.clinic.cal.local_date(t) for t in valid})


def test_the_propose_page_refuses_bad_input_beside_the_field(client, offer):
    o = offer()
    log_in(client, o.coordinator)
    url = f"/reinfusion/batches/{o.batch.id}/propose"
    good = [t.astimezone(o.clinic.cal.tz).isoformat() for t in o.spread(3)]
    extra = (o.spread(3)[0] + timedelta(days=1)).astimezone(o.clinic.cal.tz).isoformat()
    cases = [
        ({"route": "local"}, "times", "Choose at least one time."),
        ({"route": "local", "times": ["tomorrow"]}, "times", "Choose times from the list."),
        ({"route": "local", "times": [*good, extra]}, "times", "at most 3"),
        ({"route": "oral", "times": good[:1]}, "route", "routes offered"),
        ({"route": "intrathecal", "times": good[:1]}, "route", "does not allow"),
    ]
    for data, field, fragment in cases:
        with client.post(url, data=data) as response:
            body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'id="{field}-error"' in body and fragment in body, (data, field)
    assert count(Dose) == 0 and count(Proposal) == 0
    with client.post(url, data={"route": "local", "times": good[:2]}) as response:
        assert response.status_code == 302
    assert count(Proposal) == 2


def test_the_patient_confirms_on_their_page(client, offer):
    o = offer()
    proposals = o.propose(2)
    log_in(client, o.user)
    with client.get("/journey") as response:
        assert 'id="reinfusion-choose"' in response.get_data(as_text=True)
    with client.get("/my-reinfusion") as response:
        body = response.get_data(as_text=True)
    for p in proposals:
        assert f"/my-reinfusion/proposals/{p.id}/confirm" in body
    for _ in range(2):  # a double click
        with client.post(f"/my-reinfusion/proposals/{proposals[1].id}/confirm") as response:
            assert response.status_code == 302
    assert count(Appointment, Appointment.locked_at.is_not(None)) == 1
    with client.get("/my-reinfusion") as response:
        body = response.get_data(as_text=True)
    assert 'id="reinfusion-locked"' in body and "/confirm" not in body


def test_the_propose_page_puts_the_patients_trip_days_first_and_marks_them(client, offer):
    """Item 8: proposals prefer times inside a planned trip."""
    from intake.patients import trip_services

    o = offer()
    days = sorted({o.clinic.cal.local_date(t) for t in o.valid("local")})
    trip_days = days[-3:]  # the trip covers the window's last open days
    trip_services.add_trip(
        o.patient, arrives_on=trip_days[0], departs_on=trip_days[-1], actor=o.coordinator
    )
    db.session.commit()
    log_in(client, o.coordinator)
    with client.get(f"/reinfusion/batches/{o.batch.id}/propose") as response:
        body = response.get_data(as_text=True)
    shown = [
        date.fromisoformat(d) for d in re.findall(r'name="times" value="(\d{4}-\d\d-\d\d)T', body)
    ]
    first_days = list(dict.fromkeys(shown))[: len(trip_days)]
    assert first_days == trip_days
    assert body.count("in-trip") == len(trip_days)
    assert "Planned trips" in body


def test_without_trips_the_propose_page_lists_days_in_order(client, offer):
    o = offer()
    log_in(client, o.coordinator)
    with client.get(f"/reinfusion/batches/{o.batch.id}/propose") as response:
        body = response.get_data(as_text=True)
    shown = re.findall(r'name="times" value="(\d{4}-\d\d-\d\d)T', body)
    assert shown == sorted(shown) and "in-trip" not in body


def test_the_journey_lists_the_reinfusion_steps_and_marks_the_date_confirmed(client, offer):
    """The journey's steps go on past the culture: the date, the reinfusion,
    the follow-up; confirming marks the date done while the cells still grow."""
    o = offer()
    log_in(client, o.user)
    with client.get("/journey") as response:
        body = response.get_data(as_text=True)
    for code in ("culture", "reinfusion_date", "reinfusion", "follow_up"):
        assert f'data-step-code="{code}"' in body
    o.locked()
    with client.get("/journey") as response:
        body = response.get_data(as_text=True)
    date_step = body.split('data-step-code="reinfusion_date"', 1)[1].split("</li>", 1)[0]
    assert "Done" in date_step
    assert 'data-step="culture"' in body  # the cells are still growing
