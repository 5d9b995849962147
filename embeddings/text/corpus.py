"""Corpora: statistics and the workspace artefact (text to tokens is :mod:`embeddings.text.preprocess`).

A corpus is made from documents (see :mod:`embeddings.readers` and
:mod:`embeddings.text.samples`) by :func:`add_corpus`, which tokenises them with the
options of :class:`Preprocessing` and saves one folder in the workspace::

    documents.parquet   doc, source, text, meta.<column>...
    document_counts.parquet  doc, tokens, sentences (kept apart so that the documents are
                        written before the sentence pass, while memory is lowest)
    sentences.txt       one sentence per line, tokens separated by spaces
                        (gensim's LineSentence / corpus_file format, ready to train on)
    sentences.parquet   doc, text: the raw text of each line of sentences.txt
    vocab.parquet       term, count, documents (document frequency), by count
    phrases.parquet     phrase, count, score: the phrases gensim's Phrases detected, by score
    stats.json          the figures shown on the corpus page

Example
-------
>>> import tempfile
>>> from embeddings.store.workspace import Workspace
>>> from embeddings.readers import Document
>>> ws = Workspace(tempfile.mkdtemp())
>>> c = add_corpus(ws, "tiny", documents=[Document("The cat sat. The dog ran!", "t.txt")])
>>> c.stats["documents"], c.stats["sentences"], c.stats["tokens"], c.stats["vocabulary"]
(1, 2, 6, 5)
>>> list(c.sentences())
[['the', 'cat', 'sat'], ['the', 'dog', 'ran']]
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from embeddings.errors import DamagedError, InputError
from embeddings.progress import Progress, no_progress
from embeddings.readers import Document, FileInfo, Limits, Source, read_source
from embeddings.store.artefact import Artefact
from embeddings.store.files import atomic_write_json
from embeddings.store.workspace import Workspace
from embeddings.text.boilerplate import strip_boilerplate
from embeddings.text.ingest import META_PREFIX, meta_column, write_corpus
from embeddings.text.preprocess import Preprocessing

KIND = "corpus"
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
        return Preprocessing.from_params(self.params["preprocessing"])

    @property
    def sentences_path(self) -> Path:
        """Path of ``sentences.txt``, for gensim's ``corpus_file`` training mode."""
        return self.path / "sentences.txt"

    #: the files every saved corpus has (document_counts.parquet came later and is optional)
    FILES = ("documents.parquet", "sentences.txt", "sentences.parquet", "vocab.parquet", "phrases.parquet",
             "stats.json")

    def problem(self) -> str | None:
        """Why this corpus cannot be read (a missing or unreadable file), or None. Cheap:
        file checks and parquet footers only."""
        import pyarrow.parquet as pq

        for fname in self.FILES:
            if not (self.path / fname).is_file():
                return f"{fname} is missing"
        for fname in self.FILES:
            if fname.endswith(".parquet"):
                try:
                    pq.read_metadata(self.path / fname)
                except (OSError, ValueError) as exc:
                    return f"{fname} is unreadable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        return None

    def _table(self, fname: str) -> pd.DataFrame:
        try:
            return pd.read_parquet(self.path / fname)
        except (OSError, ValueError) as exc:
            raise DamagedError(KIND, self.name, self.problem() or f"{fname} is unreadable") from exc

    def sentences(self) -> Iterator[list[str]]:
        """Tokenised sentences, streamed from disk (restartable, as gensim needs)."""
        if not self.sentences_path.is_file():
            raise DamagedError(KIND, self.name, "sentences.txt is missing")
        with open(self.sentences_path, encoding="utf-8") as fh:
            for line in fh:
                yield line.split()

    def label_columns(self) -> list[str]:
        """The metadata fields that could be labels: 2 to 200 distinct values, each repeated
        (an id or free text is not a label)."""
        docs, out = self.documents(), []
        for column in docs.columns:
            if column.startswith(META_PREFIX):
                values = docs[column].dropna().astype(str)
                distinct = values.nunique()
                if 2 <= distinct <= 200 and distinct < len(values) / 2:
                    out.append(column.removeprefix(META_PREFIX))
        return out

    def labels(self, name: str, docs: pd.DataFrame | None = None) -> pd.Series:
        """The metadata field ``name`` of each document (of ``docs``, a slice of the documents);
        a field the corpus lacks is refused, naming its label-like fields."""
        docs = self.documents() if docs is None else docs
        if meta_column(name) not in docs:
            found = self.label_columns()
            raise InputError(f"{self.name} has no column {name!r}; "
                             + (f"its label-like columns are: {', '.join(found)}." if found else
                                "it has no label column. Add the corpus from a CSV or JSONL file whose other "
                                "columns are kept as metadata, one of them holding each document's label."))
        return docs[meta_column(name)]

    def documents(self) -> pd.DataFrame:
        """``doc, source, text, tokens, sentences, meta.<column>...``, one row per document."""
        docs = self._table("documents.parquet")
        counts_path = self.path / "document_counts.parquet"
        if "tokens" in docs or not counts_path.exists():  # written before the counts had a file of their own
            return docs
        counts = self._table("document_counts.parquet")
        docs.insert(3, "tokens", counts["tokens"].to_numpy())
        docs.insert(4, "sentences", counts["sentences"].to_numpy())
        return docs

    def sentence_table(self) -> pd.DataFrame:
        return self._table("sentences.parquet")

    def vocabulary(self) -> pd.DataFrame:
        """``term, count, documents``, most frequent first."""
        return self._table("vocab.parquet")

    def phrases(self) -> pd.DataFrame:
        return self._table("phrases.parquet")

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


def read_documents(sources: Iterable[Source], limits: Limits | None = None,
                   progress: Progress = no_progress) -> tuple[list[Document], list[FileInfo]]:
    """Read every source; the first unusable one raises :class:`InputError`.

    ``sources`` may be a generator: each file's bytes are then dropped once it is read."""
    documents: list[Document] = []
    files: list[FileInfo] = []
    for i, src in enumerate(sources):
        progress(0.0, f"Reading {src.name} (file {i + 1})")
        docs, infos = read_source(src, limits)
        del src  # the bytes: only the decoded documents are kept
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
    progress: Progress = no_progress,
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
    documents = [d for d in documents if d.text and not d.text.isspace()]  # isspace: no copy of a long text
    if not documents:
        raise InputError("There is no text to make a corpus from.")
    files = files or _infos_by_source(documents)
    boilerplate = None
    if prep.boilerplate:
        progress(0.05, "Finding boilerplate lines")
        documents, boilerplate = strip_boilerplate(documents)
        documents = [d for d in documents if d.text and not d.text.isspace()]
        if not documents:
            raise InputError("Every line of this text is boilerplate (repeated across the documents); "
                             "add it again with boilerplate removal off.")
    params = {
        "preprocessing": asdict(prep),
        "source": source_label or ", ".join(f.file for f in files if "/" not in f.file)[:500],
    }

    def build(folder: Path) -> dict:
        stats = write_corpus(folder, documents, files, prep, lambda f, m: progress(0.1 + 0.9 * f, m))
        if boilerplate is not None:
            stats["boilerplate"] = boilerplate.to_dict()
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

