"""Projections (UMAP, PCA, t-SNE), their trust scores, cache, row selection, clusters and alignment."""

import numpy as np
import pytest

from embeddings.errors import InputError
from embeddings.layout.clusters import cluster
from embeddings.layout.projection import align, cached_project, project, select_rows, trust_scores
from embeddings.store.space_store import load_space


# -- projection -----------------------------------------------------------------------------
def test_umap_of_5k_glove_words_is_trustworthy(glove):
    rows = select_rows(glove, top=5000)
    assert list(rows[:3]) == [0, 1, 2]
    p = project(glove, rows, "umap", seed=1)
    assert p.coords.shape == (5000, 2) and p.trustworthiness >= 0.8
    assert 0 < p.knn_preservation <= 1 and p.neighbours[0]
    # kNN preservation, independently: brute force in both spaces
    x = np.asarray(glove.vectors[rows[:1000]])
    sub = project(glove, rows[:1000], "pca")
    high = np.argsort(-(x @ x.T), axis=1)[:, 1:11]
    d2 = ((sub.coords[:, None, :] - sub.coords[None, :, :]) ** 2).sum(-1)
    low = np.argsort(d2, axis=1)[:, 1:11]
    ref = np.mean([len(set(h) & set(lo)) / 10 for h, lo in zip(high, low)])
    assert sub.knn_preservation == pytest.approx(ref, abs=0.01)
    tw, kp, n = trust_scores(x, sub.coords)
    assert n == 1000 and tw == pytest.approx(sub.trustworthiness) and kp == pytest.approx(sub.knn_preservation)

def test_cached_projection_reloads_and_goes_with_its_space(first_ws):
    s = load_space(first_ws, "lee-word2vec")
    seeded = {a.params["space"] for a in first_ws.list("projection")}  # the demo's UMAP layouts
    assert seeded == {s.id, first_ws.get("space", "glove-50d").id}
    rows = select_rows(s, top=300)
    first = cached_project(first_ws, s, rows, "pca")
    again = cached_project(first_ws, s, rows, "pca")
    assert not first.cached and again.cached
    assert np.allclose(first.coords, again.coords) and again.labels == first.labels
    assert again.trustworthiness == pytest.approx(first.trustworthiness, abs=1e-4)
    assert len(first_ws.list("projection")) == 3
    first_ws.delete("space", "lee-word2vec")  # its two cached layouts go with it
    assert [a.params["space"] for a in first_ws.list("projection")] == [first_ws.get("space", "glove-50d").id]

def test_select_rows_and_clusters(first_ws):
    s = load_space(first_ws, "lee-word2vec")
    assert [s.labels[i] for i in select_rows(s, words=["government", "Sydney", "nope"])] == ["government", "sydney"]
    assert all(s.labels[i].startswith("new") for i in select_rows(s, regex="^new"))
    with pytest.raises(InputError, match="Invalid regular expression"):
        select_rows(s, regex="(")
    with pytest.raises(InputError, match="None of the listed words"):
        select_rows(s, words=["zzzz"])
    rows = select_rows(s, top=200)
    assignment, names = cluster(np.asarray(s.vectors[rows]), [s.labels[i] for i in rows], "kmeans", n_clusters=5)
    assert set(assignment) == set(range(5)) and names[0].startswith("0: ")

def test_align_undoes_a_rotation_and_scaling():
    from embeddings.layout.projection import Projection

    rng = np.random.default_rng(4)
    a = rng.normal(size=(50, 2)).astype(np.float32)
    theta = 0.7
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    b = (a @ rot * 3.0 + 5.0).astype(np.float32)
    labels = [str(i) for i in range(50)]
    pa = Projection(labels, a, "pca", {}, 0, None, None, 0)
    pb = Projection(labels[::-1], b[::-1], "pca", {}, 0, None, None, 0)
    assert np.allclose(align(pa, pb)[::-1], a, atol=1e-4)

def test_cluster_names_prefer_content_words(first_ws):
    s = load_space(first_ws, "glove-50d")
    rows = select_rows(s, top=300)
    _, names = cluster(np.asarray(s.vectors[rows]), [s.labels[i] for i in rows], "kmeans", n_clusters=6)
    from gensim.parsing.preprocessing import STOPWORDS

    words = [w.strip() for n in names.values() for w in n.split(": ", 1)[1].split(",")]
    assert sum(w in STOPWORDS for w in words) <= 3          # the most frequent words are mostly stopwords
