"""The Audit page's noise floor: pick a stability study of the domain model, or measure one."""

import streamlit as st

from embeddings.analysis import stability
from embeddings.store.cards import SpaceCard
from embeddings.text.corpus import Corpus
from pages.common import workspace
from pages.ui.jobs import cancellable, flash, guard, progress_reporter
from pages.ui.text import md


def noise_floor(corpus: Corpus, domain: str, cards: dict[str, SpaceCard]) -> str:
    """The chosen study's id, or ``"none"``. A study just measured here is selected at once."""
    # the noise floor: a stability study of the domain model (same family) on this corpus
    family = cards[domain].family if domain in cards else None
    model = stability.model_of(family)
    studies = stability.studies_of(workspace(), family, corpus.id)
    noise_key = f"au_noise_{corpus.id}_{domain}"     # another domain model: its newest study
    if "_au_noise_pick" in st.session_state:      # a study just measured here: select it
        st.session_state[noise_key] = st.session_state.pop("_au_noise_pick")
    n1, n2 = st.columns([2, 5])
    noise_id = n1.selectbox("Noise floor", [a.id for a in studies] + ["none"], key=noise_key,
                            format_func=lambda i: "none" if i == "none" else next(
                                f"{a.name} ({a.summary.get('runs')} runs)" for a in studies if a.id == i),
                            help="A stability study: the domain model trained again with other seeds. A term differs "
                                 "from a general model beyond its own noise when its overlap with it is below the "
                                 "overlap between every two of those runs.")
    if model and not studies:
        n2.caption(f"No stability study of {md(model)} on {md(corpus.name)} yet: without one, a low overlap may be "
                   "the domain model's own seed-to-seed noise.")
        if n2.button(f"Measure {md(domain)}'s noise (5 runs)", key="au_measure", icon=":material/replay:"):
            settings = stability.training_settings(model, cards[domain].provenance.get("params", {}))
            with guard("the stability study"), cancellable("au_stab", "The stability study"):
                progress, done = progress_reporter("Training the runs")
                study = stability.run_study(workspace(), stability.StabilityParams(corpus.id, model, settings=settings),
                                            progress=progress)
                done()
                saved = stability.save_study(workspace(), study, f"{corpus.name}-{model}-stability-{len(studies) + 1}")
                flash(f"Saved the stability study {md(saved.name)}: median seed-to-seed stability {saved.median:.2f}.")
                st.session_state["_au_noise_pick"] = saved.id
                st.rerun()
    elif not model:
        n2.caption(f"{md(domain)} is not a model trained here (Word2Vec, FastText, PPMI-SVD), so it has no "
                   "seed-to-seed noise floor.")
    return noise_id
