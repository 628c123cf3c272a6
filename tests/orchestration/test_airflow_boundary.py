"""Airflow is known in one place: only ``reelops.orchestration`` imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import reelops

PACKAGE = Path(reelops.__file__).parent
ORCHESTRATION = PACKAGE / "orchestration"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def importers_of(prefix: str, files) -> dict[str, list[str]]:
    found = {}
    for path in files:
        hits = sorted(
            m for m in imported_modules(path) if m == prefix or m.startswith(prefix + ".")
        )
        if hits:
            found[str(path.relative_to(PACKAGE.parent))] = hits
    return found


def test_no_module_outside_orchestration_imports_airflow():
    outside = [p for p in PACKAGE.rglob("*.py") if ORCHESTRATION not in p.parents]
    assert len(outside) > 20
    assert importers_of("airflow", outside) == {}


def test_orchestration_does_import_airflow():
    # Guards the test above against a scan that finds nothing.
    assert importers_of("airflow", ORCHESTRATION.glob("*.py"))


def test_domain_packages_do_not_import_orchestration():
    # Domain code takes plain values; only the edges (CLI) may call orchestration.
    allowed = {ORCHESTRATION, PACKAGE / "cli"}
    files = [p for p in PACKAGE.rglob("*.py") if not allowed & set(p.parents)]
    assert importers_of("reelops.orchestration", files) == {}
