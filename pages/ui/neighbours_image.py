"""Neighbours of a text or an image in image-text spaces, both kinds listed, images as thumbnails.

Not a page: the Neighbours page calls :func:`image_neighbours` under its own results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from embeddings.analysis.neighbours import nearest
from embeddings.images.corpus import decode_upload, image_path, image_table, load_image
from embeddings.images.spaces import embed_images, is_image_space
from embeddings.text.corpus import get_corpus
from pages.common import workspace
from pages.ui.jobs import guard
from pages.ui.text import md

KINDS = ("the text above", "an image of the corpus", "an image you upload")


def _query_vector(s, how: str, query: str, doc: int | None, upload) -> tuple[np.ndarray, int | None]:
    """The query's vector in ``s`` and its own row (left out of the answers), if it has one."""
    if how == KINDS[0]:
        row = s.index.get(s.key(query))
        return (s.vectors[row], row) if row is not None else (s.embed([query])[0], None)
    if how == KINDS[1]:
        rows = np.flatnonzero((s.meta["unit"].to_numpy() == "image") & (s.meta["doc"].to_numpy() == doc))
        if len(rows):
            return s.vectors[rows[0]], int(rows[0])
        return embed_images(workspace(), s, [load_image(get_corpus(workspace(), s.provenance["corpus_id"]), doc)])[0], None
    return embed_images(workspace(), s, [upload])[0], None


def image_neighbours(spaces: list, query: str, k: int) -> None:
    shown = [s for s in spaces if is_image_space(s)]
    if not shown:
        return
    st.subheader("Images and texts")
    corpus = get_corpus(workspace(), shown[0].provenance["corpus_id"])
    c1, c2 = st.columns([2, 3])
    how = c1.radio("Query by", KINDS, key="nb_im_kind", horizontal=False)
    doc, upload = None, None
    if how == KINDS[1]:
        table = image_table(corpus)
        files = dict(zip(table["doc"], table["file"]))
        doc = c2.selectbox("Image", list(files), format_func=lambda d: files[d], key="nb_im_doc")
        c2.image(str(image_path(corpus, doc, thumb=True)), width=96)
    elif how == KINDS[2]:
        file = c2.file_uploader("Image", type=["png", "jpg", "jpeg", "webp", "gif"], key="nb_im_upload")
        if file is None:
            return
        with guard("the image"):
            upload = decode_upload(file.name, file.getvalue())
            c2.image(upload, width=96)
        if upload is None:
            return
    for col, s in zip(st.columns(len(shown)), shown):
        with col, guard(s.name):
            v, own = _query_vector(s, how, query, doc, upload)
            found = nearest(s, v / (np.linalg.norm(v) or 1), k, exclude=None if own is None else np.array([own]))
            st.markdown(f"**{md(s.name)}** · {len(s):,} rows ({s.provenance.get('image_rows', 0):,} images)")
            rows = [s.index[n.label] for n in found]
            units = s.meta["unit"].to_numpy()
            images = [(n, s.meta["doc"].iat[r]) for n, r in zip(found, rows) if units[r] == "image"]
            grid = st.columns(5)
            for i, (n, d) in enumerate(images):
                with grid[i % 5]:
                    st.image(str(image_path(corpus, d, thumb=True)), width=72)
                    st.caption(f"{md(n.label)} · {n.cosine:.3f}")
            texts = pd.DataFrame([{"text": n.label, "unit": units[r], "cosine": n.cosine}
                                  for n, r in zip(found, rows) if units[r] != "image"])
            if len(texts):
                st.dataframe(texts, hide_index=True, width="stretch",
                             column_config={"cosine": st.column_config.NumberColumn(format="%.3f", width=64)})
            st.caption(f"{len(images)} images and {len(texts)} texts among the {k} nearest.")


def thumbnail_of(label: str, spaces: list) -> None:
    """The image behind a selected point (the Projection page), if it is one."""
    for s in spaces:
        row = s.index.get(label) if is_image_space(s) else None
        if row is not None and s.meta["unit"].iat[row] == "image":
            corpus = get_corpus(workspace(), s.provenance["corpus_id"])
            st.image(str(image_path(corpus, int(s.meta["doc"].iat[row]))), width=160)
            st.caption(md(image_table(corpus).set_index("doc").loc[int(s.meta["doc"].iat[row]), "caption"]))
            return
