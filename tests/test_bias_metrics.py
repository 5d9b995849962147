"""WEFE's metrics (RND, ECT, MAC, RNSB) and WEAT's uncertainty (bootstrap interval,
leave-one-word-out, SEAT's permutation unit), raw vector norms and RIPA on raw vectors,
each against a computation written here with numpy, scipy or scikit-learn."""

import itertools
import json
import math

import numpy as np
import pytest

from embeddings import bias
from embeddings.bias import custom_test, get_test, run_metric, weat
from embeddings.space import EmbeddingSpace
from tests.conftest import run_cli as run


def _toy(words: dict, family: str = "imported", embedder=None) -> EmbeddingSpace:
    space = EmbeddingSpace.from_arrays("toy", list(words), np.array(list(words.values()), dtype=float),
                                       keep_norms=True, provenance={"family": family}, embedder=embedder)
    return space


# -- hand-checkable values on a toy space ---------------------------------------------------
TOY = {"x1": [2.0, 0.0], "x2": [1.0, 1.0], "y1": [0.0, 3.0], "y2": [0.5, 2.0],
       "a1": [1.0, 0.2], "a2": [3.0, 1.0], "a3": [2.0, 0.1], "a4": [1.0, 0.0], "a5": [4.0, 0.5],
       "b1": [0.1, 1.0], "b2": [0.4, 2.0], "b3": [0.0, 1.0], "b4": [0.3, 2.5], "b5": [1.0, 4.0]}
TOY_TEST = custom_test("toy", ("X", ["x1", "x2"]), ("Y", ["y1", "y2"]), ("A", ["a1", "a2", "a3", "a4", "a5"]),
                       ("B", ["b1", "b2", "b3", "b4", "b5"]))


def _v(*words):
    return np.array([TOY[w] for w in words], dtype=float)


def test_rnd_by_hand():
    # mean X = (1.5, 0.5), mean Y = (0.25, 2.5); the first attribute a1 = (1, 0.2):
    # ‖a1 − X̄‖ = √(0.25 + 0.09) = 0.5831, ‖a1 − Ȳ‖ = √(0.5625 + 5.29) = 2.4192
    r = run_metric(_toy(TOY), TOY_TEST, "rnd")
    assert r.details["distance difference"].iloc[0] == pytest.approx(math.sqrt(0.34) - math.sqrt(5.8525), abs=1e-6)
    attrs = _v("a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "b4", "b5")
    xm, ym = _v("x1", "x2").mean(0), _v("y1", "y2").mean(0)
    expected = np.mean([np.linalg.norm(a - xm) - np.linalg.norm(a - ym) for a in attrs])
    assert r.value == pytest.approx(expected, abs=1e-6)
    assert r.vectors == "raw" and r.sizes == (2, 2, 10)


def _ranks(v):
    order = np.argsort(v)
    ranks = np.empty(len(v))
    ranks[order] = np.arange(len(v))
    return ranks


def test_ect_mac_rnsb_by_hand():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    space = _toy(TOY)
    attrs = _v("a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "b4", "b5")
    cos = lambda u, v: float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))
    sx = [cos(_v("x1", "x2").mean(0), a) for a in attrs]
    sy = [cos(_v("y1", "y2").mean(0), a) for a in attrs]
    rx, ry = _ranks(np.array(sx)), _ranks(np.array(sy))  # no ties here
    rho = np.corrcoef(rx, ry)[0, 1]
    # (the space stores float32 vectors: agreement to 1e-6)
    assert run_metric(space, TOY_TEST, "ect").value == pytest.approx(rho, abs=1e-9)

    targets = _v("x1", "x2", "y1", "y2")
    per = [[np.mean([1 - cos(t, a) for a in _v(*s)]) for s in (("a1", "a2", "a3", "a4", "a5"),
                                                                ("b1", "b2", "b3", "b4", "b5"))] for t in targets]
    assert run_metric(space, TOY_TEST, "mac").value == pytest.approx(np.mean(per), abs=1e-6)

    # RNSB as WEFE runs it: A positive (+1), B negative (−1), stratified 80/20 split, liblinear
    features = np.vstack([_v("a1", "a2", "a3", "a4", "a5"), _v("b1", "b2", "b3", "b4", "b5")])
    labels = np.array([1.0] * 5 + [-1.0] * 5)
    fit_x, _, fit_y, _ = train_test_split(features, labels, shuffle=True, random_state=7, test_size=0.2,
                                          stratify=labels)
    clf = LogisticRegression(solver="liblinear", max_iter=10000, random_state=7).fit(fit_x, fit_y)
    p = clf.predict_proba(targets)[:, list(clf.classes_).index(-1.0)]
    q = p / p.sum()
    kl = float(np.sum(q * np.log(q * len(q))))
    r = run_metric(space, TOY_TEST, "rnsb", seed=7)
    assert r.value == pytest.approx(kl, abs=1e-6)
    assert r.details["P(negative)"].to_numpy() == pytest.approx(p, abs=1e-6)
    # the y targets lie with B, so they are more likely negative
    assert r.details["P(negative)"].iloc[2:].min() > r.details["P(negative)"].iloc[:2].max()


