"""Generate the synthetic world and store it as the active source."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reelops.abr.traces import load_trace_dir
from reelops.config import Settings
from reelops.sources import SourceInfo, write_source
from reelops.world.generator import generate_world
from reelops.world.holdout import draw_holdout

SOURCE = "world"


def generate_source(
    settings: Settings,
    config,
    traces_dir: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> SourceInfo:
    """Generate a world (over real traces if ``traces_dir`` is given) and make it active.

    The hidden ground truth is stored apart from the raw tables, under ``truth/``, and
    the world's hold-out traces (:func:`~reelops.world.holdout.draw_holdout`), which
    models evaluate on, under ``holdout/``. ``progress`` is handed to
    :func:`~reelops.world.generator.generate_world`.
    """

    traces = load_trace_dir(traces_dir) if traces_dir else None
    world = generate_world(config, traces=traces, progress=progress)
    return write_source(
        settings, SOURCE, "synthetic", world.tables, extras=world.truth, holdout=draw_holdout()
    )
