"""One monitoring run: every check of every served model for one day, saved as reports.

For each model (``ranker``, ``bitrate``) and the day:

* feature drift of its inputs (:mod:`reelops.monitoring.inputs`) against the last days
  of its production version's training interval, whole and per country;
* prediction drift of its logged answers against the previous days' answers of the
  same version (skipped on a version's first served day);
* outcomes by version and country (:mod:`reelops.monitoring.outcomes`), judged
  against the same version's previous days: a drop of more than
  :data:`OUTCOME_DROP` in NDCG@10 (ranker) or a rise of the rebuffering ratio by more
  than :data:`REBUFFER_RISE` (bitrate) in a segment with enough requests fails.

Everything goes to ``REELOPS_HOME/monitoring/<source>/<day>/``: Evidently's HTML
reports, ``outcomes_<model>.parquet`` (read back as the next days' baseline) and
``summary.json``. A failed check asks for the model's retraining.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from reelops.config import Settings
from reelops.monitoring import data
from reelops.monitoring.drift import ALL, segment_drift
from reelops.monitoring.inputs import BITRATE_INPUTS, RANKER_INPUTS, bitrate_inputs, ranker_inputs
from reelops.monitoring.outcomes import by_segment, delivery_outcomes, recommendation_outcomes
from reelops.monitoring.skew import MAX_MISMATCH_SHARE, SKEW_MIN_REQUESTS, online_rows, skew
from reelops.registry import Registry
from reelops.sources import active_source
from reelops.warehouse import read_mart

MODELS = ("ranker", "bitrate")
BASELINE_DAYS = 7
OUTCOME_DROP = 0.35  # relative NDCG@10 drop of a segment against its baseline days
REBUFFER_RISE = 0.02  # absolute rise of the rebuffering ratio (stall s per played s)
MIN_REQUESTS = 40  # a segment with fewer requests today is reported, not judged


@dataclass
class CheckResult:
    model: str
    name: str
    status: str  # pass | fail | skip
    detail: str = ""
    features: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)


@dataclass
class MonitorRun:
    """What one day's monitoring found."""

    day: date
    source: str
    folder: Path
    checks: list[CheckResult]
    reports: dict[str, str]
    outcomes: dict[str, list[dict]]

    @property
    def retrain(self) -> list[str]:
        """The models with a failed check (their retraining is requested)."""
        return sorted({c.model for c in self.checks if c.status == "fail"})

    def describe(self) -> str:
        lines = [f"monitoring {self.source} {self.day}: {self.folder}"]
        for c in self.checks:
            lines.append(f"  {c.model:<8} {c.name:<22} {c.status:<5} {c.detail}")
        for name, path in sorted(self.reports.items()):
            lines.append(f"  report {name}: {path}")
        lines.append(
            "  retraining requested for: " + (", ".join(self.retrain) if self.retrain else "none")
        )
        return "\n".join(lines)


def monitor_folder(settings: Settings, source: str, day: date) -> Path:
    return settings.home / "monitoring" / source / day.isoformat()


def _drift_check(model: str, name: str, finding) -> CheckResult:
    if not finding.segments:
        return CheckResult(model, name, "skip", "; ".join(finding.skipped) or "nothing to compare")
    drifted = finding.drifted()
    if not drifted:
        return CheckResult(model, name, "pass", f"no drift in {len(finding.segments)} segment(s)")
    where = "; ".join(f"{seg}: {', '.join(cols)}" for seg, cols in sorted(drifted.items()))
    return CheckResult(
        model, name, "fail", f"drifted: {where}", finding.features(), sorted(drifted)
    )


def _baseline(settings: Settings, source: str, day: date, model: str) -> pd.DataFrame:
    frames = []
    for n in range(1, BASELINE_DAYS + 1):
        path = (
            monitor_folder(settings, source, day - timedelta(days=n)) / f"outcomes_{model}.parquet"
        )
        if path.exists():
            frames.append(pd.read_parquet(path))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _outcome_check(model, today, baseline, metric, worse) -> CheckResult:
    name = f"outcomes ({metric})"
    if today.empty:
        return CheckResult(model, name, "skip", "nothing served today")
    if baseline.empty:
        return CheckResult(model, name, "skip", "no earlier day of outcomes to compare with")
    base = by_segment(baseline, [metric]).set_index(["model_version", "segment"])[metric]
    now = by_segment(today, [metric])
    failed, judged = [], 0
    for row in now.itertuples():
        key = (row.model_version, row.segment)
        if key not in base.index or row.n < MIN_REQUESTS:
            continue
        judged += 1
        before, value = float(base[key]), float(getattr(row, metric))
        if worse(value, before):
            failed.append(f"{row.segment} ({row.model_version}) {value:.3f} vs {before:.3f}")
    if not judged:
        return CheckResult(model, name, "skip", "no segment with a baseline and enough requests")
    if failed:
        segments = [f.split(" ", 1)[0] for f in failed]
        return CheckResult(model, name, "fail", "; ".join(failed), segments=segments)
    return CheckResult(model, name, "pass", f"{judged} segment(s) within bounds")


def _prediction_frame(logs: pd.DataFrame, endpoint: str, countries: pd.Series) -> pd.DataFrame:
    rows = logs[logs["endpoint"] == endpoint]
    if rows.empty:
        return pd.DataFrame()
    if endpoint == "/recommend":
        frame = pd.DataFrame(
            {
                "top_title": [o["titles"][0] if o["titles"] else "none" for o in rows["output"]],
                "cold_start": [str(bool(o.get("cold_start"))) for o in rows["output"]],
                "country": rows["member_key"].map(countries).fillna("unknown").to_numpy(),
            }
        )
    else:
        frame = pd.DataFrame(
            {
                "level": [float(o["level"]) for o in rows["output"]],
                "q0.5": [float(o["quantiles"].get("q0.5", float("nan"))) for o in rows["output"]],
                "country": [f["network_key"].split(":")[0] for f in rows["features"]],
            }
        )
    frame["model_version"] = rows["model_version"].to_numpy()
    return frame


