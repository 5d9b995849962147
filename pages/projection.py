"""Projection: 1 to 4 spaces side by side in 2-D, with a trust score on every panel."""

from dataclasses import replace

import numpy as np
import streamlit as st

from embeddings.display import label_from_plot
from embeddings.figures import MAX_WORD_LABELS, MapLayers, neighbour_table, projection_figure
from embeddings.glossary import GLOSSARY
from embeddings.neighbours import label_neighbours
from embeddings.wordlists import parse_named_lists, parse_words
from embeddings.projection import (DEFAULT_PARAMS, DEFAULT_POINTS, MAX_POINTS, METHOD_LABELS, METHODS, align, cached_project, cluster,
                                   estimate_seconds, select_rows)
from pages.common import (cancellable, copy_link, default_spaces, guard, md, md_list, plotly_chart, progress_reporter, space,
                          spaces_or_stop, sync_query_params, workspace)

TRUST_HELP = (f"**Trustworthiness**: {GLOSSARY['trustworthiness']}\n\n"
              f"**kNN preservation**: {GLOSSARY['kNN preservation']}")
URL = "query-params"     # widgets bound to the URL: a copied link reopens the same view
ws = workspace()

st.title("Projection")
st.caption("Up to four spaces side by side. Each panel says how far to trust it: trustworthiness (are 2-D neighbours "
           "true neighbours?) and kNN preservation (the share of each point's 10 nearest neighbours kept in 2-D).")

choices = spaces_or_stop()
names = list(choices)
default = default_spaces(choices, 2)

c1, c2, c3 = st.columns([6, 3, 2])  # room for four space chips: a cut chip hides a choice
selected = c1.multiselect("Spaces", names, default=default, max_selections=4, key="pj_spaces")
method = c2.radio("Method", METHODS, index=METHODS.index(st.query_params.get("method", "umap"))
                  if st.query_params.get("method", "umap") in METHODS else 0, horizontal=True, key="pj_method",
                  format_func=METHOD_LABELS.get)
mode = c3.selectbox("Points", ["Most frequent", "All", "Word list", "Regex"], key="pj_mode", bind=URL,
                    format_func=lambda m: f"All (at most {MAX_POINTS:,})" if m == "All" else m,
                    help=f"A panel shows at most {MAX_POINTS:,} points: beyond that, the most frequent.")
params: dict = {}
with st.expander("Settings", icon=":material/tune:"):
    s1, s2, s3, s4 = st.columns(4)
    top = s1.number_input("How many (most frequent)", 50, MAX_POINTS, DEFAULT_POINTS, step=500, key="pj_top", bind=URL)
    reproducible = s2.toggle("Reproducible", value=False, key="pj_repro", bind=URL,
                             help="Seeded layouts are identical run to run, but umap-learn then uses one core. "
                                  "Either way a finished layout is cached and reopens as it was.")
    seed = int(s2.number_input("Seed", 0, 10_000, 1, key="pj_seed", disabled=not reproducible, bind=URL)) \
        if reproducible else None
    if method == "umap":
        d = DEFAULT_PARAMS["umap"]
        params = {"n_neighbors": int(s3.slider("n_neighbors", 2, 100, d["n_neighbors"], key="pj_nn", bind=URL)),
                  "min_dist": float(s4.slider("min_dist", 0.0, 0.99, d["min_dist"], key="pj_md", bind=URL))}
    elif method == "tsne":
        params = {"perplexity": float(s3.slider("perplexity", 5.0, 100.0, DEFAULT_PARAMS["tsne"]["perplexity"],
                                                key="pj_perp", bind=URL))}
words_text = st.text_area("Words, one per line or comma-separated", key="pj_words", height=80, bind=URL) \
    if mode == "Word list" else ""
regex = st.text_input("Regular expression over the labels", key="pj_regex", placeholder="^(new|south)_",
                      bind=URL) if mode == "Regex" else ""

c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
colour_by = c1.selectbox("Colour by", ["log frequency", "cluster (KMeans)", "cluster (HDBSCAN)", "word lists",
                                        "metadata column"], key="pj_colour", bind=URL)
search = c2.text_input("Highlight a term in every panel", value=st.query_params.get("highlight", ""),
                       key="pj_search").strip()
aligned = c3.toggle("Align layouts", key="pj_align", value=False, disabled=len(selected) < 2, bind=URL,
                    help="Rotate, scale and shift each layout onto the first over their shared labels "
                         "(2-D Procrustes), so the same word sits in a comparable place.")
