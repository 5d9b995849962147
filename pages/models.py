"""Models: train on a corpus, pick a pretrained model, import vectors; model cards, export, delete."""

import pandas as pd
import streamlit as st

from embeddings.display import card_facts, param_rows, plural
from embeddings.models.export import EXPORT_FORMATS, export_bytes
from embeddings.store.cards import SpaceCard
from embeddings.store.space_store import list_spaces, space_problem
from pages.common import corpora, space
from pages.ui.head import open_page
from pages.ui.jobs import guard
from pages.ui.models_add import TRAINING_FLAG, add_space_tabs
from pages.ui.text import download_name, fmt_int, md

ws = open_page("Models", "models",
               "Train an embedding model on a corpus, or take a pretrained one. Every model becomes a space: "
               "labelled, normalised vectors the other pages compare.")
if st.session_state.pop(TRAINING_FLAG, None):
    st.warning("Training was cancelled; nothing was saved.", icon=":material/cancel:")

arts = list_spaces(ws)
add_space_tabs(ws, corpora(), arts)

# -- the spaces ---------------------------------------------------------------------
st.divider()
st.subheader("Spaces in this workspace")
if not arts:
    st.info("No space yet: train or add one above.")
    st.stop()


problems = {a.id: space_problem(a) for a in arts}
cards = [SpaceCard.from_artefact(a) for a in arts]


def dash(value, fmt: str = "{}") -> str:
    """A card value as text; a missing one reads "—", never "None"."""
    return "—" if value is None or value == "" else fmt.format(value)


def card_row(c: SpaceCard) -> dict:
    p = c.provenance
    return {                 # the few columns that fit at 1,280 px; the card below has the rest
        "name": c.name + (" (damaged)" if problems[c.id] else ""),
        "family": c.family,
        "corpus": c.corpus or p.get("model") or p.get("source") or "—",
        "size": plural(c.vocabulary, c.unit),
        "dim": c.dim,
        "per second": dash(c.words_per_second or p.get("texts_per_second") or None, "{:,.0f}"),
        "derived": dash(c.derived),
    }


st.dataframe(pd.DataFrame([card_row(c) for c in cards]), hide_index=True, width="stretch",
             column_config={"name": st.column_config.TextColumn(width=190),
                            "family": st.column_config.TextColumn(width=140),
                            "dim": st.column_config.NumberColumn(width=50),
                            "per second": st.column_config.TextColumn(help="words/s while training, or texts/s "
                                                                           "while encoding, on this machine")})

by_id = {c.id: c for c in cards}
chosen = st.selectbox("Model card", list(by_id), format_func=lambda i: by_id[i].name, key="card_space")
card = by_id[chosen]
p = card.provenance
with st.container(border=True):
    st.markdown(f"### {md(card.name)}")
    m = st.columns(4)
    m[0].metric("Family", card.family or "?")
    m[1].metric("Labels", fmt_int(card.vocabulary))
    m[2].metric("Dimensions", fmt_int(card.dim))
    m[3].metric("Training time", dash(card.seconds, "{:.1f} s"))
    how = (f" ({p['explained_variance']:.1%} of the variance)" if "explained_variance" in p else "")
    facts = {
        "Unit": card.unit,
        "Corpus": card.corpus,
        "Model": p.get("model"),
        "Source": p.get("source"),
        "Derived from": f"{card.parent_name} by {card.derived}{how}" if card.derived else None,
        "Seed": card.seed,
        "Words/s": fmt_int(card.words_per_second) if card.words_per_second else None,
        "Embeds unseen labels": "yes" if card.can_embed else "no",
        "Created": card.created_at.replace("T", " ") + " UTC",
        "Library": p.get("library"),
        **card_facts(p),
    }
    st.markdown("\n".join(f"- **{k}:** {md(v)}" for k, v in facts.items() if v not in (None, "")))
    for warning in p.get("warnings", []):
        st.warning(md(warning), icon=":material/warning:")
    if problems[card.id]:
        st.error(f"This space is damaged ({md(problems[card.id])}): delete it or create it again.",
                 icon=":material/broken_image:")
    if card.params:
        st.markdown("**Parameters**")
        st.dataframe(pd.DataFrame(param_rows(card.params), columns=["parameter", "value"]), hide_index=True,
                     key="card_params", width=520)

    st.markdown("**Export**")
    cols = st.columns(len(EXPORT_FORMATS)) if not problems[card.id] else []
    labels = {"word2vec": "word2vec text", "projector-tsv": "Projector TSV (zip)", "npy": ".npy + labels (zip)"}
    for col, fmt in zip(cols, EXPORT_FORMATS):
        with col:
            disabled = fmt == "word2vec" and not card.is_terms

            def make(fmt=fmt, space_id=card.id):
                return export_bytes(space(space_id), fmt)[1]

            ext = ".word2vec.txt" if fmt == "word2vec" else f".{fmt}.zip"
            st.download_button(labels[fmt], data=make, file_name=download_name(card.name, ext), key=f"export_{fmt}",
                               disabled=disabled, on_click="ignore", icon=":material/download:")

    with st.expander("Delete", icon=":material/delete:"):
        sure = st.checkbox(f"Yes, delete {md(card.name)}", key=f"confirm_delete_space_{card.id}")
        if st.button("Delete", disabled=not sure, key="delete_space_btn"):
            with guard("deleting"):
                ws.delete("space", card.id)
                st.session_state.pop("card_space", None)
                st.rerun()
