"""Home: what the app is for, and the workspace at a glance."""

import pandas as pd
import streamlit as st

from pages.common import corpora, fmt_int, workspace

st.title("Embedding Explorer")
st.markdown(
    "Bring a corpus, train or pick embedding models, and compare them side by side: "
    "projections, nearest neighbours, neighbourhood overlap, bias probes and a domain-vocabulary audit. "
    "Everything runs on this machine; nothing is sent anywhere."
)

ws = workspace()
items = corpora()
counts = ws.counts()

c1, c2, c3 = st.columns(3)
c1.metric("Corpora", counts["corpus"])
c2.metric("Tokens in all corpora", fmt_int(sum(c.stats["tokens"] for c in items)))
c3.metric("Embedding spaces", counts["space"])

st.subheader("Corpora in this workspace")
if items:
    table = pd.DataFrame(
        [
            {
                "name": c.name,
                "documents": c.stats["documents"],
                "sentences": c.stats["sentences"],
                "tokens": c.stats["tokens"],
                "vocabulary": c.stats["vocabulary"],
                "source": c.params.get("source", ""),
                "added": c.created_at.replace("T", " ")[:16],
            }
            for c in items
        ]
    )
    count = st.column_config.NumberColumn(format="localized")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={k: count for k in ("documents", "sentences", "tokens", "vocabulary")})
else:
    st.info("The workspace holds no corpus yet. Add one on the Corpora page.")

st.page_link("pages/corpus.py", label="Add or inspect a corpus", icon=":material/library_books:")

with st.expander("What can I do here?"):
    st.markdown(
        "- **Explore**: bring your own text (txt, md, csv, jsonl, html, pdf, docx or a zip of them), "
        "or start from a bundled sample, and see its vocabulary, phrases and Zipf curve.\n"
        "- **Demo**: the workspace opens on the Lee news corpus, ready to show.\n"
        "- **Audit**: compare a domain corpus against general-purpose models to see which terms they miss."
    )
