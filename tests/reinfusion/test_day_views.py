# ruff: noqa: F811  (fixtures are imported from day_support, not a conftest shared with other work)
"""The reinfusion day's pages: the checklist, bad input beside the field,
and who may do what (only doctors clear, administer and plan)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from intake.accounts.roles import Role
from intake.core.types import utcnow
from intake.extensions import db
from intake.reinfusion.models import Administration, BedsideCheck, Clearance, Dose, DoseStatus
from intake.scheduling import front_desk
from tests.conftest import PASSWORD, log_in
from tests.reinfusion.day_support import (  # noqa: F401
    CELLS,
    DOB,
    clinic,
    coordinator,
    day_patient,
    doctor,
    lab,
    make_batch,
    make_day_visit,
    manager,
)

VITALS = {
    "systolic": "124",
    "diastolic": "78",
    "pulse": "72",
    "temperature_c": "36.6",
    "spo2": "98",
}


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def get(client, url, status=200):
    with client.get(url) as response:
        assert response.status_code == status, response.get_data(as_text=True)[:2000]
        return response.get_data(as_text=True)


def post(client, url, data, status=302):
    with client.get(url.rsplit("/", 1)[0] if "/visits/" in url else url):
        pass
    with client.post(url, data=data) as response:
        text = response.get_data(as_text=True)
        shown = re.findall(r'(?:invalid-feedback d-block|alert alert-\w+)"[^>]*>([^<]*)', text)
        assert response.status_code == status, shown
        return response.get_data(as_text=True)


def local(moment, clinic):
    return moment.astimezone(clinic.cal.tz).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def visit(make_day_visit):
    return make_day_visit(today=True)


def test_checklist_for_the_doctor_with_the_guards_reasons(client, visit, doctor):
    log_in(client, doctor)
    page = get(client, f"/reinfusion/visits/{visit.appointment.id}")
    for text in ("Check-in", "clearance", "Bedside identity check", "Administration"):
        assert text in page
    assert "The patient has not been checked in." in page
    assert "No doctor has cleared the patient today." in page
    assert 'type="submit" disabled' in page
    assert f"/desk/visits/{visit.appointment.id}" in page  # check-in at the desk
    assert 'type="number"' in page and "mmHg" in page
    today = get(client, "/reinfusion/today")
    assert visit.patient.full_name in today and "Reinfusions today" in today


def test_the_whole_day_through_the_pages(client, visit, doctor, coordinator, manager, lab, clinic):
    front_desk.mark_arrived(visit.appointment, actor=coordinator)
    db.session.commit()
    log_in(client, doctor)
    url = f"/reinfusion/visits/{visit.appointment.id}"
    # vitals out of range: beside the field, what was typed kept, nothing saved
    page = post(
        client,
        url + "/clearance",
        {**VITALS, "systolic": "400", "decision": "go", "password": PASSWORD},
        status=422,
    )
    assert "Enter the systolic blood pressure, 60 to 260 mmHg." in page and 'value="400"' in page
    page = post(client, url + "/clearance", {**VITALS, "decision": "go", "password": "nope"}, 422)
    assert "The password is not correct" in page
    assert count(Clearance) == 0
    post(client, url + "/clearance", {**VITALS, "decision": "go", "password": PASSWORD})
    assert count(Clearance) == 1
    # a typing error in the label: refused, nothing stored
    coi = visit.batch.coi
    wrong = coi[:-1] + ("A" if coi[-1] != "A" else "B")
    form = {"name": "Wang Li", "date_of_birth": DOB.isoformat()}
    page = post(client, url + "/bedside", {**form, "label": wrong}, status=422)
    assert "The check character does not match" in page and count(BedsideCheck) == 0
    # a wrong date of birth: stored, blocks, alerts
    post(client, url + "/bedside", {**form, "label": coi, "date_of_birth": "1968-05-18"})
    page = get(client, url)
    assert "MISMATCH" in page and "did not match" in page
    post(client, url + "/bedside", {**form, "label": coi})
    page = get(client, url)
    assert 'data-result="match"' in page and "cannot be recorded yet" not in page
    now = utcnow()
    data = {
        "route": visit.dose.route,
        "cells_given": str(CELLS),
        "started_at": local(now - timedelta(minutes=100), clinic),
        "ended_at": local(now - timedelta(minutes=60), clinic),
        "observed_until": local(now - timedelta(minutes=25), clinic),
        **{f"{k}_after": v for k, v in VITALS.items()},
    }
    page = post(client, url + "/administration", {**data, "pulse_after": "10"}, status=422)
    assert "Enter the pulse, 30 to 220 beats per minute." in page and count(Administration) == 0
    page = post(
        client,
        url + "/administration",
        {**data, "cells_given": str(300_000_000)},
        status=422,
    )
    assert "reason for the larger dose" in page
    post(client, url + "/administration", data)
    assert count(Administration) == 1
    db.session.refresh(visit.dose)
    assert visit.dose.status == DoseStatus.ADMINISTERED
    assert "The administration is recorded." in get(client, url)


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.MANAGER, Role.LAB])
def test_only_doctors_clear_and_administer(client, visit, make_user, role):
    log_in(client, make_user(role))
    url = f"/reinfusion/visits/{visit.appointment.id}"
    for step in ("clearance", "administration"):
        with client.post(f"{url}/{step}", data={}) as response:
            assert response.status_code == 403
    with client.post(f"/reinfusion/batches/{visit.batch.id}/doses", data={}) as response:
        assert response.status_code == 403
    reader = role != Role.LAB
    with client.get(url) as response:
        assert response.status_code == (200 if reader else 403)
    if role == Role.COORDINATOR:
        page = get(client, url)
        assert "form-bedside" in page and "form-clearance" not in page
        assert "Only a doctor records the administration." in page


def test_patients_get_403_and_unknown_visits_404(client, visit, doctor, make_user):
    log_in(client, visit.patient.user, PASSWORD)
    for url in (
        f"/reinfusion/visits/{visit.appointment.id}",
        "/reinfusion/today",
        f"/reinfusion/batches/{visit.batch.id}/doses",
    ):
        with client.get(url) as response:
            assert response.status_code == 403
    client.post("/logout")
    log_in(client, doctor)
    get(client, "/reinfusion/visits/999999", status=404)
    get(client, f"/reinfusion/visits/{visit.batch.appointment_id}", status=404)  # a collection


def test_dose_plan_page(client, visit, doctor):
    log_in(client, doctor)
    url = f"/reinfusion/batches/{visit.batch.id}/doses"
    page = get(client, url)
    assert "Dose plan" in page and "Fresh cells" in page
    page = post(
        client,
        url,
        {"count": "2", "route_2": "local", "cells_2": "abc", "interval_2": "0"},
        status=422,
    )
    assert "whole number" in page and count(Dose) == 1
    page = post(
        client,
        url,
        {"count": "2", "route_2": "local", "cells_2": str(CELLS), "interval_2": "0"},
        422,
    )
    assert "Enter the days after the previous dose, 1 to 365." in page and count(Dose) == 1
    post(client, url, {"count": "2", "route_2": "local", "cells_2": str(CELLS), "interval_2": "28"})
    assert count(Dose) == 2 and visit.batch.later_doses == 1
    page = get(client, url)
    assert "Cryopreserved aliquot" in page


def test_the_desk_completes_a_reinfusion_only_through_its_administration(
    client, visit, coordinator
):
    front_desk.mark_arrived(visit.appointment, actor=coordinator)
    db.session.commit()
    log_in(client, coordinator)
    with client.post(
        f"/desk/visits/{visit.appointment.id}/status", data={"action": "completed"}
    ) as response:
        assert response.status_code == 302
        assert response.headers["Location"] == f"/reinfusion/visits/{visit.appointment.id}"
    db.session.refresh(visit.appointment)
    assert visit.appointment.status.value == "arrived"
    assert "Record the administration here" in get(client, response.headers["Location"])


def test_nothing_is_cleared_or_checked_after_the_dose_is_given(client, visit, doctor, coordinator):
    visit.dose.status = DoseStatus.ADMINISTERED
    db.session.commit()
    log_in(client, doctor)
    url = f"/reinfusion/visits/{visit.appointment.id}"
    page = post(client, url + "/clearance", {**VITALS, "decision": "go", "password": PASSWORD}, 422)
    assert "This dose has already been given." in page and count(Clearance) == 0


def test_the_dose_plan_is_reached_from_the_batch_page(client, visit, doctor, lab):
    log_in(client, doctor)
    page = get(client, f"/lab/batches/{visit.batch.id}")
    assert f'href="/reinfusion/batches/{visit.batch.id}/doses"' in page
    assert 'href="/lab"' in get(client, "/reinfusion/today")  # the doctor's navigation
    client.post("/logout")
    log_in(client, lab)
    assert "dose-plan-link" not in get(client, f"/lab/batches/{visit.batch.id}")


@pytest.mark.parametrize("bad", ["", "abc", "99999999999999999999", "0", "7"])
def test_a_dose_count_not_offered_is_refused_beside_the_field(client, visit, doctor, bad):
    log_in(client, doctor)
    url = f"/reinfusion/batches/{visit.batch.id}/doses"
    page = post(client, url, {"count": bad, "route_1": "local", "cells_1": "1"}, status=422)
    assert 'id="count"' in page and count(Dose) == 1
