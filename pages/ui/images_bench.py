"""The Images page's benchmarks and adapter (Before and after). Not a page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from embeddings.figures.customise import loss_figure
from embeddings.images import adapter as ad, bench, finetune as ft
from pages.common import space, workspace
from pages.ui.jobs import cancellable, flash, guard, progress_reporter
from pages.ui.text import md, plotly_chart

NUMBER = st.column_config.NumberColumn(format="%.3f")
HOW = {"Adapter on frozen vectors": "Two linear maps (images, texts) trained with CLIP's contrastive loss on your "
       "pairs, in seconds; the encoder's weights do not change.",
       "Fine-tune the encoder": "sentence-transformers' trainer with the symmetric contrastive loss on your pairs: "
       "the encoder's weights change and every row is encoded again (minutes on a CPU for a real CLIP)."}
HOW_HELP = "Try the adapter first: if it does not pay on the held-out pairs, a fine-tune may."
#: the leaderboard's headers, short enough for 1,280 px (the caption says they are accuracies)
SHORT = {"zero-shot acc": "zero-shot", "probe acc": "probe", "majority acc": "majority", "i→c nDCG@10": "i→c nDCG",
         "c→i nDCG@10": "c→i nDCG"}


@st.cache_data(max_entries=32, show_spinner=False)
def _benchmark(root: str, ids: tuple[str, ...], label: str | None, template: str) -> bench.ImageBenchmark:
    return bench.benchmark_spaces(workspace(), {space(i).name: space(i) for i in ids}, label, template=template)


def verdicts(diffs) -> pd.DataFrame:
    return pd.DataFrame([{"comparison": f"{d.a} − {d.b}", "direction": d.task, "Δ nDCG@10": d.difference,
                          "low": d.low, "high": d.high, "verdict": d.verdict} for d in diffs])


def bench_view(corpus, choices: dict[str, str]) -> None:
    """Cross-modal retrieval of each chosen space, zero-shot against a linear probe, paired verdicts."""
    names = st.multiselect("Spaces", list(choices), default=list(choices)[:3], key="im_bench_spaces")
    c1, c2 = st.columns([1, 2])
    labels = corpus.label_columns()
    label = c1.selectbox("Label column (zero-shot and probe)", [None, *labels], index=1 if labels else 0,
                         key="im_label", format_func=lambda x: "none" if x is None else x)
    template = c2.text_input("Zero-shot template", value=bench.TEMPLATE, key="im_template", max_chars=200)
    if not names:
        return
    with guard("the benchmark"):
        b = _benchmark(str(workspace().root), tuple(choices[n] for n in names), label, template)
        board, diffs, shots, left_out, alike = b.board, b.differences, b.shots, b.left_out, b.alike
        counts = [c for c in board.columns if c.endswith(("queries", "images"))]
        shown = board.drop(columns=[*counts, "dim"]).rename(columns=SHORT)
        st.dataframe(shown, hide_index=True, width="stretch", column_config={
            c: st.column_config.NumberColumn(format="%.3f", width=72) for c in shown.columns if c != "space"} | {
            "images/s": st.column_config.NumberColumn(format="%.0f", width=72),
            "model MB": st.column_config.NumberColumn(format="%.1f", width=72),
            "space": st.column_config.TextColumn(width=140)})
        n = board.iloc[0]
        st.caption(f"nDCG at 10. n: {n['i→c queries']:,} image queries over the captions (i→c), {n['c→i queries']:,} distinct "
                   "captions over the images (c→i; images sharing a caption are all relevant)"
                   + (f"; accuracy of zero-shot, the probe and always answering the most frequent label on "
                      f"{n['test images']:,} held-out images" if shots else "")
                   + ". Only captions you gave count"
                   + (f"; the {left_out:,} images an adapter among these spaces trained on are left out for every "
                      "space" if left_out else "") + ". Dimensions: "
                   + ", ".join(f"{md(r.space)} {r.dim}" for r in board.itertuples()) + ".")
        if any(a for a, _ in alike.values()):
            st.warning("Captions that share their vector with another caption tie in every ranking (the model's "
                       "tokenizer knows none of their words): " + "; ".join(
                           f"{md(n)} {a:,} of {t:,}" for n, (a, t) in alike.items() if a) + ".",
                       icon=":material/warning:")
        if diffs:
            st.markdown("**Paired verdicts** (bootstrap over the same queries)")
            st.dataframe(verdicts(diffs), hide_index=True, width="stretch",
                         column_config={c: NUMBER for c in ("Δ nDCG@10", "low", "high")})
        for name, z in shots.items():
            d = z.difference()
            st.markdown(f"**{md(name)}**: linear probe {z.probe.mean():.3f} against zero-shot {z.zero_shot.mean():.3f} "
                        f"accuracy on the same {z.n_test:,} held-out images ({len(z.classes)} classes): "
                        f"{md(d.verdict)} ({d.difference:+.3f}, {d.low:+.3f} to {d.high:+.3f}).")
            st.caption(f"The probe: logistic regression on {z.n_train:,} images, C = {z.chosen_c:g} chosen by "
                       f"cross-validation on them. Zero-shot: “{md(template)}” per label. Macro-F1: probe "
                       f"{z.macro_f1['linear probe']:.3f}, zero-shot {z.macro_f1['zero-shot']:.3f}. Always answering "
                       f"“{md(z.majority[1])}” scores {z.majority[0]:.3f}.")
            if z.same_prompts:
                st.warning(f"{len(z.same_prompts)} labels' prompts get the same vector ({md(', '.join(z.same_prompts[:8]))}"
                           "): the model's tokenizer knows none of their words, so zero-shot cannot tell them apart.",
                           icon=":material/warning:")


def adapt_view(bases: dict[str, str], customised: list[str]) -> None:
    """Train an adapter on the corpus's pairs; then Before and after on the held-out pairs."""
    how = st.radio("How", list(HOW), key="im_how", horizontal=True, help=HOW_HELP)
    st.caption(HOW[how] + " Pairs are split by caption: no held-out image or caption is trained on.")
    if bases:
        tune = how == "Fine-tune the encoder"
        with st.form("im_adapt", border=True):
            c1, c2, c3 = st.columns([3, 3, 1])
            base = c1.selectbox("Base space", list(bases), key="im_adapt_base")
            name = c2.text_input("Name", value=f"{base}-{'tuned' if tune else 'adapted'}", key="im_adapt_name")
            epochs = c3.number_input("Epochs", 1, 500, ft.EPOCHS if tune else ad.EPOCHS, key=f"im_epochs_{tune}")
            go = st.form_submit_button("Fine-tune" if tune else "Train the adapter", icon=":material/tune:")
        if go:
            with guard("the customisation"), cancellable("im_adapt_job", "Customising"):
                progress, done = progress_reporter(f"{how} on {base}")
                try:
                    run = ft.finetune_clip if tune else ad.adapt_space
                    made = run(workspace(), bases[base], name, epochs=int(epochs), progress=progress)
                finally:
                    done()
                flash(f"Trained {md(made.name)}.")
                st.session_state["im_ba"] = made.name
                st.rerun()
    if not customised:
        return
    pick = st.selectbox("Before and after", customised, key="im_ba")
    with guard("Before and after"):
        ba = ad.adapter_before_after(workspace(), pick)
        run = ba.run
        cols = st.columns(len(ba.differences) or 1)
        made = "adapted" if run["method"] == "adapter" else "fine-tuned"
        for col, d in zip(cols, ba.differences):
            tuned = ba.per_space[ba.adapted][d.task][bench.MAIN].mean()
            real = d.low > 0 or d.high < 0                 # colour only a detectable change
            col.metric(f"nDCG@10 {d.task}, {made}", f"{tuned:.3f}", f"{d.difference:+.3f}",
                       delta_color="normal" if real else "off")
            col.caption(f"{md(d.verdict)}: {d.difference:+.3f} ({d.low:+.3f} to {d.high:+.3f}), "
                        f"{len(ba.per_space[ba.adapted][d.task]):,} held-out queries")
        how = (f"temperature {run['temperature']}, pull to the identity {run['anchor']}" if run["method"] == "adapter"
               else f"{run['steps']:,} steps of {run['batch_size']}" + (
                   f" (not {run['batch_size_asked']}: there are only {run['batch_size']} distinct training captions)"
                   if run.get("batch_size_asked", run["batch_size"]) > run["batch_size"] else "")
               + f", learning rate {run['learning_rate']:g}")
        kind = run["kind"][:1].upper() + run["kind"][1:]
        st.caption(f"{md(kind)}: {run['train_pairs']:,} training pairs, {run['held_out_pairs']:,} "
                   f"held out (never trained on), {run['epochs']} epochs in {run['seconds']:.1f} s; {how}.")
        plotly_chart(loss_figure(pd.DataFrame(run["loss_curve"], columns=["step", "loss"]), "Training loss",
                                 "epoch" if run["method"] == "adapter" else "step"), width="stretch", key="im_loss")
