"""Models: train on a corpus, pick a pretrained model, import vectors; model cards, export, delete."""

import pandas as pd
import streamlit as st

from embeddings.cards import SpaceCard
from embeddings.display import param_rows
from embeddings.models import add_pretrained, import_upload, reduce_space, train_space
from embeddings.models.gensim_models import TrainParams
from embeddings.models.vectors import EXPORT_FORMATS, IMPORT_FORMATS, export_bytes
from embeddings.readers import Limits
from embeddings.space_store import list_spaces, space_problem
from pages.common import (SELECTED_CORPUS, cancellable, corpora, download_name, flash, fmt_int, guard, md, plural,
                          progress_reporter, show_flash, space, workspace)

TRAINING_FLAG = "training_in_progress"
FAMILY_LABELS = {"word2vec": "Word2Vec (gensim)", "fasttext": "FastText (gensim, subwords)",
                 "ppmi-svd": "PPMI + SVD (count-based baseline)"}
ws = workspace()

st.title("Models")
st.caption("Train an embedding model on a corpus, or take a pretrained one. Every model becomes a space: "
           "labelled, normalised vectors the other pages compare.")
show_flash()
if st.session_state.pop(TRAINING_FLAG, None):
    st.warning("Training was cancelled; nothing was saved.", icon=":material/cancel:")

items = corpora()
corpus_names = [c.name for c in items]
selected = st.session_state.get(SELECTED_CORPUS)
default_corpus = next((i for i, c in enumerate(items) if c.id == selected), max(len(items) - 1, 0))


def saved(space_obj, verb: str) -> None:
    warnings = space_obj.provenance.get("warnings", [])
    flash(f"{verb} **{md(space_obj.name)}**: {plural(len(space_obj), space_obj.provenance.get('unit', 'term'))} "
          f"× {space_obj.dim} dimensions." + "".join(f"  \n:warning: {md(w)}" for w in warnings))
    st.session_state["card_space"] = space_obj.id  # show its model card
    st.rerun()


tab_train, tab_pre, tab_import, tab_reduce = st.tabs(["Train", "Pretrained", "Import a file", "Reduce (PCA)"])

with tab_train:
    if not items:
        st.info("Add a corpus first (Corpora page).")
    else:
        c1, c2 = st.columns(2)
        corpus_name = c1.selectbox("Corpus", corpus_names, index=default_corpus, key="train_corpus")
        family = c2.radio("Model", list(FAMILY_LABELS), format_func=FAMILY_LABELS.get, key="train_family")
        c1, c2, c3, c4 = st.columns(4)
        d = TrainParams()                       # the defaults the CLI and the demo use too
        dim = c1.number_input("Dimensions", 2, 1000, d.dim, key="train_dim")
        window = c2.number_input("Window", 1, 20, d.window, key="train_window")
        min_count = c3.number_input("Min count", 1, 1000, d.min_count, key="train_min_count",
                                    help="Terms seen fewer times get no vector.")
        seed = c4.number_input("Seed", 0, 2**31 - 1, d.seed, key="train_seed")
        settings = dict(dim=int(dim), window=int(window), min_count=int(min_count), seed=int(seed))
        if family != "ppmi-svd":
            c1, c2, c3, c4 = st.columns(4)
            sg = c1.radio("Architecture", ["Skip-gram", "CBOW"], index=0 if d.sg else 1, key="train_arch",
                          help="Skip-gram learns rare words better; CBOW is faster on large corpora.") == "Skip-gram"
            epochs = c2.number_input("Epochs", 1, 200, d.epochs, key="train_epochs")
            negative = c3.number_input("Negative samples", 0, 30, d.negative, key="train_negative")
            sample = c4.number_input("Down-sampling", 0.0, 0.1, d.sample, step=1e-4, format="%.4f",
                                     key="train_sample")
            settings.update(sg=sg, epochs=int(epochs), negative=int(negative), sample=float(sample),
                            workers=d.workers)
            if family == "fasttext":
                c1, c2, _, _ = st.columns(4)
                settings["min_n"] = int(c1.number_input("Min n-gram", 1, 10, d.min_n, key="train_min_n"))
                settings["max_n"] = int(c2.number_input("Max n-gram", 1, 12, d.max_n, key="train_max_n"))
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
                              "A local sentence-transformers folder"], key="pre_kind")
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
        model = "minilm"
        if kind.startswith("A local"):
            model = st.text_input("Model folder", placeholder="/path/to/a/sentence-transformers/model",
                                  key="pre_folder").strip()
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
                                            progress=progress)
                finally:
                    done()
                saved(result, "Added")

with tab_import:
    st.caption("Text or binary vector files. Pickled files (.model, .kv, .pkl) are refused: loading them would "
               "run code from the file.")
    upload = st.file_uploader("Vectors file", key="import_file")
    fmt = st.selectbox("Format", IMPORT_FORMATS, key="import_format",
                       format_func={"word2vec": "word2vec text (header 'count dim')",
                                    "word2vec-binary": "word2vec binary",
                                    "glove": "GloVe text (no header)",
                                    "fasttext-vec": "fastText .vec"}.get)
    default_name = upload.name.rsplit(".", 1)[0] if upload else "imported"
    name = st.text_input("Space name", placeholder=default_name, key="import_name") or default_name
    if st.button("Import", type="primary", key="import_btn", disabled=upload is None):
        with guard("importing"):
            result = import_upload(ws, upload.getvalue(), upload.name, fmt, name, limits=Limits.from_env())
            saved(result, "Imported")

