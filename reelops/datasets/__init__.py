"""Real data sets fetched at run time into ``REELOPS_HOME/data``, never into the repository."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reelops.config import Settings


class FetchError(RuntimeError):
    """A data set could not be fetched: download, pinned hash or content; nothing was kept."""


def datasets_dir(settings: Settings) -> Path:
    """Where fetched data sets live: ``REELOPS_HOME/data/<name>``."""
    return settings.home / "data"


@contextmanager
def staged(settings: Settings, name: str) -> Iterator[tuple[Path, Path]]:
    """``(work, out)``: a scratch folder and the data set's new folder, beside its final place.

    Everything, downloads included, is built in a temporary sibling of
    ``REELOPS_HOME/data/<name>``; when the block ends without an error, ``out`` replaces
    the data set in one rename. An error or an interruption leaves no partial data set
    and the earlier one as it was.
    """
    root = datasets_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    final = root / name
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{name}.") as tmp:
        work = Path(tmp)
        out = work / name
        out.mkdir()
        yield work, out
        if final.exists():
            final.rename(work / "replaced")
        out.rename(final)
