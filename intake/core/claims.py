"""Claiming a row once. The scheduled commands (visit reminders, follow-up
invitations) may run in two processes at the same moment; each row is acted
on by whichever sets its stamp first, in one conditional UPDATE."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from intake.extensions import db


def claim_once(row: Any, column: str, value: Any) -> bool:
    """Set ``row.<column>`` from NULL to ``value``; True when this call set it,
    False when another process had already claimed the row."""
    model = type(row)
    claimed = db.session.execute(
        update(model)
        .where(model.id == row.id, getattr(model, column).is_(None))
        .values({column: value})
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    set_committed_value(row, column, value)
    return True
