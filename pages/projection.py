"""Projection: 1 to 4 spaces side by side in 2-D, with a trust score on every panel."""

from dataclasses import replace

import streamlit as st

from embeddings.analysis.neighbours import K as NEIGHBOUR_K, label_neighbours
from embeddings.display import label_from_plot
from embeddings.figures import add_density, neighbour_table
from embeddings.glossary import GLOSSARY
from embeddings.layout.projection import MAX_POINTS, METHOD_LABELS, METHODS, align, cached_project, estimate_seconds, select_rows
from embeddings.text.wordlists import parse_words
from pages.common import space, spaces_or_stop, workspace
from pages.ui.defaults import follow_spaces
from pages.ui.demo_panel import wait_for_demo
from pages.ui.jobs import cancellable, guard, progress_reporter
from pages.ui.neighbours_image import thumbnail_of
from pages.ui.projection_map import large_view, panel_figure, zoom_controls
from pages.ui.projection_view import view_controls
from pages.ui.text import md, md_list, plotly_chart
from pages.ui.url import URL, copy_link, sync_query_params

TRUST_HELP = (f"**Trustworthiness**: {GLOSSARY['trustworthiness']}\n\n"
              f"**kNN preservation**: {GLOSSARY['kNN preservation']}")
ws = workspace()

st.title("Projection")
wait_for_demo(workspace(), "projection")
st.caption("Up to four spaces side by side. Each panel says how far to trust it: trustworthiness (are 2-D neighbours "
           "true neighbours?) and kNN preservation (the share of each point's 10 nearest neighbours kept in 2-D).")

choices = spaces_or_stop()
follow_spaces("pj_spaces", choices, 2)
view = view_controls(list(choices))
sync_query_params(spaces=",".join(view.selected), method=view.method, highlight=view.search)
copy_link("projection")
if not view.selected:
    st.stop()


def rows_for(s):
    words = parse_words(view.words_text) if view.mode == "Word list" else None
    return select_rows(s, top=None if view.mode == "All" else int(view.top), words=words, regex=view.regex or None,
                       limit=MAX_POINTS)


# -- say what will happen before anyone waits ------------------------------------------------
jobs = []
for name in view.selected:
    with guard(name):
        s = space(choices[name])
        rows = rows_for(s)
        if view.mode == "All" and len(s) > MAX_POINTS:
            st.caption(f"{md(name)} has {len(s):,} labels: its {MAX_POINTS:,} most frequent are shown, the most one "
                       "panel holds.")
        jobs.append((name, s, rows))
estimate = sum(estimate_seconds(view.method, len(rows)) for _, _, rows in jobs)
if estimate > 20:
    others = ", ".join(f"{METHOD_LABELS[m]} about {estimate_seconds(m, sum(len(r) for _, _, r in jobs)):.0f} s"
                       for m in METHODS if m != view.method)
    st.caption(f"{METHOD_LABELS[view.method]} of {sum(len(r) for _, _, r in jobs):,} points takes about "
               f"{estimate:.0f} s on this machine unless it is cached ({others}). Progress and a Cancel button show below.")

# -- compute every panel first (alignment needs them all) ------------------------------------
panels = []
signature = (view.method, view.params, view.seed, view.mode, int(view.top), view.words_text, view.regex,
             [choices[n] for n in view.selected])
with cancellable("pj", "The projection", signature):
    for name, s, rows in jobs:
        with guard(name):
            progress, done = progress_reporter(f"{METHOD_LABELS[view.method]} of {name}")
            try:
                proj = cached_project(ws, s, rows, view.method, params=view.params, seed=view.seed, progress=progress)
            finally:
                done()
            panels.append((name, s, proj))
if not panels:
    st.stop()
if view.aligned and len(panels) > 1:
    reference = panels[0][2]
    panels = [panels[0]] + [(n, s, replace(p, coords=align(reference, p))) for n, s, p in panels[1:]]
