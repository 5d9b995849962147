"""A Projection panel: its figure, and above ``LARGE_MAP`` points the part of the layout in
view (the whole layout until zoomed) with the zoom buttons."""

from dataclasses import replace

import numpy as np
import streamlit as st

from embeddings.figures import projection_figure
from embeddings.layout.maps import LARGE_MAP, map_view, selection_extent
from pages.ui.projection_view import layers_for
from pages.ui.text import md


def large_view(name: str, proj, search: str, picked: set[str]):
    """A panel above LARGE_MAP points: its current view (the whole layout until zoomed), the
    searched and selected labels always drawn. Returns (the drawn part as a projection, the view)."""
    if len(proj.labels) <= LARGE_MAP:
        return proj, None
    extent = st.session_state.get(f"pj_extent_{name}")
    wanted = {search, search.lower()} | picked if search else picked
    always = np.flatnonzero(np.isin(np.asarray(proj.labels, dtype=object), list(wanted))) if wanted else None
    mv = map_view(proj.coords, extent, always=always)
    part = replace(proj, labels=[proj.labels[i] for i in mv.rows], coords=proj.coords[mv.rows],
                   rows=proj.rows[mv.rows], neighbours=[proj.neighbours[i] for i in mv.rows] if proj.neighbours
                   else [])
    return part, mv


def zoom_controls(name, mv) -> None:
    """Zoom to a box selection, or back to the whole layout."""
    c1, c2, c3 = st.columns([4, 2, 2])
    c1.caption(md(mv.caption()))
    box = selection_extent((st.session_state.get(f"pj_chart_{name}") or {}).get("selection"))
    if c2.button("Zoom to selection", key=f"pj_zoom_{name}", disabled=box is None, icon=":material/zoom_in:",
                 help="Drag a box (the box tool in the chart's toolbar), then zoom: the density is recomputed "
                      "over the box, and every point is drawn once it holds few enough."):
        st.session_state[f"pj_extent_{name}"] = box
        st.rerun()
    if c3.button("Whole map", key=f"pj_reset_{name}", disabled=st.session_state.get(f"pj_extent_{name}") is None,
                 icon=":material/zoom_out_map:"):
        st.session_state.pop(f"pj_extent_{name}", None)
        st.rerun()


def panel_figure(view, space_id: str, s, proj, picked: set[str], near: set[str], large: bool, height: int):
    """One panel's figure: the layout's points with their frequency and neighbours, in the view's layers."""
    frame = proj.frame()
    freq = s.meta["frequency"].to_numpy()[proj.rows] if "frequency" in s.meta else np.zeros(len(proj.rows))
    frame["frequency"] = np.nan_to_num(freq.astype(float), nan=0.0)
    if "neighbours" not in frame:
        frame["neighbours"] = ""
    layers = layers_for(view, space_id, s, proj, frame, picked, near)
    if large:
        layers.point_size = 3
    return projection_figure(frame, layers, height=height)
