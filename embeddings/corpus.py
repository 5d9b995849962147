"""Corpora: preprocessing, phrase detection, statistics, and the workspace artefact.

A corpus is made from documents (see :mod:`embeddings.readers` and
:mod:`embeddings.samples`) by :func:`add_corpus`, which tokenises them with the
options of :class:`Preprocessing` and saves one folder in the workspace::

    documents.parquet   doc, source, text, tokens, sentences, meta.<column>...
    sentences.txt       one sentence per line, tokens separated by spaces
                        (gensim's LineSentence / corpus_file format, ready to train on)
    sentences.parquet   doc, text: the raw text of each line of sentences.txt
    vocab.parquet       term, count, documents (document frequency), by count
    phrases.parquet     phrase, count, score: the phrases gensim's Phrases detected, by score
    stats.json          the figures shown on the corpus page

Example
-------
>>> import tempfile
>>> from embeddings.workspace import Workspace
>>> from embeddings.readers import Document
>>> ws = Workspace(tempfile.mkdtemp())
>>> c = add_corpus(ws, "tiny", documents=[Document("The cat sat. The dog ran!", "t.txt")])
>>> c.stats["documents"], c.stats["sentences"], c.stats["tokens"], c.stats["vocabulary"]
(1, 2, 6, 5)
>>> list(c.sentences())
[['the', 'cat', 'sat'], ['the', 'dog', 'ran']]
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .readers import Document, FileInfo, Limits, Source, read_source
from .workspace import Artefact, Workspace, atomic_write_json

KIND = "corpus"
#: progress(fraction in [0, 1], message)
Progress = Callable[[float, str], None]
PHRASE_MODES = ("none", "bigrams", "trigrams")
_PHRASE_DELIMITERS = ("\x1f", "\x1e")  # one per Phrases pass; both shown as "_"

# A token is a run of word characters, with inner hyphens or apostrophes kept
# ("south-west", "don't"). Phrases are joined with "_" afterwards ("new_york").
TOKEN_RE = re.compile(r"\w+(?:[-'\u2019]\w+)*")


def _no_progress(fraction: float, message: str) -> None:
    pass


@dataclass(frozen=True)
class Preprocessing:
    """How text becomes tokens. Every field is recorded with the corpus."""

    lowercase: bool = True
    strip_accents: bool = False
    #: tokens shorter than this (in characters) are dropped
    min_length: int = 1
    #: drop gensim's English stopwords (``gensim.parsing.preprocessing.STOPWORDS``)
    stopwords: bool = False
    #: keep tokens that contain no letter ("2001", "4,000")
    numbers: bool = True
    #: split documents into sentences (paragraphs, then NLTK's Punkt); else one line per document
    sentences: bool = True
    #: gensim Phrases: "none", "bigrams" or "trigrams" (two passes)
    phrases: str = "none"
    phrase_threshold: float = 10.0
    phrase_min_count: int = 5

    def __post_init__(self):
        if self.phrases not in PHRASE_MODES:
            raise InputError(f"phrases must be one of {', '.join(PHRASE_MODES)}, not {self.phrases!r}.")
        if self.min_length < 1:
            raise InputError("The minimum token length must be at least 1.")
        if self.phrase_threshold <= 0 or self.phrase_min_count < 1:
            raise InputError("The phrase threshold must be positive and the phrase min count at least 1.")

    def describe(self) -> str:
        parts = ["lowercase" if self.lowercase else "cased"]
        if self.strip_accents:
            parts.append("accents stripped")
        if self.min_length > 1:
            parts.append(f"tokens ≥ {self.min_length} chars")
        if self.stopwords:
            parts.append("stopwords removed")
        if not self.numbers:
            parts.append("numbers dropped")
        parts.append("sentence split" if self.sentences else "one line per document")
        if self.phrases != "none":
            parts.append(f"{self.phrases} (threshold {self.phrase_threshold:g})")
        return ", ".join(parts)


# -- tokenising -----------------------------------------------------------------
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
_punkt = None
# Punkt's trained English model is a download; instead its parameters are seeded with
# common English abbreviations (lowercase, without the final period), so "Mr. Smith"
# and "4 p.m. on Monday" stay whole. Words that also end sentences (no, sat, sun, mar)
# are left out.
ABBREVIATIONS = frozenset("""
mr mrs ms dr prof sr jr st mt ft co corp inc ltd plc bros dept univ gov lt sgt capt cmdr adm maj rev hon pres
vs etc e.g i.e cf approx vol vols fig figs eq eqs pp jan feb apr jun jul aug sep sept oct nov dec
a.m p.m u.s u.k u.n e.u d.c ph.d
""".split())


def split_sentences(text: str) -> list[str]:
    """Split a document into sentences: blank lines first, then NLTK's Punkt.

    >>> split_sentences("Mr. Smith arrived at 4 p.m. on Monday. He left.")
    ['Mr. Smith arrived at 4 p.m. on Monday.', 'He left.']
    """
    global _punkt
    if _punkt is None:
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

        params = PunktParameters()
        params.abbrev_types = set(ABBREVIATIONS)
        _punkt = PunktSentenceTokenizer(params)
    out = []
    for para in _PARAGRAPH_RE.split(text):
        para = para.strip()
        if para:
            out.extend(s.strip() for s in _punkt.tokenize(para) if s.strip())
    return out


class _Tokeniser:
    def __init__(self, prep: Preprocessing):
        from gensim.utils import deaccent

        self.prep = prep
        self._deaccent = deaccent

    def __call__(self, text: str) -> list[str]:
        prep = self.prep
        if prep.strip_accents:
            text = self._deaccent(text)
        if prep.lowercase:
            text = text.lower()
        tokens = TOKEN_RE.findall(text)
        if prep.min_length > 1:
            tokens = [t for t in tokens if len(t) >= prep.min_length]
        if not prep.numbers:
            tokens = [t for t in tokens if any(c.isalpha() for c in t)]
        return tokens


def tokenize(text: str, prep: Preprocessing | None = None) -> list[str]:
    """Tokens of one text under ``prep`` (stopwords and phrases are corpus-level steps).

    >>> tokenize("Café in New-York, 2001!", Preprocessing(strip_accents=True, numbers=False))
    ['cafe', 'in', 'new-york']
    """
    return _Tokeniser(prep or Preprocessing())(text)


@dataclass
class Tokenised:
    """The result of preprocessing: aligned lists, one entry per kept sentence."""

    sentences: list[list[str]]
    sentence_text: list[str]
    sentence_doc: list[int]
    #: phrase -> (score); from gensim's Phrases
    phrase_scores: dict[str, float] = field(default_factory=dict)


def preprocess(documents: Sequence[Document], prep: Preprocessing, progress: Progress = _no_progress) -> Tokenised:
    """Tokenise documents, detect phrases, remove stopwords."""
    tok = _Tokeniser(prep)
    sentences: list[list[str]] = []
    texts: list[str] = []
    owners: list[int] = []
    step = max(1, len(documents) // 50)
    for i, doc in enumerate(documents):
        units = split_sentences(doc.text) if prep.sentences else [doc.text]
        for unit in units:
            tokens = tok(unit)
            if tokens:
                sentences.append(tokens)
                texts.append(unit if prep.sentences else " ".join(unit.split()))
                owners.append(i)
        if i % step == 0:
            progress(0.7 * (i + 1) / len(documents), f"Tokenising document {i + 1:,} of {len(documents):,}")

    scores: dict[str, float] = {}
    if prep.phrases != "none" and sentences:
        from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

        # Each pass joins with its own control character: gensim's freeze()/export_phrases
        # split a phrase on the delimiter, so a trigram pass over "new_york" + "city" with one
        # shared delimiter (or a corpus token like "__init__") would be mis-scored. The
        # delimiters become "_" at the end.
        delimiters = _PHRASE_DELIMITERS[: 2 if prep.phrases == "trigrams" else 1]
        for layer, delimiter in enumerate(delimiters):
            progress(0.7 + 0.1 * layer, f"Detecting phrases (pass {layer + 1} of {len(delimiters)})")
            model = Phrases(
                sentences,
                min_count=prep.phrase_min_count,
                threshold=prep.phrase_threshold,
                delimiter=delimiter,
                connector_words=ENGLISH_CONNECTOR_WORDS,
            ).freeze()
            scores.update(model.phrasegrams)
            sentences = [model[s] for s in sentences]
        table = str.maketrans({d: "_" for d in delimiters})
        sentences = [[t.translate(table) for t in s] for s in sentences]
        scores = {p.translate(table): score for p, score in scores.items()}

    if prep.stopwords:
        from gensim.parsing.preprocessing import STOPWORDS

        sentences = [[t for t in s if t.lower() not in STOPWORDS] for s in sentences]
    keep = [i for i, s in enumerate(sentences) if s]
    if len(keep) != len(sentences):
        sentences = [sentences[i] for i in keep]
        texts = [texts[i] for i in keep]
        owners = [owners[i] for i in keep]
    return Tokenised(sentences, texts, owners, scores)


# -- statistics -----------------------------------------------------------------
def _vocabulary(tok: Tokenised) -> pd.DataFrame:
    counts: Counter[str] = Counter()
    doc_sets: dict[int, set[str]] = {}
    for doc, sent in zip(tok.sentence_doc, tok.sentences):
        counts.update(sent)
        doc_sets.setdefault(doc, set()).update(sent)
    doc_freq: Counter[str] = Counter()
    for terms in doc_sets.values():
        doc_freq.update(terms)
    vocab = pd.DataFrame(
        {"term": list(counts), "count": list(counts.values()), "documents": [doc_freq[t] for t in counts]}
    )
    return vocab.sort_values(["count", "term"], ascending=[False, True], ignore_index=True)


def _phrase_table(tok: Tokenised, vocab: pd.DataFrame) -> pd.DataFrame:
    counts = dict(zip(vocab["term"], vocab["count"]))
    rows = [(p, counts[p], float(s)) for p, s in tok.phrase_scores.items() if p in counts]
    table = pd.DataFrame(rows, columns=["phrase", "count", "score"])
    return table.sort_values(["score", "count"], ascending=False, ignore_index=True)


# -- the artefact ---------------------------------------------------------------
class Corpus:
    """A saved corpus. Cheap to construct: tables are read when asked for."""

    def __init__(self, artefact: Artefact):
        self.artefact = artefact

    id = property(lambda self: self.artefact.id)
    name = property(lambda self: self.artefact.name)
    path = property(lambda self: self.artefact.path)
    created_at = property(lambda self: self.artefact.created_at)

    @property
    def stats(self) -> dict:
        return self.artefact.summary

    @property
    def params(self) -> dict:
        return self.artefact.params

    @property
    def preprocessing(self) -> Preprocessing:
        return Preprocessing(**self.params["preprocessing"])

    @property
    def sentences_path(self) -> Path:
        """Path of ``sentences.txt``, for gensim's ``corpus_file`` training mode."""
        return self.path / "sentences.txt"

    def sentences(self) -> Iterator[list[str]]:
        """Tokenised sentences, streamed from disk (restartable, as gensim needs)."""
        with open(self.sentences_path, encoding="utf-8") as fh:
            for line in fh:
                yield line.split()

    def documents(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "documents.parquet")

    def sentence_table(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "sentences.parquet")

    def vocabulary(self) -> pd.DataFrame:
        """``term, count, documents``, most frequent first."""
        return pd.read_parquet(self.path / "vocab.parquet")

    def phrases(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "phrases.parquet")

    def top_terms(self, n: int = 20) -> pd.DataFrame:
        return self.vocabulary().head(n)

    def summary(self) -> dict:
        """The JSON the CLI prints for this corpus."""
        s = self.stats
        return {
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at,
            "documents": s["documents"],
            "sentences": s["sentences"],
            "tokens": s["tokens"],
            "vocabulary": s["vocabulary"],
            "type_token_ratio": s["type_token_ratio"],
            "source": self.params.get("source"),
            "preprocessing": self.params.get("preprocessing"),
        }

    def __repr__(self) -> str:
        s = self.stats
        return f"Corpus({self.name!r}, documents={s['documents']}, tokens={s['tokens']}, vocabulary={s['vocabulary']})"


