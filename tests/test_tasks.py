"""Task benchmarks (embeddings.evaluate.tasks) and document spaces (embeddings.models.docspaces), each
against an independent computation written here with scikit-learn, scipy or numpy."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from embeddings.errors import InputError
from embeddings.evaluate import classify, tasks
from embeddings.evaluate.benchmark import TFIDF_SPARSE, benchmark
from embeddings.models.docspaces import document_rows, document_tokens, pool, pool_space, tfidf_matrix, tfidf_space
from embeddings.readers import Document
from embeddings.space import EmbeddingSpace
from embeddings.text.corpus import add_corpus
from embeddings.text.preprocess import RECOMMENDED
from tests.conftest import LABELLED_AREAS, labelled_docs


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """A small labelled corpus: the python-docs sample's docstrings of three areas."""
    from embeddings.store.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("labelled"))
    return ws, add_corpus(ws, "pydocs3", documents=labelled_docs(), preprocessing=RECOMMENDED)


def _blobs(n_per_class=60, k=3, dim=16, separation=3.0, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)) * separation
    y = np.repeat([f"c{i}" for i in range(k)], n_per_class)
    X = centres[np.repeat(np.arange(k), n_per_class)] + rng.normal(size=(k * n_per_class, dim))
    return X, y


# -- the tasks equal scikit-learn run by hand ----------------------------------------------------
def test_the_mteb_protocol_equals_cross_validate_on_the_same_folds():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_validate

    X, y = _blobs(separation=0.6)
    ours = classify.classification(X, y, folds=5, seed=3, protocol="mteb")
    ref = cross_validate(LogisticRegression(max_iter=100), X, y, scoring=["f1_macro", "accuracy"],
                         cv=StratifiedKFold(5, shuffle=True, random_state=3))
    np.testing.assert_allclose(ours["macro-F1"], ref["test_f1_macro"], atol=1e-12)
    np.testing.assert_allclose(ours["accuracy"], ref["test_accuracy"], atol=1e-12)
    np.testing.assert_array_equal(ours["C"], 1.0)


