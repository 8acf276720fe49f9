"""Pure modules hold the clinic's rules: they must not import Flask,
SQLAlchemy or the app's extensions."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "intake"
FORBIDDEN = ("flask", "flask_", "sqlalchemy", "werkzeug", "intake.extensions")
# Modules that DESIGN.md marks pure (*), plus the small pure helpers they use.
PURE = [
    "core/text.py",
    "core/parsing.py",
    "core/time.py",
    "core/settings_schema.py",
    "accounts/roles.py",
    "accounts/passwords.py",
    "accounts/two_factor.py",
    "eligibility/rules.py",
    "eligibility/gate.py",
    "eligibility/question_bank.py",
    "scheduling/availability.py",
    "scheduling/calendar.py",
]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def intake_imports(path: Path) -> set[Path]:
    return {
        ROOT.parent / (name.replace(".", "/") + ".py")
        for name in imported_modules(path)
        if name.startswith("intake.")
    }


@pytest.mark.parametrize("relative", [p for p in PURE if (ROOT / p).exists()])
def test_pure_module_imports_no_framework(relative):
    seen, todo = set(), [ROOT / relative]
    while todo:  # follow imports of other intake modules too
        path = todo.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        bad = [
            m for m in imported_modules(path) if m.startswith(FORBIDDEN) or m == "intake.extensions"
        ]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
        todo.extend(intake_imports(path))


def test_the_pure_list_is_not_empty():
    assert sum((ROOT / p).exists() for p in PURE) >= 5
