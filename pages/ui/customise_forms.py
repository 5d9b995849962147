"""The Customise page's forms: fine-tune an encoder on a corpus, distil one into a static
model. Each runs with progress (stage, percentage, ETA) and a Cancel button; a cancelled
or failed run saves nothing."""

import streamlit as st

from embeddings.demo import LABEL_COLUMN, opening_corpus
from embeddings.display import plural
from embeddings.errors import InputError
from embeddings.evaluate.qrels import list_sets
from embeddings.models import distil_space, finetune_space
from embeddings.models.distil import DIMS
from embeddings.models.finetune import DESCRIPTIONS, MATRYOSHKA_DIMS, METHODS, NEGATIVES, FinetuneParams
from embeddings.models.sentence import MINILM
from embeddings.progress import duration
from embeddings.store.model_folders import confine
from embeddings.store.workspace import Workspace
from pages.common import corpora, label_columns_of, space_cards
from pages.ui.defaults import pick_corpus, remember_made
from pages.ui.jobs import cancellable, flash, guard, progress_reporter
from pages.ui.options import option_number, option_slider
from pages.ui.text import md

LOCAL = "a local model folder…"


def encoder_choice(key: str, label: str = "Base encoder") -> str | None:
    """minilm, a fine-tuned space of the workspace (its own model), or a typed local folder."""
    tuned = [n for n, c in space_cards().items() if c.is_finetuned]
    options = [MINILM, *tuned, LOCAL]
    pick = st.selectbox(label, options, key=key, help="MiniLM ships with the app; a fine-tuned space keeps its "
                                                      "model; or the path of a sentence-transformers folder.")
    return folder_input(f"{key}_path") if pick == LOCAL else pick


def folder_input(key: str) -> str:
    """A typed model folder, "" until one is typed or when ``EMBEDDINGS_MODEL_DIRS`` does not
    offer it (one message either way: the page tells nothing of other paths)."""
    typed = st.text_input("Model folder", key=key, placeholder="/path/to/a/sentence-transformers/model").strip()
    try:
        return confine(typed)
    except InputError as exc:
        st.error(md(exc), icon=":material/block:")
        return ""


def _short(base: str | None) -> str:
    """The last part of a base's name or folder, for a default space name."""
    return (base or "model").rstrip("/").rsplit("/", 1)[-1]


def _default_name(corpus: str | None, base: str | None, suffix: str) -> str:
    """``corpus-base-suffix``, the corpus left out when the base's name already starts with it
    (a model fine-tuned on that corpus) and when there is none."""
    short = _short(base)
    prefix = corpus if corpus and not short.startswith(f"{corpus}-") else None
    return "-".join(p for p in (prefix, short, suffix) if p)


def _run(key: str, what: str, name: str, job):
    """``job(progress)`` with a progress bar named ``name`` and a Cancel button: ``(its result,
    the whole job's seconds)``, or None when it failed (``guard`` has shown why)."""
    with guard(what.lower()), cancellable(key, what):
        progress, done = progress_reporter(name)
        try:
            return job(progress), progress.clock.seconds
        finally:
            done()