def _nested(X, y, outer, seed):
    """Nested cross-validation written with scikit-learn alone: GridSearchCV on each training
    part (inner stratified 2-fold, macro-F1, every fit from zero at tolerance 1e-6), scored on
    the outer test part. Ours walks a warm-started path; at that tolerance the start must not
    change the answer."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

    search = GridSearchCV(LogisticRegression(max_iter=1000, solver="newton-cg", tol=1e-6),
                          {"C": [0.1, 1.0, 10.0, 100.0, 1000.0, 1e4]},
                          scoring="f1_macro", cv=StratifiedKFold(2, shuffle=True, random_state=seed))
    return cross_validate(search, X, y, scoring=["f1_macro", "accuracy"], cv=outer, return_estimator=True)


def test_a_c_chosen_at_an_end_of_the_grid_is_reported():
    assert classify.at_edge([10.0, 100.0]) == ""
    assert classify.at_edge([1e4, 1e4, 100.0]) == "2 of 3 folds at the highest C (10000)"
    assert classify.at_edge([0.1, 1e4]) == "1 of 2 folds at the lowest C (0.1); 1 of 2 folds at the highest C (10000)"


def test_tuned_classification_equals_nested_cross_validation_with_sklearn():
    from sklearn.model_selection import StratifiedKFold

    X, y = _blobs(n_per_class=40, separation=0.5, dim=24)
    ours = classify.classification(X, y, folds=4, seed=2)
    ref = _nested(X, y, StratifiedKFold(4, shuffle=True, random_state=2), 2)
    np.testing.assert_allclose(ours["macro-F1"], ref["test_f1_macro"], atol=1e-12)
    np.testing.assert_allclose(ours["accuracy"], ref["test_accuracy"], atol=1e-12)
    np.testing.assert_array_equal(ours["C"], [e.best_params_["C"] for e in ref["estimator"]])
    # the other protocol's reading is MTEB's, on the same folds
    mteb = classify.classification(X, y, folds=4, seed=2, protocol="mteb")
    np.testing.assert_allclose(ours["macro-F1 (C = 1)"], mteb["macro-F1"], atol=1e-12)
    np.testing.assert_allclose(mteb["macro-F1 (tuned C)"], ours["macro-F1"], atol=1e-12)


def test_the_knn_reading_equals_kneighbors_by_hand_and_repeats_use_sklearns_splitter():
    from sklearn.metrics import f1_score
    from sklearn.model_selection import RepeatedStratifiedKFold

    X, y = _blobs(n_per_class=30, separation=0.7, dim=12)
    ours = classify.classification(X, y, folds=3, seed=5, protocol="mteb", repeats=2)
    splits = list(RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=5).split(X, y))
    assert len(ours["kNN macro-F1"]) == len(splits) == 6
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    for value, (train, test) in zip(ours["kNN macro-F1"], splits):
        sims = unit[test] @ unit[train].T                       # the 3 most similar training documents vote
        top = np.argsort(-sims, axis=1, kind="stable")[:, :3]
        votes = y[train][top]
        predicted = []
        for row in votes:
            labels, counts = np.unique(row, return_counts=True)   # a tie goes to the first label in order
            predicted.append(labels[np.argmax(counts)])
        assert value == pytest.approx(f1_score(y[test], predicted, average="macro"), abs=1e-12)
    with pytest.raises(InputError, match="Repeats must be between 1 and"):
        classify.classification(X, y, repeats=0)


def test_a_pair_ordered_differently_by_the_two_protocols_is_named_and_no_other():
    rng = np.random.default_rng(0)
    tuned = {"tfidf": 0.94, "minilm": 0.90, "glove": 0.70}      # the case: C = 1 underfits TF-IDF
    mteb = {"tfidf": 0.72, "minilm": 0.89, "glove": 0.69}
    def noise():   # fold noise that sums to zero
        e = rng.normal(0, 0.01, 5)
        return e - e.mean()
    scores = [tasks.TaskScore(n, "classification", m, v + noise(), "fold", 50, 50)
              for table, m in ((tuned, "macro-F1"), (mteb, "macro-F1 (C = 1)")) for n, v in table.items()]
    changes = tasks.ranking_changes(scores)
    assert [(c["a"], c["b"]) for c in changes] == [("tfidf", "minilm")]
    assert changes[0]["difference"] == pytest.approx(0.04) and changes[0]["other_difference"] == pytest.approx(-0.17)
    assert "with C tuned" in changes[0]["sentence"] and "under MTEB's C = 1" in changes[0]["sentence"]
    # read from the MTEB side, the same pair is named the other way round
    flipped = [tasks.TaskScore(s.space, s.task, {"macro-F1": "macro-F1 (tuned C)", "macro-F1 (C = 1)": "macro-F1"}[
        s.metric], s.values, "fold", 50, 50) for s in scores]
    assert [(c["a"], c["b"]) for c in tasks.ranking_changes(flipped, "mteb")] == [("minilm", "tfidf")]


def test_clustering_equals_kmeans_by_hand():
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, v_measure_score

    X, y = _blobs(separation=1.0)
    ours = tasks.clustering(X, y, seeds=4, seed=2)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    for i, s in enumerate(range(2, 6)):
        assigned = KMeans(3, n_init=1, random_state=s).fit_predict(unit)
        assert ours["V-measure"][i] == pytest.approx(v_measure_score(y, assigned), abs=1e-12)
        assert ours["ARI"][i] == pytest.approx(adjusted_rand_score(y, assigned), abs=1e-12)


def test_retrieval_equals_average_precision_per_query():
    from sklearn.metrics import average_precision_score

    X, y = _blobs(n_per_class=15, separation=0.5, seed=4)
    ours = tasks.retrieval(X, y, k=10, chunk=7)          # a small chunk: the blocks must agree
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    sims = unit @ unit.T
    for q in range(len(y)):
        others = np.arange(len(y)) != q
        relevant = (y[others] == y[q]).astype(int)
        assert ours["MAP"][q] == pytest.approx(average_precision_score(relevant, sims[q, others]), abs=1e-9)
        top = np.argsort(-sims[q, others], kind="stable")[:10]
        assert ours["P@10"][q] == pytest.approx(relevant[top].mean(), abs=1e-12)


def test_random_vectors_score_at_chance():
    rng = np.random.default_rng(7)
    y = np.repeat(["a", "b", "c", "d"], 100)
    X = rng.normal(size=(400, 32))
    labels = tasks.Labels(np.arange(400), y, 400)
    scores = {(s.task, s.metric): s for t in tasks.TASKS for s in tasks.run_task("random", X, labels, t)}
    f1 = scores[("classification", "macro-F1")]
    # chance is 1/k for balanced classes; one draw of noise lands within a few fold-stds of it
    assert abs(f1.score - 0.25) <= 3 * f1.std
    ari = scores[("clustering", "ARI")]
    assert abs(ari.score) <= 2 * ari.std + 0.01
    ap = scores[("retrieval", "MAP")]
    chance = 99 / 399                                              # the share of same-label documents
    assert abs(ap.score - chance) <= 2 * ap.std / np.sqrt(400) + 0.01


# -- is the difference real? -----------------------------------------------------------------------
def test_the_corrected_t_interval_matches_nadeau_and_bengio():
    d = np.array([0.02, 0.05, -0.01, 0.04, 0.03])
    low, high = tasks.corrected_t_interval(d, 1 / 4, 0.95)
    half = stats.t.ppf(0.975, 4) * np.sqrt((1 / 5 + 1 / 4) * d.var(ddof=1))
    assert (low, high) == pytest.approx((d.mean() - half, d.mean() + half))


def test_a_real_difference_is_called_and_an_absent_one_is_not():
    X, y = _blobs(separation=2.0)
    labels = tasks.Labels(np.arange(len(y)), y, len(y))
    noise = np.random.default_rng(1).normal(size=X.shape)
    scores = [s for name, M in (("signal", X), ("noise", noise), ("noise-2", noise.copy()))
              for t in tasks.TASKS for s in tasks.run_task(name, M, labels, t)]
    pairs = {(d.a, d.b, d.task): d for d in tasks.compare(scores)}
    for task in tasks.TASKS:
        assert pairs[("signal", "noise", task)].verdict == "signal beats noise"
        same = pairs[("noise", "noise-2", task)]
        assert same.verdict == "no detectable difference on this data" and same.difference == 0
        assert same.confidence == pytest.approx(1 - 0.05 / 3)     # Bonferroni over the three pairs


def test_labels_leave_out_small_classes_and_say_so():
    values = pd.Series(["a"] * 6 + ["b"] * 5 + ["c"] * 2 + ["", None])
    labels = tasks.labels_from(values, folds=5)
    assert labels.classes == ["a", "b"] and labels.dropped == {"c": 2} and labels.total == 15
    with pytest.raises(InputError, match="at least two classes"):
        tasks.labels_from(pd.Series(["a"] * 9 + ["b"]), folds=5)


# -- document spaces ---------------------------------------------------------------------------------
def test_sif_equals_a_numpy_computation_on_a_toy_corpus():
    words = ["cat", "dog", "sat", "the", "mat"]
    rng = np.random.default_rng(0)
    space = EmbeddingSpace.from_arrays("w", words, rng.normal(size=(5, 4)))
    docs = [["the", "cat", "sat"], ["the", "dog", "sat", "on", "the", "mat"], ["cat", "dog"], ["eel"]]
    p = {"the": 0.3, "cat": 0.1, "dog": 0.1, "sat": 0.2, "mat": 0.05, "on": 0.25}
    ours, oov = pool(space, docs, "sif", p, a=1e-3)
    V = space.vectors.astype(np.float64)
    ref = np.zeros((4, 4))
    for i, doc in enumerate(docs):
        known = [w for w in doc if w in words]
        if known:
            ref[i] = sum(1e-3 / (1e-3 + p[w]) * V[words.index(w)] for w in known) / len(known)
    u = np.linalg.svd(ref, full_matrices=False)[2][0]              # first right singular vector
    ref -= np.outer(ref @ u, u)
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    assert oov == 2                                                # "on" and "eel"


def test_word_tfidf_equals_tfidf_vectorizer_on_the_same_tokens(labelled):
    from sklearn.feature_extraction.text import TfidfVectorizer

    _, corpus = labelled
    ours, vec = tfidf_matrix(corpus, "word", (1, 2))
    texts = [" ".join(t) for t in document_tokens(corpus)]
    ref_vec = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, ngram_range=(1, 2))
    ref = ref_vec.fit_transform(texts)
    order = [ref_vec.vocabulary_[f] for f in vec.get_feature_names_out()]
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours.toarray(), ref[:, order].toarray(), atol=1e-12)


def test_document_spaces_carry_their_documents_and_fit_without_labels(labelled, glove, tmp_path):
    from embeddings.store.workspace import Workspace

    ws, corpus = labelled
    pooled = pool_space(glove, corpus, "mean", "glove-mean")
    assert pooled.provenance["unit"] == "document" and len(pooled) == corpus.stats["documents"]
    assert set(pooled.meta["meta.area"]) == set(LABELLED_AREAS)
    np.testing.assert_array_equal(document_rows(pooled, corpus), np.arange(len(pooled)))
    assert 0 < pooled.provenance["oov_share"] < 0.5
    lsa = tfidf_space(corpus, "tfidf", lsa=32)
    # the same texts with the labels shuffled give the same vectors: nothing is fitted on labels
    docs = corpus.documents()
    shuffled = np.random.default_rng(0).permutation(docs["meta.area"].to_numpy())
    other = add_corpus(Workspace(tmp_path / "ws2"), "shuffled", preprocessing=RECOMMENDED, documents=[
        Document(t, s, {"area": a}) for t, s, a in zip(docs["text"], docs["source"], shuffled)])
    np.testing.assert_array_equal(pool_space(glove, other, "mean", "x").vectors, pooled.vectors)
    np.testing.assert_array_equal(tfidf_space(other, "y", lsa=32).vectors, lsa.vectors)


# -- the benchmark on a workspace corpus ---------------------------------------------------------------
def test_benchmark_runs_every_task_and_its_json_has_no_nan(labelled, glove):
    ws, corpus = labelled
    assert "area" in corpus.label_columns() and "object" not in corpus.label_columns()
    spaces = [pool_space(glove, corpus, "mean", "glove-mean"), pool_space(glove, corpus, "sif", "glove-sif")]
    b = benchmark(corpus, "area", spaces, tfidf=True, folds=3, few_shots=True)
    d = b.to_dict()
    assert d["classes"] == 3 and d["documents"] == d["total_documents"] == corpus.stats["documents"]
    names = {"glove-mean", "glove-sif", TFIDF_SPARSE}
    assert {(r["space"], r["task"]) for r in d["results"]} == {(n, t) for n in names for t in tasks.TASKS}
    assert len(d["pairs"]) == 3 * 3 and all(p["low"] <= p["difference"] <= p["high"] for p in d["pairs"])
    json.dumps(d, allow_nan=False)
    assert {(r["space"], r["shots"]) for r in d["few_shot"]} == {(n, k) for n in names for k in classify.SHOTS}
    # the classification score is the direct computation on these vectors
    X = np.asarray(spaces[0].vectors)[b.labels.rows]
    direct = classify.classification(X, b.labels.y, folds=3, seed=0)["macro-F1"].mean()
    row = next(r for r in d["results"] if r["space"] == "glove-mean" and r["metric"] == "macro-F1")
    assert row["score"] == pytest.approx(direct, abs=1e-12)
    with pytest.raises(InputError, match="no column 'topic'.*area"):
        benchmark(corpus, "topic", spaces)
    with pytest.raises(InputError, match="not a document space"):
        benchmark(corpus, "area", [glove])


def test_a_long_document_is_chunked_and_mean_pooled_like_plain_sentence_transformers(no_network):
    from sentence_transformers import SentenceTransformer

    from embeddings.models.sentence import chunks, encode_documents, load_encoder, minilm_path

    model = load_encoder("minilm")
    long_text = " ".join(f"word{i} thread socket" for i in range(300))       # far over 254 word pieces
    pieces = chunks(model, long_text)
    assert len(pieces) > 1 and "".join(pieces).replace(" ", "") == long_text.replace(" ", "")
    ours, split = encode_documents(model, [long_text, "short text"])
    assert split == 1
    plain = SentenceTransformer(str(minilm_path()), device="cpu", local_files_only=True)
    ref = plain.encode(pieces, normalize_embeddings=True).mean(axis=0)
    np.testing.assert_allclose(ours[0], ref / np.linalg.norm(ref), atol=1e-5)
    np.testing.assert_allclose(ours[1], plain.encode(["short text"], normalize_embeddings=True)[0], atol=1e-5)


def test_few_shot_equals_the_protocol_written_with_sklearn():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    X, y = _blobs(n_per_class=40, separation=0.7, seed=5)
    ours = classify.few_shot(X, y, shots=(4, 16), repeats=2, folds=3, seed=1)
    rng = np.random.default_rng(1)
    splits = list(StratifiedKFold(3, shuffle=True, random_state=1).split(X, y))
    for n, row in zip((4, 16), ours.itertuples()):
        values = []
        for train, test in splits:
            for _ in range(2):
                pick = np.concatenate([rng.choice(train[y[train] == c], n, replace=False) for c in ("c0", "c1", "c2")])
                model = LogisticRegression(max_iter=100).fit(X[pick], y[pick])
                values.append(f1_score(y[test], model.predict(X[test]), average="macro"))
        assert (row.shots, row.score, row.std) == pytest.approx((n, np.mean(values), np.std(values, ddof=1)))
    assert ours["score"].iloc[1] > ours["score"].iloc[0]         # more labels help on separable classes


def test_the_dimension_curve_is_pca_then_the_same_protocol(labelled, glove):
    from sklearn.decomposition import PCA

    from embeddings.evaluate.benchmark import dimension_curve

    _, corpus = labelled
    pooled = pool_space(glove, corpus, "mean", "glove-mean")
    curve, drop_at = dimension_curve(pooled, corpus, "area", folds=3, dims=(2, 8, 32))
    assert curve["dim"].tolist() == [2, 8, 32, 50]
    labels = tasks.labels_from(corpus.documents()["meta.area"], 3)
    X = np.asarray(pooled.vectors)[labels.rows]
    direct = classify.classification(PCA(n_components=8, random_state=0).fit_transform(X), labels.y, folds=3)
    assert curve.set_index("dim").loc[8, "score"] == pytest.approx(direct["macro-F1"].mean(), abs=1e-12)
    full = curve.iloc[-1]
    below = curve[(curve["dim"] < 50) & (curve["score"] < full["score"] - full["std"])]["dim"]
    assert drop_at == (int(below.max()) if len(below) else None)


def test_a_saved_benchmark_reads_back_the_same(labelled, glove):
    from embeddings.evaluate.benchmark import Benchmark

    _, corpus = labelled
    b = benchmark(corpus, "area", [pool_space(glove, corpus, "sif", "glove-sif")], tfidf=True, folds=3,
                  tasks=("classification", "retrieval"))
    back = Benchmark.from_record(json.loads(json.dumps(b.to_record())))
    assert back.to_dict() == b.to_dict()
    assert back.reading("classification") == b.reading("classification") != ""