def _skew_check(settings: Settings, source: str, logs: pd.DataFrame, folder: Path) -> CheckResult:
    """The bitrate endpoint's online network features against fct_network_daily, point in time."""
    name = "online/offline skew"
    online = online_rows(logs)
    if len(online) < SKEW_MIN_REQUESTS:
        return CheckResult("bitrate", name, "skip", f"{len(online)} logged online lookups")
    try:
        offline = read_mart(settings, source, "fct_network_daily")
    except FileNotFoundError as error:
        return CheckResult("bitrate", name, "skip", str(error))
    table = skew(online, offline)
    table.to_csv(folder / "bitrate_skew.csv", index=False)
    bad = table[table["mismatch_share"] > MAX_MISMATCH_SHARE]
    if bad.empty:
        return CheckResult(
            "bitrate", name, "pass", f"{len(table)} features agree on {len(online)} requests"
        )
    detail = ", ".join(f"{r.feature} {r.mismatch_share:.0%}" for r in bad.itertuples())
    return CheckResult("bitrate", name, "fail", f"differ: {detail}", list(bad["feature"]))


def monitor_day(settings: Settings, day: date, source: str | None = None) -> MonitorRun:
    """Run every check for ``day``; write the reports and the summary; return what it found."""
    source = source or active_source(settings)
    lake = settings.lake_dir(source)
    folder = monitor_folder(settings, source, day)
    folder.mkdir(parents=True, exist_ok=True)
    countries = data.member_countries(lake)
    registry = Registry(settings)
    logs = data.serving_logs(lake, day)
    views = data.lake_day(lake, "viewing_events", day)
    sessions = data.lake_day(lake, "playback_sessions", day)
    chunks = data.lake_day(lake, "delivery_chunks", day)
    checks: list[CheckResult] = []
    reports: dict[str, str] = {}
    outcomes: dict[str, list[dict]] = {}

    for model in MODELS:
        production = registry.production(model)
        interval = production.lineage.get("data_interval") if production else None
        table = "viewing_events" if model == "ranker" else "delivery_chunks"
        ref_days = data.reference_days(interval, data.landed_days(lake, table))
        if model == "ranker":
            current = ranker_inputs(views, countries)
            reference = ranker_inputs(data.lake_days(lake, "viewing_events", ref_days), countries)
            columns = list(RANKER_INPUTS)
        else:
            current = bitrate_inputs(sessions, chunks)
            reference = bitrate_inputs(
                data.lake_days(lake, "playback_sessions", ref_days),
                data.lake_days(lake, "delivery_chunks", ref_days),
            )
            columns = list(BITRATE_INPUTS)
        if production is None:
            checks.append(CheckResult(model, "feature drift", "skip", "no production version"))
        else:
            finding = segment_drift(f"{model}_feature_drift", reference, current, columns, folder)
            checks.append(_drift_check(model, "feature drift", finding))
            reports[f"{model} feature drift"] = finding.reports.get(ALL, "")

        endpoint = "/recommend" if model == "ranker" else "/bitrate"
        predicted = _prediction_frame(logs, endpoint, countries)
        earlier = [
            _prediction_frame(data.serving_logs(lake, day - timedelta(days=n)), endpoint, countries)
            for n in range(1, BASELINE_DAYS + 1)
        ]
        earlier = (
            pd.concat([e for e in earlier if len(e)], ignore_index=True)
            if any(len(e) for e in earlier)
            else pd.DataFrame()
        )
        if predicted.empty or earlier.empty:
            checks.append(
                CheckResult(model, "prediction drift", "skip", "no earlier answers to compare with")
            )
        else:
            version = predicted["model_version"].mode()[0]
            predicted = predicted[predicted["model_version"] == version]
            earlier = earlier[earlier["model_version"] == version]
            pcols = [c for c in predicted.columns if c not in ("country", "model_version")]
            finding = segment_drift(
                f"{model}_prediction_drift", earlier, predicted, pcols, folder, segment=None
            )
            checks.append(_drift_check(model, "prediction drift", finding))
            if finding.reports:
                reports[f"{model} prediction drift"] = finding.reports[ALL]

        if model == "bitrate":
            checks.append(_skew_check(settings, source, logs, folder))

        if model == "ranker":
            today = recommendation_outcomes(logs, views, countries)
            check = _outcome_check(
                model,
                today[~today["cold_start"]] if len(today) else today,
                _baseline(settings, source, day, model),
                "ndcg",
                lambda now, before: before > 0 and now < (1 - OUTCOME_DROP) * before,
            )
            metrics = ["hit", "ndcg", "completion"]
        else:
            today = delivery_outcomes(logs, sessions, chunks)
            check = _outcome_check(
                model,
                today,
                _baseline(settings, source, day, model),
                "rebuffer_ratio",
                lambda now, before: now > before + REBUFFER_RISE,
            )
            metrics = ["qoe", "rebuffer_ratio", "bitrate_mbps"]
        checks.append(check)
        if model == "ranker" and len(today):
            today = today[~today["cold_start"]]
        today.to_parquet(folder / f"outcomes_{model}.parquet", index=False)
        table = by_segment(today, metrics)
        outcomes[model] = table.round(4).to_dict(orient="records")

    run = MonitorRun(day, source, folder, checks, reports, outcomes)
    summary = {
        "day": day.isoformat(),
        "source": source,
        "checks": [asdict(c) for c in checks],
        "reports": reports,
        "outcomes": outcomes,
        "retrain": run.retrain,
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    return run
