"""The content DAG's task adapters: analyze the imported scripts, build the genome, materialize."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from reelops.config import Settings
from reelops.content.genome import (
    FLAG_COLUMNS,
    analyze_scripts,
    genomes_from_analyses,
    publish_genomes,
)
from reelops.orchestration.api import running_api
from reelops.orchestration.context import holds_home_lock, run_values
from reelops.sources import active_source, source_info

DAG_ID = "reelops_content"
GENOME_VIEW = "title_genome"


def announce_scripts(settings: Settings, titles: int) -> str | None:
    """Tell the running Airflow that scripts were imported (an event of the scripts Asset).

    Its scheduler then runs the content DAG. Returns where to follow it, or None when no
    Airflow runs for this home (nothing is recorded; run the DAG by hand).

    Raises:
        RuntimeError: the running Airflow has no such Asset yet or refused the event.
    """
    api = running_api(settings)
    if api is None:
        return None
    from reelops.orchestration.assets import SCRIPTS  # Airflow: only when one is up

    event = api.asset_event(SCRIPTS.name, {"titles": titles})
    return (
        f"asset event {event.get('id')} on {SCRIPTS.name!r}: the scheduler runs {DAG_ID}; "
        f"follow it at {api.base_url}/dags/{DAG_ID}"
    )


@holds_home_lock
def analyze(**context: Any) -> dict[str, Any]:
    """Analyze every imported script (scenes, arc, pacing, flags) and store the analyses."""
    run = run_values(context)
    started = time.perf_counter()
    analyses = analyze_scripts(run.settings)
    seconds = round(time.perf_counter() - started, 1)
    flags = {column: int(analyses[column].sum()) for column in FLAG_COLUMNS}
    print(f"analyzed {len(analyses)} scripts in {seconds} s; flags: {flags}")
    return {"scripts": len(analyses), "seconds": seconds, "flags": flags}


@holds_home_lock
def genome(analyzed: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Genomes from the analyses plus the catalogue's genres, written into the lake."""
    run = run_values(context)
    source = active_source(run.settings)
    genomes = genomes_from_analyses(run.settings)
    partition = publish_genomes(run.settings, source, genomes)
    print(f"{len(genomes)} genomes written into source {source!r}'s lake: {partition}")
    return {"source": source, "genomes": len(genomes), "partition": str(partition)}


@holds_home_lock
def materialize_genome(built: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Bring the online store's ``title_genome`` view up to date (in full: it is static).

    The window ends where the source's data does, like the daily DAG's last run;
    every other view keeps its watermark.
    """
    # Feast is heavy and only this task needs it.
    from reelops.features.materialize import describe_materialization, materialize

    run = run_values(context)
    source = active_source(run.settings)
    last = source_info(run.settings, source).last_ts or datetime(1970, 1, 1)
    end = datetime.combine(last.date(), datetime.min.time()) + timedelta(days=1)
    result = materialize(run.settings, end=end, source=source, views=[GENOME_VIEW])
    print(describe_materialization(result))
    return result.summary()
