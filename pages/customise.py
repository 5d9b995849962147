"""Customise: fine-tune an encoder on your corpus, distil it into a fast static model, and
see what changed, measured on documents the model never saw."""

import streamlit as st

from pages.common import space_cards
from pages.ui.before_after_view import before_after_view
from pages.ui.customise_forms import distil_form, finetune_form
from pages.ui.head import open_page
from pages.ui.url import URL, Bound, check_link

ws = open_page("Customise an encoder", "customise",
               "Adapt the sentence encoder to your domain, privately, on this machine: fine-tune it on your corpus "
               "(SimCSE, TSDAE, from your labels, or for search from your queries), distil it into a static model that "
               "is tens of times faster, and compare before and after on what it never saw.")

TABS = ("Before and after", "Fine-tune", "Distil")
check_link({"cu_tab": Bound(options=TABS)})
compare_tab, finetune_tab, distil_tab = st.tabs(list(TABS), key="cu_tab", bind=URL, on_change="rerun")
with compare_tab:
    if compare_tab.open is not False:
        before_after_view(ws, space_cards())
with finetune_tab:
    if finetune_tab.open is not False:
        st.caption("Only the training side of a seeded split of the documents is used (for retrieval, the training "
                   "queries of a retrieval set); every benchmark then scores all spaces on what no model trained on, so "
                   "the comparison is fair and nothing leaks.")
        finetune_form(ws)
with distil_tab:
    if distil_tab.open is not False:
        st.caption("model2vec runs the encoder once over a vocabulary (its word pieces plus the corpus's words) and "
                   "keeps the outputs, reduced by PCA: encoding becomes a lookup. A word it never saw still gets a "
                   "vector from its pieces.")
        distil_form(ws)
