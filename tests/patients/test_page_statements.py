"""The patient's own pages send a fixed number of statements whatever the
clinic holds: more messages, more patients and more courses add none."""

from __future__ import annotations

import pytest

from intake.accounts.roles import Role
from intake.extensions import db
from intake.notifications.models import DeliveryStatus, Message


def _statements(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        with client.get(url) as r:
            assert r.status_code == 200
    return len(statements)


# The home page works the journey out once (it was twice: 20 statements).
@pytest.mark.parametrize(("url", "most"), [("/me", 12), ("/journey", 13)])
def test_a_patients_page_sends_a_fixed_number_of_statements(
    client, login_as, make_user, make_approved_patient, count_queries, url, most
):
    me = login_as(Role.PATIENT)
    few = _statements(client, count_queries, url)
    for n in range(12):
        db.session.add(
            Message(
                user_id=me.id if n % 2 else None,
                template="t",
                locale="en",
                to_address="a@b.example",
                subject="s",
                body="b",
                status=DeliveryStatus.SENT,
            )
        )
    for _ in range(3):
        make_user(Role.PATIENT)
        make_approved_patient()
    db.session.commit()
    more = _statements(client, count_queries, url)
    assert more == few <= most


def test_the_worklist_reads_no_questionnaires_answers(
    client, login_as, make_approved_patient, count_queries
):
    """Every open course's questionnaire is read for its status; its answers
    (a large document each) are not."""
    make_approved_patient()
    login_as(Role.DOCTOR)
    with count_queries() as statements:
        with client.get("/worklist") as r:
            assert r.status_code == 200
    (read,) = [s for s in statements if "FROM questionnaires" in s]
    assert "questionnaires.status" in read
    assert "questionnaires.answers" not in read and "questionnaires.reasons" not in read
