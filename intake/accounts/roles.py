"""Roles and what each one may reach. Pure."""

from __future__ import annotations

import enum

from intake.core.text import N_


class Role(enum.StrEnum):
    PATIENT = "patient"
    COORDINATOR = "coordinator"
    DOCTOR = "doctor"
    LAB = "lab"
    MANAGER = "manager"
    ADMIN = "admin"


STAFF_ROLES = (Role.COORDINATOR, Role.DOCTOR, Role.LAB, Role.MANAGER, Role.ADMIN)
CLINICAL_ROLES = (Role.COORDINATOR, Role.DOCTOR, Role.MANAGER)
# Who books, moves, cancels and checks in visits: the front desk and the
# doctors. Managers read the schedule; they change settings and closures only.
DESK_ROLES = (Role.COORDINATOR, Role.DOCTOR)

ROLE_LABELS = {
    Role.PATIENT: N_("Patient"),
    Role.COORDINATOR: N_("Coordinator"),
    Role.DOCTOR: N_("Doctor"),
    Role.LAB: N_("Lab technician"),
    Role.MANAGER: N_("Manager"),
    Role.ADMIN: N_("Administrator"),
}

# The endpoint each role lands on after login.
HOME_ENDPOINT = {
    Role.PATIENT: "patients.home",
    Role.COORDINATOR: "patients.worklist",
    Role.DOCTOR: "patients.worklist",
    Role.LAB: "cultures.board",
    Role.MANAGER: "manager.home",
    Role.ADMIN: "accounts.user_list",
}
