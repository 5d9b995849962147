"""Self-contained HTML reports a user can mail to a stakeholder: plots (plotly, inlined)
and tables in one file, no network needed to open it."""

from __future__ import annotations

import html
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .display import MARKUP_SAFE, plot_text, safe_figure
from .neighbours import Comparison

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;color:#222;
padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left;
vertical-align:top;max-width:24em;overflow-wrap:anywhere}.table{max-width:100%;overflow-x:auto}
th{background:#f4f5f7}.muted{color:#666;font-size:.9em}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
.chip{display:inline-block;border-radius:1em;padding:.1em .6em;margin:.15em;background:#eef}
"""


def jaccard_histogram(comparison: Comparison, name_a: str, name_b: str) -> go.Figure:
    fig = go.Figure(go.Histogram(x=comparison.table["jaccard"], xbins={"start": 0, "end": 1.0001, "size": 0.05},
                                 marker={"color": "#3b5bdb"},
                                 hovertemplate="Jaccard %{x}: %{y} labels<extra></extra>"))
    fig.update_layout(xaxis_title=f"Jaccard@{comparison.k} of the neighbour sets "
                                  f"({plot_text(name_a)} vs {plot_text(name_b)})",
                      yaxis_title="labels", template="plotly_white", height=320, bargap=0.05,
                      margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def drift_histogram(comparison: Comparison) -> go.Figure:
    fig = go.Figure(go.Histogram(x=comparison.table["drift"], nbinsx=40, marker={"color": "#e8590c"},
                                 hovertemplate="drift %{x}: %{y} labels<extra></extra>"))
    fig.update_layout(xaxis_title="cosine drift after orthogonal Procrustes (1 − cos)", yaxis_title="labels",
                      template="plotly_white", height=320, bargap=0.05, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


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
        chips = lambda xs: "".join(f"<span class='chip'>{html.escape(x)}</span>" for x in xs) or "—"  # noqa: E731
        parts += [f"<h2>Neighbours of “{html.escape(label)}”</h2><div class='grid'>",
                  f"<div><b>only in {html.escape(name_a)}</b><br>{chips(d['only_a'])}</div>",
                  f"<div><b>only in {html.escape(name_b)}</b><br>{chips(d['only_b'])}</div></div>",
                  f"<p><b>in both</b><br>{chips(d['shared'])}</p>"]
    parts.append("</body></html>")
    return "\n".join(parts)


# -- bias ------------------------------------------------------------------------------
def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def weat_heatmap(table: pd.DataFrame, titles: dict[str, str] | None = None) -> go.Figure:
    """Effect size d, test × space, diverging around 0; refused cells say so."""
    tests = list(dict.fromkeys(table["test"]))
    spaces = list(dict.fromkeys(table["space"]))
    cell = {(r.test, r.space): r for r in table.itertuples()}
    z, text, hover = [], [], []
    for t in tests:
        zr, tr, hr = [], [], []
        for s in spaces:
            r = cell.get((t, s))
            if r is None or r.refused:
                zr.append(None)
                tr.append("refused" if r is not None else "")
                hr.append(r.refused if r is not None else "")
            else:
                zr.append(r.d)
                tr.append(f"{r.d:+.2f}<br>{_p_text(r.p)}")
                hr.append(f"d = {r.d:+.3f}, {_p_text(r.p)} ({r.p_method}), sizes {r.sizes}")
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    labels = [f"{t} · {(titles or {}).get(t, '')}"[:72].rstrip(" ·") for t in tests]
    fig = go.Figure(go.Heatmap(
        z=z, x=spaces, y=labels, text=text, texttemplate="%{text}", textfont={"size": 12}, customdata=hover,
        hovertemplate="%{y}<br>%{x}: %{customdata}<extra></extra>", zmid=0, zmin=-2, zmax=2,
        colorscale="RdBu_r", colorbar={"title": "d"}, xgap=2, ygap=2,
        meta=MARKUP_SAFE("text")))  # the cell texts are numbers and "refused", with our <br>
    fig.update_layout(template="plotly_white", height=max(220, 80 + 44 * len(tests)),
                      margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      yaxis={"autorange": "reversed", "automargin": True}, xaxis={"side": "top"},
                      plot_bgcolor="#f1f3f5")
    return fig


def weat_strip(scores: pd.DataFrame, title: str = "") -> go.Figure:
    """Per-word s(w, A, B) of the two target sets, one row per word, sorted (SEAT: the mean
    over templates, with the range across them)."""
    per = scores.groupby(["set", "word"], sort=False)["s"].agg(["mean", "min", "max", "count"]).reset_index()
    per = per.sort_values("mean", kind="stable")
    sets = list(dict.fromkeys(scores["set"]))
    colours = {sets[0]: "#3b5bdb", sets[-1]: "#e8590c"}
    fig = go.Figure()
    for s in sets:
        part = per[per["set"] == s]
        err = None
        if (part["count"] > 1).any():
            err = {"type": "data", "symmetric": False, "array": part["max"] - part["mean"],
                   "arrayminus": part["mean"] - part["min"], "thickness": 1, "width": 0}
        fig.add_trace(go.Scatter(x=part["mean"], y=part["word"], mode="markers", name=s, error_x=err,
                                 marker={"size": 10, "color": colours.get(s)},
                                 hovertemplate="%{y}: s = %{x:.4f}<extra>" + plot_text(s) + "</extra>"))
    fig.add_vline(x=0, line={"color": "#adb5bd", "width": 1})
    fig.update_layout(template="plotly_white", height=max(260, 20 * len(per) + 90), title=plot_text(title),
                      margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 40},
                      xaxis={"title": "s(w, A, B) = mean cos(w, A) − mean cos(w, B)", "zeroline": False},
                      yaxis={"categoryorder": "array", "categoryarray": per["word"].tolist(), "automargin": True},
                      legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"})
    return fig


def axis_strip(projections: pd.DataFrame, ends: tuple[str, str], *, extremes: int = 15, title: str = "") -> go.Figure:
    """The words furthest towards each end of a bias axis, ranked (cos(w, g))."""
    p = projections.sort_values("projection", kind="stable")
    shown = pd.concat([p.head(extremes), p.tail(extremes)]).drop_duplicates("word") if len(p) > 2 * extremes else p
    colours = ["#c2255c" if v < 0 else "#1864ab" for v in shown["projection"]]
    fig = go.Figure(go.Scatter(x=shown["projection"], y=shown["word"], mode="markers", marker={"size": 9,
                                                                                              "color": colours},
                               hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#adb5bd", "width": 1})
    fig.update_layout(template="plotly_white", height=max(260, 19 * len(shown) + 100), title=plot_text(title),
                      margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 40},
                      xaxis={"title": f"← {plot_text(ends[0])}   cos(w, g)   {plot_text(ends[1])} →"},
                      yaxis={"categoryorder": "array", "categoryarray": shown["word"].tolist(), "automargin": True})
    return fig


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


# -- audit and evaluation ----------------------------------------------------------------
def coverage_chart(summary: pd.DataFrame) -> go.Figure:
    """Coverage by type and weighted by frequency, per space."""
    fig = go.Figure([
        go.Bar(x=summary["space"], y=summary["coverage"], name="by type", marker={"color": "#3b5bdb"},
               text=[f"{v:.0%}" for v in summary["coverage"]], textposition="outside",
               hovertemplate="%{x}: %{y:.1%} of the terms<extra></extra>"),
        go.Bar(x=summary["space"], y=summary["coverage_by_frequency"], name="weighted by frequency",
               marker={"color": "#74c0fc"}, text=[f"{v:.0%}" for v in summary["coverage_by_frequency"]],
               textposition="outside", hovertemplate="%{x}: %{y:.1%} of the occurrences<extra></extra>")])
    # the legend sits under the axis, so it never covers a bar or its label
    fig.update_layout(barmode="group", template="plotly_white", height=340, yaxis={"range": [0, 1.12],
                      "tickformat": ".0%", "title": "terms the space knows"},
                      margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0})
    return fig


def overlap_chart(terms: pd.DataFrame, general: list[str], k: int) -> go.Figure:
    """Distribution of each general space's neighbour overlap (Jaccard@k) with the domain
    space: high means the same neighbours, low means the neighbourhood changed."""
    fig = go.Figure([go.Box(y=terms[f"overlap:{g}"].dropna(), name=g, boxpoints="all", jitter=0.4,
                            text=terms.loc[terms[f"overlap:{g}"].notna(), "term"],
                            hovertemplate="%{text}: overlap %{y:.2f}<extra></extra>") for g in general])
    fig.update_layout(template="plotly_white", height=320, showlegend=False,
                      yaxis={"title": f"overlap (Jaccard@{k})", "range": [-0.05, 1.05]},
                      margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


#: a term split into this many word pieces or more counts as fragmented
FRAGMENTED_PIECES = 3


def pieces_chart(terms: pd.DataFrame) -> go.Figure:
    """Terms per number of MiniLM word pieces; the fragmented ones (3 pieces or more) in
    orange, with a legend saying so."""
    counts = terms["n_pieces"].value_counts().sort_index()
    frag = counts.index.astype(int) >= FRAGMENTED_PIECES
    fig = go.Figure([go.Bar(x=counts.index[m].astype(str), y=counts.values[m], name=name, marker={"color": colour},
                            hovertemplate="%{x} pieces: %{y} terms<extra></extra>")
                     for m, name, colour in ((~frag, f"whole or in {FRAGMENTED_PIECES - 1} pieces", "#adb5bd"),
                                             (frag, f"fragmented ({FRAGMENTED_PIECES}+ pieces)", "#e8590c"))
                     if m.any()])
    fig.update_layout(template="plotly_white", height=340, xaxis={"title": "MiniLM word pieces per term",
                      "type": "category", "categoryorder": "array", "categoryarray": counts.index.astype(str)},
                      yaxis_title="terms", margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=True,
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0})
    return fig


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
                  _figure_html(overlap_chart(audit.terms, general, audit.k), False)]
    parts += ["<h2>Word pieces</h2>", _figure_html(pieces_chart(audit.terms), False),
              "<h2>Terms</h2>", _table(audit.table()), "</body></html>"]
    return "\n".join(parts)


def scores_chart(board: pd.DataFrame) -> go.Figure:
    """Score per benchmark and space with the items it rests on written on each bar. A score
    on fewer than half the items (``ranked`` False) is drawn hatched and faded and says it
    is not ranked."""
    fig = go.Figure()
    for space in dict.fromkeys(board["space"]):
        part = board[board["space"] == space]
        low = ~part["ranked"].to_numpy(dtype=bool)
        fig.add_trace(go.Bar(
            x=part["benchmark"], y=part["score"], name=space,
            text=[f"{s:.3f}<br>n {u:,}/{t:,}" + ("<br>not ranked" if lo else "")
                  for s, u, t, lo in zip(part["score"], part["used"], part["total"], low)],
            textposition="outside", meta=MARKUP_SAFE("text"),  # numbers with our <br>
            marker={"pattern": {"shape": ["/" if lo else "" for lo in low], "solidity": 0.35},
                    "opacity": [0.45 if lo else 1.0 for lo in low]},
            customdata=[f"{u:,} of {t:,} items" + (" (under half: not ranked)" if lo else "")
                        for u, t, lo in zip(part["used"], part["total"], low)],
            hovertemplate="%{x}: %{y:.4f} on %{customdata}<extra>" + plot_text(space) + "</extra>"))
    lo = min(0.0, float(board["score"].min()) - 0.25)
    fig.update_layout(barmode="group", template="plotly_white", height=400, yaxis={"range": [lo, 1.2],
                      "title": "accuracy (analogy) / Spearman (pairs)"}, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": 1.12})
    return fig