word_labels = c4.number_input("Label top words", 0, MAX_WORD_LABELS, 0, step=10, key="pj_labels", bind=URL,
                              help=f"Write the N most frequent words on each map (0: none; at most "
                                   f"{MAX_WORD_LABELS}). Groups are always named at their centres.")
n_clusters = 12
lists: dict[str, set[str]] = {}
meta_column = None
if colour_by == "cluster (KMeans)":
    n_clusters = st.slider("Clusters", 2, 40, 12, key="pj_k", bind=URL)
elif colour_by == "word lists":
    raw = st.text_area("One list per line: `name: word, word, ...`", key="pj_lists", bind=URL,
                       value="people: man, woman, boy, girl, king, queen\nplaces: sydney, melbourne, london, paris")
    lists = parse_named_lists(raw)
sync_query_params(spaces=",".join(selected), method=method, highlight=search)
copy_link("projection")
if not selected:
    st.stop()


def rows_for(s):
    words = parse_words(words_text) if mode == "Word list" else None
    return select_rows(s, top=None if mode == "All" else int(top), words=words, regex=regex or None)


@st.cache_data(max_entries=32, show_spinner=False)
def clusters_for(space_id: str, rows_key: bytes, how: str, n: int):
    s = space(space_id)
    rows = np.frombuffer(rows_key, dtype=np.int64)
    return cluster(np.asarray(s.vectors[rows]), [s.labels[i] for i in rows], how, n_clusters=n)


# -- say what will happen before anyone waits ------------------------------------------------
jobs = []
for name in selected:
    with guard(name):
        s = space(choices[name])
        rows = rows_for(s)
        if mode == "All" and len(s) > MAX_POINTS:
            st.caption(f"{md(name)} has {len(s):,} labels: its {MAX_POINTS:,} most frequent are shown, the most one "
                       "panel holds.")
        jobs.append((name, s, rows))
estimate = sum(estimate_seconds(method, len(rows)) for _, _, rows in jobs)
if estimate > 20:
    others = ", ".join(f"{METHOD_LABELS[m]} about {estimate_seconds(m, sum(len(r) for _, _, r in jobs)):.0f} s"
                       for m in METHODS if m != method)
    st.caption(f"{METHOD_LABELS[method]} of {sum(len(r) for _, _, r in jobs):,} points takes about {estimate:.0f} s "
               f"on this machine unless it is cached ({others}). Progress and a Cancel button show below.")

# -- compute every panel first (alignment needs them all) ------------------------------------
panels = []
signature = (method, params, seed, mode, int(top), words_text, regex, [choices[n] for n in selected])
with cancellable("pj", "The projection", signature):
    for name, s, rows in jobs:
        with guard(name):
            progress, done = progress_reporter(f"{METHOD_LABELS[method]} of {name}")
            try:
                proj = cached_project(ws, s, rows, method, params=params, seed=seed, progress=progress)
            finally:
                done()
            panels.append((name, s, proj))
if not panels:
    st.stop()
if aligned and len(panels) > 1:
    reference = panels[0][2]
    panels = [panels[0]] + [(n, s, replace(p, coords=align(reference, p))) for n, s, p in panels[1:]]
if meta_column is None and colour_by == "metadata column":
    columns = sorted({c for _, s, _ in panels for c in s.meta.columns})
    meta_column = st.selectbox("Column", columns, key="pj_meta", bind=URL) if columns else None

picked: set[str] = set()
for name, _, _ in panels:
    state = st.session_state.get(f"pj_chart_{name}")
    if state and state.get("selection"):
        picked |= {label_from_plot(p["customdata"][0]) for p in state["selection"].get("points", [])
                   if p.get("customdata")}


@st.cache_data(max_entries=64, show_spinner=False)
def neighbours_of(space_id: str, label: str, k: int = 10) -> list[tuple[str, float]] | None:
    """The k nearest labels in the whole space (None when the label is not in it)."""
    found = label_neighbours(space(space_id), label, k)
    return None if found is None else [(n.label, n.cosine) for n in found]


# one clicked point: its neighbours in each space are ringed in that space's panel
focus = next(iter(picked)) if len(picked) == 1 else None
near = {name: {w for w, _ in (neighbours_of(choices[name], focus) or [])} for name, _, _ in panels} if focus else {}


