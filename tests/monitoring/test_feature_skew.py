"""Online/offline skew: logged online features against a point-in-time recomputation."""

from __future__ import annotations

import json

import pandas as pd

from reelops.monitoring.skew import online_rows, skew

OFFLINE = pd.DataFrame(
    {
        "network_key": ["NO:fibre", "NO:fibre", "US:cable", "US:cable"],
        # The warehouse's microseconds (pandas parses the logged times as nanoseconds).
        "event_timestamp": pd.to_datetime(["2026-01-21", "2026-01-22"] * 2).astype(
            "datetime64[us]"
        ),
        "throughput_p50_7d": [9.0, 9.5, 4.0, 4.2],
        "throughput_p10_7d": [5.0, 5.5, 2.0, 2.1],
    }
)


def _logs(p50_no: float, at: str = "2026-01-22T00:00:00") -> pd.DataFrame:
    rows = []
    for key, p50, p10 in (("NO:fibre", p50_no, 5.5), ("US:cable", 4.2, 2.1)):
        rows += [
            {
                "endpoint": "/bitrate",
                "features": {
                    "network_key": key,
                    "online": {"throughput_p50_7d": p50, "throughput_p10_7d": p10},
                    "feature_time": at,
                },
            }
        ] * 15
    return pd.DataFrame(rows).assign(
        features=lambda f: f["features"].map(json.dumps).map(json.loads)
    )


def test_agreeing_features_have_no_skew():
    table = skew(online_rows(_logs(9.5)), OFFLINE).set_index("feature")
    assert table["requests"].tolist() == [30, 30]
    assert (table["mismatch_share"] == 0).all()


def test_a_zeroed_online_feature_is_named():
    table = skew(online_rows(_logs(0.0)), OFFLINE).set_index("feature")
    assert table.loc["throughput_p50_7d", "mismatch_share"] == 0.5  # NO's half
    assert table.loc["throughput_p10_7d", "mismatch_share"] == 0


def test_the_offline_row_is_the_one_as_of_the_lookup():
    # Looked up before the 22nd's row existed: the 21st's values are the right ones.
    table = skew(online_rows(_logs(9.0, at="2026-01-21T12:00:00")), OFFLINE).set_index("feature")
    assert table.loc["throughput_p50_7d", "mismatch_share"] == 0.5  # US sent the 22nd's
