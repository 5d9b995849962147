"""2-D projections of a space (UMAP, PCA, t-SNE), trust scores, alignment and caching.

:func:`project` lays out chosen rows of a space in 2-D and says how far to trust the
picture, on the shown points:

- **trustworthiness** (``sklearn.manifold.trustworthiness``, cosine, 10 neighbours): are
  the 2-D neighbours true neighbours? Computed on at most 5,000 points (a seeded sample
  beyond that; the sample size is reported).
- **kNN preservation**: the mean fraction of each point's 10 nearest neighbours in the
  full space that stay among its 10 nearest in 2-D.

UMAP gets the space's own kNN graph (:func:`embeddings.neighbours.knn_graph`) as
``precomputed_knn``; the same graph gives the kNN preservation. Finished projections
are cached in the workspace per (space, parameters, rows), so reopening one is instant.

:func:`align` rotates, scales and shifts one layout onto another over their shared
labels (2-D orthogonal Procrustes), so the same word sits in a comparable place.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .errors import Cancelled, InputError, NotFoundError
from .patterns import matching
from .progress import Progress, no_progress
from . import neighbours as neighbours_module
from .neighbours import knn_graph
from .space import EmbeddingSpace
from .workspace import Workspace

METHODS = ("umap", "pca", "tsne")
#: how each method is written for people
METHOD_LABELS = {"umap": "UMAP", "pca": "PCA", "tsne": "t-SNE"}
KIND = "projection"
TRUST_K = 10
TRUST_SAMPLE = 5000
#: the most points one panel shows (a larger selection keeps the most frequent); said in the page before it
#: runs. Above :data:`embeddings.maps.LARGE_MAP` a panel is a density overview plus individual points
MAX_POINTS = 2_000_000


@dataclass
class Projection:
    """A 2-D layout of some rows of a space, with its trust scores (trustworthiness and kNN
    preservation, on a sample above ``TRUST_SAMPLE`` points) and where it came from."""

    labels: list[str]
    coords: np.ndarray  # (n, 2) float32
    method: str
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
    if regex:          # RE2: linear time, so no pattern can hold the server (embeddings.patterns)
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
#: seconds between two reports of a step that has no progress of its own (a kNN graph, trust scores)
HEARTBEAT = 1.0


def heartbeat(work: Callable[[Progress], object], progress: Progress, fraction: float, message: str,
              every: float = HEARTBEAT):
    """Run ``work(report)`` in a worker thread while this thread reports for it: what the work
    reports through ``report`` (UMAP's epochs, t-SNE's iterations) is passed on as it comes, and
    a step that reports nothing (pynndescent's graph, UMAP's spectral initialisation, scikit-learn's
    trustworthiness) is reported as ``message`` with the seconds elapsed, every ``every`` seconds.
    Progress (a Streamlit bar) is thus only ever drawn from the caller's thread. A Cancel raised
    by ``progress`` stops the wait at once and makes the work's next ``report`` raise, which
    stops UMAP's and openTSNE's loops; nothing is returned or cached."""
    box: dict = {}
    latest: list[tuple[float, str]] = []
    stop = threading.Event()

    def report(f: float, m: str) -> None:
        if stop.is_set():
            raise Cancelled("The projection was cancelled.")
        latest.append((f, m))

    def run() -> None:
        try:
            box["value"] = work(report)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run, name="projection-step", daemon=True)
    start = last = time.perf_counter()
    current = (fraction, message)
    try:
        progress(*current)
        thread.start()
        while thread.is_alive():
            thread.join(0.2)
            now = time.perf_counter()
            if latest:  # every report, in order (a test, or a log, may count the epochs)
                taken = len(latest)
                for current in latest[:taken]:
                    progress(*current)
                del latest[:taken]
                last = now
            elif now - last >= every and thread.is_alive():
                progress(current[0], f"{current[1]} · {now - start:.0f} s")
                last = now
    except BaseException:
        stop.set()
        raise
    if "error" in box:
        raise box["error"]
    for report_ in latest:
        progress(*report_)
    return box["value"]


# We never transform new points, so a precomputed graph without a search index is fine; and a
# seed makes UMAP single-threaded on purpose (reproducible layouts).
warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
warnings.filterwarnings("ignore", message=r"n_jobs value .* overridden")


class _TqdmProgress(io.TextIOBase):
    """A file for tqdm, umap-learn's one progress hook (``tqdm_kwds``): tqdm writes ``n/total``
    (our ``bar_format``) here after each epoch, and we report it. An exception raised by
    the report (the user cancelled) propagates out of umap-learn's epoch loop, once: the
    write tqdm makes as it closes is not reported."""

    def __init__(self, report: Callable[[int, int], None]):
        self.report = report
        self.raised = False

    def write(self, text: str) -> int:
        match = re.search(r"(\d+)/(\d+)", text)
        if match and not self.raised:
            try:
                self.report(int(match[1]), int(match[2]))
            except BaseException:
                self.raised = True
                raise
        return len(text)

    def flush(self) -> None:
        pass


_TQDM_PATCH = threading.Lock()


def _releasing_tqdm():
    """umap-learn's ``tqdm``, made safe to raise through. tqdm's ``refresh`` takes its
    process-wide write lock, writes to the file, and releases the lock with no ``finally``: a
    Cancel raised by the file left the lock held by the layout's (finished) thread, and the
    next tqdm bar anywhere in the server (sentence-transformers' encoding) waited for it
    forever. This subclass releases the lock when the write raises; umap.layouts, which
    imports ``tqdm`` by name, is given it once."""
    import umap.layouts

    with _TQDM_PATCH:
        base = umap.layouts.tqdm
        if getattr(base, "releases_on_error", False):
            return base

        class ReleasingTqdm(base):
            releases_on_error = True

            def refresh(self, nolock=False, lock_args=None):
                if self.disable or nolock:
                    return super().refresh(nolock, lock_args)
                if lock_args:
                    if not self._lock.acquire(*lock_args):
                        return False
                else:
                    self._lock.acquire()
                try:
                    return super().refresh(nolock=True)
                finally:
                    self._lock.release()

        umap.layouts.tqdm = ReleasingTqdm
        return ReleasingTqdm


def _umap(vectors, graph, params, seed, epoch: Callable[[int, int], None] | None = None):
    import umap

    n_epochs = params.get("n_epochs", 200)
    # a report every 2% of the epochs, however fast they run (a time interval would make
    # the number of reports, and a Cancel's reaction, depend on the machine)
    hook = {"disable": False, "file": _TqdmProgress(epoch), "bar_format": "{n}/{total}", "mininterval": 0,
            "miniters": max(1, n_epochs // 50)} if epoch else None
    if epoch:
        _releasing_tqdm()
    reducer = umap.UMAP(n_neighbors=params["n_neighbors"], min_dist=params["min_dist"], metric="cosine",
                        n_epochs=n_epochs, random_state=seed, precomputed_knn=graph,
                        n_components=2, tqdm_kwds=hook)
    return reducer.fit_transform(vectors)


#: openTSNE's schedule: early exaggeration, then the main phase (its defaults)
TSNE_ITERATIONS = (250, 500)
#: openTSNE's FFT interpolation grid: one box per this many units of the embedding's extent
#: (its default is 1). The extent grows to a few hundred units in the main phase, and with 1
#: the grid, not the points, dominates: 5,000 GloVe words took 37 s, against 13 s with 5 at
#: the same trustworthiness (0.964); 50,000 took 132 s against 89 s (bench/scale.py)
TSNE_INTS_IN_INTERVAL = 5
#: up to this many points t-SNE's kNN graph is exact (brute force is quick there, and both
#: faster and more faithful than Annoy: 0.963 against 0.961 at 5,000 words)
TSNE_EXACT_KNN = 10_000


def _tsne(vectors, params, seed, iteration: Callable[[int, int], None] = lambda done, total: None):
    """openTSNE (FFT-accelerated interpolation, Linderman et al. 2019, at every size: with a
    coarser grid it beats its own Barnes-Hut at 5,000 points too) is much faster than
    scikit-learn's Barnes-Hut, and its callbacks report progress."""
    import openTSNE

    total = sum(TSNE_ITERATIONS)
    done = [0]

    def callback(it, error, embedding):  # called every 25 iterations of each phase
        done[0] += 25
        iteration(min(done[0], total), total)
        return False

    perplexity = min(params["perplexity"], max(2.0, (len(vectors) - 1) / 3))
    tsne = openTSNE.TSNE(n_components=2, perplexity=perplexity, metric="cosine", initialization="pca",
                         early_exaggeration_iter=TSNE_ITERATIONS[0], n_iter=TSNE_ITERATIONS[1],
                         negative_gradient_method="fft", ints_in_interval=TSNE_INTS_IN_INTERVAL,
                         neighbors="exact" if len(vectors) <= TSNE_EXACT_KNN else "auto",
                         random_state=seed, n_jobs=2, callbacks=callback, callbacks_every_iters=25)
    return np.asarray(tsne.fit(vectors))


def _pca(vectors, seed):
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(vectors)


#: seconds per point of a whole projection (kNN graph, layout, trust scores) on this project's
#: 2-core machines, from bench/explore.py and a GloVe run at 20,000 points; rough on purpose
SECONDS_PER_POINT = {"umap": 0.0008, "tsne": 0.004, "pca": 0.00035}


def estimate_seconds(method: str, n: int) -> float:
    """A rough duration of :func:`project` for ``n`` points, to say before the user waits.

    >>> round(estimate_seconds("tsne", 100_000))
    400
    """
    if method == "pca":  # the graph (trust scores, hovers) is built up to the exact limit only
        from .neighbours import EXACT_LIMIT

        return SECONDS_PER_POINT["pca"] * min(n, EXACT_LIMIT) + 6e-6 * max(n - EXACT_LIMIT, 0)
    return SECONDS_PER_POINT[method] * n


#: each method's settings, as the page's widgets and the CLI start them. n_epochs=200 is
#: umap-learn's own choice for large data; it would use 500 below 10k points
DEFAULT_PARAMS = {"umap": {"n_neighbors": 15, "min_dist": 0.1, "n_epochs": 200}, "tsne": {"perplexity": 30.0},
                  "pca": {}}
#: how many of the most frequent labels a layout shows unless told otherwise
DEFAULT_POINTS = 5000


def default_params(method: str) -> dict:
    return dict(DEFAULT_PARAMS[method])


def project(space: EmbeddingSpace, rows: np.ndarray, method: str = "umap", *, params: dict | None = None,
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
            return _umap(vectors, (idx, dist), params, seed, step)
        if method == "tsne":
            return _tsne(vectors, params, seed, step)
        return _pca(vectors, seed)

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


# -- new points into a saved layout ------------------------------------------------------
@dataclass
class Placement:
    """New points placed into a finished layout (a "basemap" one adds to), and how well:
    the kNN preservation of the placed points against the layout's own points."""

    labels: list[str]
    coords: np.ndarray  # (m, 2)
    method: str
    seconds: float
    #: per placed point, the share of its 10 nearest layout points (full space) among its 10 nearest in 2-D
    knn_preservation: float | None
    #: the same measure for the layout's own points (its trust score), for comparison
    reference: float | None
    #: what could not be placed: neither a label of the space nor a text it can embed
    missing: list[str] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"label": self.labels, "x": self.coords[:, 0], "y": self.coords[:, 1]})

    def summary(self) -> dict:
        return {"placed": len(self.labels), "method": self.method, "seconds": round(self.seconds, 3),
                "knn_preservation": None if self.knn_preservation is None else round(self.knn_preservation, 4),
                "layout_knn_preservation": None if self.reference is None else round(self.reference, 4),
                "missing": self.missing}


