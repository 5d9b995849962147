"""A retrieval result: the leaderboard, the paired verdicts, and the queries two systems disagree on,
each opening both systems' top 5 side by side."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st
from gensim.parsing.preprocessing import STOPWORDS

from embeddings.evaluate.ir import MAIN, METRICS
from embeddings.evaluate.qrels import RetrievalSet, document_names, load_set
from embeddings.evaluate.retrieval import RetrievalResult
from embeddings.evaluate.search import HIT_AT
from embeddings.figures.tasks import pareto_figure
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import Corpus
from pages.ui.text import download_name, md, plotly_chart

SHOWN = 5       #: documents shown per system for a query


def _board(result: RetrievalResult) -> None:
    board = result.leaderboard()
    board["95% interval"] = [f"{lo:.3f} to {hi:.3f}" for lo, hi in zip(board[f"{MAIN} low"], board[f"{MAIN} high"])]
    st.dataframe(board[["system", MAIN, "95% interval", *METRICS[1:], "queries", "ms per query"]], hide_index=True,
                 width="stretch", key="rt_board",
                 column_config={m: st.column_config.NumberColumn(m, format="%.3f", width=72) for m in METRICS}
                 | {"ms per query": st.column_config.NumberColumn("ms/query", format="%.1f", width=64),
                    "queries": st.column_config.NumberColumn(width=56),
                    "95% interval": st.column_config.TextColumn(width=100),
                    "system": st.column_config.TextColumn(width=190)})
    st.caption(f"Means over {result.n_queries:,} queries; the interval is a bootstrap over the queries. Higher is "
               f"better for every metric. BM25: k1 = {result.params.k1:g}, b = {result.params.b:g}; fusion "
               f"k = {result.params.rrf_k}.")
    if result.pairs:
        pairs = pd.DataFrame([d.row() for d in result.pairs])
        pairs["interval"] = [f"{lo:+.3f} to {hi:+.3f}" for lo, hi in zip(pairs["low"], pairs["high"])]
        pairs["verdict"] = ["a is better" if lo > 0 else "b is better" if hi < 0 else "no detectable difference"
                            for lo, hi in zip(pairs["low"], pairs["high"])]
        st.dataframe(pairs[["a", "b", "difference", "interval", "verdict"]], hide_index=True, width="stretch",
                     key="rt_pairs", column_config={
                         "a": st.column_config.TextColumn(width=160), "b": st.column_config.TextColumn(width=160),
                         "difference": st.column_config.NumberColumn(f"{MAIN}: a − b", format="%+.3f", width=110),
                         "interval": st.column_config.TextColumn(width=120),
                         "verdict": st.column_config.TextColumn(width=200)})
        st.caption(f"{result.pairs[0].method}: a pair differs when its interval leaves out 0.")


def _chart(result: RetrievalResult) -> None:
    plotly_chart(pareto_figure(result.points(), "your queries", MAIN, speed="queries_per_second",
                               speed_title="queries per second on this machine", unit="queries"),
                 width="stretch", key="rt_pareto")
    st.caption("Green: the Pareto frontier, where no other system is both better and faster. Error bars: the 95% "
               "interval over the queries. A hybrid's time is its two systems' together.")


def _highlighted(text: str, terms: set[str], limit: int = 300) -> str:
    """A document's opening as literal text, the query's words in bold."""
    text = " ".join(text.split())[:limit]
    def literal(part: str) -> str:          # md() trims: keep the spaces around punctuation
        lead, trail = " " if part[:1].isspace() else "", " " if part[-1:].isspace() else ""
        return f"{lead}{md(part)}{trail}" if part.strip() else part

    return "".join(f"**{md(p)}**" if p.lower() in terms else literal(p) for p in re.split(r"(\w+)", text))


def _side_by_side(corpus: Corpus, qset: RetrievalSet, result: RetrievalResult, a: str, b: str, qid: str,
                  names: list[str]) -> None:
    query = qset.texts().get(qid, "")
    judged = qset.judged().get(qid, {})
    terms = {w.lower() for w in re.findall(r"\w+", query) if len(w) > 2} - STOPWORDS   # "the", "are" say nothing
    docs = corpus.documents().set_index("doc")
    st.markdown(f"**Query {md(qid)}:** {md(query)}")
    for column, system in zip(st.columns(2), (a, b)):
        with column:
            st.markdown(f"**{md(system)}**")
            for rank, doc in enumerate(result.runs[system].get(qid, [])[:SHOWN], start=1):
                mark = f":green[:material/check_circle: **relevant** ({judged[doc]})]" if judged.get(doc, 0) > 0 else "·"
                st.markdown(f"{rank}. {mark} — {md(names[doc])}: "
                            f"{_highlighted(str(docs.loc[doc, 'text']), terms)}")


def _pick_query(ws: Workspace, corpus: Corpus, result: RetrievalResult, table: pd.DataFrame, a: str, b: str,
                key: str, names: list[str]) -> None:
    """The table with each query's text, and the picked query's two top 5s side by side."""
    qset = load_set(ws, result.set_name)
    texts = qset.texts()
    table.insert(1, "query", [texts.get(q, "") for q in table["qid"]])
    def number(c: str):          # "nDCG@10 <system>" is headed by the system: the caption names the metric
        label = {"gap": "A − B", "change": "after − before"}.get(c, c.removeprefix(f"{MAIN} "))
        return st.column_config.NumberColumn(label, format="%+.3f" if c in ("gap", "change") else "%.3f", width=96,
                                             help=f"{MAIN} of the query" + (", the difference" if c in ("gap", "change")
                                                                             else f" for {c.removeprefix(MAIN)}"))

    st.dataframe(table, hide_index=True, width="stretch", key=f"{key}_table",
                 column_config={c: number(c) for c in table.columns if c not in ("qid", "query", "found by")}
                 | {"qid": st.column_config.TextColumn(width=100), "query": st.column_config.TextColumn(width=260)})
    qid = st.selectbox("Query", list(table["qid"]), key=f"{key}_query",
                       format_func=lambda q: f"{q}: {' '.join(texts.get(q, '').split())[:80]}")
    _side_by_side(corpus, qset, result, a, b, qid, names)


def show_result(ws: Workspace, corpus: Corpus, result: RetrievalResult) -> None:
    names = document_names(corpus)          # what the views and the run file call each document
    _board(result)
    _chart(result)
    for note in result.notes[1:]:
        st.caption(md(note))
    systems = result.systems
    if len(systems) >= 2:
        st.markdown("**Where two systems disagree**")
        c1, c2 = st.columns(2)
        a = c1.selectbox("System A", systems, index=0, key="rt_a")
        b = c2.selectbox("System B", [s for s in systems if s != a], index=0, key="rt_b")
        table = result.disagreements(a, b)
        if table.empty:
            st.caption(f"No query is found (a relevant document in the top {HIT_AT}) by one of them and not the other.")
        else:
            st.caption(f"{len(table):,} queries found by one system in its top {HIT_AT} and not by the other, the "
                       f"largest gap in {MAIN} first (A − B: positive where A does better); pick one to see both top 5s.")
            _pick_query(ws, corpus, result, table, a, b, "rt", names)
    d1, d2, _ = st.columns([2, 3, 3])
    d1.download_button("Per-query results (CSV)", result.per_query.to_csv(index=False).encode(),
                       download_name(result.set_name, "-per-query.csv"), key="rt_csv")
    best = result.leaderboard()["system"][0]
    d2.download_button(f"Run file of {best} (TREC)", result.run_file(best, names).encode(),
                       download_name(result.set_name, "-run.txt"), key="rt_run_file")


def changes_section(ws: Workspace, corpus: Corpus, result: RetrievalResult, base: str, tuned: str) -> None:
    """Before and after for a retrieval fine-tune: nDCG@10 of each on the set's evaluation
    queries, the paired difference (fine-tuned − base) and the queries that changed most."""
    st.subheader(f"Retrieval on {result.set_name}'s evaluation queries")
    board = result.leaderboard().set_index("system")
    d = result.difference(tuned, base)
    c1, c2, c3 = st.columns(3)
    c1.metric(f"{MAIN}, base", f"{board.loc[base, MAIN]:.3f}")
    c2.metric(f"{MAIN}, fine-tuned", f"{board.loc[tuned, MAIN]:.3f}", f"{d.difference:+.3f}" if d else None)
    if d is not None:
        c3.metric(f"{d.confidence:.0%} interval of the change", f"{d.low:+.3f} to {d.high:+.3f}")
        st.caption(f"{result.n_queries:,} queries never trained on; {d.method}. Verdict: **{md(d.verdict)}**.")
    changed = result.changes(base, tuned)
    if changed.empty:
        st.caption("No query's nDCG@10 changed.")
        return
    st.caption(f"The {len(changed):,} queries that changed most (fine-tuned − base); pick one to see both top 5s.")
    _pick_query(ws, corpus, result, changed, tuned, base, "ba_rt", document_names(corpus))
