"""The systems that rank a corpus's documents for a query (retrieval, #29): BM25 over the
corpus's own tokens, dense search with a document space (max-sim over kept chunks; through
the approximate index above its threshold), and their reciprocal rank fusion.
:mod:`embeddings.evaluate.retrieval` runs them on a retrieval set and compares them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from embeddings.errors import InputError
from embeddings.evaluate.ir import DEPTH, reciprocal_rank_fusion
from embeddings.models.docspaces import document_rows
from embeddings.options import option
from embeddings.space import EmbeddingSpace
from embeddings.text.corpus import Corpus
from embeddings.text.preprocess import query_tokens

BM25 = "BM25"
HIT_AT = 10        #: a query is "found" by a system when a relevant document is in its top 10


@dataclass(frozen=True)
class RetrievalParams:
    """Retrieval's options (the Choose page and ``benchmark --task retrieval``)."""

    rrf_k: int = option(60, 1, 1000, "reciprocal rank fusion's k: a larger k flattens the weight of the top ranks")
    k1: float = option(1.5, 0.0, 3.0, "BM25's term-frequency saturation", step=0.1)
    b: float = option(0.75, 0.0, 1.0, "BM25's document-length normalisation", step=0.05)
    seed: int = option(0, 0, 10_000, "the seed of the paired bootstrap")
    #: search every document even where a space of more than :data:`ANN_ABOVE` documents has an
    #: approximate index
    exact: bool = False


Run = dict[str, list[int]]     # qid -> document numbers, best first


def bm25_run(corpus: Corpus, queries: dict[str, str], params: RetrievalParams = RetrievalParams(), *,
             timings: dict | None = None) -> Run:
    """BM25's top :data:`~embeddings.evaluate.ir.DEPTH` documents per query (only documents
    sharing a term with the query are retrieved). ``timings`` receives the seconds spent
    building the index (``index``) and answering the queries (``search``)."""
    import bm25s

    start = time.perf_counter()
    prep = corpus.preprocessing
    docs = corpus.documents()
    retriever = bm25s.BM25(k1=params.k1, b=params.b, method="lucene")
    retriever.index([query_tokens(t, prep) for t in docs["text"]], show_progress=False)
    numbers = docs["doc"].to_numpy().astype(int)
    run: Run = {qid: [] for qid in queries}
    asked = {qid: [t for t in query_tokens(text, prep) if t in retriever.vocab_dict] for qid, text in queries.items()}
    asked = {qid: tokens for qid, tokens in asked.items() if tokens}        # no shared term: nothing retrieved
    built = time.perf_counter()
    if asked:
        found, scores = retriever.retrieve(list(asked.values()), k=min(DEPTH, len(numbers)), show_progress=False)
        for qid, rows, values in zip(asked, found, scores):
            ranked = sorted(zip(values.tolist(), rows.tolist()), key=lambda p: (-p[0], p[1]))   # ties: document order
            run[qid] = [int(numbers[r]) for v, r in ranked if v > 0]
    if timings is not None:
        timings.update(index=built - start, search=time.perf_counter() - built)
    return run


Chunks = tuple[np.ndarray, np.ndarray]       # (chunk vectors, each chunk's row in the space)


#: queries searched both ways to measure an approximate search's recall against the exact one
RECALL_SAMPLE = 100
#: retrieval searches exactly up to this many documents, even where the space has an HNSW index:
#: a batched matrix product answers 1,000 queries over 100,000 documents in 2.0 s, where the
#: index took 7.1 s and found 0.38 of the exact top 10 on random vectors (bench/retrieval.py)
ANN_ABOVE = 1_000_000


def _max_sim(doc_of_row: np.ndarray, chunks: Chunks | None):
    """``rescore(q, scores, docs)``: the scores of documents ``docs`` (document numbers; None:
    every document in order) for the queries ``q``, their best chunk's where they were chunked
    (max-sim), else as given. ``doc_of_row``: each space row's document number."""
    if chunks is None or not len(chunks[1]):
        return lambda q, scores, docs: scores
    owner = doc_of_row[np.asarray(chunks[1])]
    order = np.argsort(owner, kind="stable")
    vectors, owner = np.asarray(chunks[0], dtype=np.float32)[order], owner[order]
    long_docs, starts = np.unique(owner, return_index=True)
    ends = np.append(starts[1:], len(owner))

    def rescore(q: np.ndarray, scores: np.ndarray, docs: np.ndarray | None) -> np.ndarray:
        if docs is None:                       # every document, in order: one product with every chunk
            scores[:, long_docs] = np.maximum.reduceat(q @ vectors.T, starts, axis=1)
            return scores
        at = np.searchsorted(long_docs, docs)
        for j, (doc, k) in enumerate(zip(docs, at)):
            if k < len(long_docs) and long_docs[k] == doc:
                scores[:, j] = (q @ vectors[starts[k]:ends[k]].T).max(axis=1)
        return scores

    return rescore


