"""Courses at every pipeline stage, written directly (no services, no holds):
the reinfusion tables are issue 10's, so their rows are inserted as they
will be. ``Courses(clinic)`` makes one course a call; ``at(stage)`` makes one
at that stage."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.cultures import coi
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch, TissueUnit
from intake.eligibility.models import (
    ConsentDocument,
    ConsentKind,
    ConsentSignature,
    PanelResult,
    Questionnaire,
    QuestionnaireStatus,
    QuestionSet,
)
from intake.extensions import db
from intake.manager import pipeline as p
from intake.patients.models import Course, CourseStatus, Patient
from intake.patients.services import current_course
from intake.reinfusion.models import (
    Administration,
    AdverseEvent,
    BedsideCheck,
    Clearance,
    Decision,
    Dose,
    DoseStatus,
    FollowUp,
    FollowUpStatus,
    Seriousness,
)
from intake.scheduling.models import Appointment, AppointmentStatus

_numbers = itertools.count(1)


class Courses:
    def __init__(self, clinic):
        self.clinic = clinic
        self.cal = clinic.cal
        self.today = clinic.today
        self._staff: User | None = None
        self._question_set: QuestionSet | None = None

    # ------------------------------------------------------------ helpers
    @property
    def staff(self) -> User:
        if self._staff is None:
            n = next(_numbers)
            self._staff = User(
                email=f"pipeline.doctor{n}@example.org",
                full_name="Dr Pipeline",
                role=Role.DOCTOR,
                locale="en",
            )
            self._staff.set_password("Correct-Horse-9")
            db.session.add(self._staff)
            db.session.flush()
        return self._staff

    @property
    def question_set(self) -> QuestionSet:
        if self._question_set is None:
            self._question_set = db.session.query(QuestionSet).first() or QuestionSet(
                version=1, definition={}, is_active=True
            )
            db.session.add(self._question_set)
            db.session.flush()
        return self._question_set

    def at_local(self, day: date, hhmm: str = "10:00") -> datetime:
        return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=self.cal.tz).astimezone(UTC)

    def patient(self, name: str | None = None) -> Patient:
        n = next(_numbers)
        from intake.patients.services import create_patient

        patient = create_patient(
            family_name=name or "Pipeline",
            given_name=f"Patient {n}",
            date_of_birth=date(1970, 1, 1),
            locale="en",
            actor=None,
        )
        db.session.flush()
        return patient

    def questionnaire(self, course: Course, status: QuestionnaireStatus) -> Questionnaire:
        q = Questionnaire(
            patient_id=course.patient_id,
            course_id=course.id,
            question_set_id=self.question_set.id,
            status=status,
            submitted_at=None if status == QuestionnaireStatus.DRAFT else utcnow(),
        )
        db.session.add(q)
        db.session.flush()
        return q

    def visit(
        self, course: Course, code: str, day: date, status=AppointmentStatus.BOOKED
    ) -> Appointment:
        start = self.at_local(day)
        visit_type = self.clinic.visit_type(code)
        appointment = Appointment(
            patient_id=course.patient_id,
            course_id=course.id,
            visit_type=visit_type,
            start_at=start,
            end_at=start + timedelta(hours=1),
            status=status,
        )
        db.session.add(appointment)
        db.session.flush()
        return appointment

    def batch(self, course: Course, *, days_ago: int, state: BatchState) -> Batch:
        day = self.today - timedelta(days=days_ago)
        collection = self.visit(course, "collection", day, AppointmentStatus.COMPLETED)
        n = next(_numbers)
        number = coi.make("TKY", day.year % 100, 700_000 + n)
        batch = Batch(
            course_id=course.id,
            patient_id=course.patient_id,
            appointment=collection,
            coi_site="TKY",
            coi_year=day.year % 100,
            coi_sequence=number.sequence,
            coi=coi.format(number),
            state=state,
            planned_dose_low=100_000_000,
            planned_dose_high=200_000_000,
            collected_on=day,
            collected_by="Dr Sato",
            tissue_amount=3,
            tissue_unit=TissueUnit.PIECES,
            blood_volume_ml=50,
            received_at=self.at_local(day, "12:00"),
            received_by="Tanaka",
            received_condition="intact",
        )
        db.session.add(batch)
        db.session.flush()
        return batch

    def dose(
        self, course: Course, batch: Batch, status: DoseStatus, *, number: int = 1, days=20
    ) -> Dose:
        visit = None
        if status in (DoseStatus.CONFIRMED, DoseStatus.ADMINISTERED):
            day = self.today + timedelta(days=days if status == DoseStatus.CONFIRMED else -days)
            visit = self.visit(
                course,
                "reinfusion-iv",
                day,
                AppointmentStatus.BOOKED
                if status == DoseStatus.CONFIRMED
                else AppointmentStatus.COMPLETED,
            )
        dose = Dose(
            course_id=course.id,
            patient_id=course.patient_id,
            batch_id=batch.id,
            number=number,
            route="iv",
            planned_cells=100_000_000,
            status=status,
            appointment_id=visit.id if visit else None,
        )
        db.session.add(dose)
        db.session.flush()
        return dose

    def give(self, course: Course, batch: Batch, *, days_ago: int = 10) -> Administration:
        """A dose given ``days_ago`` days back, with its clearance and check."""
        dose = self.dose(course, batch, DoseStatus.ADMINISTERED, days=days_ago)
        clearance = Clearance(
            appointment_id=dose.appointment_id,
            dose_id=dose.id,
            course_id=course.id,
            patient_id=course.patient_id,
            doctor_id=self.staff.id,
            systolic=120,
            diastolic=80,
            pulse=70,
            temperature_c=Decimal("36.5"),
            spo2=98,
            decision=Decision.GO,
        )
        check = self.bedside_check(course, dose, matched=True)
        db.session.add(clearance)
        db.session.flush()
        start = self.at_local(self.today - timedelta(days=days_ago))
        given = Administration(
            dose_id=dose.id,
            appointment_id=dose.appointment_id,
            batch_id=batch.id,
            course_id=course.id,
            patient_id=course.patient_id,
            clearance_id=clearance.id,
            bedside_check_id=check.id,
            route="iv",
            cells_given=100_000_000,
            started_at=start,
            ended_at=start + timedelta(hours=1),
            observed_until=start + timedelta(hours=2),
            systolic_after=120,
            diastolic_after=80,
            pulse_after=70,
            temperature_c_after=Decimal("36.6"),
            spo2_after=98,
            given_by_id=self.staff.id,
        )
        db.session.add(given)
        db.session.flush()
        return given

    def bedside_check(
        self, course: Course, dose: Dose, *, matched: bool, at: datetime | None = None
    ) -> BedsideCheck:
        check = BedsideCheck(
            appointment_id=dose.appointment_id,
            dose_id=dose.id,
            course_id=course.id,
            patient_id=course.patient_id,
            label_read="TKY26000001 X",
            batch_id=dose.batch_id,
            name_read="Pipeline",
            date_of_birth_read=date(1970, 1, 1),
            matched=matched,
            mismatch=None if matched else "other_batch",
            checked_by_id=self.staff.id,
            checked_at=at or utcnow(),
        )
        db.session.add(check)
        db.session.flush()
        return check

    def follow_up(
        self, course: Course, given: Administration, *, due_in: int, status=FollowUpStatus.OPEN
    ) -> FollowUp:
        follow_up = FollowUp(
            administration_id=given.id,
            course_id=course.id,
            patient_id=course.patient_id,
            days_after=7 + next(_numbers),
            due_on=self.today + timedelta(days=due_in),
            status=status,
        )
        db.session.add(follow_up)
        db.session.flush()
        return follow_up

    def adverse_event(
        self, course: Course, *, due_in: int | None, reported: bool = False, cpc_told=False
    ) -> AdverseEvent:
        event = AdverseEvent(
            course_id=course.id,
            patient_id=course.patient_id,
            description="Fever after the infusion",
            began_on=self.today - timedelta(days=2),
            known_on=self.today - timedelta(days=1),
            seriousness=Seriousness.HOSPITALISATION
            if due_in is not None
            else Seriousness.NOT_SERIOUS,
            report_due_on=None if due_in is None else self.today + timedelta(days=due_in),
            reported_at=utcnow() if reported else None,
            cpc_told_at=utcnow() if cpc_told else None,
        )
        db.session.add(event)
        db.session.flush()
        return event

    def panel(self, course: Course, *, days_ago: int, codes=None) -> None:
        from intake.eligibility import queries as eq

        for code in codes or [item.code for item in eq.panel_items()]:
            db.session.add(
                PanelResult(
                    patient_id=course.patient_id,
                    course_id=course.id,
                    item_code=code,
                    test_date=self.today - timedelta(days=days_ago),
                    result="negative",
                    acceptable=True,
                    entered_by_id=self.staff.id,
                )
            )
        db.session.flush()

    def withdrawn_consent(self, course: Course, *, days_ago: int) -> ConsentSignature:
        document = db.session.query(ConsentDocument).first()
        if document is None:
            document = ConsentDocument(
                kind=ConsentKind.TREATMENT, version=1, locale="en", title="Consent", body="…"
            )
            db.session.add(document)
            db.session.flush()
        signature = ConsentSignature(
            patient_id=course.patient_id,
            course_id=course.id,
            document_id=document.id,
            kind=ConsentKind.TREATMENT,
            version=1,
            locale="en",
            signer_name="Pipeline",
            meaning="I consent",
            signed_at=utcnow() - timedelta(days=days_ago + 5),
            withdrawn_at=utcnow() - timedelta(days=days_ago),
            withdrawal_reason="Changed my mind",
        )
        db.session.add(signature)
        db.session.flush()
        return signature

    # ------------------------------------------------------------ one course per stage
    def at(self, stage: str, *, week: int = 2, name: str | None = None) -> Course:
        """A new patient's course at ``stage`` (in culture: in ``week``)."""
        patient = self.patient(name)
        course = current_course(patient)
        approved = QuestionnaireStatus.APPROVED
        if stage == p.ANSWERING:
            self.questionnaire(course, QuestionnaireStatus.DRAFT)
        elif stage == p.AWAITING_REVIEW:
            self.questionnaire(course, QuestionnaireStatus.SUBMITTED)
        elif stage == p.APPROVED:
            self.questionnaire(course, approved)
        elif stage == p.COLLECTION_BOOKED:
            self.questionnaire(course, approved)
            self.visit(course, "collection", self.today + timedelta(days=10 + next(_numbers) % 20))
        elif stage == p.IN_CULTURE:
            self.questionnaire(course, approved)
            self.batch(course, days_ago=(week - 1) * 7 + 3, state=BatchState.IN_CULTURE)
        elif stage == p.RELEASED:
            self.questionnaire(course, approved)
            self.batch(course, days_ago=33, state=BatchState.RELEASED)
        elif stage == p.REINFUSION_CONFIRMED:
            self.questionnaire(course, approved)
            batch = self.batch(course, days_ago=30, state=BatchState.RELEASED)
            self.dose(course, batch, DoseStatus.CONFIRMED, days=5 + next(_numbers) % 20)
        elif stage == p.ADMINISTERED:
            self.questionnaire(course, approved)
            batch = self.batch(course, days_ago=45, state=BatchState.ADMINISTERED)
            self.give(course, batch)
        elif stage == p.IN_FOLLOW_UP:
            self.questionnaire(course, approved)
            batch = self.batch(course, days_ago=45, state=BatchState.ADMINISTERED)
            given = self.give(course, batch)
            self.follow_up(course, given, due_in=5)
        elif stage == p.HALTED:
            self.questionnaire(course, approved)
            course.status = CourseStatus.HALTED
            course.closed_at = utcnow()
        else:
            raise ValueError(stage)
        db.session.flush()
        return course
