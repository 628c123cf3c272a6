"""Content DAG: analyze the imported scripts, build the genome, dbt, materialize the view."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from reelops.orchestration.assets import ONLINE_FEATURES, SCRIPTS, WAREHOUSE_MARTS


@dag(
    schedule=[SCRIPTS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["reelops", "content"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    doc_md="""
### ReelOps content
Runs when `reelops import scripts` has imported scripts (the `reelops_scripts` Asset),
or by hand (`reelops pipeline content`). Analyzes every imported script with the
Script Analyzer (scenes, sentiment arc and its shape, pacing, consistency flags),
turns the analyses and the catalogue's genres into the Content Genome and writes it
into the active source's lake, runs `dbt build` (the `dim_title_genome` mart among
the others) and publishes the warehouse marts, then materializes the `title_genome`
feature view and publishes the online features, the Asset the training DAGs run on.
""",
)
def reelops_content():
    @task
    def analyze(**context):
        from reelops.orchestration.content import analyze

        return analyze(**context)

    @task
    def genome(analyzed: dict, **context):
        from reelops.orchestration.content import genome

        return genome(analyzed, **context)

    @task(outlets=[WAREHOUSE_MARTS])
    def build_warehouse(genomes: dict, **context):
        from reelops.orchestration.daily import build_warehouse

        return build_warehouse(genomes, **context)

    @task(outlets=[ONLINE_FEATURES])
    def materialize_genome(built: dict, **context):
        from reelops.orchestration.content import materialize_genome

        return materialize_genome(built, **context)

    materialize_genome(build_warehouse(genome(analyze())))


reelops_content()
