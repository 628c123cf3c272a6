"""Off-policy evaluation on the real Open Bandit sample: Bernoulli TS valued from the Random log.

Reproduces the figure the obp 0.4.1 README publishes (IPS of the production Bernoulli TS
policy over the Random log's mean click: 1.198126) with ReelOps' own IPS and numpy
replication of obp's action distribution, and reports replay, SNIPS and DR (cross-fitted
click model) beside it with bootstrap CIs, and the on-policy truth: the mean click of
the BTS log itself. Data: ``REELOPS_OBD`` (a fetched ``open-bandit`` folder), else
``reelops data fetch open-bandit`` into the benchmark's own home. Saito et al. 2021.

Run ``python -m benchmarks.run --only artwork-open-bandit``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _data_folder(home: Path) -> Path:
    if given := os.environ.get("REELOPS_OBD"):
        return Path(given)
    env = {**os.environ, "REELOPS_HOME": str(home)}
    fetch = subprocess.run(
        [sys.executable, "-m", "reelops.cli", "data", "fetch", "open-bandit"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if fetch.returncode != 0:
        raise FileNotFoundError(f"`reelops data fetch open-bandit` failed: {fetch.stderr[-300:]}")
    return home / "data" / "open-bandit"


def run(work: Path) -> list[dict]:
    """The estimates for each campaign, as rows."""
    from reelops.artwork.open_bandit import PUBLISHED_RELATIVE_IPS, evaluate_bts

    folder = _data_folder(work / "home")
    rows = []
    for campaign in ("all", "men", "women"):
        result = evaluate_bts(folder, campaign)
        for name, e in result.estimates.items():
            rows.append(
                {
                    "campaign": campaign,
                    "estimator": name,
                    "value": e.value,
                    "ci_low": e.low,
                    "ci_high": e.high,
                    "relative_to_random": result.relative(name),
                    "rows_used": e.rows_used,
                    "on_policy_truth": result.on_policy_truth,
                    "random_mean_click": result.random_mean_click,
                }
            )
        if campaign == "all":
            got = result.relative("ips")
            rows.append(
                {
                    "campaign": "all",
                    "estimator": "ips vs obp README",
                    "relative_to_random": got,
                    "published": PUBLISHED_RELATIVE_IPS,
                    "reproduced_to_1e-6": abs(got - PUBLISHED_RELATIVE_IPS) < 1e-6,
                }
            )
    return rows


def print_table(rows: list[dict]) -> None:
    print(
        f"  {'campaign':<8} {'estimator':<18} {'value':>9} {'95% CI':>20} {'rel. Random':>11}"
        f" {'on-policy truth':>15}"
    )
    for r in rows:
        if "published" in r:
            print(
                f"  {r['campaign']:<8} {r['estimator']:<18} relative {r['relative_to_random']:.7f}"
                f" vs published {r['published']}: reproduced to 1e-6: {r['reproduced_to_1e-6']}"
            )
            continue
        ci = f"[{r['ci_low']:.5f}, {r['ci_high']:.5f}]"
        print(
            f"  {r['campaign']:<8} {r['estimator']:<18} {r['value']:>9.5f} {ci:>20}"
            f" {r['relative_to_random']:>11.4f} {r['on_policy_truth']:>15.5f}"
        )


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print_table(run(Path(tmp)))
