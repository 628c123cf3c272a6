"""The home's lock: one writing run at a time, the holder named, freed when it dies."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from reelops.locks import HomeBusyError, home_lock

HOLD = """
import sys, time
from reelops.config import get_settings
from reelops.locks import home_lock
with home_lock(get_settings(), "pipeline run"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


def _holder(settings, seconds: float) -> subprocess.Popen:
    env = {**os.environ, "REELOPS_HOME": str(settings.home)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(seconds)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_is_told_who_holds_the_home(settings):
    proc = _holder(settings, 60)
    try:
        with pytest.raises(HomeBusyError) as busy, home_lock(settings, "x", wait=False):
            pass
        assert f"pid {proc.pid} (pipeline run, since " in str(busy.value)
    finally:
        proc.kill()
        proc.wait()
    # The holder was killed: the lock is free at once.
    with home_lock(settings, "warehouse build", wait=False):
        pass


def test_waiting_run_goes_on_when_the_holder_finishes(settings, capsys):
    proc = _holder(settings, 1.5)
    began = time.monotonic()
    with home_lock(settings, "warehouse build"):
        assert time.monotonic() - began > 0.5
    proc.wait()
    assert f"warehouse build: waiting for pid {proc.pid} (pipeline run" in capsys.readouterr().err


def test_the_lock_is_reentrant_within_a_process(settings):
    with home_lock(settings, "pipeline run"), home_lock(settings, "DAG run", wait=False):
        pass
