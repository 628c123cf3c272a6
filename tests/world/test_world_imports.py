"""Tests that the synthetic world may use the ABR simulation but never the bitrate model."""

import json
import subprocess
import sys

PROBE = """
import importlib, json, pkgutil, sys
import reelops.world as package
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module(f"reelops.world.{module.name}")
print(json.dumps(sorted(m for m in sys.modules if m.startswith("reelops"))))
"""


def test_world_imports_abr_but_not_bitrate():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])

    assert "reelops.world.holdout" in loaded and "reelops.abr.traces" in loaded
    assert not [m for m in loaded if m.startswith("reelops.bitrate")], loaded
