"""Managers read the schedule; booking, moving, cancelling and checking in stay
with the front desk (coordinators) and the doctors. Settings and closures stay
the manager's to change (issue 11, point 6)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.errors import NotAllowed
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.scheduling import front_desk, services
from intake.scheduling.models import AppointmentStatus, Closure
from tests.scheduling import conftest as scheduling_fixtures

clinic = scheduling_fixtures.clinic
coordinator = scheduling_fixtures.coordinator
manager = scheduling_fixtures.manager


@pytest.fixture
def visit(clinic, coordinator, make_user):
    appointment = services.book_visit(
        make_user(Role.PATIENT).patient,
        "consultation",
        clinic.at(clinic.day(), "10:00"),
        actor=coordinator,
    )
    db.session.commit()
    return appointment


def _status(client, method: str, url: str, data: dict | None = None) -> int:
    with client.open(url, method=method, data=data or {}) as r:
        return r.status_code


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/desk/book"),
        ("POST", "/desk/book"),
        ("POST", "/desk/visits/{id}/cancel"),
        ("GET", "/desk/visits/{id}/reschedule"),
        ("POST", "/desk/visits/{id}/reschedule"),
        ("POST", "/desk/visits/{id}/status"),
        ("GET", "/lab/collections/{id}/complete"),
    ],
)
def test_a_manager_may_not_book_move_cancel_or_check_in(client, login_as, visit, method, path):
    login_as(Role.MANAGER)
    data = {"reason": "Manager tries", "action": "arrived"}
    assert _status(client, method, path.format(id=visit.id), data) == 403
    db.session.refresh(visit)
    assert visit.status == AppointmentStatus.BOOKED and visit.cancel_reason is None


def test_a_coordinator_still_cancels(client, login_as, visit):
    login_as(Role.COORDINATOR)
    assert _status(client, "POST", f"/desk/visits/{visit.id}/cancel", {"reason": "Ill"}) == 302
    db.session.refresh(visit)
    assert visit.status == AppointmentStatus.CANCELLED


def test_the_services_refuse_a_manager_too(clinic, manager, make_user, visit):
    patient = make_user(Role.PATIENT).patient
    with pytest.raises(NotAllowed):
        services.book_visit(
            patient, "consultation", clinic.at(clinic.day(), "14:00"), actor=manager
        )
    db.session.rollback()
    with pytest.raises(NotAllowed):
        services.cancel_visit(visit, actor=manager, reason="no")
    db.session.rollback()
    with pytest.raises(NotAllowed):
        services.reschedule_visit(visit, clinic.at(clinic.day(), "15:00"), actor=manager)
    db.session.rollback()
    with pytest.raises(NotAllowed):
        front_desk.mark_arrived(visit, actor=manager)
    db.session.rollback()
    assert db.session.get(type(visit), visit.id).status == AppointmentStatus.BOOKED


def test_the_manager_reads_the_day_list_and_the_visit_without_buttons(client, login_as, visit):
    login_as(Role.MANAGER)
    day = visit.start_at.astimezone(settings_tz()).date().isoformat()
    with client.get(f"/desk?day={day}") as r:
        page = r.get_data(as_text=True)
    assert r.status_code == 200 and visit.patient.full_name in page
    assert "/desk/book" not in page and "/status" not in page
    with client.get(f"/desk/visits/{visit.id}") as r:
        page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f"/desk/visits/{visit.id}/cancel" not in page
    assert f"/desk/visits/{visit.id}/reschedule" not in page
    with client.get(f"/patients/{visit.patient_id}") as r:
        assert r.status_code == 200 and "/desk/book" not in r.get_data(as_text=True)


def test_the_coordinator_still_sees_the_buttons(client, login_as, visit):
    login_as(Role.COORDINATOR)
    with client.get(f"/desk/visits/{visit.id}") as r:
        page = r.get_data(as_text=True)
    assert f"/desk/visits/{visit.id}/cancel" in page and "/reschedule" in page


def test_settings_and_closures_stay_writable_for_the_manager(client, login_as, clinic):
    login_as(Role.MANAGER)
    data = settings.raw_values() | {"min_notice_hours": "72"}
    assert _status(client, "POST", "/manager/settings", data) == 302
    assert settings.values()["min_notice_hours"] == 72
    day = clinic.day(min_days=20).isoformat()
    form = {"first_date": day, "last_date": "", "reason": "Staff training"}
    assert _status(client, "POST", "/scheduling/closures", form) == 302
    assert db.session.execute(select(Closure.reason)).scalar_one() == "Staff training"
    actions = set(db.session.execute(select(AuditEntry.action)).scalars())
    assert {"settings.change", "scheduling.closure_add"} <= actions


def settings_tz():
    from intake.core.clinic import clinic_tz

    return clinic_tz()
