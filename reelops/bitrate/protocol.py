"""The ``training`` and ``evaluation`` sections of ``models/bitrate.yaml``, and their protocol."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reelops.abr.policies import baseline_policies
from reelops.bitrate.throughput import (
    QUANTILES,
)

Mode = float | Literal["scenarios"]


class TrainingSettings(BaseModel):
    """The ``training`` section of ``models/bitrate.yaml``.

    Attributes:
        sessions_per_trace: Training sessions simulated per training trace file.
        randomized_traces: Synthetic traces of random kinds added to training
            (:func:`~reelops.bitrate.sessions.randomized_traces`); 0 for none.
        randomized_sessions_per_trace: Sessions per synthetic trace.
        quantiles: Quantile levels the model predicts.
        modes: Ways MPC may use the model, chosen on validation: a quantile level, or
            ``"scenarios"`` (every quantile as an equally likely future).
        split: Shares of train, validation and test trace files.
        split_seed: Seed of the by-file split (and of the pick of hold-out segments).
        validation_starts: Sessions per validation trace (row 1 and random rows).
        holdout_traces_per_segment: On a source that publishes its hold-out (the
            synthetic world publishes 2), the first this many traces per country x
            connection for validation and for test.
        holdout_segments: On such a source, use only this many segments (a pick
            seeded with ``split_seed``; 0 for all 32), to keep small runs small.
        reference_rows: Training-feature rows saved with the model for drift checks.
        seed: Seed of session starts, augmentation and the boosters.
        threads: XGBoost threads; 0 for all cores.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sessions_per_trace: int = Field(16, ge=1)
    randomized_traces: int = Field(90, ge=0)
    randomized_sessions_per_trace: int = Field(8, ge=1)
    quantiles: tuple[float, ...] = QUANTILES
    modes: tuple[float | Literal["scenarios"], ...] = (0.1, "scenarios")
    split: tuple[float, float, float] = (0.6, 0.2, 0.2)
    split_seed: int = 0
    validation_starts: int = Field(8, ge=1)
    holdout_traces_per_segment: int = Field(2, ge=1)
    holdout_segments: int = Field(0, ge=0)
    reference_rows: int = Field(5000, ge=1)
    seed: int = 0
    threads: int = Field(0, ge=0)

    @field_validator("modes")
    @classmethod
    def _modes_in_quantiles(cls, modes, info):
        quantiles = info.data.get("quantiles", QUANTILES)
        bad = [m for m in modes if m != "scenarios" and m not in quantiles]
        if not modes or bad:
            raise ValueError(f"modes must be 'scenarios' or levels among {quantiles}, got {bad}")
        return modes


class EvaluationSettings(BaseModel):
    """The ``evaluation`` section of ``models/bitrate.yaml``.

    Attributes:
        starts_per_trace: Sessions per test trace (row 1 and random rows); the
            trace's mean QoE is the unit of the paired bootstrap.
        bootstrap: Bootstrap resamples.
        baselines: Baseline policies played beside the model.
        reference: The baseline the bootstrap interval is taken against.
        oracle: The upper reference (MPC that knows the future bandwidth).
        error_sessions_per_trace: Baseline sessions per test trace on which the
            prediction error is measured.
        seed: Seed of start rows and resampling.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    starts_per_trace: int = Field(4, ge=1)
    bootstrap: int = Field(2000, ge=100)
    baselines: tuple[str, ...] = ("bba", "rate_based", "bola", "robust_mpc")
    reference: str = "robust_mpc"
    oracle: str | None = "oracle_mpc"
    error_sessions_per_trace: int = Field(8, ge=1)
    seed: int = 0

    @field_validator("baselines")
    @classmethod
    def _known(cls, names):
        known = set(baseline_policies())
        if unknown := sorted(set(names) - known):
            raise ValueError(f"unknown baselines {unknown}; choose from {sorted(known)}")
        return names


def protocol(training: TrainingSettings, evaluation: EvaluationSettings) -> dict:
    """How the hold-out was made, in words and numbers, for reports and evidence."""
    return {
        "split": "by trace file (never within a trace), hashed with split_seed",
        "split_shares": list(training.split),
        "split_seed": training.split_seed,
        "selection": f"model and MPC mode chosen on validation QoE_lin "
        f"({training.validation_starts} starts per trace)",
        "test_sessions_per_trace": evaluation.starts_per_trace,
        "unit": "trace file: mean QoE over its sessions (row 1 and random start rows)",
        "bootstrap": f"paired percentile bootstrap over trace files, "
        f"{evaluation.bootstrap} resamples, 95 %",
        "pensieve": "one session per test trace from row 1, reported beside it",
    }
