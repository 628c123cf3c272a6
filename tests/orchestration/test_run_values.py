"""Airflow's task context as plain values: the run's interval, conf, spec and run id."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from reelops.orchestration.context import run_values
from reelops.specs import MODELS_DIR

DAY = (datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 1, 4, tzinfo=UTC))


def context(conf=None, interval=DAY, run_id="scheduled__2026-01-03"):
    return {
        "dag_run": SimpleNamespace(conf=conf, run_id=run_id),
        "run_id": run_id,
        "data_interval_start": interval[0],
        "data_interval_end": interval[1],
    }


def test_scheduled_run_covers_its_data_interval_as_naive_utc(settings):
    run = run_values(context())
    assert run.interval() == (datetime(2026, 1, 3), datetime(2026, 1, 4))
    assert run.settings == settings and run.run_id == "scheduled__2026-01-03"


def test_conf_start_and_end_win_over_the_data_interval(settings):
    run = run_values(context({"start": "2025-12-01T00:00:00", "end": "2026-01-01T00:00:00"}))
    assert run.interval() == (datetime(2025, 12, 1), datetime(2026, 1, 1))


def test_conf_times_with_an_offset_become_naive_utc(settings):
    conf = {"start": "2026-01-01T02:00:00+02:00", "end": "2026-01-02T00:00:00+00:00"}
    assert run_values(context(conf)).interval() == (datetime(2026, 1, 1), datetime(2026, 1, 2))


def test_conf_with_only_a_start_falls_back_to_the_data_interval(settings):
    run = run_values(context({"start": "2025-01-01T00:00:00"}))
    assert run.interval() == (datetime(2026, 1, 3), datetime(2026, 1, 4))


@pytest.mark.parametrize("end", ["2026-01-01T00:00:00", "2025-12-31T00:00:00"])
def test_an_interval_that_does_not_move_forward_is_refused(settings, end):
    run = run_values(context({"start": "2026-01-01T00:00:00", "end": end}))
    with pytest.raises(ValueError, match="is not after its start 2026-01-01 00:00:00"):
        run.interval()


def test_a_trigger_without_conf_or_interval_covers_the_day_before_it_was_due(settings):
    # The UI's trigger form without a logical date: no data interval, Params left empty.
    ctx = context({"start": None, "end": None}, interval=(None, None), run_id="manual__1")
    ctx["dag_run"].run_after = datetime(2026, 1, 5, 13, 30, tzinfo=UTC)
    assert run_values(ctx).interval() == (datetime(2026, 1, 4), datetime(2026, 1, 5))


def test_a_zero_length_data_interval_covers_the_day_before_it(settings):
    # What a trigger timetable (Airflow 3's plain "@daily") gives: start == end.
    noon = datetime(2026, 1, 5, 12, tzinfo=UTC)
    run = run_values(context(interval=(noon, noon)))
    assert run.interval() == (datetime(2026, 1, 4), datetime(2026, 1, 5))


def test_a_run_without_any_interval_or_due_time_says_how_to_give_one(settings):
    run = run_values(context(interval=(None, None), run_id="manual__1"))
    with pytest.raises(ValueError, match=r"manual__1 has no data interval.*conf"):
        run.interval()


def test_conf_carries_spec_approval_and_source(settings, tmp_path):
    spec_path = tmp_path / "small.yaml"
    spec_path.write_text((MODELS_DIR / "ranker.yaml").read_text())
    run = run_values(context({"spec": str(spec_path), "approval": "human", "source": "movielens"}))
    assert run.spec("ranker").path == spec_path
    assert run.approval == "human" and run.source == "movielens"
    default = run_values(context())
    assert default.spec("ranker").path.name == "ranker.yaml"
    assert default.approval is None and default.source is None


def test_no_dag_run_means_an_empty_conf_and_the_context_run_id(settings):
    run = run_values({"run_id": "r1", "data_interval_start": DAY[0], "data_interval_end": DAY[1]})
    assert run.conf == {} and run.run_id == "r1"
    assert run_values({}).run_id == "manual"
