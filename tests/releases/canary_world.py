"""A toy ranker served through the real serving skeleton, and members who answer it.

Members have hidden favourite titles. A ranker version's files hold its kind: ``good``
puts a member's favourites first, ``fair`` knows three of them, ``shuffled`` ranks at
random (as a model trained on shuffled labels would). The endpoint is a
:class:`reelops.serving.production.ServedModel` like ``/recommend``, so routing, shadow
scoring, logging and version switches are the real ones; members then play what they
were served according to their tastes, written to the lake as ``viewing_events``.
Importable as ``canary_world``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from reelops import lake
from reelops.quality.checks import Check, verdict
from reelops.registry import Registry
from reelops.serving.production import Answer, ServedModel

MODEL = "toy_ranker"
TITLES = [f"t{i:03d}" for i in range(60)]
K = 10
DAY = datetime(2026, 3, 10)

SPEC = """
name: toy_ranker
feature_service: toy_v1
evaluator: toy_model:evaluate
gates:
  quality: {{metric: ndcg@10}}
  bias:
    segments: [country]
    checks:
      - {{kind: segment_ratio, metric: ndcg@10, min: 0.5}}
release:
  mode: canary
  canary_share: {share}
  shadow_share: {shadow_share}
  metric: {metric}
  margin: {margin}
  min_members: 50
  bootstrap: 500
  max_looks: {max_looks}
"""


def write_spec(
    folder: Path,
    *,
    share: float = 0.3,
    shadow_share: float = 1.0,
    metric: str = "ndcg@10",
    margin: float = 0.01,
    max_looks: int = 3,
) -> Path:
    path = Path(folder) / "toy_ranker.yaml"
    path.write_text(
        SPEC.format(
            share=share,
            shadow_share=shadow_share,
            metric=metric,
            margin=margin,
            max_looks=max_looks,
        )
    )
    return path


def members(n: int) -> list[str]:
    """Member keys (already pseudonymous, as the services log them)."""
    return [hashlib.sha256(f"member-{i}".encode()).hexdigest()[:16] for i in range(n)]


def favourites(member: str) -> list[str]:
    """A member's five favourite titles (the hidden truth)."""
    rng = np.random.default_rng(int(member[:8], 16))
    return [TITLES[i] for i in rng.choice(len(TITLES), 5, replace=False)]


def rank(kind: str, member: str) -> list[str]:
    """A version's top K for a member."""
    seed = int(member[:8], 16) + sum(map(ord, kind))
    rng = np.random.default_rng(seed)
    liked = favourites(member)
    others = [str(t) for t in rng.permutation(TITLES) if t not in liked]
    if kind == "shuffled":
        return [str(t) for t in rng.permutation(TITLES)[:K]]
    known = {"good": 5, "fair": 3}[kind]
    return (liked[:known] + others)[:K]


def save(settings, kind: str, *, gates_passed: bool | None = True, spec: Path | None = None):
    """Save a version of ``kind``; gates recorded as passed or failed (None: not run)."""
    registry = Registry(settings)
    folder = settings.home / "toy_ranker_build" / f"{kind}-{len(registry.list(MODEL))}"
    folder.mkdir(parents=True)
    (folder / "kind.txt").write_text(kind)
    version = registry.save(MODEL, folder, metrics={}, lineage={"kind": kind}).version
    if gates_passed is not None:
        check = Check("quality", "ndcg@10 vs champion", verdict(gates_passed), 0.01, ">= -0.005")
        gates = {
            "passed": gates_passed,
            "checks": [check.to_dict()],
            "spec": str(spec) if spec else None,
        }
        registry.record_gates(MODEL, version, gates, {})
    return version


class ToyRanker(ServedModel):
    """``/toy``: a member key in, the version's top K out (arm and version with it)."""

    name = MODEL
    route = "/toy"

    def __init__(self, settings, **kwargs):
        super().__init__(settings, lambda files, _v: (files / "kind.txt").read_text(), **kwargs)

    def _begin(self, request):
        return request, {"k": K}

    def _online(self, request, loaded, member_key):
        titles = rank(loaded.model, member_key)
        response = {"version": loaded.version.version, "arm": loaded.arm, "titles": titles}
        return Answer(response, {"titles": titles, "cold_start": False})

    def _fallback(self, request, loaded, member_key):  # pragma: no cover - store never fails
        return self._online(request, loaded, member_key)

    def _probe(self, loaded):
        return None


def play(answers: dict[str, list[str]], day: datetime = DAY, seed: int = 0) -> pa.Table:
    """What members played on ``day`` after being served ``answers`` (member -> titles).

    A served favourite is played with probability 0.7 (higher up the list, likelier),
    any other served title with 0.05; a favourite that was not served is found elsewhere
    (search, a friend) with probability 0.35.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for member, titles in answers.items():
        liked = set(favourites(member))
        played = []
        for position, title in enumerate(titles):
            chance = (0.7 - 0.03 * position) if title in liked else 0.05
            if rng.random() < chance:
                played.append(title)
        played += [t for t in sorted(liked - set(titles)) if rng.random() < 0.35]
        for i, title in enumerate(dict.fromkeys(played)):
            rows.append((member, title, day + timedelta(hours=1 + i)))
    return pa.table(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "member_key": [r[0] for r in rows],
            "title_id": [r[1] for r in rows],
            "ts": pa.array([r[2] for r in rows], pa.timestamp("us")),
        }
    )


def land_plays(lake_dir: Path, plays: pa.Table, day: datetime = DAY) -> None:
    lake.write_partition(lake_dir, "viewing_events", day.date(), plays)
