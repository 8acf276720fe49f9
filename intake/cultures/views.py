"""The lab over HTTP: the board, a batch's page and its forms, and the desk's
"collection completed" form that makes the batch.

Each handler: load → check access → validate the form → one service call →
commit → redirect; on ``DomainError``: roll back and show the message beside
its field. Lab users write; coordinators, doctors and managers read.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from intake.accounts.roles import CLINICAL_ROLES, DESK_ROLES, Role
from intake.core.access import require, role_required
from intake.core.errors import DomainError
from intake.core.text import N_
from intake.core.types import utcnow
from intake.core.web import MAX_PAGE, query_int, show_domain_error
from intake.cultures import coi, forms, labels, lifecycle, queries, services
from intake.cultures.lifecycle import STATE_LABELS, BatchState, QcItem
from intake.cultures.models import EVENT_LABELS, TISSUE_UNIT_LABELS, Batch, EventKind
from intake.extensions import db
from intake.scheduling import queries as scheduling_queries
from intake.scheduling import waitlist_services
from intake.scheduling.models import Appointment
from intake.scheduling.visit_kinds import VisitKind

bp = Blueprint("cultures", __name__, url_prefix="/lab")

READERS = (Role.LAB, *CLINICAL_ROLES)

QC_LABELS = {
    QcItem.STERILITY: N_("Sterility (negative / positive)"),
    QcItem.MYCOPLASMA: N_("Mycoplasma (negative / positive)"),
    QcItem.ENDOTOXIN: N_("Endotoxin (EU/mL)"),
    QcItem.VIABILITY: N_("Viability (%)"),
    QcItem.CELL_COUNT: N_("Cell count (cells)"),
}

TRANSITION_LABELS = {
    BatchState.IN_CULTURE: N_("Start the culture"),
    BatchState.HARVEST_READY: N_("Ready to harvest"),
    BatchState.QC_PENDING: N_("Send to QC"),
    BatchState.RELEASED: N_("Release"),
    BatchState.CRYOPRESERVED: N_("Cryopreserve"),
    BatchState.ADMINISTERED: N_("Mark as administered"),
    BatchState.FAILED: N_("Fail the batch"),
    BatchState.DISCARDED: N_("Discard the batch"),
}

EVENT_ORDER = ("passage", "medium_change", "cell_count", "observation", "qc_result", "custody")


def _today():
    return scheduling_queries.clinic_calendar().today(utcnow())


def _tz():
    return scheduling_queries.clinic_calendar().tz


def _batch(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    require(batch is not None)
    return batch


# --------------------------------------------------------------------------- the board


@bp.get("")
@role_required(*READERS)
def board():
    state = request.args.get("state") or None
    if queries.board_states(state) is None:
        abort(404)
    sort = "-day" if request.args.get("sort") == "-day" else "day"
    page = query_int("page", maximum=MAX_PAGE, default=1)
    data = queries.lab_board(today=_today(), state=state, sort=sort, page=page)
    tr = get_translations().ugettext  # one catalogue look-up for every row
    return render_template(
        "cultures/board.html",
        **data,
        occupancy=queries.incubator_occupancy(today=_today()),
        state=state,
        sort=sort,
        open_states=lifecycle.OPEN,
        stock_state=queries.STOCK_STATES[0].value,
        state_labels=STATE_LABELS,
        # Translated once per page, not once per row.
        state_names={s: tr(label) for s, label in STATE_LABELS.items()},
        event_names={k: tr(label) for k, label in EVENT_LABELS.items()},
        day_text=tr(N_("Day %(day)s of %(start)s–%(end)s")),
        tr=tr,
    )


# --------------------------------------------------------------------------- one batch


def _event_forms(page: dict, batch: Batch, posted: str | None = None, form=None) -> dict:
    built = {}
    correct = request.args.get("correct", type=int)
    for kind in EVENT_ORDER:
        f = form if kind == posted else forms.EVENT_FORMS[kind](formdata=None)
        if kind == "qc_result":
            f.qc_item.choices = [SelectChoice(i.value, _(QC_LABELS[i])) for i in QcItem]
        if kind == "passage" and f.passage_number.data is None:
            f.passage_number.data = page["passage_next"]
        built[kind] = f
    if correct:
        event = db.session.get(services.BatchEvent, correct)
        if event is not None and event.batch_id == batch.id and event.kind.value in built:
            f = built[event.kind.value]
            f.corrects_id.data = str(event.id)
            for name in ("person", "from_place", "to_place", "passage_number", "cells"):
                if hasattr(f, name):
                    getattr(f, name).data = getattr(event, name)
            if hasattr(f, "viability_percent"):
                f.viability_percent.data = event.viability_percent
            if hasattr(f, "qc_item"):
                f.qc_item.data, f.qc_value.data = event.qc_item, event.qc_value
            f.occurred_at.data = event.occurred_at.astimezone(_tz()).replace(tzinfo=None)
    return built


def _render_batch(batch: Batch, *, posted=None, form=None, receive_form=None, transition_form=None):
    page = queries.batch_page(batch, today=_today())
    status = 422 if form is not None or receive_form is not None or transition_form else 200
    return (
        render_template(
            "cultures/batch.html",
            batch=batch,
            **page,
            event_forms=_event_forms(page, batch, posted, form),
            receive_form=receive_form or forms.ReceiveForm(formdata=None),
            transition_form=transition_form or forms.TransitionForm(formdata=None),
            posted=posted,
            can_write=current_user.role == Role.LAB,
            state_labels=STATE_LABELS,
            event_labels=EVENT_LABELS,
            qc_labels=QC_LABELS,
            transition_labels=TRANSITION_LABELS,
            tissue_unit_labels=TISSUE_UNIT_LABELS,
            EventKind=EventKind,
            BatchState=BatchState,
            tr=get_translations().ugettext,  # one catalogue look-up for every row
        ),
        status,
    )


@bp.get("/batches/<int:batch_id>")
@role_required(*READERS)
def batch(batch_id: int):
    return _render_batch(_batch(batch_id))


@bp.post("/batches/<int:batch_id>/receive")
@role_required(Role.LAB)
def receive(batch_id: int):
    batch = _batch(batch_id)
    form = forms.ReceiveForm()
    if form.validate_on_submit():
        try:
            services.receive_batch(
                batch,
                received_by=form.received_by.data,
                received_at=form.occurred_at.aware(_tz()),
                condition=form.condition.data,
                actor=current_user,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Received: %(coi)s.", coi=batch.coi), "success")
            return redirect(url_for("cultures.batch", batch_id=batch.id))
    return _render_batch(batch, receive_form=form)


@bp.post("/batches/<int:batch_id>/events/<kind>")
@role_required(Role.LAB)
def record_event(batch_id: int, kind: str):
    batch = _batch(batch_id)
    if kind not in forms.EVENT_FORMS:
        abort(404)
    form = forms.EVENT_FORMS[kind]()
    if kind == "qc_result":
        form.qc_item.choices = [SelectChoice(i.value, _(QC_LABELS[i])) for i in QcItem]
    if form.validate_on_submit():
        fields = {
            name: getattr(form, name).data
            for name in (
                "person",
                "from_place",
                "to_place",
                "passage_number",
                "cells",
                "viability_percent",
                "qc_item",
                "qc_value",
                "note",
            )
            if hasattr(form, name)
        }
        corrects = form.corrects_id.data
        try:
            services.record_event(
                batch,
                kind,
                actor=current_user,
                occurred_at=form.occurred_at.aware(_tz()),
                corrects_id=int(corrects) if corrects and corrects.isdigit() else None,
                **fields,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Recorded: %(what)s.", what=_(EVENT_LABELS[EventKind(kind)])), "success")
            return redirect(url_for("cultures.batch", batch_id=batch.id))
    return _render_batch(batch, posted=kind, form=form)


@bp.post("/batches/<int:batch_id>/transition")
@role_required(Role.LAB)
def transition(batch_id: int):
    batch = _batch(batch_id)
    form = forms.TransitionForm()
    if form.validate_on_submit():
        try:
            services.transition_batch(
                batch, form.target.data, actor=current_user, reason=form.reason.data
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            if batch.state == BatchState.FAILED:  # its incubator place is free again
                waitlist_services.offer_after_commit()
            flash(
                _("%(coi)s: %(state)s.", coi=batch.coi, state=_(STATE_LABELS[batch.state])),
                "success",
            )
            return redirect(url_for("cultures.batch", batch_id=batch.id))
    return _render_batch(batch, transition_form=form)


# --------------------------------------------------------------------------- labels

#: Label layouts (``?layout=``): one 62 mm label (a label printer's roll) or an
#: A4 sheet of labels (2 columns by 7 rows).
LAYOUTS = {"62mm": 1, "a4": 14}


@bp.get("/batches/<int:batch_id>/label")
@role_required(*READERS)
def label(batch_id: int):
    batch = _batch(batch_id)
    layout = request.args.get("layout")
    layout = layout if layout in LAYOUTS else "62mm"
    number = coi.parse(batch.coi)
    # segno's SVG holds only paths made from the number: no text of anyone's.
    qr = Markup(labels.qr_svg(number))  # noqa: S704  # nosec B704
    return render_template(
        "cultures/label.html",
        batch=batch,
        patient=batch.patient,
        number=coi.format(number),
        qr=qr,
        layout=layout,
        copies=range(LAYOUTS[layout]),
    )


# --------------------------------------------------------------------------- identity check


@bp.route("/identity-check", methods=["GET", "POST"])
@role_required(*READERS)
def identity_check():
    """The lab scans or types a number, enters the patient's identifiers and
    is told MATCH or MISMATCH. Others may open the page; only the lab checks."""
    if request.method == "POST" and current_user.role != Role.LAB:
        abort(403)
    form = forms.IdentityCheckForm()
    if request.method == "GET" and not form.number.data:
        form.number.data = (request.args.get("number") or "")[: coi.MAX_INPUT] or None
    result = batch = None
    if form.validate_on_submit():
        try:
            number = coi.parse(form.number.data)
        except coi.CoiError as exc:
            form.number.errors = [*form.number.errors, exc.text(_)]
        else:
            batch = queries.batch_by_number(number)
            if batch is None:
                form.number.errors = [
                    *form.number.errors,
                    _("No batch has the number %(coi)s.", coi=coi.format(number)),
                ]
            else:
                try:
                    matched = services.check_identity(
                        batch,
                        name=form.name.data,
                        date_of_birth=form.date_of_birth.data,
                        actor=current_user,
                    )
                except DomainError as exc:
                    show_domain_error(form, exc)
                    batch = None
                else:
                    db.session.commit()
                    result = "match" if matched else "mismatch"
    status = 422 if form.errors else 200
    return render_template(
        "cultures/identity_check.html",
        form=form,
        result=result,
        batch=batch,
        can_write=current_user.role == Role.LAB,
    ), status


# --------------------------------------------------------------------------- the desk


def _collection(appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    require(appointment is not None and appointment.visit_type.kind == VisitKind.COLLECTION)
    return appointment


@bp.route("/collections/<int:appointment_id>/complete", methods=["GET", "POST"])
@role_required(*DESK_ROLES)
def complete_collection(appointment_id: int):
    appointment = _collection(appointment_id)
    form = forms.CollectionForm()
    if form.validate_on_submit():
        try:
            batch = services.complete_collection(
                appointment,
                collected_by=form.collected_by.data,
                tissue_amount=form.tissue_amount.data,
                tissue_unit=form.tissue_unit.data,
                blood_volume_ml=form.blood_volume_ml.data,
                actor=current_user,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "Visit completed: %(name)s. Batch %(coi)s is expected in the lab.",
                    name=appointment.patient.full_name,
                    coi=batch.coi,
                ),
                "success",
            )
            return redirect(url_for("scheduling.desk_visit", appointment_id=appointment.id))
    status = 422 if form.errors else 200
    return render_template(
        "cultures/complete_collection.html", appointment=appointment, form=form
    ), status
