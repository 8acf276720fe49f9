"""The manager's pipeline (courses by journey stage, each number opening its
list) and deadlines pages: read-only, for managers and administrators.

An administrator may not open a patient's record (``access.can_view_patient``):
the lists show them the record number only, without the name or the link."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import gettext
from flask_login import current_user

from intake.accounts.roles import Role
from intake.core.access import role_required
from intake.core.clinic import clinic_today
from intake.core.web import MAX_PAGE, query_int
from intake.eligibility.views._common import kind_title
from intake.manager import deadlines, deadlines_queries, pipeline, pipeline_queries
from intake.reinfusion.models import SERIOUSNESS_LABELS

#: Its own blueprint (URLs under /manager), registered in ``create_app``.
bp = Blueprint("manager_pipeline", __name__)

READERS = (Role.MANAGER, Role.ADMIN)


def _shows_names() -> bool:
    """May the reader see who the patients are (and open their records)?"""
    return current_user.role in (Role.COORDINATOR, Role.DOCTOR, Role.MANAGER)


@bp.get("/manager/pipeline")
@role_required(*READERS)
def overview():
    today = clinic_today()
    return render_template(
        "manager/pipeline.html",
        counts=pipeline_queries.overview(today=today),
        stages=pipeline.STAGES,
        titles=pipeline.STAGE_TITLES,
        weeks=range(1, pipeline.CULTURE_WEEKS + 1),
        last_week=pipeline.CULTURE_WEEKS,
        halted_days=pipeline.HALTED_SHOWN_DAYS,
        today=today,
    )


@bp.get("/manager/pipeline/<stage>")
@role_required(*READERS)
def stage_list(stage: str):
    if stage not in pipeline.STAGES:
        abort(404)
    week = None
    if stage == pipeline.IN_CULTURE:
        week = query_int("week", minimum=1, maximum=pipeline.CULTURE_WEEKS)
    page = query_int("page", maximum=MAX_PAGE, default=1)
    today = clinic_today()
    data = pipeline_queries.stage_list(stage, today=today, page=page, week=week)
    return render_template(
        "manager/pipeline_stage.html",
        stage=stage,
        title=pipeline.STAGE_TITLES[stage],
        shows_names=_shows_names(),
        last_week=pipeline.CULTURE_WEEKS,
        weeks=range(1, pipeline.CULTURE_WEEKS + 1),
        today=today,
        **data,
    )


@bp.get("/manager/deadlines")
@role_required(*READERS)
def deadlines_page():
    today = clinic_today()
    data = deadlines_queries.deadline_items(today=today)
    items = data["items"]
    page = pipeline.paginate(items, query_int("page", maximum=MAX_PAGE, default=1), 50)
    return render_template(
        "manager/deadlines.html",
        page=page,
        patients=data["patients"],
        by_kind=deadlines.count_by_kind(items),
        by_urgency=deadlines.count_by_urgency(items, today),
        kind_titles=deadlines.KIND_TITLES,
        urgency_titles=deadlines.URGENCY_TITLES,
        urgency=lambda item: deadlines.urgency(item.due_on, today),
        days_left=lambda item: deadlines.days_left(item.due_on, today),
        seriousness_labels=SERIOUSNESS_LABELS,
        consent_title=kind_title,
        lookback_days=deadlines.LOOKBACK_DAYS,
        shows_names=_shows_names(),
        translate=gettext,
        today=today,
    )
