"""One path for every DAG run the CLI starts: the running scheduler's, else in-process.

When ``reelops airflow up`` serves this home (api-server and a healthy scheduler),
a run is triggered through the REST API exactly as the UI's trigger form would and
followed until it ends, so it runs under the scheduler and executor like any other.
Otherwise it runs in this process (:func:`reelops.orchestration.runs.run_dag`).
"""

from __future__ import annotations

from collections.abc import Callable

from reelops.config import Settings
from reelops.orchestration.api import AirflowApi, running_api
from reelops.orchestration.runs import DagRunResult, run_dag


class DagPausedError(RuntimeError):
    """The running Airflow has the DAG paused: a triggered run would never start."""


def run_or_trigger(
    settings: Settings,
    dag_id: str,
    conf: dict | None = None,
    *,
    api: AirflowApi | None = None,
    verbose: bool = False,
    echo: Callable[[str], None] = print,
) -> DagRunResult:
    """Run ``dag_id`` with ``conf`` through the running Airflow if there is one, else in-process.

    Args:
        settings: Platform settings (the home whose Airflow is looked for).
        dag_id: The DAG.
        conf: The run's conf (the DAG's Params).
        api: The running Airflow's API, if the caller looked already.
        verbose: In-process: stream Airflow's and the tools' output too.
        echo: Where the lines about a followed run go (in-process runs own the console).

    Raises:
        DagPausedError: The running Airflow has ``dag_id`` paused.
    """
    api = api or running_api(settings)
    if api is None:
        return run_dag(settings, dag_id, conf=conf, verbose=verbose)
    api.wait_for_dag(dag_id)
    if api.client.get(f"/dags/{dag_id}").json().get("is_paused"):
        raise DagPausedError(
            f"{dag_id} is paused in the running Airflow ({api.base_url}); unpause it there "
            "or stop `reelops airflow up` to run in-process"
        )
    run_id = api.trigger(dag_id, conf)
    echo(f"{dag_id}: triggered on the running Airflow: {api.base_url}/dags/{dag_id}/runs/{run_id}")
    return api.follow(dag_id, run_id, echo)
