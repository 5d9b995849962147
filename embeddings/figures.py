"""Figures the pages draw (plotly), built from core results so the pages only lay them out.

Every user string that goes into a template, title or annotation passes through
:func:`~embeddings.display.plot_text`; data strings are escaped by ``safe_figure`` when
the figure is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .display import plot_text

PALETTE = ["#3b5bdb", "#e8590c", "#2b8a3e", "#c2255c", "#5f3dc4", "#0b7285", "#e67700", "#862e9c", "#1864ab",
           "#a61e4d", "#5c940d", "#d9480f", "#364fc7", "#087f5b", "#9c36b5", "#495057"]
MUTED = "#ced4da"
PICK = "#c92a2a"          #: the selected point, in every panel
NEAR = "#f08c00"          #: its nearest neighbours in this panel's space
#: group names that are not a group (drawn grey, never named on the map)
BACKGROUND_GROUPS = ("other", "unclustered")
#: how many most-frequent words the map can write at most (more is unreadable)
MAX_WORD_LABELS = 200


@dataclass
class MapLayers:
    """What one projection panel draws over its points."""

    #: (name, mask) per group, in legend order; None colours by ``values``
    groups: list[tuple[str, np.ndarray]] | None = None
    #: a number per point and its colour-bar title, when there are no groups
    values: np.ndarray | None = None
    values_title: str = ""
    #: write each group's name at its centre
    name_groups: bool = True
    #: write the N most frequent content words on the map (0: none; no stopwords or numbers)
    word_labels: int = 0
    picked: set[str] = field(default_factory=set)
    near: set[str] = field(default_factory=set)
    search: str = ""


def short_name(group: str, words: int = 2) -> str:
    """A group's name as written on the map: its first ``words`` names, without the
    cluster number ("3: police, officers, arrested" -> "police · officers").

    >>> short_name("3: police, officers, arrested"), short_name("people")
    ('police · officers', 'people')
    """
    head, sep, rest = str(group).partition(": ")
    body = rest if sep and head.strip().lstrip("-").isdigit() else str(group)
    return " · ".join(p.strip() for p in body.split(",")[:words])[:28]


def _centre(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """A group's label position: the median point, robust to a few far-flung members."""
    return float(np.median(x)), float(np.median(y))


