"""Words in context: every use of a term gets its own vector from the encoder; the uses fall
into senses, and one number says how spread they are."""

import pandas as pd
import streamlit as st

from embeddings.analysis.audit import mine_terms
from embeddings.analysis.context import (
    CLEAR_SENSES,
    DEMO_TERM,
    MAX_OCCURRENCES,
    MAX_SENSES,
    MIN_OCCURRENCES,
    clear,
    context_view,
    rank_by_spread,
)
from embeddings.demo import DEMO_CORPUS
from embeddings.figures.customise import SENSE_COLOURS, senses_figure
from embeddings.models.sentence import encoder_folder, load_encoder
from pages.common import corpora, space, space_cards
from pages.ui.customise_forms import encoder_choice
from pages.ui.defaults import follow, pick_corpus, space_order
from pages.ui.head import open_page
from pages.ui.jobs import cancellable, guard, progress_reporter
from pages.ui.text import md, md_highlight, plotly_chart

ws = open_page("Words in context", "context",
               "A static model (Word2Vec, GloVe) gives a word one vector; a transformer gives each *use* its own. Here "
               "every sentence that holds the term gives a vector (the term's word pieces in the encoder's last layer); "
               "the uses are clustered into senses, and **spread** (the mean cosine distance between uses) says how "
               "differently the corpus uses the word: rank your domain terms by it to find the ambiguous jargon.")

names = {c.name: c for c in corpora()}
if not names:
    st.info("Add a corpus on the Corpora page first.")
    st.stop()
c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
corpus = names[pick_corpus(c1, list(names), "cx_corpus", fallback=DEMO_CORPUS)]
with c2:
    encoder_name = encoder_choice("cx_encoder", "Encoder")
term = c3.text_input("Term", value=DEMO_TERM if corpus.name == DEMO_CORPUS else "", key=f"cx_term_{corpus.id}")
max_uses = int(c4.number_input("Uses, at most", MIN_OCCURRENCES, 5000, MAX_OCCURRENCES, key="cx_max"))
cards = space_cards()
statics = ["(none)"] + [n for n, c in cards.items() if c.is_terms and not c.is_sentence_encoder]
ranked, context = space_order({n: cards[n].id for n in statics[1:]}, terms_only=True)
own = next((n for n in ranked if cards[n].corpus in context[0]), statics[0])    # one trained on this corpus
follow("cx_static", own, own, context)
static_name = st.selectbox("Place the term's one vector from a static space", statics, key="cx_static",
                           help="Its cosine to each sense's neighbours says which sense the single vector leans to.")
if not term.strip() or not encoder_name:
    st.info("Type a term that occurs in the corpus.")
    st.stop()

signature = (corpus.id, encoder_name, term.strip(), max_uses, static_name)
views = st.session_state.setdefault("_cx_views", {})
if signature not in views:
    with guard("the context view"), cancellable("cx", "The context view", signature):
        progress, done = progress_reporter(f"Reading the uses of {term.strip()}")
        try:
            encoder = load_encoder(str(encoder_folder(ws, encoder_name)))
            static = space(cards[static_name].id) if static_name in cards else None
            views[signature] = context_view(encoder, corpus, term.strip(), model_name=encoder_name, max_n=max_uses,
                                            static=static, progress=progress)
        finally:
            done()
view = views.get(signature)
if view is None:
    st.stop()

m1, m2, m3, m4 = st.columns(4)
m1.metric("Uses", f"{len(view.uses):,} of {view.found:,}", help="Sentences read, of those holding the term "
          "(a seeded sample when there are more than the maximum).")
m2.metric("Spread", f"{view.spread:.3f}", help="Mean cosine distance between the uses' vectors: 0 means every use "
          "looks alike; higher means the term is used in more different ways.")
sharp = clear(view.silhouette)
m3.metric("Senses", len(view.senses) if sharp else "none clear", help=f"k-means on the uses, k from 2 to {MAX_SENSES} "
          f"chosen by the silhouette; below a silhouette of {CLEAR_SENSES:g}, one group.")
m4.metric("Silhouette", f"{view.silhouette:.2f}", help=f"How well the senses separate (−1 to 1); under "
          f"{CLEAR_SENSES:g} the clusters are a split of one cloud rather than distinct senses.")
plotly_chart(senses_figure(view.coordinates(), view.cluster, [u.sentence for u in view.uses], view.term),
             width="stretch", key="cx_map")
if not sharp:
    st.info(f"**No clear senses.** The best split scores a silhouette of {view.silhouette:.2f}, under "
            f"{CLEAR_SENSES:g}: the uses form one cloud, shown as one group.", icon=":material/blur_on:")

for i, (col, sense) in enumerate(zip(st.columns(len(view.senses)), view.senses)):
    with col:
        colour = SENSE_COLOURS[i % len(SENSE_COLOURS)]
        st.markdown(f"**:material/circle: {f'Sense {i + 1}' if sharp else 'All uses'}** · {sense.size:,} uses",
                    help=f"colour {colour} on the map")
        st.caption("Nearest words: " + md(", ".join(sense.neighbours)))
        for use in sense.examples:
            st.markdown(f"> {md_highlight(*use.parts())}")
        if sense.static_similarity is not None:
            st.caption(f"{md(view.static)}'s vector of “{md(view.term)}”: mean cosine {sense.static_similarity:.2f} "
                       "to these words" + (" (**closest**)" if view.static_sense == i else ""))
if view.static and view.static_sense is None:
    st.caption(f"{md(view.static)} does not hold “{md(view.term)}” or any sense's neighbours.")

with st.expander("Rank the corpus's domain terms by spread", icon=":material/sort:"):
    n_terms = int(st.number_input("Mined terms", 5, 100, 20, key="cx_rank_n"))
    if st.button("Rank them", key="cx_rank_go", icon=":material/sort:"):
        with guard("ranking"):
            progress, done = progress_reporter("Reading each term's uses")
            try:
                mined = mine_terms(corpus, n_terms)["term"].tolist()
                ranked = rank_by_spread(load_encoder(str(encoder_folder(ws, encoder_name))), corpus, mined,
                                        progress=progress)
            finally:
                done()
            st.dataframe(pd.DataFrame(ranked), hide_index=True, width="stretch", key="cx_ranked",
                         column_config={"spread": st.column_config.NumberColumn(format="%.3f"),
                                        "uses": st.column_config.NumberColumn(help="uses read (at most 50 a term)"),
                                        "found": st.column_config.NumberColumn(help="sentences holding the term")})
            st.caption(f"{len(ranked)} of {len(mined)} mined terms have {MIN_OCCURRENCES} uses or more; the others "
                       "are left out. Most spread first.")
