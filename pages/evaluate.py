"""Evaluate: analogy accuracy and word-pair correlations, spaces side by side, n (answered of total) next to every score."""

from pathlib import Path

import pandas as pd
import streamlit as st

from embeddings.errors import InputError
from embeddings.evaluate.intrinsic import BENCHMARKS, evaluate, evaluate_text
from embeddings.evaluate.scoreboard import MIN_COVERAGE, n_of, scoreboard
from embeddings.figures import scores_chart
from embeddings.readers import decode
from pages.common import space, spaces_or_stop, workspace, workspace_root
from pages.ui.defaults import follow_spaces
from pages.ui.demo_panel import wait_for_demo
from pages.ui.jobs import cancellable, guard, progress_reporter
from pages.ui.text import md, plotly_chart
from pages.ui.url import sync_query_params

st.title("Evaluate")
wait_for_demo(workspace(), "evaluate")
st.caption("The standard intrinsic benchmarks, scored exactly as gensim's evaluate_word_analogies and "
           "evaluate_word_pairs (top 300,000 words, case-insensitive, questions with unknown words skipped). "
           "A score computed on a fraction of the questions is not the same score: n (answered of total) is "
           "next to every number.")

choices = spaces_or_stop()
names = list(choices)
follow_spaces("ev_spaces", choices, 3, terms_only=True)
selected = st.multiselect("Spaces", names, key="ev_spaces")     # a row of its own: the chips fit at 1,280 px
benchmarks = st.multiselect("Benchmarks", list(BENCHMARKS), default=["ws353", "simlex"], key="ev_bench",
                            help="; ".join(f"{b}: {BENCHMARKS[b][1].split(',')[0]}" for b in BENCHMARKS)
                            + ". The analogy set (19,544 questions) takes about 20 s on GloVe's 300k words.")
upload = st.file_uploader("Your own benchmark: word pairs (word1<TAB>word2<TAB>score) or analogies (': section' "
                          "lines, then 'a b c d')", type=["txt", "tsv"], key="ev_upload")
sync_query_params(spaces=",".join(selected))


@st.cache_data(max_entries=64, show_spinner=False)
def run(root: str, space_id: str, bench: str, data: bytes | None, name: str | None):
    progress, done = progress_reporter(f"{bench} on {space(space_id).name}")
    try:
        if data is None:
            return evaluate(space(space_id), bench, progress=progress)
        return evaluate_text(space(space_id), decode(name or "benchmark.txt", data)[0], name or "benchmark.txt",
                             progress=progress)
    finally:
        done()


if not selected:
    st.info("Pick one or more spaces.")
    st.stop()
results = []
jobs = [(b, None, None) for b in benchmarks]
if upload is not None:
    jobs.append((Path(upload.name).stem, upload.getvalue(), upload.name))
signature = ([choices[n] for n in selected], benchmarks, upload.file_id if upload is not None else None)
with cancellable("ev", "The evaluation", signature):
    for bench, data, fname in jobs:
        for n in selected:
            with guard(f"{bench} on {n}"):
                try:
                    results.append(run(workspace_root(), choices[n], bench, data, fname))
                except InputError as exc:
                    st.warning(f"{md(bench)} on {md(n)}: {md(exc)}", icon=":material/block:")
if results:
    board = scoreboard(results)
    plotly_chart(scores_chart(board), width="stretch", key="ev_chart")
    st.caption(f"n = items answered of the benchmark's total. A score on fewer than {MIN_COVERAGE:.0%} of the items "
               "is hatched and left out of the ranking; *common score* scores every space on the questions all of "
               "them answer, so they are compared on the same questions.")
    best = board[board["rank"].eq(1).fillna(False).astype(bool)]
    unranked = board[~board["ranked"]]
    if len(selected) > 1 and not best.empty:
        st.markdown("**Best on each benchmark** (ranked spaces only): " + " · ".join(
            f"{md(b)}: {md(s)} ({v:.3f}, n {n_of(u, t)})"
            for b, s, v, u, t in best[["benchmark", "space", "score", "used", "total"]].itertuples(index=False)))
    if not unranked.empty:
        st.caption("Not ranked (under half the items answered): " + " · ".join(
            f"{md(s)} on {md(b)} ({n_of(u, t)})"
            for s, b, u, t in unranked[["space", "benchmark", "used", "total"]].itertuples(index=False)))
    table = board.assign(n=[n_of(u, t) for u, t in zip(board["used"], board["total"])],
                         common_n=[f"{c:,}" for c in board["common_n"]],
                         rank=["not ranked" if pd.isna(r) else f"{r}" for r in board["rank"]])
    st.dataframe(table[["benchmark", "space", "metric", "score", "n", "coverage", "rank", "common", "common_n",
                        "pearson"]],
                 hide_index=True, width="stretch", key="ev_board", column_config={
                     "score": st.column_config.NumberColumn(format="%.4f", width=65),
                     "space": st.column_config.TextColumn(width=100),
                     "n": st.column_config.TextColumn("n", width=75, help="pairs or questions answered, of the total"),
                     "coverage": st.column_config.NumberColumn(format="percent", width=75),
                     "benchmark": st.column_config.TextColumn(width=80),
                     "metric": st.column_config.TextColumn(width=80),
                     "rank": st.column_config.TextColumn("rank", width=75, help=f"1 = best; spaces under {MIN_COVERAGE:.0%} "
                                                                        "coverage are not ranked"),
                     "common": st.column_config.NumberColumn("common score", format="%.4f", width=95,
                                                             help="the score on the items every space answers"),
                     "common_n": st.column_config.TextColumn("common n", width=75),
                     "pearson": st.column_config.NumberColumn(format="%.4f", width=65)})
    analogy = [r for r in results if hasattr(r, "sections") and r.sections]
    if analogy:
        st.subheader("Analogy accuracy per section")
        sec = pd.DataFrame([{"space": r.space, "section": s["section"], "accuracy": s["score"],
                             "missing": s["missing_ratio"], "answered": s["answered"], "questions": s["questions"]}
                            for r in analogy for s in r.sections])
        st.dataframe(sec, hide_index=True, width="stretch", key="ev_sections", column_config={
            "accuracy": st.column_config.ProgressColumn(format="%.3f", min_value=0.0, max_value=1.0),
            "missing": st.column_config.NumberColumn(format="percent")})
    st.download_button("Download CSV", board.to_csv(index=False).encode(), "evaluation.csv", "text/csv",
                       icon=":material/download:", key="ev_csv")
