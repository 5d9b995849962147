"""WEFE's bias metrics beside WEAT: RND, ECT, MAC and RNSB, on a space's raw vectors.

Each metric takes a *query*: target sets and attribute sets. A WEAT test (targets X, Y;
attributes A, B) gives each metric the query its paper uses (:func:`query_for`):

- **WEAT** (Caliskan et al. 2017): X, Y and A, B; the effect size d (see :mod:`.weat`).
- **RND**, relative norm distance (Garg et al. 2018): X, Y and one attribute set A ∪ B;
  ``mean_a (‖a − mean X‖ − ‖a − mean Y‖)``. 0: no bias; positive: the attributes are
  nearer Y, negative: nearer X.
- **ECT**, embedding coherence test (Dev & Phillips 2019): X, Y and A ∪ B; Spearman's ρ
  between ``cos(mean X, a)`` and ``cos(mean Y, a)`` over the attributes. 1: both targets
  rank the attributes alike (no bias); lower: more bias.
- **MAC**, mean average cosine (Manzini et al. 2019): one target set X ∪ Y and A, B; the
  mean over targets t and attribute sets of ``mean_a (1 − cos(t, a))``, a cosine
  *distance*. 1: targets orthogonal to the attributes (no bias); further from 1: more.
- **RNSB**, relative negative sentiment bias (Sweeney & Najafian 2019): X, Y and A
  (positive), B (negative); a logistic regression learns A against B, gives each target
  word its probability of B, and RNSB is the KL divergence of those probabilities
  (normalised to sum 1) from the uniform distribution. 0: no bias; higher: more.

The values equal WEFE 1.0.1's (``run_query`` with its defaults: raw vectors,
``normalize=False``; RNSB with ``holdout=True``, ``n_iterations=1`` and our seed as its
``random_state``): the tests recompute each one independently. A space that kept its
vectors' norms (:attr:`~embeddings.space.EmbeddingSpace.norms`) is measured on its raw
vectors, as WEFE and the papers do; one saved without them on its unit vectors, and the
result says which. RND depends on the norms; WEAT and MAC do not (cosines).

Missing words are dropped and listed; a set that loses more than ``max_missing`` of its
words (WEFE's ``lost_vocabulary_threshold``, 0.2 by default) refuses the query. A sentence
encoder is probed like SEAT: each word in the bleached templates, each sentence one item.

>>> import numpy as np
>>> x, y = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
>>> attrs = np.array([[1.0, 0.0], [2.0, 0.0]])
>>> round(rnd(x, y, attrs)[0], 4)      # ((0 − √2) + (1 − √5)) / 2: both nearer X, so negative
-1.3251
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..progress import Progress
from ..space import EmbeddingSpace
from .effect import BOOTSTRAP
from .lookup import uses_seat
from .weat import MAX_MISSING, PERMUTATIONS, RefusedTest, resolve_set, weat, with_holm
from .wordsets import WeatTest, WordSet


@dataclass(frozen=True)
class Metric:
    """What a metric is, where it comes from, and which way it reads."""

    id: str
    name: str
    source: str
    formula: str
    query: str            #: which sets of a WEAT test it uses
    unbiased: float       #: the value that means no bias
    direction: str        #: how to read a value
    signed: bool          #: the sign says towards which target (WEAT, RND)


METRICS: dict[str, Metric] = {m.id: m for m in (
    Metric("weat", "WEAT effect size d", "Caliskan, Bryson & Narayanan (2017), Science 356(6334)",
           "d = (mean_x s(x) − mean_y s(y)) / std_{w ∈ X∪Y} s(w),  s(w) = mean_a cos(w, a) − mean_b cos(w, b)",
           "targets X, Y; attributes A, B", 0.0,
           "0: no bias; the further from 0, the more bias; positive: X goes with A and Y with B", True),
    Metric("rnd", "Relative norm distance", "Garg, Schiebinger, Jurafsky & Zou (2018), PNAS 115(16)",
           "RND = mean_{a ∈ A∪B} (‖a − mean X‖ − ‖a − mean Y‖), on the raw vectors",
           "targets X, Y; one attribute set A ∪ B", 0.0,
           "0: no bias; the further from 0, the more bias; positive: the attributes are nearer Y, negative: "
           "nearer X", True),
    Metric("ect", "Embedding coherence test", "Dev & Phillips (2019), AISTATS",
           "ECT = Spearman ρ( [cos(mean X, a)]_a , [cos(mean Y, a)]_a ),  a ∈ A∪B",
           "targets X, Y; one attribute set A ∪ B", 1.0,
           "1: both targets rank the attributes alike (no bias); the lower, the more bias", False),
    Metric("mac", "Mean average cosine distance", "Manzini, Lim, Tsvetkov & Black (2019), NAACL",
           "MAC = mean_{t ∈ X∪Y} mean_{S ∈ {A, B}} mean_{a ∈ S} (1 − cos(t, a))",
           "one target set X ∪ Y; attributes A, B", 1.0,
           "1: targets orthogonal to the attributes (no bias); the further from 1, the more bias", False),
    Metric("rnsb", "Relative negative sentiment bias", "Sweeney & Najafian (2019), ACL",
           "RNSB = KL(P ‖ U): P(t) ∝ Pr[B | t] from a logistic regression of A (positive) against B (negative), "
           "over t ∈ X ∪ Y; U uniform",
           "targets X, Y; attributes A (positive), B (negative)", 0.0,
           "0: every target equally likely negative (no bias); the higher, the more bias", False),
)}


def metric_info(metric: str) -> Metric:
    try:
        return METRICS[metric]
    except KeyError:
        raise InputError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.") from None


def bias_of(metric: str, value: float) -> float:
    """How far ``value`` is from no bias, signed for the signed metrics (WEAT, RND), so the
    heatmap colours every metric the same way round."""
    m = metric_info(metric)
    return value - m.unbiased if m.signed else abs(value - m.unbiased)


# -- the maths, on arrays (rows are vectors, raw or unit) ------------------------------------
def _cos(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    un = u / np.linalg.norm(u, axis=-1, keepdims=True)
    vn = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return un @ vn.T


def rnd(x: np.ndarray, y: np.ndarray, attributes: np.ndarray) -> tuple[float, np.ndarray]:
    """(RND, per-attribute ‖a − mean X‖ − ‖a − mean Y‖)."""
    per = np.linalg.norm(attributes - x.mean(axis=0), axis=1) - np.linalg.norm(attributes - y.mean(axis=0), axis=1)
    return float(per.mean()), per


def ect(x: np.ndarray, y: np.ndarray, attributes: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(ECT, cos(mean X, a), cos(mean Y, a))."""
    from scipy.stats import spearmanr

    sim_x = _cos(x.mean(axis=0)[None], attributes)[0]
    sim_y = _cos(y.mean(axis=0)[None], attributes)[0]
    rho = spearmanr(sim_x, sim_y).correlation
    return float(rho), sim_x, sim_y


