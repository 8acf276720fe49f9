"""Whole numbers typed into forms never overflow: a number of hundreds of
digits used to crash WTForms' range check (its float conversion), a 500; now
it gets the field's own range message, on every form (``SafeIntegerField``)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField
from wtforms.validators import NumberRange

from intake.accounts.roles import Role
from intake.core.forms import FlaskForm, SafeIntegerField
from intake.eligibility import services as eligibility
from intake.eligibility.models import PanelItemDefinition
from intake.extensions import db

HUGE = "9" * 400


class _Numbers(FlaskForm):
    ranged = IntegerField(validators=[NumberRange(min=0, max=10)])
    bare = IntegerField()


@pytest.mark.parametrize(
    ("typed", "ranged", "bare"),
    [
        ("7", None, None),
        (HUGE, "Number must be between 0 and 10.", "Enter a whole number from"),
        ("-" + HUGE, "Number must be between 0 and 10.", "Enter a whole number from"),
        (str(2**31), "Number must be between 0 and 10.", "Enter a whole number from"),
        ("9" * 5000, "Not a valid integer value.", "Not a valid integer value."),
        ("abc", "Not a valid integer value.", "Not a valid integer value."),
    ],
)
def test_integer_fields_never_overflow(app, typed, ranged, bare):
    with app.test_request_context(method="POST"):
        form = _Numbers(formdata=MultiDict({"ranged": typed, "bare": typed}))
        assert isinstance(form.ranged, SafeIntegerField)
        form.validate()
        for name, message in (("ranged", ranged), ("bare", bare)):
            errors = " ".join(str(e) for e in form[name].errors)
            assert (message in errors) if message else not errors, (name, errors)


def test_a_huge_sort_order_gets_a_message_not_a_500(client, login_as):
    eligibility.ensure_reference_data()
    db.session.commit()
    before = db.session.query(PanelItemDefinition).count()
    login_as(Role.DOCTOR)
    data = {
        "code": "anti-HEV",
        "name_en": "Hepatitis E",
        "name_zh_Hans": "戊肝",
        "name_ja": "E型肝炎",
        "sort_order": HUGE,
    }
    with client.post("/panel-items", data=data) as r:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    assert "from 0 to 10000" in body.split('id="sort_order-error"')[1].split("</div>")[0]
    assert db.session.query(PanelItemDefinition).count() == before


def test_a_huge_segment_offset_gets_a_message_not_a_500(client, login_as):
    from intake.core import settings
    from intake.scheduling.demo import seed_scheduling

    settings.seed_defaults()
    seed_scheduling(password="Bright-Lantern-26", with_bookings=False)
    db.session.commit()
    login_as(Role.MANAGER)
    data = {
        "code": "long-visit",
        "kind": "consultation",
        "name_en": "Long visit",
        "duration_minutes": "30",
        "segments-0-resource_id": "",
        "segments-0-offset_minutes": HUGE,
    }
    with client.post("/scheduling/visit-types/new", data=data) as r:
        assert r.status_code == 200
