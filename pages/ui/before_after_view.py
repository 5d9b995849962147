"""The Customise page's *Before and after*: a fine-tuned space against its base, on the
held-out documents, with the domain terms' neighbours and the loss curve."""

import pandas as pd
import streamlit as st

from embeddings.errors import EmbeddingsError
from embeddings.evaluate.before_after import K, base_of, before_after
from embeddings.evaluate.qrels import load_set
from embeddings.evaluate.retrieval import prepared
from embeddings.figures.customise import loss_figure, moved_figure
from embeddings.models import add_pretrained
from embeddings.models.sentence import encoder_folder, load_encoder
from embeddings.store.cards import SpaceCard
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import get_corpus
from pages.common import label_columns_of, space
from pages.ui.defaults import remember_made
from pages.ui.jobs import cancellable, flash, guard, progress_reporter
from pages.ui.retrieval_view import changes_section
from pages.ui.text import md, plotly_chart


def _encoder(ws: Workspace, name: str):
    return load_encoder(str(encoder_folder(ws, name)))


def _retrieval_set(ws: Workspace, run: dict):
    """The retrieval set a retrieval fine-tune was trained on, or None (another method, or the set is gone)."""
    record = run.get("retrieval")
    if not record:
        return None
    try:
        return load_set(ws, record["queries_id"])
    except EmbeddingsError:
        st.caption(f"The retrieval set it was trained on ({md(record['queries'])}) is gone: no retrieval comparison.")
        return None


def before_after_view(ws: Workspace, cards: dict[str, SpaceCard]) -> None:
    tuned_names = [n for n, c in cards.items() if c.is_finetuned]
    if not tuned_names:
        st.info("No fine-tuned model yet: fine-tune one in the **Fine-tune** tab, then compare it with its base here.",
                icon=":material/model_training:")
        return
    c1, c2 = st.columns([3, 2])
    tuned_name = c1.selectbox("Fine-tuned space", tuned_names, key="ba_tuned", index=len(tuned_names) - 1)
    tuned = space(cards[tuned_name].id)
    run = tuned.provenance["finetune"]
    corpus = get_corpus(ws, tuned.provenance["corpus_id"])
    base = base_of(tuned, [space(c.id) for c in cards.values() if c.documents_of(corpus.name)])
    if base is None:
        st.info(f"To compare, the base encoder ({md(run['base'])}) must encode the documents of {md(corpus.name)} "
                "too.", icon=":material/info:")
        if st.button(f"Encode {corpus.name} with the base", key="ba_make", icon=":material/add:"):
            with guard("encoding with the base"):
                progress, done = progress_reporter("Encoding with the base")
                try:
                    made = add_pretrained(ws, run["base"], f"{corpus.name}-base-of-{tuned_name}", corpus=corpus.id,
                                          unit="document", progress=progress)
                finally:
                    done()
                flash(f"Added **{md(made.name)}**.")
                remember_made(made.name)
                st.rerun()
        return
    columns = label_columns_of(corpus.id)
    label = run["params"].get("label") or (c2.selectbox("Label column", columns, key="ba_label") if columns else None)
    split = run["split"]
    st.caption(f"**{md(tuned_name)}**: {md(run['method'])} from {md(run['base'])} on {split['train_documents']:,} "
               f"training documents of {md(corpus.name)} ({run['texts']:,} texts, {run['steps']:,} steps, "
               f"{run['seconds']:.0f} s, seed {run['params']['seed']}); {split['held_out_documents']:,} held out. "
               f"Base: **{md(base.name)}**.")
    qset = _retrieval_set(ws, run)
    signature = (tuned.id, base.id, label, qset.id if qset else None)
    results = st.session_state.setdefault("_ba_results", {})
    if signature not in results:
        with guard("the comparison"), cancellable("ba", "The comparison", signature):
            progress, done = progress_reporter("Comparing")
            try:
                results[signature] = before_after(tuned, base, corpus, label, tuned_encoder=_encoder(ws, tuned_name),
                                                  base_encoder=_encoder(ws, run["base"]), qset=qset,
                                                  search=prepared(ws, [base, tuned]) if qset else None,
                                                  progress=progress)
            finally:
                done()
    view = results.get(signature)
    if view is None:
        return
    if view.retrieval is not None:
        changes_section(ws, corpus, view.retrieval, base.name, tuned_name)
    st.subheader("Task scores on the held-out documents")
    if view.benchmark is None:
        st.caption("The corpus has no label column: no task scores (the neighbours and the loss still show).")
    else:
        bench = view.benchmark
        for note in bench.notes:
            st.caption(md(note))
        st.dataframe(bench.leaderboard(text=True), hide_index=True, width="stretch", key="ba_board")
        pairs = pd.DataFrame([d.row() for d in bench.pairs])
        pairs["fine-tuned − base"] = [(-1 if a == base.name else 1) * v for a, v in zip(pairs["a"], pairs["difference"])]
        pairs["interval"] = [f"{-h:+.3f} to {-lo:+.3f}" if a == base.name else f"{lo:+.3f} to {h:+.3f}"
                             for a, lo, h in zip(pairs["a"], pairs["low"], pairs["high"])]
        st.dataframe(pairs[["task", "metric", "fine-tuned − base", "interval", "verdict"]], hide_index=True,
                     width="stretch", key="ba_pairs",
                     column_config={"fine-tuned − base": st.column_config.NumberColumn(format="%+.3f")})
        st.caption(f"Paired on the same folds and queries; {pairs['confidence'].iloc[0]:.0%} intervals. A difference "
                   "counts only when its interval excludes zero.")
    left, right = st.columns(2)
    with left:
        st.subheader("How far the domain's words moved")
        plotly_chart(moved_figure(view.terms, K), width="stretch", key="ba_moved")
        known = view.terms["overlap"].notna()
        st.caption(f"The corpus's {int(known.sum())} most domain-specific terms: each one's {K} nearest among its "
                   f"frequent words, in the base and in the fine-tuned model. Mean overlap "
                   f"{view.terms.loc[known, 'overlap'].mean():.2f}.")
    with right:
        st.subheader("Training loss")
        plotly_chart(loss_figure(view.loss_curve), width="stretch", key="ba_loss")
        st.caption(f"Final loss: {run['final_loss']:.4g} ({len(view.loss_curve):,} logged steps)."
                   if run.get("final_loss") is not None else "No loss was logged.")
        if run["method"] == "supervised":
            st.caption("The triplet loss is averaged over the triplets that still break the margin: as training "
                       "separates the labels, fewer remain, the hardest ones, and the average can rise. Judge the run "
                       "by the held-out scores.")
    st.dataframe(view.terms.rename(columns={"base": f"neighbours in {base.name}",
                                            "tuned": f"neighbours in {tuned_name}"}),
                 hide_index=True, width="stretch", key="ba_terms",
                 column_config={"overlap": st.column_config.NumberColumn(format="%.2f", width=70),
                                f"neighbours in {base.name}": st.column_config.TextColumn(width=300),
                                f"neighbours in {tuned_name}": st.column_config.TextColumn(width=300)})
