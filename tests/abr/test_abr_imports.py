"""Tests that the ABR simulation stands alone: it imports nothing of reelops but ``stats``."""

from package_imports import loaded_by


def test_abr_imports_only_itself_and_stats():
    loaded = loaded_by("reelops.abr")

    others = [m for m in loaded if m not in ("reelops", "reelops.stats")]
    assert others and all(m.startswith("reelops.abr") for m in others), loaded
    assert "reelops.abr.evaluation" in loaded and "reelops.stats" in loaded
