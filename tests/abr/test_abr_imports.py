"""Tests that the ABR simulation stands alone: it imports nothing of reelops but ``stats``."""

import json
import subprocess
import sys

PROBE = """
import importlib, json, pkgutil, sys
import reelops.abr as package
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module(f"reelops.abr.{module.name}")
print(json.dumps(sorted(m for m in sys.modules if m.startswith("reelops"))))
"""


def test_abr_imports_only_itself_and_stats():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])

    others = [m for m in loaded if m not in ("reelops", "reelops.stats")]
    assert others and all(m.startswith("reelops.abr") for m in others), loaded
    assert "reelops.abr.evaluation" in loaded and "reelops.stats" in loaded
