"""After-care over HTTP: the coordinators' follow-up contacts, the patient's
follow-up questions, adverse events (recorded by doctors and coordinators,
read by managers and doctors, marked reported by doctors and managers) and
the lab's list of events to tell the CPC.

Each handler: load → check access → validate the form → one service call →
commit → redirect; on ``DomainError``: roll back and show the message beside
its field, what was typed kept.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from intake.accounts.roles import Role
from intake.core import settings
from intake.core.access import can_view_patient, require, role_required
from intake.core.errors import DomainError, FormErrors
from intake.core.languages import pick
from intake.core.types import utcnow
from intake.core.web import check_too, show_domain_error
from intake.eligibility.question_bank import ROUTES
from intake.extensions import db
from intake.patients.models import Patient
from intake.reinfusion import aftercare, aftercare_queries, aftercare_services
from intake.reinfusion.aftercare_forms import (
    AcknowledgeForm,
    AdverseEventForm,
    CloseFollowUpForm,
    QuestionnaireForm,
    ReportedForm,
)
from intake.reinfusion.models import (
    SERIOUSNESS_LABELS,
    Administration,
    AdverseEvent,
    FollowUp,
)
from intake.scheduling import queries as scheduling_queries

bp = Blueprint("aftercare", __name__)

FOLLOW_UP_READERS = (Role.COORDINATOR, Role.DOCTOR, Role.MANAGER)
AE_READERS = (Role.DOCTOR, Role.MANAGER)


def _today():
    return scheduling_queries.clinic_calendar().today(utcnow())


def _lang() -> str:
    return str(get_locale())


def _labels() -> dict:
    return {
        "state_labels": aftercare.FOLLOW_UP_STATE_LABELS,
        "alert_labels": aftercare.ALERT_LABELS,
        "seriousness_labels": SERIOUSNESS_LABELS,
        "ReportState": aftercare.ReportState,
        "FollowUpState": aftercare.FollowUpState,
    }


# --------------------------------------------------------------------------- the journey and
# the record: small panels the other domains' pages include


@bp.app_context_processor
def _panels():
    def open_follow_ups():
        patient = getattr(current_user, "patient", None)
        if patient is None or current_user.role != Role.PATIENT:
            return []
        return aftercare_queries.patient_follow_ups(patient.id, _today())

    def record_panel(patient):
        return aftercare_queries.patient_aftercare(patient.id, _today(), _lang())

    def due_follow_ups():
        return aftercare_queries.due_follow_up_count(_today())

    def report_summary():
        return aftercare_queries.report_summary(_today())

    return {
        "aftercare_report_summary": report_summary,
        "aftercare_open_follow_ups": open_follow_ups,
        "aftercare_record_panel": record_panel,
        "aftercare_due_follow_ups": due_follow_ups,
        "aftercare_labels": _labels,
    }


# --------------------------------------------------------------------------- follow-up contacts


def _follow_up_list(form=None, posted_id=None, status=200):
    return (
        render_template(
            "aftercare/follow_ups.html",
            rows=aftercare_queries.follow_up_list(_today(), _lang()),
            can_close=current_user.role in aftercare_services.FOLLOW_UP_STAFF,
            form=form,
            posted_id=posted_id,
            blank_form=CloseFollowUpForm(formdata=None),
            grace_days=aftercare.FOLLOW_UP_GRACE_DAYS,
            **_labels(),
        ),
        status,
    )


@bp.get("/follow-ups")
@role_required(*FOLLOW_UP_READERS)
def follow_ups():
    return _follow_up_list()


@bp.post("/follow-ups/<int:follow_up_id>/close")
@role_required(*aftercare_services.FOLLOW_UP_STAFF)
def close(follow_up_id: int):
    follow_up = db.get_or_404(FollowUp, follow_up_id)
    form = CloseFollowUpForm()
    if form.validate_on_submit():
        try:
            aftercare_services.close_follow_up(
                follow_up, status=form.status.data, note=form.note.data, actor=current_user
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Follow-up contact closed."), "success")
            return redirect(url_for("aftercare.follow_ups"))
    return _follow_up_list(form=form, posted_id=follow_up.id, status=422)


def _own_follow_up(follow_up_id: int) -> FollowUp:
    follow_up = db.get_or_404(FollowUp, follow_up_id)
    require(can_view_patient(current_user, follow_up.patient))
    return follow_up


def _questionnaire_page(follow_up, *, form, values=None, errors=None, status=200):
    today = _today()
    answered = follow_up.answered_at is not None
    return (
        render_template(
            "aftercare/questionnaire.html",
            follow_up=follow_up,
            form=form,
            questions=aftercare.QUESTIONS,
            values=values or {},
            errors=errors or {},
            lang=_lang(),
            is_open=aftercare.can_answer(follow_up.due_on, follow_up.status.value, answered, today),
            not_yet=today < follow_up.due_on,
            answer_lines=aftercare.answer_lines(follow_up.answers, _lang())
            if follow_up.answers
            else [],
        ),
        status,
    )


@bp.get("/follow-ups/<int:follow_up_id>")
@role_required(Role.PATIENT)
def questionnaire(follow_up_id: int):
    follow_up = _own_follow_up(follow_up_id)
    return _questionnaire_page(follow_up, form=QuestionnaireForm())


@bp.post("/follow-ups/<int:follow_up_id>")
@role_required(Role.PATIENT)
def answer(follow_up_id: int):
    follow_up = _own_follow_up(follow_up_id)
    form = QuestionnaireForm()
    raw = {q.code: request.form.getlist(q.code) for q in aftercare.QUESTIONS}
    values = {code: [v[:5000] for v in given] for code, given in raw.items()}
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "danger")
        return _questionnaire_page(follow_up, form=form, values=values, status=400)
    try:
        aftercare_services.answer_follow_up(follow_up, raw, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        errors = {}
        for error in exc.errors if isinstance(exc, FormErrors) else [exc]:
            if error.field:
                errors[error.field] = error.message
            else:
                flash(error.message, "danger")
        return _questionnaire_page(follow_up, form=form, values=values, errors=errors, status=422)
    db.session.commit()
    flash(_("Thank you. Your answers have been sent to the clinic."), "success")
    return redirect(url_for("aftercare.questionnaire", follow_up_id=follow_up.id))


# --------------------------------------------------------------------------- adverse events


def _event_form_page(patient, form, status=200):
    administrations = aftercare_queries.administrations_of(patient.id)
    route_names = {r.code: pick(r.names, _lang()) for r in ROUTES}
    form.administration.choices = [SelectChoice("", _("Not tied to one administration"))] + [
        SelectChoice(
            str(a.id),
            f"{aftercare_services.given_on(a).isoformat()} · {route_names.get(a.route, a.route)}",
        )
        for a in administrations
    ]
    if request.method == "GET" and administrations and not form.administration.data:
        form.administration.data = str(administrations[0].id)
    return (
        render_template(
            "aftercare/adverse_event_new.html",
            patient=patient,
            form=form,
            today=_today(),
            days_fatal=settings.get("ae_report_days_fatal"),
            days_serious=settings.get("ae_report_days_serious"),
        ),
        status,
    )


def _patient(patient_id: int) -> Patient:
    patient = db.get_or_404(Patient, patient_id)
    require(can_view_patient(current_user, patient))
    return patient


@bp.get("/patients/<int:patient_id>/adverse-events/new")
@role_required(*aftercare_services.AE_RECORDERS)
def new_event(patient_id: int):
    patient = _patient(patient_id)
    form = AdverseEventForm(formdata=None)
    form.known_on.data = _today()
    return _event_form_page(patient, form)


def _chosen_administration(form) -> Administration | None:
    chosen = form.administration.data or ""
    if not chosen:
        return None
    found = (
        db.session.get(Administration, int(chosen))
        if chosen.isdigit() and len(chosen) < 18
        else None
    )
    if found is None:
        raise DomainError(
            _("Choose one of this patient's administrations."), field="administration"
        )
    return found


def _record_event(form, patient) -> AdverseEvent:
    return aftercare_services.record_adverse_event(
        patient,
        administration=_chosen_administration(form),
        description=form.description.data,
        began_on=form.began_on.data,
        known_on=form.known_on.data,
        seriousness=form.seriousness.data,
        actor=current_user,
    )


def _check_event(form, patient) -> None:
    """The service's checks after the form's own failed: every message shows
    in one answer; nothing is kept even if the rules pass."""
    _record_event(form, patient)
    db.session.rollback()


@bp.post("/patients/<int:patient_id>/adverse-events/new")
@role_required(*aftercare_services.AE_RECORDERS)
def create_event(patient_id: int):
    patient = _patient(patient_id)
    form = AdverseEventForm()
    if not form.validate_on_submit():
        check_too(form, lambda: _check_event(form, patient))
        return _event_form_page(patient, form, status=422)
    try:
        event = _record_event(form, patient)
    except DomainError as exc:
        show_domain_error(form, exc)
        return _event_form_page(patient, form, status=422)
    db.session.commit()
    if event.report_due_on:
        flash(
            _(
                "Adverse event recorded. Report it by %(day)s; the lab will tell the CPC.",
                day=event.report_due_on.isoformat(),
            ),
            "success",
        )
    else:
        flash(
            _("Adverse event recorded for the periodic report; the lab will tell the CPC."),
            "success",
        )
    return redirect(url_for("patients.record", patient_id=patient.id))


def _event_list(form=None, posted_id=None, status=200):
    return (
        render_template(
            "aftercare/adverse_events.html",
            **aftercare_queries.adverse_event_list(_today()),
            can_report=current_user.role in aftercare_services.AE_REPORTERS,
            form=form,
            posted_id=posted_id,
            blank_form=ReportedForm(formdata=None),
            **_labels(),
        ),
        status,
    )


@bp.get("/adverse-events")
@role_required(*AE_READERS)
def adverse_events():
    return _event_list()


@bp.post("/adverse-events/<int:event_id>/reported")
@role_required(*aftercare_services.AE_REPORTERS)
def reported(event_id: int):
    event = db.get_or_404(AdverseEvent, event_id)
    form = ReportedForm()
    if form.validate_on_submit():
        try:
            aftercare_services.mark_reported(
                event, reference=form.reference.data, actor=current_user
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Marked as reported."), "success")
            return redirect(url_for("aftercare.adverse_events"))
    return _event_list(form=form, posted_id=event.id, status=422)


# --------------------------------------------------------------------------- the lab


@bp.get("/lab/adverse-events")
@role_required(Role.LAB)
def cpc():
    return render_template(
        "aftercare/cpc.html",
        rows=aftercare_queries.cpc_list(_today()),
        form=AcknowledgeForm(),
        **_labels(),
    )


@bp.post("/lab/adverse-events/<int:event_id>/acknowledge")
@role_required(Role.LAB)
def acknowledge(event_id: int):
    event = db.get_or_404(AdverseEvent, event_id)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        try:
            aftercare_services.acknowledge_by_cpc(event, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Thank you: the CPC has been told."), "success")
    else:
        flash(_("The form has expired. Please try again."), "danger")
    return redirect(url_for("aftercare.cpc"))
