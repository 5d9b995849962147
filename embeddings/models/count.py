"""The count-based baseline: PPMI over windowed co-occurrences, then truncated SVD.

The classic pre-neural recipe (Levy, Goldberg & Dagan, 2015, "Improving
distributional similarity with lessons learned from word embeddings"):

1. count symmetric co-occurrences within ``window`` tokens (scipy sparse);
2. positive PMI with context-distribution smoothing (``cds`` = 0.75);
3. truncated SVD (scikit-learn, randomized); word vectors are ``U · Σ^p`` with the
   eigenvalue weighting ``p`` = 0.5.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp

from embeddings.text.corpus import Corpus

from ..errors import InputError
from ..progress import Progress, no_progress
from ..space import EmbeddingSpace


@dataclass(frozen=True)
class CountParams:
    """Settings of the count-based baseline: PPMI with context distribution smoothing
    ``cds`` (Levy et al. 2015), then truncated SVD to ``dim`` with eigenvalue weighting ``eig``."""

    dim: int = 100
    window: int = 5
    min_count: int = 3            #: as TrainParams, so the form's shared fields mean the same
    cds: float = 0.75
    eig: float = 0.5
    seed: int = 1


def cooccurrences(sentences, vocab: dict[str, int], window: int) -> sp.csr_matrix:
    """Symmetric co-occurrence counts within ``window`` tokens, inside sentences.
    Out-of-vocabulary tokens are removed first (as word2vec does)."""
    ids, owners = [], []
    for s_no, sentence in enumerate(sentences):
        row = [vocab[t] for t in sentence if t in vocab]
        ids.extend(row)
        owners.extend([s_no] * len(row))
    ids_a = np.asarray(ids, dtype=np.int64)
    owner = np.asarray(owners, dtype=np.int64)
    rows, cols = [], []
    for d in range(1, window + 1):
        same = owner[:-d] == owner[d:]
        rows.append(ids_a[:-d][same])
        cols.append(ids_a[d:][same])
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    n = len(vocab)
    counts = sp.coo_matrix((np.ones(len(r), np.float64), (r, c)), shape=(n, n)).tocsr()
    return (counts + counts.T).tocsr()


def ppmi(counts: sp.csr_matrix, cds: float = 0.75) -> sp.csr_matrix:
    """Positive PMI with context-distribution smoothing."""
    total = counts.sum()
    row = np.asarray(counts.sum(axis=1)).ravel()
    col = np.asarray(counts.sum(axis=0)).ravel() ** cds
    col_p = col / col.sum()
    coo = counts.tocoo()
    pmi = np.log((coo.data / total) / ((row[coo.row] / total) * col_p[coo.col]))
    keep = pmi > 0
    return sp.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=counts.shape)


def train_ppmi_svd(corpus: Corpus, params: CountParams, name: str,
                   progress: Progress = no_progress) -> EmbeddingSpace:
    from sklearn.utils.extmath import randomized_svd

    vocab_table = corpus.vocabulary()
    vocab_table = vocab_table[vocab_table["count"] >= params.min_count]
    if len(vocab_table) <= params.dim:
        raise InputError(f"{corpus.name} has {len(vocab_table):,} terms with count ≥ {params.min_count}; "
                         f"the SVD needs more terms than dimensions ({params.dim}).")
    labels = vocab_table["term"].tolist()
    vocab = {t: i for i, t in enumerate(labels)}
    start = time.perf_counter()
    progress(0.05, "Counting co-occurrences")
    counts = cooccurrences(corpus.sentences(), vocab, params.window)
    progress(0.4, "Positive PMI")
    matrix = ppmi(counts, params.cds)
    progress(0.6, f"Truncated SVD to {params.dim} dimensions")
    u, s, _ = randomized_svd(matrix, n_components=params.dim, random_state=params.seed)
    vectors = u * (s ** params.eig)
    seconds = time.perf_counter() - start
    words = int(corpus.stats["tokens"])
    provenance = {
        "family": "ppmi-svd",
        "params": asdict(params),
        "corpus": corpus.name,
        "corpus_id": corpus.id,
        "corpus_sha256": corpus.stats.get("sha256"),
        "seed": params.seed,
        "seconds": round(seconds, 3),
        "words_per_second": round(words / seconds),
        "unit": "term",
        "nonzero_ppmi": int(matrix.nnz),
    }
    progress(0.95, "Normalising")
    return EmbeddingSpace.from_arrays(name, labels, vectors, frequency=vocab_table["count"].to_numpy(),
                                      provenance=provenance, keep_norms=True)
