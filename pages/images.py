"""Images: image corpora, image-text spaces from a local CLIP-family folder, their benchmarks on
your own pairs, and an adapter trained on them (#31)."""

import streamlit as st

from embeddings.images.corpus import image_corpora
from embeddings.images.spaces import CUSTOMISED, FAMILY
from embeddings.store.space_store import list_spaces
from pages.common import workspace
from pages.ui.images_bench import adapt_view, bench_view
from pages.ui.images_views import NO_MODEL, add_form, corpus_view, model_form
from pages.ui.jobs import show_flash
from pages.ui.text import md

st.title("Images")
st.caption("Images and texts in one space: bring a zip of images with captions and a local CLIP-family model, "
           "then map them (Projection, colour by the *modality* column), query by text or image (Neighbours), "
           "benchmark models on your pairs and adapt one to them. Nothing leaves this machine.")
show_flash()

corpora = image_corpora(workspace())
if not corpora:
    st.info("No image corpus yet: add a zip of images below.", icon=":material/photo_library:")
    add_form()
    st.stop()

names = [c.name for c in corpora]
c1, c2 = st.columns([3, 5])
chosen = c1.selectbox("Image corpus", names, key="im_corpus",
                      index=names.index(st.session_state["im_corpus"]) if st.session_state.get("im_corpus") in names
                      else 0)
corpus = next(c for c in corpora if c.name == chosen)
spaces = [a for a in list_spaces(workspace()) if a.params.get("family") == FAMILY
          and a.params.get("corpus_id") == corpus.id]
made = {a.name: a.id for a in spaces if not a.params.get(CUSTOMISED)}
every = {a.name: a.id for a in spaces}
c2.caption(f"{len(made):,} image-text space{'s' if len(made) != 1 else ''} of {md(corpus.name)}"
           + (f", {len(every) - len(made):,} customised on its pairs" if len(every) > len(made) else "") + ".")

section = st.segmented_control("Section", ["Corpus", "Model", "Benchmarks", "Adapt"], default="Corpus",
                               key="im_section", label_visibility="collapsed")
if section == "Corpus":
    corpus_view(corpus)
    with st.expander("Add another image corpus"):
        add_form()
elif section == "Model":
    model_form(corpus, list(made))
elif not every:
    st.info(NO_MODEL, icon=":material/image_search:")
elif section == "Benchmarks":
    bench_view(corpus, every)
else:
    adapt_view(made, [n for n in every if n not in made])