def projection_figure(frame: pd.DataFrame, layers: MapLayers, *, height: int = 520) -> tuple[go.Figure, int | None]:
    """One projection panel: points coloured by ``layers``, group names at their centres,
    optional labels on the most frequent words, the selection (red rings) and its
    neighbours (orange rings), and the searched term (a star). ``frame`` has label, x, y,
    frequency (0 when unknown) and neighbours. Returns the figure and, with a search, how
    many points matched it."""
    labels = frame["label"].astype(str)
    custom = np.stack([labels, frame["frequency"].map(lambda f: f"{f:,.0f}" if f else "n/a"),
                       frame["neighbours"]], axis=1)
    hover = "<b>%{customdata[0]}</b><br>frequency %{customdata[1]}<br>near: %{customdata[2]}<extra></extra>"
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    size = 4 if len(frame) > 20_000 else 6
    fig = go.Figure()
    if layers.groups is None:
        values = layers.values if layers.values is not None else np.zeros(len(frame))
        fig.add_trace(go.Scattergl(x=x, y=y, mode="markers", customdata=custom, hovertemplate=hover, name="points",
                                   marker={"size": size, "color": values, "colorscale": "Viridis", "opacity": 0.8,
                                           "showscale": True, "colorbar": {"title": plot_text(layers.values_title),
                                                                           "thickness": 10}}))
    else:
        for i, (gname, mask) in enumerate(layers.groups):
            muted = gname in BACKGROUND_GROUPS
            fig.add_trace(go.Scattergl(x=x[mask], y=y[mask], mode="markers", name=str(gname)[:40],
                                       customdata=custom[mask], hovertemplate=hover,
                                       marker={"size": size, "opacity": 0.5 if muted else 0.8,
                                               "color": MUTED if muted else PALETTE[i % len(PALETTE)]}))
        if layers.name_groups:
            for i, (gname, mask) in enumerate(layers.groups):
                if gname in BACKGROUND_GROUPS or not mask.any():
                    continue
                cx, cy = _centre(x[mask], y[mask])
                fig.add_annotation(x=cx, y=cy, text=f"<b>{plot_text(short_name(gname))}</b>", showarrow=False,
                                   font={"size": 11, "color": PALETTE[i % len(PALETTE)]},
                                   bgcolor="rgba(255,255,255,0.7)", borderpad=1)
    if layers.word_labels > 0:
        from .neighbours import content_mask

        freq = frame["frequency"].to_numpy(dtype=float)
        order = np.argsort(-freq, kind="stable") if freq.any() else np.arange(len(frame))
        content = content_mask(labels)[order]          # "the" and "of" say nothing about a region
        order = order[content] if content.any() else order
        order = order[: min(int(layers.word_labels), MAX_WORD_LABELS)]
        fig.add_trace(go.Scatter(x=x[order], y=y[order], mode="text", text=labels.to_numpy()[order],
                                 textposition="top center", textfont={"size": 10, "color": "#343a40"},
                                 hoverinfo="skip", name="most frequent", showlegend=False))
    near = frame[labels.isin(layers.near) & ~labels.isin(layers.picked)]
    if len(near):
        fig.add_trace(go.Scatter(x=near["x"], y=near["y"], mode="markers+text", name="its neighbours",
                                 text=near["label"], textposition="bottom center", hoverinfo="skip",
                                 textfont={"size": 10, "color": NEAR},
                                 marker={"size": 10, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": NEAR}}))
    marks = frame[labels.isin(layers.picked)]
    if len(marks):
        fig.add_trace(go.Scatter(x=marks["x"], y=marks["y"], mode="markers+text", name="selected",
                                 text=marks["label"] if len(marks) <= 20 else None, textposition="top center",
                                 hoverinfo="skip", textfont={"size": 12, "color": PICK},
                                 marker={"size": 12, "color": "rgba(0,0,0,0)", "line": {"width": 2.5, "color": PICK}}))
    found = None
    if layers.search:
        hit = frame[(labels == layers.search) | (labels == layers.search.lower())]
        found = len(hit)
        if len(hit):  # a WebGL star (drawn in the same layer, on top) plus an annotation above the canvas
            fig.add_trace(go.Scattergl(x=hit["x"], y=hit["y"], mode="markers", name=layers.search, hoverinfo="skip",
                                       marker={"size": 18, "symbol": "star", "color": PICK,
                                               "line": {"width": 1.5, "color": "white"}}))
            for _, h in hit.iterrows():
                fig.add_annotation(x=h["x"], y=h["y"], text=f"<b>{plot_text(h['label'])}</b>", showarrow=True,
                                   arrowhead=2, ax=0, ay=-34, font={"size": 14, "color": PICK},
                                   bgcolor="rgba(255,255,255,0.85)", bordercolor=PICK)
    # no dragmode: Streamlit then pans on drag and selects on click (a lasso would turn click-selection off);
    # box and lasso stay in the mode bar
    fig.update_layout(height=height, template="plotly_white",
                      margin={"l": 0, "r": 0, "t": 10, "b": 0}, showlegend=layers.groups is not None,
                      legend={"orientation": "h", "y": -0.05, "font": {"size": 10}},
                      xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"})
    return fig, found


def neighbour_table(per_space: dict[str, Sequence[tuple[str, float]]]) -> pd.DataFrame:
    """The neighbours of one label in each space, side by side: rank, then one
    "space" and "space · cos" column pair per space."""
    k = max((len(v) for v in per_space.values()), default=0)
    table = pd.DataFrame({"rank": np.arange(1, k + 1)})
    for name, items in per_space.items():
        words = [w for w, _ in items] + [""] * (k - len(items))
        sims = [s for _, s in items] + [np.nan] * (k - len(items))
        table[name] = words
        table[f"{name} · cos"] = sims
    return table


def shorten(text: str, n: int = 40) -> str:
    """A label cut to ``n`` characters with an ellipsis, for axes (the hover keeps it whole).

    >>> shorten("a" * 50, 10)
    'aaaaaaaaa…'
    """
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def neighbour_bars(labels: Sequence[str], cosines: Sequence[float]) -> go.Figure:
    """Cosine of each neighbour as a horizontal bar, nearest on top. Long labels (sentences,
    documents) are cut on the axis and whole in the hover; one row per neighbour even when
    two cut labels read the same."""
    labels = [str(x) for x in labels][::-1]
    cos = np.asarray(cosines, dtype=float)[::-1]
    rows = list(range(len(labels)))
    fig = go.Figure(go.Bar(x=cos, y=rows, orientation="h", marker={"color": "#3b5bdb"}, customdata=labels,
                           hovertemplate="%{customdata}: %{x:.3f}<extra></extra>"))
    fig.update_layout(height=max(160, 22 * len(labels) + 40), margin={"l": 10, "r": 10, "t": 10, "b": 30},
                      template="plotly_white",
                      yaxis={"automargin": True, "tickvals": rows, "ticktext": [shorten(x) for x in labels]},
                      xaxis={"title": "cosine", "range": [min(0.0, float(cos.min()) if len(cos) else 0.0), 1.0]})
    return fig
