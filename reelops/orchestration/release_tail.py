"""The release tail both training DAGs end with: gates → approval → promotion or rejection.

Wiring only, light to import at DAG parse time (Airflow objects; the gates' heavy
imports happen inside the tasks)::

    gates ──► route ──► approval (human only) ──► promote ──► reject ──► released
                 └────────────────────────────────►┘   └─────────────────►┘

``route`` follows ``promote`` (auto approval, gates pass), ``approval`` (human
approval, gates pass) or nothing (gates fail). ``promote`` runs when the route or the
approval let it; ``reject`` runs only when ``promote`` was skipped (failed gates, or
a reviewer answered Reject) and records the rejection with its reason; ``released``
prints the version's final stage and report paths and fails the run if anything
above failed.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Param, task

GATES = "gates"
APPROVAL = "approval"
PROMOTE = "promote"
REJECT = "reject"
RELEASED = "released"
ANSWER = "answer"


class ReleaseApproval(ApprovalOperator):
    """Airflow's ApprovalOperator that also keeps the answer when it is Reject.

    On Reject the stock operator skips its downstream tasks by raising, so its return
    value is never stored; ``reject`` needs the reviewer and the reason, so the answer
    is pushed to XCom (key ``answer``) before the operator decides.
    """

    def execute_complete(self, context, event: dict[str, Any]) -> Any:
        if "error" not in event:
            context["ti"].xcom_push(
                key=ANSWER,
                value={
                    "chosen_options": list(event["chosen_options"]),
                    "params_input": dict(event.get("params_input") or {}),
                    "responded_by_user": event.get("responded_by_user"),
                },
            )
        return super().execute_complete(context=context, event=event)


def training_params() -> dict[str, Param]:
    """The training DAGs' Params: the UI's trigger form asks for them; ``conf`` fills them."""
    return {
        "approval": Param(
            None,
            type=["null", "string"],
            enum=[None, "auto", "human"],
            title="Approval",
            description="Empty: the spec's. `human` parks the run at `approval` for a person; "
            "a run can ask for a person but never skip one the spec asks for.",
        ),
        "spec": Param(
            None,
            type=["null", "string"],
            title="Spec file",
            description="Another model spec (YAML path), e.g. a small grid for tests. Empty: "
            "models/<model>.yaml.",
        ),
    }


def release_tasks(model: str, saved: Any):
    """Append gates, approval and promotion/rejection to a training DAG.

    Args:
        model: The model's registry name (for the approval's subject).
        saved: The upstream task's output (an XComArg) holding ``model``, ``version``,
            ``approval`` (``auto``/``human``/None for the spec's) and optionally
            ``spec`` (a spec path; default ``models/<model>.yaml``).

    Returns:
        The last task (``released``).
    """

    @task(task_id=GATES)
    def gates(saved: dict, **context) -> dict:
        from reelops.config import get_settings
        from reelops.orchestration.context import task_home_lock
        from reelops.quality.release import run_gates

        with task_home_lock(context, GATES):
            result = run_gates(
                get_settings(),
                saved["model"],
                saved["version"],
                approval=saved.get("approval"),
                spec=saved.get("spec"),
            )
        # The task log is where people look first: the verdict, the table, the reports.
        print(
            f"gates {'PASSED' if result['passed'] else 'FAILED'} for "
            f"{result['model']}:{result['version']} (champion {result['champion']})"
        )
        print(result["table"])
        for name, path in result["reports"].items():
            print(f"report {name}: {path}")
        return result

    @task.branch(task_id="route")
    def route(result: dict) -> str | None:
        if not result["passed"]:
            return None  # skips approval and promote; reject records why
        return APPROVAL if result["approval"] == "human" else PROMOTE

    @task(task_id=PROMOTE, trigger_rule="none_failed_min_one_success")
    def promote(result: dict, **context) -> dict:
        from reelops.config import get_settings
        from reelops.orchestration.context import task_home_lock
        from reelops.quality.release import auto_release, human_release

        response = context["ti"].xcom_pull(task_ids=APPROVAL, key=ANSWER)
        if result["approval"] == "human":
            if not response or response.get("chosen_options") != ["Approve"]:
                raise RuntimeError(f"{result['model']}:{result['version']} was not approved")
            with task_home_lock(context, PROMOTE):
                done = human_release(get_settings(), result, response)
        else:
            with task_home_lock(context, PROMOTE):
                done = auto_release(get_settings(), result)
        print(f"{done['model']}:{done['version']} is in production (was {done['previous']})")
        return done

    @task(task_id=REJECT, trigger_rule="all_skipped")
    def reject(**context) -> dict:
        from reelops.config import get_settings
        from reelops.orchestration.context import task_home_lock
        from reelops.quality.release import settle_rejection

        # Pulled, not passed: an argument would make ``gates`` an upstream task, and
        # ``all_skipped`` must see ``promote`` alone.
        result = context["ti"].xcom_pull(task_ids=GATES)
        response = context["ti"].xcom_pull(task_ids=APPROVAL, key=ANSWER)
        print(f"approval answer: {response}")
        with task_home_lock(context, REJECT):
            done = settle_rejection(get_settings(), result, response)
        print(f"{done['model']}:{done['version']} rejected: {done['reason']}")
        return done

    @task(task_id=RELEASED, trigger_rule="none_failed")
    def released(result: dict) -> dict:
        from reelops.config import get_settings
        from reelops.quality.release import outcome

        # The run's last word, and its one leaf: a failure anywhere above fails the run
        # (a skipped ``reject`` alone would let a failed run look successful).
        return outcome(get_settings(), result)

    result = gates(saved)
    routed = route(result)
    approval = ReleaseApproval(
        task_id=APPROVAL,
        subject=f"Release {model} {{{{ ti.xcom_pull(task_ids='{GATES}')['version'] }}}}?",
        body=f"{{{{ ti.xcom_pull(task_ids='{GATES}')['markdown'] }}}}",
        params={
            "reason": Param(
                "",
                type="string",
                title="Reason",
                description="Why you approve or reject (kept in the model's audit log).",
            )
        },
    )
    promoted = promote(result)
    routed >> [approval, promoted]
    approval >> promoted
    rejected = reject()
    promoted >> rejected
    done = released(result)
    [promoted, rejected] >> done
    return done
