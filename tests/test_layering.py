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
    "core/languages.py",
    "core/audit_labels.py",
    "core/weekdays.py",
    "core/time.py",
    "core/settings_schema.py",
    "accounts/roles.py",
    "accounts/passwords.py",
    "accounts/two_factor.py",
    "eligibility/rules.py",
    "eligibility/gate.py",
    "eligibility/question_bank/__init__.py",
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


def module_path(name: str) -> Path:
    """The file of an ``intake.…`` module: ``a/b.py`` or ``a/b/__init__.py``."""
    base = ROOT.parent / name.replace(".", "/")
    package = base / "__init__.py"
    return package if package.exists() else base.with_suffix(".py")


def intake_imports(path: Path) -> set[Path]:
    return {module_path(name) for name in imported_modules(path) if name.startswith("intake.")}


def pure_closure(relative: str) -> set[Path]:
    """A pure module and every intake module it imports, transitively."""
    seen, todo = set(), [ROOT / relative]
    while todo:
        path = todo.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        todo.extend(intake_imports(path))
    return seen


@pytest.mark.parametrize("relative", [p for p in PURE if (ROOT / p).exists()])
def test_pure_module_imports_no_framework(relative):
    for path in pure_closure(relative):  # follow imports of other intake modules too
        bad = [
            m for m in imported_modules(path) if m.startswith(FORBIDDEN) or m == "intake.extensions"
        ]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


CLOCKS = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow"), ("time", "time")}


def clock_reads(path: Path) -> list[str]:
    """Calls that read the clock: ``date.today()``, ``datetime.now()``, ``utcnow()``…"""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if (func.value.id, func.attr) in CLOCKS:
                found.append(f"{func.value.id}.{func.attr}() on line {node.lineno}")
        elif isinstance(func, ast.Name) and func.id in ("utcnow", "clinic_today"):
            found.append(f"{func.id}() on line {node.lineno}")
    return found


@pytest.mark.parametrize("relative", [p for p in PURE if (ROOT / p).exists()])
def test_pure_module_never_reads_the_clock(relative):
    """Today and now are passed in, so a rule gives the same answer in a test,
    at midnight in Tokyo, and when re-run for an old record."""
    for path in pure_closure(relative):
        reads = clock_reads(path)
        assert not reads, f"{path.relative_to(ROOT)}: {reads}"


def test_the_clock_check_sees_a_fallback(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f(today=None):\n    return today or date.today()\n")
    assert clock_reads(sample) == ["date.today() on line 2"]


def test_the_pure_list_is_not_empty():
    assert sum((ROOT / p).exists() for p in PURE) >= 5

