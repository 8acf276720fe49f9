"""Reads for the patient screens (a fixed number of queries each)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from intake.accounts.models import User
from intake.core.clinic import clinic_today
from intake.core.models import AuditEntry
from intake.eligibility.queries import course_journey
from intake.extensions import db
from intake.notifications.models import Message
from intake.patients.models import Course, Patient
from intake.patients.search import patient_search_clause
from intake.patients.services import current_course, phone_digits
from intake.scheduling.queries import my_visits


def patient_list(search: str | None, page: int):
    query = select(Patient).order_by(Patient.created_at.desc(), Patient.id.desc())
    if search:
        query = query.where(patient_search_clause(search))
    return db.paginate(query, page=page, per_page=25, error_out=False)


def possible_duplicates(
    *, family_name: str, given_name: str, date_of_birth: date | None, phone: str | None
) -> list[Patient]:
    """Records that may be the same person: the same name and date of birth,
    or the same phone number (digits compared). Shown to staff, never merged."""
    family = " ".join((family_name or "").split()).lower()
    given = " ".join((given_name or "").split()).lower()
    clauses = []
    if family and date_of_birth is not None:
        clauses.append(
            and_(
                Patient.date_of_birth == date_of_birth,
                or_(
                    and_(
                        func.lower(Patient.family_name) == family,
                        func.lower(Patient.given_name) == given,
                    ),
                    and_(
                        func.lower(func.coalesce(Patient.family_name_latin, "")) == family,
                        func.lower(func.coalesce(Patient.given_name_latin, "")) == given,
                    ),
                ),
            )
        )
    digits = phone_digits(phone)
    if digits and len(digits) >= 6:
        clauses.append(Patient.phone_digits == digits)
    if not clauses:
        return []
    return list(
        db.session.execute(select(Patient).where(or_(*clauses)).order_by(Patient.id).limit(10))
        .scalars()
        .all()
    )


def patient_home(user: User, *, now: datetime) -> dict:
    unread = db.session.execute(
        select(func.count())
        .select_from(Message)
        .where(Message.user_id == user.id, Message.read_at.is_(None))
    ).scalar_one()
    patient = user.patient
    data = {"unread": unread, "patient": patient}
    if patient is not None:
        # Every course (newest first) for the downloads; the newest is the current one.
        courses = courses_of(patient)
        course = courses[0] if courses else current_course(patient)
        data["intake"] = course_journey(course, today=clinic_today(now), now=now)
        data["visits"] = my_visits(patient, now)
        data["courses"] = courses or [course]
    return data


def courses_of(patient: Patient) -> list[Course]:
    return list(
        db.session.execute(
            select(Course).where(Course.patient_id == patient.id).order_by(Course.number.desc())
        ).scalars()
    )


def patient_record(patient: Patient, *, now: datetime) -> dict:
    """Everything the desk needs on one page: where the course stands (the same
    journey the patient sees), what still blocks the collection visit, their
    visits, their courses and the latest changes to their records."""
    course = current_course(patient)
    journey = course_journey(course, today=clinic_today(now), now=now)
    recent = (
        db.session.execute(
            select(AuditEntry)
            .where(AuditEntry.patient_id == patient.id)
            .order_by(AuditEntry.id.desc())
            .limit(20)
        )
        .scalars()
        .all()
    )
    duplicates = [
        other
        for other in possible_duplicates(
            family_name=patient.family_name,
            given_name=patient.given_name,
            date_of_birth=patient.date_of_birth,
            phone=patient.phone,
        )
        if other.id != patient.id
    ]
    return {
        "duplicates": duplicates,
        "recent": recent,
        "intake": journey,
        "visits": my_visits(patient, now),
        "courses": courses_of(patient),
        "course": course,
    }


def worklist(*, now: datetime, lane: str | None = None, page: int = 1) -> dict:
    """The open and halted courses by lane (``worklist.place``): each lane's
    count, and its first ``worklist.PAGE`` rows (or, for ``lane``, that
    page of it) with their patients.

    Courses that can be in no lane are not read: a declined questionnaire,
    and an open course past its collection (a completed collection visit, no
    visit booked after it, no consent withdrawn). The rest are placed here
    from plain rows; only the rows shown get their patient object. A fixed
    number of queries whatever the number of courses: the courses, their
    questionnaires, open reviews, newest panel results, the panel, the
    settings, consent signatures, the newest consent version that changes the
    meaning, the collections, and the patients shown."""
    from sqlalchemy import and_, exists, or_

    from intake.core import settings
    from intake.eligibility import queries as eq
    from intake.eligibility.models import (
        ConsentDocument,
        ConsentKind,
        ConsentSignature,
        PanelResult,
        Questionnaire,
        QuestionnaireStatus,
        Review,
    )
    from intake.patients import journey as pure_journey
    from intake.patients import worklist as lanes
    from intake.patients.models import CourseStatus
    from intake.scheduling.models import Appointment, AppointmentStatus, VisitType
    from intake.scheduling.queries import clinic_calendar

    today = clinic_today(now)
    cal = clinic_calendar()
    # The newest questionnaire is the one the lanes read: declined, no lane.
    newest_status = (
        select(Questionnaire.status)
        .where(Questionnaire.course_id == Course.id)
        .order_by(Questionnaire.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    collection_visits = (
        select(Appointment.id)
        .join(VisitType, Appointment.visit_type_id == VisitType.id)
        .where(Appointment.course_id == Course.id, VisitType.day_block_resource_id.is_not(None))
    )
    withdrawn = exists(
        select(ConsentSignature.id).where(
            ConsentSignature.course_id == Course.id, ConsentSignature.withdrawn_at.is_not(None)
        )
    )
    past_collection = and_(
        Course.status == CourseStatus.OPEN,
        exists(collection_visits.where(Appointment.status == AppointmentStatus.COMPLETED)),
        ~exists(
            collection_visits.where(
                Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED))
            )
        ),
        ~withdrawn,
    )
    listed = and_(
        Course.status.in_((CourseStatus.OPEN, CourseStatus.HALTED)),
        or_(newest_status.is_(None), newest_status != QuestionnaireStatus.DECLINED),
        ~past_collection,
    )
    rows = db.session.execute(
        select(Course.id, Course.patient_id, Course.status, Course.opened_at)
        .where(listed)
        .order_by(Course.opened_at, Course.id)
    ).all()
    empty = {name: [] for name in lanes.LANES}
    if not rows:
        return {
            "lanes": empty,
            "counts": dict.fromkeys(lanes.LANES, 0),
            "today": today,
            "page": 1,
            "pages": 1,
        }
    # The open and halted courses as a subquery, not thousands of bound ids
    # per statement (nor the filter above again: cheaper to read the few more).
    ids = select(Course.id).where(Course.status.in_((CourseStatus.OPEN, CourseStatus.HALTED)))
    questionnaires = {}
    # The columns the lanes read, as plain rows: not the answers (a large JSON
    # document per course) nor an ORM object for each of thousands of courses.
    for q in db.session.execute(
        select(
            Questionnaire.id,
            Questionnaire.course_id,
            Questionnaire.status,
            Questionnaire.submitted_at,
        )
        .where(Questionnaire.course_id.in_(ids))
        .order_by(Questionnaire.id)
    ):
        questionnaires[q.course_id] = q
    open_reviews = {
        r.course_id: r
        for r in db.session.execute(
            select(Review).where(Review.course_id.in_(ids)).order_by(Review.id)
        ).scalars()
    }
    newest = (
        select(func.max(PanelResult.id))
        .where(PanelResult.course_id.in_(ids))
        .group_by(PanelResult.course_id, PanelResult.item_code)
    )
    # The four columns the gate and the lanes read, as plain rows (not one
    # ORM object per result: thousands on a clinic group's worklist).
    results: dict[int, dict] = {}
    for row in db.session.execute(
        select(
            PanelResult.course_id,
            PanelResult.item_code,
            PanelResult.test_date,
            PanelResult.acceptable,
        ).where(PanelResult.id.in_(newest))
    ):
        results.setdefault(row.course_id, {})[row.item_code] = row
    # The panel by code only: the lanes name the items themselves (the view),
    # so the gate need not copy each item's names for every course.
    items = [item.code for item in eq.panel_items()]
    validity = settings.get("panel_validity_days")
    signatures: dict[int, dict] = {}
    for sig in db.session.execute(
        select(ConsentSignature)
        .where(ConsentSignature.course_id.in_(ids))
        .order_by(ConsentSignature.id)
    ).scalars():
        signatures.setdefault(sig.course_id, {})[sig.kind] = sig
    newest_meaning = dict(
        db.session.execute(
            select(ConsentDocument.locale, func.max(ConsentDocument.version))
            .where(ConsentDocument.kind == ConsentKind.TREATMENT, ConsentDocument.changes_meaning)
            .group_by(ConsentDocument.locale)
        ).all()
    )
    collections = {}
    for appointment in db.session.execute(
        select(Appointment.course_id, Appointment.status, Appointment.start_at)
        .join(VisitType, Appointment.visit_type_id == VisitType.id)
        .where(
            Appointment.course_id.in_(ids),
            VisitType.day_block_resource_id.is_not(None),
            Appointment.status.in_(
                (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED)
            ),
        )
        .order_by(Appointment.start_at)
    ):
        collections[appointment.course_id] = appointment
    by_lane: dict[str, list] = {lane: [] for lane in lanes.LANES}
    for course in rows:
        questionnaire = questionnaires.get(course.id)
        sigs = signatures.get(course.id, {})
        treatment = sigs.get(ConsentKind.TREATMENT)
        collection = collections.get(course.id)
        # A halted course, or answers not yet sent: the lane is known
        # without working out the gate and the journey.
        placement = lanes.known_lane(
            course.status.value,
            questionnaire.status.value if questionnaire else None,
            has_collection=collection is not None,
            consent_withdrawn=any(sig.is_withdrawn for sig in sigs.values()),
        )
        if placement is None:
            outdated = (
                collection is None
                and treatment is not None
                and not treatment.is_withdrawn
                and treatment.version < newest_meaning.get(treatment.locale, 0)
            )
            gate = eq.gate_from(
                questionnaire,
                results.get(course.id, {}),
                items,
                sigs,
                validity_days=validity,
                today=today,
                consent_outdated=outdated,
            )
            review = open_reviews.get(course.id)
            cross_border = sigs.get(ConsentKind.CROSS_BORDER)
            facts = pure_journey.CourseFacts(
                course_status=course.status.value,
                questionnaire_status=questionnaire.status.value if questionnaire else None,
                has_open_review=review is not None and review.decision is None,
                consultation_date=review.consultation_date if review else None,
                gate_codes=gate.codes,
                treatment_consent_signed=treatment is not None
                and not treatment.is_withdrawn
                and not outdated,
                cross_border_consent_signed=cross_border is not None
                and not cross_border.is_withdrawn,
                collection_status=collection.status.value if collection else None,
                collection_date=cal.local_date(collection.start_at) if collection else None,
            )
            journey = pure_journey.journey(facts, today=today)
            expiring = ()
            if collection is not None and collection.status == AppointmentStatus.BOOKED:
                expiring = lanes.expiring_before(
                    {code: r.test_date for code, r in results.get(course.id, {}).items()},
                    cal.local_date(collection.start_at),
                    validity,
                )
            placement = lanes.place(journey, expiring_codes=expiring)
        if placement is None:
            continue
        since = (
            questionnaire.submitted_at
            if questionnaire is not None and questionnaire.submitted_at
            else course.opened_at
        )
        by_lane[placement.lane].append(
            {
                "patient_id": course.patient_id,
                "course": course,
                "reasons": placement.reasons,
                "since": since,
                "collection": collection,
                "questionnaire": questionnaire,
            }
        )
    by_lane[lanes.REVIEW].sort(key=lambda row: row["since"])
    by_lane[lanes.BOOKED].sort(key=lambda row: row["collection"].start_at)
    by_lane[lanes.PANEL_EXPIRING].sort(key=lambda row: row["collection"].start_at)
    counts = {name: len(placed) for name, placed in by_lane.items()}
    pages = 1
    if lane is None:
        shown = {name: placed[: lanes.PAGE] for name, placed in by_lane.items()}
    else:
        page, pages = lanes.page_of(counts[lane], page, lanes.PAGE)
        start = (page - 1) * lanes.PAGE
        shown = {lane: by_lane[lane][start : start + lanes.PAGE]}
    wanted = {row["patient_id"] for placed in shown.values() for row in placed}
    patients = {}
    if wanted:
        patients = {
            p.id: p
            for p in db.session.execute(select(Patient).where(Patient.id.in_(wanted))).scalars()
        }
    for placed in shown.values():
        for row in placed:
            row["patient"] = patients[row["patient_id"]]
    return {"lanes": shown, "counts": counts, "today": today, "page": page, "pages": pages}
