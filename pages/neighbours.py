"""Neighbours: a term or a vector expression, its nearest labels in each space, side by side."""

import pandas as pd
import streamlit as st

from embeddings.analysis import ann
from embeddings.analysis.neighbours import K as NEIGHBOUR_K, NeighbourParams, neighbours, parse_expression
from embeddings.figures import neighbour_bars
from embeddings.space import OOVError
from embeddings.store.space_store import ensure_index
from pages.common import space, spaces_or_stop, workspace
from pages.ui.defaults import follow_spaces
from pages.ui.demo_panel import wait_for_demo
from pages.ui.jobs import cancellable, guard, progress_reporter
from pages.ui.neighbours_image import image_neighbours
from pages.ui.options import bound, option_number
from pages.ui.text import md, md_list, plotly_chart
from pages.ui.url import number, sync_query_params

st.title("Neighbours")
wait_for_demo(workspace(), "neighbours")
st.caption("Type a word or an expression such as `king - man + woman` or `2*paris - france + italy` "
           "(spaces around + and -). Each space answers by cosine similarity.")

choices = spaces_or_stop()
names = list(choices)
follow_spaces("nb_spaces", choices, 4, terms_only=True)
selected = st.multiselect("Spaces", names, max_selections=4, key="nb_spaces")     # a row of its own: four chips fit
c2, c3, c4 = st.columns([4, 1, 2])
query = c2.text_input("Query", value=st.query_params.get("q", "government"), key="nb_query")
k = option_number("k", NeighbourParams, "k", key="nb_k", where=c3,
                  value=number("k", NEIGHBOUR_K, bound(NeighbourParams, "k")))
exclude = c4.toggle("Hide query words", value=True, key="nb_exclude",
                    help="As gensim's most_similar does, the words of the query are left out of the results.")
sync_query_params(spaces=",".join(selected), q=query, k=int(k))

if not selected or not query.strip():
    st.stop()
large = [n for n in selected if ann.needs_index(len(space(choices[n])))]
unindexed = [n for n in large if space(choices[n]).ann is None]
if unindexed:  # exact search works at any size; the index is an accelerator, built on request
    c1, c2 = st.columns([5, 2])
    c1.caption(f"{md_list(unindexed)}: more than {ann.THRESHOLD:,} labels, searched exactly (one pass over all of "
               "them). An approximate index (HNSW, saved with the space) answers in about a millisecond.")
    if c2.button("Build the neighbour index", key="nb_build", icon=":material/bolt:"):
        with cancellable("nb_index", "Building the neighbour index"):
            for name in unindexed:
                progress, done = progress_reporter(f"Neighbour index of {name} (once; saved with the space)")
                try:
                    ensure_index(workspace(), space(choices[name]), progress=progress)
                finally:
                    done()
        st.rerun()
exact = st.toggle("Exact search", value=False, key="nb_exact", disabled=len(unindexed) == len(large),
                  help="Spaces with an approximate index are searched through it and the candidates re-ranked "
                       "exactly; this searches all their labels instead.")
with guard("the query"):
    terms = parse_expression(query)
    st.caption("Query: " + " ".join(f"{'+' if w > 0 else '−'} {abs(w):g}·{md(t)}" if abs(w) != 1 else
                                    f"{'+' if w > 0 else '−'} {md(t)}" for w, t in terms).lstrip("+ "))

columns = st.columns(len(selected))
for col, name in zip(columns, selected):
    with col, guard(name):
        s = space(choices[name])
        st.markdown(f"**{md(name)}**")
        how = "approximate, re-ranked exactly" if s.ann is not None and not exact else "exact"
        st.caption(f"{md(s.family)} · {len(s):,} × {s.dim} · {how} search")
        try:
            result = neighbours(s, query, int(k), exclude_query=exclude, exact=exact)
        except OOVError as exc:
            st.warning(md(exc), icon=":material/help:")
            continue
        unseen = [t for _, t in terms if s.key(t) not in s.index]
        if unseen:
            how = "subword n-grams" if s.family == "fasttext" else "the sentence encoder"
            st.caption(f"Not in the vocabulary, embedded with {how}: {md_list(unseen)}")
        table = pd.DataFrame([{"label": n.label, "cosine": n.cosine} for n in result])
        st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 420),
                     column_config={"label": st.column_config.TextColumn("label", width=100),     # the cosine stays in view
                                    "cosine": st.column_config.NumberColumn("cosine", format="%.3f", width=64)})
        plotly_chart(neighbour_bars(table["label"], table["cosine"]), width="stretch",
                     key=f"nb_chart_{choices[name]}")

image_neighbours([space(choices[n]) for n in selected], query.strip(), int(k))
