"""Home: what the app is for, and the workspace at a glance."""

import pandas as pd
import streamlit as st

from embeddings.glossary import GLOSSARY
from pages.common import corpora, workspace
from pages.ui.demo_panel import demo_panel
from pages.ui.text import fmt_int

st.title("Embedding Explorer")
st.markdown(
    "Bring a corpus, train or pick embedding models, and compare them side by side: "
    "projections with a trust score, nearest neighbours and vector expressions, and how each word's "
    "neighbourhood changes between two models; then **choose**: which embedding works best on your own labelled "
    "data, and what it costs. Everything runs on this machine; nothing is sent anywhere."
)

ws = workspace()
demo_panel(ws)
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

st.subheader("Where to go")
links = st.columns(3)
links[0].page_link("pages/corpus.py", label="Bring a corpus", icon=":material/library_books:")
links[1].page_link("pages/models.py", label="Train or pick a model", icon=":material/model_training:")
links[2].page_link("pages/projection.py", label="See spaces in 2-D", icon=":material/scatter_plot:")
links[0].page_link("pages/neighbours.py", label="Ask for neighbours", icon=":material/hub:")
links[1].page_link("pages/compare.py", label="Compare two models", icon=":material/compare_arrows:")
links[2].page_link("pages/bias.py", label="Probe for bias", icon=":material/balance:")
links[0].page_link("pages/audit.py", label="Audit a domain's vocabulary", icon=":material/fact_check:")
links[1].page_link("pages/evaluate.py", label="Score on benchmarks", icon=":material/leaderboard:")
links[2].page_link("pages/choose.py", label="Choose an embedding for your task", icon=":material/emoji_events:")
links[0].page_link("pages/customise.py", label="Fine-tune or distil an encoder", icon=":material/tune:")
links[1].page_link("pages/context.py", label="See words in context", icon=":material/blur_on:")
links[2].page_link("pages/images.py", label="Put images and texts in one space", icon=":material/image:")

with st.expander("What can I do here?"):
    st.markdown(
        "- **Explore**: bring your own text (txt, md, csv, jsonl, html, pdf, docx or a zip of them), "
        "or start from a bundled sample; train Word2Vec, FastText or a count-based model on it, or take "
        "MiniLM or GloVe; then look at the spaces side by side.\n"
        "- **Demo**: the workspace opens on the Lee news corpus with four models, and on Python's docstrings "
        "labelled by area with document spaces (MiniLM among them, fine-tuned and distilled too) and their "
        "benchmark, ready to show.\n"
        "- **Choose**: score each model on your own labels (classification, clustering, retrieval, as MTEB "
        "does), see whether a difference is real, and set quality against speed and size.\n"
        "- **Customise**: fine-tune the encoder on your corpus (SimCSE, TSDAE or your labels), distil it into a "
        "static model tens of times faster, and measure before and after on documents it never saw; see how "
        "each use of a word gets its own vector, and which of your terms are ambiguous.\n"
        "- **Compare**: see which words' neighbourhoods change between two models, even between a word "
        "model and a sentence encoder, and mail the report.\n"
        "- **Probe for bias**: the ten WEAT tests of Caliskan et al. with exact permutation p-values across "
        "models (SEAT for sentence encoders), bias axes with DirectBias and RIPA, and hard debiasing.\n"
        "- **Audit**: which of your corpus's terms general models do not know, split into word pieces, or "
        "place among different neighbours; and the standard benchmarks with their missing share."
    )

with st.expander("What the numbers mean"):
    st.markdown("\n".join(f"- **{term}**: {line}" for term, line in GLOSSARY.items()))
