"""The doctor's review: the queue, the review page, notes, the panel order,
the decision and a withdrawal recorded by staff."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from intake.accounts.roles import Role
from intake.core.access import require, role_required
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.core.web import MAX_PAGE, check_too, query_int, show_domain_error
from intake.eligibility import queries, services
from intake.eligibility.forms import (
    AnswerCorrectionForm,
    DecisionForm,
    PanelOrderForm,
    ReviewNotesForm,
    StaffWithdrawForm,
)
from intake.eligibility.models import (
    ConsentKind,
    Decision,
    Outcome,
    Questionnaire,
    QuestionnaireStatus,
)
from intake.eligibility.question_bank import ROUTES, visible_questions
from intake.eligibility.views import bp
from intake.eligibility.views._common import (
    PANEL_EDITORS,
    STAFF_VIEWERS,
    _missing_texts,
    _patient_or_404,
    _route_name,
    _signature_limit,
    _waiting,
    kind_title,
    lang,
    show_answer,
)
from intake.extensions import db, limiter
from intake.patients.services import current_course
from intake.scheduling import waitlist_services

# --------------------------------------------------------------------------- doctor review


@bp.get("/reviews")
@role_required(*STAFF_VIEWERS)
def review_queue():
    page = queries.review_queue(query_int("page", maximum=MAX_PAGE, default=1))
    extras = queries.queue_extras([q.patient_id for q in page.items], [q.id for q in page.items])
    return render_template(
        "eligibility/review_queue.html",
        page=page,
        **extras,
        recent=queries.recent_decisions(),
        waiting=_waiting,
        Outcome=Outcome,
    )


def _notes_form(record, open_review, indications, formdata=None) -> ReviewNotesForm:
    form = ReviewNotesForm(formdata=formdata, obj=open_review, prefix="notes")
    current = open_review.indication_code if open_review else None
    offered = [i for i in indications if i.is_active or i.code == current]
    form.indication_code.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(i.code, i.label(lang())) for i in offered
    ]
    chosen = form.indication_code.data or current
    indication = next((i for i in offered if i.code == chosen), None)
    allowed = indication.routes if indication else [r.code for r in ROUTES]
    form.planned_route.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(code, _route_name(code)) for code in allowed
    ]
    return form


def _order_form(panel_items, formdata=None) -> PanelOrderForm:
    form = PanelOrderForm(formdata=formdata, prefix="order")
    form.items.choices = [SelectChoice(item.code, item.label(lang())) for item in panel_items]
    if formdata is None:
        form.items.data = [item.code for item in panel_items]
    return form


def _render_review(record: Questionnaire, *, notes=None, order=None, decision=None, withdraw=None):
    data = queries.review_page(record, today=services.clinic_today())
    open_review = data["open_review"]
    notes = notes or _notes_form(record, open_review, data["indications"])
    order = order or _order_form(data["panel_items"])
    decision = decision or DecisionForm(formdata=None, prefix="decision")
    withdraw = withdraw or _staff_withdraw_form()
    decision.password.data = ""
    indication = next(
        (i for i in data["indications"] if open_review and i.code == open_review.indication_code),
        None,
    )
    meanings = {
        d.value: services.review_meaning(
            d,
            doctor=current_user,
            patient=record.patient,
            indication=indication.label(lang()) if indication else "…",
            route=_route_name(open_review.planned_route) if open_review else "…",
        )
        for d in Decision
    }
    flagged: dict[str, str] = {}
    for reason in record.reasons or []:
        for code in reason.get("questions") or ():
            if flagged.get(code) != "exclude":
                flagged[code] = reason["severity"]
    return render_template(
        "eligibility/review.html",
        correct_url=lambda code: url_for(
            "eligibility.correct_answer", questionnaire_id=record.id, question_code=code
        ),
        record=record,
        patient=record.patient,
        **data,
        reasons=services.reason_texts(record.reasons),
        missing=_missing_texts(data["gate"]),
        flagged=flagged,
        notes_form=notes,
        order_form=order,
        decision_form=decision,
        withdraw_form=withdraw,
        meanings=meanings,
        lang=lang(),
        show_answer=show_answer,
        visible_questions=visible_questions,
        waiting=_waiting,
        route_name=_route_name,
        indication_label=lambda code: next(
            (i.label(lang()) for i in data["indications"] if i.code == code), code or ""
        ),
        outcome_text=services.outcome_label(record.outcome),
        can_decide=current_user.role == Role.DOCTOR
        and record.status == QuestionnaireStatus.SUBMITTED,
        can_edit_panel=current_user.role in PANEL_EDITORS,
        can_withdraw=current_user.role in PANEL_EDITORS,
        now=utcnow(),
        Outcome=Outcome,
        QuestionnaireStatus=QuestionnaireStatus,
        ConsentKind=ConsentKind,
        kind_title=kind_title,
    )


def _submitted_or_404(questionnaire_id: int) -> Questionnaire:
    record = queries.questionnaire_with_patient(questionnaire_id)
    if record is None or record.status == QuestionnaireStatus.DRAFT:
        abort(404)
    return record


@bp.get("/reviews/<int:questionnaire_id>")
@role_required(*STAFF_VIEWERS)
def review(questionnaire_id: int):
    return _render_review(_submitted_or_404(questionnaire_id))


@bp.post("/reviews/<int:questionnaire_id>/notes")
@role_required(Role.DOCTOR)
def review_notes(questionnaire_id: int):
    record = _submitted_or_404(questionnaire_id)
    open_review = next((r for r in queries.latest_reviews(record.id) if r.decision is None), None)
    form = _notes_form(
        record, open_review, queries.indications(active_only=False), formdata=request.form
    )
    if form.validate():
        try:
            services.save_review_notes(
                record,
                actor=current_user,
                history_notes=form.history_notes.data,
                consultation_date=form.consultation_date.data,
                indication_code=form.indication_code.data or None,
                planned_route=form.planned_route.data or None,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Notes saved."), "success")
            return redirect(url_for("eligibility.review", questionnaire_id=record.id) + "#notes")
    return _render_review(record, notes=form)


@bp.post("/reviews/<int:questionnaire_id>/panel")
@role_required(Role.DOCTOR)
def review_order_panel(questionnaire_id: int):
    record = _submitted_or_404(questionnaire_id)
    form = _order_form(queries.panel_items(), formdata=request.form)
    if form.validate():
        try:
            services.order_panel(
                record, actor=current_user, items=form.items.data, note=form.note.data
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The infectious panel is ordered. The patient has been told."), "success")
            return redirect(url_for("eligibility.review", questionnaire_id=record.id) + "#panel")
    return _render_review(record, order=form)


@bp.post("/reviews/<int:questionnaire_id>/decision")
@role_required(Role.DOCTOR)
@limiter.limit(_signature_limit)
def review_decide(questionnaire_id: int):
    record = _submitted_or_404(questionnaire_id)
    form = DecisionForm(prefix="decision")
    if form.validate_on_submit():
        try:
            services.decide_review(
                record,
                actor=current_user,
                decision=form.decision.data,
                reason=form.reason.data,
                password=form.password.data,
                override_reason=form.override_reason.data,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your decision is signed and the patient has been told."), "success")
            return redirect(url_for("eligibility.review_queue"))
    else:
        check_too(
            form,
            lambda: services.check_decision(
                record,
                actor=current_user,
                decision=form.decision.data,
                reason=form.reason.data,
                password=form.password.data,
                override_reason=form.override_reason.data,
            ),
        )
    return _render_review(record, decision=form)


def _staff_withdraw_form(formdata=None) -> StaffWithdrawForm:
    form = StaffWithdrawForm(formdata=formdata, prefix="withdraw")
    form.kind.choices = [SelectChoice(k.value, kind_title(k)) for k in ConsentKind]
    return form


@bp.post("/patients/<int:patient_id>/consent/withdraw")
@role_required(*PANEL_EDITORS)
def staff_withdraw(patient_id: int):
    patient = _patient_or_404(patient_id)
    record = queries.current_questionnaire(current_course(patient).id)
    if record is None or record.status == QuestionnaireStatus.DRAFT:
        abort(404)
    form = _staff_withdraw_form(formdata=request.form)
    if form.validate():
        try:
            kind = ConsentKind(form.kind.data)
        except ValueError:
            form.kind.errors = [_("Choose a consent.")]
        else:
            try:
                services.withdraw_consent(
                    patient, kind, actor=current_user, reason=form.reason.data
                )
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                db.session.commit()
                waitlist_services.offer_after_commit()  # the freed days, the wish ended
                flash(_("The withdrawal is recorded; the patient's journey has stopped."), "info")
                return redirect(url_for("eligibility.review", questionnaire_id=record.id))
    return _render_review(record, withdraw=form)


@bp.route("/reviews/<int:questionnaire_id>/answers/<question_code>", methods=["GET", "POST"])
@role_required(Role.DOCTOR)
def correct_answer(questionnaire_id: int, question_code: str):
    """Correct one answer with the patient; the rules run again."""
    record = queries.questionnaire_with_patient(questionnaire_id)
    require(record is not None and record.status != QuestionnaireStatus.DRAFT)
    data = queries.question_set_data(
        record.question_set,
        queries.indications(active_only=False),
        answered=record.answers.get("indication"),
    )
    question = next(
        (q for page in data.pages for q in page.questions if q.code == question_code), None
    )
    require(question is not None)
    form = AnswerCorrectionForm()
    if request.method == "GET":
        current = record.answers.get(question_code)
        form.value.data = "" if current is None else str(current)
    elif form.validate_on_submit():
        try:
            services.correct_answer(
                record,
                actor=current_user,
                question_code=question_code,
                value=form.value.data,
                reason=form.reason.data,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("The answer is corrected and the rules ran again."), "success")
            return redirect(url_for("eligibility.review", questionnaire_id=record.id))
    return render_template(
        "eligibility/answer_correct.html",
        record=record,
        question=question,
        form=form,
        lang=lang(),
        current=show_answer(question, record.answers.get(question_code)),
    )
