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

from embeddings.analysis.neighbours import Comparison

from ..display import MARKUP_SAFE, plot_text

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
    #: marker size (None: by the number of points); small over a density image, which it must not hide
    point_size: int | None = None


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


def add_density(fig: go.Figure, view) -> go.Figure:
    """Put a large map's density image (:class:`embeddings.layout.maps.MapView`) under its points and
    fit the axes to the view. The image is a ``data:`` URL: nothing is fetched."""
    x0, x1, y0, y1 = view.extent
    fig.add_layout_image(source=view.data_url(), xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0,
                         sizing="stretch", layer="below", opacity=1.0)
    fig.update_xaxes(range=[x0, x1])
    fig.update_yaxes(range=[y0, y1])
    return fig


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
    size = layers.point_size or (4 if len(frame) > 20_000 else 6)
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
        from embeddings.analysis.neighbours import content_mask

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


# -- corpus figures ----------------------------------------------------------------------------
def zipf_figure(vocab: pd.DataFrame, max_points: int = 3000) -> go.Figure:
    """Rank against frequency on log-log axes, with Zipf's law (slope −1) from the top
    term's count; at most ``max_points`` log-spaced ranks, which keep the curve's shape."""
    from embeddings.text.corpus import zipf_table

    z = zipf_table(vocab)
    if len(z) > max_points:
        z = z.iloc[np.unique(np.geomspace(1, len(z), max_points).astype(int) - 1)]
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=z["rank"], y=z["count"], mode="markers+lines", name="this corpus",
                               text=z["term"], hovertemplate="#%{x}: %{text} (%{y:,})<extra></extra>",
                               marker={"size": 4}))
    top = float(vocab["count"].iloc[0])
    ranks = np.array([1, len(vocab)])
    fig.add_trace(go.Scatter(x=ranks, y=top / ranks, mode="lines", name="Zipf's law (slope −1)",
                             line={"dash": "dash", "color": "grey"}, hoverinfo="skip"))
    fig.update_layout(xaxis={"type": "log", "title": "rank", "dtick": 1},
                      yaxis={"type": "log", "title": "frequency", "dtick": 1},
                      height=430, margin={"l": 10, "r": 10, "t": 10, "b": 10}, template="plotly_white",
                      legend={"x": 0.98, "xanchor": "right", "y": 0.98})
    return fig


def length_histogram(tokens: pd.Series) -> go.Figure:
    """Tokens per document."""
    fig = go.Figure(go.Histogram(x=tokens, nbinsx=40, marker={"color": "#3b5bdb"},
                                 hovertemplate="%{x} tokens: %{y} documents<extra></extra>"))
    fig.update_layout(xaxis_title="tokens per document", yaxis_title="documents", height=320, bargap=0.05,
                      margin={"l": 10, "r": 10, "t": 10, "b": 10}, template="plotly_white")
    return fig


def debias_bars(before_after: pd.DataFrame, parent: str, child: str) -> go.Figure:
    """WEAT d per test, the parent space beside its debiased child (columns test, space, d)."""
    part = {n: before_after[before_after.space == n] for n in (parent, child)}
    fig = go.Figure([go.Bar(x=part[n]["test"], y=part[n]["d"], name=n, marker={"color": c},
                            hovertemplate="%{x}: d = %{y:.3f}<extra>" + plot_text(n) + "</extra>")
                     for n, c in ((parent, "#adb5bd"), (child, "#3b5bdb"))])
    fig.update_layout(barmode="group", template="plotly_white", height=340, yaxis_title="WEAT d",
                      margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h", "y": 1.1})
    return fig


# -- comparison, bias, audit and evaluation figures (also drawn into the HTML reports) ----------
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

# -- bias ------------------------------------------------------------------------------
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

# -- audit and evaluation ----------------------------------------------------------------
def coverage_chart(summary: pd.DataFrame) -> go.Figure:
    """Coverage by type and weighted by frequency, per space: horizontal bars, so a space's
    name reads whole on its axis and each percentage has its own line."""
    fig = go.Figure([
        go.Bar(y=summary["space"], x=summary["coverage"], name="by type", marker={"color": "#3b5bdb"},
               orientation="h", text=[f"{v:.0%}" for v in summary["coverage"]], textposition="outside",
               hovertemplate="%{y}: %{x:.1%} of the terms<extra></extra>"),
        go.Bar(y=summary["space"], x=summary["coverage_by_frequency"], name="weighted by frequency",
               marker={"color": "#74c0fc"}, orientation="h",
               text=[f"{v:.0%}" for v in summary["coverage_by_frequency"]],
               textposition="outside", hovertemplate="%{y}: %{x:.1%} of the occurrences<extra></extra>")])
    # the legend sits under the axis, so it never covers a bar or its label
    fig.update_layout(barmode="group", template="plotly_white", height=max(300, 130 + 60 * len(summary)),
                      xaxis={"range": [0, 1.18], "tickformat": ".0%", "title": "terms the space knows"},
                      yaxis={"autorange": "reversed", "automargin": True},
                      margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0})
    return fig

def overlap_chart(terms: pd.DataFrame, general: list[str], k: int, domain: str | None = None) -> go.Figure:
    """Distribution of each general space's neighbour overlap (Jaccard@k) with the domain
    space: high means the same neighbours, low means the neighbourhood changed. With a
    stability study (a ``noise_floor`` column) a grey box first shows the domain model
    against its own runs (each term's smallest run-to-run overlap): the noise floor."""
    boxes = []
    if "noise_floor" in terms and terms["noise_floor"].notna().any():
        known = terms["noise_floor"].notna()
        boxes.append(go.Box(x=terms.loc[known, "noise_floor"], name=f"{domain or 'domain'}, own runs",
                            boxpoints="all", jitter=0.4, marker={"color": "#868e96"}, text=terms.loc[known, "term"],
                            hovertemplate="%{text}: floor %{x:.2f} (its smallest overlap between two runs)"
                                          "<extra></extra>"))
    boxes += [go.Box(x=terms[f"overlap:{g}"].dropna(), name=g, boxpoints="all", jitter=0.4,
                     text=terms.loc[terms[f"overlap:{g}"].notna(), "term"],
                     hovertemplate="%{text}: overlap %{x:.2f}<extra></extra>") for g in general]
    fig = go.Figure(boxes)      # horizontal: the names read whole on the axis
    fig.update_layout(template="plotly_white", height=max(300, 130 + 60 * len(boxes)), showlegend=False,
                      xaxis={"title": f"overlap (Jaccard@{k})", "range": [-0.05, 1.05]},
                      yaxis={"autorange": "reversed", "automargin": True},
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
