"""Audit: which of a corpus's terms general models do not know, fragment, or know differently."""

import pandas as pd
import streamlit as st

from embeddings import stability
from embeddings.audit import FLAGS, audit
from embeddings.demo import opening_corpus
from embeddings.wordlists import parse_words
from embeddings.errors import InputError
from embeddings.cards import domain_spaces, is_general_space
from embeddings.figures import coverage_chart, overlap_chart, pieces_chart
from embeddings.reports import audit_report
from pages.ui.audit_noise import noise_floor
from pages.ui.demo_panel import wait_for_demo
from pages.common import (MADE_SPACE, cancellable, corpora, download_name, follow, guard, md, pick_corpus,
                          plotly_chart, progress_reporter, link_names, show_flash, space, space_cards, spaces_or_stop,
                          workspace, workspace_root)

st.title("Vocabulary audit")
wait_for_demo(workspace(), "audit")
show_flash()
st.caption("Term by term: does each model know the word, how does MiniLM's tokenizer split it, what are its "
           "neighbours, and how far do they drift from the model trained on your corpus?")

choices = spaces_or_stop()
names = list(choices)
items = corpora()
if not items:
    st.info("No corpus yet: add one on the Corpora page.")
    st.stop()
by_name = {c.name: c for c in items}

c1, c2, c3 = st.columns([2, 2, 5])  # room for four space chips: a cut chip hides a choice
corpus_name = pick_corpus(c1, list(by_name), "au_corpus", fallback=opening_corpus(list(by_name)))
corpus = by_name[corpus_name]
# the widgets' keys carry the corpus (and the noise floor's, the domain space): another corpus is new
# widgets with its own defaults, so the browser never shows one corpus's choices beside another's results
source = c2.radio("Terms", ["Mine from the corpus", "Type or upload"], key="au_source")
cards = space_cards()  # the catalogue: no space is loaded to choose the defaults
trained = domain_spaces({n: c.provenance for n, c in cards.items()}, corpus.name, corpus.id)
general = [n for n in names if n not in trained and is_general_space(cards[n].provenance)]
made = st.session_state.get(MADE_SPACE)
trained = sorted(trained, key=lambda n: n != made)            # a domain model just made comes first
default = (trained[:1] + general[:2]) or names[:2]
follow(f"au_spaces_{corpus.id}", link_names("spaces", choices) or default, default, made)
selected = c3.multiselect("Spaces", names, key=f"au_spaces_{corpus.id}",
                          help="Typically the model trained on the corpus beside GloVe and MiniLM.")
d1, d2, d3 = st.columns([2, 2, 5])
own = next((n for n in trained if n in selected), (selected or ["—"])[0])
follow(f"au_domain_{corpus.id}", own, own, made)
if st.session_state[f"au_domain_{corpus.id}"] not in (selected or ["—"]):   # the user dropped it from the spaces
    st.session_state[f"au_domain_{corpus.id}"] = own
domain = d1.selectbox("Domain space (trained on the corpus)", selected or ["—"], key=f"au_domain_{corpus.id}")
k = int(d2.number_input("k neighbours", 2, 50, 10, key="au_k"))
terms = None
mine = None
if source == "Mine from the corpus":
    mine = int(d3.number_input("How many terms", 10, 2000, 50, step=10, key="au_mine",
                               help="Words and phrases most over-represented against general English (GloVe "
                                    "6B frequency ranks through Zipf's law)."))
else:
    typed = d3.text_area("Terms, one per line or comma-separated", key="au_terms", height=100)
    upload = st.file_uploader("or a term list (.txt)", type=["txt", "csv"], key="au_upload")
    with guard("the term list"):
        if upload is not None:
            from embeddings.readers import decode

            if not upload.getvalue().strip():
                raise InputError(f"{upload.name} is empty.")
            typed = decode(upload.name, upload.getvalue())[0]
        terms = parse_words(typed)
    if not terms:
        st.info("Type or upload some terms to audit.")
        st.stop()
if not selected:
    st.info("Pick the spaces to audit.")
    st.stop()

noise_id = noise_floor(corpus, domain, cards)

@st.cache_data(max_entries=16, show_spinner=False)
def run_audit(root: str, corpus_id: str, space_ids: tuple, terms: tuple | None, mine: int | None, k: int,
              domain: str, noise_id: str = "none"):
    from embeddings.corpus import get_corpus

    progress, done = progress_reporter("Auditing")
    try:
        noise = stability.load_study(workspace(), noise_id) if noise_id != "none" else None
        return audit(get_corpus(workspace(), corpus_id), [space(i) for i in space_ids], terms, mine=mine, k=k,
                     domain=domain, progress=progress, noise=noise)
    finally:
        done()


