"""The Choose page's parts: the "make a document space" form (pool a word space, the TF-IDF
baseline, or a sentence encoder over each document of the corpus) and the similarity-pairs
table."""

import streamlit as st

from embeddings.display import plural
from embeddings.models import add_baseline, add_pooled, add_pretrained
from embeddings.models.docspaces import LSA_DIM, POOLING, TFIDF_KINDS
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import Corpus
from pages.common import space_cards
from pages.ui.defaults import remember_made
from pages.ui.jobs import cancellable, flash, guard, progress_reporter
from pages.ui.text import md

#: the session key that carries a space just made to the next run's selection
NEW_SPACE = "_ch_new_space"
HOW = {"pool": "Pool a word space (mean or SIF)", "tfidf": "TF-IDF baseline (LSA)",
       "encoder": "Sentence encoder over each document"}


def make_document_space(ws: Workspace, corpus: Corpus) -> None:
    """A form that adds one document space of ``corpus``; the page reruns to include it."""
    with st.expander("Make a document space from this corpus", icon=":material/add_circle:"):
        how = st.radio("How", list(HOW), format_func=HOW.get, horizontal=True, key="mk_how")
        c1, c2, c3 = st.columns(3)
        words = [n for n, c in space_cards().items() if c.unit == "term" and not c.is_sentence_encoder]
        if how == "pool":
            source = c1.selectbox("Word space", words, key="mk_source")
            method = c2.radio("Pooling", POOLING, horizontal=True, key="mk_pool",
                              format_func={"mean": "mean", "sif": "SIF (Arora et al. 2017)"}.get)
            default = f"{corpus.name}-{source}-{method}"
        elif how == "tfidf":
            kind = c1.radio("n-grams", list(TFIDF_KINDS), horizontal=True, key="mk_kind",
                            format_func=lambda k: f"{k} {TFIDF_KINDS[k][0]}–{TFIDF_KINDS[k][1]}")
            lsa = int(c2.number_input("LSA dimensions", 2, 1024, LSA_DIM, key="mk_lsa"))
            default = f"{corpus.name}-tfidf-{kind}"
        else:
            model = c1.text_input("Model", value="minilm", key="mk_model",
                                  help="minilm, or the path of a local sentence-transformers folder")
            default = f"{corpus.name}-{model.rsplit('/', 1)[-1]}"
        name = c3.text_input("Name", placeholder=default, key="mk_name") or default
        if st.button("Make it", type="primary", key="mk_go", icon=":material/add:"):
            with guard("making the space"), cancellable("mk", f"Making {name}"):
                progress, done = progress_reporter(f"Making {name}")
                try:
                    if how == "pool":
                        new = add_pooled(ws, source, corpus.id, method, name)
                    elif how == "tfidf":
                        new = add_baseline(ws, corpus.id, name, kind=kind, lsa=lsa)
                    else:
                        new = add_pretrained(ws, model, name, corpus=corpus.id, unit="document", progress=progress)
                finally:
                    done()
                flash(f"Added **{md(new.name)}**: {plural(len(new), 'document')} × {new.dim} dimensions.")
                st.session_state[NEW_SPACE] = new.name      # selected on the rerun
                remember_made(new.name)
                st.rerun()


def show_similarity(ws: Workspace, upload, spaces: list, seed: int) -> None:
    """Score the chosen spaces on an uploaded pairs file (Spearman of cosine against gold)."""
    import pandas as pd

    from embeddings.analysis.similarity import MAX_PAIRS_BYTES, parse_sts, similarity_board
    from embeddings.errors import InputError
    from embeddings.readers import decode

    data = upload.getvalue()
    if len(data) > MAX_PAIRS_BYTES:
        raise InputError(f"{upload.name} is larger than {MAX_PAIRS_BYTES // 2**20} MB; split the pairs.")
    pairs = parse_sts(decode(upload.name, data)[0], upload.name)
    with st.spinner(f"Embedding {plural(2 * len(pairs), 'text')} in each space"):
        scores, refused = similarity_board(ws, spaces, pairs, seed=seed)
    if scores:
        table = pd.DataFrame([s.row() for s in scores])
        table["interval (95%)"] = [f"{lo:.3f} to {hi:.3f}" for lo, hi in zip(table["low"], table["high"])]
        table["pairs"] = [f"{n:,} of {t:,}" for n, t in zip(table["n"], table["total"])]
        st.dataframe(table[["space", "score", "interval (95%)", "pairs"]], hide_index=True, width="stretch",
                     key="ch_sts", column_config={"score": st.column_config.NumberColumn("Spearman", format="%.3f")})
    for name, why in refused.items():
        st.caption(f"{md(name)} left out: {md(why)}.")
