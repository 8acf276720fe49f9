"""Patient intake over HTTP: the questionnaire, the journey, consent, the
doctor's review, panel results and the manager's lists."""

from __future__ import annotations

import json
from datetime import date

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_timedelta, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from intake.accounts.forms import language_choices
from intake.accounts.models import User
from intake.accounts.roles import CLINICAL_ROLES, Role
from intake.core import settings
from intake.core.access import can_view_patient, require, role_required
from intake.core.errors import DomainError, NotAllowed
from intake.core.types import utcnow
from intake.core.web import show_domain_error
from intake.eligibility import queries, services
from intake.eligibility.forms import (
    ConsentPublishForm,
    ConsentSignForm,
    DecisionForm,
    IndicationForm,
    PanelOrderForm,
    PanelResultForm,
    ReviewNotesForm,
    StaffWithdrawForm,
    WithdrawForm,
)
from intake.eligibility.models import (
    ConsentKind,
    Decision,
    Indication,
    Outcome,
    Questionnaire,
    QuestionnaireStatus,
)
from intake.eligibility.question_bank import (
    CHOICE,
    DATE,
    LANGUAGES,
    NUMBER,
    ROUTES,
    TEXT,
    UNIT_YEAR,
    YES,
    YES_NO,
    answer_text,
    is_answered,
    progress,
    visible_questions,
)
from intake.errors import error_page
from intake.extensions import db, limiter

bp = Blueprint("eligibility", __name__)

SUMMARY_PAGE = services.SUMMARY_PAGE
STAFF_VIEWERS = CLINICAL_ROLES  # coordinator, doctor, manager
PANEL_EDITORS = (Role.COORDINATOR, Role.DOCTOR)


# --------------------------------------------------------------------------- helpers


def lang() -> str:
    code = str(get_locale())
    return code if code in LANGUAGES else "en"


def kind_title(kind: ConsentKind) -> str:
    return {
        ConsentKind.TREATMENT: _("Consent to the treatment"),
        ConsentKind.CROSS_BORDER: _("Consent to sending data abroad"),
    }[kind]


def show_answer(question, value) -> str:
    """An answer as the reader's language shows it."""
    if not is_answered(value):
        return ""
    if question.kind == TEXT:
        return str(value).strip()  # the patient's own words, unnormalised
    text = answer_text(value)
    if question.kind == YES_NO:
        return _("Yes") if text.lower() == YES else _("No")
    if question.kind == CHOICE:
        choice = next((c for c in question.choices if c.code == text), None)
        return choice.label(lang()) if choice else text
    if question.kind == DATE:
        try:
            return format_date(date.fromisoformat(text), "medium")
        except ValueError:
            return text
    if question.kind == NUMBER and question.unit and question.unit != UNIT_YEAR:
        return f"{text} {question.unit}"
    return text


def book_url() -> str | None:
    """The scheduling screen that books the collection visit, once it exists."""
    if "scheduling.book" in current_app.view_functions:
        return url_for("scheduling.book", visit_type="collection")
    return None


def _patient_or_404(patient_id: int) -> User:
    patient = db.get_or_404(User, patient_id)
    require(patient.role == Role.PATIENT and can_view_patient(current_user, patient))
    return patient


def _kind_or_404(kind: str) -> ConsentKind:
    try:
        return ConsentKind(kind)
    except ValueError:
        abort(404)


def _missing_texts(gate, items, *, prefix: str = "") -> list[str]:
    """The gate's missing items in the reader's language, tests named in full."""
    names = {item.code: item.label(lang()) for item in items}
    texts = []
    for missing in gate.missing:
        if missing.code.startswith(prefix):
            params = {**missing.params}
            if "item" in params:
                params["item"] = names.get(params["item"], params["item"])
            texts.append(_(missing.message) % params if params else _(missing.message))
    return texts


def _route_name(code: str | None) -> str:
    return services.route_label(code, lang())


def _waiting(since) -> str:
    return format_timedelta(utcnow() - since, threshold=1.0, add_direction=False) if since else ""


@bp.app_template_filter("consent_blocks")
def consent_blocks(text: str) -> list[tuple[str, object]]:
    """A consent body as headings (``## ``), lists (``- ``) and paragraphs."""
    blocks: list[tuple[str, object]] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("## "):
            blocks.append(("heading", line[3:]))
        elif line.startswith("- "):
            if blocks and blocks[-1][0] == "list":
                blocks[-1][1].append(line[2:])
            else:
                blocks.append(("list", [line[2:]]))
        else:
            blocks.append(("paragraph", line))
    return blocks


