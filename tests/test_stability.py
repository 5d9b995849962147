"""Stability studies: per-label Jaccard@k across training runs against a brute-force
recomputation, a model against itself, bootstrap resamples, saving, the CLI, and the
Audit's noise floor."""

import json

import numpy as np
import pytest

from embeddings.analysis import stability
from embeddings.analysis.stability import StabilityParams, run_study, save_study
from embeddings.errors import Cancelled
from embeddings.store.workspace import Workspace
from tests.conftest import copy_workspace, run_cli as run

SMALL = {"dim": 50, "epochs": 10, "workers": 1}


@pytest.fixture
def ws(lee_ws, tmp_path) -> Workspace:
    return Workspace(copy_workspace(lee_ws.root, tmp_path / "ws"))


def _brute_neighbours(vectors: np.ndarray, row: int, k: int) -> set:
    sims = vectors @ vectors[row]
    sims[row] = -np.inf
    return set(np.argsort(-sims, kind="stable")[:k].tolist())


def test_two_seeds_give_a_stability_between_0_and_1_that_matches_brute_force(ws):
    study = run_study(ws, StabilityParams("lee", "word2vec", runs=2, k=10, top=400, settings=SMALL))
    assert study.vocabulary > 400 and len(study.labels) == 400
    assert 0 < study.labels["stability"].mean() < 1 and study.labels["stability"].between(0, 1).all()
    a, b = study.spaces
    shared = [x for x in a.labels if x in set(b.labels)]
    va, vb = (np.asarray(s.lookup(shared), dtype=np.float64) for s in (a, b))
    for row in range(0, 400, 37):
        na, nb = _brute_neighbours(va, row, 10), _brute_neighbours(vb, row, 10)
        expected = len(na & nb) / len(na | nb)
        got = study.labels.iloc[row]
        assert got["label"] == shared[row]
        assert got["stability"] == pytest.approx(expected, abs=1e-12)
        assert got["floor"] == pytest.approx(expected, abs=1e-12)  # one pair: the floor is that pair


def test_a_model_against_itself_is_perfectly_stable(ws):
    from embeddings.text.corpus import get_corpus

    corpus = get_corpus(ws, "lee")
    tiny = {"dim": 16, "epochs": 1, "workers": 1}
    one = stability.train_run(corpus, "word2vec", tiny, seed=3)
    two = stability.train_run(corpus, "word2vec", tiny, seed=3)  # one worker: the same vectors
    sets = [stability.knn_sets(np.asarray(s.vectors[:500], dtype=np.float32), 10) for s in (one, two)]
    assert np.all(stability.pairwise_jaccard(sets) == 1.0)
    other = stability.train_run(corpus, "word2vec", tiny, seed=4)
    third = stability.knn_sets(np.asarray(other.vectors[:500], dtype=np.float32), 10)
    assert stability.pairwise_jaccard([sets[0], third]).mean() < 1.0


def test_bootstrap_runs_train_on_resampled_documents_and_a_cancel_saves_nothing(ws):
    calls = []

    def progress(f, m):
        calls.append(m)
        if "Run 2" in m and "epoch 2" in m:
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        run_study(ws, StabilityParams("lee", "word2vec", runs=3, bootstrap=True, settings=SMALL), progress=progress)
    assert not ws.list("stability") and not any((ws.root / "stability").iterdir())
    assert any("bootstrap resample" in m for m in calls)
    study = run_study(ws, StabilityParams("lee", "ppmi", runs=2, bootstrap=True, top=300,
                                          settings={"dim": 32}))
    # resampled corpora differ, so the runs' vocabularies do too: the study measures the shared labels
    a, b = study.spaces
    assert set(a.labels) != set(b.labels) and study.vocabulary == len(set(a.labels) & set(b.labels))
    saved = save_study(ws, study, "lee-ppmi-boot")
    back = stability.load_study(ws, "lee-ppmi-boot")
    assert back.median == pytest.approx(saved.median) and back.params.bootstrap
    assert [a.name for a in stability.studies_for(ws, "lee")] == ["lee-ppmi-boot"]


