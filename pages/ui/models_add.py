"""The Models page's "make a space" part: train, pretrained, import a file, reduce with PCA."""

import streamlit as st

from embeddings.demo import opening_corpus
from embeddings.models import add_pretrained, train_space
from embeddings.models.gensim_models import TrainParams
from embeddings.models.hf_folder import POOLINGS
from embeddings.store.artefact import Artefact
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import Corpus
from pages.ui.customise_forms import folder_input
from pages.ui.defaults import SELECTED_CORPUS
from pages.ui.jobs import cancellable, guard, progress_reporter
from pages.ui.models_endpoint import endpoint_tab
from pages.ui.models_more import import_tab, reduce_tab, saved
from pages.ui.options import option_number

#: the session flag set while a training runs (a rerun that finds it set means Cancel was pressed)
TRAINING_FLAG = "training_in_progress"
FAMILY_LABELS = {"word2vec": "Word2Vec (gensim)", "fasttext": "FastText (gensim, subwords)",
                 "ppmi-svd": "PPMI + SVD (count-based baseline)"}


def add_space_tabs(ws: Workspace, items: list[Corpus], arts: list[Artefact]) -> None:
    """Five ways to make a space; each saves it and shows its model card."""
    corpus_names = [c.name for c in items]
    selected = st.session_state.get(SELECTED_CORPUS)
    opening = opening_corpus([c.name for c in items])
    default_corpus = next((i for i, c in enumerate(items) if c.id == selected),
                          next((i for i, c in enumerate(items) if c.name == opening), 0))
    tab_train, tab_pre, tab_endpoint, tab_import, tab_reduce = st.tabs(["Train", "Pretrained", "Endpoint",
                                                                        "Import a file", "Reduce (PCA)"])

    with tab_train:
        if not items:
            st.info("Add a corpus first (Corpora page).")
        else:
            c1, c2 = st.columns(2)
            corpus_name = c1.selectbox("Corpus", corpus_names, index=default_corpus, key="train_corpus")
            family = c2.radio("Model", list(FAMILY_LABELS), format_func=FAMILY_LABELS.get, key="train_family")
            c1, c2, c3, c4 = st.columns(4)
            d = TrainParams()                       # the defaults the CLI and the demo use too
            dim = option_number("Dimensions", TrainParams, "dim", key="train_dim", where=c1)
            window = option_number("Window", TrainParams, "window", key="train_window", where=c2)
            min_count = option_number("Min count", TrainParams, "min_count", key="train_min_count", where=c3)
            seed = option_number("Seed", TrainParams, "seed", key="train_seed", where=c4)
            settings = dict(dim=int(dim), window=int(window), min_count=int(min_count), seed=int(seed))
            if family != "ppmi-svd":
                c1, c2, c3, c4 = st.columns(4)
                sg = c1.radio("Architecture", ["Skip-gram", "CBOW"], index=0 if d.sg else 1, key="train_arch",
                              help="Skip-gram learns rare words better; CBOW is faster on large corpora.") == "Skip-gram"
                epochs = option_number("Epochs", TrainParams, "epochs", key="train_epochs", where=c2)
                negative = option_number("Negative samples", TrainParams, "negative", key="train_negative", where=c3)
                sample = option_number("Down-sampling", TrainParams, "sample", key="train_sample", where=c4, format="%.4f")
                settings.update(sg=sg, epochs=int(epochs), negative=int(negative), sample=float(sample),
                                workers=d.workers)
                if family == "fasttext":
                    c1, c2, _, _ = st.columns(4)
                    settings["min_n"] = int(option_number("Min n-gram", TrainParams, "min_n", key="train_min_n", where=c1))
                    settings["max_n"] = int(option_number("Max n-gram", TrainParams, "max_n", key="train_max_n", where=c2))
            default_name = f"{corpus_name}-{family}-{int(dim)}d"
            name = st.text_input("Space name", placeholder=default_name, key="train_name") or default_name
            if st.button("Train", type="primary", key="train_btn"):
                with guard("training"):
                    ws.check_new_name("space", name)
                    # Clicking Cancel reruns the page; Streamlit then stops this run at the next
                    # progress update (between epochs), so nothing is saved. The flag tells the
                    # next run that training was interrupted.
                    st.session_state[TRAINING_FLAG] = name
                    cancel = st.empty()
                    cancel.button("Cancel training", key="cancel_train", icon=":material/cancel:",
                                  help="Stops between epochs; nothing is saved.")
                    progress, done = progress_reporter(f"Training {name}")
                    stats = st.empty()

                    def on_epoch(r):
                        loss = f" · loss {r.loss:,.0f}" if r.loss is not None else ""
                        progress(r.epoch / r.epochs, f"epoch {r.epoch}/{r.epochs}")
                        stats.caption(f"Epoch {r.epoch} of {r.epochs}{loss} · {r.seconds:.1f} s elapsed · "
                                      f"{r.words_per_second:,.0f} words/s")

                    try:
                        result = train_space(ws, corpus_name, family, name, on_epoch=on_epoch, progress=progress,
                                             **settings)
                    except Exception:  # a failure, not a cancel: no "cancelled" notice next time
                        st.session_state.pop(TRAINING_FLAG, None)
                        cancel.empty()
                        stats.empty()
                        raise
                    finally:
                        done()
                    st.session_state.pop(TRAINING_FLAG, None)
                    saved(result, "Trained")

    with tab_pre:
        kind = st.radio("Model", ["MiniLM (all-MiniLM-L6-v2, 384-d)", "GloVe 6B 50-d (400k words)",
                                  "A local model folder (sentence-transformers or transformers)"], key="pre_kind")
        if kind.startswith("GloVe"):
            top = st.number_input("Keep the N most frequent words", 1000, 400_000, 400_000, step=10_000, key="glove_top")
            name = st.text_input("Space name", placeholder="glove-50d", key="glove_name") or "glove-50d"
            if st.button("Add GloVe", type="primary", key="glove_btn"):
                with guard("adding GloVe"):
                    progress, done = progress_reporter("GloVe")
                    try:
                        result = add_pretrained(ws, "glove-6b-50d", name, top=int(top), progress=progress)
                    finally:
                        done()
                    saved(result, "Added")
        elif not items:
            st.info("A sentence encoder encodes a corpus: add one first (Corpora page).")
        else:
            model, options = "minilm", None
            if kind.startswith("A local"):
                model = folder_input("pre_folder")
                with st.expander("How to read it: pooling and prompts"):
                    o1, o2, o3, o4 = st.columns([2, 1, 2, 2])
                    pooling = o1.selectbox("Pooling", [None, *POOLINGS], key="pre_pooling", help="A plain transformers "
                                           "folder only. Default: last token for a decoder-only model, else mean.",
                                           format_func=lambda p: p or "the folder's default")
                    normalise = o2.checkbox("Normalise", value=True, key="pre_normalise")
                    prompts = {"query": o3.text_input("Query prompt", key="pre_qprompt", placeholder="query: "),
                               "document": o4.text_input("Document prompt", key="pre_dprompt", placeholder="passage: ")}
                    options = {k: v for k, v in (("pooling", pooling), ("normalise", None if normalise else False),
                                                 ("prompts", {k: v for k, v in prompts.items() if v})) if v not in (None, {})}
            c1, c2, c3 = st.columns(3)
            corpus_name = c1.selectbox("Corpus", corpus_names, index=default_corpus, key="pre_corpus")
            unit = c2.radio("Unit", ["term", "sentence", "document"], key="pre_unit",
                            help="Terms: the vocabulary, phrases included. Sentences or documents: their text.")
            top = c3.number_input("How many (0 = all)", 0, 1_000_000, 5000 if unit == "term" else 0, key="pre_top",
                                  help="Terms: the N most frequent. Sentences/documents: the first N.")
            default_name = f"{corpus_name}-minilm-{unit}s" if model == "minilm" else f"{corpus_name}-encoder-{unit}s"
            name = st.text_input("Space name", placeholder=default_name, key="pre_name") or default_name
            if st.button("Encode", type="primary", key="pre_btn", disabled=not model):
                with guard("encoding"), cancellable("pre", f"Encoding {name}"):
                    progress, done = progress_reporter(f"Encoding {unit}s")
                    try:
                        result = add_pretrained(ws, model, name, corpus=corpus_name, unit=unit, top=int(top) or None,
                                                options=options or None, progress=progress)
                    finally:
                        done()
                    saved(result, "Added")

    with tab_endpoint:
        endpoint_tab(ws, items, default_corpus)
    with tab_import:
        import_tab(ws)
    with tab_reduce:
        reduce_tab(ws, arts)
