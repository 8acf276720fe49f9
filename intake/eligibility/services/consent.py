"""Signing and withdrawing consent."""

from __future__ import annotations

import hashlib

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.eligibility import queries
from intake.eligibility.models import (
    ConsentDocument,
    ConsentKind,
    ConsentSignature,
    QuestionnaireStatus,
    Review,
)
from intake.eligibility.services._common import (
    _check_password,
    _clean_text,
    _is_self,
    _ready_to_book,
    _require_role,
    _require_self,
    _tell_if_now_ready,
    clinic_today,
    course_of,
    link,
)
from intake.extensions import db
from intake.notifications.services import notify
from intake.patients.models import CourseStatus, Patient
from intake.patients.services import close_course
from intake.scheduling.services import cancel_future_visits

# --------------------------------------------------------------------------- consent


def consent_meaning(document: ConsentDocument, signer_name: str) -> str:
    """What signing means, in the document's language."""
    with force_locale(document.locale):
        if document.kind == ConsentKind.TREATMENT:
            return _(
                "I, %(name)s, have read and understood “%(title)s” (version %(version)s), "
                "have been able to ask questions, and I consent to the treatment it describes.",
                name=signer_name,
                title=document.title,
                version=document.version,
            )
        return _(
            "I, %(name)s, have read “%(title)s” (version %(version)s) and I consent to my "
            "personal data being sent abroad as it describes.",
            name=signer_name,
            title=document.title,
            version=document.version,
        )


def text_fingerprint(document: ConsentDocument) -> str:
    """SHA-256 of the exact text shown to the signer (title, blank line, body)."""
    return hashlib.sha256(f"{document.title}\n\n{document.body}".encode()).hexdigest()


def _consultation_recorded(course_id: int, today) -> bool:
    """Treatment consent follows the consultation that explained it: a review
    of the course records a consultation on or before today."""
    return (
        db.session.execute(
            select(Review.id)
            .where(
                Review.course_id == course_id,
                Review.consultation_date.is_not(None),
                Review.consultation_date <= today,
            )
            .limit(1)
        ).first()
        is not None
    )


def sign_consent(
    patient: Patient,
    document: ConsentDocument,
    *,
    actor: User,
    password: str,
    ip_address: str | None = None,
    fingerprint: str | None = None,
) -> ConsentSignature:
    """The patient signs the current version they read, by re-entering their
    password. Records who, when, which version and language, the meaning and
    the SHA-256 fingerprint of the text shown (``fingerprint``, from the page:
    a text changed since it was shown is refused)."""
    _require_self(actor, patient)
    course = course_of(patient)
    questionnaire = queries.current_questionnaire(course.id)
    if questionnaire is None or questionnaire.status not in (
        QuestionnaireStatus.SUBMITTED,
        QuestionnaireStatus.RETURNED,
        QuestionnaireStatus.APPROVED,
    ):
        raise DomainError(_("Consent can be signed once your answers have been sent."))
    if not document.is_current:
        raise DomainError(
            _("A newer version of this document has been published. Please read it again.")
        )
    digest = text_fingerprint(document)
    if fingerprint is not None and fingerprint != digest:
        raise DomainError(
            _("The text of this document has changed since you opened it. Please read it again.")
        )
    if document.kind == ConsentKind.TREATMENT and not _consultation_recorded(
        course.id, clinic_today()
    ):
        raise DomainError(
            _(
                "The treatment consent is signed after your consultation, once the doctor "
                "has explained the treatment to you."
            ),
            code="consultation_first",
        )
    current = queries.latest_signatures(course.id).get(document.kind)
    if current is not None and not current.is_withdrawn and current.version == document.version:
        raise DomainError(_("You have already signed this document."))
    _check_password(actor, password)
    was_ready = _ready_to_book(patient)
    signature = ConsentSignature(
        patient_id=patient.id,
        course=course,
        document=document,
        kind=document.kind,
        version=document.version,
        locale=document.locale,
        signer_name=patient.full_name,
        meaning=consent_meaning(document, patient.full_name),
        text_sha256=digest,
        signed_at=utcnow(),
        ip_address=ip_address,
    )
    db.session.add(signature)
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.consent_sign",
        entity=signature,
        after=audit.snapshot(signature, ConsentSignature.AUDITED),
        patient=patient,
        note=signature.meaning,
    )
    if course.status == CourseStatus.HALTED:
        # Signing again after a withdrawal resumes the course.
        course.status = CourseStatus.OPEN
        course.closed_at = None
        audit.record(
            actor=actor,
            action="patients.course_resumed",
            entity=course,
            before={"status": CourseStatus.HALTED.value},
            after={"status": CourseStatus.OPEN.value},
            patient=patient,
        )
    copy = f"{document.title}\n\n{document.body}\n\n{signature.meaning}\n\nSHA-256: {digest}\n"
    notify(
        patient,
        "eligibility_consent_signed",
        title=document.title,
        version=document.version,
        signed_at=signature.signed_at,
        link=link("eligibility.consent"),
        attachment=(
            f"consent-{document.kind.value}-v{document.version}-{document.locale}.txt",
            "text/plain",
            copy,
        ),
    )
    _tell_if_now_ready(patient, was_ready)
    return signature


def withdraw_consent(
    patient: Patient, kind: ConsentKind, *, actor: User, reason: str | None = None
) -> ConsentSignature:
    """Withdraw a signed consent at any time. The course halts: every visit of
    it still to come is cancelled (holds freed, the reason kept), the patient
    and the front desk are told. The patient withdraws themself; a coordinator
    or doctor may record a withdrawal the patient told them about, with a reason."""
    if _is_self(actor, patient):
        reason_text = _clean_text(reason, field="reason", required=False)
    else:
        _require_role(
            actor,
            Role.COORDINATOR,
            Role.DOCTOR,
            message=_("Only the patient, a coordinator or a doctor can withdraw consent."),
        )
        reason_text = _clean_text(reason, field="reason", required=True)
    course = course_of(patient)
    signature = queries.latest_signatures(course.id).get(kind)
    if signature is None or signature.is_withdrawn:
        raise DomainError(_("There is no signed consent to withdraw."))
    before = audit.snapshot(signature, ConsentSignature.AUDITED)
    now = utcnow()
    signature.withdrawn_at = now
    signature.withdrawal_reason = reason_text
    signature.withdrawn_by_id = actor.id
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.consent_withdraw",
        entity=signature,
        before=before,
        after=audit.snapshot(signature, ConsentSignature.AUDITED),
        patient=patient,
    )
    with force_locale(patient.locale):
        cancel_reason = _("Consent withdrawn") + (f": {reason_text}" if reason_text else "")
    cancelled = cancel_future_visits(course, actor=actor, reason=cancel_reason, now=now)
    close_course(course, CourseStatus.HALTED, actor=actor, reason=cancel_reason, now=now)
    notify(
        patient,
        "eligibility_consent_withdrawn",
        kind=kind.value,
        withdrawn_at=signature.withdrawn_at,
        cancelled=cancelled,
        link=link("eligibility.consent"),
    )
    for coordinator in _front_desk():
        notify(
            coordinator,
            "desk_consent_withdrawn",
            patient=patient,
            kind=kind.value,
            cancelled=cancelled,
            link=link("patients.record", patient_id=patient.id),
        )
    return signature


def _front_desk() -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.role == Role.COORDINATOR, User.is_active).order_by(User.id)
        ).scalars()
    )
