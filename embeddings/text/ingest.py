"""Writing a corpus: the documents stream through preprocessing into the artefact's files.

:func:`write_corpus` fills a new corpus folder with the files listed in
:mod:`embeddings.text.corpus`, inside :meth:`Workspace.create`, so a failure leaves nothing behind.
The documents are written first, in batches; then one streaming pass tokenises, detects
phrases and counts. Memory stays near one batch of text plus the vocabulary counts.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.progress import Progress
from embeddings.readers import Document, FileInfo
from embeddings.store.files import atomic_write_json
from embeddings.text.preprocess import Preprocessing, _Finisher, _phrase_table, _tokenised_units


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
            owners = array.array("q")     # a sentence's document: 8 bytes each, not a list of ints
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


#: a document's metadata (a CSV column, a JSON field, a zip's folder) is the column ``meta.<name>``
META_PREFIX = "meta."


def meta_column(name: str) -> str:
    """The documents table's column holding the metadata field ``name``."""
    return META_PREFIX + name


def _write_documents(path: Path, documents: Sequence[Document], batch: int = 2_000) -> None:
    """``documents.parquet`` in row groups: doc, source, text, meta.<column>..."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta_cols = list(dict.fromkeys(k for d in documents for k in d.meta))
    schema = pa.schema([("doc", pa.int32()), ("source", pa.string()), ("text", pa.string()),
                        *[(meta_column(c), pa.string()) for c in meta_cols]])
    # No dictionary, statistics or compression for the text: for a long document each one
    # makes another copy of it (a 50 MB document would cost about 400 MB to write).
    small = ["doc", "source", *[meta_column(c) for c in meta_cols]]
    with pq.ParquetWriter(path, schema, use_dictionary=small[1:], write_statistics=small,
                          compression={c: "snappy" for c in small} | {"text": "none"}) as writer:
        for start in range(0, len(documents), batch):
            chunk = documents[start:start + batch]
            columns = {"doc": np.arange(start, start + len(chunk), dtype=np.int32),
                       "source": [d.source for d in chunk], "text": [d.text for d in chunk]}
            for c in meta_cols:
                columns[meta_column(c)] = [d.meta.get(c) for d in chunk]
            writer.write_table(pa.table(columns, schema=schema))


def write_corpus(folder: Path, documents: Sequence[Document], files: list[FileInfo], prep: Preprocessing,
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
