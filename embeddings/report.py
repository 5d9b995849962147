"""Self-contained HTML reports a user can mail to a stakeholder: plots (plotly, inlined)
and tables in one file, no network needed to open it."""

from __future__ import annotations

import html
from datetime import datetime, timezone

import pandas as pd
import plotly.graph_objects as go

from .neighbours import Comparison

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;color:#222;
padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left}
th{background:#f4f5f7}.muted{color:#666;font-size:.9em}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
.chip{display:inline-block;border-radius:1em;padding:.1em .6em;margin:.15em;background:#eef}
"""


def jaccard_histogram(comparison: Comparison, name_a: str, name_b: str) -> go.Figure:
    fig = go.Figure(go.Histogram(x=comparison.table["jaccard"], xbins={"start": 0, "end": 1.0001, "size": 0.05},
                                 marker={"color": "#3b5bdb"},
                                 hovertemplate="Jaccard %{x}: %{y} labels<extra></extra>"))
    fig.update_layout(xaxis_title=f"Jaccard@{comparison.k} of the neighbour sets ({name_a} vs {name_b})",
                      yaxis_title="labels", template="plotly_white", height=320, bargap=0.05,
                      margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def drift_histogram(comparison: Comparison) -> go.Figure:
    fig = go.Figure(go.Histogram(x=comparison.table["drift"], nbinsx=40, marker={"color": "#e8590c"},
                                 hovertemplate="drift %{x}: %{y} labels<extra></extra>"))
    fig.update_layout(xaxis_title="cosine drift after orthogonal Procrustes (1 − cos)", yaxis_title="labels",
                      template="plotly_white", height=320, bargap=0.05, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda x: f"{x:.3f}", border=0, escape=True)


def compare_report(comparison: Comparison, name_a: str, name_b: str, *, examples: list[str] | None = None,
                   top: int = 25) -> str:
    """One HTML document: summary, histograms, most/least changed labels, domino views."""
    s = comparison.summary()
    t = comparison.table
    most = t.sort_values(["jaccard", "ordered"], kind="stable").head(top)
    least = t.sort_values(["jaccard", "ordered"], ascending=False, kind="stable").head(top)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(name_a)} vs {html.escape(name_b)}: neighbourhood comparison</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(name_a)} vs {html.escape(name_b)}</h1>",
        f"<p class='muted'>Embedding Explorer · {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · "
        f"neighbours searched among the {s['shared']:,} labels both spaces share · k = {s['k']}</p>",
        "<table><tr><th>shared labels</th><th>mean Jaccard</th><th>median Jaccard</th><th>mean ordered overlap</th>"
        f"</tr><tr><td>{s['shared']:,}</td><td>{s['mean_jaccard']:.3f}</td><td>{s['median_jaccard']:.3f}</td>"
        f"<td>{s['mean_ordered']:.3f}</td></tr></table>",
        "<h2>How much each label's neighbourhood changed</h2>",
        jaccard_histogram(comparison, name_a, name_b).to_html(full_html=False, include_plotlyjs="inline"),
    ]
    if comparison.aligned:
        parts += ["<h2>Drift after aligning the two spaces (orthogonal Procrustes)</h2>",
                  drift_histogram(comparison).to_html(full_html=False, include_plotlyjs=False)]
    parts += ["<div class='grid'><div><h2>Most changed</h2>", _table(most), "</div>",
              "<div><h2>Least changed</h2>", _table(least), "</div></div>"]
    for label in examples or []:
        d = comparison.domino(label)
        chips = lambda xs: "".join(f"<span class='chip'>{html.escape(x)}</span>" for x in xs) or "—"  # noqa: E731
        parts += [f"<h2>Neighbours of “{html.escape(label)}”</h2><div class='grid'>",
                  f"<div><b>only in {html.escape(name_a)}</b><br>{chips(d['only_a'])}</div>",
                  f"<div><b>only in {html.escape(name_b)}</b><br>{chips(d['only_b'])}</div></div>",
                  f"<p><b>in both</b><br>{chips(d['shared'])}</p>"]
    parts.append("</body></html>")
    return "\n".join(parts)