def layers_for(name, s, proj, frame) -> MapLayers:
    """What to draw over one panel's points, from the colour-by choice."""
    layers = MapLayers(word_labels=int(word_labels), picked=picked, near=near.get(name, set()), search=search)
    if colour_by.startswith("cluster"):
        how = "kmeans" if "KMeans" in colour_by else "hdbscan"
        assignment, cnames = clusters_for(choices[name], proj.rows.astype(np.int64).tobytes(), how, n_clusters)
        layers.groups = [(cnames[c], assignment == c) for c in sorted(cnames)]
    elif colour_by == "word lists":
        member = np.array(["other"] * len(frame), dtype=object)
        for lname, items in lists.items():
            member[frame["label"].isin(items).to_numpy()] = lname
        layers.groups = [(g, member == g) for g in ["other", *lists] if (member == g).any()]
    elif colour_by == "metadata column" and meta_column and meta_column in s.meta:
        values = s.meta[meta_column].to_numpy()[proj.rows]
        if np.issubdtype(np.asarray(values).dtype, np.number):
            layers.values, layers.values_title = values, meta_column
        else:
            cats = [str(v) for v in values]
            top_cats = list(dict.fromkeys(cats))[:15]
            grouped = np.array([c if c in top_cats else "other" for c in cats], dtype=object)
            layers.groups = [(g, grouped == g) for g in dict.fromkeys(grouped.tolist())]
    else:
        freq = frame["frequency"].to_numpy()
        layers.values = np.log10(freq + 1) if freq.any() else -np.log10(np.arange(1, len(frame) + 1))
        layers.values_title = "log₁₀ freq" if freq.any() else "−log₁₀ rank"
    return layers


def figure(name, s, proj):
    frame = proj.frame()
    freq = s.meta["frequency"].to_numpy()[proj.rows] if "frequency" in s.meta else np.zeros(len(proj.rows))
    frame["frequency"] = np.nan_to_num(freq.astype(float), nan=0.0)
    if "neighbours" not in frame:
        frame["neighbours"] = ""
    return projection_figure(frame, layers_for(name, s, proj, frame), height=520 if len(panels) <= 2 else 420)


per_row = 2 if len(panels) > 1 else 1
for start in range(0, len(panels), per_row):
    cols = st.columns(per_row)
    for col, (name, s, proj) in zip(cols, panels[start:start + per_row]):
        with col, guard(name):
            fig, found = figure(name, s, proj)
            tw = "n/a" if proj.trustworthiness is None else f"{proj.trustworthiness:.3f}"
            kp = "n/a" if proj.knn_preservation is None else f"{proj.knn_preservation:.3f}"
            st.markdown(f"**{md(name)}** · {len(proj.labels):,} points · {METHOD_LABELS[method]}")
            st.caption(f"Trustworthiness **{tw}** · kNN preservation **{kp}** · "
                       f"{'cached' if proj.cached else f'{proj.seconds:.1f} s'}"
                       + (f" · trust on a sample of {proj.trust_sample:,}" if proj.trust_sample < len(proj.labels)
                          else ""), help=TRUST_HELP)
            plotly_chart(fig, width="stretch", key=f"pj_chart_{name}", on_select="rerun",
                         selection_mode=("points", "box", "lasso"))
            if search and not found:
                st.caption(f"“{md(search)}” is not among the points shown in {md(name)}.")

if focus:
    st.markdown(f"**{md(focus)}**, selected: its 10 nearest neighbours in each space (ringed in orange on that "
                "space's map)")
    found = {name: neighbours_of(choices[name], focus) for name, _, _ in panels}
    missing = [n for n, v in found.items() if v is None]
    if len(missing) < len(found):
        st.dataframe(neighbour_table({n: v for n, v in found.items() if v is not None}), hide_index=True,
                     width="stretch", key="pj_neighbours", column_config={
                         c: st.column_config.NumberColumn(format="%.3f") for n in found for c in (f"{n} · cos",)})
    if missing:
        st.caption(f"Not in {md_list(missing)}.")
elif picked:
    st.markdown(f"**Selected ({len(picked):,})**, ringed in every panel:")
    st.markdown(md_list(sorted(picked)[:300]) + (" …" if len(picked) > 300 else ""))
else:
    st.caption("Click a point to select it in every panel and list its neighbours in each space; drag a box or a "
               "lasso to select several. Plotly shows a hover in one panel at a time: the selection links them.")
