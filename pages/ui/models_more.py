"""The Models page's quick ways to a space: import a vectors file, reduce one with PCA; and
what every way of making a space does once saved."""

import streamlit as st

from embeddings.display import plural
from embeddings.models import import_upload, reduce_space
from embeddings.models.vectors import IMPORT_FORMATS
from embeddings.readers import Limits
from embeddings.store.artefact import Artefact
from embeddings.store.cards import SpaceCard
from embeddings.store.workspace import Workspace
from pages.ui.defaults import remember_made
from pages.ui.jobs import flash, guard
from pages.ui.text import md


def saved(space_obj, verb: str) -> None:
    warnings = space_obj.provenance.get("warnings", [])
    flash(f"{verb} **{md(space_obj.name)}**: {plural(len(space_obj), space_obj.provenance.get('unit', 'term'))} "
          f"× {space_obj.dim} dimensions." + "".join(f"  \n:warning: {md(w)}" for w in warnings))
    st.session_state["card_space"] = space_obj.id  # show its model card
    remember_made(space_obj.name)
    st.rerun()


def import_tab(ws: Workspace) -> None:
    """A vectors file in a text or binary format (never a pickle)."""
    st.caption("Text or binary vector files. Pickled files (.model, .kv, .pkl) are refused: loading them would "
               "run code from the file.")
    upload = st.file_uploader("Vectors file", key="import_file")
    fmt = st.selectbox("Format", IMPORT_FORMATS, key="import_format",
                       format_func={"word2vec": "word2vec text (header 'count dim')",
                                    "word2vec-binary": "word2vec binary",
                                    "glove": "GloVe text (no header)",
                                    "fasttext-vec": "fastText .vec"}.get)
    default_name = upload.name.rsplit(".", 1)[0] if upload else "imported"
    name = st.text_input("Space name", placeholder=default_name, key="import_name") or default_name
    if st.button("Import", type="primary", key="import_btn", disabled=upload is None):
        with guard("importing"):
            result = import_upload(ws, upload.getvalue(), upload.name, fmt, name, limits=Limits.from_env())
            saved(result, "Imported")


def reduce_tab(ws: Workspace, arts: list[Artefact]) -> None:
    """A saved space reduced to fewer dimensions with PCA."""
    if not arts:
        st.info("No space to reduce yet.")
    else:
        by_name = {a.name: a for a in arts}
        source = st.selectbox("Space", list(by_name), key="reduce_source")
        parent_dim = SpaceCard.from_artefact(by_name[source]).dim
        if parent_dim < 3:
            st.info(f"{md(source)} has only {parent_dim} dimensions.")
        else:
            k = st.number_input("Keep dimensions", 2, parent_dim - 1, min(50, parent_dim - 1), key="reduce_dim")
            name = st.text_input("Space name", placeholder=f"{source}-pca{int(k)}", key="reduce_name") \
                or f"{source}-pca{int(k)}"
            if st.button("Reduce", type="primary", key="reduce_btn"):
                with guard("reducing"):
                    with st.spinner("PCA"):
                        result = reduce_space(ws, source, int(k), name)
                    saved(result, "Added")
