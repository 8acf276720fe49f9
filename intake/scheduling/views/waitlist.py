"""The collection waitlist: a patient joins with the weeks that suit them,
sees their place in line and an offered day, accepts, declines or leaves;
the clinic staff see the line."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intake.accounts.roles import DESK_ROLES, Role
from intake.core import settings
from intake.core.access import require, role_required
from intake.core.errors import DomainError
from intake.core.types import utcnow
from intake.core.web import show_domain_error
from intake.errors import error_page
from intake.extensions import db
from intake.scheduling import queries
from intake.scheduling import waitlist_services as waitlist
from intake.scheduling.forms import WaitlistActionForm, WaitlistJoinForm
from intake.scheduling.models import OfferStatus, WaitlistOffer
from intake.scheduling.views import bp
from intake.scheduling.views._common import _gate_missing, _gate_texts, day_label, long_day_label

_WEEK = timedelta(days=6)  # Monday to Sunday


def _collection_or_404(code: str):
    vt = queries.visit_type_by_code(code)
    if vt is None or not vt.is_active or not vt.is_patient_bookable or vt.kind != "collection":
        return None
    return vt


@bp.route("/waitlist/join/<visit_type>", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def waitlist_join(visit_type: str):
    vt = _collection_or_404(visit_type)
    if vt is None:
        return error_page(404, _("This visit has no waitlist."))
    patient = current_user.patient
    if waitlist.waiting_entry(patient) is not None:
        return redirect(url_for("scheduling.waitlist_page"))
    missing = _gate_missing(patient, vt)
    if missing is not None:
        return render_template("scheduling/book.html", vt=vt, missing=missing)
    now = utcnow()
    choices = waitlist.week_choices(patient, now)
    form = WaitlistJoinForm()
    has_trips = any(c.fits_trips is not None for c in choices)
    if request.method == "GET":
        form.weeks.data = [c.monday.isoformat() for c in choices if c.fits_trips]
        form.fit_trips.data = has_trips
    if form.validate_on_submit():
        try:
            waitlist.join(
                patient,
                vt.code,
                form.weeks.data or [],
                fit_trips=bool(form.fit_trips.data) and has_trips,
                actor=current_user,
                now=now,
            )
        except waitlist.services.GateClosed as exc:
            db.session.rollback()
            return render_template("scheduling/book.html", vt=vt, missing=_gate_texts(exc.missing))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            waitlist.offer_after_commit()
            flash(_("You are on the waitlist. We will write to you when a day frees."), "success")
            return redirect(url_for("scheduling.waitlist_page"))
    status = 422 if form.errors else 200
    page = render_template(
        "scheduling/waitlist_join.html",
        vt=vt,
        form=form,
        choices=[(c, long_day_label(c.monday), long_day_label(c.sunday)) for c in choices],
        chosen=set(form.weeks.data or []),
        has_trips=has_trips,
        offer_hours=settings.get("waitlist_offer_hours"),
    )
    return page, status


@bp.get("/waitlist")
@role_required(Role.PATIENT)
def waitlist_page():
    patient = current_user.patient
    entry = waitlist.waiting_entry(patient)
    offer = waitlist.open_offer(entry) if entry is not None else None
    now = utcnow()
    if offer is not None and offer.expires_at <= now:
        offer = None  # its time is over; the next run ends it
    collection = queries.visit_type_of_kind("collection")
    return render_template(
        "scheduling/waitlist.html",
        entry=entry,
        position=waitlist.position_of(entry) if entry is not None else None,
        weeks=[
            (long_day_label(m), long_day_label(m + _WEEK)) for m in sorted(waitlist._weeks(entry))
        ]
        if entry is not None
        else [],
        offer=offer,
        offer_day=long_day_label(offer.day) if offer is not None else None,
        form=WaitlistActionForm(),
        collection=collection,
    )


def _own_offer(offer_id: int) -> WaitlistOffer:
    offer = waitlist.offer_of(offer_id)
    own = current_user.patient
    require(offer is not None and own is not None and offer.entry.patient_id == own.id)
    return offer


@bp.post("/waitlist/offers/<int:offer_id>/accept")
@role_required(Role.PATIENT)
def waitlist_accept(offer_id: int):
    offer = _own_offer(offer_id)
    form = WaitlistActionForm()
    if not form.validate_on_submit():
        flash(_("Please try again."), "warning")
        return redirect(url_for("scheduling.waitlist_page"))
    if offer.status == OfferStatus.ACCEPTED and offer.appointment_id is not None:
        # Sent twice: the first send booked it.
        flash(_("Booked. We have sent you a confirmation with a calendar file."), "success")
        return redirect(url_for("scheduling.my_visits"))
    try:
        waitlist.accept(offer, actor=current_user)
    except waitlist.Taken as exc:
        db.session.commit()  # the offer is marked taken; the patient keeps their place
        flash(exc.message, "warning")
        waitlist.offer_after_commit()
        return redirect(url_for("scheduling.waitlist_page"))
    except DomainError as exc:
        db.session.rollback()
        db.session.refresh(offer)
        if offer.status == OfferStatus.ACCEPTED and offer.appointment_id is not None:
            flash(_("Booked. We have sent you a confirmation with a calendar file."), "success")
            return redirect(url_for("scheduling.my_visits"))
        flash(exc.message, "danger")
        return redirect(url_for("scheduling.waitlist_page"))
    db.session.commit()
    flash(_("Booked. We have sent you a confirmation with a calendar file."), "success")
    return redirect(url_for("scheduling.my_visits"))


@bp.post("/waitlist/offers/<int:offer_id>/decline")
@role_required(Role.PATIENT)
def waitlist_decline(offer_id: int):
    offer = _own_offer(offer_id)
    form = WaitlistActionForm()
    if form.validate_on_submit():
        try:
            waitlist.decline(offer, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Declined. You keep your place on the waitlist."), "success")
            waitlist.offer_after_commit()
    return redirect(url_for("scheduling.waitlist_page"))


@bp.post("/waitlist/leave")
@role_required(Role.PATIENT)
def waitlist_leave():
    form = WaitlistActionForm()
    entry = waitlist.waiting_entry(current_user.patient)
    if entry is not None and form.validate_on_submit():
        try:
            waitlist.leave(entry, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("You have left the waitlist."), "success")
            waitlist.offer_after_commit()
    return redirect(url_for("scheduling.waitlist_page"))


@bp.get("/desk/waitlist")
@role_required(*DESK_ROLES, Role.MANAGER)
def waitlist_desk():
    entries = waitlist.line()
    offers = waitlist.open_offers_of([e.id for e in entries])
    return render_template(
        "scheduling/waitlist_desk.html",
        entries=entries,
        offers=offers,
        weeks={
            e.id: [_("week of %(day)s", day=day_label(m)) for m in sorted(waitlist._weeks(e))]
            for e in entries
        },
        can_open=current_user.role in DESK_ROLES,
    )
