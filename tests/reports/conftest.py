"""The reports tests judge versions of the toy model the release tests use."""

from __future__ import annotations

import sys
from pathlib import Path

# toy_model lives beside the release tests; one toy model serves both folders.
sys.path.insert(0, str(Path(__file__).parents[1] / "quality"))