def finetune_form(ws: Workspace) -> None:
    c1, c2, c3 = st.columns(3)
    with c1:
        base = encoder_choice("ft_base")
    names = {c.name: c for c in corpora()}
    corpus = names[pick_corpus(c2, list(names), "ft_corpus", fallback=opening_corpus(list(names)))]
    method = c3.radio("Method", METHODS, key="ft_method", horizontal=True)
    st.caption(DESCRIPTIONS[method])
    label, queries, negatives = None, None, FinetuneParams().negatives
    if method == "retrieval":
        sets = {a.name: a.summary["queries"] - a.summary["eval"] for a in list_sets(ws, corpus.id)}
        if not any(sets.values()):
            return st.info(f"No retrieval set of {md(corpus.name)} keeps queries for training: make one on Choose "
                           "(*Your queries*) with a share kept for training.")
        r1, r2 = st.columns(2)
        queries = r1.selectbox("Retrieval set", [n for n, k in sets.items() if k], key=f"ft_queries_{corpus.id}",
                               format_func=lambda n: f"{n} ({sets[n]:,} training queries)")
        negatives = r2.radio("Hard negatives", NEGATIVES, key="ft_negatives", horizontal=True,
                             help="mined by the base model (sentence-transformers' mine_hard_negatives), by BM25, "
                                  "or none (the other documents of the batch only)")
    if method == "supervised":
        columns = label_columns_of(corpus.id)
        if not columns:
            return st.info(f"{md(corpus.name)} has no label column: use simcse or tsdae, or add a CSV with labels.")
        label = st.selectbox("Label column", columns, key=f"ft_label_{corpus.id}",
                             index=columns.index(LABEL_COLUMN) if LABEL_COLUMN in columns else 0)
    b1, b2, b3, b4 = st.columns(4)
    budget = int(option_number("Training texts, at most", FinetuneParams, "max_sentences", key="ft_budget", where=b1))
    epochs = int(option_number("Epochs", FinetuneParams, "epochs", key="ft_epochs", where=b2))
    seed = int(option_number("Seed", FinetuneParams, "seed", key="ft_seed", where=b3))
    held = option_slider("Held out", FinetuneParams, "held_out", key="ft_held", where=b4, disabled=method == "retrieval")
    matryoshka = st.toggle("Matryoshka: keep quality when the vectors are cut to " + ", ".join(map(str, MATRYOSHKA_DIMS[1:]))
                           + " dimensions", key="ft_matryoshka", disabled=method == "tsdae")
    default = _default_name(corpus.name, base, method)
    name = st.text_input("Name", placeholder=default, key="ft_name") or default
    if st.button("Fine-tune", type="primary", key="ft_go", icon=":material/model_training:", disabled=not base):
        made = _run("ft", "Fine-tuning", name, lambda progress: finetune_space(
            ws, base, corpus.id, name, progress=progress, method=method, label=label, max_sentences=budget,
            epochs=epochs, seed=seed, held_out=held, queries=queries, negatives=negatives,
            matryoshka=MATRYOSHKA_DIMS if matryoshka and method != "tsdae" else None))
        if made is not None:
            (space, run), seconds = made
            remember_made(space.name)
            flash(f"Fine-tuned **{md(space.name)}** in {duration(seconds)}: {plural(run['steps'], 'step')} on "
                  f"{plural(run['texts'], 'text')} ({duration(run['seconds'])} of training, then the corpus "
                  f"encoded); {run['split']['held_out_documents']:,} documents held out. "
                  "Open *Before and after* to see what changed.")
            st.rerun()


def distil_form(ws: Workspace) -> None:
    c1, c2, c3 = st.columns(3)
    with c1:
        base = encoder_choice("di_base", "Encoder to distil")
    dims = c2.radio("Dimensions (PCA)", DIMS, horizontal=True, key="di_dims")
    names = ["(none: the model's own vocabulary)"] + [c.name for c in corpora()]
    corpus = pick_corpus(c3, names, "di_corpus", fallback=opening_corpus(names[1:]),
                         help="Its words join the vocabulary, and its documents become the space.")
    corpus = None if corpus == names[0] else corpus
    words = st.toggle("Add the corpus's words to the vocabulary", value=True, key="di_words", disabled=not corpus,
                      help="Words the tokenizer splits get a vector of their own; on MiniLM it takes about 3× longer.")
    default = _default_name(corpus, base, f"static{dims}")
    name = st.text_input("Name", placeholder=default, key="di_name") or default
    if st.button("Distil", type="primary", key="di_go", icon=":material/compress:", disabled=not base):
        made = _run("di", "Distilling", name, lambda progress: distil_space(
            ws, base, name, dims=dims, corpus=corpus, words=words, progress=progress))
        if made is not None:
            space, seconds = made
            p = space.provenance
            remember_made(space.name)
            flash(f"Distilled **{md(space.name)}** in {duration(seconds)}: {p['vocabulary']:,} vocabulary entries × "
                  f"{p['dims']} ({duration(p['distil_seconds'])} of distilling); it encodes "
                  f"{p['texts_per_second']:,.0f} texts/s here. "
                  "It is on the Choose page's quality–cost chart.")
            st.rerun()
