"""The manager's overview: active accounts by role and the outbox's waiting
and failed messages, in a fixed number of statements that read only what is
counted (never every message ever sent)."""

from __future__ import annotations

import re

from sqlalchemy import select

from intake.accounts.roles import Role
from intake.extensions import db
from intake.manager import queries
from intake.notifications.models import DeliveryStatus, Message


def _messages(status: DeliveryStatus, n: int) -> None:
    for _ in range(n):
        db.session.add(
            Message(
                template="t",
                locale="en",
                to_address="a@b.example",
                subject="s",
                body="b",
                status=status,
            )
        )
    db.session.commit()


def _page(client) -> str:
    with client.get("/manager") as r:
        assert r.status_code == 200
        return r.get_data(as_text=True)


def _shown(body: str, label: str) -> int:
    return int(re.search(re.escape(label) + r": (\d+)", body).group(1))


def test_the_outbox_counts_are_right_on_the_very_next_request(client, login_as):
    login_as(Role.MANAGER)
    _messages(DeliveryStatus.SENT, 4)
    _messages(DeliveryStatus.PENDING, 2)
    _messages(DeliveryStatus.FAILED, 1)
    body = _page(client)
    assert _shown(body, "Waiting to be sent") == 2
    assert _shown(body, "Failed after retries") == 1
    _messages(DeliveryStatus.PENDING, 1)
    pending = (
        db.session.execute(select(Message).where(Message.status == DeliveryStatus.PENDING))
        .scalars()
        .first()
    )
    pending.status = DeliveryStatus.FAILED
    db.session.commit()
    body = _page(client)
    assert _shown(body, "Waiting to be sent") == 2
    assert _shown(body, "Failed after retries") == 2


def test_active_accounts_by_role_follow_a_change_at_once(client, login_as, make_user):
    manager = login_as(Role.MANAGER)
    before = queries.overview()["by_role"]
    assert before[Role.MANAGER] >= 1
    other = make_user(Role.MANAGER)
    db.session.commit()
    assert queries.overview()["by_role"][Role.MANAGER] == before[Role.MANAGER] + 1
    other.is_active = False
    db.session.commit()
    assert queries.overview()["by_role"][Role.MANAGER] == before[Role.MANAGER]
    assert manager.is_active


def test_a_fixed_number_of_statements_whatever_the_outbox_holds(client, login_as, count_queries):
    login_as(Role.MANAGER)
    _messages(DeliveryStatus.SENT, 2)

    def measure() -> int:
        with count_queries() as statements:
            _page(client)
        return len(statements)

    few = measure()
    _messages(DeliveryStatus.SENT, 40)
    _messages(DeliveryStatus.PENDING, 3)
    assert measure() == few <= 7  # the waitlist card: one statement


def test_the_outbox_count_reads_only_waiting_and_failed_messages(app, login_as, count_queries):
    """The sent messages, most of the table in a clinic in use, are not read:
    the count searches the status index for the two statuses it shows."""
    if db.engine.dialect.name != "sqlite":
        return  # the plan's wording is SQLite's; the statement is the same everywhere
    with count_queries() as statements:
        queries.overview()
    (outbox,) = [s for s in statements if "FROM messages" in s]
    assert "IN" in outbox.upper() and "status" in outbox
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + outbox, ("pending", "failed"))
        plan = " ".join(str(row[-1]) for row in rows)
    assert "SCAN" not in plan.replace("SCAN CONSTANT", ""), plan
    assert "ix_messages_status" in plan, plan
