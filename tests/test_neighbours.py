"""Neighbours, expressions, kNN graphs and the comparison of two spaces, checked against independent computations."""

import numpy as np
import pytest

from embeddings.analysis import neighbours as nb
from embeddings.analysis.neighbours import compare, knn_graph, neighbours, overlap_scores, parse_expression
from embeddings.errors import InputError
from embeddings.figures.reports import compare_report
from embeddings.space import EmbeddingSpace, OOVError
from embeddings.store.space_store import load_space


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

@pytest.mark.xdist_group("pynndescent")  # one worker pays numba's compile (about 45 s)
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

def test_most_and_least_changed_leave_out_stopwords_numbers_and_rare_labels(first_ws, capsys):
    """#11: the lists a demo reads are content words, sorted by Jaccard then ordered overlap,
    the most frequent first among ties; the filter is a toggle."""
    from gensim.parsing.preprocessing import STOPWORDS

    from embeddings.analysis.neighbours import compare
    from embeddings.store.space_store import load_space
    from tests.conftest import run_cli

    w2v, glove = load_space(first_ws, "lee-word2vec"), load_space(first_ws, "glove-50d")
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
    code, out, err = run_cli(capsys, "--workspace", first_ws.root, "compare", "lee-word2vec", "glove", "--max-labels",
                                  "1500")
    assert code == 0, err
    assert out.strip().endswith(", ".join(most["label"].head(10)))

def test_label_neighbours_take_the_label_as_it_is():
    from embeddings.analysis.neighbours import label_neighbours

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
