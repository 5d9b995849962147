"""One vector per document, from any family: pooled word spaces and the TF-IDF baseline.

Every function here is fitted **without labels**: the vectors of a document never depend
on its label or on any other document's label, so the task benchmarks that use them
cannot leak.

- :func:`pool`: a word space's vectors averaged over a document's tokens, by ``mean`` or
  by **SIF** (Arora, Liang & Ma 2017, "A simple but tough-to-beat baseline for sentence
  embeddings"): each word weighted by ``a / (a + p(w))`` with ``p(w)`` its frequency in
  the corpus, then the projection on the first singular vector of all the documents
  removed. The word vectors are the space's own (unit length).
- :func:`tfidf_matrix`: scikit-learn's ``TfidfVectorizer`` over the corpus's own tokens
  (word n-grams) or over the raw text (character n-grams), sparse as it is;
  :func:`tfidf_space` makes it a dense space through LSA (``TruncatedSVD`` to k dims).

The result is an ordinary :class:`~embeddings.space.EmbeddingSpace` of unit ``document``
whose metadata holds ``doc`` (the corpus's document number) and the corpus's metadata
columns (``meta.<column>``, the label among them), so it can be projected, coloured by
label, searched and benchmarked like any other.

>>> import numpy as np
>>> from embeddings.space import EmbeddingSpace
>>> words = EmbeddingSpace.from_arrays("w", ["cat", "dog"], np.array([[1.0, 0.0], [0.0, 1.0]]))
>>> pooled, oov = pool(words, [["cat", "dog", "eel"], ["cat"]], "mean")
>>> np.round(pooled, 3).tolist(), oov
([[0.5, 0.5], [1.0, 0.0]], 1)
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.space import EmbeddingSpace
from embeddings.text.corpus import Corpus
from embeddings.text.ingest import META_PREFIX

POOLING = ("mean", "sif")
#: SIF's smoothing weight a (Arora et al. use 1e-3 to 1e-4)
SIF_A = 1e-3
TFIDF_KINDS = {"word": (1, 2), "char": (3, 5)}   #: analyser -> default n-gram range
LSA_DIM = 256
#: the characters of a document kept in its label
LABEL_CHARS = 60


def document_labels(docs: pd.DataFrame) -> list[str]:
    """``#<doc> <its first words>``: unique, readable labels for a corpus's documents."""
    return [f"#{i} {' '.join(str(t).split())[:LABEL_CHARS]}" for i, t in zip(docs["doc"], docs["text"])]


def document_meta(docs: pd.DataFrame) -> pd.DataFrame:
    """The per-document metadata a document space carries: ``doc``, ``frequency`` (its
    tokens), ``source`` and every ``meta.<column>`` of the corpus (labels among them)."""
    meta = pd.DataFrame({"doc": docs["doc"].to_numpy(), "frequency": docs["tokens"].to_numpy(),
                         "source": docs["source"].to_numpy()})
    for column in docs.columns:
        if column.startswith(META_PREFIX):
            meta[column] = docs[column].to_numpy()
    return meta


def document_tokens(corpus: Corpus) -> list[list[str]]:
    """The preprocessed tokens of each document, in document order (its sentences joined)."""
    n = int(corpus.stats["documents"])
    doc_of_line = corpus.sentence_table()["doc"].to_numpy()
    tokens: list[list[str]] = [[] for _ in range(n)]
    for doc, sentence in zip(doc_of_line, corpus.sentences()):
        tokens[int(doc)].extend(sentence)
    return tokens


