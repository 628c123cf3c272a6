"""The content DAG's wiring: on the scripts Asset, analyze -> genome -> dbt -> features."""

from __future__ import annotations

from dag_probe import probe_dag


def test_content_dag_wiring(tmp_path):
    dag = probe_dag(
        tmp_path,
        "reelops_content",
        """{
    "tasks": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
    "outlets": {t.task_id: sorted(o.name for o in t.outlets) for t in dag.tasks},
    "assets": [a.name for a in dag.timetable.asset_condition.objects],
    "catchup": dag.catchup,
    "max_active_runs": dag.max_active_runs,
    "retries": sorted({t.retries for t in dag.tasks}),
}""",
    )
    assert dag["tasks"] == {
        "analyze": [],
        "genome": ["analyze"],
        "build_warehouse": ["genome"],
        "materialize_genome": ["build_warehouse"],
    }
    assert dag["assets"] == ["reelops_scripts"]
    assert dag["outlets"] == {
        "analyze": [],
        "genome": [],
        "build_warehouse": ["reelops_warehouse_marts"],
        "materialize_genome": ["reelops_online_features"],
    }
    assert dag["catchup"] is False and dag["max_active_runs"] == 1 and dag["retries"] == [1]
