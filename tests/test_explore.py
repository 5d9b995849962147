"""Neighbours, comparison and projection, checked against independent computations."""

import numpy as np
import pandas as pd
import pytest

from embeddings import neighbours as nb
from embeddings.errors import InputError
from embeddings.neighbours import compare, knn_graph, neighbours, overlap_scores, parse_expression
from embeddings.projection import align, cached_project, cluster, project, select_rows, trust_scores
from embeddings.reports import compare_report
from embeddings.space import EmbeddingSpace, OOVError, load_space


@pytest.fixture(scope="module")
def glove():
    from embeddings.models.vectors import load_glove

    return load_glove("glove", None)


# -- neighbours ----------------------------------------------------------------------------
def test_king_and_the_analogy_on_glove_match_gensim(glove):
    from gensim.models import KeyedVectors

    top = [n.label for n in neighbours(glove, "king", 10)]
    assert "queen" in top and "prince" in top and "king" not in top
    analogy = neighbours(glove, "king - man + woman", 5)
    assert analogy[0].label == "queen"
    kv = KeyedVectors(50)
    kv.add_vectors(glove.labels, np.asarray(glove.vectors))
    expected = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=5)
    assert [n.label for n in analogy] == [w for w, _ in expected]
    assert np.allclose([n.cosine for n in analogy], [c for _, c in expected], atol=1e-5)
    assert "king" in [n.label for n in neighbours(glove, "King", 3, exclude_query=False)]  # uncased space


def test_parse_expression_weights_and_errors():
    assert parse_expression("2*paris - france + italy*0.5") == [(2.0, "paris"), (-1.0, "france"), (0.5, "italy")]
    assert parse_expression("new_york") == [(1.0, "new_york")]
    with pytest.raises(InputError):
        parse_expression("   ")
    with pytest.raises(InputError, match="Incomplete"):
        parse_expression("king - ")


def test_oov_behaviour_for_each_family(demo_ws):
    w2v = load_space(demo_ws, "lee-word2vec")
    with pytest.raises(OOVError, match=r"Did you mean: government"):
        neighbours(w2v, "governmnt")
    ft = load_space(demo_ws, "lee-fasttext")
    assert len(neighbours(ft, "governmnt", 3)) == 3  # subwords
    mini = load_space(demo_ws, "lee-minilm")
    assert len(neighbours(mini, "a completely new phrase", 3)) == 3  # the encoder
    glove = load_space(demo_ws, "glove-50d", mmap=True)
    with pytest.raises(OOVError):
        neighbours(glove, "qwzxqwzx")
    cased = EmbeddingSpace.from_arrays("cased", ["Apple", "apple", "pear"], np.eye(3))
    assert neighbours(cased, "Apple", 1, exclude_query=False)[0].label == "Apple"
    with pytest.raises(OOVError):
        neighbours(cased, "APPLE")


# -- kNN graph ------------------------------------------------------------------------------
def test_knn_graph_is_exact_and_starts_with_self():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    idx, dist = knn_graph(x, 5, block=64)
    sims = x @ x.T
    brute = np.argsort(-sims, axis=1)[:, :6]
    assert np.array_equal(idx[:, 0], np.arange(300)) and np.allclose(dist[:, 0], 0)
    assert all(set(a[1:]) == set(b[1:]) for a, b in zip(idx, brute))
    assert np.allclose(dist[:, 1:], 1 - np.take_along_axis(sims, idx[:, 1:], axis=1), atol=1e-5)


def test_knn_graph_uses_pynndescent_beyond_the_exact_limit(monkeypatch):
    monkeypatch.setattr(nb, "EXACT_LIMIT", 100)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 10)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    idx, _ = knn_graph(x, 10)
    brute = np.argsort(-(x @ x.T), axis=1)[:, 1:11]
    recall = np.mean([len(set(a[1:]) & set(b)) / 10 for a, b in zip(idx, brute)])
    assert recall > 0.9


# -- overlap --------------------------------------------------------------------------------
def test_jaccard_and_ordered_overlap_match_numpy():
    rng = np.random.default_rng(2)
    k = 7
    na = np.stack([rng.choice(40, k, replace=False) for _ in range(200)])
    nb_ = np.stack([rng.choice(40, k, replace=False) for _ in range(200)])
    jac, ordered = overlap_scores(na, nb_)
    for r in range(200):
        inter = np.intersect1d(na[r], nb_[r]).size
        assert jac[r] == pytest.approx(inter / np.union1d(na[r], nb_[r]).size)
        ref = np.mean([np.intersect1d(na[r, :i], nb_[r, :i]).size / i for i in range(1, k + 1)])
        assert ordered[r] == pytest.approx(ref)


