"""Booking pages (patients), the front desk (coordinators), the clinic's set-up
(managers) and the public availability endpoint.

Each handler: load → check access → validate the form → one service call →
commit → redirect; on ``DomainError``: roll back and show the message.
"""

from flask import Blueprint

bp = Blueprint("scheduling", __name__)

# Imported last so that their routes register on ``bp``, in this order.
from intake.scheduling.views import _common, api, patient, desk, manager, waitlist  # noqa: E402, F401, I001
