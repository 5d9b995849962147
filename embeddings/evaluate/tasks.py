"""Task benchmarks on the user's own labels, following MTEB's protocols, and whether a
difference between two spaces is real.

Inputs are one vector per document (a dense matrix, or TF-IDF's sparse one) and the
documents' labels. Every score keeps its per-fold, per-seed or per-query values, so it
carries a spread and can be compared **paired**: two spaces are scored on the same folds,
the same seeds and the same queries.

- **Classification** (:mod:`embeddings.evaluate.classify`): logistic regression with C tuned inside
  each training fold by default, or MTEB's fixed C = 1; macro-F1 and accuracy per fold, with
  the other protocol's and a kNN classifier's macro-F1 as further readings;
  :func:`ranking_changes` says where the two protocols order spaces differently.
- **Clustering**: k-means with k = the number of labels, one run per seed; V-measure
  (MTEB's metric) and the adjusted Rand index.
- **Retrieval by label**: each document queries all the others by cosine; precision@k
  and average precision of the documents with its label, per query.

Paired differences (:func:`compare`):

- classification: the corrected resampled t-test of Nadeau & Bengio (2003) over the
  folds (the variance inflated by ``1/J + n_test/n_train``, since folds share training data);
- clustering: a t interval over the seeds (paired by seed);
- retrieval: a paired bootstrap over the queries.

The intervals of one task are Bonferroni-corrected for the number of pairs compared
together, and a pair reads "A beats B" only when its interval excludes zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal, get_args

import numpy as np
import pandas as pd

from embeddings.analysis.neighbours import K as NEIGHBOUR_K
from embeddings.display import plural
from embeddings.errors import InputError
from embeddings.evaluate.classify import CHOSEN_C, FOLDS, OTHER_READING, PROTOCOL, REPEATS, classification

Task = Literal["classification", "clustering", "retrieval"]
TASKS: tuple[Task, ...] = get_args(Task)
RETRIEVAL_K = NEIGHBOUR_K
METRICS = {"classification": ("macro-F1", "accuracy"), "clustering": ("V-measure", "ARI"),
           "retrieval": ("MAP", f"P@{RETRIEVAL_K}")}
#: the metric each task is ranked and compared on (MTEB's main score)
MAIN_METRIC = {"classification": "macro-F1", "clustering": "V-measure", "retrieval": "MAP"}
CLUSTER_SEEDS = 10
BOOTSTRAP = 2000
CONFIDENCE = 0.95
#: a class needs at least this many documents per fold to be kept (stratified k-fold)
MIN_PER_CLASS_PER_FOLD = 1


@dataclass
class Labels:
    """The documents a benchmark uses and their labels: ``rows`` index the corpus's
    documents; classes too small for the folds are left out and named in ``dropped``."""

    rows: np.ndarray
    y: np.ndarray
    total: int
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.y.tolist()))


def labels_from(values: pd.Series, folds: int = FOLDS, within: np.ndarray | None = None) -> Labels:
    """Labels from one metadata column: empty values are left out, and so is any class with
    fewer documents than folds (stratified k-fold cannot place it); both are counted.
    ``within`` (a mask over the documents) keeps only those: the held-out side of a split."""
    text = values.astype("string").str.strip()
    keep = text.notna() & (text != "")
    if within is not None:
        keep &= pd.Series(np.asarray(within, dtype=bool), index=text.index)
    counts = text[keep].value_counts()
    small = counts[counts < folds * MIN_PER_CLASS_PER_FOLD]
    keep &= ~text.isin(small.index)
    rows = np.flatnonzero(keep.to_numpy())
    y = text.to_numpy()[rows].astype(str)
    if len(set(y)) < 2:
        raise InputError(f"The label column needs at least two classes with {folds} or more documents each; "
                         f"it has {len(set(y))}.")
    return Labels(rows, y, len(values), {str(k): int(v) for k, v in small.items()})


def _unit_rows(X):
    """Rows scaled to unit length (dense or sparse), zero rows left as they are."""
    from sklearn.preprocessing import normalize

    return normalize(X)


def clustering(X, y: np.ndarray, *, seeds: int = CLUSTER_SEEDS, seed: int = 0) -> dict[str, np.ndarray]:
    """V-measure and ARI of k-means (k = the number of labels) on unit rows, one run per seed."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, v_measure_score

    X = _unit_rows(X)
    k = len(set(y.tolist()))
    v, ari = [], []
    for s in range(seed, seed + seeds):
        assigned = KMeans(n_clusters=k, n_init=1, random_state=s).fit_predict(X)
        v.append(v_measure_score(y, assigned))
        ari.append(adjusted_rand_score(y, assigned))
    return {"V-measure": np.array(v), "ARI": np.array(ari)}


