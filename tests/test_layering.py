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
    "core/backup_policy.py",
    "accounts/roles.py",
    "accounts/passwords.py",
    "accounts/two_factor.py",
    "eligibility/rules.py",
    "eligibility/gate.py",
    "eligibility/question_bank/__init__.py",
    "scheduling/availability.py",
    "scheduling/calendar.py",
    "scheduling/visit_status.py",
    "scheduling/changes.py",
    "scheduling/visit_kinds.py",
    "scheduling/waitlist.py",
    "patients/journey.py",
    "patients/worklist.py",
    "cultures/labels.py",
    "cultures/coi.py",
    "cultures/lifecycle.py",
    "cultures/growth.py",
    "reinfusion/rules.py",
    "reinfusion/day.py",
    "reinfusion/doses.py",
    "reinfusion/aftercare.py",
    "reinfusion/trips.py",
    "manager/schedule.py",
    "manager/pipeline.py",
    "manager/deadlines.py",
    "manager/capacity.py",
    "fhir/codes.py",
    "fhir/record.py",
    "fhir/resources.py",
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


def import_graph() -> dict[str, set[str]]:
    """Every intake module and the intake modules it imports, anywhere in the
    file (a function-level import hides a circle, it does not remove it)."""

    def name_of(path: Path) -> str:
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    modules = {name_of(p): p for p in ROOT.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("intake"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("intake"))
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Groups of modules that import each other (strongly connected, > 1)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in graph[node]:
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(group)

    for node in graph:
        if node not in index:
            visit(node)
    return circles


def _blueprint_package(group: set[str]) -> bool:
    """A views package whose __init__ defines ``bp`` and then imports its
    modules so their routes register: the one accepted circle."""
    package = min(group, key=len)
    return package.endswith(".views") and all(m.startswith(package) for m in group)


def test_no_import_circles():
    circles = [g for g in import_circles(import_graph()) if not _blueprint_package(g)]
    assert not circles, circles


def test_the_circle_check_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_circles(graph) == [{"a", "b", "c"}]
