"""Self-made queries, for a corpus that comes without any: a proxy, and labelled as one.

- ``heading``: a section's heading is the query, the section the answer (a corpus read with
  sections: HTML h1–h3, Markdown ``#``–``###``, the heading kept out of the section's text;
  a leading section number such as ``3.1.`` is dropped from the query);
- ``title``: a metadata column (a title, a name) is the query, its document the answer (a CSV
  or JSONL corpus with a title field);
- ``cloze``: one sentence of a document is the query and the document the answer (the inverse
  cloze task of Lee, Chang & Toutanova 2019). Here the sentence stays in the document: the
  document spaces are already built, so the task is easier for BM25 than the original, where it
  is removed; the set's source says so.

Both are seeded, and the split of the queries into evaluation and training ones is saved with
the set (training queries are for fine-tuning; the benchmarks use the evaluation ones only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.evaluate.qrels import KIND, RetrievalSet, save_set
from embeddings.options import check, option
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import get_corpus
from embeddings.text.ingest import META_PREFIX
from embeddings.text.preprocess import iter_sentences

METHODS = {"heading": "a section's heading → its section",
           "title": "a metadata column (title, name) → its document",
           "cloze": "one sentence of a document → that document (the sentence is not removed)"}
MIN_WORDS, MAX_CHARS = 6, 300
HEADING = "heading"                              # the metadata field the section reader writes
_NUMBERING = re.compile(r"^\d+(?:\.\d+)*\.\s+|^\d+(?:\.\d+)+\s+")   # "3.1.1. ", "3. ", "3.1 "; not "1984 "


@dataclass(frozen=True)
class SelfMadeParams:
    """How many queries, and how many of them are kept for training."""

    queries: int = option(200, 10, 5000, "how many queries to make (at most one per document)", step=50)
    train_share: float = option(0.0, 0.0, 0.8, "the share kept for fine-tuning, never evaluated on", step=0.1)
    seed: int = option(0, 0, 10_000, "the seed of the draw and of the split")


def _query_text(value: str) -> str:
    """One line, without a leading section number.

    >>> _query_text("3.1.1.  Numbers"), _query_text("2to3 tool"), _query_text("1984 in review")
    ('Numbers', '2to3 tool', '1984 in review')
    """
    return _NUMBERING.sub("", " ".join(value.split()))[:MAX_CHARS]


def make_set(ws: Workspace, name: str, corpus_name: str, method: str, *, column: str | None = None,
             params: SelfMadeParams = SelfMadeParams()) -> RetrievalSet:
    check(params)
    if method not in METHODS:
        raise InputError(f"Unknown method {method!r}; expected one of {', '.join(METHODS)}.")
    corpus = get_corpus(ws, corpus_name)
    name = ws.check_new_name(KIND, name)
    docs = corpus.documents()
    rng = np.random.default_rng(params.seed)
    order = rng.permutation(len(docs))
    texts, picked = [], []
    if method == "heading":
        if META_PREFIX + HEADING not in docs:
            raise InputError(f"{corpus.name} was not read by sections, so its documents have no headings: add it "
                             "again with sections on (CLI --sections; on the Corpora page, one per section).")
        column = HEADING
    if method in ("title", "heading"):
        if not column or META_PREFIX + column not in docs:
            fields = [c[len(META_PREFIX):] for c in docs.columns if c.startswith(META_PREFIX)]
            raise InputError(f"Name the column that holds each document's title ({', '.join(fields) or 'none'}).")
        values = docs[META_PREFIX + column].fillna("").astype(str).map(_query_text)
        counts = values.value_counts()
        for i in order:          # a title shared by several documents cannot name one of them
            if values.iloc[i] and counts[values.iloc[i]] == 1:
                texts.append(values.iloc[i])
                picked.append(int(docs["doc"].iloc[i]))
            if len(texts) == params.queries:
                break
    else:
        for i in order:
            sentences = [s for s in iter_sentences(str(docs["text"].iloc[i]))
                         if len(s.split()) >= MIN_WORDS and len(s) <= MAX_CHARS]
            if len(sentences) >= 2:                   # a document of one sentence would be its own query
                texts.append(" ".join(sentences[int(rng.integers(len(sentences)))].split()))
                picked.append(int(docs["doc"].iloc[i]))
            if len(texts) == params.queries:
                break
    if len(texts) < 10:
        raise InputError(f"Only {len(texts)} queries could be made from {corpus.name} by {method}; at least 10 "
                         "are needed for a reading.")
    qids = [f"{method}-{k + 1}" for k in range(len(texts))]
    train = int(round(params.train_share * len(qids)))
    split = np.array(["eval"] * len(qids), dtype=object)
    split[rng.permutation(len(qids))[:train]] = "train"
    queries = pd.DataFrame({"qid": qids, "text": texts, "split": split})
    qrels = pd.DataFrame({"qid": qids, "doc": picked, "relevance": 1})
    named = f", column {column}" if method == "title" else ""
    source = f"self-made ({METHODS[method]}{named}; a proxy for real queries)"
    return save_set(ws, name, corpus, queries, qrels, source,
                    {"method": method, "column": column, "seed": params.seed, "train_share": params.train_share})