def placed_preservation(fitted: np.ndarray, coords: np.ndarray, new: np.ndarray, placed: np.ndarray,
                        k: int = TRUST_K) -> float | None:
    """Mean over the placed points of |their k nearest layout points by cosine ∩ their k
    nearest layout points in 2-D| / k."""
    from sklearn.neighbors import NearestNeighbors

    if len(new) == 0 or len(fitted) <= k:
        return None
    high = np.argsort(-(new @ fitted.T), axis=1, kind="stable")[:, :k]
    low = NearestNeighbors(n_neighbors=k).fit(coords).kneighbors(placed, return_distance=False)
    return float(np.mean([len(set(h) & set(lo)) / k for h, lo in zip(high, low)]))


def place(space: EmbeddingSpace, proj: Projection, items: Sequence[str], *, seed: int | None = 1,
          progress: Progress = no_progress) -> Placement:
    """Place ``items`` (labels of the space, or texts it can embed) into ``proj``'s layout
    without moving the layout, with the method's own ``transform``:

    - UMAP: umap-learn's ``transform`` (the new points' fuzzy neighbourhoods among the layout's
      points, then optimised against the fixed layout). The reducer is rebuilt from the saved
      layout (no pickle): fitted with ``init`` = the layout and no epochs, then given the layout;
    - t-SNE: openTSNE's ``TSNEEmbedding.transform``, on affinities rebuilt over the layout's points;
    - PCA: the same PCA refitted (deterministic), then ``transform``.
    """
    items = [str(t).strip() for t in items if str(t).strip()]
    items = list(dict.fromkeys(items))
    if not items:
        raise InputError("Give at least one label or text to place.")
    keys = [t if t in space.index else space.key(t) for t in items]
    known = [k for k in keys if k in space.index]
    missing = [t for t, k in zip(items, keys) if k not in space.index] if not space.can_embed else []
    chosen = known if not space.can_embed else keys
    if not chosen:
        raise InputError(f"None of these is in {space.name}, which cannot embed new texts: "
                         f"{', '.join(repr(m) for m in missing[:5])}.")
    new = np.asarray(space.lookup(chosen), dtype=np.float32)
    fitted = np.asarray(space.vectors[proj.rows], dtype=np.float32)
    coords = np.asarray(proj.coords, dtype=np.float32)
    start = time.perf_counter()
    progress(0.1, f"Placing {len(chosen):,} points into the {METHOD_LABELS[proj.method]} layout")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if proj.method == "umap":
            import umap

            reducer = umap.UMAP(n_neighbors=min(proj.params["n_neighbors"], len(fitted) - 1),
                                min_dist=proj.params["min_dist"], metric="cosine", n_epochs=0, init=coords,
                                random_state=seed, n_components=2)
            reducer.fit(fitted)
            reducer.embedding_ = coords
            # umap-learn's transform runs a third of n_epochs: this gives it as many as the layout had
            reducer.n_epochs = 3 * int(proj.params.get("n_epochs", 200))
            placed = reducer.transform(new)
        elif proj.method == "tsne":
            import openTSNE

            perplexity = min(proj.params["perplexity"], max(2.0, (len(fitted) - 1) / 3))
            affinities = openTSNE.affinity.PerplexityBasedNN(fitted, perplexity=perplexity, metric="cosine",
                                                             n_jobs=2, random_state=seed)
            reference = np.ascontiguousarray(coords, dtype=np.float64)
            embedding = openTSNE.TSNEEmbedding(reference.copy(), affinities, random_state=seed)
            placed = np.asarray(embedding.transform(new))
            # openTSNE re-centres the reference in place (on its bounding box) before it places
            # anything, and answers in that frame: shift the answer back onto the saved layout
            placed = placed + (reference - np.asarray(embedding)).mean(axis=0)
        else:
            from sklearn.decomposition import PCA

            placed = PCA(n_components=2, random_state=seed).fit(fitted).transform(new)
    placed = np.asarray(placed, dtype=np.float32)
    seconds = time.perf_counter() - start
    progress(0.9, "Checking the placed points' neighbours")
    return Placement([space.labels[space.index[k]] if k in space.index else k for k in chosen], placed,
                     proj.method, seconds, placed_preservation(fitted, coords, new, placed),
                     proj.knn_preservation, missing)


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
def cache_key(space: EmbeddingSpace, rows: np.ndarray, method: str, params: dict, seed: int | None) -> str:
    digest = hashlib.sha1(np.ascontiguousarray(rows, dtype=np.int64).tobytes()).hexdigest()[:12]
    payload = json.dumps({"space": space.id, "method": method, "params": params, "seed": seed, "rows": digest},
                         sort_keys=True)
    return f"{method}-{hashlib.sha1(payload.encode()).hexdigest()[:16]}"