def test_every_metric_states_its_formula_source_direction_and_missing_words(capsys, glove, tmp_path):
    from embeddings.store.space_store import save_space
    from embeddings.store.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    save_space(ws, glove, "glove")
    for metric in bias.METRICS:
        code, out, err = run(capsys, "--workspace", ws.root, "bias", "metric", "glove", "--metric", metric, "--test", "weat5",
                             "--json")
        assert code == 0, err
        got = json.loads(out)
        assert {"metric", "test", "value", "missing", "formula", "source", "direction", "vectors"} <= set(got)
        assert got["metric"] == metric and got["test"] == "weat5" and math.isfinite(got["value"])
        assert got["vectors"] == ("normalised" if metric == "weat" else "raw")
    assert "effect_size_ci" in got or metric != "weat"
    code, out, err = run(capsys, "--workspace", ws.root, "bias", "metric", "glove", "--metric", "weat", "--test", "weat1",
                         "--json")
    got = json.loads(out)
    assert got["effect_size_ci"][0] <= got["value"] <= got["effect_size_ci"][1]
    assert got["most_influential"]["word"] and "delta" in got["most_influential"]
    # weat1's flowers lose words in GloVe's vocabulary? No: all found; a custom set with a made-up word
    (tmp_path / "x.txt").write_text("rose\ntulip\nxqzzyflower\n")
    (tmp_path / "y.txt").write_text("ant\nwasp\nflea\n")
    (tmp_path / "a.txt").write_text("love\npeace\njoy\nhappy\nfriend\n")
    (tmp_path / "b.txt").write_text("hate\nwar\nagony\nsad\nenemy\n")
    code, out, err = run(capsys, "--workspace", ws.root, "bias", "metric", "glove", "--metric", "rnd", "--json", "--x",
                         tmp_path / "x.txt", "--y", tmp_path / "y.txt", "--a", tmp_path / "a.txt", "--b",
                         tmp_path / "b.txt", "--max-missing", "0.5")
    assert code == 0, err
    assert json.loads(out)["missing"] == ["xqzzyflower"]
    code, out, err = run(capsys, "--workspace", ws.root, "bias", "metric", "glove", "--metric", "ect")
    assert code == 0 and "weat10" in out and "no bias" in out


def test_the_metrics_equal_the_formulas_on_glove_raw_vectors(glove):
    """Every built-in test, each metric recomputed from GloVe's own file (raw vectors), with
    the queries of the papers and WEFE: RND/ECT on X, Y and A ∪ B, MAC on X ∪ Y and A, B."""
    from scipy.stats import spearmanr
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from embeddings.models.glove import glove_files

    matrix = np.load(glove_files()[0], mmap_mode="r")
    row = glove.index

    def raw(words):
        found = [w.lower() for w in words if w.lower() in row]
        return np.array([np.asarray(matrix[row[w]], dtype=np.float64) for w in dict.fromkeys(found)])

    def cos(u, v):
        return (u / np.linalg.norm(u, axis=1, keepdims=True)) @ (v / np.linalg.norm(v, axis=1, keepdims=True)).T

    assert glove.norms[:100] == pytest.approx(np.linalg.norm(np.asarray(matrix[:100], dtype=np.float64), axis=1),
                                              rel=1e-6)
    for t in bias.builtin_tests():
        x, y, a, b = (raw(s.words) for s in t.sets)
        ab = raw(list(t.a.words) + list(t.b.words))
        xy = raw(list(t.x.words) + list(t.y.words))
        rnd = np.mean(np.linalg.norm(ab - x.mean(0), axis=1) - np.linalg.norm(ab - y.mean(0), axis=1))
        ect = spearmanr(cos(x.mean(0)[None], ab)[0], cos(y.mean(0)[None], ab)[0]).correlation
        mac = np.mean([(1 - cos(xy, s)).mean(axis=1) for s in (a, b)])
        feats, labels = np.vstack([a, b]), np.r_[np.ones(len(a)), -np.ones(len(b))]
        fx, _, fy, _ = train_test_split(feats, labels, shuffle=True, random_state=0, test_size=0.2, stratify=labels)
        clf = LogisticRegression(solver="liblinear", max_iter=10000, random_state=0).fit(fx, fy)
        neg = clf.predict_proba(np.vstack([x, y]))[:, list(clf.classes_).index(-1.0)]
        q = neg / neg.sum()
        rnsb = float(np.sum(q * np.log(q * len(q))))
        s = lambda w: cos(w, a).mean(1) - cos(w, b).mean(1)
        d0 = (s(x).mean() - s(y).mean()) / np.concatenate([s(x), s(y)]).std()   # WEFE's population std
        for metric, expected in (("rnd", rnd), ("ect", ect), ("mac", mac), ("rnsb", rnsb)):
            assert run_metric(glove, t, metric).value == pytest.approx(expected, abs=2e-6), (t.id, metric)
        assert run_metric(glove, t, "weat", ddof=0, bootstrap=0).value == pytest.approx(d0, abs=1e-6), t.id


