"""The privacy DAG's task adapter: carry out the queued erasure requests."""

from __future__ import annotations

from typing import Any

from reelops.erasure.requests import process_queue
from reelops.orchestration.context import run_values


def process_erasures(**context: Any) -> list[dict[str, Any]]:
    """Erase every member with a pending request; each request's state is in its file.

    Fails the task when a request failed (after trying all of them), so the run shows red
    and its retry resumes the request where it stopped.
    """
    run = run_values(context)
    handled = process_queue(run.settings)
    for item in handled:
        print(
            f"erasure {item['id']}: {item['state']}"
            + (f" ({item['error']})" if item["error"] else "")
        )
    failed = [item["id"] for item in handled if item["state"] != "done"]
    if failed:
        raise RuntimeError(
            f"erasure request(s) {failed} did not finish; their files under"
            f" {run.settings.home / 'privacy' / 'requests'} record the error, and the next"
            " run (or `reelops privacy erase --member ID`) resumes them"
        )
    return handled
