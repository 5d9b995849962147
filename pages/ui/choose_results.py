"""The Choose page's reading of a benchmark: is each difference real, and what the
classifier's setting does to the verdict (the two protocols, kNN, the C chosen per fold)."""

import pandas as pd
import streamlit as st

from embeddings.evaluate.benchmark import REDUCTIONS, Benchmark, dimension_curve
from embeddings.evaluate.classify import C_GRID, INNER_FOLDS, KNN_K, PROTOCOL_LABELS
from embeddings.evaluate.tasks import MAIN_METRIC
from embeddings.figures.tasks import dimension_figure
from pages.common import space
from pages.ui.jobs import guard, progress_reporter
from pages.ui.text import md, plotly_chart


def show_pairs(bench: Benchmark) -> None:
    st.subheader("Is the difference real?")
    pairs = pd.DataFrame([d.row() for d in bench.pairs])
    if not len(pairs):
        st.caption("One space: nothing to compare yet.")
        return
    pairs["interval"] = [f"{lo:+.3f} to {hi:+.3f}" for lo, hi in zip(pairs["low"], pairs["high"])]
    # the verdict names no space (a and b stand beside it), so the row fits at 1,280 px
    pairs["better"] = ["a" if lo > 0 else "b" if hi < 0 else "neither (within error)"
                       for lo, hi in zip(pairs["low"], pairs["high"])]
    st.dataframe(pairs[["task", "a", "b", "difference", "interval", "better"]], hide_index=True, width="stretch",
                 key="ch_pairs", column_config={
                     "difference": st.column_config.NumberColumn("a − b", format="%+.3f"),
                     "better": st.column_config.TextColumn(help="a beats b when the interval is above zero, b beats "
                                                                 "a when it is below; else no detectable difference")})
    st.caption(f"Paired on the same folds, seeds and queries; {pairs['confidence'].iloc[0]:.1%} intervals (95% "
               "with Bonferroni's correction for the pairs of a task). \"A beats B\" only when the interval excludes "
               "zero. Methods: " + "; ".join(sorted(set(pairs["method"]))) + ".")


def show_classification(bench: Benchmark) -> None:
    """The ranking changes between protocols beside the verdicts, and the readings table."""
    readings = bench.classification_readings()
    if not len(readings):
        return
    changes = bench.ranking_changes()
    if changes:
        st.warning("**The classification order depends on the classifier's setting.** "
                   + " ".join(md(c["sentence"]) + f" Paired test, {md(bench.protocol)}: {md(c['verdict'])}."
                              for c in changes), icon=":material/balance:")
    elif len(readings) > 1:
        st.caption("Both classifier settings (C tuned, and MTEB's C = 1) order the spaces alike on classification.")
    with st.expander("Classification readings: the classifier's setting, kNN and the C chosen",
                     icon=":material/tune:", expanded=bool(changes)):
        st.dataframe(readings, hide_index=True, width="stretch", key="ch_readings", column_config={
            **{c: st.column_config.NumberColumn(format="%.3f") for c in readings.columns if "F1" in c},
            "C per fold": st.column_config.TextColumn(help="the C the logistic regression used on each fold"),
            "C at the grid's edge": st.column_config.TextColumn(
                help="folds whose best C is an end of the grid: the best C may lie beyond it")})
        n = bench.labels.y.size
        folds = len(next(s.values for s in bench.scores if s.task == "classification"))
        st.caption(f"Main reading: {PROTOCOL_LABELS[bench.protocol]}; means over {folds} folds "
                   f"({bench.repeats} repeat(s) of the k-fold) of {n:,} documents. C tuned: chosen from "
                   f"{', '.join(f'{c:g}' for c in C_GRID)} by macro-F1 over {INNER_FOLDS} inner folds of each "
                   f"training fold alone (Newton-CG to tolerance 1e-6 along a warm-started path: the answer of a cold "
                   f"GridSearchCV). kNN: MTEB's k = {KNN_K} nearest training "
                   "documents by cosine vote.")


def dimension_section(corpus, label: str, cards: dict, chosen: list[str], tasks: list[str], folds: int,
                      seed: int) -> None:
    """How far a space's dimensions can go down before its score drops (PCA or truncation)."""
    with st.expander("How far can the dimensions go down?", icon=":material/compress:"):
        d1, d2, d3, d4 = st.columns([3, 2, 2, 2])
        pick = d1.selectbox("Space", chosen, key="ch_dim_space") if chosen else None
        dim_task = d2.selectbox("Task", tasks, key="ch_dim_task")
        matryoshka = bool(pick and (cards[pick].provenance.get("finetune") or {}).get("params", {}).get("matryoshka"))
        reduce = d3.radio("Cut by", REDUCTIONS, horizontal=True, key=f"ch_dim_reduce_{pick}", index=int(matryoshka),
                          format_func={"pca": "PCA", "truncate": "truncation"}.get,
                          help="PCA fitted without labels, or the first k coordinates: what a Matryoshka model is "
                               "trained for.")
        if pick and d4.button("Draw the curve", icon=":material/show_chart:", key="ch_dim_go"):
            with guard("the dimension curve"):
                progress, done = progress_reporter("Cutting and scoring")
                try:
                    curve, drop_at = dimension_curve(space(cards[pick].id), corpus, label, task=dim_task, folds=folds,
                                                     seed=seed, reduce=reduce, progress=progress)
                finally:
                    done()
                plotly_chart(dimension_figure(curve, MAIN_METRIC[dim_task], pick, drop_at, reduce), width="stretch",
                             key="ch_dim_chart")
                st.caption(f"{md(pick)} keeps its {MAIN_METRIC[dim_task]} down to "
                           + (f"{int(curve[curve['dim'] > drop_at]['dim'].min())} dimensions; at {drop_at} it falls "
                              "more than one std below the full space." if drop_at else
                              f"{int(curve['dim'].min())} dimensions (no drop of more than one std)."))
