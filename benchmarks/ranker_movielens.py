"""The ranker on real MovieLens-100K: both hold-outs, every baseline, recall, time and memory.

Needs the ML-100K layout (``u.data``, ``u.item``, ``u.user``): the folder named by
``REELOPS_ML100K``, else ``reelops data fetch movielens-100k`` (when that command
exists) writes it into the benchmark's own ``REELOPS_HOME``. MovieLens may not be
redistributed (Harper & Konstan 2015), so nothing of it is kept in the repository.

Steps: import, land, dbt build, materialize (not timed as the ranker), then
``reelops ranker train`` under ``/usr/bin/time -v`` (wall time, peak memory), and the
figures of its training report: NDCG@10 of the ranker and every baseline with the
ranker-minus-baseline paired-bootstrap CIs on the per-member and the global hold-outs,
and the candidate recall of every source, of the union and of EASE's own top N; the
candidate quotas and total chosen on validation, with each total's validation recall.

Run ``python -m benchmarks.run --only ranker-movielens``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _data_folder(home: Path, env: dict[str, str]) -> Path:
    given = os.environ.get("REELOPS_ML100K")
    if given:
        return Path(given)
    fetch = subprocess.run(
        [sys.executable, "-m", "reelops.cli", "data", "fetch", "movielens-100k"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if fetch.returncode != 0:
        raise FileNotFoundError(
            "MovieLens-100K is needed: set REELOPS_ML100K to an ML-100K folder, or use a "
            f"checkout with `reelops data fetch movielens-100k` ({fetch.stderr.strip()[-200:]})"
        )
    found = sorted(home.rglob("u.data"))
    if not found:
        raise FileNotFoundError(f"`reelops data fetch movielens-100k` wrote no u.data in {home}")
    return found[0].parent


def run(work: Path) -> list[dict]:
    """Import, build and train on ML-100K in ``work``; the rows of the report."""
    from benchmarks.run import measure

    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "REELOPS_HOME": str(home), "OPENBLAS_NUM_THREADS": "1"}
    folder = _data_folder(home, env)
    reelops = [sys.executable, "-m", "reelops.cli"]
    subprocess.run([*reelops, "import", "movielens", str(folder)], env=env, cwd=ROOT, check=True)
    prepare = (
        "from datetime import datetime as d; from reelops.config import get_settings;"
        "from reelops.ingest import land_interval; from reelops.warehouse import build;"
        "from reelops.features.materialize import materialize;"
        "s = get_settings(); a, b = d.fromisoformat('{a}'), d.fromisoformat('{b}');"
        "land_interval(s, 'movielens', a, b); build(s, 'movielens');"
        "materialize(s, start=a, end=b, source='movielens')"
    )
    meta = json.loads((home / "sources" / "movielens" / "source.json").read_text())
    start = datetime.fromisoformat(meta["first_ts"][:10])
    end = datetime.fromisoformat(meta["last_ts"][:10]) + timedelta(days=1)
    code = prepare.format(a=start.isoformat(), b=end.isoformat())
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
    timed = measure([*reelops, "ranker", "train"], env, ROOT, work / "train.log")
    runs = sorted((home / "ranker" / "runs").glob("*/report.json"))
    report = json.loads(runs[-1].read_text())
    rows = [{"step": "ranker train on MovieLens-100K (DAG, both hold-outs)", **timed}]
    for holdout in ("per_member", "global"):
        part = report.get(holdout)
        if not part:
            continue
        metrics = {m["ranker"]: m for m in part["metrics"]}
        for c in part["comparisons"]:
            rows.append(
                {
                    "step": f"{holdout}: ranker - {c['b']}",
                    "ranker_ndcg": metrics["ranker"]["ndcg@10"],
                    "baseline_ndcg": metrics[c["b"]]["ndcg@10"],
                    "ci": [c["ci_low"], c["ci_high"]],
                    "members": c["n_members"],
                }
            )
        rows.append({"step": f"{holdout}: candidate recall", **part["candidate_recall"]})
        chosen = part["sources"].get("candidate_search")
        if chosen:
            rows.append(
                {
                    "step": f"{holdout}: candidates chosen on validation",
                    "total": chosen["total"],
                    **{f"quota_{s}": q for s, q in chosen["quotas"].items()},
                    "validation_recall": chosen["recall"],
                }
            )
            for best in chosen["best_by_total"]:
                rows.append(
                    {
                        "step": f"{holdout}: validation recall at total {best['total']}",
                        "best_quotas": best["recall"],
                        "spec_quotas": best["spec_quotas_recall"],
                        **{f"{s}_alone": v for s, v in best["by_source"].items()},
                    }
                )
    return rows


def print_table(rows: list[dict]) -> None:
    """The figures as a readable table."""
    for row in rows:
        if "wall_s" in row:
            print(f"  {row['step']:<58} {row['wall_s']} s, peak {row['peak_rss_mib']} MiB")
        elif "ci" in row:
            print(
                f"  {row['step']:<58} {row['ranker_ndcg']:.4f} vs {row['baseline_ndcg']:.4f}  "
                f"CI [{row['ci'][0]:+.4f}, {row['ci'][1]:+.4f}] over {row['members']} members"
            )
        else:
            recall = ", ".join(
                f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in row.items()
                if k != "step"
            )
            print(f"  {row['step']:<58} {recall}")
