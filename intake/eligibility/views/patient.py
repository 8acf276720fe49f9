"""The patient's screens: the journey, the questionnaire and consent."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intake.accounts.roles import Role
from intake.core.access import can_view_patient, require, role_required
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.core.web import show_domain_error
from intake.eligibility import queries, services
from intake.eligibility.forms import ConsentSignForm, WithdrawForm
from intake.eligibility.models import ConsentKind, Outcome, Questionnaire, QuestionnaireStatus
from intake.eligibility.question_bank import YES, YES_NO, answer_text, progress, visible_questions
from intake.eligibility.views import bp
from intake.eligibility.views._common import (
    STAFF_VIEWERS,
    SUMMARY_PAGE,
    _kind_or_404,
    _missing_texts,
    _signature_limit,
    _step_action,
    book_url,
    kind_title,
    lang,
    me,
    my_course,
    show_answer,
)
from intake.extensions import db, limiter
from intake.scheduling import waitlist_services

# --------------------------------------------------------------------------- the journey


@bp.get("/journey")
@role_required(Role.PATIENT)
def journey():
    data = queries.patient_journey(me(), today=services.clinic_today())
    questionnaire = data["questionnaire"]
    reasons = services.reason_texts(questionnaire.reasons) if questionnaire else []
    return render_template(
        "eligibility/journey.html",
        **data,
        reasons=reasons,
        panel_missing=_missing_texts(data["gate"], prefix="panel_"),
        step_action=_step_action,
        book_url=book_url(),
        lang=lang(),
        Outcome=Outcome,
        QuestionnaireStatus=QuestionnaireStatus,
        ConsentKind=ConsentKind,
        kind_title=kind_title,
    )


# --------------------------------------------------------------------------- questionnaire


def _patient_draft() -> Questionnaire | None:
    """The patient's editable questionnaire, or None when they may start one.
    Answers with the doctor send them to the journey."""
    current = queries.current_questionnaire(my_course().id)
    if current is None or current.status == QuestionnaireStatus.DECLINED:
        return None
    if current.is_editable:
        return current
    flash(_("Your answers have been sent to the doctor."), "info")
    abort(redirect(url_for("eligibility.journey")))


@bp.get("/questionnaire")
@role_required(Role.PATIENT)
def questionnaire():
    draft = _patient_draft()
    if draft is not None and draft.current_page == SUMMARY_PAGE:
        return redirect(url_for("eligibility.questionnaire_summary"))
    data = services.questionnaire_data(draft)
    codes = [p.code for p in data.pages]
    page = draft.current_page if draft is not None and draft.current_page in codes else codes[0]
    return redirect(url_for("eligibility.questionnaire_page", page_code=page))


@bp.route("/questionnaire/<page_code>", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def questionnaire_page(page_code: str):
    draft = _patient_draft()
    data = services.questionnaire_data(draft)
    if page_code not in [p.code for p in data.pages]:
        abort(404)
    answers = dict(draft.answers) if draft is not None else {}
    values: dict = answers
    errors: dict[str, str] = {}
    if request.method == "POST":
        direction = request.form.get("action", "next")
        if direction not in ("next", "back", "stay"):
            direction = "next"
        raw = {q.code: request.form.get(q.code, "") for q in data.page(page_code).questions}
        try:
            saved = services.save_page(
                me(), page_code, raw, actor=current_user, direction=direction
            )
        except services.AnswersInvalid as exc:
            db.session.rollback()
            errors = exc.errors
            values = {**answers, **raw}
            flash(exc.message, "danger")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            return redirect(url_for("eligibility.journey"))
        else:
            db.session.commit()
            if direction == "stay":
                flash(_("Your answers are saved. You can come back at any time."), "success")
                return redirect(url_for("eligibility.journey"))
            if saved.current_page == SUMMARY_PAGE:
                return redirect(url_for("eligibility.questionnaire_summary"))
            return redirect(url_for("eligibility.questionnaire_page", page_code=saved.current_page))
    page = data.page(page_code)
    shown = _displayed_questions(data, page, values)
    codes = [p.code for p in data.pages]
    answered, total = progress(data, values)
    previous_page = services.neighbour_page(data, values, page_code, -1)
    return render_template(
        "eligibility/questionnaire_page.html",
        page=page,
        questions=shown,
        values={code: _as_text(value) for code, value in values.items()},
        errors=errors,
        hints={q.code: _condition_hint(data, q) for q in shown if q.show_if},
        show_if_json=_show_if_json,
        lang=lang(),
        page_number=codes.index(page_code) + 1,
        page_count=len(codes),
        answered=answered,
        total=total,
        previous_page=previous_page,
        is_returned=draft is not None and draft.status == QuestionnaireStatus.RETURNED,
    )


def _as_text(value) -> str:
    """A stored or typed answer for a form field; typed text is kept as typed."""
    return value if isinstance(value, str) else answer_text(value)


def _displayed_questions(data, page, values) -> list:
    """The page's questions to show: those asked given the answers so far, plus
    those that depend only on answers on this same page (shown with a hint, and
    hidden by the page's script until the answer they depend on is given)."""
    asked = {q.code for q in visible_questions(data, values, page.code)}
    own = {q.code for q in page.questions}
    return [
        q
        for q in page.questions
        if q.code in asked or (q.show_if and all(c.question in own for c in q.show_if))
    ]


def _condition_hint(data, question) -> str:
    answers = []
    for condition in question.show_if:
        target = data.question(condition.question)
        labels = []
        for value in condition.values:
            if target.kind == YES_NO:
                labels.append(_("Yes") if value == YES else _("No"))
            else:
                choice = next((c for c in target.choices if c.code == value), None)
                labels.append(choice.label(lang()) if choice else value)
        answers.append("“" + " / ".join(labels) + "”")
    return _("Only if your answers above were: %(answers)s", answers=" → ".join(answers))


def _show_if_json(question) -> str:
    return json.dumps([{"question": c.question, "in": list(c.values)} for c in question.show_if])


@bp.get("/questionnaire/review")
@role_required(Role.PATIENT)
def questionnaire_summary():
    draft = _patient_draft()
    data = services.questionnaire_data(draft)
    answers = dict(draft.answers) if draft is not None else {}
    incomplete = {p.code for p in services.incomplete_pages(data, answers, services.clinic_today())}
    last_decision = queries.last_decision_for(draft.id) if draft is not None else None
    return render_template(
        "eligibility/questionnaire_summary.html",
        data=data,
        answers=answers,
        incomplete=incomplete,
        lang=lang(),
        show_answer=show_answer,
        visible_questions=visible_questions,
        last_decision=last_decision,
        has_draft=draft is not None,
    )


@bp.post("/questionnaire/submit")
@role_required(Role.PATIENT)
def questionnaire_submit():
    try:
        services.submit_questionnaire(me(), actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("eligibility.questionnaire_summary"))
    db.session.commit()
    flash(_("Thank you. Your answers have been sent to the doctor."), "success")
    return redirect(url_for("eligibility.journey"))


@bp.get("/questionnaires/<int:questionnaire_id>")
@role_required(Role.PATIENT, *STAFF_VIEWERS)
def questionnaire_detail(questionnaire_id: int):
    record = queries.questionnaire_with_patient(questionnaire_id)
    if record is None:
        abort(404)
    require(can_view_patient(current_user, record.patient))
    if current_user.is_staff and record.status != QuestionnaireStatus.DRAFT:
        return redirect(url_for("eligibility.review", questionnaire_id=record.id))
    data = services.questionnaire_data(record)
    return render_template(
        "eligibility/questionnaire_detail.html",
        record=record,
        data=data,
        answers=record.answers,
        lang=lang(),
        show_answer=show_answer,
        visible_questions=visible_questions,
        reasons=services.reason_texts(record.reasons),
    )


# --------------------------------------------------------------------------- consent


@bp.get("/consent")
@role_required(Role.PATIENT)
def consent():
    signatures = queries.latest_signatures(my_course().id)
    return render_template(
        "eligibility/consent.html",
        kinds=list(ConsentKind),
        signatures=signatures,
        history=queries.signature_history(me().id),
        kind_title=kind_title,
    )


@bp.route("/consent/<kind>", methods=["GET", "POST"])
@role_required(Role.PATIENT)
@limiter.limit(_signature_limit, methods=["POST"])
def consent_sign(kind: str):
    consent_kind = _kind_or_404(kind)
    document = queries.document_for(consent_kind, lang())
    signature = queries.latest_signatures(my_course().id).get(consent_kind)
    form = ConsentSignForm()
    if document is not None and form.validate_on_submit():
        if str(document.id) != (form.document_id.data or ""):
            flash(
                _("A newer version of this document has been published. Please read it again."),
                "warning",
            )
        else:
            try:
                services.sign_consent(
                    me(),
                    document,
                    actor=current_user,
                    password=form.password.data,
                    ip_address=request.remote_addr,
                    fingerprint=form.fingerprint.data or None,
                )
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                db.session.commit()
                flash(
                    _("Thank you. Your consent is signed; a copy is in your messages."), "success"
                )
                return redirect(url_for("eligibility.journey"))
    if document is not None:
        form.document_id.data = str(document.id)
        form.fingerprint.data = services.text_fingerprint(document)
    form.password.data = ""
    return render_template(
        "eligibility/consent_sign.html",
        kind=consent_kind,
        document=document,
        signature=signature,
        form=form,
        kind_title=kind_title,
        meaning=services.consent_meaning(document, me().full_name) if document else "",
        fingerprint=services.text_fingerprint(document) if document else "",
        now=utcnow(),
    )


@bp.route("/consent/<kind>/withdraw", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def consent_withdraw(kind: str):
    consent_kind = _kind_or_404(kind)
    signature = queries.latest_signatures(my_course().id).get(consent_kind)
    if signature is None or signature.is_withdrawn:
        flash(_("There is no signed consent to withdraw."), "info")
        return redirect(url_for("eligibility.consent"))
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw_consent(
                me(), consent_kind, actor=current_user, reason=form.reason.data
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            waitlist_services.offer_after_commit()  # the freed days, the wish ended
            flash(_("Your consent is withdrawn. Nothing further will be booked."), "info")
            return redirect(url_for("eligibility.journey"))
    return render_template(
        "eligibility/consent_withdraw.html",
        kind=consent_kind,
        signature=signature,
        form=form,
        kind_title=kind_title,
    )


@bp.get("/consent/signatures/<int:signature_id>")
@role_required(Role.PATIENT, *STAFF_VIEWERS)
def consent_signature(signature_id: int):
    signature = queries.signature_with_document(signature_id)
    if signature is None:
        abort(404)
    require(can_view_patient(current_user, signature.patient))
    return render_template(
        "eligibility/consent_signature.html", signature=signature, kind_title=kind_title
    )
