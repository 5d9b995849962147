"""Corpora: statistics and the workspace artefact (text to tokens is :mod:`embeddings.preprocess`).

A corpus is made from documents (see :mod:`embeddings.readers` and
:mod:`embeddings.samples`) by :func:`add_corpus`, which tokenises them with the
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

import contextlib
import hashlib
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DamagedError, InputError
from .preprocess import (  # noqa: F401  (re-exported: callers import these from embeddings.corpus)
    ABBREVIATIONS, MAX_BLOCK_CHARS, PHRASE_MODES, PHRASE_SCORING, PREVIEW_CHARS, RECOMMENDED, TOKEN_RE, PhrasePreview,
    Preprocessing, Tokenised, Unit,
    _Finisher, _phrase_table, _tokenised_units, blocks, is_content_phrase, iter_sentences, preprocess, preview_phrases,
    split_sentences, tokenize, units)
from .progress import Progress, no_progress
from .readers import Document, FileInfo, Limits, Source, read_source
from .workspace import Artefact, Workspace, atomic_write_json

KIND = "corpus"
# -- statistics -----------------------------------------------------------------
class _Tally:
    """Term counts and document frequencies, fed one sentence at a time (the sentences of a
    document arrive together, in document order)."""

    def __init__(self, n_docs: int):
        self.counts: Counter[str] = Counter()
        self.doc_freq: Counter[str] = Counter()
        self.doc_tokens = np.zeros(n_docs, dtype=np.int64)
        self.doc_sentences = np.zeros(n_docs, dtype=np.int64)
        self._doc, self._terms = -1, set()

    def add(self, doc: int, tokens: list[str]) -> None:
        if doc != self._doc:
            self.doc_freq.update(self._terms)
            self._doc, self._terms = doc, set()
        self.counts.update(tokens)
        self._terms.update(tokens)
        self.doc_tokens[doc] += len(tokens)
        self.doc_sentences[doc] += 1

    def vocabulary(self) -> pd.DataFrame:
        self.doc_freq.update(self._terms)
        self._terms = set()
        counts = self.counts
        vocab = pd.DataFrame({"term": list(counts), "count": np.fromiter(counts.values(), np.int64, len(counts)),
                              "documents": np.fromiter((self.doc_freq[t] for t in counts), np.int64, len(counts))})
        return vocab.sort_values(["count", "term"], ascending=[False, True], ignore_index=True)


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


class _SentenceWriter:
    """``sentences.parquet`` (doc, text), written in row groups as the sentences stream by."""

    BATCH_CHARS = 8_000_000

    def __init__(self, path: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.schema = pa.schema([("doc", pa.int32()), ("text", pa.string())])
        self.writer = pq.ParquetWriter(path, self.schema, use_dictionary=["doc"], write_statistics=["doc"])
        self.docs: list[int] = []
        self.texts: list[str] = []
        self.chars = 0

    def add(self, doc: int, text: str) -> None:
        self.docs.append(doc)
        self.texts.append(text)
        self.chars += len(text)
        if self.chars > self.BATCH_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.docs:
            self.writer.write_table(self.pa.table({"doc": self.pa.array(self.docs, self.pa.int32()),
                                                   "text": self.pa.array(self.texts, self.pa.string())},
                                                  schema=self.schema))
        self.docs, self.texts, self.chars = [], [], 0

    def write_batch(self, batch) -> None:
        """Append a record batch of the same schema (already filtered or staged)."""
        self.flush()
        self.writer.write_batch(batch)

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _token_lines(path: Path) -> Iterator[list[str]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield line.rstrip("\n").split(" ")


def _write_sentences(folder: Path, documents: Sequence[Document], prep: Preprocessing, progress: Progress
                     ) -> tuple[_Tally, dict[str, float], int, str]:
    """Stream the documents through tokenising, phrases and stopwords into ``sentences.txt`` and
    ``sentences.parquet``, counting terms on the way. Nothing but the vocabulary is held in
    memory: without phrases it is one pass; with phrases the raw tokens go to a scratch file
    that Phrases reads once per layer, then a last pass applies them.

    Returns the tally, the phrase scores, the number of sentences and the SHA-256 of sentences.txt.
    """
    finish = _Finisher(prep)
    tally = _Tally(len(documents))
    digest = hashlib.sha256()
    texts = _SentenceWriter(folder / "sentences.parquet")
    n_sentences = 0
    scores: dict[str, float] = {}
    with open(folder / "sentences.txt", "w", encoding="utf-8", newline="\n") as out:
        def keep(doc: int, text: str | None, tokens: list[str]) -> bool:
            nonlocal n_sentences
            tokens = finish(tokens)
            if not tokens:
                return False
            line = " ".join(tokens) + "\n"
            out.write(line)
            digest.update(line.encode("utf-8"))
            tally.add(doc, tokens)
            if text is not None:
                texts.add(doc, text)
            n_sentences += 1
            return True

        stream = _tokenised_units(documents, prep, lambda f, m: progress(0.75 * f if finish.delimiters else 0.85 * f,
                                                                         m))
        if not finish.delimiters:
            for doc, text, tokens in stream:
                keep(doc, text, tokens)
        else:
            raw_path, raw_texts = folder / "tokens.scratch", folder / "texts.scratch.parquet"
            staged = _SentenceWriter(raw_texts)
            owners = []
            with open(raw_path, "w", encoding="utf-8", newline="\n") as raw:
                for doc, text, tokens in stream:
                    raw.write(" ".join(tokens) + "\n")
                    staged.add(doc, text)
                    owners.append(doc)
            staged.close()
            scores = finish.learn(lambda: _token_lines(raw_path), lambda f, m: progress(0.75 + 0.05 * f, m))
            progress(0.8, "Applying phrases")
            kept = np.fromiter((keep(doc, None, tokens) for doc, tokens in zip(owners, _token_lines(raw_path))),
                               dtype=bool, count=len(owners))
            import pyarrow.parquet as pq

            at = 0
            for batch in pq.ParquetFile(raw_texts).iter_batches(batch_size=20_000):
                mask = kept[at:at + batch.num_rows]
                at += batch.num_rows
                texts.write_batch(batch.filter(mask))
            raw_path.unlink()
            raw_texts.unlink()
    texts.close()
    return tally, scores, n_sentences, digest.hexdigest()


def _release_memory() -> None:
    """Hand freed memory back to the system (glibc keeps it by default); a no-op elsewhere."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _write_documents(path: Path, documents: Sequence[Document], batch: int = 2_000) -> None:
    """``documents.parquet`` in row groups: doc, source, text, meta.<column>..."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta_cols = list(dict.fromkeys(k for d in documents for k in d.meta))
    schema = pa.schema([("doc", pa.int32()), ("source", pa.string()), ("text", pa.string()),
                        *[(f"meta.{c}", pa.string()) for c in meta_cols]])
    # No dictionary, statistics or compression for the text: for a long document each one
    # makes another copy of it (a 50 MB document would cost about 400 MB to write).
    small = ["doc", "source", *[f"meta.{c}" for c in meta_cols]]
    with pq.ParquetWriter(path, schema, use_dictionary=small[1:], write_statistics=small,
                          compression={c: "snappy" for c in small} | {"text": "none"}) as writer:
        for start in range(0, len(documents), batch):
            chunk = documents[start:start + batch]
            columns = {"doc": np.arange(start, start + len(chunk), dtype=np.int32),
                       "source": [d.source for d in chunk], "text": [d.text for d in chunk]}
            for c in meta_cols:
                columns[f"meta.{c}"] = [d.meta.get(c) for d in chunk]
            writer.write_table(pa.table(columns, schema=schema))


def _write_corpus(folder: Path, documents: Sequence[Document], files: list[FileInfo], prep: Preprocessing,
                  progress: Progress) -> dict:
    progress(0.0, "Writing the documents")
    _write_documents(folder / "documents.parquet", documents)  # first: memory is lowest now
    _release_memory()
    tally, scores, n_sentences, sha = _write_sentences(folder, documents, prep, progress)
    if not n_sentences:
        raise InputError(
            f"No tokens are left after preprocessing ({prep.describe()}); relax the options "
            "(keep stopwords or numbers, lower the minimum length)."
        )
    progress(0.85, "Computing statistics")
    vocab = tally.vocabulary()
    phrases = _phrase_table(scores, vocab)
    tokens_per_file: Counter[str] = Counter()
    for d, n in zip(documents, tally.doc_tokens):
        tokens_per_file[d.source] += int(n)

    progress(0.9, "Writing files")
    pd.DataFrame({"doc": np.arange(len(documents), dtype=np.int32), "tokens": tally.doc_tokens,
                  "sentences": tally.doc_sentences}).to_parquet(folder / "document_counts.parquet", index=False)
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
        "documents": len(documents),
        "sentences": n_sentences,
        "tokens": n_tokens,
        "vocabulary": len(vocab),
        "type_token_ratio": round(len(vocab) / n_tokens, 6),
        "hapax": int((vocab["count"] == 1).sum()),
        "mean_document_tokens": round(float(tally.doc_tokens.mean()), 2),
        "phrases": len(phrases),
        "files": file_rows,
        "sha256": sha,
    }
    atomic_write_json(folder / "stats.json", stats)
    return stats


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
    params = {
        "preprocessing": asdict(prep),
        "source": source_label or ", ".join(f.file for f in files if "/" not in f.file)[:500],
    }

    def build(folder: Path) -> dict:
        stats = _write_corpus(folder, documents, files, prep, lambda f, m: progress(0.1 + 0.9 * f, m))
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

