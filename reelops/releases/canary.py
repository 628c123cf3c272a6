"""Judge a live canary on what its members did, against production's members.

The units are members. A canary serves a stable share of members (a hash of the member
key and the release's salt), so its members and production's are two independent
groups, compared with a two-sample bootstrap (:func:`reelops.stats.two_sample_bootstrap`)
of ``canary - production`` on the spec's ``release.metric``:

* ``ndcg@K`` / ``hit_rate@K`` (recommendations): each answered ``/recommend`` request in
  the prediction log since the release started, scored against the titles the member
  played in the outcome window (relevant = played), averaged per member. The arm is the
  one the log row records; production rows count only for the release's baseline version.
* ``qoe_lin`` (bitrate): each playback session's per-chunk QoE_lin (bitrate in Mbit/s,
  minus 4.3 x stall seconds, minus the bitrate change; the first chunk left out, as
  :func:`reelops.abr.qoe.qoe` does), averaged per member, with members assigned to arms
  by the release's hash (intention to treat: bitrate requests name their member only
  when the player sends it).

The decision (:func:`judge`), with the spec's margin ``m`` and an interval at
``release.look_confidence`` (the test's confidence split over ``max_looks`` looks):

* **promote** when the lower bound is at least ``-m`` (non-inferior);
* else **roll back** when the upper bound is below zero (shown worse), or at the last
  look (not shown non-inferior in the looks it had);
* else **continue**. Fewer than ``min_members`` members on an arm is not a look.

:func:`decide` applies it in the registry: a promotion ends the release ``promoted``
(audited ``promote``), a rollback ends it ``rolled_back`` (the canary is rejected, audited
``canary_rollback``) and the services put its members back on production at their next
poll. The monitoring DAG calls :func:`decide` once a day; ``reelops models canary``
calls the same functions.
"""

from __future__ import annotations

import getpass
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from reelops import lake
from reelops.abr.qoe import REBUFFER_PENALTY_LIN, SMOOTH_PENALTY
from reelops.config import Settings
from reelops.registry import Registry, RegistryError, Release
from reelops.sources import active_source
from reelops.specs import ReleasePolicy, load_spec
from reelops.stats import two_sample_bootstrap

AUTO_ACTOR = "reelops-auto"
LOG_TABLE = "serving_logs"  # reelops.serving.prediction_log.TABLE (the layer above)
LOG_COLUMNS = ("logged_at", "model_name", "model_version", "member_key", "output", "arm")
LOG_EXTRA = ("request_id", "latency_ms", "fallback")
ACTIONS = ("promote", "rollback", "continue")
_RANKED = re.compile(r"^(ndcg|hit_rate)@(\d+)$")


class CanaryError(ValueError):
    """A canary request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class Comparison:
    """Canary minus production on one live metric, per member."""

    metric: str
    canary_members: int
    production_members: int
    canary_mean: float
    production_mean: float
    difference: float
    low: float
    high: float
    confidence: float
    margin: float

    def text(self) -> str:
        return (
            f"{self.metric}: canary {self.canary_mean:.4f} ({self.canary_members} members) - "
            f"production {self.production_mean:.4f} ({self.production_members} members) = "
            f"{self.difference:+.4f}, {self.confidence:.1%} CI [{self.low:+.4f}, "
            f"{self.high:+.4f}], margin {self.margin:g}"
        )


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` concluded, and whether it was applied in the registry."""

    model: str
    version: str
    baseline: str
    action: str  # promote | rollback | continue
    reason: str
    look: int  # this look's number (0: not a look, too few members)
    max_looks: int
    comparison: Comparison | None
    applied: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- reading what was served and what members did ------------------------------------------


