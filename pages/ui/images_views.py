"""The Images page's parts: adding an image corpus, its sample grid, and an image-text space.

Not a page. Every caption, file name and message is a user's string: shown through md().
"""

from __future__ import annotations

import streamlit as st

from embeddings.images.corpus import add_image_corpus, image_path, image_stats, image_table
from embeddings.images.spaces import TERMS, add_image_space
from embeddings.readers import Limits
from embeddings.store.model_folders import confine
from pages.common import workspace
from pages.ui.jobs import cancellable, flash, guard, progress_reporter
from pages.ui.text import md, md_list

GRID = 12
NO_MODEL = ("No image-text model ships inside a Python package, so there is none until you bring one: a local "
            "folder of a CLIP or SigLIP model (`save_pretrained` of any checkpoint; the README says how). "
            "Nothing is downloaded.")


def add_form() -> None:
    """Upload a zip of images and, optionally, a captions file."""
    with st.form("im_add", clear_on_submit=False, border=True):
        st.markdown("**Add an image corpus**")
        c1, c2 = st.columns(2)
        upload = c1.file_uploader("Images (a .zip of PNG, JPEG, WebP or GIF)", type=["zip"], key="im_zip")
        captions = c2.file_uploader("Captions (optional: CSV, TSV or JSONL with file and caption columns, a label "
                                    "column too; or one inside the zip)", type=["csv", "tsv", "jsonl"], key="im_caps")
        name = st.text_input("Name", value="images", key="im_name")
        submitted = st.form_submit_button("Add", icon=":material/add_photo_alternate:")
    if not submitted:
        return
    if upload is None:
        st.warning("Choose a zip of images first.", icon=":material/info:")
        return
    with guard("the image corpus"), cancellable("im_add_job", "Adding the image corpus"):
        progress, done = progress_reporter(f"Reading {upload.name}")
        try:
            corpus, skipped = add_image_corpus(
                workspace(), name, upload.name, upload.getvalue(), limits=Limits.from_env(), progress=progress,
                captions=(captions.name, captions.getvalue()) if captions is not None else None)
        finally:
            done()
        flash(f"Added {md(corpus.name)}: {image_stats(corpus)['images']:,} images"
              + (f"; skipped {len(skipped):,}" if skipped else "") + ".")
        st.session_state["im_corpus"] = corpus.name
        st.rerun()


def corpus_view(corpus) -> None:
    """The corpus's figures, a grid of sample images with their captions, and what was skipped."""
    s = image_stats(corpus)
    cols = st.columns(4)
    cols[0].metric("Images", f"{s['images']:,}")
    cols[1].metric("With a caption", f"{s['captioned']:,}")
    cols[2].metric("Median size (px)", s["median size"])
    cols[3].metric("Skipped", f"{s['skipped']:,}")
    st.caption(f"Formats: {md(s['formats'])}. Each image is kept once in the workspace (PNG, at most 1,024 px a "
               "side) with a 128 px thumbnail." + (" Images without a caption take their file name as text; "
                                                   "they take no part in the caption benchmarks."
                                                   if s["captioned"] < s["images"] else ""))
    table = image_table(corpus)
    sample = table.sample(min(GRID, len(table)), random_state=0).sort_values("doc")
    grid = st.columns(6)
    for i, row in enumerate(sample.itertuples()):
        with grid[i % 6]:
            st.image(str(image_path(corpus, row.doc, thumb=True)), width=96)
            st.caption(md(f"{row.file}: {row.caption}"))
    skipped = corpus.stats.get("skipped") or []
    if skipped:
        with st.expander(f"Skipped ({corpus.stats.get('skipped_count', len(skipped)):,})"):
            st.markdown(md_list(skipped, sep="  \n"))


def model_form(corpus, spaces: list[str]) -> None:
    """Embed the corpus with a local CLIP-family folder."""
    if not spaces:
        st.info(NO_MODEL, icon=":material/image_search:")
    with st.form("im_model", border=True):
        st.markdown(f"**Embed {md(corpus.name)} with an image-text model**")
        c1, c2, c3 = st.columns([4, 2, 1])
        folder = c1.text_input("Model folder (CLIP, SigLIP...)", key="im_folder", placeholder="/path/to/clip-vit-b-32")
        name = c2.text_input("Space name", value=f"{corpus.name}-clip", key="im_space_name")
        terms = c3.number_input("Terms", 0, 5000, TERMS, key="im_terms", help="Caption words embedded as well.")
        go = st.form_submit_button("Embed images and texts", icon=":material/image_search:")
    if go and folder.strip():
        with guard("the image-text space"), cancellable("im_space_job", "Embedding the images"):
            progress, done = progress_reporter(f"Embedding {corpus.name}")
            try:
                space = add_image_space(workspace(), corpus.id, confine(folder.strip()), name, terms=int(terms),
                                        progress=progress)
            finally:
                done()
            flash(f"Added {md(space.name)}: images and texts in one space.")
            st.rerun()