def mac(targets: np.ndarray, attribute_sets: Sequence[np.ndarray]) -> tuple[float, np.ndarray]:
    """(MAC, per target × attribute set mean cosine distance)."""
    per = np.stack([(1 - _cos(targets, a)).mean(axis=1) for a in attribute_sets], axis=1)
    return float(per.mean()), per


def rnsb(targets: Sequence[np.ndarray], positive: np.ndarray, negative: np.ndarray, *, seed: int = 0,
         holdout: bool = True) -> tuple[float, np.ndarray, float]:
    """(RNSB, each target item's probability of the negative set, the classifier's held-out
    accuracy) as WEFE 1.0.1 computes it: a stratified, shuffled 80/20 split of the attribute
    words (``random_state=seed``), ``LogisticRegression(solver="liblinear", max_iter=10000,
    random_state=seed)`` fitted on the 80%, Pr[negative] for each target set in turn,
    normalised to sum 1, and its KL divergence from the uniform distribution."""
    from scipy.stats import entropy
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    features = np.concatenate([positive, negative])
    labels = np.concatenate([np.ones(len(positive)), -np.ones(len(negative))])
    if holdout:
        try:
            fit_x, test_x, fit_y, test_y = train_test_split(features, labels, shuffle=True, random_state=seed,
                                                            test_size=0.2, stratify=labels)
        except ValueError as exc:
            raise InputError(f"RNSB needs enough attribute words to hold out a fifth of each set ({exc}).") from exc
    else:
        fit_x, test_x, fit_y, test_y = features, features, labels, labels
    clf = LogisticRegression(solver="liblinear", max_iter=10000, random_state=seed).fit(fit_x, fit_y)
    accuracy = float(clf.score(test_x, test_y))
    column = int(np.where(clf.classes_ == -1)[0][0])
    negative_p = np.concatenate([clf.predict_proba(t)[:, column] for t in targets])
    share = negative_p / negative_p.sum()
    return float(entropy(share, np.full(len(share), 1 / len(share)))), negative_p, accuracy


# -- queries ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """Target and attribute word sets, as one metric uses them."""

    targets: tuple[WordSet, ...]
    attributes: tuple[WordSet, ...]

    def describe(self) -> dict:
        return {"targets": {s.name: list(s.words) for s in self.targets},
                "attributes": {s.name: list(s.words) for s in self.attributes}}


def _union(a: WordSet, b: WordSet) -> WordSet:
    return WordSet(f"{a.name} ∪ {b.name}", tuple(dict.fromkeys((*a.words, *b.words))))


