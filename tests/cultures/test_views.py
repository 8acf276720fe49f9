"""The lab's pages over HTTP: the board, a batch's page and its forms, the
desk's collection form; who may read and who may write."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.cultures.lifecycle import BatchState
from intake.cultures.models import Batch, BatchEvent
from intake.extensions import db
from tests.conftest import log_in


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _local(instant, clinic) -> str:
    return instant.astimezone(clinic.cal.tz).strftime("%Y-%m-%dT%H:%M")


def test_the_lab_lands_on_its_board(client, make_user, clinic):
    user = make_user(Role.LAB)
    with client.post("/login", data={"email": user.email, "password": "Correct-Horse-9"}) as r:
        assert r.status_code == 302
    log_in(client, user)
    with client.get("/") as r:
        assert r.status_code in (200, 302)
    with client.get("/lab") as r:
        assert r.status_code == 200
        assert 'href="/lab"' in r.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.LAB, 200),
        (Role.COORDINATOR, 200),
        (Role.DOCTOR, 200),
        (Role.MANAGER, 200),
        (Role.PATIENT, 403),
        (Role.ADMIN, 403),
    ],
)
def test_who_reads_the_board_and_the_batch(client, login_as, make_batch, role, status):
    batch = make_batch()
    login_as(role)
    with client.get("/lab") as r:
        assert r.status_code == status
    with client.get(f"/lab/batches/{batch.id}") as r:
        assert r.status_code == status
        if status == 200:
            body = r.get_data(as_text=True)
            assert batch.coi in body
            assert (f'action="/lab/batches/{batch.id}/events/passage"' in body) == (
                role == Role.LAB
            )


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.DOCTOR, Role.MANAGER, Role.PATIENT])
def test_only_the_lab_posts(client, login_as, make_batch, clinic, role):
    batch = make_batch()
    login_as(role)
    for url in ("events/medium_change", "transition", "receive"):
        with client.post(f"/lab/batches/{batch.id}/{url}", data={}) as r:
            assert r.status_code == 403
    assert _count(BatchEvent) == 0


def test_the_board_shows_day_progress_risk_and_expected_tissue(client, login_as, make_batch):
    on_track = make_batch(days_ago=10, counts=((2, 10**6), (8, 2 * 10**7)))
    late = make_batch(days_ago=45)
    expected = make_batch(days_ago=0, received=False, state=BatchState.RECEIVED)
    done = make_batch(days_ago=50, state=BatchState.FAILED)
    login_as(Role.LAB)
    with client.get("/lab") as r:
        body = r.get_data(as_text=True)
    assert "Day 10 of 28–42" in body
    assert f'data-batch="{late.id}" data-at-risk="1"' in body
    assert f'data-batch="{on_track.id}" >' in body or f'data-batch="{on_track.id}"' in body
    assert f'data-expected="{expected.id}"' in body
    assert f'data-batch="{done.id}"' not in body
    assert "王丽" in body
    with client.get("/lab?state=received") as r:
        body = r.get_data(as_text=True)
    assert f'data-batch="{expected.id}"' in body and f'data-batch="{late.id}"' not in body
    with client.get("/lab?sort=-day") as r:
        body = r.get_data(as_text=True)
    assert body.index(f'data-batch="{late.id}"') < body.index(f'data-batch="{on_track.id}"')


def test_the_board_takes_a_fixed_number_of_queries(client, login_as, make_batch, count_queries):
    from intake.cultures import queries

    login_as(Role.LAB)
    make_batch(counts=((1, 10**6), (5, 10**7)))

    def measure():
        with count_queries() as statements:
            with client.get("/lab") as r:
                assert r.status_code == 200
        return len(statements)

    small = measure()
    for n in range(55):
        make_batch(days_ago=n % 40, counts=((1, 10**6), (3, 4 * 10**6)))
    assert measure() == small
    db.session.expire_all()
    with count_queries() as statements:
        data = queries.lab_board(today=make_batch.today)
    assert len(data["rows"]) == 56
    assert len(statements) <= 6


def test_receiving_through_the_page(client, login_as, make_batch, clinic):
    batch = make_batch(days_ago=1, received=False, state=BatchState.RECEIVED)
    login_as(Role.LAB)
    when = _local(batch.appointment.start_at + timedelta(hours=2), clinic)
    data = {"received_by": "Tanaka", "occurred_at": when, "condition": "intact, cold"}
    with client.post(f"/lab/batches/{batch.id}/receive", data=data) as r:
        assert r.status_code == 302
    db.session.expire_all()
    assert batch.received_by == "Tanaka" and batch.received_at is not None


def test_receiving_trims_and_refuses_a_name_of_spaces_beside_the_field(
    client, login_as, make_batch, clinic
):
    batch = make_batch(days_ago=1, received=False, state=BatchState.RECEIVED)
    login_as(Role.LAB)
    when = _local(batch.appointment.start_at + timedelta(hours=2), clinic)
    data = {"received_by": " \u3000 ", "occurred_at": when, "condition": "intact"}
    with client.post(f"/lab/batches/{batch.id}/receive", data=data) as r:
        assert r.status_code == 422
        beside = r.get_data(as_text=True).split('id="received_by-error"')[1]
    assert "This field is required." in beside[:200]
    data["received_by"] = "  Tanaka \n"
    with client.post(f"/lab/batches/{batch.id}/receive", data=data) as r:
        assert r.status_code == 302
    db.session.expire_all()
    assert batch.received_by == "Tanaka"


def test_a_cell_count_past_the_whole_number_range_is_refused(client, login_as, make_batch):
    batch = make_batch()
    login_as(Role.LAB)
    before = _count(BatchEvent)
    data = {"cells": "9" * 400, "viability_percent": "90", "occurred_at": "2000-01-01T00:00"}
    with client.post(f"/lab/batches/{batch.id}/events/cell_count", data=data) as r:
        assert r.status_code == 422
        assert 'id="cells-error"' in r.get_data(as_text=True)
    assert _count(BatchEvent) == before


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("cell_count", {"cells": "-5", "viability_percent": "90"}, "whole number above 0"),
        ("cell_count", {"cells": "1000", "viability_percent": "120"}, "0 to 100"),
        ("qc_result", {"qc_item": "endotoxin", "qc_value": "-1"}, "below 0"),
        ("passage", {"passage_number": "1"}, "before the collection"),
    ],
)
def test_bad_input_shows_beside_the_field_and_saves_nothing(
    client, login_as, make_batch, clinic, kind, data, message
):
    batch = make_batch()
    login_as(Role.LAB)
    when = batch.appointment.start_at + (
        timedelta(days=1) if kind != "passage" else -timedelta(days=1)
    )
    with client.post(
        f"/lab/batches/{batch.id}/events/{kind}", data={"occurred_at": _local(when, clinic), **data}
    ) as r:
        body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert message in body and "invalid-feedback" in body
    assert _count(BatchEvent) == 0


def test_a_count_and_a_transition_through_the_page(client, login_as, make_batch, clinic):
    batch = make_batch(state=BatchState.IN_CULTURE)
    login_as(Role.LAB)
    when = _local(batch.appointment.start_at + timedelta(days=3), clinic)
    with client.post(
        f"/lab/batches/{batch.id}/events/cell_count",
        data={"occurred_at": when, "cells": "3000000", "viability_percent": "93.5"},
    ) as r:
        assert r.status_code == 302
    with client.get(f"/lab/batches/{batch.id}") as r:
        body = r.get_data(as_text=True)
    assert "3,000,000 cells, viability 93.50 %" in body
    assert 'data-target="harvest_ready"' in body
    with client.post(f"/lab/batches/{batch.id}/transition", data={"target": "failed"}) as r:
        assert r.status_code == 422
        assert "Please say why the batch failed." in r.get_data(as_text=True)
    with client.post(f"/lab/batches/{batch.id}/transition", data={"target": "harvest_ready"}) as r:
        assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).state == BatchState.HARVEST_READY


def test_release_button_is_blocked_with_the_guards_reasons(client, login_as, make_batch):
    batch = make_batch(state=BatchState.QC_PENDING)
    login_as(Role.LAB)
    with client.get(f"/lab/batches/{batch.id}") as r:
        body = r.get_data(as_text=True)
    assert "The sterility result has not been recorded." in body
    with client.post(f"/lab/batches/{batch.id}/transition", data={"target": "released"}) as r:
        assert r.status_code == 422
    assert db.session.get(Batch, batch.id).state == BatchState.QC_PENDING


def test_the_page_in_chinese(client, login_as, make_batch):
    batch = make_batch()
    login_as(Role.LAB, locale="zh_Hans")
    with client.get(f"/lab/batches/{batch.id}") as r:
        body = r.get_data(as_text=True)
    assert "时间线" in body and "培养" in body


def test_the_desk_completes_a_collection_through_the_collection_form(client, login_as, clinic):
    from intake.scheduling.models import AppointmentStatus
    from tests.cultures.test_services import _collection_today

    desk = login_as(Role.COORDINATOR)
    appointment = _collection_today(clinic, _patient_maker(), desk)
    with client.post(
        f"/desk/visits/{appointment.id}/status", data={"action": "completed", "next": ""}
    ) as r:
        assert r.status_code == 302
        assert r.headers["Location"].endswith(f"/lab/collections/{appointment.id}/complete")
    assert appointment.status == AppointmentStatus.ARRIVED
    url = f"/lab/collections/{appointment.id}/complete"
    with client.post(
        url,
        data={
            "collected_by": "Dr Sato",
            "tissue_amount": "0",
            "tissue_unit": "pieces",
            "blood_volume_ml": "50",
        },
    ) as r:
        assert r.status_code == 422
    assert _count(Batch) == 0
    with client.post(
        url,
        data={
            "collected_by": "Dr Sato",
            "tissue_amount": "3",
            "tissue_unit": "pieces",
            "blood_volume_ml": "50",
        },
    ) as r:
        assert r.status_code == 302
    batch = db.session.execute(select(Batch)).scalar_one()
    assert batch.appointment_id == appointment.id and batch.is_expected
    login_as(Role.LAB)
    with client.get("/lab") as r:
        assert f'data-expected="{batch.id}"' in r.get_data(as_text=True)


def _patient_maker():
    from intake.patients.services import create_patient

    def make(**overrides):
        patient = create_patient(
            family_name="李",
            given_name="明",
            date_of_birth=__import__("datetime").date(1970, 1, 1),
            locale="zh_Hans",
            actor=None,
        )
        db.session.commit()
        return patient

    return make


def test_a_qc_label_with_a_per_cent_sign_shows_on_the_timeline(
    client, login_as, make_batch, clinic
):
    # "Viability (%)" once broke the page: Jinja's gettext formats with %.
    batch = make_batch(state=BatchState.QC_PENDING)
    login_as(Role.LAB)
    when = _local(batch.appointment.start_at + timedelta(days=3), clinic)
    with client.post(
        f"/lab/batches/{batch.id}/events/qc_result",
        data={"occurred_at": when, "qc_item": "viability", "qc_value": "92"},
    ) as r:
        assert r.status_code == 302
    with client.get(f"/lab/batches/{batch.id}") as r:
        assert r.status_code == 200
        assert "Viability (%): 92" in r.get_data(as_text=True)


def test_frozen_stock_is_a_count_with_its_own_paged_list(client, login_as, make_batch, monkeypatch):
    from intake.cultures import queries

    monkeypatch.setattr(queries, "BOARD_PER_PAGE", 2)
    working = make_batch(days_ago=5)
    frozen = [make_batch(days_ago=60 + n, state=BatchState.CRYOPRESERVED) for n in range(3)]
    login_as(Role.LAB)
    with client.get("/lab") as r:
        body = r.get_data(as_text=True)
    assert f'data-batch="{working.id}"' in body
    assert not any(f'data-batch="{b.id}"' in body for b in frozen)
    assert 'id="frozen-count"' in body and "3 batches frozen in stock" in body
    assert 'href="/lab?state=cryopreserved"' in body
    with client.get("/lab?state=cryopreserved") as r:
        body = r.get_data(as_text=True)
    shown = [b for b in frozen if f'data-batch="{b.id}"' in body]
    assert len(shown) == 2 and f'data-batch="{working.id}"' not in body
    assert "/lab?state=cryopreserved&amp;page=2" in body
    with client.get("/lab?state=cryopreserved&page=2") as r:
        body = r.get_data(as_text=True)
    assert [b for b in frozen if f'data-batch="{b.id}"' in body] == [
        b for b in frozen if b not in shown
    ]


@pytest.mark.parametrize(
    "query", ["page=abc", "page=", "page=0", "page=-2", "page=999999", "page=1e3"]
)
def test_odd_board_pages_are_clamped(client, login_as, make_batch, monkeypatch, query):
    from intake.cultures import queries

    monkeypatch.setattr(queries, "BOARD_PER_PAGE", 2)
    batches = [make_batch(days_ago=n) for n in range(3)]
    login_as(Role.LAB)
    with client.get(f"/lab?{query}") as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    assert sum(f'data-batch="{b.id}"' in body for b in batches) in (1, 2)


@pytest.mark.parametrize("state", ["nonsense", "administered", "failed"])
def test_a_state_the_board_does_not_show_is_404(client, login_as, clinic, state):
    login_as(Role.LAB)
    with client.get(f"/lab?state={state}") as r:
        assert r.status_code == 404


def test_the_board_renders_at_most_a_page_of_rows(client, login_as, make_batch, monkeypatch):
    from intake.cultures import queries

    monkeypatch.setattr(queries, "BOARD_PER_PAGE", 4)
    batches = [make_batch(days_ago=n) for n in range(7)]
    login_as(Role.LAB)
    with client.get("/lab") as r:
        body = r.get_data(as_text=True)
    assert len(re.findall(r'data-batch="\d+"', body)) == 4
    assert "7 batches" in body  # the count is of every batch, not the page
    with client.get("/lab?page=2") as r:
        body = r.get_data(as_text=True)
    assert len(re.findall(r'data-batch="\d+"', body)) == 3
    assert f'data-batch="{batches[-1].id}"' in body  # youngest first: the oldest last


def test_every_batch_at_risk_is_a_deadline_whatever_the_boards_page(make_batch, monkeypatch):
    from intake.cultures import queries
    from intake.manager import deadlines_queries

    monkeypatch.setattr(queries, "BOARD_PER_PAGE", 1)
    late = [make_batch(days_ago=45 + n) for n in range(3)]
    make_batch(days_ago=5)
    db.session.commit()
    items = deadlines_queries.deadline_items(today=make_batch.today)["items"]
    assert {i.key for i in items if i.key[:1] == ("batch",)} == {("batch", b.id) for b in late}
