"""The Script Analyzer's HTML report: arc and pacing plotted beside the flags, one file."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from reelops.content.analyze import Analysis
from reelops.quality.plots import pyplot


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def arc_plot(analysis: Analysis) -> str:
    """The sentiment arc with its best-fitting shape, as base64 PNG."""
    plt = pyplot()
    arc = analysis.arc
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.plot(arc.position, arc.value, color="tab:blue", label="sentiment (VADER, 10 % window)")
    ax.axhline(0, color="black", lw=0.6)
    starts = analysis.scenes["line"].to_numpy()
    ax.set_xlabel("position in the script (share of its words)")
    ax.set_ylabel("mean compound score")
    ax.set_title(
        f"{analysis.script.title}: arc shape {arc.shape} (r = {arc.fit[arc.shape]:.2f}), "
        f"{len(starts)} scenes",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def pacing_plot(analysis: Analysis) -> str:
    """Scene length, dialogue share and interaction along the script, as base64 PNG."""
    plt = pyplot()
    scenes = analysis.scenes
    x = scenes["scene"].to_numpy() + 1
    fig, axes = plt.subplots(3, 1, figsize=(8, 6), sharex=True)
    colors = ["tab:red" if d else "tab:gray" for d in scenes["drags"]]
    axes[0].bar(x, scenes["words"], color=colors)
    axes[0].set_ylabel("words")
    axes[0].set_title("scene length (red: a scene that drags)", fontsize=9)
    axes[1].plot(x, scenes["dialogue_share"], marker="o", ms=3)
    axes[1].set_ylabel("dialogue share")
    axes[1].set_ylim(0, 1.05)
    axes[2].plot(x, scenes["turns_per_100_words"], marker="o", ms=3, label="exchanges / 100 words")
    axes[2].plot(x, scenes["interaction_density"], marker="s", ms=3, label="pairs who speak")
    axes[2].set_ylabel("interaction")
    axes[2].set_xlabel("scene")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render(analysis: Analysis) -> str:
    """The report as one self-contained HTML page (plots embedded as PNG data)."""
    script = analysis.script
    f = analysis.features
    flags = _table(
        ["character", "fact", "first line", "says", "second line", "says"],
        [
            [
                c.speaker,
                c.attribute,
                c.first.line,
                c.first.text,
                c.second.line,
                c.second.text,
            ]
            for c in analysis.contradictions
        ],
    )
    setups = _table(
        ["set up", "line", "text"], [[s.word, s.line, s.text] for s in analysis.unpaid_setups]
    )
    chars = _table(
        ["character", "speeches", "words", "scenes"],
        analysis.characters[["character", "speeches", "words", "scenes"]].head(15).values.tolist(),
    )
    pairs = _table(
        ["character", "character", "exchanges"],
        analysis.interactions.head(15).values.tolist(),
    )
    dragging = analysis.scenes[analysis.scenes["drags"]]
    drags = _table(
        ["scene", "heading", "line", "words", "speakers"],
        [[r.scene + 1, r.heading, r.line, r.words, r.speakers] for r in dragging.itertuples()],
    )
    notes = "".join(f"<li>{html.escape(s)}</li>" for s in analysis.suggestions)
    summary = (
        f"{len(script.scenes)} scenes, {len(analysis.characters)} speaking characters, "
        f"{int(f['words']):,} words; arc: {analysis.arc.shape}; dialogue share "
        f"{f['dialogue_share']:.0%}; {f['turns_per_100_words']:.1f} exchanges per 100 words"
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Script report: {html.escape(script.title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:1em auto}}
table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid #ccc;padding:2px 6px;
font-size:90%;text-align:left;vertical-align:top}}</style></head><body>
<h1>{html.escape(script.title)}</h1>
<p>{html.escape(script.source)} ({script.format}). {html.escape(summary)}.</p>
<h2>Suggestions</h2><ul>{notes}</ul>
<h2>Emotional arc</h2>
<img id="arc" alt="sentiment arc" src="data:image/png;base64,{arc_plot(analysis)}">
<h2>Pacing</h2>
<img id="pacing" alt="pacing" src="data:image/png;base64,{pacing_plot(analysis)}">
<h2>Consistency flags</h2>{flags}
<h2>Unpaid setups</h2>{setups}
<h2>Scenes that drag</h2>{drags}
<h2>Characters</h2>{chars}
<h2>Who speaks with whom</h2>{pairs}
</body></html>
"""


def write_report(analysis: Analysis, path: Path) -> Path:
    """Write :func:`render`'s page to ``path`` (beside-and-rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(analysis), encoding="utf-8")
    tmp.replace(path)
    return path