def test_a_space_without_norms_says_so_and_uses_unit_vectors(glove):
    old = EmbeddingSpace(glove.name, glove.labels, glove.vectors, glove.meta.drop(columns="norm"), glove.provenance)
    r = run_metric(old, get_test("weat6"), "rnd")
    assert r.vectors == "normalised" and "no vector norms" in r.note
    unit = lambda ws: np.asarray(glove.lookup([w.lower() for w in ws]), dtype=float)
    x, y = unit(get_test("weat6").x.words), unit(get_test("weat6").y.words)
    ab = unit(get_test("weat6").a.words + get_test("weat6").b.words)
    assert r.value == pytest.approx(np.mean(np.linalg.norm(ab - x.mean(0), axis=1)
                                            - np.linalg.norm(ab - y.mean(0), axis=1)), abs=1e-6)
    assert run_metric(glove, get_test("weat6"), "rnd").value != pytest.approx(r.value, abs=1e-3)


# -- WEAT's uncertainty ---------------------------------------------------------------------------
def _synthetic(n: int, seed: int = 0) -> tuple[EmbeddingSpace, bias.WeatTest]:
    """Four sets of ``n`` words with a real association (X near A, Y near B) and noise."""
    rng = np.random.default_rng(seed)
    axis = np.zeros(20)
    axis[0] = 1.0
    words = {}
    for role, sign in (("x", 1), ("y", -1), ("a", 1), ("b", -1)):
        for i in range(n):
            words[f"{role}{i}"] = sign * 0.6 * axis + rng.normal(size=20) / math.sqrt(20)
    space = _toy(words)
    test = custom_test(f"synthetic{n}", *((r.upper(), [f"{r}{i}" for i in range(n)]) for r in "xyab"))
    return space, test


def test_the_bootstrap_interval_contains_d_and_narrows_with_larger_sets():
    small = weat(*_synthetic(8), bootstrap=2000)
    large = weat(*_synthetic(40), bootstrap=2000)
    for r in (small, large):
        lo, hi = r.effect_size_ci
        assert lo <= r.effect_size <= hi and r.bootstrap == 2000
    assert large.effect_size_ci[1] - large.effect_size_ci[0] < 0.7 * (small.effect_size_ci[1] - small.effect_size_ci[0])
    # seeded: the same seed gives the same interval, another seed a slightly different one
    again = weat(*_synthetic(8), bootstrap=2000)
    assert again.effect_size_ci == small.effect_size_ci
    assert weat(*_synthetic(8), bootstrap=2000, seed=1).effect_size_ci != small.effect_size_ci


def test_the_bootstrap_matches_a_loop_written_here():
    space, test = _synthetic(6)
    r = weat(space, test, bootstrap=300, seed=3)
    # the same draws, replayed one resample at a time with plain indexing
    rng = np.random.default_rng(3)
    vec = {role: np.asarray(space.lookup([f"{role}{i}" for i in range(6)]), dtype=float) for role in "xyab"}
    ds = []
    counts = {role: rng.multinomial(6, np.full(6, 1 / 6), size=300) for role in "xyab"}
    for k in range(300):
        pick = {role: np.repeat(np.arange(6), counts[role][k]) for role in "xyab"}
        a, b = vec["a"][pick["a"]], vec["b"][pick["b"]]
        s = lambda w: (w @ a.T).mean(1) - (w @ b.T).mean(1)
        sx, sy = s(vec["x"][pick["x"]]), s(vec["y"][pick["y"]])
        ds.append((sx.mean() - sy.mean()) / np.concatenate([sx, sy]).std(ddof=1))
    assert r.effect_size_ci == pytest.approx(tuple(np.percentile(ds, [2.5, 97.5])), abs=1e-9)


