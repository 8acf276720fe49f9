"""Time-based one-time codes (RFC 6238) for staff login. Pure: ``now`` is passed in.

A code is accepted for the current 30-second step and one step either side
(clock drift), and never twice: the caller stores the step that was used and
passes it back as ``last_step``.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The otpauth:// link an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it in by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, or None when it is wrong, stale or reused."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app shows at ``now`` (tests and demo tooling)."""
    return pyotp.TOTP(secret).at(now)
