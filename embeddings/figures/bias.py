"""Figures of the bias probes beyond the WEAT grid: any metric's heatmap (with WEAT's
interval in the cells), d with its 95% interval per test and space, each word's leverage
on d, and the seed-to-seed stability of neighbourhoods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..bias.metrics import bias_of, metric_info
from ..display import MARKUP_SAFE, plot_text

#: a WEAT table (rows of :meth:`WeatResult.row`) in the names of a metric table
WEAT_AS_METRIC = {"d": "value", "d low": "low", "d high": "high"}


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


#: a heatmap row's label (test id and title) is cut to this many characters, with "…", so the
#: chart keeps its width for the cells at 1,280 px; the full title is in the drill-down
LABEL_CHARS = 56


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1].rstrip() + "…"


def metric_heatmap(table: pd.DataFrame, metric: str, titles: dict[str, str] | None = None) -> go.Figure:
    """One metric, test × space. Colour: how far the value is from "no bias" (diverging
    around it for WEAT and RND, whose sign says towards which target; from white for the
    others), so every metric reads the same way round. Cells print the value, WEAT's 95%
    interval and p; refused cells say so. ``table``: rows of :meth:`MetricResult.row`."""
    info = metric_info(metric)
    tests = list(dict.fromkeys(table["test"]))
    spaces = list(dict.fromkeys(table["space"]))
    cell = {(r["test"], r["space"]): r for r in table.to_dict("records")}
    z, text, hover = [], [], []
    for t in tests:
        zr, tr, hr = [], [], []
        for s in spaces:
            r = cell.get((t, s))
            if r is None or r.get("refused"):
                zr.append(None)
                tr.append("refused" if r is not None else "")
                hr.append(r["refused"] if r is not None else "")
                continue
            v = float(r["value"])
            zr.append(bias_of(metric, v))
            lines = [f"{v:+.2f}" if info.signed else f"{v:.3f}"]
            if pd.notna(r.get("low")) and pd.notna(r.get("high")):
                lines.append(f"[{r['low']:+.2f}, {r['high']:+.2f}]")
            if pd.notna(r.get("p")):
                lines.append(_p_text(float(r["p"])))
            pieces = [w for w in str(r.get("from pieces") or "").split(", ") if w]
            if pieces:   # words the space built from sub-word pieces: said in the cell, not hidden
                lines.append(f"{len(pieces)} from pieces")
            tr.append("<br>".join(lines))
            hr.append(f"{info.name} = {v:+.4f}" + (f", 95% CI [{r['low']:+.3f}, {r['high']:+.3f}]"
                                                   if pd.notna(r.get("low")) else "")
                      + f", sizes {r.get('sizes', '')}, {r.get('vectors') or 'unit'} vectors")
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    labels = [_short(f"{t} · {(titles or {}).get(t, '')}".rstrip(" ·"), LABEL_CHARS) for t in tests]
    finite = [abs(v) for row in z for v in row if v is not None and np.isfinite(v)]
    top = {"weat": 2.0}.get(metric, max(finite + [1e-6]))
    scale = dict(zmid=0, zmin=-top, zmax=top, colorscale="RdBu_r") if info.signed else \
        dict(zmin=0, zmax=top, colorscale="Reds")
    fig = go.Figure(go.Heatmap(
        z=z, x=spaces, y=labels, text=text, texttemplate="%{text}", textfont={"size": 12}, customdata=hover,
        hovertemplate="%{y}<br>%{x}: %{customdata}<extra></extra>", xgap=2, ygap=2,
        colorbar={"title": {"text": "from no bias" if not info.signed else metric.upper(), "side": "right"}},
        meta=MARKUP_SAFE("text"), **scale))  # the cell texts are numbers, "refused", and our <br>
    fig.update_layout(template="plotly_white", height=max(220, 80 + (58 if metric == "weat" else 44) * len(tests)),
                      margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      yaxis={"autorange": "reversed", "automargin": True}, xaxis={"side": "top"},
                      plot_bgcolor="#f1f3f5")
    return fig


COLOURS = ("#3b5bdb", "#e8590c", "#2b8a3e", "#862e9c", "#c92a2a", "#1098ad")


def weat_forest(table: pd.DataFrame) -> go.Figure:
    """d with its bootstrap 95% interval, one row per test, a marker per space: where the
    interval crosses 0 the direction of the bias is not settled by these words. ``table``:
    rows of :meth:`WeatResult.row`."""
    table = table.rename(columns=WEAT_AS_METRIC)
    ran = table[table["refused"].fillna("") == ""].dropna(subset=["value"])
    tests = list(dict.fromkeys(table["test"]))
    spaces = list(dict.fromkeys(table["space"]))
    fig = go.Figure()
    for i, s in enumerate(spaces):
        part = ran[ran["space"] == s]
        offset = (i - (len(spaces) - 1) / 2) * 0.18
        y = [tests.index(t) + offset for t in part["test"]]
        fig.add_trace(go.Scatter(
            x=part["value"], y=y, mode="markers", name=s, marker={"size": 9, "color": COLOURS[i % len(COLOURS)]},
            error_x={"type": "data", "symmetric": False, "array": part["high"] - part["value"],
                     "arrayminus": part["value"] - part["low"], "thickness": 1.5, "width": 4},
            customdata=np.c_[part["test"], part["low"], part["high"]],
            hovertemplate="%{customdata[0]}: d = %{x:+.3f}, 95% CI [%{customdata[1]:+.3f}, %{customdata[2]:+.3f}]"
                          "<extra>" + plot_text(s) + "</extra>"))
    fig.add_vline(x=0, line={"color": "#868e96", "width": 1})
    fig.update_layout(template="plotly_white", height=max(240, 70 + 40 * len(tests)),
                      margin={"l": 10, "r": 10, "t": 10, "b": 40},
                      xaxis={"title": "effect size d, with its bootstrap 95% interval", "range": [-2.1, 2.1],
                             "zeroline": False},
                      yaxis={"tickvals": list(range(len(tests))), "ticktext": tests, "autorange": "reversed",
                             "automargin": True},
                      legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"})
    return fig


def influence_bars(influence: pd.DataFrame, d: float, top: int = 20) -> go.Figure:
    """Leave-one-word-out: how far d moves without each word (d without it − d), the
    ``top`` largest moves, one bar per word, coloured by its set."""
    part = influence.reindex(influence["delta"].abs().sort_values(ascending=False).index).head(top)
    part = part.iloc[::-1]
    sets = list(dict.fromkeys(influence["set"]))
    fig = go.Figure()
    for i, s in enumerate(sets):
        rows = part[part["set"] == s]
        if rows.empty:
            continue
        fig.add_trace(go.Bar(
            x=rows["delta"], y=[f"{w} ({r})" for w, r in zip(rows["word"], rows["role"])], orientation="h",
            name=f"{s}", marker={"color": COLOURS[i % len(COLOURS)]}, customdata=rows["d_without"],
            hovertemplate="%{y}: d without it = %{customdata:+.3f} (moves %{x:+.3f})<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#868e96", "width": 1})
    fig.update_layout(template="plotly_white", height=max(240, 60 + 22 * len(part)), barmode="overlay",
                      margin={"l": 10, "r": 10, "t": 10, "b": 40},
                      xaxis={"title": f"change in d (d = {d:+.3f}) when the word is left out"},
                      yaxis={"categoryorder": "array", "categoryarray": [f"{w} ({r})" for w, r in
                                                                          zip(part["word"], part["role"])],
                             "automargin": True},
                      legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"})
    return fig


def weat_heatmap(table: pd.DataFrame, titles: dict[str, str] | None = None) -> go.Figure:
    """Effect size d, test × space, diverging around 0, with the 95% interval and p in each
    cell; refused cells say so (``table``: rows of :meth:`WeatResult.row`)."""
    return metric_heatmap(table.rename(columns=WEAT_AS_METRIC), "weat", titles)
