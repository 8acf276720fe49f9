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
    # (the courses' statement also names the newest questionnaire's status,
    # to leave out the declined ones)
    (read,) = [s for s in statements if s.lstrip().startswith("SELECT questionnaires.")]
    assert "questionnaires.status" in read
    for statement in statements:
        assert "questionnaires.answers" not in statement
        assert "questionnaires.reasons" not in statement


def test_the_worklist_names_each_panel_problem(client, login_as, make_approved_patient):
    """The panel lane reads each course's newest results and names the items
    that hold the course up, by kind of problem."""
    from sqlalchemy import select

    from intake.eligibility.models import PanelItemDefinition, PanelResult

    user = make_approved_patient()
    newest = (
        db.session.execute(
            select(PanelResult)
            .where(PanelResult.patient_id == user.patient.id)
            .order_by(PanelResult.id.desc())
        )
        .scalars()
        .all()
    )
    pending, refused = newest[0], newest[1]
    pending.acceptable = None
    refused.acceptable = False
    db.session.commit()
    names = {
        i.code: i.label("en") for i in db.session.execute(select(PanelItemDefinition)).scalars()
    }
    login_as(Role.DOCTOR)
    with client.get("/worklist") as r:
        page = r.get_data(as_text=True)
    lane = page.split('id="lane-panel"', 1)[1].split("</section>", 1)[0]
    assert user.patient.full_name in lane
    assert (
        "waiting for a doctor&#39;s assessment" in lane
        or "waiting for a doctor's assessment" in lane
    )
    assert "not acceptable" in lane
    assert names[pending.item_code] in lane and names[refused.item_code] in lane