def _write_corpus(folder: Path, documents: Sequence[Document], files: list[FileInfo], tok: Tokenised,
                  progress: Progress) -> dict:
    progress(0.85, "Computing statistics")
    vocab = _vocabulary(tok)
    phrases = _phrase_table(tok, vocab)
    n_docs = len(documents)
    doc_tokens = np.bincount(np.asarray(tok.sentence_doc, dtype=np.int64),
                             weights=[len(s) for s in tok.sentences], minlength=n_docs).astype(np.int64)
    doc_sents = np.bincount(np.asarray(tok.sentence_doc, dtype=np.int64), minlength=n_docs)
    tokens_per_file: Counter[str] = Counter()
    for d, n in zip(documents, doc_tokens):
        tokens_per_file[d.source] += int(n)

    progress(0.9, "Writing files")
    digest = hashlib.sha256()
    with open(folder / "sentences.txt", "w", encoding="utf-8", newline="\n") as fh:
        for sent in tok.sentences:
            line = " ".join(sent) + "\n"
            fh.write(line)
            digest.update(line.encode("utf-8"))
    meta_frame = pd.DataFrame([d.meta for d in documents]).add_prefix("meta.")
    doc_frame = pd.DataFrame({
        "doc": np.arange(n_docs, dtype=np.int32),
        "source": [d.source for d in documents],
        "text": [d.text for d in documents],
        "tokens": doc_tokens,
        "sentences": doc_sents,
    })
    if not meta_frame.empty:
        doc_frame = pd.concat([doc_frame, meta_frame.astype("string")], axis=1)
    doc_frame.to_parquet(folder / "documents.parquet", index=False)
    pd.DataFrame({"doc": np.asarray(tok.sentence_doc, dtype=np.int32), "text": tok.sentence_text}).to_parquet(
        folder / "sentences.parquet", index=False)
    vocab.to_parquet(folder / "vocab.parquet", index=False)
    phrases.to_parquet(folder / "phrases.parquet", index=False)

    n_tokens = int(vocab["count"].sum())
    file_rows = []
    for f in files:
        row = asdict(f)
        if f.format != "zip":
            row["tokens"] = tokens_per_file.get(f.file, 0)
        file_rows.append(row)
    stats = {
        "documents": n_docs,
        "sentences": len(tok.sentences),
        "tokens": n_tokens,
        "vocabulary": len(vocab),
        "type_token_ratio": round(len(vocab) / n_tokens, 6),
        "hapax": int((vocab["count"] == 1).sum()),
        "mean_document_tokens": round(float(doc_tokens.mean()), 2),
        "phrases": len(phrases),
        "files": file_rows,
        "sha256": digest.hexdigest(),
    }
    atomic_write_json(folder / "stats.json", stats)
    return stats


