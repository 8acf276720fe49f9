"""The manager's tables: calendar feed tokens.

A ``FeedToken`` is the secret in a calendar feed's address
(``/feeds/<token>.ics``) for one resource: a room, a chair, a bed or a staff
member (a staff resource, usually linked to an account). Only the SHA-256 of
the token is stored, so the address is shown once, when the feed is made; a
revoked token keeps its row (who made it, who revoked it, when) and answers 404.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.accounts.models import User
from intake.core.types import utcnow
from intake.extensions import db
from intake.scheduling.models import Resource


class FeedToken(db.Model):
    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Hex SHA-256 of the token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The token's first characters, to tell feeds apart on the page.
    hint: Mapped[str] = mapped_column(String(8))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    resource: Mapped[Resource] = relationship()
    #: The language of the feed's visit names (``en``, ``zh_Hans``, ``ja``).
    locale: Mapped[str] = mapped_column(String(10), default="en")
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    AUDITED = ("hint", "resource_id", "locale", "note", "revoked_at")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<FeedToken {self.id} {self.hint}…>"
