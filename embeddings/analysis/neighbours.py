"""Nearest neighbours, vector expressions, kNN graphs, and neighbourhood overlap between spaces.

All vectors in a space are unit length, so cosine similarity is a dot product.

- :func:`neighbours` answers a term or an expression (``king - man + woman``,
  ``2*paris - france + 0.5*italy``) by cosine: exact search (one matrix-vector
  product) for a small space; for a large one with an index (:mod:`embeddings.analysis.ann`),
  approximate candidates re-ranked exactly, unless ``exact=True``. As in gensim's
  ``most_similar``, the words of the query are left out of the results unless
  ``exclude_query=False``.
- :func:`knn_graph` builds one kNN graph over a set of rows: exact (blocked matrix
  products) up to 20k rows, pynndescent beyond. The same graph feeds UMAP
  (``precomputed_knn``), the trust scores and the comparison.
- :func:`compare` measures, over the labels two spaces share, how far each label's
  neighbourhood changed: Jaccard@k (the Embedding Comparator's measure) and the
  ordered overlap (mean over i = 1..k of |first i of A ∩ first i of B| / i).
  Raw coordinates of different models are never compared; with equal dimensions an
  orthogonal Procrustes alignment gives a per-label cosine drift.

>>> import numpy as np
>>> from embeddings.space import EmbeddingSpace
>>> s = EmbeddingSpace.from_arrays("toy", ["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1.0]]))
>>> [n.label for n in neighbours(s, "a", k=2)]
['b', 'c']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.options import option
from embeddings.space import EmbeddingSpace, OOVError

EXACT_LIMIT = 20_000
#: the neighbour k: how many neighbours a list shows, Jaccard@k and the trust scores compare, and
#: retrieval's P@k counts, unless the user asks for another (every default reads it from here)
K = 10
#: how many of the most frequent shared labels a comparison takes unless told otherwise (its
#: cost grows with the square of this number); the page and the CLI start from it
COMPARE_LABELS = 5000


@dataclass(frozen=True)
class NeighbourParams:
    """The Neighbours page's and the ``neighbours`` command's options."""

    k: int = option(K, 1, 100, "how many neighbours to list")


@dataclass(frozen=True)
class CompareParams:
    """Compare's options (the page and the ``compare`` command)."""

    k: int = option(K, 2, 50, "neighbours compared per label (Jaccard@k)")
    max_labels: int = option(COMPARE_LABELS, 100, 50_000, "the most frequent shared labels compared; "
                             "the cost grows with the square of this number", step=500)
_TERM_RE = re.compile(r"^\s*(?:(?P<w1>\d+(?:\.\d*)?|\.\d+)\s*\*\s*)?(?P<term>.+?)(?:\s*\*\s*(?P<w2>\d+(?:\.\d*)?|\.\d+))?\s*$")


@dataclass(frozen=True)
class Neighbour:
    """One nearest label and its cosine to the query."""

    label: str
    cosine: float


def parse_expression(query: str) -> list[tuple[float, str]]:
    """``"king - man + 0.5*woman"`` -> ``[(1, "king"), (-1, "man"), (0.5, "woman")]``.

    Operators need spaces around them, so ``south-west`` stays one term.

    >>> parse_expression("king - man + 0.5*woman")
    [(1.0, 'king'), (-1.0, 'man'), (0.5, 'woman')]
    >>> parse_expression("south-west")
    [(1.0, 'south-west')]
    """
    if not query or not query.strip():
        raise InputError("Type a word or an expression such as 'king - man + woman'.")
    parts = re.split(r"\s+([+-])\s+", " " + query.strip() + " ")
    terms: list[tuple[float, str]] = []
    sign = 1.0
    for i, part in enumerate(parts):
        if i % 2 == 1:
            sign = 1.0 if part == "+" else -1.0
            continue
        if not part.strip():
            raise InputError(f"Incomplete expression: {query.strip()!r}.")
        m = _TERM_RE.match(part)
        weight = float(m.group("w1") or m.group("w2") or 1.0)
        terms.append((sign * weight, m.group("term").strip()))
    return terms


def query_vector(space: EmbeddingSpace, query: str) -> tuple[np.ndarray, list[str], list[str]]:
    """(unit vector, the query's labels, the labels that had to be embedded).

    Raises :class:`OOVError` with close spellings where the space cannot embed a term."""
    terms = parse_expression(query)
    keys = [space.key(t) for _, t in terms]
    missing = [k for k in keys if k not in space.index]
    if missing and not space.can_embed:
        raise OOVError(space.name, missing, {m: space.suggest(m) for m in missing[:1]})
    vectors = space.lookup(keys)
    weights = np.array([w for w, _ in terms], dtype=np.float32)
    v = weights @ vectors
    norm = np.linalg.norm(v)
    if norm == 0:
        raise InputError(f"The expression {query!r} sums to the zero vector.")
    return v / norm, keys, missing


