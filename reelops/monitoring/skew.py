"""Online/offline skew: the online features a request was answered with, against the same
features recomputed offline as of the request's lookup time (a point-in-time join).

The bitrate endpoint logs the network features it read from the online store and when
it looked them up; offline, the warehouse's ``fct_network_daily`` gives, per network
key, the newest row at or before that time. A feature skews when more than
:data:`MAX_MISMATCH_SHARE` of the compared requests differ by more than
:data:`TOLERANCE` (relative): the promise a feature store makes is that both agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOLERANCE = 1e-6
MAX_MISMATCH_SHARE = 0.01
SKEW_MIN_REQUESTS = 20


def online_rows(logs: pd.DataFrame) -> pd.DataFrame:
    """One row per logged /bitrate request with online features: network_key,
    feature_time and each online feature."""
    rows = logs[logs["endpoint"] == "/bitrate"] if len(logs) else logs
    out = []
    for features in rows.get("features", []):
        if features.get("online") and features.get("feature_time"):
            out.append(
                {
                    "network_key": features["network_key"],
                    "feature_time": pd.Timestamp(features["feature_time"]),
                    **{k: v for k, v in features["online"].items() if isinstance(v, int | float)},
                }
            )
    return pd.DataFrame(out)


def point_in_time(online: pd.DataFrame, offline: pd.DataFrame) -> pd.DataFrame:
    """Each request's offline row: the newest ``event_timestamp`` <= its feature_time."""
    left = online.reset_index(names="request")
    left["feature_time"] = pd.to_datetime(left["feature_time"]).astype("datetime64[us]")
    right = offline.assign(
        event_timestamp=pd.to_datetime(offline["event_timestamp"]).astype("datetime64[us]")
    )
    left, right = left.sort_values("feature_time"), right.sort_values("event_timestamp")
    joined = pd.merge_asof(
        left,
        right,
        left_on="feature_time",
        right_on="event_timestamp",
        by="network_key",
        suffixes=("", "__offline"),
    )
    return joined.sort_values("request")


def skew(online: pd.DataFrame, offline: pd.DataFrame) -> pd.DataFrame:
    """Per feature: requests compared, share that differ, largest relative difference."""
    features = [
        c
        for c in online.columns
        if c not in ("network_key", "feature_time") and c in offline.columns
    ]
    if online.empty or not features:
        return pd.DataFrame(columns=["feature", "requests", "mismatch_share", "max_rel_diff"])
    joined = point_in_time(online, offline)
    rows = []
    for feature in features:
        on = joined[feature].astype(float).to_numpy()
        off = joined[f"{feature}__offline"].astype(float).to_numpy()
        diff = np.abs(on - off) / np.maximum(np.abs(off), 1e-9)
        diff = np.where(np.isnan(off) & np.isnan(on), 0.0, diff)
        diff = np.where(np.isnan(diff), np.inf, diff)  # one side missing: a mismatch
        rows.append(
            {
                "feature": feature,
                "requests": len(on),
                "mismatch_share": float((diff > TOLERANCE).mean()),
                "max_rel_diff": float(diff.max()),
            }
        )
    return pd.DataFrame(rows)