def _utc(value: str | datetime) -> datetime:
    """A naive UTC datetime (the lake's event times are naive UTC)."""
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else value
    return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def default_window(release: Release, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The outcome window by default: from the release's start to now (naive UTC)."""
    return _utc(release.started_at), _utc(now or datetime.now(UTC))


def read_served(lake_dir: Path, release: Release, *, since: datetime | None = None):
    """The answered rows of the release's model since it started (shadow rows left out).

    Production rows count only for the baseline version (the one the canary started
    beside), canary rows only for the canary's version.

    Returns:
        A frame with ``logged_at`` (naive UTC), ``model_version``, ``member_key``,
        ``arm``, ``output`` (parsed JSON), and ``request_id``/``latency_ms``/``fallback``.
    """
    since = since or _utc(release.started_at)
    frames = []
    for path in sorted(lake.table_dir(lake_dir, LOG_TABLE).glob("day=*/part-*.parquet")):
        if path.parent.name.removeprefix("day=") < since.date().isoformat():
            continue
        names = set(pq.read_schema(path).names)
        if "arm" not in names:  # written before releases existed
            continue
        table = pq.read_table(path, columns=[c for c in (*LOG_COLUMNS, *LOG_EXTRA) if c in names])
        frames.append(table.to_pandas())
    columns = [*LOG_COLUMNS, *LOG_EXTRA]
    if not frames:
        return pd.DataFrame(columns=columns)
    rows = pd.concat(frames, ignore_index=True).reindex(columns=columns)
    rows["logged_at"] = pd.to_datetime(rows["logged_at"], utc=True).dt.tz_localize(None)
    expected = {"production": release.baseline, "canary": release.version}
    keep = (
        (rows["model_name"] == release.name)
        & (rows["logged_at"] >= since)
        & rows["member_key"].notna()
        & (rows["model_version"] == rows["arm"].map(expected))
    )
    rows = rows.loc[keep].reset_index(drop=True)
    rows["output"] = [json.loads(o) if isinstance(o, str) else {} for o in rows["output"]]
    return rows


def read_shadow(lake_dir: Path, release: Release) -> pd.DataFrame:
    """The shadow rows of a release beside the answered rows they shadowed (by request id).

    Returns:
        One row per shadowed request: ``request_id``, ``served_output``,
        ``shadow_output`` (parsed), ``served_latency_ms``, ``shadow_latency_ms``.
    """
    since = _utc(release.started_at)
    frames = []
    for path in sorted(lake.table_dir(lake_dir, LOG_TABLE).glob("day=*/part-*.parquet")):
        names = set(pq.read_schema(path).names)
        if path.parent.name.removeprefix("day=") < since.date().isoformat() or "arm" not in names:
            continue
        columns = ["model_name", "model_version", "arm", "request_id", "output", "latency_ms"]
        frames.append(pq.read_table(path, columns=columns).to_pandas())
    empty = pd.DataFrame(
        columns=[
            "request_id",
            "served_output",
            "shadow_output",
            "served_latency_ms",
            "shadow_latency_ms",
        ]
    )
    if not frames:
        return empty
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[(rows["model_name"] == release.name) & rows["request_id"].notna()]
    shadow = rows[(rows["arm"] == "shadow") & (rows["model_version"] == release.version)]
    served = rows[rows["arm"] != "shadow"]
    pairs = shadow.merge(served, on="request_id", suffixes=("_shadow", "_served"))
    if pairs.empty:
        return empty
    return pd.DataFrame(
        {
            "request_id": pairs["request_id"],
            "served_output": [json.loads(o) for o in pairs["output_served"]],
            "shadow_output": [json.loads(o) for o in pairs["output_shadow"]],
            "served_latency_ms": pairs["latency_ms_served"],
            "shadow_latency_ms": pairs["latency_ms_shadow"],
        }
    ).reset_index(drop=True)


def _read_events(
    lake_dir: Path, table: str, columns: list[str], window: tuple[datetime, datetime]
) -> pd.DataFrame:
    """Rows of one lake event table whose ``ts`` falls in ``[start, end)``."""
    start, end = window
    frames = [
        pq.read_table(path, columns=columns).to_pandas()
        for day, path in lake.partitions(lake_dir, table)
        if start.date() <= day <= end.date()
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    rows = pd.concat(frames, ignore_index=True)
    if "ts" in rows:
        ts = pd.to_datetime(rows["ts"])
        rows = rows[(ts >= start) & (ts < end)]
    return rows.reset_index(drop=True)


# -- live outcomes per member -------------------------------------------------------------


def ranked_outcomes(
    served: pd.DataFrame, plays: pd.DataFrame, metric: str = "ndcg@10"
) -> pd.DataFrame:
    """Per member, the mean ``ndcg@K`` or ``hit_rate@K`` of the lists served to them.

    A list is scored against the titles the member played in the outcome window (binary
    relevance): NDCG@K is the DCG of the played titles in its top K over the ideal DCG of
    min(played, K) of them; hit rate@K is whether any of its top K was played. A member
    who played nothing scores 0 (not being watched is an outcome).

    Args:
        served: :func:`read_served`'s rows (``member_key``, ``arm``, ``output["titles"]``).
        plays: ``member_key`` and ``title_id`` of the plays in the window.
        metric: ``ndcg@K`` or ``hit_rate@K``.

    Returns:
        ``member_key``, ``arm``, ``value``, ``requests``.
    """
    match = _RANKED.match(metric)
    if not match:
        raise CanaryError(f"not a ranked-list metric: {metric!r} (ndcg@K or hit_rate@K)")
    kind, k = match.group(1), int(match.group(2))
    played = plays.groupby("member_key")["title_id"].agg(lambda s: set(map(str, s))).to_dict()
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    scores = []
    for member, output in zip(served["member_key"], served["output"], strict=True):
        liked = played.get(member, set())
        titles = [str(t) for t in (output.get("titles") or [])[:k]]
        hits = np.array([t in liked for t in titles], dtype=bool)
        if kind == "hit_rate":
            scores.append(float(hits.any()))
        elif not liked:
            scores.append(0.0)
        else:
            ideal = discounts[: min(len(liked), k)].sum()
            scores.append(float(discounts[: len(hits)][hits].sum() / ideal))
    frame = served[["member_key", "arm"]].assign(value=scores)
    return _per_member(frame)


def session_qoe(chunks: pd.DataFrame) -> pd.Series:
    """Each session's mean per-chunk QoE_lin, first chunk left out (index: session id).

    Chunk ``k`` scores ``R_k - 4.3 * stall_k - |R_k - R_{k-1}|`` (``R`` in Mbit/s): the
    terms of :func:`reelops.abr.qoe.qoe`, averaged rather than summed so sessions of
    different lengths weigh alike. Sessions with fewer than 2 chunks have no score.
    """
    chunks = chunks.sort_values(["session_id", "chunk_index"])
    rate = chunks["bitrate_kbps"].astype(float) / 1000.0
    change = rate.groupby(chunks["session_id"]).diff()
    reward = rate - REBUFFER_PENALTY_LIN * chunks["rebuffer_s"].astype(float)
    reward = reward - SMOOTH_PENALTY * change.abs()
    scored = reward[change.notna()]  # every chunk after a session's first
    return scored.groupby(chunks.loc[scored.index, "session_id"]).mean()


def qoe_outcomes(sessions: pd.DataFrame, chunks: pd.DataFrame, release: Release) -> pd.DataFrame:
    """Per member, the mean per-chunk QoE_lin of their sessions, arm by the release's hash.

    Args:
        sessions: ``session_id`` and ``member_key`` of the sessions in the window.
        chunks: Their ``delivery_chunks`` (``session_id``, ``chunk_index``,
            ``bitrate_kbps``, ``rebuffer_s``).
        release: The live canary (its salt and share assign each member an arm).

    Returns:
        ``member_key``, ``arm``, ``value``, ``requests`` (sessions).
    """
    qoe = session_qoe(chunks[chunks["session_id"].isin(sessions["session_id"])])
    frame = sessions[["session_id", "member_key"]].assign(value=sessions["session_id"].map(qoe))
    frame = frame.dropna(subset=["value", "member_key"])
    frame["arm"] = [release.arm(m) for m in frame["member_key"]]
    return _per_member(frame[["member_key", "arm", "value"]])


def _per_member(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=["member_key", "arm", "value", "requests"])
    grouped = frame.groupby(["member_key", "arm"], sort=True)["value"]
    out = grouped.agg(value="mean", requests="size").reset_index()
    # A member on both arms (a baseline change mid-release) belongs to neither cleanly.
    both = out["member_key"].duplicated(keep=False)
    return out.loc[~both].reset_index(drop=True)


def outcome_units(
    settings: Settings,
    release: Release,
    policy: ReleasePolicy,
    *,
    window: tuple[datetime, datetime] | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """The release's live outcomes per member, read from the lake (see the module doc).

    Args:
        settings: Where the lake lives.
        release: The live canary.
        policy: Its model's ``release`` spec section (the metric).
        window: Outcome events counted, ``[start, end)`` naive UTC; default from the
            release's start to now. A simulated world passes the simulated days.
        source: The source whose lake the services log to (default: the active one).
    """
    lake_dir = settings.lake_dir(source or active_source(settings))
    window = window or default_window(release)
    if policy.metric == "qoe_lin":
        sessions = _read_events(
            lake_dir, "playback_sessions", ["session_id", "member_key", "ts"], window
        )
        chunks = _read_events(
            lake_dir,
            "delivery_chunks",
            ["session_id", "chunk_index", "bitrate_kbps", "rebuffer_s", "ts"],
            (window[0], window[1] + pd.Timedelta(days=1)),  # a session's chunks run on
        )
        return qoe_outcomes(sessions, chunks, release)
    served = read_served(lake_dir, release)
    plays = _read_events(lake_dir, "viewing_events", ["member_key", "title_id", "ts"], window)
    return ranked_outcomes(served, plays, policy.metric)


# -- the comparison and the decision ------------------------------------------------------


def compare(units: pd.DataFrame, policy: ReleasePolicy) -> Comparison | None:
    """Canary minus production per member, with the look's bootstrap interval.

    Returns None when an arm has no member with outcomes yet.
    """
    canary = units.loc[units["arm"] == "canary", "value"].to_numpy(dtype=float)
    production = units.loc[units["arm"] == "production", "value"].to_numpy(dtype=float)
    if len(canary) == 0 or len(production) == 0:
        return None
    diff, low, high = two_sample_bootstrap(
        canary,
        production,
        n=policy.bootstrap,
        seed=policy.seed,
        confidence=policy.look_confidence,
    )
    return Comparison(
        metric=policy.metric,
        canary_members=len(canary),
        production_members=len(production),
        canary_mean=float(canary.mean()),
        production_mean=float(production.mean()),
        difference=diff,
        low=low,
        high=high,
        confidence=policy.look_confidence,
        margin=policy.margin,
    )


def enough(comparison: Comparison | None, policy: ReleasePolicy) -> bool:
    """Whether both arms have the members a look needs."""
    return comparison is not None and (
        min(comparison.canary_members, comparison.production_members) >= policy.min_members
    )


def judge(comparison: Comparison | None, policy: ReleasePolicy, look: int) -> tuple[str, str]:
    """``(action, reason)`` for one look (see the module doc for the rule).

    Args:
        comparison: :func:`compare`'s result.
        policy: The model's release policy.
        look: This look's number (1-based), or 0 when it is not a look (too few members).
    """
    if not enough(comparison, policy):
        have = (
            "no members with outcomes on one arm"
            if comparison is None
            else f"{comparison.canary_members} canary and {comparison.production_members} "
            "production members with outcomes"
        )
        return "continue", f"{have}; a decision needs {policy.min_members} on each"
    summary = comparison.text()
    if comparison.low >= -policy.margin:
        return (
            "promote",
            f"non-inferior: CI low {comparison.low:+.4f} >= -{policy.margin:g}; {summary}",
        )
    if comparison.high < 0:
        return "rollback", f"worse: CI high {comparison.high:+.4f} < 0; {summary}"
    if look >= policy.max_looks:
        return "rollback", (
            f"not shown non-inferior in {policy.max_looks} looks (the last one); {summary}"
        )
    return "continue", f"undecided (look {look} of {policy.max_looks}); {summary}"


def _live_canary(registry: Registry, model: str) -> Release:
    release = registry.live_release(model)
    if release is None:
        known = sorted({r.name for r in registry.releases()})
        raise CanaryError(
            f"{model} has no live canary or shadow"
            + (f" (models with releases: {', '.join(known)})" if known else "")
            + f"; start one with `reelops models canary start {model} VERSION`"
        )
    return release


def _policy(registry: Registry, release: Release, spec: str | Path | None) -> ReleasePolicy:
    version = registry.get(release.name, release.version)
    return load_spec(spec or version.gates.get("spec") or release.name).release


def decide(
    settings: Settings,
    model: str,
    *,
    spec: str | Path | None = None,
    window: tuple[datetime, datetime] | None = None,
    source: str | None = None,
    apply: bool = True,
    actor: str | None = None,
) -> Decision:
    """Look at a live canary's outcomes and promote it, roll it back, or keep it going.

    Args:
        settings: Where the registry and the lake live.
        model: Registry name.
        spec: Spec name or path (default: the one the canary's gates ran with).
        window: Outcome events counted (see :func:`outcome_units`).
        source: The source the services log to (default: the active one).
        apply: Carry the decision out in the registry (and count the look); False only
            reports what it would be (``reelops models canary status``).
        actor: Who decides, for the audit (default ``reelops-auto``).

    Raises:
        CanaryError: No live release, or it is a shadow (it served nobody).
    """
    registry = Registry(settings)
    release = _live_canary(registry, model)
    if release.mode != "canary":
        raise CanaryError(
            f"{model}:{release.version} is a shadow: it served nobody, so no outcome "
            f"judges it; turn it into a canary (`reelops models canary start {model} "
            f"{release.version}`) or stop it (`reelops models canary stop {model}`)"
        )
    policy = _policy(registry, release, spec)
    comparison = compare(
        outcome_units(settings, release, policy, window=window, source=source), policy
    )
    look = release.looks + 1 if enough(comparison, policy) else 0
    action, reason = judge(comparison, policy, look)
    applied = False
    if apply:
        actor = actor or AUTO_ACTOR
        if look:
            registry.record_look(model)
        audited = f"canary decision, look {look} of {policy.max_looks}: {reason}"
        try:
            if action == "promote":
                registry.promote(model, release.version, actor=actor, reason=audited)
                applied = True
            elif action == "rollback":
                registry.end_release(model, "rolled_back", actor=actor, reason=audited)
                applied = True
        except RegistryError as error:  # changed under us (promoted by hand, ...)
            raise CanaryError(f"could not {action} {model}:{release.version}: {error}") from error
    return Decision(
        model=model,
        version=release.version,
        baseline=release.baseline,
        action=action,
        reason=reason,
        look=look,
        max_looks=policy.max_looks,
        comparison=comparison,
        applied=applied,
    )


def status(
    settings: Settings,
    model: str,
    *,
    spec: str | Path | None = None,
    window: tuple[datetime, datetime] | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """The live release, its traffic per arm, and what a decision would say now.

    A canary gets its comparison so far and the decision :func:`decide` would take; a
    shadow gets how often it agrees with what was served and its latency beside it.

    Raises:
        CanaryError: No live release.
    """
    registry = Registry(settings)
    release = _live_canary(registry, model)
    lake_dir = settings.lake_dir(source or active_source(settings))
    out: dict[str, Any] = {"release": asdict(release)}
    if release.mode == "canary":
        served = read_served(lake_dir, release)
        out["requests"] = served["arm"].value_counts().to_dict() if len(served) else {}
        out["members"] = (
            served.groupby("arm")["member_key"].nunique().to_dict() if len(served) else {}
        )
        decision = decide(settings, model, spec=spec, window=window, source=source, apply=False)
        out["decision"] = decision.to_dict()
        return out
    out["shadow"] = shadow_agreement(read_shadow(lake_dir, release))
    return out


def shadow_agreement(pairs: pd.DataFrame, k: int = 10) -> dict[str, Any]:
    """How a shadow's answers compare with the answers served for the same requests.

    Ranked lists: the mean overlap of their top ``k`` (0..1); levels (bitrate): the share
    of requests where the shadow picked the same level. Latencies: median and 95th
    percentile of each, in milliseconds.
    """
    if pairs.empty:
        return {"requests": 0}
    out: dict[str, Any] = {"requests": len(pairs)}
    served, shadow = pairs["served_output"], pairs["shadow_output"]
    if all("titles" in o for o in served):
        overlaps = [
            len(set(a.get("titles", [])[:k]) & set(b.get("titles", [])[:k])) / k
            for a, b in zip(served, shadow, strict=True)
        ]
        out[f"overlap@{k}"] = float(np.mean(overlaps))
    if all("level" in o for o in served):
        same = [a.get("level") == b.get("level") for a, b in zip(served, shadow, strict=True)]
        out["same_level"] = float(np.mean(same))
    for arm in ("served", "shadow"):
        latency = pairs[f"{arm}_latency_ms"].astype(float)
        out[f"{arm}_latency_ms"] = {
            "p50": float(latency.median()),
            "p95": float(latency.quantile(0.95)),
        }
    return out


def stop(settings: Settings, model: str, *, reason: str, actor: str | None = None) -> Release:
    """End a live canary or shadow without a decision (back to approved), audited."""
    registry = Registry(settings)
    _live_canary(registry, model)
    return registry.end_release(model, "stopped", actor=actor or getpass.getuser(), reason=reason)