def query_for(metric: str, test: WeatTest) -> Query:
    """The query each metric's paper uses, from a WEAT test's four sets."""
    metric_info(metric)
    if metric in ("rnd", "ect"):
        return Query((test.x, test.y), (_union(test.a, test.b),))
    if metric == "mac":
        return Query((_union(test.x, test.y),), (test.a, test.b))
    return Query((test.x, test.y), (test.a, test.b))


def _check_shape(metric: str, query: Query) -> None:
    need = {"rnd": (2, 1), "ect": (2, 1), "mac": (None, None), "rnsb": (None, 2)}[metric]
    t, a = len(query.targets), len(query.attributes)
    if (need[0] and t != need[0]) or (need[1] and a != need[1]) or t < 1 or a < 1:
        raise InputError(f"{metric.upper()} takes {need[0] or 'one or more'} target sets and "
                         f"{need[1] or 'one or more'} attribute sets; this query has {t} and {a}.")


# -- results ---------------------------------------------------------------------------------
@dataclass
class MetricResult:
    """One metric of one query on one space."""

    metric: str
    test: str
    space: str
    value: float
    query: Query
    sizes: tuple[int, ...]                       #: items per set, targets then attributes
    missing: dict[str, list[str]]
    vectors: str                                 #: "raw" or "normalised"
    unit: str                                    #: "word" or "sentence" (SEAT templates)
    details: pd.DataFrame = field(default_factory=pd.DataFrame)   #: per word, what the value is made of
    extra: dict = field(default_factory=dict)    #: WEAT's p, interval and influence; RNSB's accuracy (JSON)
    note: str | None = None
    weat: object | None = None                   #: the WeatResult behind a WEAT row

    @property
    def missing_words(self) -> list[str]:
        return [w for ws in self.missing.values() for w in ws]

    @property
    def bias(self) -> float:
        return bias_of(self.metric, self.value)

    def to_dict(self) -> dict:
        """The CLI's JSON shape."""
        m = METRICS[self.metric]
        return {"metric": self.metric, "test": self.test, "space": self.space, "value": self.value,
                "missing": self.missing_words, "missing_by_set": self.missing,
                "from_pieces": [w for ws in self.extra.get("from_pieces_by_set", {}).values() for w in ws],
                "from_pieces_by_set": self.extra.get("from_pieces_by_set", {}), "name": m.name, "formula": m.formula,
                "source": m.source, "direction": m.direction, "unbiased": m.unbiased, "query": self.query.describe(),
                "sizes": list(self.sizes), "vectors": self.vectors, "unit": self.unit, "note": self.note,
                **self.extra}

    def row(self) -> dict:
        """One line of the side-by-side table."""
        lo, hi = self.extra.get("effect_size_ci") or (np.nan, np.nan)
        return {"metric": self.metric, "test": self.test, "space": self.space, "value": self.value,
                "low": lo, "high": hi, "p": self.extra.get("p_value", np.nan),
                "p (Holm)": self.extra.get("p_holm", np.nan), "partitions": self.extra.get("permutations", np.nan),
                "sizes": "/".join(map(str, self.sizes)), "vectors": self.vectors,
                "missing": ", ".join(self.missing_words),
                "from pieces": ", ".join(w for ws in self.extra.get("from_pieces_by_set", {}).values() for w in ws),
                "refused": ""}


def refused_metric_row(metric: str, test: str, space: str, reason: str) -> dict:
    return {"metric": metric, "test": test, "space": space, "value": np.nan, "low": np.nan, "high": np.nan,
            "p": np.nan, "p (Holm)": np.nan, "partitions": np.nan, "sizes": "", "vectors": "", "missing": "",
            "refused": reason}


