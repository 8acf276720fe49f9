"""Rate-limit counters in the clinic's own database, shared by every worker
and every app server (``RATELIMIT_STORAGE_URI = "database://"``).

A ``limits`` storage for Flask-Limiter's fixed-window strategy: one row per
limit key and window, counted up with a single atomic
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (PostgreSQL and SQLite), so
two servers counting the same key at once never lose a hit. Each call runs in
its own short transaction on its own connection, committed at once: a request
that rolls back its own work keeps the hits it was counted.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from limits.storage import Storage
from sqlalchemy import Float, Integer, String, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from intake.extensions import db

SCHEME = "database"
KEY_LENGTH = 255
# Expired rows are deleted every this many increments (per process).
PRUNE_EVERY = 500


class RateLimitCounter(db.Model):
    """One fixed window of one limit key. ``expires_epoch`` is in seconds
    since the epoch, as the ``limits`` package counts time."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_epoch: Mapped[float] = mapped_column(Float(precision=53), index=True)


def _app_engine():
    return db.engine


def stored_key(key: str) -> str:
    """The key as stored: a key longer than the column keeps its start and
    ends in the SHA-256 of the whole, so distinct keys stay distinct."""
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: KEY_LENGTH - len(digest) - 1]}#{digest}"


class DatabaseStorage(Storage):
    """``database://``: the app's database (``db.engine`` of the current app).

    ``engine`` (a callable returning an Engine) and ``clock`` (seconds since
    the epoch) may be passed as storage options, e.g. by tests."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        engine: Callable | None = None,
        clock: Callable[[], float] | None = None,
        **options,
    ):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._engine = engine or _app_engine
        self._clock = clock or time.time
        self._since_prune = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def _insert(self, dialect: str):
        if dialect == "postgresql":
            return postgresql.insert(RateLimitCounter)
        if dialect == "sqlite":
            return sqlite.insert(RateLimitCounter)
        raise NotImplementedError(f"database:// rate limits need PostgreSQL or SQLite: {dialect}")

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits on ``key`` in one statement: a new or expired
        window starts at ``amount`` and ends ``expiry`` seconds from now."""
        key = stored_key(key)
        now = self._clock()
        table = RateLimitCounter.__table__
        engine = self._engine()
        stmt = self._insert(engine.dialect.name).values(
            key=key, hits=amount, expires_epoch=now + expiry
        )
        expired = table.c.expires_epoch <= now
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "hits": case((expired, stmt.excluded.hits), else_=table.c.hits + amount),
                "expires_epoch": case(
                    (expired, stmt.excluded.expires_epoch), else_=table.c.expires_epoch
                ),
            },
        ).returning(table.c.hits)
        with engine.begin() as conn:
            hits = conn.execute(stmt).scalar_one()
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self.prune()
        return hits

    def get(self, key: str) -> int:
        key = stored_key(key)
        table = RateLimitCounter.__table__
        with self._engine().connect() as conn:
            hits = conn.execute(
                select(table.c.hits).where(
                    table.c.key == key, table.c.expires_epoch > self._clock()
                )
            ).scalar()
        return hits or 0

    def get_expiry(self, key: str) -> float:
        key = stored_key(key)
        table = RateLimitCounter.__table__
        now = self._clock()
        with self._engine().connect() as conn:
            expires = conn.execute(
                select(table.c.expires_epoch).where(table.c.key == key, table.c.expires_epoch > now)
            ).scalar()
        return expires if expires is not None else now

    def check(self) -> bool:
        try:
            with self._engine().connect() as conn:
                conn.execute(select(1)).scalar_one()
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        table = RateLimitCounter.__table__
        with self._engine().begin() as conn:
            return conn.execute(delete(table)).rowcount

    def clear(self, key: str) -> None:
        table = RateLimitCounter.__table__
        with self._engine().begin() as conn:
            conn.execute(delete(table).where(table.c.key == stored_key(key)))

    def prune(self) -> int:
        """Delete the windows that have ended; returns how many."""
        table = RateLimitCounter.__table__
        self._since_prune = 0
        with self._engine().begin() as conn:
            result = conn.execute(delete(table).where(table.c.expires_epoch <= self._clock()))
        return result.rowcount
