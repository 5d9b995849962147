"""Corpora: bring text (upload, paste or sample), preprocess it, and inspect the result."""

import pandas as pd
import streamlit as st

from embeddings.demo import opening_corpus
from embeddings.display import plural
from embeddings.figures import length_histogram, zipf_figure
from embeddings.images.corpus import is_image_corpus
from embeddings.text.corpus import delete_corpus, rename_corpus
from embeddings.text.preprocess import SCORER_NAMES
from pages.common import corpora, corpus_tables
from pages.ui.corpus_add import INSPECT_KEY, add_corpus_tabs, preprocessing_options
from pages.ui.defaults import SELECTED_CORPUS
from pages.ui.head import open_page
from pages.ui.images_views import corpus_view
from pages.ui.jobs import guard
from pages.ui.text import fmt_int, md, plotly_chart

ws = open_page("Corpora", "corpus",
               "Bring text, choose how it is tokenised, and look at what you got. Nothing leaves this machine.")


st.subheader("Add a corpus")
add_corpus_tabs(ws, preprocessing_options())


# -- inspect ------------------------------------------------------------------------
st.divider()
st.subheader("Inspect")
items = corpora()
if not items:
    st.info("No corpus yet: add one above.")
    st.stop()

by_id = {c.id: c for c in items}
if st.session_state.get(INSPECT_KEY) not in by_id:
    chosen = st.session_state.get(SELECTED_CORPUS)
    opening = opening_corpus([c.name for c in items])
    st.session_state[INSPECT_KEY] = chosen if chosen in by_id else next(c.id for c in items if c.name == opening)
corpus_id = st.selectbox("Corpus", list(by_id), format_func=lambda i: by_id[i].name, key=INSPECT_KEY)
st.session_state[SELECTED_CORPUS] = corpus_id


def manage(corpus) -> None:
    """Rename or delete the corpus shown."""
    with st.expander("Rename or delete", icon=":material/edit:"):
        c1, c2 = st.columns(2)
        with c1:
            new_name = st.text_input("New name", value=corpus.name, key=f"rename_{corpus.id}")
            if st.button("Rename", key="rename_btn"):
                with guard("renaming"):
                    rename_corpus(ws, corpus.id, new_name)
                    st.rerun()
        with c2:
            sure = st.checkbox(f"Yes, delete {md(corpus.name)}", key=f"confirm_delete_{corpus.id}")
            if st.button("Delete", disabled=not sure, key="delete_btn"):
                with guard("deleting"):
                    delete_corpus(ws, corpus.id)
                    st.session_state.pop(INSPECT_KEY, None)
                    st.rerun()


corpus = by_id[corpus_id]
problem = corpus.problem()
if problem:
    st.error(f"{md(corpus.name)} is damaged ({md(problem)}): delete it, or add it again.",
             icon=":material/broken_image:")
    manage(corpus)
    st.stop()
stats = corpus.stats
tables = corpus_tables(str(ws.root), corpus.id)
vocab: pd.DataFrame = tables["vocab"]

st.caption(f"Source: {md(corpus.params.get('source') or '?')} · "
           f"{corpus.preprocessing.describe()}"
           f" · added {corpus.created_at.replace('T', ' ')[:16]} UTC")
m = st.columns(5)
m[0].metric("Documents", fmt_int(stats["documents"]))
m[1].metric("Sentences", fmt_int(stats["sentences"]))
m[2].metric("Tokens", fmt_int(stats["tokens"]))
m[3].metric("Vocabulary", fmt_int(stats["vocabulary"]))
m[4].metric("Type/token ratio", f"{stats['type_token_ratio']:.3f}",
            help="Distinct terms / tokens. Falls as a corpus grows; compare corpora of similar size.")
if is_image_corpus(corpus):      # its documents are the images' captions; the Images page does the rest
    st.markdown("**Images**, each document's caption below it")
    corpus_view(corpus)

left, right = st.columns(2)
with left:
    st.markdown("**Top terms**")
    hide_stop = st.toggle("Hide stopwords in this table", value=True, key="hide_stop",
                          help="Display only; the corpus keeps them unless removed in preprocessing.")
    shown = vocab
    if hide_stop:
        from gensim.parsing.preprocessing import STOPWORDS

        shown = vocab[~vocab["term"].str.lower().isin(STOPWORDS)]
    st.dataframe(
        shown.head(200), hide_index=True, height=380, width="stretch",
        column_config={
            "term": st.column_config.TextColumn("term"),
            "count": st.column_config.ProgressColumn("count", format="localized", min_value=0,
                                                     max_value=int(shown["count"].max()) if len(shown) else 1),
            "documents": st.column_config.NumberColumn("documents", help="document frequency", format="localized"),
        },
    )
with right:
    st.markdown("**Rank / frequency (Zipf)**")
    fig = zipf_figure(vocab)
    plotly_chart(fig, width="stretch", key="zipf")

left, right = st.columns(2)
with left:
    phrases = tables["phrases"]
    prep = corpus.preprocessing
    st.markdown(f"**Detected phrases**, most used first (score: {SCORER_NAMES[prep.phrase_scoring]} ≥ "
                f"{prep.phrase_threshold:g})")
    if phrases.empty:
        st.caption("No phrases: phrase detection was off, or no pair passed the threshold.")
    else:
        st.dataframe(phrases.head(200), hide_index=True, height=320, width="stretch",
                     column_config={"score": st.column_config.NumberColumn("score", format="%.3f"),
                                    "count": st.column_config.NumberColumn("count", format="localized")})
with right:
    st.markdown("**Document length**")
    docs = tables["documents"]
    if len(docs) < 3:
        st.caption(f"{plural(len(docs), 'document')} of {', '.join(fmt_int(n) for n in docs['tokens'])} tokens.")
    else:
        hist = length_histogram(docs["tokens"])
        plotly_chart(hist, width="stretch", key="doclen")

st.markdown("**Files**")
files_table = pd.DataFrame(stats.get("files", []))
for column in files_table.select_dtypes("object"):   # a zip's own row has no encoding or note: blank, not "None"
    files_table[column] = files_table[column].fillna("")
st.dataframe(files_table, hide_index=True, width="stretch", column_config={
    c: st.column_config.NumberColumn(format="localized") for c in ("bytes", "documents", "skipped", "tokens")})

manage(corpus)