def read_documents(sources: Iterable[Source], limits: Limits | None = None,
                   progress: Progress = _no_progress) -> tuple[list[Document], list[FileInfo]]:
    """Read every source; the first unusable one raises :class:`InputError`."""
    sources = list(sources)
    documents: list[Document] = []
    files: list[FileInfo] = []
    for i, src in enumerate(sources):
        progress(0.0, f"Reading {src.name} ({i + 1} of {len(sources)})")
        docs, infos = read_source(src, limits)
        documents.extend(docs)
        files.extend(infos)
    return documents, files


def add_corpus(
    ws: Workspace,
    name: str,
    *,
    sources: Sequence[Source] = (),
    documents: Sequence[Document] | None = None,
    files: list[FileInfo] | None = None,
    preprocessing: Preprocessing | None = None,
    limits: Limits | None = None,
    source_label: str | None = None,
    progress: Progress = _no_progress,
) -> Corpus:
    """Read, preprocess and save a corpus; return it.

    Give either ``sources`` (files to read) or ``documents`` (already read, e.g. a
    bundled sample). Nothing is saved unless every step succeeds.
    """
    prep = preprocessing or Preprocessing()
    name = ws.check_new_name(KIND, name)  # fail fast, before reading anything
    started = time.perf_counter()
    if documents is None:
        if not sources:
            raise InputError("Give at least one file, some text or a sample.")
        documents, files = read_documents(sources, limits, progress)
    documents = [d for d in documents if d.text.strip()]
    if not documents:
        raise InputError("There is no text to make a corpus from.")
    files = files or _infos_by_source(documents)
    tok = preprocess(documents, prep, lambda f, m: progress(0.1 + 0.75 * f, m))
    if not tok.sentences:
        raise InputError(
            f"No tokens are left after preprocessing ({prep.describe()}); relax the options "
            "(keep stopwords or numbers, lower the minimum length)."
        )
    params = {
        "preprocessing": asdict(prep),
        "source": source_label or ", ".join(f.file for f in files if "/" not in f.file)[:500],
    }

    def build(folder: Path) -> dict:
        stats = _write_corpus(folder, documents, files, tok, progress)
        stats["seconds"] = round(time.perf_counter() - started, 3)
        atomic_write_json(folder / "params.json", params)
        return stats

    art = ws.create(KIND, name, build, params=params)
    progress(1.0, "Saved")
    return Corpus(art)


def _infos_by_source(documents: Sequence[Document]) -> list[FileInfo]:
    """Per-source summary for documents that did not come from files (samples)."""
    infos: dict[str, FileInfo] = {}
    for d in documents:
        info = infos.setdefault(d.source, FileInfo(file=d.source, format="text", bytes=0, encoding="utf_8"))
        info.bytes += len(d.text.encode("utf-8"))
        info.documents += 1
    return list(infos.values())


def list_corpora(ws: Workspace) -> list[Corpus]:
    return [Corpus(a) for a in ws.list(KIND)]


def get_corpus(ws: Workspace, name_or_id: str) -> Corpus:
    return Corpus(ws.get(KIND, name_or_id))


def rename_corpus(ws: Workspace, name_or_id: str, new_name: str) -> Corpus:
    return Corpus(ws.rename(KIND, name_or_id, new_name))


def delete_corpus(ws: Workspace, name_or_id: str) -> None:
    ws.delete(KIND, name_or_id)


def zipf_table(vocab: pd.DataFrame) -> pd.DataFrame:
    """``rank, count, term`` for a log-log rank/frequency plot (rank 1 = most frequent)."""
    out = vocab[["term", "count"]].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out

