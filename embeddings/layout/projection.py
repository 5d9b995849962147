"""2-D projections of a space (UMAP, PCA, t-SNE), trust scores, alignment and caching.

:func:`project` lays out chosen rows of a space in 2-D and says how far to trust the
picture, on the shown points:

- **trustworthiness** (``sklearn.manifold.trustworthiness``, cosine, 10 neighbours): are
  the 2-D neighbours true neighbours? Computed on at most 5,000 points (a seeded sample
  beyond that; the sample size is reported).
- **kNN preservation**: the mean fraction of each point's 10 nearest neighbours in the
  full space that stay among its 10 nearest in 2-D.

UMAP gets the space's own kNN graph (:func:`embeddings.analysis.neighbours.knn_graph`) as
``precomputed_knn``; the same graph gives the kNN preservation. Finished projections
are cached in the workspace per (space, parameters, rows), so reopening one is instant.

:func:`align` rotates, scales and shifts one layout onto another over their shared
labels (2-D orthogonal Procrustes), so the same word sits in a comparable place.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from embeddings.analysis import neighbours as neighbours_module
from embeddings.analysis.neighbours import K as NEIGHBOUR_K, knn_graph
from embeddings.errors import InputError
from embeddings.layout.clusters import N_CLUSTERS
from embeddings.layout.methods import pca_layout, tsne_layout, umap_layout
from embeddings.options import option
from embeddings.progress import Progress, heartbeat, no_progress
from embeddings.space import EmbeddingSpace
from embeddings.store.workspace import Workspace
from embeddings.text.patterns import matching

Method = Literal["umap", "pca", "tsne"]
METHODS: tuple[Method, ...] = get_args(Method)
#: how each method is written for people
METHOD_LABELS = {"umap": "UMAP", "pca": "PCA", "tsne": "t-SNE"}
KIND = "projection"
TRUST_K = NEIGHBOUR_K
TRUST_SAMPLE = 5000
#: the most points one panel shows (a larger selection keeps the most frequent); said in the page before it
#: runs. Above :data:`embeddings.layout.maps.LARGE_MAP` a panel is a density overview plus individual points
MAX_POINTS = 2_000_000


@dataclass
class Projection:
    """A 2-D layout of some rows of a space, with its trust scores (trustworthiness and kNN
    preservation, on a sample above ``TRUST_SAMPLE`` points) and where it came from."""

    labels: list[str]
    coords: np.ndarray  # (n, 2) float32
    method: Method
    params: dict
    seconds: float
    trustworthiness: float | None
    knn_preservation: float | None
    trust_sample: int
    cached: bool = False
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: per point, its 5 nearest neighbours in the full space (among the shown points), for hovers
    neighbours: list[str] = field(default_factory=list)
    #: how the kNN graph was made: "exact", "approximate" (pynndescent) above EXACT_LIMIT points, or
    #: "none" (a PCA above that limit needs no graph)
    knn: str = "exact"
    #: an approximate graph's recall@k against exact search, on a seeded sample of points
    knn_recall: float | None = None

    def summary(self) -> dict:
        return {
            "points": len(self.labels),
            "method": self.method,
            "params": self.params,
            "seconds": round(self.seconds, 3),
            "trustworthiness": None if self.trustworthiness is None else round(self.trustworthiness, 4),
            "knn_preservation": None if self.knn_preservation is None else round(self.knn_preservation, 4),
            "trust_sample": self.trust_sample,
            "cached": self.cached,
            "knn": self.knn,
            "knn_recall": None if self.knn_recall is None else round(self.knn_recall, 4),
        }

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({"label": self.labels, "x": self.coords[:, 0], "y": self.coords[:, 1]})
        if self.neighbours:
            frame["neighbours"] = self.neighbours
        return frame


# -- which points ----------------------------------------------------------------------
def frequency_order(space: EmbeddingSpace) -> np.ndarray:
    """Rows most frequent first: by ``frequency`` where known, else by ``rank``, else as stored."""
    meta = space.meta
    if "frequency" in meta and meta["frequency"].notna().any() and (meta["frequency"].fillna(0) > 0).any():
        return np.argsort(-meta["frequency"].fillna(0).to_numpy(), kind="stable")
    if "rank" in meta:
        return np.argsort(meta["rank"].to_numpy(), kind="stable")
    return np.arange(len(space))


def select_rows(space: EmbeddingSpace, *, top: int | None = 5000, words: Sequence[str] | None = None,
                regex: str | None = None, limit: int = MAX_POINTS) -> np.ndarray:
    """Rows to show: a word list, or the labels matching a regex, or the ``top`` most
    frequent (``top=None``: all), capped at ``limit``."""
    if words:
        keys = [w if w in space.index else w.lower() for w in (w.strip() for w in words) if w]
        rows = [space.index[k] for k in dict.fromkeys(keys) if k in space.index]
        if not rows:
            raise InputError(f"None of the listed words is in {space.name}.")
        return np.asarray(rows[:limit], dtype=np.int64)
    order = frequency_order(space)
    if regex:          # RE2: linear time, so no pattern can hold the server (embeddings.text.patterns)
        order = order[matching((space.labels[i] for i in order), regex)]
        if not len(order):
            raise InputError(f"No label of {space.name} matches {regex!r}.")
    n = len(order) if top is None else min(int(top), len(order))
    return order[:min(n, limit)]


# -- trust ------------------------------------------------------------------------------
def trust_scores(vectors: np.ndarray, coords: np.ndarray, knn_idx: np.ndarray | None = None, *, k: int = TRUST_K,
                 sample: int = TRUST_SAMPLE, seed: int = 1) -> tuple[float | None, float | None, int]:
    """(trustworthiness, kNN preservation, trustworthiness sample size)."""
    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import NearestNeighbors

    n = len(coords)
    if n <= 2 * k:          # scikit-learn's trustworthiness needs k < n / 2 (a regex that picked 15 labels)
        return None, None, 0
    pick = np.arange(n) if n <= sample else np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    tw = float(trustworthiness(vectors[pick], coords[pick], n_neighbors=k, metric="cosine"))
    if knn_idx is None and n > sample:  # no graph of all the points (a large PCA): neighbours among the sample
        vectors, coords, n = vectors[pick], coords[pick], len(pick)
    if knn_idx is None or knn_idx.shape[1] < k + 1:
        knn_idx = knn_graph(vectors, k)[0]
    high = knn_idx[:, 1:k + 1]
    low = NearestNeighbors(n_neighbors=k + 1).fit(coords).kneighbors(coords, return_distance=False)[:, 1:]
    kept = np.fromiter((len(set(h) & set(lo)) for h, lo in zip(high, low)), dtype=np.float64, count=n)
    return tw, float(kept.mean() / k), len(pick)


# -- methods ----------------------------------------------------------------------------
#: seconds per point of a whole projection (kNN graph, layout, trust scores) on this project's
#: 2-core machines, from bench/explore.py and a GloVe run at 20,000 points; rough on purpose
SECONDS_PER_POINT = {"umap": 0.0008, "tsne": 0.004, "pca": 0.00035}


def estimate_seconds(method: Method, n: int) -> float:
    """A rough duration of :func:`project` for ``n`` points, to say before the user waits.

    >>> round(estimate_seconds("tsne", 100_000))
    400
    """
    if method == "pca":  # the graph (trust scores, hovers) is built up to the exact limit only
        from embeddings.analysis.neighbours import EXACT_LIMIT

        return SECONDS_PER_POINT["pca"] * min(n, EXACT_LIMIT) + 6e-6 * max(n - EXACT_LIMIT, 0)
    return SECONDS_PER_POINT[method] * n


@dataclass(frozen=True)
class ProjectionParams:
    """A layout's options, for the page's widgets, its links and the CLI alike."""

    points: int = option(5000, 50, MAX_POINTS, "how many of the most frequent labels a layout shows", step=500)
    seed: int = option(1, 0, 10_000, "a reproducible layout's seed: identical runs, on one core")
    n_neighbors: int = option(15, 2, 100, "UMAP: the neighbourhood each point keeps (local against global)")
    min_dist: float = option(0.1, 0.0, 0.99, "UMAP: how tightly points may pack")
    perplexity: float = option(30.0, 5.0, 100.0, "t-SNE: the effective number of neighbours")
    n_clusters: int = option(N_CLUSTERS, 2, 40, "KMeans clusters on the original vectors")


_P = ProjectionParams()
#: each method's settings, as the page's widgets and the CLI start them. n_epochs=200 is
#: umap-learn's own choice for large data; it would use 500 below 10k points
DEFAULT_PARAMS = {"umap": {"n_neighbors": _P.n_neighbors, "min_dist": _P.min_dist, "n_epochs": 200},
                  "tsne": {"perplexity": _P.perplexity}, "pca": {}}
DEFAULT_POINTS = _P.points
#: a layout's seed unless one is asked for: none (umap-learn then uses every core; a finished
#: layout is cached and reopens as it was), on the page and in the CLI alike, so the two share
#: cached layouts; and the seed a reproducible layout starts from (identical runs, one core)
SEED, REPRODUCIBLE_SEED = None, _P.seed


def default_params(method: Method) -> dict:
    return dict(DEFAULT_PARAMS[method])


def project(space: EmbeddingSpace, rows: np.ndarray, method: Method = "umap", *, params: dict | None = None,
            seed: int | None = 1, progress: Progress = no_progress) -> Projection:
    """Lay out ``rows`` of ``space`` in 2-D and score the layout.

    With a ``seed`` the layout is reproducible; umap-learn then runs single-threaded.
    ``seed=None`` lets UMAP use both cores (about 1.5x faster), at the cost of
    run-to-run differences (the workspace cache keeps the first layout)."""
    if method not in METHODS:
        raise InputError(f"Unknown method {method!r}; expected one of {', '.join(METHODS)}.")
    params = {**default_params(method), **(params or {})}
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) < 4:
        raise InputError("A projection needs at least 4 points.")
    vectors = np.asarray(space.vectors[rows], dtype=np.float32)
    start = time.perf_counter()
    k_graph = max(TRUST_K, int(params.get("n_neighbors", TRUST_K)))
    # PCA needs no graph: above the exact limit none is built (trust on a sample, hovers without neighbours)
    approximate = len(rows) > neighbours_module.EXACT_LIMIT
    idx = dist = recall = None
    if method != "pca" or not approximate:
        idx, dist = heartbeat(lambda report: knn_graph(vectors, min(k_graph, len(rows) - 1)), progress, 0.05,
                              f"kNN graph of {len(rows):,} points")
        recall = graph_recall(vectors, idx, seed=seed or 0) if approximate else None
    unit = "epoch" if method == "umap" else "iteration"

    def layout(report: Progress):
        def step(done: int, total: int) -> None:
            report(round(0.3 + 0.55 * done / max(total, 1), 4),
                   f"{METHOD_LABELS[method]} layout, {unit} {done:,} of {total:,}")

        if method == "umap":
            return umap_layout(vectors, (idx, dist), params, seed, step)
        if method == "tsne":
            return tsne_layout(vectors, params, seed, step)
        return pca_layout(vectors, seed)

    if method == "umap" and params["n_neighbors"] >= len(rows):
        params["n_neighbors"] = len(rows) - 1
    coords = heartbeat(layout, progress, 0.3, f"{METHOD_LABELS[method]} layout")
    seconds = time.perf_counter() - start
    coords = np.asarray(coords, dtype=np.float32)
    tw, kp, sample = heartbeat(lambda report: trust_scores(vectors, coords, idx, seed=seed or 0), progress, 0.85,
                               "Trust scores")
    labels = [space.labels[i] for i in rows]
    near = [", ".join(labels[j] for j in idx[i, 1:6]) for i in range(len(rows))] if idx is not None \
        else [""] * len(rows)
    how = "none" if idx is None else "approximate" if approximate else "exact"
    return Projection(labels, coords, method, params, seconds, tw, kp, sample, rows=rows, neighbours=near,
                      knn=how, knn_recall=recall)


#: points whose approximate neighbours are checked against exact search
RECALL_SAMPLE = 500


def graph_recall(vectors: np.ndarray, idx: np.ndarray, *, sample: int = RECALL_SAMPLE, seed: int = 0) -> float:
    """Recall@k of a kNN graph (``idx``: each row the point itself, then its k neighbours)
    against exact cosine search, on a seeded sample of points."""
    k = idx.shape[1] - 1
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(vectors), min(sample, len(vectors)), replace=False)
    scores = vectors[pick] @ vectors.T
    scores[np.arange(len(pick)), pick] = -np.inf
    exact = np.argpartition(-scores, k, axis=1)[:, :k]
    return float(np.mean([len(set(e) & set(a[1:])) / k for e, a in zip(exact, idx[pick])]))


# -- alignment --------------------------------------------------------------------------
def align(reference: Projection, other: Projection) -> np.ndarray:
    """``other``'s coordinates rotated/reflected, scaled and shifted onto ``reference``
    over their shared labels (orthogonal Procrustes in 2-D). Unchanged if fewer than 3
    labels are shared."""
    from scipy.linalg import orthogonal_procrustes

    ref_index = {label: i for i, label in enumerate(reference.labels)}
    pairs = [(ref_index[label], j) for j, label in enumerate(other.labels) if label in ref_index]
    if len(pairs) < 3:
        return other.coords
    ri, oi = map(np.asarray, zip(*pairs))
    a, b = reference.coords[ri].astype(np.float64), other.coords[oi].astype(np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    a0, b0 = a - mu_a, b - mu_b
    rotation, scale = orthogonal_procrustes(b0, a0)
    scale /= max((b0 ** 2).sum(), 1e-12)
    return ((other.coords - mu_b) @ rotation * scale + mu_a).astype(np.float32)


# -- cache ------------------------------------------------------------------------------
def cache_key(space: EmbeddingSpace, rows: np.ndarray, method: Method, params: dict, seed: int | None) -> str:
    digest = hashlib.sha1(np.ascontiguousarray(rows, dtype=np.int64).tobytes()).hexdigest()[:12]
    payload = json.dumps({"space": space.id, "method": method, "params": params, "seed": seed, "rows": digest},
                         sort_keys=True)
    return f"{method}-{hashlib.sha1(payload.encode()).hexdigest()[:16]}"


def cached_project(ws: Workspace, space: EmbeddingSpace, rows: np.ndarray, method: Method = "umap", *,
                   params: dict | None = None, seed: int | None = 1, progress: Progress = no_progress) -> Projection:
    """:func:`project`, reading and writing the workspace cache (saved spaces only)."""
    params = {**default_params(method), **(params or {})} if method in METHODS else params
    if space.id is None:
        return project(space, rows, method, params=params, seed=seed, progress=progress)
    def load(art):
        # through Arrow, not pandas: a million labels come out as a list in a third of the time
        table = pq.read_table(art.path / "coords.parquet")
        s = art.summary
        coords = np.column_stack([table.column("x").to_numpy(), table.column("y").to_numpy()]).astype(np.float32)
        return Projection(table.column("label").to_pylist(), coords, method, s["params"],
                          s["seconds"], s["trustworthiness"], s["knn_preservation"], s["trust_sample"], cached=True,
                          rows=table.column("row").to_numpy(), neighbours=table.column("neighbours").to_pylist(),
                          knn=s.get("knn", "exact"), knn_recall=s.get("knn_recall"))

    def save(folder, proj):
        frame = proj.frame()
        frame["row"] = proj.rows
        frame.to_parquet(folder / "coords.parquet", index=False)
        return proj.summary()

    return ws.cached(KIND, cache_key(space, rows, method, params, seed), load,
                     lambda: project(space, rows, method, params=params, seed=seed, progress=progress), save,
                     params={"space": space.id, "method": method, "seed": seed}, parent=space.id)[0]


_warm = threading.Event()


def warm_up() -> None:
    """Compile UMAP's numba functions once (about 30 s in a fresh process), so the
    user's first UMAP does not pay for it. numba also caches to disk where umap-learn
    asks it to."""
    if _warm.is_set():
        return
    rng = np.random.default_rng(0)
    data = rng.normal(size=(300, 16)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    space = EmbeddingSpace.from_arrays("warm-up", [str(i) for i in range(300)], data, normalised=True)
    project(space, np.arange(300), "umap", params={"n_neighbors": 10, "min_dist": 0.1})
    _warm.set()


def warm_up_in_background() -> threading.Thread:
    thread = threading.Thread(target=warm_up, name="umap-warm-up", daemon=True)
    thread.start()
    return thread
