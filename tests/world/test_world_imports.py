"""Tests that the synthetic world may use the ABR simulation but never the bitrate model."""

from package_imports import loaded_by


def test_world_imports_abr_but_not_bitrate():
    loaded = loaded_by("reelops.world")

    assert "reelops.world.holdout" in loaded and "reelops.abr.traces" in loaded
    assert not [m for m in loaded if m.startswith("reelops.bitrate")], loaded