arts = list_spaces(ws)
with tab_reduce:
    if not arts:
        st.info("No space to reduce yet.")
    else:
        by_name = {a.name: a for a in arts}
        source = st.selectbox("Space", list(by_name), key="reduce_source")
        parent_dim = SpaceCard.from_artefact(by_name[source]).dim
        if parent_dim < 3:
            st.info(f"{md(source)} has only {parent_dim} dimensions.")
        else:
            k = st.number_input("Keep dimensions", 2, parent_dim - 1, min(50, parent_dim - 1), key="reduce_dim")
            name = st.text_input("Space name", placeholder=f"{source}-pca{int(k)}", key="reduce_name") \
                or f"{source}-pca{int(k)}"
            if st.button("Reduce", type="primary", key="reduce_btn"):
                with guard("reducing"):
                    with st.spinner("PCA"):
                        result = reduce_space(ws, source, int(k), name)
                    saved(result, "Added")

# -- the spaces ---------------------------------------------------------------------
st.divider()
st.subheader("Spaces in this workspace")
if not arts:
    st.info("No space yet: train or add one above.")
    st.stop()


problems = {a.id: space_problem(a) for a in arts}
cards = [SpaceCard.from_artefact(a) for a in arts]


def dash(value, fmt: str = "{}") -> str:
    """A card value as text; a missing one reads "—", never "None"."""
    return "—" if value is None or value == "" else fmt.format(value)


def card_row(c: SpaceCard) -> dict:
    p = c.provenance
    return {
        "name": c.name + (" (damaged)" if problems[c.id] else ""),
        "family": c.family,
        "unit": c.unit,
        "corpus": c.corpus or p.get("model") or p.get("source") or "—",
        "vocabulary": c.vocabulary,
        "dim": c.dim,
        "seconds": dash(c.seconds, "{:,.1f}"),
        "words/s": dash(c.words_per_second or None, "{:,.0f}"),
        "seed": dash(c.seed),
        "derived": dash(c.derived),
        "created": c.created_at.replace("T", " ")[:16],
    }


st.dataframe(pd.DataFrame([card_row(c) for c in cards]), hide_index=True, width="stretch",
             column_config={"vocabulary": st.column_config.NumberColumn(format="localized"),
                            "words/s": st.column_config.TextColumn(),
                            "seconds": st.column_config.TextColumn()})

by_id = {c.id: c for c in cards}
chosen = st.selectbox("Model card", list(by_id), format_func=lambda i: by_id[i].name, key="card_space")
card = by_id[chosen]
p = card.provenance
with st.container(border=True):
    st.markdown(f"### {md(card.name)}")
    m = st.columns(4)
    m[0].metric("Family", card.family or "?")
    m[1].metric("Labels", fmt_int(card.vocabulary))
    m[2].metric("Dimensions", fmt_int(card.dim))
    m[3].metric("Training time", dash(card.seconds, "{:.1f} s"))
    how = (f" ({p['explained_variance']:.1%} of the variance)" if "explained_variance" in p else "")
    facts = {
        "Unit": card.unit,
        "Corpus": card.corpus,
        "Model": p.get("model"),
        "Source": p.get("source"),
        "Derived from": f"{card.parent_name} by {card.derived}{how}" if card.derived else None,
        "Seed": card.seed,
        "Words/s": fmt_int(card.words_per_second) if card.words_per_second else None,
        "Embeds unseen labels": "yes" if card.can_embed else "no",
        "Created": card.created_at.replace("T", " ") + " UTC",
        "Library": p.get("library"),
    }
    st.markdown("\n".join(f"- **{k}:** {md(v)}" for k, v in facts.items() if v not in (None, "")))
    for warning in p.get("warnings", []):
        st.warning(md(warning), icon=":material/warning:")
    if problems[card.id]:
        st.error(f"This space is damaged ({md(problems[card.id])}): delete it or create it again.",
                 icon=":material/broken_image:")
    if card.params:
        st.markdown("**Parameters**")
        st.dataframe(pd.DataFrame(param_rows(card.params), columns=["parameter", "value"]), hide_index=True,
                     key="card_params", width=520)

    st.markdown("**Export**")
    cols = st.columns(len(EXPORT_FORMATS)) if not problems[card.id] else []
    labels = {"word2vec": "word2vec text", "projector-tsv": "Projector TSV (zip)", "npy": ".npy + labels (zip)"}
    for col, fmt in zip(cols, EXPORT_FORMATS):
        with col:
            disabled = fmt == "word2vec" and not card.is_terms

            def make(fmt=fmt, space_id=card.id):
                return export_bytes(space(space_id), fmt)[1]

            ext = ".word2vec.txt" if fmt == "word2vec" else f".{fmt}.zip"
            st.download_button(labels[fmt], data=make, file_name=download_name(card.name, ext), key=f"export_{fmt}",
                               disabled=disabled, on_click="ignore", icon=":material/download:")

    with st.expander("Delete", icon=":material/delete:"):
        sure = st.checkbox(f"Yes, delete {md(card.name)}", key=f"confirm_delete_space_{card.id}")
        if st.button("Delete", disabled=not sure, key="delete_space_btn"):
            with guard("deleting"):
                ws.delete("space", card.id)
                st.session_state.pop("card_space", None)
                st.rerun()
