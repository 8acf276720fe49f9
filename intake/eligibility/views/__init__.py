"""Patient intake over HTTP: the questionnaire, the journey, consent, the
doctor's review, panel results and the manager's lists."""

from flask import Blueprint

bp = Blueprint("eligibility", __name__)

# Imported last so that their routes register on ``bp``, in this order.
from intake.eligibility.views import _common, patient, review, panel, manager  # noqa: E402, F401, I001
