"""The trip form: shape only (two days, a short note). The rules (departure
after arrival, not in the past, not too far ahead, no overlap) live in
``intake.reinfusion.trips`` and show beside the same fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional

from intake.core.forms import FlaskForm, NoNul, Required, SafeDateField
from intake.patients.trip_services import NOTE_LIMIT


class TripForm(FlaskForm):
    arrives_on = SafeDateField(
        _l("Arrival in Japan"), validators=[Required(message=_l("Enter the day you arrive."))]
    )
    departs_on = SafeDateField(
        _l("Departure from Japan"), validators=[Required(message=_l("Enter the day you leave."))]
    )
    note = StringField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=NOTE_LIMIT), NoNul()],
        description=_l("For example where you stay, or a flight number."),
    )
