"""Ranker figures: scoring latency for 500 candidates, online ranking, 1M-row training.

* Scoring 500 candidates of one member in process, p50/p99: the model alone on a
  feature matrix already in memory, then the whole online path (candidates, Feast
  online features from SQLite, cross features, scoring, top 10) on the demo world
  (300 candidates: its catalogue has 400 titles).
* Training time and peak memory of the XGBoost ranker on about a million labelled
  rows: the demo world's training rows stacked (distinct request ids) up to 1M, fitted
  in a child process with the spec's chosen parameters on 2 threads.

Run ``python -m benchmarks.ranker``; it writes ``benchmarks/results/ranker.json``.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
CALLS = 200
TRAINING_ROWS = 1_000_000


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def train_demo(home: Path):
    """Demo world through the pipeline, then the ranker's steps (no search) to a candidate."""
    from reelops.config import Settings
    from reelops.features.materialize import materialize
    from reelops.ingest import land_interval
    from reelops.ranking import train
    from reelops.specs import load_spec
    from reelops.warehouse import build
    from reelops.world.generator import WorldConfig
    from reelops.world.synthetic_source import generate_source

    settings = Settings(home=home, profile="local")
    config = WorldConfig.demo()
    generate_source(settings, config)
    start = datetime.combine(config.start, datetime.min.time())
    end = start + timedelta(days=config.days)
    land_interval(settings, "world", start, end)
    build(settings, "world")
    materialize(settings, start=start, end=end, source="world")
    spec = load_spec("ranker")
    workdir = home / "ranker-run"
    started = time.perf_counter()
    train.prepare(settings, spec, workdir, "world")
    prepared_s = time.perf_counter() - started
    train.train(settings, spec, workdir, [])
    train.evaluate(settings, spec, workdir)
    saved = train.save_candidate(settings, spec, workdir)
    return settings, workdir, saved["version"], prepared_s


def _percentiles(samples: list[float]) -> dict:
    values = np.asarray(samples) * 1e6
    return {"p50_us": int(np.percentile(values, 50)), "p99_us": int(np.percentile(values, 99))}


def bench_scoring(settings, workdir: Path, version: str) -> list[dict]:
    """p50/p99 of scoring 500 in-memory candidates, and of one online ranking request."""
    from reelops.ranking.ranker import RankerModel
    from reelops.ranking.recommend import RankerRuntime

    model = RankerModel.load(workdir / "model")
    rows = pd.read_parquet(workdir / "outer_eval.parquet")
    matrix = model.features.matrix(rows)
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(CALLS):
        block = matrix[rng.choice(len(matrix), 500, replace=False)]
        t0 = time.perf_counter()
        scores = model.score_matrix(block)
        np.argpartition(-scores, 10)[:10]
        samples.append(time.perf_counter() - t0)
    out = [{"step": "score 500 candidates, features in memory", **_percentiles(samples)}]

    recommender = RankerRuntime.load(settings, version)
    lookup = recommender.online_lookup()
    keys = recommender.sample_members(CALLS, seed=1)
    recommender.rank_online(keys[0], lookup)  # warm the title cache
    samples, parts = [], []
    for key in keys:
        t0 = time.perf_counter()
        _, timings = recommender.rank_online(key, lookup, k=10)
        samples.append(time.perf_counter() - t0)
        parts.append(timings)
    n = int(recommender.generator.config.total)
    out.append(
        {
            "step": f"rank one member online ({n} candidates, SQLite features)",
            **_percentiles(samples),
            **{f"{k}_p50": round(float(np.median([p[k] for p in parts])), 2) for k in parts[0]},
        }
    )
    return out


def _fit_child(path: str, params: dict, queue) -> None:
    from reelops.ranking.features import FeatureSet
    from reelops.ranking.ranker import fit_ranker

    meta = json.loads((Path(path).parent / "features.json").read_text())
    features = FeatureSet(tuple(meta["store"]))
    rows = pd.read_parquet(path, columns=[*features.columns, "qid", "label"])
    started = time.perf_counter()
    fit_ranker(rows, features, params, threads=2)
    queue.put((time.perf_counter() - started, _peak_mib(), len(rows)))


