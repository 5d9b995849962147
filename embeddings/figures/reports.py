"""Self-contained HTML reports a user can mail to a stakeholder: plots (plotly, inlined)
and tables in one file, no network needed to open it. The figures come from
:mod:`embeddings.figures`."""

from __future__ import annotations

import html
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from embeddings.analysis.neighbours import Comparison
from embeddings.display import safe_figure
from embeddings.figures import coverage_chart, drift_histogram, jaccard_histogram, overlap_chart, pieces_chart, weat_strip
from embeddings.figures.bias import weat_heatmap
from embeddings.figures.tasks import few_shot_figure, pareto_figure

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;color:#222;
padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left;
vertical-align:top;max-width:24em;overflow-wrap:anywhere}.table{max-width:100%;overflow-x:auto}
th{background:#f4f5f7}.muted{color:#666;font-size:.9em}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
.chip{display:inline-block;border-radius:1em;padding:.1em .6em;margin:.15em;background:#eef}
"""

def _figure_html(fig: go.Figure, include_plotlyjs) -> str:
    """A figure as an HTML fragment, its data strings escaped; plotly.js inlined by the first
    figure of a report (``"inline"``), so the report opens with no network."""
    return safe_figure(fig).to_html(full_html=False, include_plotlyjs=include_plotlyjs)

def _cell(value) -> str:
    """A table cell as a reader wants it: no NaN or None (a dash), yes/no for booleans,
    thousands separators, three decimals."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):,.3f}"
    return str(value)

def _table(frame: pd.DataFrame) -> str:
    """An HTML table (every cell escaped) that wraps inside the page instead of widening it."""
    shown = frame.copy()
    for column in shown.columns:
        shown[column] = [_cell(v) for v in shown[column]]
    return "<div class='table'>" + shown.to_html(index=False, border=0, escape=True) + "</div>"

def compare_report(comparison: Comparison, name_a: str, name_b: str, *, examples: list[str] | None = None,
                   top: int = 25) -> str:
    """One HTML document: summary, histograms, most/least changed labels, domino views."""
    s = comparison.summary()
    most = comparison.most_changed(top)
    least = comparison.least_changed(top)
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
        _figure_html(jaccard_histogram(comparison, name_a, name_b), "inline"),
    ]
    if comparison.aligned:
        parts += ["<h2>Drift after aligning the two spaces (orthogonal Procrustes)</h2>",
                  _figure_html(drift_histogram(comparison), False)]
    parts += ["<div class='grid'><div><h2>Most changed</h2>", _table(most), "</div>",
              "<div><h2>Least changed</h2>", _table(least), "</div></div>"]
    for label in examples or []:
        d = comparison.domino(label)
        def chips(xs):
            return "".join(f"<span class='chip'>{html.escape(x)}</span>" for x in xs) or "—"

        parts += [f"<h2>Neighbours of “{html.escape(label)}”</h2><div class='grid'>",
                  f"<div><b>only in {html.escape(name_a)}</b><br>{chips(d['only_a'])}</div>",
                  f"<div><b>only in {html.escape(name_b)}</b><br>{chips(d['only_b'])}</div></div>",
                  f"<p><b>in both</b><br>{chips(d['shared'])}</p>"]
    parts.append("</body></html>")
    return "\n".join(parts)

def bias_report(table: pd.DataFrame, tests: list, *, drill: tuple | None = None) -> str:
    """WEAT/SEAT results as one HTML document: the heatmap, the table, the tests' sources
    and word sets, and optionally one drill-down ``(result)``."""
    titles = {t.id: t.title for t in tests}
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Bias probes: WEAT/SEAT</title>",
        f"<style>{_STYLE}</style></head><body><h1>Bias probes: WEAT / SEAT</h1>",
        f"<p class='muted'>Embedding Explorer · {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · effect size d of "
        "Caliskan et al. (2017); one-sided permutation p, exact when there are at most 100,000 partitions, "
        "else sampled (seeded). Sentence encoders are probed with SEAT (May et al. 2019).</p>",
        _figure_html(weat_heatmap(table, titles), "inline"),
        "<h2>Results</h2>", _table(table),
    ]
    if drill is not None:
        parts += [f"<h2>{html.escape(drill.test)} on {html.escape(drill.space)}: s(w) per word</h2>",
                  _figure_html(weat_strip(drill.scores), False)]
    parts.append("<h2>Tests</h2>")
    for t in tests:
        sets = "".join(f"<p><b>{html.escape(s.name)}</b>: {html.escape(', '.join(s.words))}</p>" for s in t.sets)
        cites = "".join(f"<li>{html.escape(c)}</li>" for c in t.sources)
        parts.append(f"<h3>{html.escape(t.id)}: {html.escape(t.title)}</h3>{sets}"
                     + (f"<ul class='muted'>{cites}</ul>" if cites else ""))
    parts.append("</body></html>")
    return "\n".join(parts)

