"""Task benchmarks and pooling at the sizes issue #13 names, against the raw libraries in
the same run. Prints JSON.

1. **Five spaces × three tasks on 5,000 documents** (encoding excluded), with
   classification's C tuned by nested cross-validation (the default since #25) against the
   untuned MTEB classifier alone, in the same run (target: tuned ≤ 2.5× untuned); and our
   :func:`embeddings.evaluate.benchmark.benchmark` against the same protocol written directly with
   scikit-learn (``cross_validate``, a ``KMeans`` loop, ``average_precision_score`` per
   query). Target ≤ 60 s for ours.
   The documents are the python-docs sample's docstrings (~2,260, labelled by area),
   repeated to 5,000 with each copy's vectors perturbed: the spaces are the real ones
   (GloVe mean and SIF pooling, TF-IDF + LSA 256, MiniLM) plus the sparse TF-IDF.
2. **Mean and SIF pooling of 100,000 documents** of 60 tokens drawn from GloVe's
   vocabulary by a Zipf law: ours (one sparse product) against a plain per-document numpy
   loop. Target ≤ 10 s for ours.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from embeddings.models.glove import load_glove


def _spaces_at(n_docs: int):
    """Five document spaces of ``n_docs`` labelled documents (real spaces, repeated and perturbed)."""
    from embeddings.models.docspaces import pool_space, sparse_tfidf, tfidf_space
    from embeddings.models.sentence import encode_documents, load_encoder
    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import add_corpus
    from embeddings.text.preprocess import RECOMMENDED
    from embeddings.text.samples import SAMPLES

    ws = Workspace(tempfile.mkdtemp(prefix="bench-tasks-"))
    corpus = add_corpus(ws, "pydocs", documents=SAMPLES["python-docs"].load(), preprocessing=RECOMMENDED)
    docs = corpus.documents()
    glove = load_glove("glove", None)
    base = {"glove-mean": pool_space(glove, corpus, "mean", "m").vectors,
            "glove-sif": pool_space(glove, corpus, "sif", "s").vectors,
            "tfidf-lsa": tfidf_space(corpus, "t", lsa=256).vectors}
    t = time.perf_counter()
    base["minilm"], _ = encode_documents(load_encoder("minilm"), docs["text"].tolist())
    minilm_seconds = time.perf_counter() - t
    sparse = sparse_tfidf(corpus)[0]
    y = docs["meta.area"].to_numpy()
    reps = int(np.ceil(n_docs / len(y)))
    take = np.arange(n_docs) % len(y)
    rng = np.random.default_rng(0)
    spaces = {}
    for name, X in base.items():
        X = np.asarray(X, dtype=np.float32)[take]
        spaces[name] = X + rng.normal(scale=0.02 * X.std(), size=X.shape).astype(np.float32) * (reps > 1)
    spaces["tfidf (sparse)"] = sparse[take]
    return spaces, y[take], {"minilm_docs_per_second": round(len(y) / minilm_seconds, 1), "base_documents": len(y)}


def _sklearn_direct(X, y, folds=5, seeds=10, k=10) -> None:
    """The same protocol written with scikit-learn directly (the raw-library baseline)."""
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import adjusted_rand_score, average_precision_score, v_measure_score
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.preprocessing import normalize

    cross_validate(LogisticRegression(max_iter=100), X, y, scoring=["f1_macro", "accuracy"],
                   cv=StratifiedKFold(folds, shuffle=True, random_state=0))
    unit = normalize(X)
    for s in range(seeds):
        a = KMeans(len(set(y)), n_init=1, random_state=s).fit_predict(unit)
        v_measure_score(y, a), adjusted_rand_score(y, a)
    sims = unit @ unit.T
    sims = sims.toarray() if hasattr(sims, "toarray") else sims
    for q in range(len(y)):
        others = np.arange(len(y)) != q
        average_precision_score(y[others] == y[q], sims[q, others])


def _untuned(name, X, labels, task):
    """The protocol before #25: MTEB's classifier alone (what the tuned default is compared with)."""
    from embeddings.evaluate import classify
    from embeddings.evaluate.tasks import TaskScore, run_task

    if task != "classification":
        return run_task(name, X, labels, task)
    folds = classify.outer_folds(labels.y)
    from sklearn.metrics import accuracy_score, f1_score

    f1, acc = [], []
    for train, test in folds:
        p = classify._classifier(X[train], labels.y[train]).predict(X[test])
        f1.append(f1_score(labels.y[test], p, average="macro"))
        acc.append(accuracy_score(labels.y[test], p))
    n, test = len(labels.y), round(len(labels.y) / classify.FOLDS)
    return [TaskScore(name, task, m, np.array(v), "fold", n, n, (test, n - test))
            for m, v in (("macro-F1", f1), ("accuracy", acc))]


