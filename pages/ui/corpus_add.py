"""The Corpora page's "Add a corpus" part: preprocessing options, the upload, paste and
sample tabs (the preview lives in corpus_preview)."""

from pathlib import Path

import streamlit as st

from embeddings.display import plural
from embeddings.errors import InputError
from embeddings.readers import SPLIT_HELP, SPLITS, UPLOAD_TYPES, Limits, Source, format_of, inspect_fields
from embeddings.store.workspace import Workspace
from embeddings.text.boilerplate import RULE
from embeddings.text.corpus import add_corpus, read_documents
from embeddings.text.preprocess import PHRASE_MODES, PHRASE_SCORING, RECOMMENDED, SCORER_NAMES, Preprocessing
from embeddings.text.samples import SAMPLES
from pages.ui.corpus_preview import show_preview
from pages.ui.defaults import SELECTED_CORPUS
from pages.ui.jobs import flash, guard, progress_reporter
from pages.ui.options import option_number
from pages.ui.text import md

#: the session key of the corpus shown under Inspect (a new corpus is selected there)
INSPECT_KEY = "inspect_corpus"


def preprocessing_options() -> Preprocessing:
    d = RECOMMENDED
    with st.expander("Preprocessing options", icon=":material/tune:"):
        c1, c2, c3 = st.columns(3)
        lowercase = c1.checkbox("Lowercase", value=d.lowercase, key="pp_lower")
        accents = c1.checkbox("Strip accents (café → cafe)", value=d.strip_accents, key="pp_accents")
        min_length = option_number("Minimum token length", Preprocessing, "min_length", key="pp_minlen", where=c1,
                                   value=d.min_length)
        boilerplate = c1.checkbox("Drop boilerplate lines", value=d.boilerplate, key="pp_boilerplate",
                                  help=f"Navigation, headers and footers: {RULE}. Preview shows what goes.")
        stopwords = c2.checkbox("Remove stopwords (gensim's English list)", value=d.stopwords, key="pp_stop")
        numbers = c2.checkbox("Keep numbers", value=d.numbers, key="pp_numbers")
        sentences = c2.checkbox("Split into sentences", value=d.sentences, key="pp_sents",
                                help="Paragraphs, then NLTK's Punkt. Off: one training line per document.")
        phrases = c3.selectbox("Phrase detection (gensim Phrases)", PHRASE_MODES,
                               index=PHRASE_MODES.index(d.phrases), key="pp_phrases",
                               help="Frequent word pairs become single tokens such as new_york. Phrases made "
                                    "only of numbers or single characters are dropped.")
        scoring = c3.selectbox("Phrase score", PHRASE_SCORING, index=PHRASE_SCORING.index(d.phrase_scoring),
                               key="pp_scoring", disabled=phrases == "none", format_func=SCORER_NAMES.get)
        if scoring == "npmi":
            threshold = c3.slider("Phrase threshold", 0.0, 1.0, d.phrase_threshold, step=0.05, key="pp_threshold",
                                  disabled=phrases == "none", help="NPMI: 1 = the words only ever appear together. "
                                  f"Higher: fewer, stronger phrases (recommended {d.phrase_threshold:g}).")
        else:
            threshold = c3.slider("Phrase threshold ", 1.0, 200.0, 10.0, step=1.0, key="pp_threshold_default",
                                  disabled=phrases == "none", help="Higher: fewer, stronger phrases (gensim's "
                                  "default 10 lets through pairs such as he_said).")
        min_count = option_number("Phrase min count", Preprocessing, "phrase_min_count", key="pp_phrase_min", where=c3,
                                  value=d.phrase_min_count, disabled=phrases == "none")
    prep = Preprocessing(lowercase=lowercase, strip_accents=accents, min_length=int(min_length),
                         stopwords=stopwords, numbers=numbers, sentences=sentences, phrases=phrases,
                         phrase_scoring=scoring, phrase_threshold=float(threshold), phrase_min_count=int(min_count),
                         boilerplate=boilerplate)
    st.caption(f"Preprocessing: {prep.describe()}")
    return prep


