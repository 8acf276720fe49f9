"""Calendar feeds: the manager's page to make, see and revoke them, and the
public feed address a calendar app subscribes to."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from intake.accounts.roles import Role
from intake.core.access import role_required
from intake.core.errors import DomainError
from intake.core.forms import FlaskForm, NoNul, Required
from intake.core.languages import LANGUAGE_NAMES
from intake.core.types import utcnow
from intake.core.web import show_domain_error
from intake.extensions import db, limiter
from intake.manager import feeds
from intake.manager.models import FeedToken
from intake.scheduling.ics import MIME_TYPE
from intake.scheduling.models import RESOURCE_KIND_LABELS, Resource

bp = Blueprint("feeds", __name__)


class FeedForm(FlaskForm):
    resource_id = SelectField(_l("Resource or staff member"), choices=[], validators=[Required()])
    locale = SelectField(_l("Language of the visit names"), choices=[], validators=[Required()])
    note = StringField(_l("Note (who uses it)"), validators=[Optional(), NoNul(), Length(max=200)])


class RevokeForm(FlaskForm):
    pass


def _choices(form: FeedForm) -> None:
    form.resource_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(r.id), f"{r.label} ({_(RESOURCE_KIND_LABELS[r.kind])})")
        for r in feeds.feedable_resources()
    ]
    form.locale.choices = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
    if not form.locale.data:
        form.locale.data = str(get_locale())


def _page(form: FeedForm, status: int = 200):
    return render_template(
        "manager/feeds.html",
        form=form,
        feeds=feeds.feeds_page(),
        revoke_form=RevokeForm(),
        kind_labels=RESOURCE_KIND_LABELS,
        language_names=LANGUAGE_NAMES,
    ), status


@bp.route("/manager/feeds", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def manage():
    form = FeedForm()
    _choices(form)
    if not form.is_submitted():
        return _page(form)
    if form.validate():
        resource_id = form.resource_id.data
        resource = db.session.get(Resource, int(resource_id)) if resource_id.isdigit() else None
        try:
            feed, token = feeds.create_feed(
                resource, actor=current_user, locale=form.locale.data, note=form.note.data
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            # The token is stored hashed: this page is the one time its address shows.
            return render_template(
                "manager/feeds_created.html",
                feed=feed,
                url=feeds.feed_url(token),
                webcal=feeds.webcal_url(token),
            )
    return _page(form, 400)


@bp.post("/manager/feeds/<int:feed_id>/revoke")
@role_required(Role.MANAGER)
def revoke(feed_id: int):
    feed = db.get_or_404(FeedToken, feed_id)
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        feeds.revoke_feed(feed, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        db.session.commit()
        flash(_("Feed revoked: calendars subscribed to it no longer update."), "success")
    return redirect(url_for("feeds.manage"))


@bp.get("/feeds/<token>.ics")
@limiter.limit("120 per minute")
def feed(token: str):
    """Public: the secret in the address is the key. No session, no cookie needed."""
    found = feeds.find_active(token)
    if found is None:
        abort(404)
    response = Response(feeds.feed_text(found, now=utcnow()), mimetype="text/calendar")
    response.headers["Content-Type"] = MIME_TYPE
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
