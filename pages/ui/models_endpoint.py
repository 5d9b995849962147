"""The Models page's *Endpoint* tab: a space from an OpenAI-compatible embeddings endpoint.
Off until used; a host other than this machine is named and must be confirmed first."""

import dataclasses

import streamlit as st

from embeddings.models.endpoint import CHARS_PER_TOKEN, EndpointSpec, add_endpoint, estimate
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import Corpus
from pages.ui.jobs import cancellable, guard, progress_reporter
from pages.ui.models_more import saved
from pages.ui.text import md


def endpoint_tab(ws: Workspace, items: list[Corpus], default_corpus: int) -> None:
    st.caption("Any server that answers OpenAI's `POST /v1/embeddings`: Ollama, vLLM, TEI or llama.cpp on this "
               "machine, another machine's `python -m embeddings serve`, or a hosted provider. Nothing is sent "
               "until you press *Encode*; a host other than this machine must be confirmed by name first.")
    if not items:
        st.info("An endpoint encodes a corpus: add one first (Corpora page).")
        return
    c1, c2 = st.columns([3, 2])
    url = c1.text_input("Endpoint URL", placeholder="http://127.0.0.1:11434/v1", key="ep_url").strip()
    model = c2.text_input("Model", placeholder="nomic-embed-text", key="ep_model").strip()
    c1, c2, c3, c4 = st.columns(4)
    corpus = c1.selectbox("Corpus", [c.name for c in items], index=default_corpus, key="ep_corpus")
    unit = c2.radio("Unit", ["document", "sentence", "term"], key="ep_unit", horizontal=True)
    key_env = c3.text_input("API key: environment variable", placeholder="OPENAI_API_KEY", key="ep_key_env",
                            help="Its name only. The key is read from the server's environment as each request "
                                 "goes, and is never stored, shown or logged.").strip()
    price = c4.number_input("USD per million tokens", min_value=0.0, value=None, step=0.01, key="ep_price",
                            help="For the estimate and the card; leave empty for a local server.")
    if not (url and model):
        return
    spec = EndpointSpec(url=url, model=model, key_env=key_env or None, price_per_million=price)
    if spec.remote:
        st.warning(f"**{md(spec.host)}** is not this machine: the text of **{md(corpus)}** would be sent there, "
                   "and every result built on this space will say so.", icon=":material/public:")
        if st.checkbox(f"Send {corpus}'s text to {spec.host}", key=f"ep_confirm_{spec.host}"):
            spec = dataclasses.replace(spec, confirmed_host=spec.host)
        else:
            return
    with guard("the endpoint's settings"):
        e = estimate(ws, spec, corpus, unit)
        cost = f", about ${e['cost_estimated_usd']:,.2f}" if e["cost_estimated_usd"] is not None else ""
        st.caption(f"{e['texts']:,} {unit}s, about {e['tokens_estimated']:,} tokens (at {CHARS_PER_TOKEN} characters "
                   f"a token){cost}, in {e['batches']:,} batches to {md(e['host'])}. Batches already answered by an "
                   "earlier, interrupted run are not sent again.")
        default = f"{corpus}-{model.replace('/', '-').replace(':', '-')}"
        name = st.text_input("Space name", placeholder=default, key="ep_name") or default
        if st.button("Encode through the endpoint", type="primary", key="ep_btn"):
            with cancellable("ep", f"Encoding through {spec.host}"):
                progress, done = progress_reporter(f"Encoding {unit}s through {spec.host}")
                try:
                    result = add_endpoint(ws, spec, name, corpus=corpus, unit=unit, progress=progress)
                finally:
                    done()
                saved(result, "Added")
