"""Fountain screenplays read with ``screenplain``'s parser, every element kept with its line.

Screenplain classifies paragraphs (blocks of lines between blank lines) as scene headings,
dialogue, action or transitions but forgets where they came from; here each paragraph is
handed to it in turn, so every scene and line keeps its source line number. Problems a
writer must fix (a scene heading that the parser could not read as one) are reported
with the file and line, all of them at once.
"""

from __future__ import annotations

import re
from pathlib import Path

from screenplain.parsers.fountain import (
    InputParagraph,
    boneyard_re,
    note_re,
    parse_title_page,
    slug_regexes,
)
from screenplain.types import Action, Dialog, DualDialog, Section, Slug, Transition

from reelops.content.model import ACTION, DIALOGUE, Line, Scene, Script, ScriptFormatError

# Headings the parser takes are still useless without a location: "INT. - NIGHT".
_HEADING_PARTS = re.compile(r"^\.?(?:INT\.?/EXT|I/E|INT|EXT|EST)\.?\s*(.*)$", re.IGNORECASE)
_TIME_OF_DAY = r"(DAY|NIGHT|MORNING|EVENING|AFTERNOON|DAWN|DUSK|CONTINUOUS|LATER|MOMENTS LATER)"
# A lone upper-case line ending in a time of day reads as a heading that lost its prefix.
_PREFIXLESS_HEADING = re.compile(rf"^[A-Z0-9' .,/]+ - {_TIME_OF_DAY}$")
_EXTENSION = re.compile(r"\s*\((?:V\.O\.|O\.S\.|O\.C\.|CONT'D|CONT’D|[^)]*)\)\s*")


def _text(rich) -> str:
    return str(rich).strip()


def speaker_name(raw: str) -> str:
    """``MARY (V.O.) ^`` -> ``MARY``: the character without extensions or markers."""
    name = _EXTENSION.sub(" ", raw.strip().lstrip("@").rstrip("^").strip())
    return " ".join(name.split()).upper()


def _looks_like_heading(line: str) -> bool:
    # Upper case as written: "Int. the car" in an action line is prose, not a heading.
    return any(regex.match(line.strip()) for regex in slug_regexes)


def _heading_problem(heading: str) -> str | None:
    match = _HEADING_PARTS.match(heading.strip())
    location = match.group(1).strip(" -.") if match else heading.strip(" .-")
    if not location or re.fullmatch(_TIME_OF_DAY, location):
        return f"scene heading {heading.strip()!r} names no location (e.g. 'INT. KITCHEN - DAY')"
    return None


def _paragraphs(text: str) -> list[tuple[int, list[str]]]:
    """Blocks of non-blank lines with the 1-based line number of their first line."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r").expandtabs(4)
        if line in ("", " "):
            if current:
                blocks.append((start, current))
            current = []
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        blocks.append((start, current))
    return blocks


def parse_fountain(path: Path, text: str | None = None, title_id: str | None = None) -> Script:
    """Parse one Fountain file into a :class:`Script`.

    Args:
        path: The file (read unless ``text`` is given; named in errors either way).
        text: Its contents, when already read.
        title_id: The catalogue id; default the title page's ``Title ID`` or the file stem.

    Raises:
        ScriptFormatError: naming the file and line of every malformed scene heading, or
            line 1 when the file has no scene heading at all.
    """
    where = str(path)
    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    # Boneyard (/* ... */) is dropped but its newlines kept, so numbers stay true.
    text = boneyard_re.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    blocks = _paragraphs(text)
    meta: dict[str, str] = {}
    if blocks and blocks[0][0] == 1 and (page := parse_title_page(blocks[0][1])):
        meta = {key.lower(): " ".join(v.strip() for v in values) for key, values in page.items()}
        blocks = blocks[1:]

    problems: list[tuple[str, int, str]] = []
    paragraphs: list = []
    origin: dict[int, int] = {}  # id(paragraph) -> first source line
    for start, lines in blocks:
        joined = note_re.sub("", "\n".join(lines))
        if joined.strip() == "":
            continue
        before, last = len(paragraphs), paragraphs[-1] if paragraphs else None
        InputParagraph(joined.split("\n")).update_list(paragraphs)
        if len(paragraphs) == before and paragraphs and paragraphs[-1] is not last:
            origin[id(paragraphs[-1].right)] = start  # a dual dialogue took the previous
        for paragraph in paragraphs[before:]:
            origin.setdefault(id(paragraph), start)
        for offset, line in enumerate(lines):
            if len(lines) > 1 and _looks_like_heading(line):
                problems.append(
                    (
                        where,
                        start + offset,
                        f"scene heading {line.strip()!r} must stand alone with a blank line "
                        "before and after it (it was read as action or dialogue)",
                    )
                )
        added = paragraphs[before:]
        if len(lines) == 1 and len(added) == 1 and isinstance(added[0], Action):
            if _PREFIXLESS_HEADING.match(lines[0].strip()):
                problems.append(
                    (
                        where,
                        start,
                        f"{lines[0].strip()!r} looks like a scene heading but does not start "
                        "with INT., EXT., EST., INT./EXT. or I/E (or '.' to force one)",
                    )
                )

    scenes: list[Scene] = []

    def scene() -> Scene:
        if not scenes:  # an opening before the first heading is a scene of its own
            scenes.append(Scene(index=0, heading="(opening)", number=1))
        return scenes[-1]

    def add_dialog(dialog: Dialog, start: int) -> None:
        name = speaker_name(_text(dialog.character))
        spoken = [(i, _text(t)) for i, (paren, t) in enumerate(dialog.blocks) if not paren]
        words = " ".join(t for _, t in spoken if t)
        if words:
            scene().lines.append(Line(start + 1 + spoken[0][0], DIALOGUE, words, name))

    for paragraph in paragraphs:
        start = origin.get(id(paragraph), 0)
        if isinstance(paragraph, Slug):
            heading = _text(paragraph.line)
            if problem := _heading_problem(heading):
                problems.append((where, start, problem))
            scenes.append(Scene(index=len(scenes), heading=heading, number=start))
        elif isinstance(paragraph, Dialog):
            add_dialog(paragraph, start)
        elif isinstance(paragraph, DualDialog):
            add_dialog(paragraph.left, origin.get(id(paragraph.left), start))
            add_dialog(paragraph.right, origin.get(id(paragraph.right), start))
        elif isinstance(paragraph, Action):
            words = " ".join(_text(line) for line in paragraph.lines).strip()
            if words:
                scene().lines.append(Line(start, ACTION, words))
        elif isinstance(paragraph, Section | Transition):
            continue
    if not any(isinstance(p, Slug) for p in paragraphs) and not problems:
        problems.append((where, 1, "no scene heading (e.g. 'INT. KITCHEN - DAY') in the file"))
    if problems:
        raise ScriptFormatError(sorted(problems, key=lambda p: p[1]))
    title = meta.get("title") or Path(path).stem.replace("_", " ").title()
    return Script(
        title_id=title_id or meta.get("title id") or Path(path).stem,
        title=title,
        format="fountain",
        source=where,
        scenes=scenes,
        meta=meta,
    )
