"""Bias: WEAT/SEAT tests side by side across spaces, bias axes, and hard debiasing."""

import streamlit as st

from pages.common import space_cards, spaces_or_stop
from pages.ui import bias_axis, bias_debias, bias_weat
from pages.ui.head import open_page
from pages.ui.text import md_list
from pages.ui.url import URL, Bound, check_link, names as link_names

ws = open_page("Bias probes", "bias",
               "WEAT effect sizes with a real permutation test, SEAT for sentence encoders, bias axes with DirectBias "
               "and RIPA, and hard debiasing. Every number says which words it was computed on.")

choices = spaces_or_stop()
cards = space_cards()
# words are probed in word spaces, and in sentence encoders through SEAT's templates; a pooled or
# TF-IDF document space holds documents, so no word of a test is in it
names = [n for n in choices if cards[n].unit == "term" or cards[n].is_sentence_encoder]
if len(names) < len(choices):
    st.caption(f"Not offered: {md_list(n for n in choices if n not in names)} (document spaces that cannot embed a "
               "word).")

# one choice of spaces for the WEAT and axis tabs (hard debiasing picks its own source)
default_sp = (link_names("spaces", choices)
              or [n for n in names if not cards[n].is_sentence_encoder][:3] or names[:2])
chosen = st.multiselect("Spaces", names, default=default_sp, key="bias_spaces",
                        help="Used by the WEAT / SEAT and Bias axis tabs.")
TABS = ("WEAT / SEAT", "Bias axis", "Hard debias")
check_link({"bias_tab": Bound(options=TABS)})
weat_tab, axis_tab, debias_tab = st.tabs(list(TABS), key="bias_tab", bind=URL)

with weat_tab:
    bias_weat.weat_tab(ws, choices, chosen, cards)
with axis_tab:
    bias_axis.axis_tab(choices, chosen)
with debias_tab:
    bias_debias.debias_tab(ws, choices, cards)
