"""`reelops <model> train`: an in-process DAG run, refused for human approval, failures named."""

from __future__ import annotations

import pytest

from reelops.orchestration import training
from reelops.orchestration.runs import DagRunResult
from reelops.quality.release import ReleaseError
from reelops.specs import load_spec


def test_in_process_training_refuses_human_approval_and_reports_failed_tasks(settings, monkeypatch):
    runs = []

    def run_dag(_settings, dag_id, **_):
        runs.append(dag_id)
        return DagRunResult(dag_id, "run-1", "failed", {"train": "failed", "gates": "skipped"})

    monkeypatch.setattr(training, "run_or_trigger", run_dag)
    monkeypatch.setattr(training, "load_spec", lambda name: load_spec(name, approval="human"))
    with pytest.raises(ReleaseError, match="human approval.*triggers reelops_ranker there"):
        training.run_training_dag(settings, "ranker")
    assert runs == []  # nobody could answer in-process: the DAG never starts

    monkeypatch.setattr(training, "load_spec", lambda name: load_spec(name, approval="auto"))
    with pytest.raises(
        ReleaseError,
        match=r"run-1 ended failed; tasks not successful: \{'train': 'failed'\}",
    ):
        training.run_training_dag(settings, "bitrate")
    assert runs == ["reelops_bitrate"]


def test_a_successful_run_is_returned(settings, monkeypatch):
    done = DagRunResult("reelops_ranker", "run-2", "success", {"train": "success"})
    monkeypatch.setattr(training, "run_or_trigger", lambda _settings, dag_id, **_: done)
    monkeypatch.setattr(training, "load_spec", lambda name: load_spec(name, approval="auto"))
    assert training.run_training_dag(settings, "ranker") is done
