"""WEAT and SEAT: effect size, exact or sampled permutation p, Holm's adjustment."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..options import option
from ..progress import Progress
from ..space import EmbeddingSpace
from .effect import BOOTSTRAP, association, bootstrap_d, effect_size, interval, leave_one_out
from .lookup import Resolved, resolve, uses_seat
from .wordsets import WeatTest

EXACT_LIMIT = 100_000
PERMUTATIONS = 100_000
MAX_MISSING = 0.2


@dataclass(frozen=True)
class WeatParams:
    """WEAT's and SEAT's options (the Bias page and ``bias weat`` / ``bias metric``)."""

    permutations: int = option(PERMUTATIONS, 1000, 1_000_000, f"random partitions, used when exact enumeration "
                               f"would need more than {EXACT_LIMIT:,}", step=10_000)
    seed: int = option(0, 0, 1_000_000, "the seed of the sampled partitions and the bootstrap")
    max_missing: float = option(MAX_MISSING, 0.0, 1.0, "refuse a test when a set loses more than this share of its "
                                "words (missing, or built from word pieces)", step=0.05)
    bootstrap: int = option(BOOTSTRAP, 0, 20_000, "bootstrap resamples for the 95% interval on d (0: none)", step=500)
#: SEAT's permutation unit: "word" (a word's template sentences move together; the default,
#: since the sentences of one word are not independent) or "sentence" (May et al. 2019)
SEAT_UNITS = ("word", "sentence")
SEAT_TEMPLATES = ("This is {}.", "That is {}.", "{} is here.", "{} is there.", "This is a {}.", "That is a {}.")


# -- WEAT maths --------------------------------------------------------------------------
@dataclass(frozen=True)
class PermutationTest:
    """The one-sided permutation p of a WEAT statistic, how it was computed (exact or sampled),
    over how many partitions, and how many exceeded the observed one."""

    p_value: float
    method: str          #: "exact" or "sampled"
    permutations: int    #: partitions enumerated or sampled
    exceed: int          #: how many had S_i > S (``b``)


def permutation_p(s: np.ndarray, nx: int, *, exact_limit: int = EXACT_LIMIT, permutations: int = PERMUTATIONS,
                  seed: int = 0, chunk: int = 10_000) -> PermutationTest:
    """One-sided p = Pr[S(X_i, Y_i) > S(X, Y)] where ``s[:nx]`` are the s-values of X and
    ``s[nx:]`` those of Y: exact over every partition, or ``(b + 1) / (m + 1)`` from ``m``
    sampled ones (Phipson & Smyth 2010), which is never 0.

    ``S_i = sum(X_i) - sum(Y_i) = 2 sum(X_i) - sum(s)``, so ``S_i > S`` exactly when the
    partition's X-sum exceeds the observed one; a tolerance of 1e-12 of the scale keeps
    float rounding from counting a partition equal to the observed one.
    """
    s = np.asarray(s, dtype=np.float64)
    n = len(s)
    if not 0 < nx < n:
        raise InputError("Both target sets need at least one word.")
    observed = s[:nx].sum()
    tol = 1e-12 * max(1.0, float(np.abs(s).sum()))
    total = math.comb(n, nx)
    if total <= exact_limit:
        exceed = 0
        combos = itertools.combinations(range(n), nx)
        while True:
            block = np.array(list(itertools.islice(combos, chunk)), dtype=np.intp)
            if block.size == 0:
                break
            exceed += int((s[block].sum(axis=1) > observed + tol).sum())
        return PermutationTest(exceed / total, "exact", total, exceed)
    if permutations < 1:
        raise InputError("The number of permutations must be at least 1.")
    rng = np.random.default_rng(seed)
    exceed = 0
    done = 0
    while done < permutations:
        m = min(chunk, permutations - done)
        idx = np.argpartition(rng.random((m, n)), nx - 1, axis=1)[:, :nx]  # a uniform random nx-subset per row
        exceed += int((s[idx].sum(axis=1) > observed + tol).sum())
        done += m
    return PermutationTest((exceed + 1) / (permutations + 1), "sampled", permutations, exceed)


def format_p(p: float, partitions: int) -> str:
    """A p-value as a reader should see it. An exact p of 0 (no partition more extreme than
    the observed one) is shown as the bound it is: under 1/partitions, rounded up to a
    power of ten.

    >>> format_p(0.0, 12_870), format_p(0.43077, 12_870), format_p(3.2e-6, 1_000_000), format_p(float("nan"), 10)
    ('< 0.0001', '0.4308', '3.2e-06', '—')
    """
    if p is None or not math.isfinite(p):
        return "—"
    if p == 0:
        bound = 10 ** math.ceil(math.log10(1 / max(int(partitions), 1)))
        return f"< {bound:.10f}".rstrip("0") if bound >= 1e-6 else f"< {bound:.0e}"
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's (1979) step-down adjustment of p-values tested together, in their order:
    the i-th smallest p times (m − i + 1), made monotone, capped at 1.

    >>> holm([0.01, 0.04, 0.03, 0.005])
    [0.03, 0.06, 0.06, 0.02]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        adjusted[i] = round(running, 15)
    return adjusted


@dataclass
class WeatResult:
    """One WEAT/SEAT test on one space: S, the effect size d, the permutation p (and Holm's
    when run with others), the set sizes, and the words that were missing or embedded."""

    test: str
    title: str
    space: str
    S: float
    effect_size: float
    p_value: float
    p_method: str
    permutations: int
    ddof: int
    sizes: tuple[int, int, int, int]
    set_names: tuple[str, str, str, str]
    missing: dict[str, list[str]]
    embedded: dict[str, list[str]]
    lowered: dict[str, list[str]]
    seat: bool
    scores: pd.DataFrame   #: per target item: set, word, item (sentence for SEAT), s
    #: Holm-adjusted p among the tests run together on this space (None when run alone)
    p_holm: float | None = None
    #: bootstrap 95% percentile interval on d (None when not bootstrapped)
    effect_size_ci: tuple[float, float] | None = None
    bootstrap: int = 0                                  #: resamples behind the interval
    #: leave-one-word-out: role (X/Y/A/B), set, word, d_without, delta (d_without − d)
    influence: pd.DataFrame | None = None
    permutation_unit: str = "word"                      #: what the permutation test moves

    @property
    def most_influential(self) -> dict | None:
        """The word whose removal moves d most, and by how much."""
        if self.influence is None or self.influence.empty:
            return None
        row = self.influence.loc[self.influence["delta"].abs().idxmax()]
        return {"word": row["word"], "set": row["set"], "role": row["role"], "d_without": float(row["d_without"]),
                "delta": float(row["delta"])}

    @property
    def missing_words(self) -> list[str]:
        return [w for words in self.missing.values() for w in words]

    def to_dict(self) -> dict:
        """The CLI's JSON shape."""
        return {"test": self.test, "space": self.space, "S": self.S, "effect_size": self.effect_size,
                "p_value": self.p_value, "p_holm": self.p_holm, "p_method": self.p_method,
                "permutations": self.permutations, "missing": self.missing_words, "sizes": list(self.sizes), "ddof": self.ddof,
                "method": "SEAT" if self.seat else "WEAT", "missing_by_set": self.missing,
                "embedded": [w for ws in self.embedded.values() for w in ws],
                "from_pieces": [w for ws in self.embedded.values() for w in ws], "from_pieces_by_set": self.embedded,
                "lowercase_fallback": [w for ws in self.lowered.values() for w in ws],
                "effect_size_ci": list(self.effect_size_ci) if self.effect_size_ci else None,
                "bootstrap": {"resamples": self.bootstrap, "level": 0.95, "method": "percentile",
                              "unit": "word, within each of X, Y, A and B"} if self.bootstrap else None,
                "most_influential": self.most_influential, "permutation_unit": self.permutation_unit}

    def row(self) -> dict:
        """One line of the side-by-side table."""
        lo, hi = self.effect_size_ci or (np.nan, np.nan)
        return {"test": self.test, "space": self.space, "probe": "SEAT" if self.seat else "WEAT",
                "d": self.effect_size, "d low": lo, "d high": hi, "p": self.p_value, "p (Holm)": self.p_holm,
                "p_method": self.p_method,
                "partitions": self.permutations, "S": self.S,
                "sizes": "/".join(map(str, self.sizes)), "missing": ", ".join(self.missing_words),
                "from pieces": ", ".join(w for ws in self.embedded.values() for w in ws), "refused": ""}


