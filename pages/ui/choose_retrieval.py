"""The Choose page's retrieval on your own queries: add a retrieval set, pick the systems, run."""

from __future__ import annotations

import streamlit as st

from embeddings.evaluate.qrels import add_set, list_sets, load_set
from embeddings.evaluate.retrieval import evaluate, prepared
from embeddings.evaluate.search import ANN_ABOVE, BM25, RetrievalParams
from embeddings.evaluate.selfmade import HEADING, METHODS, SelfMadeParams, make_set
from embeddings.store.cards import SpaceCard
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import Corpus
from embeddings.text.ingest import META_PREFIX
from pages.common import space
from pages.ui.jobs import cancellable, flash, guard, progress_reporter
from pages.ui.options import option_number
from pages.ui.retrieval_view import show_result
from pages.ui.text import md

RESULT = "_rt_result"       #: the session's last result, with the choices it answers
UPLOAD_TYPES = ["csv", "jsonl", "tsv", "zip"]


def add_set_form(ws: Workspace, corpus: Corpus) -> None:
    with st.expander("Add your queries", icon=":material/add_circle:"):
        st.caption("A CSV of *query, document* (the document's id or its exact text) with an optional "
                   "*relevance* column, or BEIR's `queries.jsonl` with a qrels `.tsv` (loose or in one zip). "
                   f"Documents are matched in {md(corpus.name)} by an `_id`-like field or their text.")
        files = st.file_uploader("Files", type=UPLOAD_TYPES, accept_multiple_files=True, key="rt_files") or []
        c1, c2 = st.columns(2)
        name = c1.text_input("Name", placeholder=f"{corpus.name}-queries", key="rt_name") or f"{corpus.name}-queries"
        id_field = c2.text_input("Id field (optional)", key="rt_id_field", placeholder="_id").strip() or None
        if st.button("Add the queries", type="primary", disabled=not files, key="rt_add"):
            with guard("adding the queries"):
                qset = add_set(ws, name, corpus.id, {f.name: f.getvalue() for f in files}, id_field=id_field)
                flash(f"Added **{md(qset.name)}**: {len(qset.queries):,} queries, {len(qset.qrels):,} judgements.")
                st.session_state["rt_set"] = qset.id
                st.rerun()
    with st.expander("No queries? Make some from the corpus (a proxy)", icon=":material/auto_fix:"):
        c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
        fields = [c[len(META_PREFIX):] for c in corpus.documents().columns if c.startswith(META_PREFIX)]
        usable = "heading" if HEADING in fields else "title" if fields else "cloze"
        method = c1.radio("How", list(METHODS), index=list(METHODS).index(usable), format_func=METHODS.get,
                          key="rt_make_method")
        column = c2.selectbox("Title column", fields, key="rt_make_column") if method == "title" else None
        n = option_number("Queries", SelfMadeParams, "queries", key="rt_make_n", where=c3)
        train = option_number("Kept for training", SelfMadeParams, "train_share", key="rt_make_train", where=c4)
        if st.button("Make the queries", key="rt_make"):
            with guard("making the queries"):
                qset = make_set(ws, f"{corpus.name}-{method}", corpus.id, method, column=column,
                                params=SelfMadeParams(queries=int(n), train_share=float(train)))
                flash(f"Made **{md(qset.name)}**: {len(qset.queries):,} queries ({md(qset.source)}).")
                st.session_state["rt_set"] = qset.id
                st.rerun()


def retrieval_section(ws: Workspace, corpus: Corpus, cards: dict[str, SpaceCard]) -> None:
    """Which system finds the documents *your* queries need: BM25, dense and hybrid search."""
    st.subheader("Retrieval on your queries")
    st.caption("Search the way your users will: your own questions and the documents that answer them. "
               "nDCG@10 is the main reading (as in MTEB and BEIR); every two systems are compared on the same "
               "queries.")
    add_set_form(ws, corpus)
    sets = list_sets(ws, corpus.id)
    if not sets:
        st.info(f"No queries for {md(corpus.name)} yet: add some above.")
        return
    ids = [a.id for a in sets]
    if st.session_state.get("rt_set") not in ids:
        st.session_state["rt_set"] = ids[-1]
    labels = {a.id: f"{a.name} ({a.summary.get('queries', 0):,} queries)" for a in sets}
    encoders = [n for n, c in cards.items() if c.embeds_text]
    chosen = st.multiselect("Dense systems (document spaces that embed a query)", encoders,   # a row of its own:
                            key=f"rt_spaces_{corpus.id}", default=encoders[:2])         # long names' chips fit
    c1, c3, c4 = st.columns([5, 2, 2])
    set_id = c1.selectbox("Queries", ids, key="rt_set", format_func=labels.get)
    bm25 = c3.toggle(BM25, value=True, key="rt_bm25", help="bm25s over the corpus's own tokens")
    hybrid = c4.toggle("Hybrids", value=False, key="rt_hybrid", disabled=not chosen,
                       help="BM25 fused with each dense system by reciprocal rank fusion")
    rrf_k = option_number("Fusion k", RetrievalParams, "rrf_k", key="rt_rrf_k", where=c4) if hybrid else \
        RetrievalParams().rrf_k
    st.caption("A pooled word space pools the query's words as it pooled the documents; TF-IDF + LSA is refitted "
               "on the corpus with its recorded settings to embed the query. Neither joins phrases in a query.")
    large = [n for n in chosen if cards[n].vocabulary > ANN_ABOVE]
    exact = st.toggle("Exact search", value=False, key="rt_exact", help=f"{', '.join(large)} are searched through "
                      "their approximate index (HNSW); on, every document is scored.") if large else False
    choices = (set_id, tuple(chosen), bm25, hybrid, int(rrf_k), exact)
    if st.button("Run", type="primary", key="rt_run", icon=":material/play_arrow:", disabled=not (bm25 or chosen)):
        with guard("the retrieval benchmark"), cancellable("rt", "The retrieval benchmark"):
            progress, done = progress_reporter("Searching")
            result = evaluate(corpus, load_set(ws, set_id), **prepared(ws, [space(cards[n].id) for n in chosen]), bm25=bm25,
                              hybrid=chosen if hybrid else (), params=RetrievalParams(rrf_k=int(rrf_k), exact=exact),
                              progress=progress)
            done()
            st.session_state[RESULT] = (choices, result)
    last = st.session_state.get(RESULT)
    if last and last[0] == choices:
        show_result(ws, corpus, last[1])
    elif last:
        st.caption("The choices changed since the last run: press Run for their results.")