def audit_report(audit) -> str:
    """The audit as one HTML document for a stakeholder."""
    general = [s for s in audit.spaces if s != audit.domain]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Vocabulary audit: {html.escape(audit.corpus)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Vocabulary audit: {html.escape(audit.corpus)}</h1>",
        f"<p class='muted'>Embedding Explorer · {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · "
        f"{len(audit.terms)} terms ({'mined; reference: ' + html.escape(audit.reference) if audit.mined else 'given'})"
        f" · domain space {html.escape(audit.domain)} · k = {audit.k}</p>",
        "<h2>Coverage</h2>", _table(audit.summary),
        _figure_html(coverage_chart(audit.summary), "inline"),
    ]
    if general:
        parts += [f"<h2>Neighbour overlap with {html.escape(audit.domain)} (Jaccard@{audit.k}: 1 = the same "
                  "neighbours, 0 = every neighbour changed; drift = 1 − overlap)</h2>",
                  _figure_html(overlap_chart(audit.terms, general, audit.k, audit.domain), False)]
        if audit.noise:
            nf = audit.noise
            parts.append(f"<p>Noise floor: {html.escape(str(nf['study']))}, {nf['runs']} runs of "
                         f"{html.escape(nf['model'])} with different seeds; median seed-to-seed stability "
                         f"(Jaccard@{nf['k']}) {nf['median_stability']:.2f}. A term is flagged <em>beyond noise</em> "
                         "when its overlap with a general model is below its overlap between every two runs of its "
                         "own model.</p>")
    parts += ["<h2>Word pieces</h2>", _figure_html(pieces_chart(audit.terms), False),
              "<h2>Terms</h2>", _table(audit.table()), "</body></html>"]
    return "\n".join(parts)


def benchmark_report(bench) -> str:
    """Which embedding for this task: the leaderboard, the one-line readings, the quality–cost
    charts and the pairwise verdicts, as one HTML document (a :class:`~embeddings.evaluate.benchmark.Benchmark`)."""
    from embeddings.evaluate.tasks import MAIN_METRIC

    d = bench.to_dict()
    tasks = list(d["pareto_by_task"])
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Which embedding: {html.escape(bench.corpus)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Which embedding for {html.escape(bench.corpus)}, by {html.escape(bench.label)}?</h1>",
        f"<p class='muted'>Embedding Explorer · {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · "
        f"{d['documents']:,} of {d['total_documents']:,} documents, {d['classes']} classes · mean ± std over "
        "folds (classification), seeds (clustering) or queries (retrieval) · differences paired on the same "
        "folds, seeds and queries, with Bonferroni-corrected 95% intervals.</p>",
        "<ul>" + "".join(f"<li>{html.escape(bench.reading(t))}</li>" for t in tasks) + "</ul>",
        "<h2>Leaderboard</h2>", _table(bench.leaderboard(text=True)),
    ]
    for i, t in enumerate(tasks):
        parts += [f"<h2>{html.escape(t)}: quality against cost</h2>",
                  _figure_html(pareto_figure(bench.points(t), t, MAIN_METRIC[t]), "inline" if i == 0 else False)]
    if len(bench.few_shot):
        parts += ["<h2>With few labels: macro-F1 at 8 to 64 examples per class</h2>",
                  _figure_html(few_shot_figure(bench.few_shot), False)]
    pairs = pd.DataFrame(d["pairs"])
    if len(pairs):
        parts += ["<h2>Is the difference real?</h2>",
                  _table(pairs[["task", "a", "b", "difference", "low", "high", "verdict", "method"]])]
    parts += ["<h2>Cost</h2>", _table(pd.DataFrame(d["cost"]))]
    parts += [f"<p class='muted'>{html.escape(n)}</p>" for n in d["notes"]]
    parts.append("</body></html>")
    return "\n".join(parts)
