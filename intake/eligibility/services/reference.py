"""Reference data: the question set, indications, routes and consent
documents, and seeding them."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy import select

from intake.accounts.models import User
from intake.accounts.roles import Role
from intake.core import audit
from intake.core.errors import DomainError
from intake.core.languages import LANGUAGES, pick
from intake.eligibility import consent_texts, queries
from intake.eligibility.gate import DEFAULT_PANEL_ITEMS
from intake.eligibility.models import (
    ConsentDocument,
    ConsentKind,
    Indication,
    PanelItemDefinition,
    Questionnaire,
    QuestionSet,
)
from intake.eligibility.question_bank import DEFAULT_QUESTION_SET, INDICATIONS, ROUTES
from intake.eligibility.question_bank import QuestionSet as QuestionSetData
from intake.eligibility.services._common import ROUTE_CODES, _clean_text, _require_role
from intake.extensions import db

# --------------------------------------------------------------------------- reference data


def ensure_reference_data(*, actor: User | None = None) -> list[str]:
    """Store question set 1, the indications, the panel items and version 1 of
    each consent document when the clinic has none yet. Idempotent."""
    added: list[str] = []
    if queries.active_question_set() is None:
        db.session.add(_question_set_row(DEFAULT_QUESTION_SET))
        added.append(f"question set version {DEFAULT_QUESTION_SET.version}")
    if not queries.indications(active_only=False):
        for n, item in enumerate(INDICATIONS):
            db.session.add(
                Indication(
                    code=item.code, names=dict(item.names), routes=list(item.routes), sort_order=n
                )
            )
        added.append(f"{len(INDICATIONS)} indications")
    if stored := store_default_panel_items():
        added.append(f"{stored} panel items")
    existing = {(d.kind.value, d.locale) for d in queries.consent_documents()}
    for (kind, locale), (title, body) in consent_texts.DOCUMENTS.items():
        if (kind, locale) not in existing:
            publish_consent_document(
                actor=actor, kind=ConsentKind(kind), locale=locale, title=title, body=body
            )
            added.append(f"consent {kind} {locale} v1")
    db.session.flush()
    return added


def store_default_panel_items() -> int:
    """Store the default panel of DOMAIN.md when the clinic has none yet; returns
    how many were stored. Until then ``queries.panel_items`` shows the defaults
    without storing them: a first change stores them, so adding one test never
    shrinks the panel to that test."""
    if db.session.execute(select(PanelItemDefinition.id).limit(1)).first() is not None:
        return 0
    for n, item in enumerate(DEFAULT_PANEL_ITEMS):
        db.session.add(PanelItemDefinition(code=item.code, names=dict(item.names), sort_order=n))
    db.session.flush()
    return len(DEFAULT_PANEL_ITEMS)


def _question_set_row(data: QuestionSetData) -> QuestionSet:
    return QuestionSet(version=data.version, definition=data.to_dict(), is_active=True)


def _active_question_set() -> QuestionSet:
    row = queries.active_question_set()
    if row is None:
        row = _question_set_row(DEFAULT_QUESTION_SET)
        db.session.add(row)
        db.session.flush()
    return row


def questionnaire_data(questionnaire: Questionnaire | None) -> QuestionSetData:
    row = questionnaire.question_set if questionnaire is not None else queries.active_question_set()
    answered = questionnaire.answers.get("indication") if questionnaire is not None else None
    return queries.question_set_data(row, queries.indications(active_only=False), answered)


def _indication(code: str | None) -> Indication | None:
    if not code:
        return None
    return next((i for i in queries.indications(active_only=False) if i.code == code), None)


def route_label(code: str | None, lang: str) -> str:
    route = next((r for r in ROUTES if r.code == code), None)
    if route is None:
        return code or ""
    return pick(route.names, lang)


def publish_consent_document(
    *,
    actor: User | None,
    kind: ConsentKind,
    locale: str,
    title: str,
    body: str,
    changes_meaning: bool = False,
) -> ConsentDocument:
    """A new version of a consent in one language; the previous one stops
    being current. Signatures of older versions stay valid, unless this
    version ``changes_meaning``: then patients whose course has not reached the
    collection sign again before booking."""
    if actor is not None:
        _require_role(actor, Role.MANAGER, message=_("Only a manager can publish consent texts."))
    if locale not in LANGUAGES:
        raise DomainError(_("Choose a language."), field="locale")
    title_text = _clean_text(title, field="title", required=True, limit=300)
    body_text = _clean_text(body, field="body", required=True, limit=100000)
    documents = [d for d in queries.consent_documents() if d.kind == kind and d.locale == locale]
    version = max((d.version for d in documents), default=0) + 1
    for document in documents:
        document.is_current = False
    document = ConsentDocument(
        kind=kind,
        version=version,
        locale=locale,
        title=title_text,
        body=body_text,
        is_current=True,
        changes_meaning=bool(changes_meaning),
        published_by_id=actor.id if actor else None,
    )
    db.session.add(document)
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.consent_publish",
        entity=document,
        after={
            "kind": kind.value,
            "version": version,
            "locale": locale,
            "title": title_text,
            "changes_meaning": bool(changes_meaning),
        },
    )
    return document


# --------------------------------------------------------------------------- indications

_CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,63}")


def _indication_fields(names: Mapping[str, str], routes: list[str]) -> tuple[dict, list]:
    clean_names = {}
    for lang in LANGUAGES:
        clean_names[lang] = _clean_text(
            names.get(lang), field=f"name_{lang}", required=True, limit=200
        )
    unknown = [r for r in routes if r not in ROUTE_CODES]
    if unknown or not routes:
        raise DomainError(_("Choose at least one route of administration."), field="routes")
    return clean_names, [code for code in ROUTE_CODES if code in routes]


def create_indication(
    *, actor: User, code: str, names: Mapping[str, str], routes: list[str], sort_order: int = 0
) -> Indication:
    _require_role(actor, Role.MANAGER, message=_("Only a manager can change indications."))
    code = (code or "").strip().lower()
    if not _CODE_RE.fullmatch(code):
        raise DomainError(
            _("Use 2 to 64 lower-case letters, digits or underscores, starting with a letter."),
            field="code",
        )
    if _indication(code) is not None:
        raise DomainError(_("This code is already used."), field="code")
    clean_names, clean_routes = _indication_fields(names, routes)
    indication = Indication(
        code=code, names=clean_names, routes=clean_routes, sort_order=sort_order, is_active=True
    )
    db.session.add(indication)
    db.session.flush()
    audit.record(
        actor=actor,
        action="eligibility.indication_create",
        entity=indication,
        after=audit.snapshot(indication, Indication.AUDITED),
    )
    return indication


def update_indication(
    indication: Indication,
    *,
    actor: User,
    names: Mapping[str, str],
    routes: list[str],
    is_active: bool,
    sort_order: int,
) -> Indication:
    _require_role(actor, Role.MANAGER, message=_("Only a manager can change indications."))
    clean_names, clean_routes = _indication_fields(names, routes)
    before = audit.snapshot(indication, Indication.AUDITED)
    indication.names = clean_names
    indication.routes = clean_routes
    indication.is_active = is_active
    indication.sort_order = sort_order
    old, new = audit.changes(before, audit.snapshot(indication, Indication.AUDITED))
    if new:
        audit.record(
            actor=actor,
            action="eligibility.indication_update",
            entity=indication,
            before=old,
            after=new,
        )
    db.session.flush()
    return indication
