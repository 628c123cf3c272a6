"""Fetching the Open Bandit sample from the obp wheel: pinned hash, atomic, read as obp reads it."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from typer.testing import CliRunner

from reelops.cli import app
from reelops.datasets import FetchError, datasets_dir
from reelops.datasets import open_bandit as ob
from reelops.datasets.wheels import sha256_of

runner = CliRunner()
HEADER = ",timestamp,item_id,position,click,propensity_score,user_feature_0\n"
# Out of time order on purpose: the reader sorts by timestamp as obp does.
ROWS = [
    "0,2019-11-24 00:00:09+00:00,2,3,0,0.25,a\n",
    "1,2019-11-24 00:00:01+00:00,0,1,1,0.25,b\n",
    "2,2019-11-24 00:00:05+00:00,3,2,0,0.5,a\n",
]
PRIOR = "".join(
    f"{c}:\n  alpha: [1.0, 2.0, 3.0, 4.0]\n  beta: [5.0, 6.0, 7.0, 8.0]\n" for c in ob.CAMPAIGNS
)


def write_fake_obp(path, rows=ROWS):
    with zipfile.ZipFile(path, "w") as archive:
        for policy in ob.POLICIES:
            for campaign in ob.CAMPAIGNS:
                names = {"policy": policy, "campaign": campaign}
                archive.writestr(ob.LOG_MEMBER.format(**names), HEADER + "".join(rows))
                archive.writestr(ob.ITEMS_MEMBER.format(**names), ",item_id\n0,0\n")
        archive.writestr(ob.PRIOR_MEMBER, PRIOR)
    return path


@pytest.fixture
def fake_obp(tmp_path, monkeypatch):
    wheel = write_fake_obp(tmp_path / "obp-0.4.1-py3-none-any.whl")
    monkeypatch.setattr(ob, "ROWS_PER_LOG", len(ROWS))
    return wheel


def test_fetch_refuses_a_wheel_whose_hash_differs_and_keeps_nothing(settings, fake_obp):
    got = sha256_of(fake_obp)
    result = runner.invoke(app, ["data", "fetch", "open-bandit", "--wheel", str(fake_obp)])
    assert result.exit_code == 2
    assert f"expected {ob.WHEEL_SHA256}, got {got}" in result.output
    assert list(datasets_dir(settings).iterdir()) == []


def test_fetch_extracts_every_log_and_reads_it_in_time_order(settings, fake_obp, monkeypatch):
    monkeypatch.setattr(ob, "WHEEL_SHA256", sha256_of(fake_obp))
    result = runner.invoke(app, ["data", "fetch", "open-bandit", "--wheel", str(fake_obp)])
    assert result.exit_code == 0, result.output
    assert "Saito" in result.output and "Apache License 2.0" in result.output
    folder = datasets_dir(settings) / ob.NAME
    log = ob.read_log(folder, "random", "men")
    assert log.action.tolist() == [0, 3, 2] and log.position.tolist() == [0, 1, 2]
    assert log.reward.tolist() == [1.0, 0.0, 0.0] and log.pscore.tolist() == [0.25, 0.5, 0.25]
    assert (log.n_actions, log.len_list) == (4, 3)
    alpha, beta = ob.read_prior(folder, "women")
    np.testing.assert_array_equal(alpha, [1, 2, 3, 4])
    np.testing.assert_array_equal(beta, [5, 6, 7, 8])
    assert not ob.fetch_open_bandit(settings, wheel=fake_obp).fetched  # idempotent


def test_a_malformed_log_is_refused_naming_file_and_line(settings, tmp_path, monkeypatch):
    rows = [*ROWS[:2], "2,2019-11-24 00:00:05+00:00,3,2,0,1.5,a\n"]
    wheel = write_fake_obp(tmp_path / "bad.whl", rows)
    monkeypatch.setattr(ob, "ROWS_PER_LOG", len(rows))
    monkeypatch.setattr(ob, "WHEEL_SHA256", sha256_of(wheel))
    with pytest.raises(FetchError, match=r"random/all/all.csv line 4: propensity_score"):
        ob.fetch_open_bandit(settings, wheel=wheel)
    assert list(datasets_dir(settings).iterdir()) == []
    with pytest.raises(FileNotFoundError, match="reelops data fetch open-bandit"):
        ob.read_log(datasets_dir(settings) / ob.NAME, "bts", "all")