def bench_training(workdir: Path) -> dict:
    """Fit time and peak RSS on ~1M rows (the demo rows stacked with new request ids)."""
    from reelops.ranking.ranker import RankerModel

    rows = pd.read_parquet(workdir / "outer_train.parquet")
    model = RankerModel.load(workdir / "model")
    copies = int(np.ceil(TRAINING_ROWS / len(rows)))
    stacked = pd.concat(
        [rows.assign(qid=rows["qid"] + i * (rows["qid"].max() + 1)) for i in range(copies)],
        ignore_index=True,
    ).head(TRAINING_ROWS)
    stacked = stacked[stacked["qid"] <= stacked["qid"].iloc[-1]]
    path = workdir / "million.parquet"
    stacked.to_parquet(path, index=False)
    (workdir / "features.json").write_text(json.dumps({"store": list(model.features.store)}))
    params = model.meta["params"]
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_fit_child, args=(str(path), params, queue))
    child.start()
    seconds, peak, n = queue.get()
    child.join()
    return {
        "step": f"train ranker on {n:,} rows, 2 threads, {params['num_boost_round']} rounds",
        "wall_s": round(seconds, 1),
        "peak_rss_mib": peak,
        "rows": n,
    }


def run(work: Path) -> list[dict]:
    """Every ranker figure; writes ``work/ranker.json``; returns the rows."""
    started = time.perf_counter()
    settings, workdir, version, prepared_s = train_demo(Path(work) / "ranker-demo")
    _log(f"demo world built and ranker trained in {time.perf_counter() - started:.0f} s")
    rows = [{"step": "demo training set (4 label sets, PIT joins)", "wall_s": round(prepared_s, 1)}]
    rows += bench_scoring(settings, workdir, version)
    rows.append(bench_training(workdir))
    Path(work).mkdir(parents=True, exist_ok=True)
    (Path(work) / "ranker.json").write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def print_table(rows: list[dict]) -> None:
    """The ranker figures as a readable table."""
    print(f"\n  {'step':<66} {'wall s':>7} {'p50 ms':>7} {'p99 ms':>7} {'peak MiB':>9}")
    for row in rows:
        p50 = f"{row['p50_us'] / 1000:.2f}" if "p50_us" in row else ""
        p99 = f"{row['p99_us'] / 1000:.2f}" if "p99_us" in row else ""
        wall = row.get("wall_s", "")
        peak = row.get("peak_rss_mib", "")
        print(f"  {row['step']:<66} {wall:>7} {p50:>7} {p99:>7} {peak:>9}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="reelops-bench-ranker-") as tmp:
        rows = run(Path(tmp))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ranker.json").write_text(json.dumps(rows, indent=2) + "\n")
    print_table(rows)
    print(f"\nwritten to {RESULTS / 'ranker.json'}")


def world_as_movielens(folder: Path, seed: int = 7) -> Path:
    """Write a synthetic world (demo size, another seed) in the MovieLens 100K layout.

    Each member's first view of a title becomes one rating (1 + 4 x completion,
    rounded) at its time; members get an age from their band, M/F and a zip code
    (US or not). It stands in for a real MovieLens folder with known structure.
    """
    from reelops.schema import GENRES
    from reelops.world import WorldConfig, generate_world

    world = generate_world(WorldConfig.demo(seed=seed))
    members, titles = world.tables["members"], world.tables["titles"]
    views = world.tables["viewing_events"].sort_values("ts")
    views = views.drop_duplicates(["member_id", "title_id"])
    user_no = {m: i + 1 for i, m in enumerate(members["member_id"])}
    item_no = {t: i + 1 for i, t in enumerate(titles["title_id"])}
    ages = {"<18": 16, "18-24": 21, "25-34": 30, "35-44": 40, "45-54": 50, "55+": 60}
    folder.mkdir(parents=True, exist_ok=True)
    users = [
        f"{user_no[r.member_id]}|{ages.get(r.age_band, 35)}|{'F' if r.gender == 'F' else 'M'}|"
        f"other|{'55105' if r.country == 'US' else 'T8H1N'}"
        for r in members.itertuples()
    ]
    (folder / "u.user").write_text("\n".join(users) + "\n")
    items = []
    for r in titles.itertuples():
        genres = set(str(r.genres).split("|"))
        flags = "|".join("1" if g in genres else "0" for g in GENRES)
        day = pd.Timestamp(r.release_date).strftime("%d-%b-%Y")
        items.append(
            f"{item_no[r.title_id]}|Film {item_no[r.title_id]} ({r.release_year})|{day}||x|{flags}"
        )
    (folder / "u.item").write_bytes(("\n".join(items) + "\n").encode("latin-1"))
    stars = (1 + np.rint(4 * views["completion"].clip(0, 1))).astype(int)
    seconds = pd.to_datetime(views["ts"]).to_numpy().astype("datetime64[s]").astype(np.int64)
    lines = [
        f"{user_no[m]}\t{item_no[t]}\t{s}\t{ts}"
        for m, t, s, ts in zip(views["member_id"], views["title_id"], stars, seconds, strict=True)
    ]
    (folder / "u.data").write_text("\n".join(lines) + "\n")
    (folder / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)))
    return folder


if __name__ == "__main__":
    main()
