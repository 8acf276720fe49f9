"""The demo clinic's accounts: staff, the first patients and their published
passwords. A leaf of the demo: ``intake.demo`` and each domain's ``demo``
import it; it imports only the accounts services."""

from __future__ import annotations

from datetime import date

from intake.accounts import services as accounts
from intake.accounts.roles import Role
from intake.core.types import utcnow

# Demo passwords are published in the README; never use them for real data.
DEMO_STAFF = (
    (
        "coordinator@demo.clinic",
        "Chen Mei (coordinator)",
        Role.COORDINATOR,
        "Sakura-Coord-26",
        "zh_Hans",
    ),
    ("doctor@demo.clinic", "Dr. Sato Hiroshi", Role.DOCTOR, "Sakura-Dr-26", "ja"),
    ("lab@demo.clinic", "Tanaka Yui (CPC)", Role.LAB, "Sakura-Cpc-26", "ja"),
    ("manager@demo.clinic", "Suzuki Ken (manager)", Role.MANAGER, "Sakura-Mgr-26", "en"),
    ("admin@demo.clinic", "IT Admin", Role.ADMIN, "Sakura-It-26", "en"),
)
NEW_STAFF = (
    "nurse.new@demo.clinic",
    "Ito Aya (new nurse)",
    Role.COORDINATOR,
    "Welcome-Change-1",
    "ja",
)

DEMO_PATIENTS = (
    ("patient@demo.clinic", "王丽", date(1968, 5, 12), "+86 138 0013 8000", "zh_Hans"),
    ("li.wei@demo.clinic", "李伟", date(1959, 11, 3), "+86 139 1234 5678", "zh_Hans"),
    ("yamada@demo.clinic", "山田 花子", date(1975, 2, 28), "+81 90 1234 5678", "ja"),
    ("smith@demo.clinic", "Anna Smith", date(1981, 7, 19), "+44 7700 900123", "en"),
)
PATIENT_PASSWORD = "Sakura-Demo-26"  # noqa: S105 - published demo password


def staff_login(role: Role) -> tuple[str, str]:
    """(e-mail, password) of the demo staff member with ``role``."""
    return next((email, pw) for email, _name, r, pw, _locale in DEMO_STAFF if r == role)


def split_name(name: str) -> tuple[str, str]:
    """(family, given) of a demo name: "山田 花子" and "王丽" family first,
    "Anna Smith" given name first."""
    parts = name.split()
    if len(parts) == 2:
        return (parts[1], parts[0]) if name.isascii() else (parts[0], parts[1])
    return name[:1], name[1:]


def register_demo_patients(rows) -> list[str]:
    """Register each (email, name, born, phone, locale) not yet present, with
    the address already confirmed (demo accounts open straight away)."""
    lines = []
    for email, name, born, phone, locale in rows:
        if accounts.find_by_email(email) is None:
            family, given = split_name(name)
            user = accounts.register_patient(
                email=email,
                password=PATIENT_PASSWORD,
                family_name=family,
                given_name=given,
                date_of_birth=born,
                phone=phone,
                locale=locale,
            )
            user.email_verified_at = utcnow()
            lines.append(f"{'patient':<12} {email:<28} {PATIENT_PASSWORD}")
    return lines


def seed_accounts() -> list[str]:
    """The demo staff (ready to log in), one new nurse who must change the
    initial password, and the first demo patients. Idempotent."""
    lines = []
    for email, name, role, password, locale in DEMO_STAFF:
        if accounts.find_by_email(email) is None:
            user = accounts.create_staff(
                actor=None, email=email, full_name=name, role=role, password=password, locale=locale
            )
            user.is_password_temporary = False  # demo accounts open straight away
            lines.append(f"{role.value:<12} {email:<28} {password}")
    email, name, role, password, locale = NEW_STAFF
    if accounts.find_by_email(email) is None:
        accounts.create_staff(
            actor=None, email=email, full_name=name, role=role, password=password, locale=locale
        )
        lines.append(f"{role.value:<12} {email:<28} {password}  (must change it at first login)")
    lines.extend(register_demo_patients(DEMO_PATIENTS))
    return lines
