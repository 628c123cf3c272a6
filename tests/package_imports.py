"""What importing every module of one reelops package loads, seen from a fresh interpreter."""

import json
import subprocess
import sys

PROBE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module(f"{sys.argv[1]}.{module.name}")
print(json.dumps(sorted(m for m in sys.modules if m.startswith("reelops"))))
"""


def loaded_by(package: str) -> list[str]:
    """The ``reelops`` modules loaded after importing every module of ``package``."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, package],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
