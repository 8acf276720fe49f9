"""The seeded clinic of the scheduling tests, for the patient-record tests."""

from tests.scheduling.conftest import Clinic, clinic, coordinator, manager  # noqa: F401
