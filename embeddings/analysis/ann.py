"""Neighbour search that scales: an HNSW index per large space, then an exact re-rank.

Below :data:`THRESHOLD` labels exact search (one matrix-vector product) is already fast,
and it stays the only path. Above it a space can have an approximate index, built on
request (:func:`embeddings.store.space_store.ensure_index`; always after ``encode``) and persisted
in the space's own folder (``ann.usearch``), rebuilt when missing or when it does not match
the vectors. Until it exists, search is exact. With it, a query:

1. asks the index for :data:`CANDIDATES` candidates (HNSW, cosine);
2. re-ranks them exactly: the cosine of each candidate's stored float32 vector to the
   query, so the scores shown are the exact ones and the order is the exact order
   among the candidates.

Exact search stays available everywhere (``exact=True``, ``--exact``, a toggle).

**Why usearch** (against faiss-cpu and hnswlib): one small wheel on PyPI for every
platform with numpy as its only heavy dependency; the saved index opens memory-mapped
(``Index.restore(path, view=True)``), so a 10M-vector index costs page cache, not
heap; it builds multi-threaded. faiss-cpu's HNSW loads the whole index into RAM and
its wheel is 30 MB; hnswlib has had no release since 2023 and ships no wheel for
current Pythons (it builds from source with a compiler).

The vectors themselves are memory-mapped too (:func:`embeddings.store.space_store.load_space`
with ``mmap=True``): the re-rank reads ``CANDIDATES`` rows, not the matrix.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np

from embeddings.errors import Cancelled
from embeddings.progress import Progress, no_progress

INDEX_FILE = "ann.usearch"
#: spaces with more labels than this get an index (exact search over 50k × 384 takes about 2 ms)
THRESHOLD = 50_000
#: HNSW graph degree and build/search beams. GloVe is a hard set for graph search: these
#: reach recall@10 ≥ 0.99 over its 400k words once re-ranked (bench/scale.py)
CONNECTIVITY = 32
EXPANSION_ADD = 128
EXPANSION_SEARCH = 128
#: candidates fetched from the index per query before the exact re-rank
CANDIDATES = 40
#: vectors added per call while building (progress and Cancel between calls)
CHUNK = 20_000


def index_path(folder: Path) -> Path:
    return Path(folder) / INDEX_FILE


def needs_index(n: int) -> bool:
    """Whether a space of ``n`` labels gets an approximate index."""
    return n > THRESHOLD


def build(vectors: np.ndarray, *, progress: Progress = no_progress, threads: int = 0):
    """A usearch HNSW index over ``vectors`` (keys = row numbers), built chunk by chunk so
    progress is reported and a Cancel (raised by ``progress``) stops between chunks."""
    from usearch.index import Index

    n, dim = vectors.shape
    index = Index(ndim=dim, metric="cos", dtype="f32", connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD,
                  expansion_search=EXPANSION_SEARCH)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        progress(start / n, f"Neighbour index: {start:,} of {n:,} vectors")
        index.add(np.arange(start, stop, dtype=np.uint64), np.ascontiguousarray(vectors[start:stop], np.float32),
                  threads=threads)
    progress(1.0, f"Neighbour index: {n:,} vectors")
    return index


def open_index(folder: Path, n: int, dim: int):
    """The saved index of a space, memory-mapped, or None when there is none or it does not
    match the space (another size or dimension: it is then rebuilt by :func:`ensure`)."""
    path = index_path(folder)
    if not path.is_file():
        return None
    from usearch.index import Index

    try:
        index = Index.restore(str(path), view=True)
    except Exception:  # a damaged file: rebuild
        return None
    if index is None or index.size != n or index.ndim != dim:
        return None
    index.expansion_search = EXPANSION_SEARCH
    return index


def ensure(folder: Path, vectors: np.ndarray, *, progress: Progress = no_progress):
    """The space's index: opened from ``folder``, or built and saved there atomically (a
    temporary file renamed into place, so a cancelled or crashed build leaves nothing)."""
    n, dim = vectors.shape
    index = open_index(folder, n, dim)
    if index is not None:
        return index
    index = build(vectors, progress=progress)
    tmp = Path(folder) / f".{INDEX_FILE}.{uuid.uuid4().hex}.tmp"
    try:
        index.save(str(tmp))
        os.replace(tmp, index_path(folder))
    except (Cancelled, OSError):
        tmp.unlink(missing_ok=True)
        raise
    return open_index(folder, n, dim) or index


def search(index, vectors: np.ndarray, query: np.ndarray, k: int, exclude: np.ndarray | None = None,
           candidates: int = CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
    """(rows, exact cosines) of the ``k`` best candidates, best first, leaving out ``exclude``."""
    n_ex = 0 if exclude is None else len(exclude)
    count = min(max(candidates, k + n_ex), len(vectors))
    query = np.asarray(query, np.float32)
    found = index.search(query, count, threads=1)
    rows = np.sort(found.keys.astype(np.int64))  # ascending: kind to a memory-mapped file
    if n_ex:  # a few rows (the query's own): a mask per row beats np.isin's set-up at this size
        keep = np.ones(len(rows), bool)
        for row in exclude:
            keep &= rows != row
        rows = rows[keep]
    scores = vectors[rows] @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return rows[order], scores[order].astype(np.float32, copy=False)