def document_rows(space: EmbeddingSpace, corpus: Corpus) -> np.ndarray:
    """For each document of ``corpus``, its row in ``space``; refuses a space that is not
    one vector per document of this corpus."""
    if space.provenance.get("unit") != "document" or "doc" not in space.meta:
        raise InputError(f"{space.name} is not a document space (it holds {space.provenance.get('unit', 'term')}s"
                         "); make one with pooling, TF-IDF or a sentence encoder on this corpus.")
    if space.provenance.get("corpus_id") not in (None, corpus.id) and space.provenance.get("corpus") != corpus.name:
        raise InputError(f"{space.name} was made from another corpus ({space.provenance.get('corpus')}).")
    n = int(corpus.stats["documents"])
    doc = space.meta["doc"].to_numpy().astype(np.int64)
    rows = np.full(n, -1, dtype=np.int64)
    inside = (doc >= 0) & (doc < n)
    rows[doc[inside]] = np.flatnonzero(inside)
    if (rows < 0).any():
        raise InputError(f"{space.name} holds {int((rows >= 0).sum()):,} of the {n:,} documents of {corpus.name}; "
                         "the benchmark needs all of them (make it again without a limit).")
    return rows


def word_probability(corpus: Corpus) -> dict[str, float]:
    """p(w): each term's share of the corpus's tokens (SIF's weights are ``a / (a + p(w))``)."""
    vocab = corpus.vocabulary()
    return dict(zip(vocab["term"], vocab["count"] / max(int(vocab["count"].sum()), 1)))


def pool(space: EmbeddingSpace, docs: Sequence[Sequence[str]], method: str,
         probability: dict[str, float] | None = None, a: float = SIF_A, *,
         component: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Pool ``space``'s word vectors over each document's tokens: ``(matrix, oov_tokens)``.

    ``mean``: the average of the known tokens' vectors. ``sif``: the ``a/(a + p(w))``-weighted
    average (``probability`` maps a token to p(w)), then the first principal component of
    the documents removed, as Arora et al.'s reference code does (no centring). A document
    with no known token is a zero row. ``component``: remove this one instead of the
    documents' own (a query is pooled with its corpus's component, :func:`sif_component`).
    """
    if method not in POOLING:
        raise InputError(f"Unknown pooling {method!r}; expected one of {', '.join(POOLING)}.")
    if method == "sif" and probability is None:
        raise InputError("SIF needs the corpus's word frequencies.")
    from scipy import sparse

    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    flat = np.fromiter((t for d in docs for t in d), dtype=object, count=int(lengths.sum()))
    codes, uniques = pd.factorize(flat)          # each distinct token is looked up once
    index, key = space.index, space.key
    rows = np.fromiter((index.get(key(t), -1) for t in uniques), dtype=np.int64, count=len(uniques))[codes]
    known = rows >= 0
    oov = int((~known).sum())
    doc = np.repeat(np.arange(len(docs)), lengths)[known]
    if method == "mean":
        weights = np.ones(int(known.sum()))
    else:
        p = np.fromiter((probability.get(t, 0.0) for t in uniques), dtype=np.float64, count=len(uniques))
        weights = a / (a + p[codes][known])
    counts = np.bincount(doc, minlength=len(docs))
    # documents × used-words weights (repeated tokens add up), divided by each document's known
    # tokens; only the rows of the words used are read from the space
    used, column = np.unique(rows[known], return_inverse=True)
    W = sparse.csr_matrix((weights / np.maximum(counts[doc], 1), (doc, column)), shape=(len(docs), len(used)))
    out = np.asarray(W @ np.asarray(space.vectors[used], dtype=np.float64))
    if method == "sif" and (component is not None or len(docs) > 1):
        u = _first_component(out) if component is None else np.asarray(component, dtype=np.float64)
        out = out - np.outer(out @ u, u)
    return out.astype(np.float32), oov


def _first_component(matrix: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD

    return TruncatedSVD(n_components=1, n_iter=7, random_state=0).fit(matrix).components_[0]


def sif_component(space: EmbeddingSpace, corpus: Corpus, a: float = SIF_A) -> np.ndarray:
    """The first principal component SIF removes from ``corpus``'s pooled documents (before removal)."""
    weighted, _ = pool(space, document_tokens(corpus), "sif", word_probability(corpus), a, component=np.zeros(space.dim))
    return _first_component(weighted.astype(np.float64))


