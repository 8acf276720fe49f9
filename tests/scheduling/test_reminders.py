"""A reminder ~24 hours before each booked visit, queued exactly once."""

from datetime import timedelta

from sqlalchemy import select

from intake.accounts.roles import Role
from intake.core.models import AuditEntry
from intake.extensions import db
from intake.notifications.models import Message
from intake.scheduling import reminders, services

TUESDAY = 1


def _reminders():
    return (
        db.session.execute(
            select(Message).where(Message.template == "visit_reminder").order_by(Message.id)
        )
        .scalars()
        .all()
    )


def test_each_visit_is_reminded_once(clinic, coordinator, make_user):
    day = clinic.day(weekday=TUESDAY)
    tomorrow = services.book_visit(
        make_user(Role.PATIENT, locale="zh_Hans").patient,
        "consultation",
        clinic.at(day, "10:00"),
        actor=coordinator,
    )
    later = services.book_visit(
        make_user(Role.PATIENT).patient,
        "consultation",
        clinic.at(day + timedelta(days=2), "10:00"),
        actor=coordinator,
    )
    cancelled = services.book_visit(
        make_user(Role.PATIENT).patient, "consultation", clinic.at(day, "14:00"), actor=coordinator
    )
    services.cancel_visit(cancelled, actor=coordinator, reason="Patient ill")
    db.session.commit()

    now = tomorrow.start_at - timedelta(hours=23)
    assert reminders.send_reminders(now=now) == 1
    db.session.commit()
    assert reminders.send_reminders(now=now + timedelta(hours=1)) == 0
    db.session.commit()

    (message,) = _reminders()
    assert message.user_id == tomorrow.patient_id and message.locale == "zh_Hans"
    assert message.attachment_name == f"visit-{tomorrow.id}.ics"
    assert tomorrow.reminded_at == now and later.reminded_at is None
    assert db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "scheduling.remind")
    ).scalar_one().entity_id == str(tomorrow.id)


def test_a_moved_visit_is_reminded_again(clinic, coordinator, make_user):
    day = clinic.day(weekday=TUESDAY)
    appointment = services.book_visit(
        make_user(Role.PATIENT).patient, "consultation", clinic.at(day, "10:00"), actor=coordinator
    )
    reminders.send_reminders(now=appointment.start_at - timedelta(hours=20))
    services.reschedule_visit(
        appointment, clinic.at(day + timedelta(days=2), "10:00"), actor=coordinator
    )
    db.session.commit()
    assert appointment.reminded_at is None
    assert reminders.send_reminders(now=appointment.start_at - timedelta(hours=24)) == 1
    assert len(_reminders()) == 2


def test_reminders_by_command(clinic, coordinator, make_user, runner):
    start = clinic.at(clinic.day(), "10:00")
    services.book_visit(make_user(Role.PATIENT).patient, "consultation", start, actor=coordinator)
    db.session.commit()
    # The command uses the real clock: nothing is within 24 hours of now here.
    result = runner.invoke(args=["scheduling", "remind"])
    assert result.exit_code == 0, result.output
    assert "Queued 0 reminder(s)" in result.output
    reminders.send_reminders(now=start - timedelta(hours=3))
    db.session.commit()
    sent = runner.invoke(args=["notifications", "send"])
    assert "Sent 2, failed 0." in sent.output  # the confirmation and the reminder
    assert "Content-Type: text/calendar" in sent.output
