"""Plays in plain text: act and scene markers, speaker tags, stage directions in brackets.

The format (what ``reelops data fetch shakespeare`` writes)::

    Title: Hamlet                       <- optional ``Key: value`` header, then a blank line
    ACT I
    SCENE I. Elsinore. A platform before the castle.   <- or PROLOGUE, EPILOGUE, INDUCTION
    [Enter BERNARDO and FRANCISCO]      <- a stage direction (one line)
    BERNARDO: Who's there?              <- a speech: an upper-case name, a colon, the words
        Nay, answer me.                 <- an indented line continues the speech

Blank lines are ignored. Anything else is an error naming the file and line.
"""

from __future__ import annotations

import re
from pathlib import Path

from reelops.content.model import ACTION, DIALOGUE, Line, Scene, Script, ScriptFormatError

ACT_RE = re.compile(r"^ACT\s+([IVXLC]+|\d+)\.?\s*$")
SCENE_RE = re.compile(
    r"^(?:SCENE\s+(?:[IVXLC]+|\d+)\b\.?\s*.*|(?:PROLOGUE|EPILOGUE|INDUCTION)(?:\.\s*.*)?)$"
)
SPEECH_RE = re.compile(r"^([A-Z][A-Z0-9'&\- ]*[A-Z0-9]|[A-Z]):\s*(.*)$")
HEADER_RE = re.compile(r"^([A-Za-z][A-Za-z ]*):\s*(.*)$")


def parse_play(path: Path, text: str | None = None, title_id: str | None = None) -> Script:
    """Parse a play in the plain-text format above into a :class:`Script`.

    Raises:
        ScriptFormatError: every line that is none of the above, a speech before the
            first scene, or a file without a SCENE marker, each with file and line.
    """
    where = str(path)
    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    meta: dict[str, str] = {}
    body_start = 0
    for number, raw in enumerate(lines):
        line = raw.rstrip("\r")
        if not line.strip():
            body_start = number + 1
            break
        match = HEADER_RE.match(line)
        if not match or ACT_RE.match(line) or SCENE_RE.match(line) or SPEECH_RE.match(line):
            body_start = 0
            meta = {}
            break
        meta[match.group(1).strip().lower()] = match.group(2).strip()
    else:
        body_start = len(lines)

    problems: list[tuple[str, int, str]] = []
    scenes: list[Scene] = []
    act = ""
    speech: list = []  # [number, speaker, [words...]] of the speech being read

    def close() -> None:
        if speech:
            number, speaker, words = speech
            scenes[-1].lines.append(Line(number, DIALOGUE, " ".join(words).strip(), speaker))
            speech.clear()

    for number, raw in enumerate(lines[body_start:], start=body_start + 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line[0] in " \t":
            if speech:
                speech[2].append(line.strip())
            else:
                problems.append((where, number, "an indented line continues no speech"))
            continue
        if match := ACT_RE.match(line):
            close()
            act = match.group(1)
        elif match := SCENE_RE.match(line):
            close()
            scenes.append(Scene(len(scenes), line.strip(), number, act))
        elif line.startswith("["):
            close()
            if not line.rstrip().endswith("]"):
                problems.append((where, number, "a stage direction must end with ']'"))
            elif not scenes:
                problems.append((where, number, "a stage direction before the first SCENE"))
            else:
                scenes[-1].lines.append(Line(number, ACTION, line.strip()[1:-1].strip()))
        elif match := SPEECH_RE.match(line):
            close()
            if not scenes:
                problems.append((where, number, "a speech before the first SCENE marker"))
            else:
                speech[:] = [number, " ".join(match.group(1).split()), [match.group(2)]]
        else:
            problems.append(
                (
                    where,
                    number,
                    f"expected 'NAME: speech', an indented continuation, '[stage direction]', "
                    f"'ACT n' or 'SCENE n. place', got {line.strip()[:60]!r}",
                )
            )
    if scenes:
        close()
    elif not problems:
        problems.append((where, 1, "no 'SCENE n' marker in the file"))
    if problems:
        raise ScriptFormatError(problems)
    return Script(
        title_id=title_id or meta.get("title id") or Path(path).stem,
        title=meta.get("title") or Path(path).stem.replace("_", " ").title(),
        format="play",
        source=where,
        scenes=scenes,
        meta=meta,
    )


def write_play(script: Script) -> str:
    """The play format's text of ``script`` (what :func:`parse_play` reads back)."""
    header = {"title": script.title, **script.meta}
    out = [f"{key.title()}: {value}" for key, value in header.items()]
    out.append("")
    act = None
    for scene in script.scenes:
        if scene.act and scene.act != act:
            out.append(f"ACT {scene.act}")
            act = scene.act
        heading = scene.heading if SCENE_RE.match(scene.heading) else f"SCENE {scene.index + 1}."
        out.append(heading)
        for line in scene.lines:
            if line.kind == ACTION:
                out.append(f"[{line.text}]")
            else:
                out.append(f"{line.speaker}: {line.text}")
    return "\n".join(out) + "\n"
