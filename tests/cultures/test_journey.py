"""What the patient sees of the culture: day N of about 28-42, a progress
bar and the next step, nothing of the lab's internals."""

from __future__ import annotations

from datetime import date

import pytest

from intake.cultures.lifecycle import BatchState
from intake.patients import journey as pure

APPROVED = dict(
    questionnaire_status="approved",
    treatment_consent_signed=True,
    cross_border_consent_signed=True,
    collection_status="completed",
)


@pytest.mark.parametrize(
    ("state", "current"),
    [
        (None, "culture"),
        ("received", "culture"),
        ("in_culture", "culture"),
        # Grown and released: the next step is confirming the reinfusion date.
        ("released", "reinfusion_date"),
        ("failed", "book"),
        ("discarded", "book"),
    ],
)
def test_the_culture_step_follows_the_batch(state, current):
    facts = pure.CourseFacts(**APPROVED, batch_state=state, culture_day=17)
    assert pure.journey(facts, today=date(2026, 5, 1)).current == current


def test_the_progress_is_capped():
    assert pure.CourseFacts(culture_day=21, culture_window=(28, 42)).culture_percent == 50
    assert pure.CourseFacts(culture_day=60).culture_percent == 100


@pytest.mark.parametrize(
    ("locale", "text"),
    [("en", "Your cells: day 17 of about 28–42"), ("zh_Hans", "您的细胞：第17天")],
)
def test_the_patient_sees_the_day_and_no_lab_internals(
    client, make_approved_patient, make_batch, locale, text
):
    from tests.conftest import log_in

    user = make_approved_patient(locale=locale)
    batch = make_batch(patient=user.patient, days_ago=17, counts=((2, 10**6), (9, 10**7)))
    log_in(client, user)
    with client.get("/journey") as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert text in body and 'id="your-cells"' in body
    assert batch.coi not in body and "10,000,000" not in body


def test_released_cells_are_ready(client, make_approved_patient, make_batch):
    from tests.conftest import log_in

    user = make_approved_patient()
    make_batch(patient=user.patient, days_ago=30, state=BatchState.RELEASED)
    log_in(client, user)
    with client.get("/journey") as r:
        assert "Your cells are ready." in r.get_data(as_text=True)
