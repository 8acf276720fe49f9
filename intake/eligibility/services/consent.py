"""Signing and withdrawing consent."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

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
)
from intake.eligibility.services._common import (
    _check_password,
    _clean_text,
    _ready_to_book,
    _require_role,
    _require_self,
    _tell_if_now_ready,
    link,
)
from intake.extensions import db
from intake.notifications.services import notify

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


def sign_consent(
    patient: User,
    document: ConsentDocument,
    *,
    actor: User,
    password: str,
    ip_address: str | None = None,
) -> ConsentSignature:
    """The patient signs the current version they read, by re-entering their
    password. Records who, when, which version and language, and the meaning."""
    _require_self(actor, patient)
    questionnaire = queries.current_questionnaire(patient.id)
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
    current = queries.latest_signatures(patient.id).get(document.kind)
    if current is not None and not current.is_withdrawn and current.version == document.version:
        raise DomainError(_("You have already signed this document."))
    _check_password(actor, password)
    was_ready = _ready_to_book(patient)
    signature = ConsentSignature(
        patient_id=patient.id,
        document=document,
        kind=document.kind,
        version=document.version,
        locale=document.locale,
        signer_name=patient.full_name,
        meaning=consent_meaning(document, patient.full_name),
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
    copy = f"{document.title}\n\n{document.body}\n\n{signature.meaning}\n"
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
    patient: User, kind: ConsentKind, *, actor: User, reason: str | None = None
) -> ConsentSignature:
    """Withdraw a signed consent at any time; the journey halts. The patient
    withdraws themself; a coordinator or doctor may record a withdrawal the
    patient told them about, with a reason."""
    if actor is not None and actor.id == patient.id:
        _require_self(actor, patient)
        reason_text = _clean_text(reason, field="reason", required=False)
    else:
        _require_role(
            actor,
            Role.COORDINATOR,
            Role.DOCTOR,
            message=_("Only the patient, a coordinator or a doctor can withdraw consent."),
        )
        reason_text = _clean_text(reason, field="reason", required=True)
    signature = queries.latest_signatures(patient.id).get(kind)
    if signature is None or signature.is_withdrawn:
        raise DomainError(_("There is no signed consent to withdraw."))
    before = audit.snapshot(signature, ConsentSignature.AUDITED)
    signature.withdrawn_at = utcnow()
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
    notify(
        patient,
        "eligibility_consent_withdrawn",
        kind=kind.value,
        withdrawn_at=signature.withdrawn_at,
        link=link("eligibility.consent"),
    )
    return signature
