"""The script data model: a script holds scenes, a scene holds lines, a line has a speaker."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

DIALOGUE = "dialogue"
ACTION = "action"


class ScriptFormatError(ValueError):
    """A script file is malformed; ``problems`` are ``(file, line, message)`` triples."""

    def __init__(self, problems: list[tuple[str, int, str]]):
        self.problems = problems
        shown = "\n".join(f"{path}:{line}: {message}" for path, line, message in problems[:20])
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(shown + more)


@dataclass(frozen=True)
class Line:
    """One line of a script: a speech (``speaker`` set) or an action / stage direction.

    Attributes:
        number: Line number in the source file (1-based), for flags writers can find.
        kind: ``dialogue`` or ``action``.
        text: The words, one paragraph of them.
        speaker: Upper-case character name for dialogue, None for action.
    """

    number: int
    kind: str
    text: str
    speaker: str | None = None


@dataclass
class Scene:
    """A scene: its heading, the act it belongs to (plays) and its lines in order."""

    index: int
    heading: str
    number: int  # source line of the heading
    act: str = ""
    lines: list[Line] = field(default_factory=list)

    @property
    def speakers(self) -> list[str]:
        """Characters who speak in the scene, in order of first speech."""
        return list(dict.fromkeys(ln.speaker for ln in self.lines if ln.speaker))

    @property
    def words(self) -> int:
        return sum(len(ln.text.split()) for ln in self.lines)


@dataclass
class Script:
    """A parsed script of one title.

    Attributes:
        title_id: The catalogue id it belongs to (the file name's stem unless the title
            page says ``Title ID:``).
        title: Human title.
        format: ``fountain`` or ``play``.
        source: Path of the file it was parsed from.
        scenes: The scenes in order.
        meta: Title-page keys (lower-case) and their values.
    """

    title_id: str
    title: str
    format: str
    source: str
    scenes: list[Scene]
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def lines(self) -> list[Line]:
        return [line for scene in self.scenes for line in scene.lines]

    @property
    def characters(self) -> list[str]:
        """Speaking characters, most lines first."""
        counts: dict[str, int] = {}
        for line in self.lines:
            if line.speaker:
                counts[line.speaker] = counts.get(line.speaker, 0) + 1
        return sorted(counts, key=lambda name: (-counts[name], name))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Script:
        scenes = [
            Scene(
                index=s["index"],
                heading=s["heading"],
                number=s["number"],
                act=s.get("act", ""),
                lines=[Line(**line) for line in s["lines"]],
            )
            for s in data["scenes"]
        ]
        return cls(
            title_id=data["title_id"],
            title=data["title"],
            format=data["format"],
            source=data["source"],
            scenes=scenes,
            meta=dict(data.get("meta", {})),
        )
