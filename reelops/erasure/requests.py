"""Erasure requests: remove one member from every store, resumably, and audit the result.

Each request is a JSON file under ``REELOPS_HOME/privacy/requests/`` named by source and
pseudonym, so asking twice finds the same request. It records which stores are done;
an erasure killed halfway is resumed by running it again (or by the ``reelops_privacy``
DAG), and stores already done are skipped. Every store's erase is idempotent, so a
store interrupted in the middle is simply erased again. The raw id is kept in the
request only while it is pending; the audit log never holds it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reelops.config import Settings
from reelops.erasure.file_stores import LakeStore
from reelops.erasure.identity import Member, resolve
from reelops.erasure.report import activity_span, scan, scan_summary, trained_on, with_sessions
from reelops.erasure.stores import stores
from reelops.locks import home_lock

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
PENDING = (QUEUED, RUNNING, FAILED)


class ErasureIncompleteError(RuntimeError):
    """The scan after an erasure still found the member somewhere."""


@dataclass
class ErasureRequest:
    """One member's erasure and how far it got.

    Attributes:
        id: ``<source>-<first 16 hex of the pseudonym>``; also the file's name.
        source: The member's source.
        member_key: The pseudonym.
        member_id: The raw id while the request is pending; None once done.
        state: ``queued``, ``running``, ``done`` or ``failed``.
        session_ids: The member's playback sessions, found before the lake is erased.
        stores: Store name -> ``{"state": "done", "removed": rows, "seconds": s}``.
        models_trained_on: Model versions trained on the member's data (lineage).
        scan_after: Rows found per store by the scan after erasing (all 0 when done).
        scan_seconds: How long that scan took.
    """

    id: str
    source: str
    member_key: str
    member_id: str | None
    state: str = QUEUED
    requested_at: str = ""
    finished_at: str | None = None
    session_ids: list[str] = field(default_factory=list)
    stores: dict[str, dict[str, Any]] = field(default_factory=dict)
    models_trained_on: list[dict[str, Any]] = field(default_factory=list)
    scan_after: dict[str, int] = field(default_factory=dict)
    scan_seconds: float | None = None
    error: str | None = None

    @property
    def member(self) -> Member:
        return Member(self.source, self.member_key, self.member_id, frozenset(self.session_ids))


def privacy_dir(settings: Settings) -> Path:
    """``REELOPS_HOME/privacy`` (owner-only): requests and the audit log."""
    folder = settings.home / "privacy"
    (folder / "requests").mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def audit_path(settings: Settings) -> Path:
    """The erasure audit log: one JSON object per finished erasure."""
    return privacy_dir(settings) / "audit.jsonl"


def _now() -> str:
    # When a request was made or finished is a fact about people acting, not task logic.
    return datetime.now(UTC).isoformat(timespec="seconds")


def _path(settings: Settings, request_id: str) -> Path:
    return privacy_dir(settings) / "requests" / f"{request_id}.json"


def _save(settings: Settings, request: ErasureRequest) -> None:
    path = _path(settings, request.id)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(request), indent=2) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_request(settings: Settings, request_id: str) -> ErasureRequest:
    """A request by id (as listed by :func:`list_requests`)."""
    return ErasureRequest(**json.loads(_path(settings, request_id).read_text()))


def list_requests(settings: Settings) -> list[ErasureRequest]:
    """Every request, oldest first."""
    folder = privacy_dir(settings) / "requests"
    found = [load_request(settings, p.stem) for p in folder.glob("*.json")]
    return sorted(found, key=lambda r: (r.requested_at, r.id))


def request_id(member: Member) -> str:
    """The id (and file name) of the erasure request of a member."""
    return f"{member.source}-{member.member_key[:16]}"


def _request_for(settings: Settings, member: Member) -> ErasureRequest:
    if _path(settings, request_id(member)).exists():
        request = load_request(settings, request_id(member))
        if request.state == DONE:  # asked again: run every store again (harmless)
            request.stores, request.state, request.finished_at = {}, QUEUED, None
        request.member_id = request.member_id or member.member_id
        return request
    return ErasureRequest(
        id=request_id(member),
        source=member.source,
        member_key=member.member_key,
        member_id=member.member_id,
        requested_at=_now(),
    )


def known_member(settings: Settings, member: Member) -> Member:
    """The member with every session id known: in the lake, and recorded by an erasure.

    Once the lake is erased only the request remembers the sessions, whose chunk
    telemetry would otherwise be unrecognisable to a later scan.
    """
    member = with_sessions(settings, member)
    if _path(settings, request_id(member)).exists():
        recorded = load_request(settings, request_id(member)).session_ids
        member = member.with_sessions(set(recorded))
    return member


def queue_erasure(settings: Settings, source: str, member_id: str) -> ErasureRequest:
    """Record an erasure request for the ``reelops_privacy`` DAG to carry out.

    Raises:
        UnknownMemberError: The id is unknown in ``source``; nothing is written.
    """
    member, _ = resolve(settings, source, member_id)
    request = _request_for(settings, member)
    request.state = QUEUED
    _save(settings, request)
    return request


def erase_member(settings: Settings, source: str, member_id: str) -> ErasureRequest:
    """Erase one member now (or finish an earlier, interrupted erasure of them).

    Holds the home's lock: the lake and the warehouse are rewritten, so no pipeline run
    may land or build meanwhile.

    Raises:
        UnknownMemberError: The id is unknown in ``source``; nothing is written.
        ErasureIncompleteError: The scan afterwards still found them.
    """
    member, _ = resolve(settings, source, member_id)
    with home_lock(settings, "privacy erase"):
        return run_request(settings, _request_for(settings, member))


def run_request(settings: Settings, request: ErasureRequest) -> ErasureRequest:
    """Carry out one request store by store, recording each, then scan and audit."""
    if request.state in (QUEUED, FAILED) and not request.stores:
        # Before anything is erased: the sessions (chunk telemetry carries only these)
        # and the models trained on the member's data, both read from the lake.
        # An erasure asked for again keeps what the first one found: the lake no longer has it.
        member = with_sessions(settings, request.member)
        request.session_ids = sorted(member.session_ids)
        if not request.models_trained_on:
            lake_rows = LakeStore(settings, request.source).export(member)
            span = activity_span(lake_rows)
            request.models_trained_on = trained_on(settings, request.source, span)
    request.state, request.error = RUNNING, None
    _save(settings, request)
    member = request.member
    for store in stores(settings, request.source):
        if request.stores.get(store.name, {}).get("state") == DONE:
            continue
        began = time.monotonic()
        try:
            removed = store.erase(member)
        except Exception as exc:
            request.state, request.error = FAILED, f"{store.name}: {exc}"
            _save(settings, request)
            raise
        seconds = round(time.monotonic() - began, 2)
        request.stores[store.name] = {"state": DONE, "removed": removed, "seconds": seconds}
        _save(settings, request)
    began = time.monotonic()
    request.scan_after = scan_summary(scan(settings, member))
    request.scan_seconds = round(time.monotonic() - began, 2)
    left = {name: n for name, n in request.scan_after.items() if n}
    if left:
        request.state = FAILED
        request.error = f"the scan after erasing still finds rows: {left}"
        _save(settings, request)
        raise ErasureIncompleteError(
            f"erasure {request.id}: {request.error}; run the erasure again"
            f" (request file {_path(settings, request.id)})"
        )
    request.state, request.member_id, request.finished_at = DONE, None, _now()
    _save(settings, request)
    _audit(settings, request)
    return request


def _audit(settings: Settings, request: ErasureRequest) -> None:
    entry = {
        "action": "erase",
        "request": request.id,
        "source": request.source,
        "member_key": request.member_key,
        "requested_at": request.requested_at,
        "finished_at": request.finished_at,
        "removed": {name: s["removed"] for name, s in request.stores.items()},
        "scan_after": request.scan_after,
        "models_trained_before_erasure": request.models_trained_on,
    }
    with open(audit_path(settings), "a") as fh:
        fh.write(json.dumps(entry) + "\n")
    os.chmod(audit_path(settings), 0o600)


def process_queue(settings: Settings) -> list[dict[str, Any]]:
    """Carry out every pending request (queued, interrupted or failed), oldest first.

    A request that fails is recorded ``failed`` with its error and the others still
    run. Holds the home's lock, like :func:`erase_member`.

    Returns:
        One ``{"id", "state", "error"}`` per request handled.
    """
    handled = []
    with home_lock(settings, "privacy erasure queue"):
        pending = [r for r in list_requests(settings) if r.state in PENDING]
    for request in pending:
        try:
            with home_lock(settings, "privacy erasure queue"):
                request = run_request(settings, request)
        except Exception as exc:  # recorded in the request file; the next run retries it
            request = load_request(settings, request.id)
            request.error = request.error or str(exc)
        handled.append({"id": request.id, "state": request.state, "error": request.error})
    return handled