def _document_space(name: str, corpus: Corpus, docs: pd.DataFrame, vectors: np.ndarray, provenance: dict
                    ) -> EmbeddingSpace:
    provenance = {"unit": "document", "corpus": corpus.name, "corpus_id": corpus.id,
                  "corpus_sha256": corpus.stats.get("sha256"), **provenance}
    return EmbeddingSpace.from_arrays(name, document_labels(docs), vectors, meta=document_meta(docs),
                                      provenance=provenance)


def pool_space(word_space: EmbeddingSpace, corpus: Corpus, method: str, name: str, *, a: float = SIF_A
               ) -> EmbeddingSpace:
    """A document space: ``word_space`` pooled over each document of ``corpus``."""
    if word_space.provenance.get("unit", "term") != "term":
        raise InputError(f"{word_space.name} holds {word_space.provenance.get('unit')}s; pooling needs a word space.")
    start = time.perf_counter()
    docs = corpus.documents()
    tokens = document_tokens(corpus)
    vectors, oov = pool(word_space, tokens, method, word_probability(corpus), a)
    seconds = time.perf_counter() - start
    total = sum(len(t) for t in tokens)
    empty = int((~vectors.any(axis=1)).sum())   # no known token: a zero row (SIF's removal keeps it zero)
    return _document_space(name, corpus, docs, vectors, {
        "family": "pooled", "derived": f"{method} pooling", "parent": word_space.id,
        "parent_name": word_space.name, "parent_family": word_space.family,
        "params": {"pooling": method, **({"sif_a": a} if method == "sif" else {})},
        "model_bytes": int(word_space.vectors.nbytes),   # what embedding a new document needs: the word vectors
        "oov_tokens": oov, "tokens": total, "oov_share": round(oov / total, 6) if total else 0.0,
        "empty_documents": empty, "seconds": round(seconds, 3),
        "texts_per_second": round(len(tokens) / seconds, 1) if seconds else None,
    })


def parse_ngrams(text: str) -> tuple[str, tuple[int, int]]:
    """``"word:1-2"`` → ``("word", (1, 2))``; ``"char"`` → ``("char", (3, 5))``, its default.

    >>> parse_ngrams("char:2-4"), parse_ngrams("word")
    (('char', (2, 4)), ('word', (1, 2)))
    """
    kind, _, span = text.strip().partition(":")
    if not span:
        return kind, _check_ngrams(kind, None)
    try:
        low, high = (int(x) for x in span.split("-", 1)) if "-" in span else (int(span), int(span))
    except ValueError:
        raise InputError(f"An n-gram setting reads like word:1-2 or char:3-5; got {text!r}.") from None
    return kind, _check_ngrams(kind, (low, high))


def _check_ngrams(kind: str, ngrams: tuple[int, int] | None) -> tuple[int, int]:
    if kind not in TFIDF_KINDS:
        raise InputError(f"Unknown TF-IDF kind {kind!r}; expected one of {', '.join(TFIDF_KINDS)}.")
    low, high = ngrams or TFIDF_KINDS[kind]
    if not 1 <= low <= high <= 8:
        raise InputError(f"An n-gram range must be 1 ≤ low ≤ high ≤ 8; got {low}-{high}.")
    return low, high