def test_compare_matches_brute_force_and_procrustes_sees_a_rotation():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(150, 12))
    labels = [f"w{i}" for i in range(150)]
    a = EmbeddingSpace.from_arrays("a", labels, base)
    noisy = EmbeddingSpace.from_arrays("b", labels[::-1], (base + rng.normal(scale=0.6, size=base.shape))[::-1])
    result = compare(a, noisy, 5)
    va = a.vectors
    vb = noisy.vectors[[noisy.index[x] for x in labels]]
    for r in range(0, 150, 7):
        top_a = set(np.argsort(-(va @ va[r]))[1:6])
        top_b = set(np.argsort(-(vb @ vb[r]))[1:6])
        assert result.table["jaccard"][r] == pytest.approx(len(top_a & top_b) / len(top_a | top_b))
    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    rotated = EmbeddingSpace.from_arrays("r", labels, base @ q)
    same = compare(a, rotated, 5)
    assert same.aligned and same.table["jaccard"].min() == 1.0 and same.table["drift"].max() < 1e-5
    d = same.domino("w3")
    assert d["only_a"] == [] and d["only_b"] == [] and len(d["shared"]) == 5
    html = compare_report(result, "a", "b", examples=["w3"])
    assert "<table" in html and "w3" in html and "src=\"http" not in html
    with pytest.raises(InputError, match="share 0 labels"):
        compare(a, EmbeddingSpace.from_arrays("z", ["x", "y"], np.eye(2)))


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


def test_cached_projection_reloads_and_goes_with_its_space(demo_ws):
    s = load_space(demo_ws, "lee-word2vec")
    seeded = {a.params["space"] for a in demo_ws.list("projection")}  # the demo's UMAP layouts
    assert seeded == {s.id, demo_ws.get("space", "lee-fasttext").id}
    rows = select_rows(s, top=300)
    first = cached_project(demo_ws, s, rows, "pca")
    again = cached_project(demo_ws, s, rows, "pca")
    assert not first.cached and again.cached
    assert np.allclose(first.coords, again.coords) and again.labels == first.labels
    assert again.trustworthiness == pytest.approx(first.trustworthiness, abs=1e-4)
    assert len(demo_ws.list("projection")) == 3
    demo_ws.delete("space", "lee-word2vec")  # its two cached layouts go with it
    assert [a.params["space"] for a in demo_ws.list("projection")] == [demo_ws.get("space", "lee-fasttext").id]


def test_select_rows_and_clusters(demo_ws):
    s = load_space(demo_ws, "lee-word2vec")
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
    from embeddings.projection import Projection

    rng = np.random.default_rng(4)
    a = rng.normal(size=(50, 2)).astype(np.float32)
    theta = 0.7
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    b = (a @ rot * 3.0 + 5.0).astype(np.float32)
    labels = [str(i) for i in range(50)]
    pa = Projection(labels, a, "pca", {}, 0, None, None, 0)
    pb = Projection(labels[::-1], b[::-1], "pca", {}, 0, None, None, 0)
    assert np.allclose(align(pa, pb)[::-1], a, atol=1e-4)


def test_most_and_least_changed_leave_out_stopwords_numbers_and_rare_labels(demo_ws, capsys):
    """#11: the lists a demo reads are content words, sorted by Jaccard then ordered overlap,
    the most frequent first among ties; the filter is a toggle."""
    from gensim.parsing.preprocessing import STOPWORDS

    from embeddings.neighbours import compare
    from embeddings.space import load_space
    from tests.conftest import run_cli

    w2v, glove = load_space(demo_ws, "lee-word2vec"), load_space(demo_ws, "glove-50d")
    result = compare(w2v, glove, 10, max_labels=1500)
    most = result.most_changed(50)
    freq = dict(zip(w2v.labels, w2v.frequency))
    for label in most["label"]:
        assert label.lower() not in STOPWORDS and any(c.isalpha() for c in label) and len(label) >= 3
        assert freq[label] >= 5
    t = result.table.assign(pos=range(len(result.table)))
    keep = t[[x.lower() not in STOPWORDS and any(c.isalpha() for c in x) and len(x) >= 3 and freq[x] >= 5
              for x in t["label"]]]
    by_hand = sorted(keep.itertuples(), key=lambda r: (r.jaccard, r.ordered, r.pos))[:50]
    assert most["label"].tolist() == [r.label for r in by_hand]
    everything = result.most_changed(200, content_only=False)["label"].tolist()
    assert any(x.lower() in STOPWORDS or not any(c.isalpha() for c in x) for x in everything)
    least = result.least_changed(5)
    assert least["jaccard"].is_monotonic_decreasing
    code, out, err = run_cli(capsys, "--workspace", demo_ws.root, "compare", "w2v", "glove", "--max-labels", "1500")
    assert code == 0, err
    assert out.strip().endswith(", ".join(most["label"].head(10)))