@bp.app_context_processor
def _eligibility_globals():
    def next_step():
        """The patient's current journey step, for the card on their home page."""
        if not current_user.is_authenticated or current_user.role != Role.PATIENT:
            return None
        data = queries.patient_journey(current_user, today=services.clinic_today())
        code = data["journey"].current
        return {"code": code, "text": _step_action(code)}

    return {"eligibility_next_step": next_step}


def _step_action(code: str) -> str:
    return {
        queries.ANSWER: _("Answer the health questions."),
        queries.REVIEW: _("A doctor is reviewing your answers."),
        queries.CONSULTATION: _("Attend your consultation."),
        queries.PANEL: _("Your blood test results are pending."),
        queries.APPROVAL: _("The doctor is making a decision."),
        queries.CONSENT: _("Please read and sign the consent."),
        queries.BOOK: _("Book your collection visit."),
        queries.DECLINED: _("We are sorry: the treatment is not possible for you now."),
        queries.HALTED: _("Your journey has stopped because you withdrew your consent."),
    }[code]


@bp.errorhandler(NotAllowed)
def _not_allowed(exc):
    db.session.rollback()
    return error_page(403)


# --------------------------------------------------------------------------- the journey


@bp.get("/journey")
@role_required(Role.PATIENT)
def journey():
    data = queries.patient_journey(current_user, today=services.clinic_today())
    questionnaire = data["questionnaire"]
    reasons = services.reason_texts(questionnaire.reasons) if questionnaire else []
    return render_template(
        "eligibility/journey.html",
        **data,
        reasons=reasons,
        panel_missing=_missing_texts(data["journey"].gate, data["panel_items"], prefix="panel_"),
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
    current = queries.current_questionnaire(current_user.id)
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
                current_user, page_code, raw, actor=current_user, direction=direction
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
        services.submit_questionnaire(current_user, actor=current_user)
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
    signatures = queries.latest_signatures(current_user.id)
    return render_template(
        "eligibility/consent.html",
        kinds=list(ConsentKind),
        signatures=signatures,
        history=queries.signature_history(current_user.id),
        kind_title=kind_title,
    )


def _signature_limit() -> str:
    """Signing re-checks a password: limited like logging in."""
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/consent/<kind>", methods=["GET", "POST"])
@role_required(Role.PATIENT)
@limiter.limit(_signature_limit, methods=["POST"])
def consent_sign(kind: str):
    consent_kind = _kind_or_404(kind)
    document = queries.document_for(consent_kind, lang())
    signature = queries.latest_signatures(current_user.id).get(consent_kind)
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
                    current_user,
                    document,
                    actor=current_user,
                    password=form.password.data,
                    ip_address=request.remote_addr,
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
    form.password.data = ""
    return render_template(
        "eligibility/consent_sign.html",
        kind=consent_kind,
        document=document,
        signature=signature,
        form=form,
        kind_title=kind_title,
        meaning=services.consent_meaning(document, current_user.full_name) if document else "",
        now=utcnow(),
    )


@bp.route("/consent/<kind>/withdraw", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def consent_withdraw(kind: str):
    consent_kind = _kind_or_404(kind)
    signature = queries.latest_signatures(current_user.id).get(consent_kind)
    if signature is None or signature.is_withdrawn:
        flash(_("There is no signed consent to withdraw."), "info")
        return redirect(url_for("eligibility.consent"))
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw_consent(
                current_user, consent_kind, actor=current_user, reason=form.reason.data
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
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


# --------------------------------------------------------------------------- doctor review


@bp.get("/reviews")
@role_required(*STAFF_VIEWERS)
def review_queue():
    page = queries.review_queue(request.args.get("page", 1, type=int))
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
        record=record,
        patient=record.patient,
        **data,
        reasons=services.reason_texts(record.reasons),
        missing=_missing_texts(data["gate"], data["panel_items"]),
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
    return _render_review(record, decision=form)


def _staff_withdraw_form(formdata=None) -> StaffWithdrawForm:
    form = StaffWithdrawForm(formdata=formdata, prefix="withdraw")
    form.kind.choices = [SelectChoice(k.value, kind_title(k)) for k in ConsentKind]
    return form


@bp.post("/patients/<int:patient_id>/consent/withdraw")
@role_required(*PANEL_EDITORS)
def staff_withdraw(patient_id: int):
    patient = _patient_or_404(patient_id)
    record = queries.current_questionnaire(patient.id)
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
                flash(_("The withdrawal is recorded; the patient's journey has stopped."), "info")
                return redirect(url_for("eligibility.review", questionnaire_id=record.id))
    return _render_review(record, withdraw=form)


# --------------------------------------------------------------------------- panel results


def _result_form(panel_items, formdata=None) -> PanelResultForm:
    form = PanelResultForm(formdata=formdata)
    form.item_code.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(item.code, item.label(lang())) for item in panel_items
    ]
    return form


@bp.route("/panel/<int:patient_id>", methods=["GET", "POST"])
@role_required(Role.PATIENT, *STAFF_VIEWERS)
def panel(patient_id: int):
    patient = _patient_or_404(patient_id)
    can_edit = current_user.role in PANEL_EDITORS
    posted = request.method == "POST" and can_edit
    form = _result_form(queries.panel_items(), formdata=request.form if posted else None)
    if request.method == "POST":
        if not can_edit:
            abort(403)
        if form.validate():
            try:
                services.enter_panel_result(
                    patient,
                    actor=current_user,
                    item_code=form.item_code.data,
                    test_date=form.test_date.data,
                    result=form.result.data,
                    acceptable=services.ACCEPTABLE_VALUES.get(form.acceptable.data),
                    note=form.note.data,
                )
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                db.session.commit()
                flash(_("Result saved."), "success")
                return redirect(url_for("eligibility.panel", patient_id=patient.id))
    data = queries.panel_page(patient, today=services.clinic_today())
    return render_template(
        "eligibility/panel.html",
        patient=patient,
        form=form,
        can_edit=can_edit,
        **data,
        panel_missing=_missing_texts(data["gate"], data["panel_items"], prefix="panel_"),
        lang=lang(),
        validity_days=settings.get("panel_validity_days"),
        ConsentKind=ConsentKind,
    )


# --------------------------------------------------------------------------- manager


def _indication_form(indication: Indication | None = None, formdata=None) -> IndicationForm:
    form = IndicationForm(formdata=formdata)
    form.routes.choices = [SelectChoice(r.code, _route_name(r.code)) for r in ROUTES]
    if formdata is None and indication is not None:
        form.code.data = indication.code
        form.name_en.data = indication.names.get("en", "")
        form.name_zh_Hans.data = indication.names.get("zh_Hans", "")
        form.name_ja.data = indication.names.get("ja", "")
        form.routes.data = list(indication.routes)
        form.sort_order.data = indication.sort_order
        form.is_active.data = indication.is_active
    return form


def _names(form: IndicationForm) -> dict[str, str]:
    return {"en": form.name_en.data, "zh_Hans": form.name_zh_Hans.data, "ja": form.name_ja.data}


@bp.route("/manager/indications", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def indications():
    form = _indication_form(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            services.create_indication(
                actor=current_user,
                code=form.code.data,
                names=_names(form),
                routes=form.routes.data or [],
                sort_order=form.sort_order.data,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Indication added."), "success")
            return redirect(url_for("eligibility.indications"))
    return render_template(
        "eligibility/indications.html",
        items=queries.indications(active_only=False),
        form=form,
        lang=lang(),
        route_name=_route_name,
    )


@bp.route("/manager/indications/<int:indication_id>", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def indication_edit(indication_id: int):
    indication = db.get_or_404(Indication, indication_id)
    form = _indication_form(indication, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            services.update_indication(
                indication,
                actor=current_user,
                names=_names(form),
                routes=form.routes.data or [],
                is_active=form.is_active.data,
                sort_order=form.sort_order.data,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("eligibility.indications"))
    return render_template(
        "eligibility/indication_edit.html", indication=indication, form=form, lang=lang()
    )


@bp.route("/manager/consents", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def consent_documents():
    form = ConsentPublishForm(formdata=request.form if request.method == "POST" else None)
    form.kind.choices = [SelectChoice(k.value, kind_title(k)) for k in ConsentKind]
    form.locale.choices = language_choices()
    if request.method == "POST" and form.validate():
        try:
            kind = ConsentKind(form.kind.data)
        except ValueError:
            form.kind.errors = [_("Choose a document.")]
        else:
            try:
                document = services.publish_consent_document(
                    actor=current_user,
                    kind=kind,
                    locale=form.locale.data,
                    title=form.title.data,
                    body=form.body.data,
                )
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                db.session.commit()
                flash(_("Version %(n)s is published.", n=document.version), "success")
                return redirect(url_for("eligibility.consent_documents"))
    return render_template(
        "eligibility/consent_documents.html",
        documents=queries.consent_documents(),
        form=form,
        kind_title=kind_title,
    )


# --------------------------------------------------------------------------- CLI


@bp.cli.command("init")
def init_command():
    """Store the default question set, indications, panel and consent texts."""
    added = services.ensure_reference_data()
    db.session.commit()
    for line in added or ["intake reference data already present"]:
        click.echo(line)
