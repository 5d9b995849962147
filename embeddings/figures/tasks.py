"""Figures of the task benchmarks: quality against throughput with its Pareto frontier,
and the score as dimensions go down."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..display import plot_text

FRONT = "#2b8a3e"
OTHER = "#868e96"


def pareto_figure(points: pd.DataFrame, task: str, metric: str, *, speed: str = "docs_per_second",
                  speed_title: str = "documents per second, encoding on this machine", unit: str = "documents"
                  ) -> go.Figure:
    """Quality (``score``, with ``std`` bars, or ``low``–``high`` when the points carry an
    interval) against throughput (the ``speed`` column, log scale) per space; the Pareto
    frontier (``front``) is drawn green and joined. Spaces without a measured throughput are
    left out of the chart (the table still lists them)."""
    fig = go.Figure()
    interval = "low" in points and "high" in points
    shown = points.dropna(subset=[speed]).sort_values("score").copy()
    # neighbours in score take turns above and below their point, so close names do not overlap
    shown["position"] = ["top right" if i % 2 else "bottom left" for i in range(len(shown))]
    front = shown[shown["front"]].sort_values(speed)
    if len(front) > 1:
        fig.add_trace(go.Scatter(x=front[speed], y=front["score"], mode="lines", hoverinfo="skip",
                                 line={"color": FRONT, "dash": "dot"}, name="Pareto frontier"))
    for on_front, part in shown.groupby("front", sort=False):
        if interval:
            bars = {"type": "data", "array": (part["high"] - part["score"]).to_numpy(),
                    "arrayminus": (part["score"] - part["low"]).to_numpy(), "visible": True, "thickness": 1.2}
            spread, extra = "%{customdata[0]:.3f} to %{customdata[2]:.3f}", np.stack(
                [part["low"], part["n"], part["high"]], axis=1)
        else:
            bars = {"type": "data", "array": part["std"].to_numpy(), "visible": True, "thickness": 1.2}
            spread, extra = "± %{customdata[0]:.3f}", np.stack([part["std"], part["n"]], axis=1)
        fig.add_trace(go.Scatter(
            x=part[speed], y=part["score"], mode="markers+text", text=part["space"],
            textposition=part["position"].tolist(), name="on the frontier" if on_front else "dominated",
            marker={"size": 12, "color": FRONT if on_front else OTHER}, error_y=bars, customdata=extra,
            hovertemplate="%{text}<br>" + plot_text(metric) + " %{y:.3f} " + spread + " on %{customdata[1]:,} "
                          + unit + "<br>%{x:,.0f} " + unit + "/s<extra></extra>"))
    if len(shown):  # room either side for the names (log axis: the range is in decades)
        low, high = np.log10(shown[speed].min()), np.log10(shown[speed].max())
        fig.update_xaxes(range=[low - 0.4, high + 0.4])
    fig.update_xaxes(type="log", title=f"{speed_title} (log scale)")
    fig.update_yaxes(title=f"{plot_text(metric)} ({plot_text(task)}), " + ("mean, 95% interval" if interval
                                                                            else "mean ± std"))
    fig.update_layout(template="plotly_white", height=440, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": 1.08}, uniformtext={"minsize": 10})
    return fig


def dimension_figure(curve: pd.DataFrame, metric: str, space: str, drop_at: int | None,
                     reduce: str = "pca") -> go.Figure:
    """Score (± std) against the dimensions kept (by PCA, or the first k); the first dimension where the
    score falls more than one std below the full space's is marked."""
    full = curve.iloc[-1]
    fig = go.Figure(go.Scatter(
        x=curve["dim"], y=curve["score"], mode="lines+markers", name=plot_text(space),
        error_y={"type": "data", "array": curve["std"].to_numpy(), "visible": True},
        hovertemplate="%{x} dimensions: %{y:.3f}<extra></extra>"))
    fig.add_hrect(y0=full["score"] - full["std"], y1=full["score"] + full["std"], fillcolor=FRONT, opacity=0.1,
                  line_width=0, annotation_text="full space ± 1 std", annotation_position="bottom right")
    if drop_at is not None:
        fig.add_vline(x=drop_at, line={"color": "#c92a2a", "dash": "dash"},
                      annotation_text=f"drops below at {drop_at}", annotation_position="top left")
    how = "the first k, truncated" if reduce == "truncate" else "PCA"
    fig.update_xaxes(type="log", title=f"dimensions kept ({how}, log scale)", tickvals=curve["dim"].tolist())
    fig.update_yaxes(title=plot_text(metric))
    fig.update_layout(template="plotly_white", height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      showlegend=False)
    return fig


def few_shot_figure(curve: pd.DataFrame) -> go.Figure:
    """Macro-F1 against labelled examples per class (log scale), one line per space, ± std."""
    fig = go.Figure()
    for space, part in curve.groupby("space", sort=False):
        fig.add_trace(go.Scatter(x=part["shots"], y=part["score"], mode="lines+markers", name=plot_text(space),
                                 error_y={"type": "data", "array": part["std"].to_numpy(), "visible": True},
                                 hovertemplate="%{x} per class: %{y:.3f}<extra>" + plot_text(space) + "</extra>"))
    fig.update_xaxes(type="log", title="labelled examples per class (log scale)",
                     tickvals=sorted(curve["shots"].unique().tolist()))
    fig.update_yaxes(title="macro-F1, mean ± std over draws and folds")
    fig.update_layout(template="plotly_white", height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": 1.12})
    return fig