# -- #11: a labelled map --------------------------------------------------------------------
def test_projection_figure_names_groups_at_their_centres_and_labels_top_words():
    import json

    from embeddings.figures import MapLayers, projection_figure, short_name

    rng = np.random.default_rng(3)
    a = rng.normal(loc=(0, 0), scale=0.3, size=(40, 2))
    b = rng.normal(loc=(10, 5), scale=0.3, size=(40, 2))
    xy = np.vstack([a, b, [[50.0, 50.0]]])                         # one far outlier in group a
    labels = [f"word{i}" for i in range(81)]
    labels[1] = "the"                                              # a stopword: never written on the map
    frame = pd.DataFrame({"label": labels, "x": xy[:, 0], "y": xy[:, 1],
                          "frequency": np.arange(81, 0, -1, dtype=float), "neighbours": ""})
    in_a = np.r_[np.ones(40, bool), np.zeros(40, bool), [True]]
    layers = MapLayers(groups=[("0: alpha, beta, gamma", in_a), ("1: delta", ~in_a)], word_labels=5,
                       picked={"word3"}, near={"word4", "word5"}, search="word7")
    fig, found = projection_figure(frame, layers)
    spec = json.loads(fig.to_json())
    notes = {n["text"]: (n["x"], n["y"]) for n in spec["layout"]["annotations"]}
    assert notes["<b>alpha · beta</b>"] == pytest.approx((np.median(xy[in_a, 0]), np.median(xy[in_a, 1])))
    assert notes["<b>delta</b>"] == pytest.approx((np.median(b[:, 0]), np.median(b[:, 1])))
    assert "<b>word7</b>" in notes and found == 1
    traces = {t.get("name"): t for t in spec["data"]}
    assert list(traces["most frequent"]["text"]) == ["word0", "word2", "word3", "word4", "word5"]  # by frequency
    assert list(traces["selected"]["text"]) == ["word3"]
    assert sorted(traces["its neighbours"]["text"]) == ["word4", "word5"]
    assert short_name("unclustered") == "unclustered"
    # background groups are never named
    fig, _ = projection_figure(frame, MapLayers(groups=[("other", in_a), ("people", ~in_a)]))
    assert [n["text"] for n in json.loads(fig.to_json())["layout"]["annotations"]] == ["<b>people</b>"]


def test_label_neighbours_take_the_label_as_it_is():
    from embeddings.neighbours import label_neighbours

    rng = np.random.default_rng(5)
    labels = ["a - b", "a", "b", "c", "d"]
    v = rng.normal(size=(5, 8))
    sp = EmbeddingSpace.from_arrays("s", labels, v)
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    sims = unit @ unit[0]
    order = [i for i in np.argsort(-sims) if i != 0][:3]
    got = label_neighbours(sp, "a - b", 3)                         # a sentence label, not an expression
    assert [n.label for n in got] == [labels[i] for i in order]
    assert [n.cosine for n in got] == pytest.approx([sims[i] for i in order], abs=1e-6)
    assert label_neighbours(sp, "zzz") is None


def test_cluster_names_prefer_content_words(demo_ws):
    s = load_space(demo_ws, "glove-50d")
    rows = select_rows(s, top=300)
    _, names = cluster(np.asarray(s.vectors[rows]), [s.labels[i] for i in rows], "kmeans", n_clusters=6)
    from gensim.parsing.preprocessing import STOPWORDS

    words = [w.strip() for n in names.values() for w in n.split(": ", 1)[1].split(",")]
    assert sum(w in STOPWORDS for w in words) <= 3          # the most frequent words are mostly stopwords


def test_neighbour_bars_keep_long_labels_whole_in_the_hover_and_apart_on_the_axis():
    import json

    from embeddings.figures import neighbour_bars

    long_a, long_b = "x" * 60 + "a", "x" * 60 + "b"      # the same once cut
    spec = json.loads(neighbour_bars([long_a, long_b, "short"], [0.9, 0.8, 0.7]).to_json())
    bar = spec["data"][0]
    assert list(bar["customdata"]) == ["short", long_b, long_a]            # nearest on top
    assert len(set(bar["y"] if isinstance(bar["y"], list) else [0, 1, 2])) == 3
    ticks = spec["layout"]["yaxis"]["ticktext"]
    assert ticks[0] == "short" and all(len(t) <= 40 for t in ticks) and ticks[1].endswith("…")
