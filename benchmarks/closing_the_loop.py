"""Closing the loop, measured: traffic days against the endpoints, each landed and monitored.

``python -m benchmarks.closing_the_loop --days N [--taste-shift COUNTRY@DAY ...]`` on a
home whose world has a production ranker and bitrate model (after `make demo`, or
`world generate`, `pipeline run`, `ranker train`, `bitrate train`). For each day: one
day of traffic through the in-process endpoints (timed), the day landed in the lake,
then the monitoring checks of that day. The warehouse and the online store are not
rebuilt between days (monitoring reads the lake and the logs; the endpoints' features
stay as of the models' data end), which keeps a day to a few minutes on this machine.
Prints one line per day: traffic seconds, each check's status, the ranker's NDCG@10;
and the count of days a drift check failed (false alarms when no change is injected).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timedelta

from reelops.config import get_settings
from reelops.ingest import land_interval
from reelops.monitoring.run import monitor_day
from reelops.serving.traffic import play_traffic
from reelops.sources import active_source
from reelops.world.traffic import parse_change


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--taste-shift", action="append", default=[])
    parser.add_argument("--network-degradation", action="append", default=[])
    parser.add_argument("--broken-feature", action="append", default=[])
    args = parser.parse_args()
    changes = [
        *(parse_change("taste", v) for v in args.taste_shift),
        *(parse_change("network", v) for v in args.network_degradation),
        *(parse_change("broken", v) for v in args.broken_feature),
    ]
    settings = get_settings()
    source = active_source(settings)
    drift_alarms, rows = 0, []
    for n in range(args.days):
        (day,) = play_traffic(settings, 1, changes=changes if n == 0 else ())
        start = datetime.combine(day.day, datetime.min.time())
        land_interval(settings, source, start, start + timedelta(days=1))
        t0 = time.perf_counter()
        run = monitor_day(settings, day.day, source)
        status = {f"{c.model} {c.name}": c.status for c in run.checks}
        drifted = [c for c in run.checks if "drift" in c.name and c.status == "fail"]
        drift_alarms += bool(drifted)
        ndcg = next(
            (r["ndcg"] for r in run.outcomes.get("ranker", []) if r["segment"] == "all"), None
        )
        row = {
            "day": day.day.isoformat(),
            "traffic_s": round(day.seconds, 1),
            "traffic_cpu_s": round(day.cpu_seconds, 1),
            "monitor_s": round(time.perf_counter() - t0, 1),
            "visits": day.visits,
            "bitrate_calls": day.bitrate_calls,
            "ndcg@10": ndcg,
            "checks": status,
            "failed": [f"{c.model} {c.name}: {c.detail}" for c in run.checks if c.status == "fail"],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"days with a drift check failed: {drift_alarms} of {args.days}")


if __name__ == "__main__":
    main()