def with_holm(results: Iterable[WeatResult]) -> list[WeatResult]:
    """The results with ``p_holm`` set: Holm's adjustment over the tests that ran together on
    each space (each space is its own family; refused tests are not in it)."""
    import dataclasses

    results = list(results)
    by_space: dict[str, list[int]] = {}
    for i, r in enumerate(results):
        by_space.setdefault(r.space, []).append(i)
    out = list(results)
    for idx in by_space.values():
        for i, p in zip(idx, holm([results[i].p_value for i in idx])):
            out[i] = dataclasses.replace(results[i], p_holm=p)
    return out


class RefusedTest(InputError):
    """A test that cannot run on a space, typically because too many words are missing."""


def weat_from_vectors(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, *, ddof: int = 1,
                      exact_limit: int = EXACT_LIMIT, permutations: int = PERMUTATIONS, seed: int = 0
                      ) -> tuple[np.ndarray, np.ndarray, float, float, PermutationTest]:
    """(s_x, s_y, S, d, permutation test) for unit-vector rows."""
    s_x, s_y = association(x, a, b), association(y, a, b)
    S = float(s_x.sum() - s_y.sum())
    perm = permutation_p(np.concatenate([s_x, s_y]), len(s_x), exact_limit=exact_limit,
                         permutations=permutations, seed=seed)
    return s_x, s_y, S, effect_size(s_x, s_y, ddof), perm


