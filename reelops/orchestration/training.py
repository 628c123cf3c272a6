"""Run a training DAG in-process (``reelops <model> train``) and say why it did not succeed."""

from __future__ import annotations

from reelops.config import Settings
from reelops.orchestration.runs import DagRunResult, run_dag
from reelops.quality.release import ReleaseError
from reelops.specs import load_spec

HUMAN_IN_PROCESS = (
    "the spec asks for human approval, which waits for a person in the Airflow UI: "
    "start `make airflow` and trigger {dag} there (an in-process run has nobody to ask)"
)


def run_training_dag(settings: Settings, model: str) -> DagRunResult:
    """Run ``reelops_<model>`` in-process and return its result.

    Raises:
        ReleaseError: The spec asks for human approval (nobody could answer in-process),
            or the run did not succeed (the message names the tasks that did not).
    """
    dag_id = f"reelops_{model}"
    if load_spec(model).approval == "human":
        raise ReleaseError(HUMAN_IN_PROCESS.format(dag=dag_id))
    result = run_dag(settings, dag_id)
    if not result.ok:
        raise ReleaseError(
            f"DAG run {result.run_id} ended {result.state}; "
            f"tasks not successful: {result.unsuccessful}"
        )
    return result
