"""New points placed into a saved layout (a "basemap" one adds to), with each method's own
``transform``, and how well they land: the kNN preservation of the placed points against the
layout's own points."""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.layout.projection import METHOD_LABELS, TRUST_K, Projection
from embeddings.progress import Progress, no_progress
from embeddings.space import EmbeddingSpace


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