def run_metric(space: EmbeddingSpace, test: WeatTest, metric: str, *, query: Query | None = None, seed: int = 0,
               max_missing: float = MAX_MISSING, lowercase_fallback: bool = False, ddof: int = 1,
               permutations: int = PERMUTATIONS, bootstrap: int = BOOTSTRAP, seat_unit: str = "word",
               sentence_cache: dict | None = None) -> MetricResult:
    """One metric on one space, for a WEAT test (each metric's own query, :func:`query_for`)
    or a custom ``query``. See the module docs for each metric's formula and reading."""
    metric_info(metric)
    seat = uses_seat(space)
    if metric == "weat":
        if query is not None:
            if len(query.targets) != 2 or len(query.attributes) != 2:
                raise InputError("WEAT takes two target sets and two attribute sets.")
            test = WeatTest(test.id, test.title, *query.targets, *query.attributes)
        r = weat(space, test, ddof=ddof, permutations=permutations, seed=seed, max_missing=max_missing,
                 lowercase_fallback=lowercase_fallback, sentence_cache=sentence_cache, bootstrap=bootstrap,
                 seat_unit=seat_unit)
        return from_weat(r, test)
    query = query or query_for(metric, test)
    _check_shape(metric, query)
    raw = space.norms is not None and not seat
    sets = [resolve_set(space, s, label=f"{metric.upper()} {test.id}", seat=seat, max_missing=max_missing,
                        lowercase_fallback=lowercase_fallback, raw=raw, cache=sentence_cache)
            for s in (*query.targets, *query.attributes)]
    vectors = [r.vectors for r, _ in sets]
    items = [its for _, its in sets]
    names = [s.name for s in (*query.targets, *query.attributes)]
    missing = {n: r.missing for n, (r, _) in zip(names, sets) if r.missing}
    extra: dict = {"from_pieces_by_set": {n: r.embedded for n, (r, _) in zip(names, sets) if r.embedded}}
    nt = len(query.targets)
    if metric == "rnd":
        value, per = rnd(vectors[0], vectors[1], vectors[2])
        details = pd.DataFrame({"set": names[2], "word": items[2], "distance difference": per})
    elif metric == "ect":
        value, sx, sy = ect(vectors[0], vectors[1], vectors[2])
        details = pd.DataFrame({"set": names[2], "word": items[2], f"cos(mean {names[0]})": sx,
                                f"cos(mean {names[1]})": sy})
        if not np.isfinite(value):
            raise RefusedTest(f"ECT {test.id} on {space.name}: the similarities are constant, so Spearman's ρ is "
                              "undefined.")
    elif metric == "mac":
        targets = np.vstack(vectors[:nt])
        value, per = mac(targets, vectors[nt:])
        details = pd.DataFrame(per, columns=[f"distance to {n}" for n in names[nt:]])
        details.insert(0, "word", list(itertools.chain(*items[:nt])))
        details.insert(0, "set", [n for n, it in zip(names[:nt], items[:nt]) for _ in it])
    else:
        value, negative_p, accuracy = rnsb(vectors[:nt], vectors[-2], vectors[-1], seed=seed)
        details = pd.DataFrame({"set": [n for n, it in zip(names[:nt], items[:nt]) for _ in it],
                                "word": list(itertools.chain(*items[:nt])), "P(negative)": negative_p})
        extra["classifier_accuracy"] = accuracy
        extra["classifier"] = "logistic regression (liblinear), 80/20 stratified split of the attribute words"
    note = None if raw or seat else (f"{space.name} kept no vector norms, so its unit vectors were used"
                                     + (" (RND differs from the raw-vector value)" if metric == "rnd" else "") + ".")
    return MetricResult(metric, test.id, space.name, float(value), query, tuple(len(v) for v in vectors), missing,
                        "raw" if raw else "normalised", "sentence" if seat else "word", details, extra, note)


def from_weat(r, test: WeatTest) -> MetricResult:
    """A :class:`~.weat.WeatResult` as a metric result (value d)."""
    extra = {k: v for k, v in r.to_dict().items() if k in (
        "S", "p_value", "p_holm", "p_method", "permutations", "ddof", "effect_size_ci", "bootstrap",
        "most_influential", "permutation_unit", "from_pieces_by_set")}
    return MetricResult("weat", r.test, r.space, r.effect_size, query_for("weat", test), r.sizes, r.missing,
                        "normalised", "sentence" if r.seat else "word", r.influence if r.influence is not None
                        else pd.DataFrame(), extra, None, r)


def metric_table(spaces: Sequence[EmbeddingSpace], tests: Sequence[WeatTest], metric: str, *,
                 progress: Progress | None = None, **kwargs) -> pd.DataFrame:
    """Test × space for one metric, one row each; WEAT rows get Holm's p over each space's
    tests; refused cells keep their row with the reason."""
    rows: list = []
    caches: dict[int, dict] = {}
    cells = list(itertools.product(tests, spaces))
    for i, (t, sp) in enumerate(cells):
        if progress:
            progress(i / len(cells), f"{metric.upper()} {t.id} on {sp.name}")
        try:
            rows.append(run_metric(sp, t, metric, sentence_cache=caches.setdefault(id(sp), {}), **kwargs))
        except (RefusedTest, InputError) as exc:
            rows.append(refused_metric_row(metric, t.id, sp.name, str(exc)))
    if metric == "weat":
        ran = iter(with_holm(r.weat for r in rows if isinstance(r, MetricResult)))
        rows = [from_weat(next(ran), t) if isinstance(r, MetricResult) else r for r, (t, _) in zip(rows, cells)]
    return pd.DataFrame([r.row() if isinstance(r, MetricResult) else r for r in rows])
