"""The upload form's preview: what the settings make of the text before anything is saved,
the phrases they detect and the boilerplate lines they drop."""

import streamlit as st

from embeddings.display import plural
from embeddings.text.boilerplate import strip_boilerplate
from embeddings.text.preprocess import Preprocessing, preview_phrases
from pages.ui.jobs import guard
from pages.ui.text import md


def show_preview(key: str, documents, prep: Preprocessing) -> None:
    """A 'Preview' button: the boilerplate lines that would be dropped and the phrases that
    would be detected (``documents``: a callable, so nothing is read until asked)."""
    if not st.button("Preview", icon=":material/visibility:", key=f"preview_{key}",
                     help="Boilerplate lines and phrases on the text (phrases on its first 2 million characters), "
                          "without saving anything."):
        return
    with guard("the preview"), st.spinner("Reading the text…"):
        docs = documents()
        if prep.boilerplate:
            docs, report = strip_boilerplate(docs)
            st.markdown(f"**Boilerplate**: {md(report.sentence())}")
            if report.examples:
                st.dataframe([{"line": t, "documents": n} for t, n in report.examples], hide_index=True,
                             width="stretch", key=f"preview_boilerplate_{key}",
                             column_config={"documents": st.column_config.NumberColumn(format="localized")})
        if prep.phrases == "none":
            return
        pv = preview_phrases(docs, prep)
        what = (f"the first {pv.documents:,} of {pv.total:,} documents" if pv.partial
                else f"all {plural(pv.total, 'document')}")
        if pv.table.empty:
            st.info(f"No phrase passes {md(prep.describe())} on {what}.", icon=":material/visibility:")
            return
        st.markdown(f"**{plural(len(pv.table), 'phrase')}** on {what}, most used first (nothing saved yet):")
        st.dataframe(pv.table.head(100), hide_index=True, height=260, width="stretch", key=f"preview_table_{key}",
                     column_config={"score": st.column_config.NumberColumn(format="%.3f"),
                                    "count": st.column_config.NumberColumn(format="localized")})