def bench_tasks(n_docs: int) -> dict:
    from embeddings.evaluate.tasks import TASKS, Labels, compare, ranking_changes, run_task

    spaces, y, info = _spaces_at(n_docs)
    labels = Labels(np.arange(len(y)), y, len(y))
    t = time.perf_counter()
    scores = [s for name, X in spaces.items() for task in TASKS for s in run_task(name, X, labels, task)]
    compare(scores)
    ours = time.perf_counter() - t
    print(f"tuned: {ours:.1f} s", file=sys.stderr, flush=True)
    per_space = {s.space: {"tuned": round(s.score, 4), "chosen_C": s.chosen_c.tolist()} for s in scores
                 if s.metric == "macro-F1"}
    for s in scores:
        if s.metric in ("macro-F1 (C = 1)", "kNN macro-F1"):
            per_space[s.space]["C = 1" if "C = 1" in s.metric else "kNN"] = round(s.score, 4)
    t = time.perf_counter()
    untuned = [s for name, X in spaces.items() for task in TASKS for s in _untuned(name, X, labels, task)]
    compare(untuned)
    before = time.perf_counter() - t
    t = time.perf_counter()
    for X in spaces.values():
        _sklearn_direct(X, y)
    direct = time.perf_counter() - t
    return {"documents": len(y), "spaces": len(spaces), "tasks": len(TASKS), "ours_seconds": round(ours, 1),
            "sklearn_direct_seconds": round(direct, 1), "ratio_direct_over_ours": round(direct / ours, 2),
            "target_seconds": 60, "met": ours <= 60,
            "untuned_seconds": round(before, 1), "ratio_tuned_over_untuned": round(ours / before, 2),
            "tuning_target_ratio": 2.5, "tuning_met": ours / before <= 2.5,
            "classification": per_space, "ranking_changes": [c["sentence"] for c in ranking_changes(scores)], **info}


def bench_pooling(n_docs: int, tokens: int) -> dict:
    from embeddings.models.docspaces import pool

    glove = load_glove("glove", 100_000)
    rng = np.random.default_rng(0)
    ranks = np.minimum(rng.zipf(1.2, size=n_docs * tokens), len(glove)) - 1
    words = np.asarray(glove.labels, dtype=object)[ranks]
    docs = [list(words[i * tokens:(i + 1) * tokens]) for i in range(n_docs)]
    probability = {w: 1.0 / (r + 1) for r, w in enumerate(glove.labels)}
    out = {"documents": n_docs, "tokens_per_document": tokens, "target_seconds": 10}
    for method in ("mean", "sif"):
        t = time.perf_counter()
        ours, _ = pool(glove, docs, method, probability)
        out[f"{method}_seconds"] = round(time.perf_counter() - t, 2)
    out["met"] = max(out["mean_seconds"], out["sif_seconds"]) <= 10
    # the plain loop: one document at a time (mean pooling)
    t = time.perf_counter()
    index, V = glove.index, np.asarray(glove.vectors)
    loop = np.zeros((n_docs, glove.dim))
    for i, d in enumerate(docs):
        rows = [index[w] for w in d if w in index]
        if rows:
            loop[i] = V[rows].mean(axis=0)
    out["numpy_loop_mean_seconds"] = round(time.perf_counter() - t, 2)
    out["ratio_loop_over_ours_mean"] = round(out["numpy_loop_mean_seconds"] / out["mean_seconds"], 2)
    mean, _ = pool(glove, docs, "mean")
    out["max_abs_difference_mean"] = float(np.abs(mean - loop).max())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--pool-documents", type=int, default=100_000)
    parser.add_argument("--tokens", type=int, default=60)
    args = parser.parse_args()
    print(json.dumps({"pooling": bench_pooling(args.pool_documents, args.tokens),
                      "tasks": bench_tasks(args.documents)}, indent=1))


if __name__ == "__main__":
    main()
