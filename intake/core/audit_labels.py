"""What staff read in the audit trail instead of codes. Pure.

Each audit action (``<domain>.<event>``) and each record type (a table name)
has an English name wrapped in ``N_``; the page translates it. A code with no
row still reads as words (``tests/core/test_audit_labels.py`` asks for a row
for every action the code records and every table).
"""

from __future__ import annotations

from intake.core.text import N_

ACTION_LABELS: dict[str, str] = {
    "accounts.create_staff": N_("Staff account created"),
    "accounts.email_confirmed": N_("E-mail address confirmed"),
    "accounts.invite": N_("Invited to log in"),
    "accounts.register_existing": N_("Registration tried with a known e-mail"),
    "accounts.login": N_("Logged in"),
    "accounts.login_failed": N_("Login failed"),
    "accounts.login_locked": N_("Login locked after repeated failures"),
    "accounts.logout": N_("Logged out"),
    "accounts.password_change": N_("Password changed"),
    "accounts.password_reset": N_("Password reset"),
    "accounts.password_reset_requested": N_("Password reset requested"),
    "accounts.register": N_("Account registered"),
    "accounts.set_locale": N_("Language changed"),
    "accounts.two_factor_enable": N_("Two-step login set up"),
    "accounts.two_factor_failed": N_("Two-step login code refused"),
    "accounts.two_factor_reset": N_("Two-step login reset"),
    "accounts.update": N_("Account changed"),
    "aftercare.adverse_event_cpc_told": N_("CPC told of an adverse event"),
    "aftercare.adverse_event_record": N_("Adverse event recorded"),
    "aftercare.adverse_event_reported": N_("Adverse event reported"),
    "aftercare.follow_up_answer": N_("Follow-up questions answered"),
    "aftercare.follow_up_close": N_("Follow-up contact closed"),
    "aftercare.follow_up_invite": N_("Follow-up questions sent to the patient"),
    "aftercare.follow_up_schedule": N_("Follow-up contact scheduled"),
    "cultures.batch_create": N_("Culture batch created"),
    "cultures.correct": N_("Culture entry corrected"),
    "cultures.identity_check": N_("Batch identity checked"),
    "cultures.receive": N_("Tissue received in the lab"),
    "cultures.record": N_("Culture entry recorded"),
    "cultures.transition": N_("Culture batch state changed"),
    "reinfusion.dose_plan": N_("Reinfusion dose planned"),
    "reinfusion.propose": N_("Reinfusion dates proposed"),
    "reinfusion.confirm": N_("Reinfusion date confirmed and locked"),
    "reinfusion.move": N_("Locked reinfusion date moved"),
    "reinfusion.change_request": N_("Change of a reinfusion date requested"),
    "reinfusion.change_request_answer": N_("Change request answered"),
    "reinfusion.dose_cancel": N_("Reinfusion dose cancelled"),
    "eligibility.answer_corrected": N_("Answer corrected with the patient"),
    "eligibility.consent_publish": N_("Consent document published"),
    "eligibility.consent_sign": N_("Consent signed"),
    "eligibility.consent_withdraw": N_("Consent withdrawn"),
    "eligibility.indication_create": N_("Indication added"),
    "eligibility.indication_update": N_("Indication changed"),
    "eligibility.panel_item_create": N_("Panel test added"),
    "eligibility.panel_item_move": N_("Panel test moved"),
    "eligibility.panel_item_update": N_("Panel test changed"),
    "eligibility.panel_order": N_("Infectious panel ordered"),
    "eligibility.panel_result": N_("Panel result entered"),
    "eligibility.questionnaire_save": N_("Questionnaire answers saved"),
    "eligibility.questionnaire_start": N_("Questionnaire started"),
    "eligibility.questionnaire_submit": N_("Questionnaire submitted"),
    "eligibility.reassess": N_("Eligibility rules run again"),
    "eligibility.review_decision": N_("Review decision signed"),
    "eligibility.review_notes": N_("Review notes saved"),
    "manager.feed_create": N_("Calendar feed made"),
    "manager.feed_revoke": N_("Calendar feed revoked"),
    "patients.course_closed": N_("Treatment course ended"),
    "patients.course_resumed": N_("Treatment course resumed"),
    "patients.course_started": N_("Treatment course started"),
    "patients.link_login": N_("Login linked to the patient record"),
    "patients.register": N_("Patient registered"),
    "reinfusion.administration": N_("Cells administered"),
    "reinfusion.bedside_check": N_("Bedside identity checked"),
    "reinfusion.clearance": N_("Doctor's clearance signed"),
    "reinfusion.dose_given": N_("Dose given"),
    "reinfusion.later_doses": N_("Later doses of the batch changed"),
    "patients.trip_add": N_("Trip added"),
    "patients.trip_cancel": N_("Trip cancelled"),
    "patients.trip_change": N_("Trip changed"),
    "scheduling.arrive": N_("Checked in"),
    "scheduling.book": N_("Visit booked"),
    "scheduling.cancel": N_("Visit cancelled"),
    "scheduling.closure_add": N_("Closure added"),
    "scheduling.closure_remove": N_("Closure removed"),
    "scheduling.complete": N_("Visit completed"),
    "scheduling.culture_place_extended": N_("Culture place extended"),
    "scheduling.culture_place_released": N_("Culture place released"),
    "scheduling.no_show": N_("Marked as not come"),
    "scheduling.record": N_("Visit recorded"),
    "scheduling.remind": N_("Visit reminder sent"),
    "scheduling.reschedule": N_("Visit moved"),
    "scheduling.resource_create": N_("Resource added"),
    "scheduling.resource_update": N_("Resource changed"),
    "scheduling.visit_type_create": N_("Visit type added"),
    "scheduling.visit_type_update": N_("Visit type changed"),
    "settings.change": N_("Setting changed"),
    "manager.schedule_export": N_("Schedule exported (CSV)"),
    "database.restore": N_("Database restored from a backup"),
    "fhir.export": N_("Treatment course exported (FHIR)"),
    "waitlist.join": N_("Joined the waitlist"),
    "waitlist.leave": N_("Left the waitlist"),
    "waitlist.offer": N_("Waitlist: day offered"),
    "waitlist.offer_expired": N_("Waitlist: offer expired"),
    "waitlist.offer_declined": N_("Waitlist: offer declined"),
    "waitlist.offer_taken": N_("Waitlist: day taken by another patient"),
    "waitlist.accept": N_("Waitlist: offer accepted and booked"),
    "waitlist.stopped": N_("Waitlist: left as the course stopped"),
    "waitlist.booked": N_("Waitlist: the collection was booked another way"),
}

