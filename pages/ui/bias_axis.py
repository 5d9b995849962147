"""The Bias page's axis tab: a bias direction from word pairs, DirectBias and RIPA."""

import pandas as pd
import streamlit as st

from embeddings import bias
from embeddings.display import plural
from embeddings.errors import InputError
from embeddings.figures import axis_strip
from embeddings.glossary import GLOSSARY
from embeddings.text.wordlists import parse_pairs, parse_words
from pages.common import space
from pages.ui.jobs import guard
from pages.ui.text import download_name, md, md_list, plotly_chart


def axis_tab(choices: dict[str, str], chosen: list[str]) -> None:
    """Project words on the axis of the given pairs in each of the ``chosen`` spaces."""
    g = bias.bolukbasi_gender()
    c1, c2 = st.columns(2)
    pairs_text = c1.text_area("Word pairs (first word → second word)", height=180, key="axis_pairs",
                              value="\n".join(f"{a} {b}" for a, b in g["definitional_pairs"]),
                              help="Default: the definitional gender pairs of Bolukbasi et al. (2016).")
    words_text = c2.text_area("Words to project", height=180, key="axis_words",
                              value="\n".join(bias.neutral_professions()),
                              help="Default: the gender-neutral professions of Bolukbasi et al. (2016).")
    a1, a2, a3 = st.columns([4, 2, 2])
    axis_spaces = chosen
    a1.caption(f"On {md_list(chosen) or 'no space: choose spaces above'}.")
    method = a2.radio("Direction", ["pca", "pair"], horizontal=True, key="axis_method",
                      format_func=lambda m: "PCA of the pairs" if m == "pca" else "first pair's difference")
    c_exp = a3.slider("DirectBias c", 0.1, 3.0, 1.0, 0.1, key="axis_c")
    ripa_on = a3.radio("RIPA on", bias.RIPA_VECTORS, horizontal=True, key="axis_ripa_on",
                       format_func=lambda v: {"raw": "raw vectors (as published)", "normalised": "unit vectors"}[v],
                       help="Ethayarajh et al. define RIPA on the raw vectors, whose length carries frequency. "
                            "Spaces saved without their norms can only use the unit vectors, and say so.")
    with guard("the bias axis"):
        pairs = parse_pairs(pairs_text)
        words = parse_words(words_text)
        if not words:
            raise InputError("Give at least one word to project.")
        reports = {}
        for n in axis_spaces:
            sp = space(choices[n])
            try:
                reports[n] = bias.axis_report(sp, pairs, words, method=method, c=c_exp, ripa_on=ripa_on)
                if reports[n].axis.warning:
                    st.warning(f"{md(n)}: {md(reports[n].axis.warning)}", icon=":material/warning:")
            except InputError as exc:
                st.warning(f"{md(n)}: {md(exc)}", icon=":material/block:")
        if reports:
            summary = pd.DataFrame([{
                "space": n, "pairs used": len(r.axis.pairs), "pairs missing": len(r.axis.missing_pairs),
                "PC1 explained variance": r.axis.explained_variance[0], "words found": len(r.projections),
                "words missing": len(r.missing_words), f"DirectBias (c={c_exp:g})": r.direct_bias}
                for n, r in reports.items()])
            st.dataframe(summary, hide_index=True, width="stretch", key="axis_summary", column_config={
                "PC1 explained variance": st.column_config.NumberColumn(format="%.3f"),
                f"DirectBias (c={c_exp:g})": st.column_config.NumberColumn(format="%.4f",
                                                                           help=GLOSSARY["DirectBias"])})
            cols = st.columns(len(reports))
            for col, (n, r) in zip(cols, reports.items()):
                with col:
                    st.markdown(f"**{md(n)}**")
                    plotly_chart(axis_strip(r.projections, r.axis.ends), width="stretch",
                                 key=f"axis_strip_{choices[n]}")
                    if r.missing_words:
                        st.caption(f"Not in {md(n)}: {plural(len(r.missing_words), 'word')} "
                                   f"({md_list(r.missing_words[:12])}{' …' if len(r.missing_words) > 12 else ''})")
            r1, r2 = st.columns([2, 5])
            ripa_space = r1.selectbox("RIPA per pair, in", list(reports), key="axis_ripa_space")
            rep = reports[ripa_space]
            r2.caption("RIPA β(w; b) = ⟨w, b⟩ with b = (x − y)/‖x − y‖ for each pair (x, y) (Ethayarajh et al. "
                       f"2019), here on the **{rep.ripa_vectors}** vectors; positive leans towards the pair's first "
                       "word." + (f" {md(rep.ripa_note)}" if rep.ripa_note else ""))
            st.dataframe(rep.ripa.reset_index(), hide_index=True, width="stretch", height=300, key="axis_ripa")
            st.download_button("Download projections and RIPA (CSV)",
                               rep.projections.merge(rep.ripa.reset_index(), on="word").to_csv(index=False).encode(),
                               download_name(f"axis-{ripa_space}", ".csv"), "text/csv", icon=":material/download:",
                               key="axis_csv")
