"""Tests that the bitrate model stays out of the world, ranking, serving and orchestration."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import reelops.bitrate

PACKAGE = Path(reelops.bitrate.__file__).parent
# Platform modules bitrate/ builds on; everything else of reelops is off limits.
ALLOWED = (
    "reelops.abr",
    "reelops.bitrate",
    "reelops.stats",
    "reelops.config",
    "reelops.schema",
    "reelops.specs",
    "reelops.sources",
    "reelops.warehouse",
    "reelops.features",
    "reelops.registry",
    "reelops.quality.evidence",
)
FORBIDDEN = ("world", "ranking", "serving", "orchestration", "cli", "pipeline")
PROBE = """
import importlib, json, pkgutil, sys
import reelops.bitrate as package
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module(f"reelops.bitrate.{module.name}")
print(json.dumps(sorted(m for m in sys.modules if m.startswith("reelops"))))
"""


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in the file names, at any depth."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_every_bitrate_module_imports_only_allowed_reelops_modules():
    for path in sorted(PACKAGE.glob("*.py")):
        reelops = {m for m in imported_modules(path) if m.startswith("reelops")}
        bad = [m for m in reelops if not any(m == a or m.startswith(a + ".") for a in ALLOWED)]
        assert not bad, f"{path.name} imports {bad}"


def test_importing_all_of_bitrate_loads_no_world_ranking_serving_or_cli():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=180, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])

    assert "reelops.bitrate.train" in loaded and "reelops.bitrate.evidence" in loaded
    assert not [m for m in loaded if m.split(".")[1:2] and m.split(".")[1] in FORBIDDEN], loaded
