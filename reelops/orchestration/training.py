"""Run a training DAG (``reelops <model> train``) and say why it did not succeed."""

from __future__ import annotations

from reelops.config import Settings
from reelops.orchestration.api import running_api
from reelops.orchestration.dispatch import run_or_trigger
from reelops.orchestration.runs import DagRunResult
from reelops.quality.release import ReleaseError
from reelops.specs import load_spec

HUMAN_IN_PROCESS = (
    "the spec asks for human approval, which waits for a person in the Airflow UI: "
    "start `make airflow` and run this again (it then triggers {dag} there and waits "
    "for the answer); an in-process run has nobody to ask"
)


def run_training_dag(settings: Settings, model: str, verbose: bool = False) -> DagRunResult:
    """Run ``reelops_<model>`` (on the running Airflow if there is one) and return its result.

    Raises:
        ReleaseError: The run would be in-process and the spec asks for human approval
            (nobody could answer), or the run did not succeed (the message names the
            tasks that did not).
    """
    dag_id = f"reelops_{model}"
    api = running_api(settings)
    if api is None and load_spec(model).approval == "human":
        raise ReleaseError(HUMAN_IN_PROCESS.format(dag=dag_id))
    result = run_or_trigger(settings, dag_id, api=api, verbose=verbose)
    if not result.ok:
        raise ReleaseError(
            f"DAG run {result.run_id} ended {result.state}; "
            f"tasks not successful: {result.unsuccessful}"
        )
    return result