def cached_project(ws: Workspace, space: EmbeddingSpace, rows: np.ndarray, method: str = "umap", *,
                   params: dict | None = None, seed: int | None = 1, progress: Progress = no_progress) -> Projection:
    """:func:`project`, reading and writing the workspace cache (saved spaces only)."""
    params = {**default_params(method), **(params or {})} if method in METHODS else params
    if space.id is None:
        return project(space, rows, method, params=params, seed=seed, progress=progress)
    key = cache_key(space, rows, method, params, seed)
    try:
        art = ws.get(KIND, key)
        # through Arrow, not pandas: a million labels come out as a list in a third of the time
        table = pq.read_table(art.path / "coords.parquet")
        s = art.summary
        coords = np.column_stack([table.column("x").to_numpy(), table.column("y").to_numpy()]).astype(np.float32)
        return Projection(table.column("label").to_pylist(), coords, method, s["params"],
                          s["seconds"], s["trustworthiness"], s["knn_preservation"], s["trust_sample"], cached=True,
                          rows=table.column("row").to_numpy(), neighbours=table.column("neighbours").to_pylist(),
                          knn=s.get("knn", "exact"), knn_recall=s.get("knn_recall"))
    except NotFoundError:
        pass
    proj = project(space, rows, method, params=params, seed=seed, progress=progress)

    def build(folder):
        frame = proj.frame()
        frame["row"] = proj.rows
        frame.to_parquet(folder / "coords.parquet", index=False)
        return proj.summary()

    try:
        ws.create(KIND, key, build, params={"space": space.id, "method": method, "seed": seed}, parent=space.id)
    except Exception:  # another session cached the same projection first: theirs is as good
        pass
    return proj


