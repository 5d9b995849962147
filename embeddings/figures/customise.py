"""Figures of customisation: a fine-tuning run's loss, how far the domain's words moved,
and a term's uses in context coloured by sense."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..display import MARKUP_SAFE, plot_text

SENSE_COLOURS = ["#3b5bdb", "#e8590c", "#2b8a3e", "#c2255c", "#5f3dc4"]


def loss_figure(curve: pd.DataFrame, title: str = "", unit: str = "step") -> go.Figure:
    """The training loss per optimiser step (or ``unit``: an epoch), with a rolling mean over a
    tenth of the run."""
    fig = go.Figure()
    window = max(1, len(curve) // 10)
    if len(curve):
        fig.add_trace(go.Scatter(x=curve["step"], y=curve["loss"], mode="lines+markers" if window < 2 else "lines",
                                 name=f"loss per {unit}",
                                 line={"color": "#3b5bdb" if window < 2 else "#adb5bd", "width": 1.5}))
    if window >= 2:
        fig.add_trace(go.Scatter(x=curve["step"], y=curve["loss"].rolling(window, min_periods=1).mean(),
                                 mode="lines", name=f"mean of {window} {unit}s", line={"color": "#3b5bdb", "width": 2.5}))
    fig.update_layout(template="plotly_white", height=300, title=plot_text(title) if title else None,
                      xaxis_title="optimiser step" if unit == "step" else unit, yaxis_title="training loss",
                      legend={"orientation": "h", "y": -0.3}, margin={"l": 10, "r": 10, "t": 40 if title else 10,
                                                                     "b": 10})
    return fig


def moved_figure(terms: pd.DataFrame, k: int) -> go.Figure:
    """Per mined domain term, the overlap of its neighbours before and after fine-tuning:
    short bars are the words whose neighbourhood the fine-tuning changed."""
    shown = terms.dropna(subset=["overlap"]).sort_values("overlap", ascending=False)
    fig = go.Figure(go.Bar(x=shown["overlap"], y=shown["term"], orientation="h", marker_color="#3b5bdb",
                           customdata=np.stack([shown["base"], shown["tuned"]], axis=1),
                           hovertemplate="%{y}: overlap %{x:.2f}<br>base: %{customdata[0]}<br>"
                                         "fine-tuned: %{customdata[1]}<extra></extra>"))
    fig.update_layout(template="plotly_white", height=max(260, 22 * len(shown) + 80),
                      xaxis={"title": f"neighbours kept (Jaccard@{k}; 1 = unchanged)", "range": [0, 1.02]},
                      margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def senses_figure(coords: np.ndarray, cluster: np.ndarray, sentences: list[str], term: str) -> go.Figure:
    """Each use of ``term`` as a point (2-D PCA of its contextual vector), coloured by
    sense; hovering shows its sentence."""
    fig = go.Figure()
    for c in range(int(cluster.max()) + 1 if len(cluster) else 0):
        at = np.flatnonzero(cluster == c)
        hover = [_wrap(sentences[i]) for i in at]
        fig.add_trace(go.Scatter(x=coords[at, 0], y=coords[at, 1], mode="markers", name=f"sense {c + 1} ({len(at)})",
                                 marker={"size": 9, "color": SENSE_COLOURS[c % len(SENSE_COLOURS)], "opacity": 0.8},
                                 text=hover, hovertemplate="%{text}<extra></extra>",
                                 meta=MARKUP_SAFE("text")))   # _wrap escaped each line
    fig.update_layout(template="plotly_white", height=420,
                      title=f"Uses of “{plot_text(term)}”, by their vector in context (PCA)",
                      xaxis={"title": "first principal component", "zeroline": False},
                      yaxis={"title": "second principal component", "zeroline": False},
                      legend={"orientation": "h", "y": -0.2}, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def _wrap(text: str, width: int = 60, max_len: int = 240) -> str:
    """A sentence cut to ``max_len`` and broken into lines for a hover box: each line
    escaped here (:func:`plot_text`), joined by ``<br>``, the only markup."""
    text = " ".join(text.split())
    text = text if len(text) <= max_len else text[:max_len - 1] + "…"
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(plot_text(x) for x in lines + [line])
