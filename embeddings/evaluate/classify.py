"""Classification on a space's vectors, the task where a setting decides verdicts.

Logistic regression on stratified k-fold (shuffled, seeded, optionally repeated), macro-F1
and accuracy per fold, under one of two :data:`PROTOCOLS`: ``tuned`` (the default) chooses
C from :data:`C_GRID` by an inner stratified k-fold on each training fold only (nested
cross-validation; the result of scikit-learn's ``GridSearchCV``,
reached along a warm-started path); ``mteb`` is MTEB's fixed classifier
(C = 1, at most 100 iterations), which underfits sparse TF-IDF badly. Both run on every
fold, so the other protocol's macro-F1 is a second reading, and MTEB's kNN classifier
(k = 3, cosine) a third. The few-shot curve keeps MTEB's classifier (a handful of examples
per class leaves nothing to tune C on).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.options import option

FOLDS = 5
#: the folds a benchmark may use (stratified k-fold needs two; the page's widget has the same bounds)
MIN_FOLDS, MAX_FOLDS = 2, 10
#: MTEB's classifier: scikit-learn's logistic regression, capped at 100 iterations, on one
#: BLAS thread (see :func:`_classifier`; Newton-CG's larger products keep the threads)
MAX_ITER = 100
MTEB_BLAS_THREADS = 1
#: how the logistic regression's C is set (the first is the default)
PROTOCOLS = {"tuned": "logistic regression, C chosen inside each training fold (nested cross-validation)",
             "mteb": "MTEB's protocol: logistic regression with C = 1, at most 100 iterations"}
PROTOCOL = "tuned"
#: each protocol as a widget names it
PROTOCOL_LABELS = {"tuned": "C tuned (nested CV)", "mteb": "MTEB (C = 1, 100 iterations)"}
#: the C values the tuned protocol tries, and the inner folds it chooses on (training part only)
#: (on the whole Python manual the sparse TF-IDF chose 1,000, the old top, on every fold: the
#: grid reaches 10,000, and a choice at either end is reported, see :func:`at_edge`)
C_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)     # ascending: the tuned path walks it upwards
#: two inner folds, not three: with the warm-started path below, tuning costs about 2.5x the
#: untuned run on bench/tasks.py's 5,000 documents (three folds: about 3.3x)
INNER_FOLDS = 2
#: iterations the tuned fits may take (a large C converges slowly; MTEB's cap would decide for it),
#: and their solver: Newton-CG converges in about 10 iterations where L-BFGS takes 40 to 300, and
#: is 3-5x faster here on dense and sparse spaces alike
TUNED_MAX_ITER = 1000
TUNED_SOLVER = "newton-cg"
#: the tuned fits' tolerance: at scikit-learn's 1e-4 a fit at C >= 1,000 stops wherever it
#: started (macro-F1 moved by 0.002 between starts on bench/tasks.py's sparse TF-IDF); at 1e-6
#: a warm and a cold start agree to four decimals
TUNED_TOL = 1e-6
#: MTEB's kNN classifier: the neighbours that vote, by cosine
KNN_K = 3
#: the classification readings beside the main macro-F1: the other protocol's, and kNN's
OTHER_READING = {"tuned": "macro-F1 (C = 1)", "mteb": "macro-F1 (tuned C)"}
KNN_METRIC = "kNN macro-F1"
#: the per-fold C the chosen protocol used (kept beside the scores, not a metric)
CHOSEN_C = "C"
#: repetitions of the stratified k-fold (each a new shuffle); more narrow the intervals
REPEATS = 1
MAX_REPEATS = 10


@dataclass(frozen=True)
class BenchmarkParams:
    """The benchmark's options (the Choose page and ``benchmark``)."""

    folds: int = option(FOLDS, MIN_FOLDS, MAX_FOLDS, "folds of the stratified k-fold")
    repeats: int = option(REPEATS, 1, MAX_REPEATS, "repeats of the k-fold, reshuffled: more folds narrow the "
                          "intervals (the Nadeau-Bengio correction counts them all)")
    seed: int = option(0, 0, 10_000, "the seed of the folds and the classifiers")

def _logistic(max_iter: int, C: float = 1.0, solver: str = "lbfgs"):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=max_iter, solver=solver)