ENTITY_LABELS: dict[str, str] = {
    "patients": N_("Patient record"),
    "appointments": N_("Visit"),
    "audit_entries": N_("Audit entry"),
    "batches": N_("Culture batch"),
    "batch_events": N_("Culture batch entry"),
    "trips": N_("Trip"),
    "reinfusion_doses": N_("Reinfusion dose"),
    "reinfusion_proposals": N_("Proposed reinfusion time"),
    "reinfusion_change_requests": N_("Request to change a reinfusion date"),
    "reinfusion_clearances": N_("Doctor's clearance"),
    "reinfusion_bedside_checks": N_("Bedside identity check"),
    "reinfusion_administrations": N_("Administration"),
    "follow_ups": N_("Follow-up contact"),
    "feed_tokens": N_("Calendar feed"),
    "rate_limit_counters": N_("Rate limit counter"),
    "adverse_events": N_("Adverse event"),
    "closures": N_("Closure"),
    "consent_documents": N_("Consent document"),
    "consent_signatures": N_("Consent signature"),
    "courses": N_("Treatment course"),
    "holds": N_("Reserved place"),
    "ledger_versions": N_("Booking ledger version"),
    "indications": N_("Indication"),
    "messages": N_("Message"),
    "panel_item_definitions": N_("Panel test"),
    "panel_orders": N_("Panel order"),
    "panel_results": N_("Panel result"),
    "password_reset_tokens": N_("Password reset link"),
    "question_sets": N_("Question set"),
    "questionnaires": N_("Questionnaire"),
    "resources": N_("Resource"),
    "reviews": N_("Doctor's review"),
    "settings": N_("Setting"),
    "users": N_("Account"),
    "visit_type_segments": N_("Visit type part"),
    "visit_types": N_("Visit type"),
    "schedule_exports": N_("Schedule export"),
    "database": N_("Database"),
    "waitlist_entries": N_("Waitlist place"),
    "waitlist_offers": N_("Waitlist offer"),
}


def _words(code: str) -> str:
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def action_label(code: str) -> str:
    """The action's name (English, for ``_()``); an unknown code as words."""
    if code in ACTION_LABELS:
        return ACTION_LABELS[code]
    domain, _dot, event = code.partition(".")
    return f"{_words(domain)}: {event.replace('_', ' ')}" if event else _words(domain)


def entity_label(table: str) -> str:
    """The record type's name (English, for ``_()``); an unknown table as words."""
    return ENTITY_LABELS.get(table) or _words(table)
