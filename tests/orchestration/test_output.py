"""An in-process run's output: the console gets our lines, the logs get everything."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import subprocess, sys
from pathlib import Path
from reelops.orchestration.output import OutputRouter
with OutputRouter(Path(sys.argv[1]) / "run.log", verbose=sys.argv[2] == "1") as out:
    print("airflow noise")
    out.to_file(Path(sys.argv[1]) / "task" / "attempt=1.log")
    subprocess.run(["echo", "from a child process"])
    print("no newline yet", end="")
    out.to_file(None)
    out.echo("  land   success   1.0 s")
    print("to stderr", file=sys.stderr)
print("after the run")
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_the_console_gets_echoed_lines_and_the_logs_get_everything(tmp_path, verbose):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), "1" if verbose else "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    everything = (
        "airflow noise\nfrom a child process\nno newline yet  land   success   1.0 s\nto stderr\n"
    )
    quiet = "  land   success   1.0 s\n"
    assert done.stdout == (everything if verbose else quiet) + "after the run\n"
    assert done.stderr == ""
    assert (tmp_path / "task" / "attempt=1.log").read_text() == (
        "from a child process\nno newline yet"
    )
    assert (tmp_path / "run.log").read_text() == everything