# -- clusters --------------------------------------------------------------------------
CLUSTERERS = ("kmeans", "hdbscan")


def cluster(vectors: np.ndarray, labels: Sequence[str], method: str = "kmeans", *, n_clusters: int = 12,
            min_cluster_size: int = 10, seed: int = 1) -> tuple[np.ndarray, dict[int, str]]:
    """Cluster the original (not projected) vectors; name each cluster by its first
    three content labels (the labels come most frequent first; stopwords, numbers and
    one- or two-letter labels only when a cluster has nothing else). HDBSCAN's noise is -1."""
    if method == "kmeans":
        from sklearn.cluster import KMeans

        k = max(1, min(int(n_clusters), len(vectors)))
        assignment = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(vectors)
    elif method == "hdbscan":
        from sklearn.cluster import HDBSCAN

        assignment = HDBSCAN(min_cluster_size=int(min_cluster_size)).fit_predict(vectors)
    else:
        raise InputError(f"Unknown clustering {method!r}; expected one of {', '.join(CLUSTERERS)}.")
    from .neighbours import content_mask

    content = content_mask(pd.Series(list(labels), dtype=object))
    names: dict[int, str] = {}
    for c in sorted(set(assignment.tolist())):
        rows = np.flatnonzero(assignment == c)
        members = [labels[i] for i in rows[content[rows]][:3]] or [labels[i] for i in rows[:3]]
        names[c] = "unclustered" if c == -1 else f"{c}: {', '.join(members)}"
    return assignment, names


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
