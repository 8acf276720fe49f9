"""After a decision the doctor's review page tells one story: what the rules
found and what the doctor decided are named as such, the notes the decision
was signed on are shown (not "no notes yet"), and nothing still asks for a
decision."""

from __future__ import annotations

import re
from html import unescape

import pytest

from intake.eligibility import queries, services
from intake.eligibility.demo import NEEDS_REVIEW_ANSWERS, approve
from intake.eligibility.models import Decision
from intake.extensions import db
from tests.conftest import PASSWORD, log_in
from tests.helpers import course_of


def _text(client, url) -> str:
    with client.get(url) as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.mark.parametrize("decision", [Decision.APPROVED, Decision.DECLINED])
def test_the_page_after_a_decision(client, make_submitted, doctor, decision):
    patient = make_submitted(NEEDS_REVIEW_ANSWERS)
    questionnaire = queries.current_questionnaire(course_of(patient).id)
    if decision == Decision.APPROVED:
        approve(
            patient, doctor=doctor, doctor_password=PASSWORD, indication="knee_oa", route="local"
        )
    else:
        services.decide_review(
            questionnaire,
            actor=doctor,
            decision=Decision.DECLINED,
            reason="Not now.",
            password=PASSWORD,
        )
    db.session.commit()
    log_in(client, doctor)
    text = _text(client, f"/reviews/{questionnaire.id}")
    word = "Approved" if decision == Decision.APPROVED else "Declined"
    assert f"The rules found: Needs doctor review The doctor decided: {word}" in text
    assert "This questionnaire has been decided." in text
    assert "No notes yet" not in text
    assert "waiting" not in text.lower()
    assert "Save notes" not in text and "Sign the decision" not in text
    if decision == Decision.APPROVED:
        assert "Video consultation" in text.split("Consultation notes", 1)[1][:300]
