"""HTML of the evidence pages: plain, escaped, one small stylesheet, no scripts."""

from __future__ import annotations

from html import escape
from typing import Any

from reelops.quality.checks import fmt
from reelops.quality.gates import COLUMNS
from reelops.registry import ModelVersion

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.2rem; color: #222; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.pass { color: #1a7f37; } .fail { color: #c62828; font-weight: bold; } .skip { color: #777; }
.inconclusive { color: #b26a00; font-weight: bold; }
.production { font-weight: bold; } img { max-width: 100%; border: 1px solid #eee; }
"""


def page(title: str, body: str) -> str:
    """A whole HTML document."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table; cells are already-escaped HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def link(href: str, text: str) -> str:
    return f"<a href='{escape(href, quote=True)}'>{escape(text)}</a>"


def verdict(version: ModelVersion) -> str:
    if not version.gates.get("checks"):
        return "<span class='skip'>gates not run</span>"
    passed = version.gates.get("passed")
    return f"<span class='{'pass' if passed else 'fail'}'>{'passed' if passed else 'FAILED'}</span>"


def headline(version: ModelVersion, metric: str) -> str:
    """The candidate's primary metric on its hold-out, as recorded by its gates."""
    return fmt((version.gates.get("overall") or {}).get("candidate", {}).get(metric))


def gate_table(checks: list[dict[str, Any]]) -> str:
    """The gate checks as an HTML table, status coloured."""
    rows = []
    for check in checks:
        status = check["status"]
        rows.append(
            [
                escape(str(check["gate"])),
                escape(str(check["name"])),
                f"<span class='{escape(status)}'>{escape(status.upper())}</span>",
                escape(fmt(check["value"])),
                escape(str(check["limit"])),
                escape(str(check["detail"])),
            ]
        )
    return table(list(COLUMNS), rows)


def overall_table(overall: dict[str, dict[str, float]]) -> str:
    """The hold-out's overall figures per label (candidate, champion, baselines)."""
    if not overall:
        return ""
    metrics = sorted({m for row in overall.values() for m in row})
    rows = [
        [escape(label), *(escape(fmt(values.get(m))) for m in metrics)]
        for label, values in overall.items()
    ]
    return table(["hold-out", *metrics], rows)
