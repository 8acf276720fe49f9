"""The audit trail page: filters read through the shared parsing helpers."""

import pytest

from intake.accounts.roles import Role


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("patient_id=99999999999999999999", "Enter a whole number from 1 to"),
        ("actor_id=-99999999999999999999", "Enter a whole number from 1 to"),
        ("actor_id=12abc", "Enter a whole number."),
        ("patient_id=9223372036854775808", "Enter a whole number from 1 to"),
        ("patient_id=0", "Enter a whole number from 1 to"),
        ("page=99999999999999999999", "Enter a whole number from 1 to 1000000000."),
        # NUL bytes: a 400 before any view (tests/core/test_request_input.py)
    ],
)
def test_bad_filters_are_named_not_a_500(client, login_as, query, message):
    login_as(Role.MANAGER)
    with client.get(f"/audit?{query}") as r:
        assert r.status_code == 200
        assert message in r.get_data(as_text=True)


def test_a_valid_big_id_finds_nothing(client, login_as):
    login_as(Role.MANAGER)
    with client.get("/audit?patient_id=2147483647&page=3") as r:  # the largest id
        assert r.status_code == 200
        assert "No entries match." in r.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        (Role.COORDINATOR, "/desk/book?patient_id=99999999999999999999", 200),
        (Role.COORDINATOR, "/reviews?page=99999999999999999999", 200),
        (Role.PATIENT, "/messages/?page=99999999999999999999", 200),
        (Role.PATIENT, "/messages/99999999999999999999", 404),
        (Role.COORDINATOR, "/desk/visits/99999999999999999999", 404),
        (Role.COORDINATOR, "/desk/visits/9223372036854775807", 404),
    ],
)
def test_numbers_too_big_for_the_database_never_answer_500(client, login_as, role, url, status):
    login_as(role)
    with client.get(url) as r:
        assert r.status_code == status
