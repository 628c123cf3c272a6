"""Real data sets fetched at run time into ``REELOPS_HOME/data``, never into the repository."""

from __future__ import annotations

from pathlib import Path

from reelops.config import Settings


class FetchError(RuntimeError):
    """A data set could not be fetched: download, pinned hash or content; nothing was kept."""


def datasets_dir(settings: Settings) -> Path:
    """Where fetched data sets live: ``REELOPS_HOME/data/<name>``."""
    return settings.home / "data"
