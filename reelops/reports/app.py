"""The evidence web app: every model version's gates, plots and reports, read-only.

Airflow's API server mounts it under :data:`reelops.quality.gates.REPORTS_URL` (see
:mod:`reelops.orchestration.plugin`), so the links in gate notes and the run pages'
"Evidence" tab open inside the Airflow UI, behind Airflow's login. It reads the
registry and ``REELOPS_HOME/reports`` only; it serves a file only when the version's
recorded reports name it and it lies inside the reports folder.

Routes (relative to the mount point):

* ``/``: every model, its versions with verdict and headline metric, a trend plot;
* ``/models/{model}/{version}``: the gate table, hold-out figures, plots, reports;
* ``/models/{model}/{version}/files/{name}``: one recorded report file;
* ``/models/{model}/trend.png``: the primary metric of every version, in order;
* ``/runs/{dag_id}/{run_id}``: the versions a DAG run produced (needs a ``run_lookup``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.params import Depends
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from reelops.config import Settings, get_settings
from reelops.quality.checks import fmt
from reelops.quality.plots import pyplot
from reelops.registry import ModelVersion, Registry, RegistryError
from reelops.reports import pages
from reelops.specs import SpecError, load_spec

RunLookup = Callable[[str, str], list[tuple[str, str]]]
MEDIA_TYPES = {".html": "text/html", ".png": "image/png", ".csv": "text/csv"}
MEDIA_TYPES |= {".json": "application/json", ".md": "text/markdown", ".txt": "text/plain"}


def primary_metric(model: str, versions: Sequence[ModelVersion]) -> str:
    """The quality metric (``ndcg@10``, ``qoe``...) of the spec the newest gates ran with."""
    specs = [v.gates["spec"] for v in versions if v.gates.get("spec")]
    for spec in [*reversed(specs), model]:
        try:
            return load_spec(spec).gates.metric
        except SpecError:
            continue
    return "metric"


def trend_png(versions: Sequence[ModelVersion], metric: str) -> bytes:
    """Line plot of each gated version's candidate ``metric``, production versions marked."""
    plt = pyplot()
    gated = [v for v in versions if (v.gates.get("overall") or {}).get("candidate")]
    gated.sort(key=lambda v: v.created_at)
    values = [v.gates["overall"]["candidate"].get(metric) for v in gated]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(range(len(gated)), values, marker="o", color="tab:blue")
    for i, version in enumerate(gated):
        if version.stage == "production":
            ax.plot(i, values[i], marker="s", color="tab:green", ms=9, alpha=0.5)
    ax.set_xticks(range(len(gated)), [v.version for v in gated], rotation=30, fontsize=7)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} of each version on its own hold-out (square: in production)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def create_app(
    settings: Settings | None = None,
    dependencies: Sequence[Depends] = (),
    run_lookup: RunLookup | None = None,
) -> FastAPI:
    """The evidence app.

    Args:
        settings: Where the registry and reports live (default: the environment's).
        dependencies: FastAPI dependencies every route runs first (the Airflow plugin
            passes Airflow's login check).
        run_lookup: ``(dag_id, run_id) -> [(model, version)]`` for the run pages.
    """
    app = FastAPI(title="ReelOps evidence", dependencies=list(dependencies), docs_url=None)

    def registry() -> Registry:
        return Registry(settings or get_settings())

    def version_or_404(model: str, version: str) -> ModelVersion:
        try:
            return registry().get(model, version)
        except RegistryError as error:
            raise HTTPException(404, str(error)) from None

    def base(request: Request) -> str:
        return request.scope.get("root_path", "").rstrip("/")

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> str:
        versions = registry().list()
        if not versions:
            return pages.page(
                "ReelOps evidence",
                "<p>No model has been trained yet: run <code>reelops ranker train</code> or "
                "<code>reelops bitrate train</code> (or <code>make demo</code>).</p>",
            )
        body = []
        for model in sorted({v.name for v in versions}):
            metric = primary_metric(model, [v for v in versions if v.name == model])
            rows = [
                [
                    pages.link(f"{base(request)}/models/{model}/{v.version}", v.version),
                    f"<span class='{escape(v.stage)}'>{escape(v.stage)}</span>",
                    escape(v.created_at[:19]),
                    pages.verdict(v),
                    escape(pages.headline(v, metric)),
                ]
                for v in sorted(
                    (v for v in versions if v.name == model),
                    key=lambda v: v.created_at,
                    reverse=True,
                )
            ]
            body += [
                f"<h2>{escape(model)}</h2>",
                f"<img alt='{escape(metric)} over versions' "
                f"src='{escape(base(request))}/models/{escape(model)}/trend.png'>",
                pages.table(["version", "stage", "created", "gates", metric], rows),
            ]
        return pages.page("ReelOps evidence", "".join(body))

    @app.get("/models/{model}/trend.png")
    def trend(model: str) -> Response:
        versions = registry().list(model)
        if not versions:
            raise HTTPException(404, f"no versions of model {model!r}")
        metric = primary_metric(model, versions)
        return Response(trend_png(versions, metric), media_type="image/png")

    @app.get("/models/{model}/{version}", response_class=HTMLResponse)
    def version_page(request: Request, model: str, version: str) -> str:
        found = version_or_404(model, version)
        here = f"{base(request)}/models/{model}/{version}"
        champion = found.gates.get("champion_version") or "none (first model)"
        body = [
            f"<p>Stage <b>{escape(found.stage)}</b>; gates {pages.verdict(found)}; "
            f"judged against champion <code>{escape(str(champion))}</code>; "
            f"{pages.link(base(request) + '/', 'all models')}.</p>",
            "<h2>Gates</h2>",
            pages.gate_table(found.gates.get("checks") or []),
            "<h2>Hold-out</h2>",
            pages.overall_table(found.gates.get("overall") or {}),
        ]
        plots = [name for name in found.reports if name.endswith("_png")]
        for name in plots:
            body.append(f"<h3>{escape(name[:-4].replace('_', ' '))}</h3>")
            body.append(f"<img alt='{escape(name)}' src='{escape(here)}/files/{escape(name)}'>")
        others = [name for name in found.reports if name not in plots]
        if others:
            body.append("<h2>Reports</h2><ul>")
            body += [f"<li>{pages.link(f'{here}/files/{name}', name)}</li>" for name in others]
            body.append("</ul>")
        lineage = found.lineage
        body.append(
            "<h2>Lineage</h2>"
            + pages.table(
                ["field", "value"],
                [
                    [escape(k), escape(fmt(v) if isinstance(v, float) else str(v))]
                    for k, v in lineage.items()
                    if k not in ("search", "candidates")
                ],
            )
        )
        return pages.page(f"{model}:{version}", "".join(body))

    @app.get("/models/{model}/{version}/files/{name}")
    def report_file(model: str, version: str, name: str) -> FileResponse:
        found = version_or_404(model, version)
        if name not in found.reports:
            raise HTTPException(404, f"{model}:{version} has no report named {name!r}")
        path = Path(found.reports[name]).resolve()
        root = (settings or get_settings()).reports_dir.resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise HTTPException(404, f"report {name!r} of {model}:{version} is not on disk")
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "text/plain"))

    @app.get("/runs/{dag_id}/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, dag_id: str, run_id: str) -> Response:
        produced = run_lookup(dag_id, run_id) if run_lookup else []
        if len(produced) == 1:
            model, version = produced[0]
            return RedirectResponse(f"{base(request)}/models/{model}/{version}", status_code=303)
        if produced:
            items = "".join(
                f"<li>{pages.link(f'{base(request)}/models/{m}/{v}', f'{m}:{v}')}</li>"
                for m, v in produced
            )
            body = f"<ul>{items}</ul>"
        else:
            body = (
                "<p>This run has no gate results: it trains no model, or its "
                "<code>gates</code> task has not finished. "
                f"{pages.link(base(request) + '/', 'Every model version')}.</p>"
            )
        return HTMLResponse(pages.page(f"{dag_id} / {run_id}", body))

    return app