def weat(space: EmbeddingSpace, test: WeatTest, *, ddof: int = 1, permutations: int = PERMUTATIONS, seed: int = 0,
         max_missing: float = MAX_MISSING, lowercase_fallback: bool = False, exact_limit: int = EXACT_LIMIT,
         seat: bool | None = None, templates: Sequence[str] = SEAT_TEMPLATES,
         sentence_cache: dict[str, np.ndarray] | None = None, bootstrap: int = BOOTSTRAP,
         seat_unit: str = "word") -> WeatResult:
    """Run one WEAT (or SEAT for sentence encoders) on a space. See the module docs.

    ``sentence_cache`` (SEAT) keeps encoded sentences between calls on the same space,
    so tests sharing attribute sets encode them once. ``bootstrap`` resamples (0: none)
    give the 95% interval on d; every word is also left out once (``influence``).
    ``seat_unit``: SEAT's permutation moves whole words (default) or single sentences.
    """
    if seat_unit not in SEAT_UNITS:
        raise InputError(f"SEAT permutes by 'word' or by 'sentence', not {seat_unit!r}.")
    if ddof not in (0, 1):
        raise InputError("ddof must be 1 (sample std, as Caliskan et al.) or 0 (population std, as WEFE).")
    if not 0 <= max_missing <= 1:
        raise InputError("max_missing is a share between 0 and 1.")
    seat = uses_seat(space) if seat is None else seat
    sets = [resolve_set(space, word_set, label=test.id, seat=seat, max_missing=max_missing,
                        lowercase_fallback=lowercase_fallback, templates=templates, cache=sentence_cache)
            for word_set in test.sets]
    resolved = [r for r, _ in sets]
    items = [its for _, its in sets]
    x, y, a, b = (r.vectors for r in resolved)
    per = len(templates) if seat else 1
    groups = [np.arange(len(r.vectors)) // per for r in resolved]
    s_x, s_y, S, d, perm = weat_from_vectors(x, y, a, b, ddof=ddof, exact_limit=exact_limit,
                                             permutations=permutations, seed=seed)
    unit = "word"
    if seat and seat_unit == "word":  # a word's sentences move together: permute the words' sums
        word_sums = np.concatenate([np.bincount(groups[0], s_x), np.bincount(groups[1], s_y)])
        perm = permutation_p(word_sums, len(resolved[0].words), exact_limit=exact_limit,
                             permutations=permutations, seed=seed)
    elif seat:
        unit = "sentence"
    ci, influence = None, None
    if bootstrap:
        ci = interval(bootstrap_d(x, y, a, b, groups, ddof=ddof, resamples=bootstrap, seed=seed))
    influence = leave_one_out(x, y, a, b, groups, [r.words for r in resolved], [ws.name for ws in test.sets], d,
                              ddof=ddof)
    rows = []
    for set_, r, its, svals in ((test.x, resolved[0], items[0], s_x), (test.y, resolved[1], items[1], s_y)):
        for i, (item, v) in enumerate(zip(its, svals)):
            word = r.words[i // per]
            rows.append({"set": set_.name, "word": word, "item": item, "s": float(v)})
    names = tuple(s.name for s in test.sets)
    return WeatResult(
        test=test.id, title=test.title, space=space.name, S=S, effect_size=d, p_value=perm.p_value,
        p_method=perm.method, permutations=perm.permutations, ddof=ddof,
        sizes=tuple(len(v) for v in (x, y, a, b)), set_names=names,
        missing={n: r.missing for n, r in zip(names, resolved) if r.missing},
        embedded={n: r.embedded for n, r in zip(names, resolved) if r.embedded},
        lowered={n: r.lowered for n, r in zip(names, resolved) if r.lowered},
        seat=seat, scores=pd.DataFrame(rows, columns=["set", "word", "item", "s"]),
        effect_size_ci=ci, bootstrap=int(bootstrap), influence=influence, permutation_unit=unit)


def resolve_set(space: EmbeddingSpace, word_set, *, label: str, seat: bool, max_missing: float = MAX_MISSING,
                lowercase_fallback: bool = False, raw: bool = False, templates: Sequence[str] = SEAT_TEMPLATES,
                cache: dict[str, np.ndarray] | None = None) -> tuple[Resolved, list[str]]:
    """One word set of a test in a space, as every bias metric takes it: (how its words were
    found, its items). SEAT puts each word into the templates, a sentence per item; WEAT
    looks the words up (``raw``: the original vectors) and refuses the set, naming ``label``,
    when fewer than two words or more than ``max_missing`` of them are missing."""
    if seat:
        sentences = [t.format(w) for w in word_set.words for t in templates]
        return Resolved(list(word_set.words), _encode_sentences(space, sentences, cache)), sentences
    r = resolve(space, word_set.words, lowercase_fallback=lowercase_fallback, raw=raw)
    # a word the space builds from sub-word pieces (FastText's n-grams) is not a word it knows:
    # it counts against the coverage rule as a missing one does
    unknown = r.missing + r.embedded
    share = len(unknown) / max(1, len(word_set.words))
    pieces = f"; {len(r.embedded)} of them built from word pieces" if r.embedded else ""
    if len(r.words) < 2:    # the statistics need two vectors (a word built from pieces has one)
        raise RefusedTest(f"{label} on {space.name}: only {len(r.words)} of the {len(word_set.words)} words of "
                          f"'{word_set.name}' are in the space ({_some(r.missing)} are not); a set needs at least two.")
    if share > max_missing:
        raise RefusedTest(
            f"{label} on {space.name}: {len(unknown)} of {len(word_set.words)} words of '{word_set.name}' "
            f"({share:.0%}) are not in the space's vocabulary ({_some(unknown)}{pieces}); the limit is {max_missing:.0%}.")
    return r, r.words


def _some(words: list[str], n: int = 8) -> str:
    """The first ``n`` words of a refusal, and an ellipsis when there are more."""
    return ", ".join(words[:n]) + (" …" if len(words) > n else "")


def _encode_sentences(space: EmbeddingSpace, sentences: list[str], cache: dict[str, np.ndarray] | None
                      ) -> np.ndarray:
    if cache is None:
        return np.asarray(space.embed(sentences), dtype=np.float64)
    todo = [x for x in dict.fromkeys(sentences) if x not in cache]
    if todo:
        cache.update(zip(todo, np.asarray(space.embed(todo), dtype=np.float64)))
    return np.array([cache[x] for x in sentences])


def refused_row(test: WeatTest, space: EmbeddingSpace, reason: str) -> dict:
    return {"test": test.id, "space": space.name, "probe": "SEAT" if uses_seat(space) else "WEAT", "d": np.nan,
            "d low": np.nan, "d high": np.nan, "p": np.nan, "p (Holm)": np.nan, "p_method": "", "S": np.nan,
            "sizes": "", "missing": "", "from pieces": "", "refused": reason}


def weat_table(spaces: Sequence[EmbeddingSpace], tests: Sequence[WeatTest], *,
               progress: Progress | None = None, **kwargs) -> pd.DataFrame:
    """Test × space, one row each, with Holm's p over each space's tests; refused tests keep
    their row with the reason."""
    cells: list[WeatResult | dict] = []
    caches: dict[int, dict] = {}
    n = max(1, len(spaces) * len(tests))
    for i, (t, sp) in enumerate(itertools.product(tests, spaces)):
        if progress:
            progress(i / n, f"{t.id} on {sp.name}{' (SEAT)' if uses_seat(sp) else ''}")
        try:
            cells.append(weat(sp, t, sentence_cache=caches.setdefault(id(sp), {}), **kwargs))
        except RefusedTest as exc:
            cells.append(refused_row(t, sp, str(exc)))
    ran = iter(with_holm(c for c in cells if isinstance(c, WeatResult)))
    return pd.DataFrame([next(ran).row() if isinstance(c, WeatResult) else c for c in cells])