with guard("the audit"):
    job = (corpus.id, tuple(choices[n] for n in selected), tuple(terms) if terms else None, mine, k, domain, noise_id)
    with cancellable("au", "The audit", job):
        result = run_audit(workspace_root(), *job)
    st.caption(f"{len(result.terms)} terms · domain space **{md(result.domain)}** · "
               + (f"mined; reference: {md(result.reference)}" if result.mined else "given terms"))
    m = st.columns(len(result.summary))
    for col, row in zip(m, result.summary.to_dict("records")):
        col.metric(md(row["space"]), f"{row['coverage']:.0%} known",
                   f"{row['coverage_by_frequency']:.0%} of occurrences", delta_color="off", delta_arrow="off")
        if row["role"] != "domain" and not row["coverage"]:
            card = cards.get(row["space"])
            origin = f"trained on {md(card.corpus)}" if card and card.corpus else "its own vocabulary"
            col.caption(f"Knows none of these terms: its {card.vocabulary if card else 0:,} words are {origin}, "
                        f"and none is among {md(corpus.name)}'s terms.")
        if row["role"] != "domain" and row["overlap_n"]:
            col.caption(f"Median neighbour overlap **{row['median_overlap']:.2f}** (drift "
                        f"{row['median_drift']:.2f}) on {row['overlap_n']} of {len(result.terms)} terms")
        if row["role"] != "domain" and result.noise and row.get("noise_n"):
            col.caption(f"**{row['beyond_noise']} of {row['noise_n']}** terms: their neighbours here differ from "
                        f"those in {md(result.domain)} beyond {md(result.domain)}'s own seed-to-seed noise")
    if result.noise:
        nf = result.noise
        st.caption(f"Noise floor: **{md(nf['study'])}**, {nf['runs']} runs of {md(nf['model'])}"
                   f"{' on bootstrap resamples' if nf['bootstrap'] else ''} with different seeds; median "
                   f"seed-to-seed stability (Jaccard@{nf['k']}) **{nf['median_stability']:.2f}**, known for "
                   f"{nf['measured_terms']} of {len(result.terms)} terms. A term is flagged *beyond noise* when its "
                   "overlap with a general model is below its overlap between every two runs of its own model."
                   + (f" The study compared {nf['k']} neighbours and this audit {k}: read with care."
                      if nf["k"] != k else ""))
    g = [s for s in result.spaces if s != result.domain]
    a, b, c = st.columns(3)
    a.markdown("**Coverage**")
    with a:
        plotly_chart(coverage_chart(result.summary), width="stretch", key="au_cov")
    b.markdown(f"**Neighbour overlap** with {md(result.domain)} (Jaccard@{k}: high = same neighbours)")
    if g:
        with b:
            plotly_chart(overlap_chart(result.terms, g, k, result.domain), width="stretch", key="au_overlap")
    c.markdown(f"**Fragmentation** (mean {result.terms['n_pieces'].mean():.2f} pieces)")
    with c:
        plotly_chart(pieces_chart(result.terms), width="stretch", key="au_pieces")

    f1, f2, f3 = st.columns([3, 2, 2])
    wanted = f1.multiselect("Show terms flagged", list(FLAGS), key="au_flags")
    search = f2.text_input("Filter terms", key="au_search").strip().lower()
    every = f3.toggle("Every column", key="au_every", help="Add each space's neighbour list and whether it knows "
                      "the term (the table then scrolls sideways, the term pinned). A blank overlap: the term is "
                      "unknown to that space or to the domain space.")
    table = result.table()
    if wanted:
        table = table[table["flags"].map(lambda f: all(w in f for w in wanted))]
    if search:
        table = table[table["term"].str.contains(search, regex=False)]
    compact = [c for c in table.columns if c in ("term", "frequency", "documents", "n_pieces", "flags")
               or c.startswith("overlap:")]            # fits 1,280 px with three spaces
    for c in table.columns:      # two decimals as text, blank when unknown (a grid shows NaN as "None")
        if c.startswith(("overlap:", "drift:")):
            table[c] = [f"{v:.2f}" if pd.notna(v) else "" for v in table[c]]
    st.dataframe(table, hide_index=True, width="stretch", height=460, key="au_table",
                 column_order=None if every else compact,
                 column_config={"term": st.column_config.TextColumn(pinned=True),
                                "n_pieces": st.column_config.NumberColumn("pieces", width=60),
                                **{c: st.column_config.TextColumn(width=260) for c in table.columns
                                   if c.startswith("neighbours:")}})
    e1, e2 = st.columns(2)
    e1.download_button("Download CSV", result.table().to_csv(index=False).encode(),
                       download_name(f"audit-{corpus.name}", ".csv"),
                       "text/csv", icon=":material/download:", key="au_csv")
    e2.download_button("Download HTML report", audit_report(result), download_name(f"audit-{corpus.name}", ".html"),
                       "text/html",
                       icon=":material/description:", key="au_html")
