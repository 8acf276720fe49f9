"""Password policy. Pure."""

from __future__ import annotations

from intake.core.text import N_


def password_problems(password: str, *, min_length: int, personal: tuple[str, ...] = ()) -> list:
    """Messages (untranslated) for each way ``password`` breaks the policy:
    at least ``min_length`` characters, and at least three of: lower case,
    upper case, digits, other characters; not the user's own e-mail or name."""
    problems = []
    if len(password) < min_length:
        problems.append((N_("Use at least %(n)s characters."), {"n": min_length}))
    kinds = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 3:
        problems.append(
            (
                N_(
                    "Mix at least three kinds of characters: lower case, upper case, "
                    "digits, symbols."
                ),
                {},
            )
        )
    lowered = password.lower()
    if any(p and len(p) >= 4 and p.lower() in lowered for p in personal):
        problems.append((N_("Do not use your e-mail address or name in the password."), {}))
    return problems


def lockout_seconds(failures: int, *, threshold: int, first: int, longest: int) -> int:
    """How long an account stays locked after its ``failures``-th failed
    attempt in a row: not at all below ``threshold``, ``first`` seconds at
    it, then twice as long with each further failure, at most ``longest``."""
    if threshold < 1 or failures < threshold:
        return 0
    doublings = min(failures - threshold, 62)
    return min(first * 2**doublings, longest)