def tfidf_matrix(corpus: Corpus, kind: str = "word", ngrams: tuple[int, int] | None = None,
                 docs: pd.DataFrame | None = None):
    """``(sparse matrix, vectorizer)``: TF-IDF of every document. ``word``: n-grams of the
    corpus's preprocessed tokens (so it sees what the word models see); ``char``: character
    n-grams of the raw text within word boundaries (``char_wb``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    low, high = _check_ngrams(kind, ngrams)
    if kind == "word":
        vectorizer = TfidfVectorizer(analyzer=lambda tokens: _word_ngrams(tokens, low, high), lowercase=False)
        return vectorizer.fit_transform(document_tokens(corpus)), vectorizer
    docs = corpus.documents() if docs is None else docs
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(low, high), lowercase=True, min_df=2)
    return vectorizer.fit_transform(docs["text"].astype(str).tolist()), vectorizer


def sparse_tfidf(corpus: Corpus, docs: pd.DataFrame | None = None):
    """``(CSR matrix, vectorizer)``: the word TF-IDF that Choose scores as a space of its own,
    in float32 like every stored space (Newton-CG fits it about twice as fast as float64)."""
    matrix, vectorizer = tfidf_matrix(corpus, "word", docs=docs)
    return matrix.tocsr().astype(np.float32), vectorizer


def _word_ngrams(tokens: Sequence[str], low: int, high: int) -> list[str]:
    return [" ".join(tokens[i:i + n]) for n in range(low, high + 1) for i in range(len(tokens) - n + 1)]


def _fit_lsa(corpus: Corpus, kind: str, ngrams: tuple[int, int] | None, lsa: int, seed: int, docs: pd.DataFrame):
    from sklearn.decomposition import TruncatedSVD

    matrix, vectorizer = tfidf_matrix(corpus, kind, ngrams, docs)
    k = min(int(lsa), matrix.shape[1] - 1, matrix.shape[0] - 1)
    if k < 2:
        raise InputError(f"{corpus.name} is too small for LSA ({matrix.shape[0]} documents, "
                         f"{matrix.shape[1]} features).")
    svd = TruncatedSVD(n_components=k, random_state=seed)
    return svd.fit_transform(matrix), vectorizer, svd, matrix


def refit_tfidf(corpus: Corpus, params: dict, *, check: int = 0):
    """``(transform, first_rows)``: a TF-IDF + LSA space's model refitted on ``corpus`` with its
    recorded ``params``, as a function of new texts, and the refit's vectors of the first
    ``check`` documents (to compare with the stored ones). Word n-grams see a text through
    the corpus's tokeniser and stopwords, without phrase joining."""
    from embeddings.text.preprocess import query_tokens

    kind = params.get("analyzer", "word")
    low, high = (int(x) for x in str(params.get("ngrams", "1-2")).split("-"))
    docs = corpus.documents()
    vectors, vectorizer, svd, _ = _fit_lsa(corpus, kind, (low, high), int(params.get("lsa", LSA_DIM)),
                                           int(params.get("seed", 0)), docs)
    prep = corpus.preprocessing

    def transform(texts: list[str]) -> np.ndarray:
        inputs = [query_tokens(t, prep) for t in texts] if kind == "word" else list(texts)
        return svd.transform(vectorizer.transform(inputs))

    return transform, vectors[:check]


def tfidf_space(corpus: Corpus, name: str, *, kind: str = "word", ngrams: tuple[int, int] | None = None,
                lsa: int = LSA_DIM, seed: int = 0) -> EmbeddingSpace:
    """The TF-IDF baseline as a dense document space: LSA (``TruncatedSVD`` to ``lsa`` dims)."""
    start = time.perf_counter()
    docs = corpus.documents()
    vectors, vectorizer, svd, matrix = _fit_lsa(corpus, kind, ngrams, lsa, seed, docs)
    k = svd.n_components
    seconds = time.perf_counter() - start
    low, high = _check_ngrams(kind, ngrams)
    return _document_space(name, corpus, docs, vectors, {
        "family": "tfidf", "params": {"analyzer": kind, "ngrams": f"{low}-{high}", "lsa": k, "seed": seed},
        "features": int(matrix.shape[1]),
        "model_bytes": int(svd.components_.nbytes + vectorizer.idf_.nbytes),   # the SVD and the idf weights
        "explained_variance": round(float(svd.explained_variance_ratio_.sum()), 6),
        "seconds": round(seconds, 3), "texts_per_second": round(len(docs) / seconds, 1) if seconds else None,
        "library": f"scikit-learn {__import__('sklearn').__version__}",
    })
