"""Imported scripts, one folder per title under ``REELOPS_HOME/scripts``: all files or none."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from reelops.config import Settings
from reelops.content.fountain import parse_fountain
from reelops.content.model import Script, ScriptFormatError
from reelops.content.plays import parse_play

PARSERS = {".fountain": parse_fountain, ".spmd": parse_fountain, ".txt": parse_play}
SCRIPT_FILE = "script.json"
TITLE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def scripts_dir(settings: Settings) -> Path:
    return settings.home / "scripts"


def parse_script(path: Path) -> Script:
    """Parse one file by its suffix: ``.fountain`` (or ``.spmd``) or a ``.txt`` play.

    Raises:
        ScriptFormatError: the file is malformed (file and line named) or of no known kind.
    """
    parser = PARSERS.get(path.suffix.lower())
    if parser is None:
        known = ", ".join(PARSERS)
        raise ScriptFormatError([(str(path), 0, f"unknown script kind; expected {known}")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScriptFormatError([(str(path), 0, f"not UTF-8 text ({exc.reason})")]) from None
    return parser(path, text)


def parse_folder(folder: Path) -> list[Script]:
    """Every script file in ``folder`` parsed; problems of all files reported together.

    Raises:
        FileNotFoundError: ``folder`` is missing or holds no script file.
        ScriptFormatError: any file is malformed, or two files claim one title id.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in PARSERS and p.is_file())
    if not files:
        raise FileNotFoundError(f"{folder}: no {', '.join(PARSERS)} files")
    scripts, problems, seen = [], [], {}
    for path in files:
        try:
            script = parse_script(path)
        except ScriptFormatError as exc:
            problems += exc.problems
            continue
        if not TITLE_ID_RE.match(script.title_id):
            problems.append(
                (str(path), 1, f"title id {script.title_id!r} is not letters, digits, '_.-'")
            )
        elif script.title_id in seen:
            problems.append(
                (str(path), 1, f"title id {script.title_id!r} is also {seen[script.title_id]}")
            )
        seen[script.title_id] = str(path)
        scripts.append(script)
    if problems:
        raise ScriptFormatError(problems)
    return scripts


def import_scripts(settings: Settings, folder: Path) -> list[Script]:
    """Parse every script in ``folder``, then store each under its title; nothing on error.

    Each title's folder (``script.json`` and the source file) is built beside its final
    name and renamed into place, replacing an earlier import of that title.

    Raises:
        FileNotFoundError, ScriptFormatError: as :func:`parse_folder`; nothing is written.
    """
    scripts = parse_folder(folder)
    root = scripts_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".import.") as tmp:
        staged = []
        for script in scripts:
            out = Path(tmp) / script.title_id
            out.mkdir()
            source = Path(script.source)
            shutil.copyfile(source, out / f"source{source.suffix.lower()}")
            (out / SCRIPT_FILE).write_text(json.dumps(script.to_dict()) + "\n")
            staged.append((out, root / script.title_id))
        for out, final in staged:
            if final.exists():
                final.rename(Path(tmp) / f"{final.name}.replaced")
            os.replace(out, final)
    return scripts


def stored_titles(settings: Settings) -> list[str]:
    root = scripts_dir(settings)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / SCRIPT_FILE).is_file())


def load_script(settings: Settings, title_id: str) -> Script:
    """The imported script of ``title_id``.

    Raises:
        FileNotFoundError: no script was imported for it (naming the command that does).
    """
    path = scripts_dir(settings) / title_id / SCRIPT_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no script imported for title {title_id!r} (under {scripts_dir(settings)}); "
            "run `reelops import scripts DIR` first"
        )
    return Script.from_dict(json.loads(path.read_text()))
