"""The Projection page's controls and how each panel is coloured.

The controls are bound to the URL (``bind="query-params"``), so a copied link reopens the
same view; :class:`View` is what they chose.
"""

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from embeddings.figures import MAX_WORD_LABELS, MapLayers
from embeddings.layout.clusters import N_CLUSTERS, cluster
from embeddings.layout.projection import MAX_POINTS, METHOD_LABELS, METHODS, SEED, ProjectionParams
from embeddings.text.wordlists import parse_named_lists
from pages.common import space
from pages.ui.options import bound, option_number, option_slider
from pages.ui.url import URL, Bound, check_link, choice

COLOUR_BY = ["log frequency", "cluster (KMeans)", "cluster (HDBSCAN)", "word lists", "metadata column"]
MODES = ["Most frequent", "All", "Word list", "Regex"]
#: the settings a link may carry, and the widgets' own bounds (#26, item 6)
P = ProjectionParams
LINK = {"pj_mode": Bound(options=tuple(MODES)), "pj_top": bound(P, "points"), "pj_repro": Bound(flag=True),
        "pj_seed": bound(P, "seed"), "pj_nn": bound(P, "n_neighbors"), "pj_md": bound(P, "min_dist"),
        "pj_perp": bound(P, "perplexity"), "pj_colour": Bound(options=tuple(COLOUR_BY)),
        "pj_align": Bound(flag=True), "pj_k": bound(P, "n_clusters")}


@dataclass
class View:
    """What the Projection page's controls chose."""

    selected: list[str]
    method: str
    mode: str
    params: dict
    top: int
    seed: int | None
    words_text: str
    regex: str
    colour_by: str
    search: str
    aligned: bool
    word_labels: int
    n_clusters: int = N_CLUSTERS
    lists: dict[str, set[str]] = field(default_factory=dict)
    meta_column: str | None = None


def view_controls(names: list[str]) -> View:
    """Draw the controls (spaces, method, points, settings, colouring) and return the choice.
    The spaces widget's value is set beforehand (:func:`pages.ui.defaults.follow_spaces`)."""
    # a row of its own: four space chips fit at 1,280 px (a cut chip hides a choice)
    selected = st.multiselect("Spaces", names, max_selections=4, key="pj_spaces")
    check_link(LINK)
    c2, c3 = st.columns([3, 2])
    method = c2.radio("Method", METHODS, index=METHODS.index(choice("method", METHODS, "umap")), horizontal=True,
                      key="pj_method",
                      format_func=METHOD_LABELS.get)
    mode = c3.selectbox("Points", MODES, key="pj_mode", bind=URL,
                        format_func=str,
                        help=f"A panel shows at most {MAX_POINTS:,} points: beyond that, the most frequent.")
    params: dict = {}
    with st.expander("Settings", icon=":material/tune:"):
        s1, s2, s3, s4 = st.columns(4)
        top = option_number("How many (most frequent)", P, "points", key="pj_top", where=s1, bind=URL)
        reproducible = s2.toggle("Reproducible", value=False, key="pj_repro", bind=URL,
                                 help="Seeded layouts are identical run to run, but umap-learn then uses one core. "
                                      "Either way a finished layout is cached and reopens as it was.")
        seed = int(option_number("Seed", P, "seed", key="pj_seed", where=s2, bind=URL)) if reproducible else SEED
        if method == "umap":
            params = {"n_neighbors": int(option_slider("n_neighbors", P, "n_neighbors", key="pj_nn", where=s3, bind=URL)),
                      "min_dist": float(option_slider("min_dist", P, "min_dist", key="pj_md", where=s4, bind=URL))}
        elif method == "tsne":
            params = {"perplexity": float(option_slider("perplexity", P, "perplexity", key="pj_perp", where=s3, bind=URL))}
    words_text = st.text_area("Words, one per line or comma-separated", key="pj_words", height=80, bind=URL) \
        if mode == "Word list" else ""
    regex = st.text_input("Regular expression over the labels", key="pj_regex", placeholder="^(new|south)_",
                          bind=URL) if mode == "Regex" else ""

    c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
    colour_by = c1.selectbox("Colour by", COLOUR_BY, key="pj_colour", bind=URL)
    search = c2.text_input("Highlight a term in every panel", value=st.query_params.get("highlight", ""),
                           key="pj_search").strip()
    aligned = c3.toggle("Align layouts", key="pj_align", value=False, disabled=len(selected) < 2, bind=URL,
                        help="Rotate, scale and shift each layout onto the first over their shared labels "
                             "(2-D Procrustes), so the same word sits in a comparable place.")
    word_labels = c4.number_input("Label top words", 0, MAX_WORD_LABELS, 0, step=10, key="pj_labels", bind=URL,
                                  help=f"Write the N most frequent words on each map (0: none; at most "
                                       f"{MAX_WORD_LABELS}). Groups are always named at their centres.")
    n_clusters = N_CLUSTERS
    lists: dict[str, set[str]] = {}
    meta_column = None
    if colour_by == "cluster (KMeans)":
        n_clusters = option_slider("Clusters", P, "n_clusters", key="pj_k", bind=URL)
    elif colour_by == "word lists":
        raw = st.text_area("One list per line: `name: word, word, ...`", key="pj_lists", bind=URL,
                           value="people: man, woman, boy, girl, king, queen\nplaces: sydney, melbourne, london, paris")
        lists = parse_named_lists(raw)
    return View(selected, method, mode, params, int(top), seed, words_text, regex, colour_by, search, aligned,
                int(word_labels), n_clusters, lists, meta_column)


@st.cache_data(max_entries=32, show_spinner=False)
def clusters_for(space_id: str, rows_key: bytes, how: str, n: int):
    s = space(space_id)
    rows = np.frombuffer(rows_key, dtype=np.int64)
    return cluster(np.asarray(s.vectors[rows]), [s.labels[i] for i in rows], how, n_clusters=n)


def layers_for(view: View, space_id: str, s, proj, frame, picked: set[str], near: set[str]) -> MapLayers:
    """What to draw over one panel's points: the colour-by choice, the selection (``picked``),
    the ringed neighbours of a clicked point (``near``) and the highlighted term."""
    layers = MapLayers(word_labels=view.word_labels, picked=picked, near=near, search=view.search)
    colour_by, lists, meta_column = view.colour_by, view.lists, view.meta_column
    if colour_by.startswith("cluster"):
        how = "kmeans" if "KMeans" in colour_by else "hdbscan"
        assignment, cnames = clusters_for(space_id, proj.rows.astype(np.int64).tobytes(), how, view.n_clusters)
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