def test_cli_stability_and_the_audits_noise_floor(ws, capsys):
    from embeddings.analysis.audit import audit
    from embeddings.models import add_pretrained, train_space
    from embeddings.text.corpus import get_corpus

    code, out, err = run(capsys, "--workspace", ws.root, "stability", "--corpus", "lee", "--model", "word2vec",
                         "--runs", "2", "--dim", "50", "--epochs", "10", "--workers", "1", "--name", "noise", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["params"]["runs"] == 2 and 0 < got["quantiles"]["0.9"] < 1 and got["name"] == "noise"
    dom = train_space(ws, "lee", "word2vec", "dom", dim=50, epochs=10, workers=1, seed=1)
    glove = add_pretrained(ws, "glove-6b-50d", "glove", top=20000)
    code, out, err = run(capsys, "--workspace", ws.root, "audit", "--corpus", "lee", "--spaces", "dom,glove",
                         "--mine", "30", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["noise_floor"]["study"] == "noise"
    study = stability.load_study(ws, "noise")
    floor = study.labels.set_index("label")["floor"]
    judged = 0
    for term in report["terms"]:
        o = term["overlap"]["glove"]
        f = floor.get(term["term"])
        expected = None if o is None or f is None else o < f
        assert term["beyond_noise"]["glove"] == expected, term["term"]
        assert ("beyond noise" in term["flags"]) == bool(expected)
        judged += expected is not None
    row = next(r for r in report["summary"] if r["space"] == "glove")
    assert row["noise_n"] == judged and row["beyond_noise"] == sum(
        bool(t["beyond_noise"]["glove"]) for t in report["terms"])
    # without a noise floor, the raw threshold flags instead
    plain = audit(get_corpus(ws, "lee"), [dom, glove], mine=30)
    assert plain.noise is None and "stability" not in plain.terms
    # Jaccard@k is comparable only at one k: a study at k = 10 is no floor for an audit at k = 15
    code, out, err = run(capsys, "--workspace", ws.root, "audit", "--corpus", "lee", "--spaces", "dom,glove",
                         "--mine", "30", "-k", "15")
    assert code == 2 and "measured at k = 10" in err and "compares k = 15" in err

    # the Compare page's noise floor: the study found for the space, and the same rule over
    # the comparison's shared labels, counted here label by label
    from embeddings.analysis.neighbours import compare

    assert [a.name for a in stability.studies_of(ws, dom.family, "lee")] == ["noise"]
    assert stability.studies_of(ws, glove.family, "lee") == []       # no study trains GloVe
    assert stability.studies_of(ws, dom.family, "no-such-corpus") == []
    comparison = compare(dom, glove, 10, max_labels=2000)
    nf = stability.comparison_noise(study, comparison.table)
    stab = study.labels.set_index("label")["stability"]
    measured = [(j, stab[lab], floor[lab]) for lab, j in zip(comparison.table["label"], comparison.table["jaccard"])
                if np.isfinite(stab.get(lab, np.nan))]
    assert nf["measured"] == len(measured) > 100 and nf["shared"] == len(comparison.table)
    assert nf["median_stability"] == pytest.approx(float(np.median([s for _, s, _ in measured])))
    assert nf["median_jaccard"] == pytest.approx(float(np.median([j for j, _, _ in measured])))
    assert nf["beyond_noise"] == sum(j < f for j, _, f in measured)


def test_comparison_noise_by_hand():
    """Four measured labels and one the study never saw: medians and the below-floor count
    worked out on paper."""
    import pandas as pd

    labels = pd.DataFrame({"label": ["a", "b", "c", "d"], "frequency": [9, 8, 7, 6],
                           "stability": [0.8, 0.5, 0.3, 0.0], "floor": [0.6, 0.4, 0.1, 0.0]})
    study = stability.Study(StabilityParams("lee", "word2vec", runs=3), labels, pd.DataFrame(), 4, 1.0, name="s")
    table = pd.DataFrame({"label": ["a", "b", "x", "c", "d"], "jaccard": [0.5, 0.4, 0.9, 0.2, 0.0]})
    nf = stability.comparison_noise(study, table)
    # measured: a b c d; stabilities .8 .5 .3 0 -> median .4; jaccards .5 .4 .2 0 -> median .3;
    # below the floor: a (.5 < .6) only (b, c and d are at or above theirs)
    assert (nf["measured"], nf["shared"], nf["runs"], nf["study_k"]) == (4, 5, 3, 10)
    assert nf["median_stability"] == pytest.approx(0.4) and nf["median_jaccard"] == pytest.approx(0.3)
    assert nf["beyond_noise"] == 1
    none = stability.comparison_noise(study, table[table["label"] == "x"])
    assert none["measured"] == 0 and none["median_stability"] is None and none["beyond_noise"] == 0