def test_leave_one_out_matches_recomputing_d_without_that_word(glove):
    t = get_test("weat7")
    r = weat(glove, t, bootstrap=0)
    top = r.most_influential
    assert len(r.influence) == sum(len(s.words) for s in t.sets)
    role = "XYAB".index(top["role"])
    sets = [(s.name, [w for w in s.words if not (i == role and w == top["word"])]) for i, s in enumerate(t.sets)]
    again = weat(glove, custom_test("without", *sets), bootstrap=0)
    assert top["d_without"] == pytest.approx(again.effect_size, abs=1e-12)
    assert top["delta"] == pytest.approx(again.effect_size - r.effect_size, abs=1e-12)
    assert abs(top["delta"]) == pytest.approx(r.influence["delta"].abs().max())


def test_seat_permutes_whole_words_by_default():
    """Six template sentences per word move together: p is exact over the partitions of
    the words (C(8, 4) = 70 here), from each word's summed s; the sentence-level option
    samples partitions of the 48 sentences."""
    rng = np.random.default_rng(0)
    table: dict[str, np.ndarray] = {}

    def embedder(texts):
        out = []
        for text in texts:
            if text not in table:
                word = text.replace("This is ", "").replace("That is ", "").replace(" is here", "") \
                    .replace(" is there", "").replace("a ", "").strip(". ")
                base = np.zeros(8)
                base[0] = {"x": 1, "y": -1, "a": 1, "b": -1}[word[0]]
                table[text] = base + rng.normal(size=8)
            out.append(table[text])
        return np.array(out)

    space = EmbeddingSpace.from_arrays("enc", ["anchor"], np.ones((1, 8)), provenance={"family": "sentence-transformer"},
                                       embedder=embedder)
    test = custom_test("seat", ("X", ["x1", "x2", "x3", "x4"]), ("Y", ["y1", "y2", "y3", "y4"]),
                       ("A", ["a1", "a2", "a3"]), ("B", ["b1", "b2", "b3"]))
    r = weat(space, test, bootstrap=0)
    assert r.seat and r.permutation_unit == "word" and r.p_method == "exact" and r.permutations == 70
    per_word = r.scores.groupby("word", sort=False)["s"].sum()
    s = per_word.to_numpy()
    observed = s[:4].sum()
    beyond = sum(s[list(c)].sum() > observed + 1e-12 for c in itertools.combinations(range(8), 4))
    assert r.p_value == pytest.approx(beyond / 70)
    by_sentence = weat(space, test, bootstrap=0, seat_unit="sentence", permutations=2000)
    assert by_sentence.permutation_unit == "sentence" and by_sentence.p_method == "sampled"
    assert by_sentence.effect_size == pytest.approx(r.effect_size)


# -- raw norms and RIPA ---------------------------------------------------------------------------
def test_raw_ripa_equals_a_direct_computation_on_the_imported_vectors(tmp_path):
    from embeddings.models.vectors import import_vectors

    rng = np.random.default_rng(5)
    words = ["he", "she", "man", "woman", "nurse", "engineer", "doctor"]
    raw = {w: rng.normal(size=6) * rng.uniform(0.5, 4.0) for w in words}
    path = tmp_path / "vectors.txt"
    path.write_text(f"{len(words)} 6\n" + "".join(f"{w} {' '.join(f'{v:.6f}' for v in raw[w])}\n" for w in words))
    space = import_vectors(path, "word2vec", "imported")
    file_vec = {w: np.array([float(f"{v:.6f}") for v in raw[w]]) for w in words}
    assert space.norms == pytest.approx([np.linalg.norm(file_vec[w]) for w in words], rel=1e-6)
    pairs = [("she", "he"), ("woman", "man")]
    targets = ["nurse", "engineer", "doctor"]
    table = bias.ripa(space, pairs, targets)
    assert table.attrs["vectors"] == "raw"
    for a, b in pairs:
        rel = file_vec[a] - file_vec[b]
        for w in targets:
            assert table.loc[w, f"{a}/{b}"] == pytest.approx(file_vec[w] @ rel / np.linalg.norm(rel), rel=1e-5)
    unit = bias.ripa(space, pairs, targets, vectors="normalised")
    n = {w: file_vec[w] / np.linalg.norm(file_vec[w]) for w in words}
    rel = n["she"] - n["he"]
    assert unit.loc["nurse", "she/he"] == pytest.approx(n["nurse"] @ rel / np.linalg.norm(rel), rel=1e-5)
    # a space saved before norms were kept: the normalised variant only, and it says so
    old = EmbeddingSpace(space.name, space.labels, space.vectors, space.meta.drop(columns="norm"), space.provenance)
    report = bias.axis_report(old, pairs, targets)
    assert report.ripa_vectors == "normalised" and "no vector norms" in report.ripa_note
    assert report.ripa.loc["nurse", "she/he"] == pytest.approx(unit.loc["nurse", "she/he"], abs=1e-9)
    # a derived space (PCA, debiased) does not inherit its parent's norms
    assert space.derive("child", np.asarray(space.vectors) * 2, how="test").norms is None