def add_and_select(ws: Workspace, name: str, **kwargs) -> None:
    """Run the core's add_corpus with a progress bar, select the new corpus and rerun
    (so the sidebar and lists include it)."""
    progress, done = progress_reporter("Adding corpus")
    try:
        corpus = add_corpus(ws, name, progress=progress, **kwargs)
    finally:
        done()
    s = corpus.stats
    flash(f"Added **{md(corpus.name)}**: {plural(s['documents'], 'document')}, {plural(s['tokens'], 'token')}, "
          f"{plural(s['vocabulary'], 'distinct term')}.")
    st.session_state[INSPECT_KEY] = corpus.id
    st.session_state[SELECTED_CORPUS] = corpus.id
    st.rerun()


def add_corpus_tabs(ws: Workspace, prep: Preprocessing) -> None:
    """Upload files, paste text or take a bundled sample; each adds a corpus with ``prep``."""
    tab_upload, tab_paste, tab_sample = st.tabs(["Upload files", "Paste text", "Bundled sample"])

    with tab_upload:
        try:
            limits = Limits.from_env()
        except InputError as exc:  # a bad EMBEDDINGS_MAX_UPLOAD_MB: say so, and keep the default
            st.error(md(exc), icon=":material/error:")
            limits = Limits()
        files = st.file_uploader("Files: .txt .md .csv .tsv .jsonl .html .pdf .docx, or a .zip of them",
                                 type=UPLOAD_TYPES, accept_multiple_files=True, key="uploads") or []
        c1, c2 = st.columns(2)
        split = c1.radio("Documents in a .txt/.md/.html file", list(SPLITS), key="txt_split", horizontal=True,
                         format_func=SPLITS.get, help=SPLIT_HELP)
        header = c2.checkbox("The first row of a .csv/.tsv file names its columns", value=True, key="csv_header",
                             help="Off: the first row is data, and the columns are called column 1, column 2…")
        text_fields: dict[str, str] = {}
        for f in files:
            with guard(f.name):
                if format_of(f.name) in ("csv", "tsv", "jsonl"):
                    fields = inspect_fields(Source(f.name, f.getvalue(), header=header))
                    if fields:
                        text_fields[f.name] = st.selectbox(f"Text column in {md(f.name)} (other columns are kept "
                                                           "as metadata)", fields, key=f"field_{f.name}")
        default_name = Path(files[0].name).stem if files else ""
        upload_name = st.text_input("Corpus name", placeholder=default_name or "my-corpus", key="upload_name")

        def upload_sources() -> list[Source]:
            return [Source(f.name, f.getvalue(), text_fields.get(f.name), lines_as_documents=split == "lines",
                           whole_file=split == "file", sections=split == "sections", header=header) for f in files]

        b1, b2 = st.columns([1, 4])
        if b1.button("Add corpus", type="primary", disabled=not files, key="add_upload"):
            with guard("adding the corpus"):
                add_and_select(ws, upload_name or default_name, sources=upload_sources(), preprocessing=prep, limits=limits)
        with b2:
            if files:
                show_preview("upload", lambda: read_documents(upload_sources(), limits)[0], prep)

    with tab_paste:
        pasted = st.text_area("Text", height=180, key="paste_text",
                              placeholder="Paste any text. Blank lines separate paragraphs.")
        paste_lines = st.checkbox("Each line is a document", key="paste_lines",
                                  help="Off: each paragraph (between blank lines) is a document.")
        paste_name = st.text_input("Corpus name", placeholder="pasted", key="paste_name")
        paste_src = Source("pasted text.txt", pasted.encode("utf-8"), lines_as_documents=paste_lines)
        b1, b2 = st.columns([1, 4])
        if b1.button("Add corpus", type="primary", disabled=not pasted.strip(), key="add_paste"):
            with guard("adding the corpus"):
                add_and_select(ws, paste_name or "pasted", sources=[paste_src], preprocessing=prep)
        with b2:
            if pasted.strip():
                show_preview("paste", lambda: read_documents([paste_src])[0], prep)

    with tab_sample:
        key = st.radio("Sample", list(SAMPLES), format_func=lambda k: SAMPLES[k].title, key="sample_key",
                       horizontal=True)
        sample = SAMPLES[key]
        st.markdown(f"{sample.description}  \n*{sample.licence}*")
        sample_name = st.text_input("Corpus name", placeholder=key, key="sample_name")
        b1, b2 = st.columns([1, 4])
        if b1.button("Add corpus", type="primary", key="add_sample"):
            with guard("adding the sample"):
                name = sample_name or key
                ws.check_new_name("corpus", name)
                add_and_select(ws, name, documents=sample.load(), preprocessing=prep, source_label=f"sample:{key}")
        with b2:
            show_preview("sample", sample.load, prep)
