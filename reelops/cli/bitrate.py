"""The `reelops bitrate` and `reelops abr` commands: train and judge the model, simulate ABR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from reelops.cli.console import RegistryVersion, Verbose, progress_bars
from reelops.cli.console import fail as _fail
from reelops.config import get_settings

bitrate_app = typer.Typer(
    help="The delivery-bitrate predictor: train, evaluate.", no_args_is_help=True
)
abr_app = typer.Typer(
    help="Adaptive-bitrate simulation over throughput traces.", no_args_is_help=True
)
PREDICTOR_POLICY = "xgb_mpc"
# reelops.abr.policies.baseline_policies() and the model's policy (a test keeps them equal).
Policy = Literal["bba", "rate_based", "bola", "robust_mpc", "oracle_mpc", "xgb_mpc"]


def _load_traces(folder: Path):
    from reelops.abr.traces import TraceFormatError, load_trace_dir

    try:
        return load_trace_dir(folder)
    except (TraceFormatError, FileNotFoundError) as exc:
        _fail(f"cannot read traces from {folder}: {exc}")


def _model_version(version: str | None) -> tuple[str, Path, str]:
    """A registry version's files: the given one, else production, else the newest candidate."""
    from reelops.bitrate.train import MODEL
    from reelops.registry import Registry, RegistryError

    registry = Registry(get_settings())
    try:
        if version:
            return version, registry.files(MODEL, version), "as asked"
        production = registry.production(MODEL)
        if production:
            return production.version, registry.files(MODEL, production.version), "production"
        candidates = [v for v in registry.list(MODEL) if v.stage == "candidate"]
        if not candidates:
            _fail("no bitrate model in the registry: run `reelops bitrate train` first")
        newest = candidates[-1].version
        return newest, registry.files(MODEL, newest), "newest candidate (none in production)"
    except RegistryError as exc:
        _fail(str(exc))


def _write(out: Path | None, payload: dict) -> None:
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    typer.echo(f"written to {out}")


@bitrate_app.command("train")
def bitrate_train(
    verbose: Verbose = False,
) -> None:
    """Run the reelops_bitrate DAG: train, simulate, gates, approval, promotion.

    On the running Airflow (`reelops airflow up`) if there is one, else in-process.
    """
    from reelops.bitrate.train import demo_summary
    from reelops.orchestration.training import run_training_dag
    from reelops.quality.release import ReleaseError, release_summary
    from reelops.registry import Registry

    settings = get_settings()
    try:
        run_training_dag(settings, "bitrate", verbose=verbose)
    except ReleaseError as error:
        _fail(str(error))
    newest = Registry(settings).list("bitrate")[-1].version
    typer.echo(demo_summary(settings, newest))
    summary = release_summary(settings, "bitrate", newest)
    verdict = summary.splitlines()[0]
    if not verbose and "gates passed" in verdict:  # failed gates: the whole table says why
        summary = f"{verdict}\n(gate table: reelops models show bitrate {newest})"
    typer.echo(summary)


@bitrate_app.command("evaluate")
def bitrate_evaluate(
    version: RegistryVersion = None,
    traces: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Judge on these trace files instead of the saved hold-out."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write the figures as JSON here.")
    ] = None,
) -> None:
    """Every baseline, the model and the oracle on one hold-out; bootstrap vs robustMPC; MAE."""
    from reelops.bitrate.data import Holdout
    from reelops.bitrate.decision import BitrateModel
    from reelops.bitrate.holdout_eval import evaluate_holdout, holdout_json, prediction_error
    from reelops.bitrate.report import format_report
    from reelops.bitrate.selection import predictor_policy
    from reelops.bitrate.sessions import simulate_training_sessions
    from reelops.bitrate.train import HOLDOUT_DIR, MODEL, settings_of
    from reelops.specs import SpecError, load_spec

    version, files, why = _model_version(version)
    try:
        _training, evaluation = settings_of(load_spec(MODEL))
    except SpecError as exc:
        _fail(str(exc))
    typer.echo(f"bitrate {version} ({why})")
    model = BitrateModel.load(files)
    if traces is not None:
        test = _load_traces(traces)
        context_of = None
        source = str(traces)
    else:
        holdout = Holdout.load(files / HOLDOUT_DIR)
        test = holdout.split("test")
        context_of = holdout.context_of
        source = f"saved hold-out ({holdout.kind})"
    policy = (
        predictor_policy(model.model, model.mode, context_of)
        if context_of
        else predictor_policy(model.model, model.mode)
    )
    with progress_bars() as progress:
        result = evaluate_holdout({PREDICTOR_POLICY: policy}, test, evaluation, progress=progress)
    rows = simulate_training_sessions(
        test,
        seed=evaluation.seed + 3,
        sessions_per_trace=2,
        context_of_trace=(lambda t: context_of(t.trace_id)) if context_of else None,
    )
    figures = {
        "version": version,
        "source": source,
        "split": {"test": len(test)},
        "test": holdout_json(result),
        "prediction_error": prediction_error(model.model, rows),
    }
    typer.echo(format_report(figures))
    _write(out, figures)


@abr_app.command("simulate")
def abr_simulate(
    traces: Annotated[
        Path, typer.Option(metavar="DIR", help="Folder of trace files: `time_s Mbit/s` per line.")
    ],
    policy: Annotated[
        Policy, typer.Option(help="A baseline, or xgb_mpc: MPC driven by the bitrate model.")
    ],
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write per-trace QoE as JSON here.")
    ] = None,
    version: Annotated[
        str | None, typer.Option(metavar="VERSION", help="Model version for xgb_mpc.")
    ] = None,
) -> None:
    """Play the reference video over every trace with one policy (Pensieve's test mode)."""
    from reelops.abr.evaluation import evaluate_policies, summarize, summary_table
    from reelops.abr.policies import baseline_policies

    test = _load_traces(traces)
    if policy == PREDICTOR_POLICY:
        from reelops.bitrate.decision import BitrateModel
        from reelops.bitrate.selection import predictor_policy

        version, files, why = _model_version(version)
        typer.echo(f"xgb_mpc uses bitrate {version} ({why})")
        model = BitrateModel.load(files)
        factory = predictor_policy(model.model, model.mode)
    else:
        factory = baseline_policies()[policy]
    with progress_bars() as progress:
        frame = evaluate_policies(test, {policy: factory}, progress=progress)
    typer.echo(summary_table(frame))
    _write(
        out,
        {
            "policy": policy,
            "traces": str(traces),
            "summary": summarize(frame)[policy],
            "per_trace": frame.drop(columns=["sim_s"]).to_dict(orient="records"),
        },
    )