def _classifier(X, y: np.ndarray):
    """MTEB's classifier fitted on ``X, y``: logistic regression capped at ``MAX_ITER``
    iterations (a fold may stop short of full convergence; the warning is MTEB's cap, not news)."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    # one BLAS thread: L-BFGS's many small products pay more for waking a second thread than
    # they gain (10x faster on 4,000 x 384 vectors, 2x on the sparse TF-IDF; bench/tasks.py).
    # The limit is process-wide while it holds, a few hundred milliseconds at most.
    with warnings.catch_warnings(), threadpool_limits(MTEB_BLAS_THREADS, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _logistic(MAX_ITER).fit(X, y)


def at_edge(chosen: list[float]) -> str:
    """How many folds chose C at an end of :data:`C_GRID` ("" if none): there the best C may
    lie beyond the grid. (On the whole manual, reaching 10,000 moved the sparse TF-IDF from
    0.431 to 0.423 and TF-IDF + LSA from 0.579 to 0.599: a wider grid is not always better.)"""
    ends = {min(C_GRID): "lowest", max(C_GRID): "highest"}
    counts = {ends[c]: sum(1 for x in chosen if x == c) for c in ends}
    return "; ".join(f"{n} of {len(chosen)} folds at the {end} C ({c:g})" for (end, n), c in
                     zip(counts.items(), ends) if n)


def _fit(X, y: np.ndarray, C: float, start=None):
    """One tuned fit: :data:`TUNED_SOLVER` to :data:`TUNED_TOL`, from ``start`` (coefficients
    and intercepts) when given, else from zero."""
    model = _logistic(TUNED_MAX_ITER, C, TUNED_SOLVER)
    classes = len(np.unique(y))
    fits = start is not None and start[0].shape[0] == (1 if classes == 2 else classes)
    model.set_params(tol=TUNED_TOL, warm_start=fits)
    if fits:        # (an inner fold that lacks a class has a solution of another shape)
        model.coef_, model.intercept_ = start
    return model.fit(X, y)


def _tuned_classifier(X, y: np.ndarray, seed: int):
    """Logistic regression with C chosen from :data:`C_GRID` by macro-F1 over an inner
    stratified :data:`INNER_FOLDS`-fold split of ``X, y`` alone, then refitted on all of it:
    ``(model, C)``. As in scikit-learn's ``LogisticRegressionCV``, each inner fold walks the
    grid upwards, each fit starting where the last stopped, and the refit starts from the inner
    folds' mean solution at the chosen C. The fits run to :data:`TUNED_TOL`, where the start no
    longer changes the answer, so the result is that of a cold ``GridSearchCV`` at that
    tolerance (the tests check it)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    inner = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed)
    scores, solutions = np.zeros(len(C_GRID)), [[] for _ in C_GRID]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="The least populated class")   # a class of 2 in a fold of 2
        # Newton-CG's line search can give up near 1e-6 on float32 vectors: the fit stops at the
        # precision the vectors carry, which is the answer a cold start reaches too
        warnings.filterwarnings("ignore", message="Line Search failed")
        warnings.filterwarnings("ignore", message="The line search algorithm did not converge")
        for fit, held in inner.split(np.zeros(len(y)), y):
            start = None
            for j, C in enumerate(C_GRID):
                model = _fit(X[fit], y[fit], C, start)
                start = (model.coef_.copy(), model.intercept_.copy())
                solutions[j].append(start)
                scores[j] += f1_score(y[held], model.predict(X[held]), average="macro")
        best = int(np.argmax(scores))          # the first of equals, the smallest C, as GridSearchCV
        shapes = {s[0].shape for s in solutions[best]}
        mean = tuple(np.mean([s[i] for s in solutions[best]], axis=0) for i in range(2)) if len(shapes) == 1 else None
        return _fit(X, y, C_GRID[best], mean), C_GRID[best]


def _knn(X, y: np.ndarray):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=min(KNN_K, len(y)), metric="cosine", algorithm="brute").fit(X, y)


