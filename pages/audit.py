"""Audit: which of a corpus's terms general models do not know, fragment, or know differently."""

import streamlit as st

from embeddings.analysis import stability
from embeddings.analysis.audit import AuditParams, audit
from embeddings.demo import opening_corpus
from embeddings.errors import InputError
from embeddings.figures import coverage_chart, overlap_chart, pieces_chart
from embeddings.figures.reports import audit_report
from embeddings.store.cards import domain_spaces, is_general_space
from embeddings.text.wordlists import parse_words
from pages.common import corpora, space, space_cards, spaces_or_stop, workspace, workspace_root
from pages.ui.audit_noise import noise_floor
from pages.ui.audit_results import show_summary, show_table
from pages.ui.defaults import MADE_SPACE, follow, pick_corpus
from pages.ui.demo_panel import wait_for_demo
from pages.ui.jobs import cancellable, guard, progress_reporter, show_flash
from pages.ui.options import option_number
from pages.ui.text import download_name, md, plotly_chart
from pages.ui.url import names as link_names

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
k = int(option_number("k neighbours", AuditParams, "k", key="au_k", where=d2))
terms = None
mine = None
if source == "Mine from the corpus":
    mine = int(option_number("How many terms", AuditParams, "mine", key="au_mine", where=d3))
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
    from embeddings.text.corpus import get_corpus

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
    show_summary(result, cards, corpus.name, k)
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

    show_table(result)
    e1, e2 = st.columns(2)
    e1.download_button("Download CSV", result.table().to_csv(index=False).encode(),
                       download_name(f"audit-{corpus.name}", ".csv"),
                       "text/csv", icon=":material/download:", key="au_csv")
    e2.download_button("Download HTML report", audit_report(result), download_name(f"audit-{corpus.name}", ".html"),
                       "text/html",
                       icon=":material/description:", key="au_html")