def _ranked(scores: np.ndarray, docs: np.ndarray) -> list[int]:
    """Documents by score, ties by document number, at most :data:`DEPTH`."""
    top = np.argpartition(-scores, min(DEPTH, len(scores) - 1))[:DEPTH] if len(scores) > DEPTH else \
        np.arange(len(scores))
    return [int(d) for d in docs[top][np.lexsort((docs[top], -scores[top]))]]


def dense_run(space: EmbeddingSpace, corpus: Corpus, queries: dict[str, str], *, chunks: Chunks | None = None,
              exact: bool = False, notes: list[str] | None = None, batch: int = 256) -> Run:
    """Cosine top documents of a document space for each query, embedded by the space's own
    model. With ``chunks`` (the vectors of the chunks of the documents longer than the
    encoder's window), such a document scores its best chunk's cosine (max-sim), not its
    mean vector's. A space of more than :data:`ANN_ABOVE` documents with an approximate index
    (``space.ann``) is searched through it unless ``exact``: the index's candidates re-ranked
    exactly (max-sim included); ``notes`` receives its measured recall against exact search."""
    if not space.can_embed:
        raise InputError(f"{space.name} cannot embed a query (a {space.family} space); use a document space of a "
                         "sentence encoder, a pooled word space or TF-IDF, given its embedder by "
                         "embeddings.models.text_embed.with_text_embedder.")
    rows = document_rows(space, corpus)
    doc_of_row = np.full(len(space), -1, dtype=np.int64)          # a row of no document of the corpus: -1
    doc_of_row[rows] = np.arange(len(rows))
    rescore = _max_sim(doc_of_row, chunks)
    approximate = space.ann is not None and not exact and len(rows) > ANN_ABOVE
    vectors = None if approximate else np.asarray(space.vectors, dtype=np.float32)[rows]     # document order
    every = np.arange(len(rows))
    qids, texts = list(queries), list(queries.values())
    run: Run = {}
    for start in range(0, len(texts), batch):
        q = np.asarray(space.embed(texts[start:start + batch]), dtype=np.float32)
        q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        if approximate:
            for i, qid in enumerate(qids[start:start + batch]):
                run[qid] = _approximate(space, doc_of_row, rescore, q[i:i + 1])
            continue
        scores = rescore(q, q @ vectors.T, None)
        for i, qid in enumerate(qids[start:start + batch]):
            run[qid] = _ranked(scores[i], every)
    if approximate and notes is not None:
        notes.append(_recall_note(space, corpus, queries, run, chunks))
    return run


def _approximate(space: EmbeddingSpace, doc_of_row: np.ndarray, rescore, q: np.ndarray) -> list[int]:
    from embeddings.analysis import ann

    found, scores = ann.search(space.ann, space.vectors, q[0], 2 * DEPTH, candidates=2 * DEPTH)   # re-ranked below
    docs = doc_of_row[found]
    keep = docs >= 0
    return _ranked(rescore(q, scores[keep][None, :].astype(np.float32), docs[keep])[0], docs[keep])


def _recall_note(space: EmbeddingSpace, corpus: Corpus, queries: dict[str, str], run: Run,
                 chunks: Chunks | None) -> str:
    """What the approximate search found of the exact top 10, on a sample of the queries."""
    picked = list(queries)[:RECALL_SAMPLE]
    exact = dense_run(space, corpus, {q: queries[q] for q in picked}, chunks=chunks, exact=True)
    recall = np.mean([len(set(run[q][:HIT_AT]) & set(exact[q][:HIT_AT])) / max(min(HIT_AT, len(exact[q])), 1)
                      for q in picked])
    return (f"{space.name}: approximate search (HNSW, usearch) over {len(space):,} documents; its top {HIT_AT} held "
            f"{recall:.3f} of the exact top {HIT_AT} on {len(picked):,} queries searched both ways. Exact search: "
            "--exact, or the page's toggle.")


def hybrid_run(lexical: Run, dense: Run, k: int) -> Run:
    return {q: [int(d) for d in reciprocal_rank_fusion([lexical.get(q, []), dense.get(q, [])], k)] for q in dense}


def hybrid_name(space: str) -> str:
    return f"{BM25} + {space} (RRF)"