def top_k(scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the k largest scores, best first, leaving out ``exclude``.

    One argpartition over k + len(exclude) candidates (no copy of the scores), then a
    small sort; the excluded rows are dropped from the candidates."""
    n_ex = 0 if exclude is None else len(exclude)
    n = len(scores)
    m = min(k + n_ex, n)
    idx = np.argpartition(scores, n - m)[n - m:] if m < n else np.arange(n)
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    if n_ex:
        idx = idx[~np.isin(idx, exclude)]
    return idx[:k]


def nearest(space: EmbeddingSpace, v: np.ndarray, k: int, exclude: np.ndarray | None = None, *,
            exact: bool = False) -> list[Neighbour]:
    """The k labels nearest a unit vector: through the space's approximate index with an
    exact re-rank where it has one (:mod:`embeddings.analysis.ann`), else (or with ``exact``) by
    brute force."""
    if space.ann is not None and not exact:
        from embeddings.analysis.ann import search

        rows, scores = search(space.ann, space.vectors, v, k, exclude)
        return [Neighbour(space.labels[i], float(c)) for i, c in zip(rows, scores)]
    scores = space.vectors @ v
    return [Neighbour(space.labels[i], float(scores[i])) for i in top_k(scores, k, exclude)]


def neighbours(space: EmbeddingSpace, query: str, k: int = K, *, exclude_query: bool = True,
               exact: bool = False) -> list[Neighbour]:
    """The k nearest labels to a term or expression, by cosine (approximate then re-ranked
    where the space has an index, unless ``exact``)."""
    if k < 1:
        raise InputError("k must be at least 1.")
    v, keys, _ = query_vector(space, query)
    exclude = np.array([space.index[x] for x in keys if x in space.index], dtype=np.int64) if exclude_query else None
    return nearest(space, v, k, exclude, exact=exact)


def label_neighbours(space: EmbeddingSpace, label: str, k: int = K) -> list[Neighbour] | None:
    """The k nearest labels to one label of the space, taken as it is (never parsed as an
    expression: a sentence label may hold " - "); None when the space lacks it."""
    key = label if label in space.index else space.key(label)
    row = space.index.get(key)
    if row is None:
        return None
    return nearest(space, np.asarray(space.vectors[row], dtype=np.float32), k, np.array([row]))


# -- kNN graphs -----------------------------------------------------------------------
def knn_graph(vectors: np.ndarray, k: int, *, seed: int = 1, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosine distances), shape (n, k+1), each row starting with the point
    itself, as UMAP's ``precomputed_knn`` expects. Exact up to ``EXACT_LIMIT`` rows,
    pynndescent (approximate) beyond."""
    n = len(vectors)
    k1 = min(k + 1, n)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if n > EXACT_LIMIT:
        from pynndescent import NNDescent

        index = NNDescent(vectors, metric="cosine", n_neighbors=k1, random_state=seed, n_jobs=2)
        idx, dist = index.neighbor_graph
        return idx.astype(np.int64), dist.astype(np.float32)
    idx = np.empty((n, k1), dtype=np.int64)
    dist = np.empty((n, k1), dtype=np.float32)
    for start in range(0, n, block):
        sims = vectors[start:start + block] @ vectors.T
        rows = np.arange(start, min(start + block, n))
        sims[rows - start, rows] = np.inf  # the point itself first
        part = np.argpartition(-sims, k1 - 1, axis=1)[:, :k1]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
        best = np.take_along_axis(part, order, axis=1)
        idx[start:start + len(rows)] = best
        d = 1.0 - np.take_along_axis(sims, best, axis=1)
        d[:, 0] = 0.0
        dist[start:start + len(rows)] = np.maximum(d, 0.0)
    return idx, dist


# -- comparing two spaces --------------------------------------------------------------
@dataclass
class Comparison:
    """Two spaces' neighbourhoods over their shared labels: per label the Jaccard@k of the
    neighbour sets, the ordered overlap and (equal dimensions) the Procrustes drift."""

    k: int
    shared: list[str]
    table: pd.DataFrame  # label, jaccard, ordered, [drift]
    neighbours_a: np.ndarray  # (n_shared, k) indices into ``shared``
    neighbours_b: np.ndarray
    aligned: bool = False

    def summary(self) -> dict:
        return {
            "k": self.k,
            "shared": len(self.shared),
            "mean_jaccard": round(float(self.table["jaccard"].mean()), 6),
            "median_jaccard": round(float(self.table["jaccard"].median()), 6),
            "mean_ordered": round(float(self.table["ordered"].mean()), 6),
        }

    def ranked(self, n: int | None = None, *, changed: bool = True, content_only: bool = True) -> pd.DataFrame:
        """The most changed labels (lowest Jaccard, then lowest ordered overlap) or, with
        ``changed=False``, the least changed; the most frequent first among ties (the shared
        labels are in frequency order). ``content_only`` leaves out what says nothing about
        a domain: stopwords, tokens without a letter (numbers), labels under 3 characters,
        and labels seen fewer than :data:`RARE_COUNT` times where the first space has counts."""
        table = self.table
        if content_only:
            table = table[content_mask(table["label"], table.get("frequency"))]
        order = table.sort_values(["jaccard", "ordered"], ascending=changed, kind="stable")
        return order if n is None else order.head(n)

    def most_changed(self, n: int | None = None, *, content_only: bool = True) -> pd.DataFrame:
        return self.ranked(n, changed=True, content_only=content_only)

    def least_changed(self, n: int | None = None, *, content_only: bool = True) -> pd.DataFrame:
        return self.ranked(n, changed=False, content_only=content_only)

    def domino(self, label: str) -> dict:
        """Neighbours of ``label`` shared by both spaces and unique to each (in rank order)."""
        try:
            i = self.shared.index(label)
        except ValueError:
            raise InputError(f"{label!r} is not among the labels both spaces share.") from None
        a = [self.shared[j] for j in self.neighbours_a[i]]
        b = [self.shared[j] for j in self.neighbours_b[i]]
        both = [x for x in a if x in set(b)]
        return {"label": label, "shared": both, "only_a": [x for x in a if x not in set(b)],
                "only_b": [x for x in b if x not in set(a)]}


#: below this count (where the space has counts) a label is too rare for a most/least-changed list
RARE_COUNT = 5


def content_mask(labels: pd.Series, frequency: pd.Series | None = None) -> np.ndarray:
    """True for content words: not a stopword (gensim's English list), at least one letter,
    at least 3 characters, and (where counts are known, > 0) seen at least :data:`RARE_COUNT` times.

    >>> content_mask(pd.Series(["the", "2001", "qantas", "of", "x"])).tolist()
    [False, False, True, False, False]
    """
    from gensim.parsing.preprocessing import STOPWORDS

    text = labels.astype(str)
    keep = (~text.str.lower().isin(STOPWORDS) & text.str.contains(r"[^\W\d_]", regex=True)
            & (text.str.len() >= 3)).to_numpy()
    if frequency is not None:
        f = pd.to_numeric(frequency, errors="coerce").fillna(0).to_numpy()
        keep = keep & ((f <= 0) | (f >= RARE_COUNT))
    return keep


def shared_labels(a: EmbeddingSpace, b: EmbeddingSpace) -> list[str]:
    """Labels in both spaces, in the order of ``a``."""
    return [x for x in a.labels if x in b.index]


def overlap_scores(na: np.ndarray, nb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row Jaccard of the two neighbour sets, and the ordered overlap
    (mean over i = 1..k of |first i of A ∩ first i of B| / i)."""
    n, k = na.shape
    jaccard = np.empty(n)
    ordered = np.empty(n)
    for r in range(n):
        sa, sb = set(), set()
        acc = 0.0
        inter = 0
        for i in range(k):
            x, y = na[r, i], nb[r, i]
            if x == y:
                inter += 1
            else:
                inter += (x in sb) + (y in sa)
            sa.add(x)
            sb.add(y)
            acc += inter / (i + 1)
        jaccard[r] = inter / (2 * k - inter)
        ordered[r] = acc / k
    return jaccard, ordered


def compare(a: EmbeddingSpace, b: EmbeddingSpace, k: int = K, *, max_labels: int | None = None) -> Comparison:
    """Neighbourhood overlap of two spaces over their shared labels (the most frequent
    ``max_labels`` of them, if given). Neighbours are searched among the shared labels."""
    shared = shared_labels(a, b)
    if max_labels:
        shared = shared[:max_labels]
    if len(shared) <= k:
        raise InputError(f"{a.name} and {b.name} share {len(shared)} labels; comparing needs more than k={k}.")
    va = a.vectors[[a.index[x] for x in shared]]
    vb = b.vectors[[b.index[x] for x in shared]]
    na = knn_graph(va, k)[0][:, 1:k + 1]
    nb = knn_graph(vb, k)[0][:, 1:k + 1]
    jaccard, ordered = overlap_scores(na, nb)
    table = pd.DataFrame({"label": shared, "jaccard": jaccard, "ordered": ordered})
    freq = a.frequency if "frequency" in a.meta else None
    if freq is not None and np.nansum(freq) > 0:  # counts of the first space (GloVe has ranks instead)
        table["frequency"] = np.asarray(freq)[[a.index[x] for x in shared]]
    aligned = False
    if a.dim == b.dim:
        from scipy.linalg import orthogonal_procrustes

        rotation, _ = orthogonal_procrustes(va, vb)
        moved = va @ rotation
        moved /= np.linalg.norm(moved, axis=1, keepdims=True)
        table["drift"] = 1.0 - np.sum(moved * vb, axis=1)
        aligned = True
    return Comparison(k, shared, table, na, nb, aligned)