def check_folds(folds: int, repeats: int = REPEATS) -> None:
    """Refuse folds or repeats outside their bounds, as a user's mistake."""
    if not MIN_FOLDS <= folds <= MAX_FOLDS:
        raise InputError(f"Folds must be between {MIN_FOLDS} and {MAX_FOLDS}; got {folds}.")
    if not 1 <= repeats <= MAX_REPEATS:
        raise InputError(f"Repeats must be between 1 and {MAX_REPEATS}; got {repeats}.")


def outer_folds(y: np.ndarray, folds: int = FOLDS, seed: int = 0, repeats: int = REPEATS) -> list:
    """The (train, test) index pairs every classification reading uses: stratified k-fold,
    shuffled with ``seed``, repeated ``repeats`` times (scikit-learn's own splitters)."""
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

    check_folds(folds, repeats)
    splitter = (StratifiedKFold(folds, shuffle=True, random_state=seed) if repeats == 1 else
                RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed))
    return list(splitter.split(np.zeros(len(y)), y))


def classification(X, y: np.ndarray, *, folds: int = FOLDS, seed: int = 0, protocol: str = PROTOCOL,
                   repeats: int = REPEATS, progress=None) -> dict[str, np.ndarray]:
    """Per fold of :func:`outer_folds`: macro-F1 and accuracy of the ``protocol``'s logistic
    regression, the other protocol's macro-F1 (:data:`OTHER_READING`), the kNN classifier's
    (:data:`KNN_METRIC`), and the C the protocol used (:data:`CHOSEN_C`). ``progress(fraction,
    message)`` hears of each fold."""
    from sklearn.metrics import accuracy_score, f1_score

    if protocol not in PROTOCOLS:
        raise InputError(f"Unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}.")
    out: dict[str, list] = {"macro-F1": [], "accuracy": [], OTHER_READING[protocol]: [], KNN_METRIC: [], CHOSEN_C: []}
    splits = outer_folds(y, folds, seed, repeats)
    for i, (train, test) in enumerate(splits):
        if progress is not None:   # once a fold: the bar moves, and a Cancel acts between folds
            progress(i / len(splits), f"fold {i + 1} of {len(splits)}")
        tuned, C = _tuned_classifier(X[train], y[train], seed)
        readings = {"tuned": tuned.predict(X[test]), "mteb": _classifier(X[train], y[train]).predict(X[test])}
        main = readings[protocol]
        out["macro-F1"].append(f1_score(y[test], main, average="macro"))
        out["accuracy"].append(accuracy_score(y[test], main))
        other = readings["mteb" if protocol == "tuned" else "tuned"]
        out[OTHER_READING[protocol]].append(f1_score(y[test], other, average="macro"))
        knn = _knn(X[train], y[train]).predict(X[test])
        out[KNN_METRIC].append(f1_score(y[test], knn, average="macro"))
        out[CHOSEN_C].append(C if protocol == "tuned" else 1.0)
    return {k: np.array(v, dtype=float) for k, v in out.items()}


#: examples per class of the few-shot curve, and how many draws each point averages
SHOTS = (8, 16, 32, 64)
SHOT_REPEATS = 2


def few_shot(X, y: np.ndarray, *, shots: tuple[int, ...] = SHOTS, repeats: int = SHOT_REPEATS,
             folds: int = FOLDS, seed: int = 0) -> pd.DataFrame:
    """Macro-F1 with only ``n`` labelled examples per class, as MTEB undersamples: on each of
    the stratified folds, ``n`` training documents per class are drawn (all of a class that
    has fewer), the classifier is fitted on them and scored on the fold's test documents;
    ``repeats`` draws per fold. Rows: ``shots, score, std`` (std over the draws × folds)."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(seed)
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    rows = []
    for n in shots:
        values = []
        for train, test in splits:
            by_class = [train[y[train] == c] for c in np.unique(y[train])]
            for _ in range(repeats):
                pick = np.concatenate([rng.choice(idx, min(n, len(idx)), replace=False) for idx in by_class])
                model = _classifier(X[pick], y[pick])
                values.append(f1_score(y[test], model.predict(X[test]), average="macro"))
        rows.append({"shots": n, "score": float(np.mean(values)), "std": float(np.std(values, ddof=1))})
    return pd.DataFrame(rows)
