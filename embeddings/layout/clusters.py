"""Clusters of a space's original (not projected) vectors, named by their first content labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from embeddings.errors import InputError

CLUSTERERS = ("kmeans", "hdbscan")


#: how many k-means clusters a map is coloured by unless the user picks another number
N_CLUSTERS = 12


def cluster(vectors: np.ndarray, labels: Sequence[str], method: str = "kmeans", *, n_clusters: int = N_CLUSTERS,
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
    from embeddings.analysis.neighbours import content_mask

    content = content_mask(pd.Series(list(labels), dtype=object))
    names: dict[int, str] = {}
    for c in sorted(set(assignment.tolist())):
        rows = np.flatnonzero(assignment == c)
        members = [labels[i] for i in rows[content[rows]][:3]] or [labels[i] for i in rows[:3]]
        names[c] = "unclustered" if c == -1 else f"{c}: {', '.join(members)}"
    return assignment, names
