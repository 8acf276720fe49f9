"""The manager's lists (indications, consent documents) and the CLI."""

from __future__ import annotations

import click
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from intake.accounts.forms import language_choices
from intake.accounts.roles import Role
from intake.core.access import role_required
from intake.core.errors import DomainError
from intake.core.web import show_domain_error
from intake.eligibility import queries, services
from intake.eligibility.forms import ConsentPublishForm, IndicationForm
from intake.eligibility.models import ConsentKind, Indication
from intake.eligibility.question_bank import ROUTES
from intake.eligibility.views import bp
from intake.eligibility.views._common import _route_name, kind_title, lang
from intake.extensions import db

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
                    changes_meaning=form.changes_meaning.data,
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
