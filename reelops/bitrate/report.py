"""An experiment's or a candidate's evaluation figures as readable text."""

from __future__ import annotations

from collections.abc import Mapping


def format_report(figures: Mapping) -> str:
    """The experiment's or a candidate's evaluation as readable text."""
    test = figures["test"]
    reference = test["multi_start"]["versus_reference"]["baseline"]
    lines = [f"split by file (seed {figures.get('split_seed')}): {figures.get('split')}"]
    if "chosen" in figures:
        chosen = figures["chosen"]
        lines.append(
            f"chosen on validation: horizon={chosen['params']['horizon']}, mode={chosen['mode']}"
        )
    for name, title in (
        ("multi_start", "test traces, mean over several start rows per trace (primary)"),
        ("pensieve", "test traces, one session each from row 1 (Pensieve's test mode)"),
    ):
        part = test[name]
        v = part["versus_reference"]
        gap = part["gap_closed_to_oracle"]
        lines += [
            "",
            f"{title}:",
            part["table"],
            f"{v['policy']} - {reference} QoE_lin per trace: {v['mean_diff']:+.2f} "
            f"(95% bootstrap {v['ci_low']:+.2f} .. {v['ci_high']:+.2f}, {v['traces']} traces)"
            + (f"; share of the way to the oracle: {gap:.0%}" if gap is not None else ""),
        ]
    for e in figures.get("prediction_error", {}).values():
        lines.append(
            f"MAE of log throughput ({e['horizon']}-chunk target, {e['rows']:,} requests): model "
            f"median {e['mae_log_model']:.3f}, harmonic mean {e['mae_log_harmonic_mean']:.3f}; "
            f"{e['interval']} interval coverage {e['interval_coverage']:.0%}"
        )
    return "\n".join(lines)
