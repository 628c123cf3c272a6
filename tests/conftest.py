"""Shared fixtures: an isolated REELOPS_HOME per test and a MovieLens-layout writer."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

from reelops.abr.traces import synthetic_traces
from reelops.config import Settings, get_settings
from reelops.schema import GENRES

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """Settings whose home is a fresh temporary folder (also set in the environment)."""
    home = tmp_path / "home"
    monkeypatch.setenv("REELOPS_HOME", str(home))
    monkeypatch.delenv("REELOPS_PSEUDONYM_KEY", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def write_movielens(folder: Path, n_users: int = 30, n_items: int = 40, seed: int = 1) -> dict:
    """Write a small MovieLens-100K-layout folder; returns what it wrote for checking."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)))
    users = []
    for uid in range(1, n_users + 1):
        zipcode = "55105" if uid % 7 else "T8H1N"
        users.append(f"{uid}|{rng.randint(12, 70)}|{'MF'[uid % 2]}|student|{zipcode}")
    (folder / "u.user").write_text("\n".join(users) + "\n")
    items, genres_of = [], {}
    for iid in range(1, n_items + 1):
        flags = ["0"] * len(GENRES)
        picks = rng.sample(range(1, len(GENRES)), k=rng.randint(1, 3))
        for g in picks:
            flags[g] = "1"
        genres_of[str(iid)] = sorted(GENRES[g] for g in picks)
        name = f"Caf\xe9 Film {iid} (1995)"
        items.append(f"{iid}|{name}|01-Jan-1995||http://x/{iid}|" + "|".join(flags))
    (folder / "u.item").write_bytes(("\n".join(items) + "\n").encode("latin-1"))
    ratings, seen = [], set()
    base = 874_965_758  # 1997-09-22, where MovieLens 100K starts
    while len(ratings) < n_users * 8:
        u, i = rng.randint(1, n_users), rng.randint(1, n_items)
        if (u, i) in seen:
            continue
        seen.add((u, i))
        ratings.append(f"{u}\t{i}\t{rng.randint(1, 5)}\t{base + rng.randint(0, 86400 * 60)}")
    (folder / "u.data").write_text("\n".join(ratings) + "\n")
    return {"users": n_users, "items": n_items, "ratings": len(ratings), "genres": genres_of}


@pytest.fixture
def movielens_writer():
    """The MovieLens-layout writer itself, for tests that need more than one folder."""
    return write_movielens


@pytest.fixture
def movielens_dir(tmp_path) -> tuple[Path, dict]:
    folder = tmp_path / "ml-100k"
    return folder, write_movielens(folder)


# movies.csv rows with what the importer must make of them: (id, CSV line, name, genres, year).
CSV_MOVIES = [
    (
        1,
        "1,Toy Story (1995),Adventure|Animation|Children|Comedy",
        "Toy Story (1995)",
        ["Adventure", "Animation", "Children's", "Comedy"],
        1995,
    ),
    (
        2,
        '2,"American President, The (1995)",Comedy|Drama|Romance',
        "American President, The (1995)",
        ["Comedy", "Drama", "Romance"],
        1995,
    ),
    (3, "3,Avatar (2009),Action|Sci-Fi|IMAX", "Avatar (2009)", ["Action", "Sci-Fi"], 2009),
    (4, "4,Some Documentary,(no genres listed)", "Some Documentary", ["unknown"], None),
    (5, '5,"Giant, in ""IMAX"" (2010)",IMAX', 'Giant, in "IMAX" (2010)', ["unknown"], 2010),
]


def write_movielens_csv(folder: Path, n_users: int = 20, seed: int = 2) -> dict:
    """Write a small MovieLens CSV-layout folder; returns what it wrote for checking.

    Besides the five movies of :data:`CSV_MOVIES` (quoted titles with commas and quotes,
    ``Children``, ``IMAX``, ``(no genres listed)``), 25 more with vocabulary genres;
    every user rates 8 movies in half stars.
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    movies = {m[0]: (m[2], sorted(m[3]), m[4]) for m in CSV_MOVIES}
    lines = ["movieId,title,genres"] + [m[1] for m in CSV_MOVIES]
    for mid in range(6, 31):
        genres = rng.sample(["Action", "Comedy", "Drama", "Film-Noir", "Sci-Fi", "War"], k=2)
        lines.append(f"{mid},Film {mid} ({1990 + mid}),{'|'.join(genres)}")
        movies[mid] = (f"Film {mid} ({1990 + mid})", sorted(genres), 1990 + mid)
    (folder / "movies.csv").write_text("\n".join(lines) + "\n")
    ratings = []
    base = 1_104_537_600  # 2005-01-01
    for uid in range(1, n_users + 1):
        for mid in rng.sample(sorted(movies), k=8):
            ratings.append((uid, mid, rng.randint(1, 10) / 2, base + rng.randint(0, 86400 * 90)))
    text = "".join(f"{u},{m},{r},{t}\n" for u, m, r, t in ratings)
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + text)
    return {"users": n_users, "movies": movies, "ratings": ratings}


@pytest.fixture
def movielens_csv_dir(tmp_path) -> tuple[Path, dict]:
    folder = tmp_path / "ml-latest-small"
    return folder, write_movielens_csv(folder)


def pytest_report_header(config):
    return f"REELOPS_PROFILE={os.environ.get('REELOPS_PROFILE', 'local')}"


def write_traces(folder, n=3):
    """Write ``n`` one-minute synthetic traces as `time_s<TAB>Mbit/s` files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for trace in synthetic_traces(rng, [1.0, 2.0, 3.0][:n], duration_s=60.0):
        lines = [f"{t:.1f}\t{m:.4f}" for t, m in zip(trace.time_s, trace.mbps, strict=True)]
        (folder / f"{trace.trace_id}.log").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def trace_dir(tmp_path):
    """Three small trace files (syn-0..2.log)."""
    return write_traces(tmp_path / "traces")