def retrieval(X, y: np.ndarray, *, k: int = RETRIEVAL_K, chunk: int = 1024) -> dict[str, np.ndarray]:
    """Per query (each document against all the others, by cosine): average precision and
    precision@k of the documents sharing its label. Ties are broken by document order."""
    X = _unit_rows(X)
    n = X.shape[0]
    codes = pd.factorize(y)[0]
    relevant_total = np.bincount(codes)[codes] - 1        # same-label documents other than itself
    ap = np.zeros(n)
    p_at_k = np.zeros(n)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        sims = X[start:stop] @ X.T
        sims = np.asarray(sims.todense()) if hasattr(sims, "todense") else np.asarray(sims)
        sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf    # never itself
        order = np.argsort(-sims, axis=1, kind="stable")[:, : n - 1]
        hits = codes[order] == codes[start:stop, None]
        cum = np.cumsum(hits, axis=1)
        precision = cum / np.arange(1, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            ap[start:stop] = np.where(relevant_total[start:stop] > 0,
                                      (precision * hits).sum(axis=1) / relevant_total[start:stop], 0.0)
        p_at_k[start:stop] = cum[:, min(k, n - 1) - 1] / min(k, n - 1)
    return {"MAP": ap, f"P@{k}": p_at_k}


@dataclass
class TaskScore:
    """One space on one task and metric: the values per ``unit`` (fold, seed or query),
    their mean and std, and the documents it rests on (``n`` of ``total``)."""

    space: str
    task: str
    metric: str
    values: np.ndarray = field(repr=False)
    unit: str
    n: int
    total: int
    #: for classification: the test and training sizes of one fold (Nadeau & Bengio's correction)
    split: tuple[int, int] | None = None
    #: for classification: the C its protocol used on each fold
    chosen_c: np.ndarray | None = field(default=None, repr=False)

    @property
    def score(self) -> float:
        return float(np.mean(self.values))

    @property
    def std(self) -> float:
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else 0.0

    def row(self) -> dict:
        row = {"space": self.space, "task": self.task, "metric": self.metric, "score": self.score,
               "std": self.std, "over": plural(len(self.values), self.unit), "n": self.n, "total": self.total,
               "coverage": self.n / self.total if self.total else None}
        if self.chosen_c is not None:
            row["chosen_C"] = [float(c) for c in self.chosen_c]
        return row


def run_task(name: str, X, labels: Labels, task: str, *, folds: int = FOLDS, seed: int = 0,
             protocol: str = PROTOCOL, repeats: int = REPEATS, progress=None) -> list[TaskScore]:
    """Every metric of one task for one space (``X``: the rows of ``labels.rows``);
    ``progress`` hears of each classification fold."""
    y = labels.y
    chosen = None
    if task == "classification":
        values = classification(X, y, folds=folds, seed=seed, protocol=protocol, repeats=repeats, progress=progress)
        unit = "fold"
        chosen = values.pop(CHOSEN_C)
        test = len(y) / folds
        split = (round(test), len(y) - round(test))
    elif task == "clustering":
        values, unit, split = clustering(X, y, seed=seed), "seed", None
    elif task == "retrieval":
        values, unit, split = retrieval(X, y), "query", None
    else:
        raise InputError(f"Unknown task {task!r}; expected one of {', '.join(TASKS)}.")
    return [TaskScore(name, task, metric, v, unit, len(y), labels.total, split,
                      chosen if metric == MAIN_METRIC[task] else None) for metric, v in values.items()]


@dataclass
class Difference:
    """``a`` minus ``b`` on one task's main metric, with a (Bonferroni-corrected) interval."""

    a: str
    b: str
    task: str
    metric: str
    difference: float
    low: float
    high: float
    method: str
    confidence: float

    @property
    def verdict(self) -> str:
        if self.low > 0:
            return f"{self.a} beats {self.b}"
        if self.high < 0:
            return f"{self.b} beats {self.a}"
        return "no detectable difference on this data"

    def row(self) -> dict:
        return {"a": self.a, "b": self.b, "task": self.task, "metric": self.metric, "difference": self.difference,
                "low": self.low, "high": self.high, "confidence": self.confidence, "method": self.method,
                "verdict": self.verdict}


def corrected_t_interval(d: np.ndarray, test_train_ratio: float, confidence: float) -> tuple[float, float]:
    """Nadeau & Bengio's corrected resampled t interval for the mean of paired fold
    differences ``d``: variance ``(1/J + n_test/n_train) · s²``, t with J − 1 df."""
    from scipy import stats

    j = len(d)
    half = stats.t.ppf(0.5 + confidence / 2, j - 1) * np.sqrt((1 / j + test_train_ratio) * np.var(d, ddof=1))
    return float(d.mean() - half), float(d.mean() + half)


def t_interval(d: np.ndarray, confidence: float) -> tuple[float, float]:
    from scipy import stats

    half = stats.t.ppf(0.5 + confidence / 2, len(d) - 1) * np.std(d, ddof=1) / np.sqrt(len(d))
    return float(d.mean() - half), float(d.mean() + half)


def bootstrap_interval(d: np.ndarray, confidence: float, *, resamples: int = BOOTSTRAP, seed: int = 0
                       ) -> tuple[float, float]:
    """Percentile interval of the mean of paired differences ``d``, resampling the items."""
    rng = np.random.default_rng(seed)
    means = np.array([d[rng.integers(0, len(d), len(d))].mean() for _ in range(resamples)])
    return float(np.quantile(means, 0.5 - confidence / 2)), float(np.quantile(means, 0.5 + confidence / 2))


def compare(scores: list[TaskScore], *, confidence: float = CONFIDENCE, seed: int = 0) -> list[Difference]:
    """Every pair of spaces on each task's main metric, paired on the same folds, seeds or
    queries; intervals Bonferroni-corrected for the pairs of that task."""
    out = []
    for task, metric in MAIN_METRIC.items():
        group = [s for s in scores if s.task == task and s.metric == metric]
        pairs = list(combinations(group, 2))
        if not pairs:
            continue
        level = 1 - (1 - confidence) / len(pairs)
        for a, b in pairs:
            d = a.values - b.values
            if task == "classification":
                low, high = corrected_t_interval(d, a.split[0] / a.split[1], level)
                method = "corrected resampled t (Nadeau & Bengio 2003)"
            elif task == "clustering":
                low, high = t_interval(d, level)
                method = "paired t over seeds"
            else:
                low, high = bootstrap_interval(d, level, seed=seed)
                method = f"paired bootstrap over queries ({BOOTSTRAP:,} resamples)"
            out.append(Difference(a.space, b.space, task, metric, float(d.mean()), low, high,
                                  method + (f", Bonferroni over {len(pairs)} pairs" if len(pairs) > 1 else ""),
                                  level))
    return out


def pareto(points: dict[str, tuple[float, float]]) -> list[str]:
    """The names on the Pareto frontier of (quality, throughput), both higher-is-better:
    no other point is at least as good on both and better on one.

    >>> pareto({"a": (0.9, 10), "b": (0.8, 100), "c": (0.7, 50), "d": (0.9, 5)})
    ['a', 'b']
    """
    front = []
    for name, (q, t) in points.items():
        dominated = any(q2 >= q and t2 >= t and (q2 > q or t2 > t) for n2, (q2, t2) in points.items() if n2 != name)
        if not dominated:
            front.append(name)
    return front


def ranking_changes(scores: list[TaskScore], protocol: str = PROTOCOL) -> list[dict]:
    """The pairs of spaces whose classification order differs between the ``protocol``'s
    macro-F1 and the other protocol's (:data:`OTHER_READING`): each as ``a`` (ahead under
    ``protocol``), ``b``, both differences and a sentence. Exact ties are no order.

    >>> s = lambda n, m, v: TaskScore(n, "classification", m, np.array([v]), "fold", 1, 1)
    >>> (c,) = ranking_changes([s("A", "macro-F1", .9), s("B", "macro-F1", .8),
    ...                         s("A", "macro-F1 (C = 1)", .6), s("B", "macro-F1 (C = 1)", .7)])
    >>> print(c["sentence"])
    A ranks above B with C tuned (macro-F1 +0.100), but below it under MTEB's C = 1 (-0.100).
    """
    other = OTHER_READING[protocol]
    main = {s.space: s.score for s in scores if s.task == "classification" and s.metric == "macro-F1"}
    alt = {s.space: s.score for s in scores if s.task == "classification" and s.metric == other}
    names = {"tuned": "with C tuned", "mteb": "under MTEB's C = 1"}
    here, there = names[protocol], names["mteb" if protocol == "tuned" else "tuned"]
    out = []
    for a, b in combinations([n for n in main if n in alt], 2):
        d_main, d_alt = main[a] - main[b], alt[a] - alt[b]
        if d_main * d_alt < 0:
            if d_main < 0:
                a, b, d_main, d_alt = b, a, -d_main, -d_alt
            out.append({"a": a, "b": b, "difference": d_main, "other_difference": d_alt, "reading": other,
                        "sentence": f"{a} ranks above {b} {here} (macro-F1 {d_main:+.3f}), but below it "
                                    f"{there} ({d_alt:+.3f})."})
    return out