if view.meta_column is None and view.colour_by == "metadata column":
    columns = sorted({c for _, s, _ in panels for c in s.meta.columns})
    view.meta_column = st.selectbox("Column", columns, key="pj_meta", bind=URL) if columns else None

picked: set[str] = set()
for name, _, _ in panels:
    state = st.session_state.get(f"pj_chart_{name}")
    if state and state.get("selection"):
        picked |= {label_from_plot(p["customdata"][0]) for p in state["selection"].get("points", [])
                   if p.get("customdata")}


@st.cache_data(max_entries=64, show_spinner=False)
def neighbours_of(space_id: str, label: str, k: int = NEIGHBOUR_K) -> list[tuple[str, float]] | None:
    """The k nearest labels in the whole space (None when the label is not in it)."""
    found = label_neighbours(space(space_id), label, k)
    return None if found is None else [(n.label, n.cosine) for n in found]


# one clicked point: its neighbours in each space are ringed in that space's panel
focus = next(iter(picked)) if len(picked) == 1 else None
near = {name: {w for w, _ in (neighbours_of(choices[name], focus) or [])} for name, _, _ in panels} if focus else {}


per_row = 2 if len(panels) > 1 else 1
for start in range(0, len(panels), per_row):
    cols = st.columns(per_row)
    for col, (name, s, proj) in zip(cols, panels[start:start + per_row]):
        with col, guard(name):
            drawn, mv = large_view(name, proj, view.search, picked)
            fig, found = panel_figure(view, choices[name], s, drawn, picked, near.get(name, set()), mv is not None,
                                      520 if len(panels) <= 2 else 420)
            if mv is not None:
                add_density(fig, mv)
            tw = "n/a" if proj.trustworthiness is None else f"{proj.trustworthiness:.3f}"
            kp = "n/a" if proj.knn_preservation is None else f"{proj.knn_preservation:.3f}"
            st.markdown(f"**{md(name)}** · {len(proj.labels):,} points · {METHOD_LABELS[view.method]}")
            st.caption(f"Trustworthiness **{tw}** · kNN preservation **{kp}** · "
                       f"{'cached' if proj.cached else f'{proj.seconds:.1f} s'}"
                       + (f" · trust on a sample of {proj.trust_sample:,}" if proj.trust_sample < len(proj.labels)
                          else "")
                       + (f" · approximate kNN graph, recall {proj.knn_recall:.3f} against exact search on a sample"
                          if proj.knn == "approximate" and proj.knn_recall is not None else ""), help=TRUST_HELP)
            plotly_chart(fig, width="stretch", key=f"pj_chart_{name}", on_select="rerun",
                         selection_mode=("points", "box", "lasso"))
            if mv is not None:
                zoom_controls(name, mv)
            if view.search and not found:
                st.caption(f"“{md(view.search)}” is not among the points shown in {md(name)}.")

if focus:
    thumbnail_of(focus, [s for _, s, _ in panels])
    st.markdown(f"**{md(focus)}**, selected: its 10 nearest neighbours in each space (ringed in orange on that "
                "space's map)")
    found = {name: neighbours_of(choices[name], focus) for name, _, _ in panels}
    missing = [n for n, v in found.items() if v is None]
    if len(missing) < len(found):
        st.dataframe(neighbour_table({n: v for n, v in found.items() if v is not None}), hide_index=True,
                     width="stretch", key="pj_neighbours", column_config={     # long labels keep the cosines in view
                         n: st.column_config.TextColumn(width=200) for n in found} | {
                         f"{n} · cos": st.column_config.NumberColumn(format="%.3f", width=110) for n in found})
    if missing:
        st.caption(f"Not in {md_list(missing)}.")
elif picked:
    st.markdown(f"**Selected ({len(picked):,})**, ringed in every panel:")
    st.markdown(md_list(sorted(picked)[:300]) + (" …" if len(picked) > 300 else ""))
else:
    st.caption("Click a point to select it in every panel and list its neighbours in each space; drag a box or a "
               "lasso to select several. Plotly shows a hover in one panel at a time: the selection links them.")
