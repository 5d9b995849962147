"""Bias metrics and stability studies: what they cost, against the raw libraries and WEFE.

- ``metrics``: each of WEAT (with its 2,000-resample bootstrap interval and leave-one-out),
  RND, ECT, MAC and RNSB over the ten built-in tests on GloVe 6B 50-d (all 400k words), in
  seconds. When WEFE 1.0.1 can be imported (it is not a dependency: ``pip download wefe==1.0.1
  semantic_version --no-deps`` and unzip both wheels into a folder named by ``$WEFE_PATH``),
  the same queries through WEFE's ``run_query`` in the same run, the ratio, and the largest
  difference between the two values over the ten tests.
- ``stability``: a five-run study of the demo's Word2Vec on the Lee corpus (our
  ``run_study``: the runs, then Jaccard@10 over every pair, and WEAT in each run) against
  five plain gensim ``Word2Vec`` trainings with the same settings, the ratio, and the study's
  median stability.

Prints one JSON document.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from embeddings import bias
from embeddings.models.glove import load_glove


def _wefe(glove):
    path = os.environ.get("WEFE_PATH")
    if not path:
        return None
    sys.path.insert(0, path)
    try:
        from gensim.models import KeyedVectors
        from wefe.metrics import ECT, MAC, RND, RNSB, WEAT
        from wefe.query import Query
        from wefe.word_embedding_model import WordEmbeddingModel
    except ImportError:
        return None
    kv = KeyedVectors(glove.dim)
    kv.add_vectors(glove.labels, (np.asarray(glove.vectors, dtype=np.float64) * glove.norms[:, None]).astype(np.float32))
    model = WordEmbeddingModel(kv, "glove")

    def run(metric, test):
        words = [[w.lower() for w in s.words] for s in test.sets]
        union = lambda a, b: a + [w for w in b if w not in a]
        if metric in ("rnd", "ect"):
            q = Query([words[0], words[1]], [union(words[2], words[3])], ["X", "Y"], ["AB"])
        elif metric == "mac":
            q = Query([union(words[0], words[1])], [words[2], words[3]], ["XY"], ["A", "B"])
        else:
            q = Query([words[0], words[1]], [words[2], words[3]], ["X", "Y"], ["A", "B"])
        if metric == "weat":
            return WEAT().run_query(q, model, return_effect_size=True)["result"]
        if metric == "rnsb":
            return RNSB().run_query(q, model, random_state=0)["result"]
        return {"rnd": RND, "ect": ECT, "mac": MAC}[metric]().run_query(q, model)["result"]

    return run


def bench_metrics() -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    glove = load_glove("glove", None)
    tests = bias.builtin_tests()
    wefe = _wefe(glove)
    out = {"space": "GloVe 6B 50-d, 400,000 words", "tests": len(tests)}
    for metric in bias.METRICS:
        start = time.perf_counter()
        ours = [bias.run_metric(glove, t, metric, ddof=0) for t in tests]
        seconds = time.perf_counter() - start
        row = {"ours_seconds": round(seconds, 3)}
        if metric == "weat":
            row["includes"] = "exact or 100,000-sample permutation p, 2,000-resample bootstrap, leave-one-out"
        if wefe is not None:
            start = time.perf_counter()
            theirs = [wefe(metric, t) for t in tests]
            row["wefe_seconds"] = round(time.perf_counter() - start, 3)
            row["ours_over_wefe"] = round(seconds / row["wefe_seconds"], 2)
            row["max_abs_difference"] = float(max(abs(a.value - b) for a, b in zip(ours, theirs)))
        out[metric] = row
    start = time.perf_counter()
    for t in tests:
        bias.weat(glove, t, bootstrap=0)
    out["weat"]["without_bootstrap_seconds"] = round(time.perf_counter() - start, 3)
    out["wefe"] = "WEFE 1.0.1 from $WEFE_PATH" if wefe is not None else "not measured (set WEFE_PATH)"
    return out


def bench_stability() -> dict:
    from gensim.models import Word2Vec

    from embeddings.analysis.stability import StabilityParams, run_study
    from embeddings.models.gensim_models import TrainParams
    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import add_corpus, get_corpus
    from embeddings.text.preprocess import RECOMMENDED
    from embeddings.text.samples import SAMPLES

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        add_corpus(ws, "lee", documents=SAMPLES["lee"].load(), preprocessing=RECOMMENDED)
        corpus = get_corpus(ws, "lee")
        p = TrainParams()
        start = time.perf_counter()
        for seed in range(1, 6):
            Word2Vec(corpus_file=str(corpus.sentences_path), vector_size=p.dim, window=p.window,
                     min_count=p.min_count, sg=int(p.sg), negative=p.negative, sample=p.sample, epochs=p.epochs,
                     seed=seed, workers=p.workers)
        plain = time.perf_counter() - start
        start = time.perf_counter()
        study = run_study(ws, StabilityParams("lee", "word2vec", runs=5))
        ours = time.perf_counter() - start
    return {"corpus": "Lee (demo preprocessing)", "runs": 5, "gensim_5_trainings_seconds": round(plain, 2),
            "study_seconds": round(ours, 2), "study_over_gensim": round(ours / plain, 2),
            "median_stability": round(study.median, 4), "labels": len(study.labels),
            "quantiles": {q: round(float(study.labels["stability"].quantile(q)), 4) for q in (0.1, 0.25, 0.75, 0.9)}}


def main() -> None:
    sections = sys.argv[1:] or ["metrics", "stability"]
    out = {}
    if "metrics" in sections:
        out["metrics"] = bench_metrics()
    if "stability" in sections:
        out["stability"] = bench_stability()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
