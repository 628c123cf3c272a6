"""Drift per segment: quiet days pass, a column zeroed in one country is named."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reelops.monitoring.drift import ALL, segment_drift
from reelops.monitoring.inputs import RANKER_INPUTS

COUNTRIES = ("US", "GB", "DE", "BR", "IN", "JP", "NG", "NO")
SHARES = (0.28, 0.10, 0.10, 0.14, 0.16, 0.08, 0.06, 0.08)


def _day(rng: np.random.Generator, n: int = 900) -> pd.DataFrame:
    """A day of per-member inputs drawn from one fixed world."""
    views = rng.poisson(2.0, n) + 1.0
    completion = rng.beta(1.2, 1.0, n)
    return pd.DataFrame(
        {
            "country": rng.choice(COUNTRIES, n, p=SHARES),
            "views": views,
            "completion": completion,
            "watch_hours": views * completion * rng.uniform(1.4, 2.0, n),
            "seconds_watched_max": rng.uniform(300, 7200, n),
        }
    )


def test_quiet_days_do_not_drift(tmp_path):
    rng = np.random.default_rng(3)
    reference = pd.concat([_day(rng) for _ in range(7)], ignore_index=True)
    alarms = 0
    for n in range(2):
        found = segment_drift("quiet", reference, _day(rng), list(RANKER_INPUTS), tmp_path / str(n))
        assert set(found.segments) == {ALL, *COUNTRIES}, found.skipped
        alarms += bool(found.drifted())
    assert alarms == 0
    assert (tmp_path / "0" / "quiet_all.html").stat().st_size > 10_000  # Evidently's report


def test_a_column_zeroed_in_one_country_is_named(tmp_path):
    rng = np.random.default_rng(4)
    reference = pd.concat([_day(rng) for _ in range(7)], ignore_index=True)
    today = _day(rng)
    today.loc[today["country"] == "NO", "completion"] = 0.0
    found = segment_drift("broken", reference, today, list(RANKER_INPUTS), tmp_path)
    drifted = found.drifted()
    assert drifted.get("NO") == ["completion"], drifted
    assert found.features() == ["completion"]
    assert found.reports["NO"].endswith("broken_NO.html")
