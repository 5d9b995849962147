"""Intrinsic benchmarks: word analogies and word-pair similarity, with the missing share.

The scores are gensim's: :func:`analogies` gives what
``KeyedVectors.evaluate_word_analogies`` gives and :func:`word_pairs` what
``KeyedVectors.evaluate_word_pairs`` gives, on the same vectors with the same settings
(``restrict_vocab`` 300,000, case-insensitive, unknown words skipped); the tests check
the equality to 1e-9. What differs is speed and what is reported:

- gensim scores one analogy at a time (one matrix-vector product over the vocabulary
  each); we score a batch of questions with one matrix product, keep each question's
  best candidates with a partial sort, then re-score those candidates exactly as gensim
  does (same float32 arithmetic) and apply its selection rule;
- every score comes with the share of questions or pairs skipped for unknown words, and
  the per-item results for the page.

The benchmark files are the ones gensim ships in ``gensim/test/test_data``:
``questions-words.txt`` (Mikolov et al. 2013), ``wordsim353.tsv`` (Finkelstein et al.
2002) and ``simlex999.txt`` (Hill, Reichart & Korhonen 2015). Users can bring files in the
same formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.progress import Progress
from embeddings.space import EmbeddingSpace

RESTRICT_VOCAB = 300_000
BATCH = 256
TOPN = 5          # gensim looks at the 5 best answers (after removing the question words)


def _test_data() -> Path:
    import gensim

    return Path(gensim.__file__).parent / "test" / "test_data"


BENCHMARKS = {
    "analogy": ("questions-words.txt", "Google analogies (Mikolov et al. 2013), 19,544 questions in 14 sections"),
    "ws353": ("wordsim353.tsv", "WordSim-353 (Finkelstein et al. 2002), 353 word pairs, relatedness"),
    "simlex": ("simlex999.txt", "SimLex-999 (Hill et al. 2015), 999 word pairs, similarity"),
}


def benchmark_path(name: str) -> Path:
    if name not in BENCHMARKS:
        raise InputError(f"Unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)} (or give a file).")
    return _test_data() / BENCHMARKS[name][0]


def _kind(text: str) -> str:
    """'analogy' for a file with ': section' lines, else 'pairs'."""
    return "analogy" if any(line.startswith(": ") for line in text.splitlines()) else "pairs"


#: the largest benchmark file read (the standard ones are a few hundred KB)
MAX_BENCHMARK_BYTES = 50 * 1024 * 1024


def _read(path: Path | str) -> str:
    from embeddings.readers import read_small_text

    return read_small_text(path, max_bytes=MAX_BENCHMARK_BYTES, what="a benchmark file is a few hundred KB")


def _ok_vocab(space: EmbeddingSpace, restrict_vocab: int, case_insensitive: bool) -> dict[str, int]:
    """gensim's ``ok_vocab``: the first ``restrict_vocab`` labels, upper-cased when
    case-insensitive, the most frequent spelling winning a collision."""
    keys = space.labels[:restrict_vocab]
    if case_insensitive:
        return {k.upper(): i for i, k in reversed(list(enumerate(keys)))}
    return {k: i for i, k in reversed(list(enumerate(keys)))}


class _Coverage:
    """``missing_ratio``: the share of a benchmark's items a space could not answer (0 for an
    empty benchmark). ``TOTAL`` names the field that counts the items."""

    TOTAL: ClassVar[str]
    missing: int

    @property
    def missing_ratio(self) -> float:
        total = getattr(self, self.TOTAL)
        return self.missing / total if total else 0.0


# -- analogies ----------------------------------------------------------------------------
@dataclass
class AnalogyResult(_Coverage):
    """3CosAdd analogy accuracy of one space on one file, overall and per section, with how
    many questions it answered (the rest had an unknown word)."""

    space: str
    benchmark: str
    score: float                 #: accuracy over the questions with all four words known
    correct: int
    answered: int
    questions: int
    missing: int                 #: questions skipped for unknown words
    sections: list[dict]         #: {"section", "correct", "answered", "questions", "missing", "score"}
    items: pd.DataFrame = field(repr=False)  #: section, a, b, c, expected, predicted, correct
    TOTAL: ClassVar[str] = "questions"

    def to_dict(self) -> dict:
        return {"benchmark": self.benchmark, "space": self.space, "kind": "analogy", "score": self.score,
                "missing_ratio": self.missing_ratio, "correct": self.correct, "answered": self.answered,
                "questions": self.questions, "sections": self.sections}


def parse_analogies(text: str, name: str = "analogies") -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """``: section`` headers followed by lines of four words, as gensim reads them."""
    sections: list[tuple[str, list]] = []
    for line_no, line in enumerate(text.splitlines()):
        if line.startswith(": "):
            sections.append((line.lstrip(": ").strip(), []))
            continue
        if not line.strip():
            continue
        if not sections:
            raise InputError(f"{name}: line {line_no + 1} comes before any ': section' header.")
        words = line.split()
        if len(words) == 4:
            sections[-1][1].append(tuple(words))
    if not any(q for _, q in sections):
        raise InputError(f"{name}: no analogy questions found (expected ': section' lines, then 'a b c d' lines).")
    return sections


def analogies(space: EmbeddingSpace, path: Path | str | None = None, *, restrict_vocab: int = RESTRICT_VOCAB,
              case_insensitive: bool = True, batch: int = BATCH,
              progress: Progress | None = None, text: str | None = None) -> AnalogyResult:
    """3CosAdd analogy accuracy, equal to gensim's ``evaluate_word_analogies``
    (``text``: the file's contents, when the caller has read it already)."""
    from gensim import matutils

    path = Path(path) if path is not None else benchmark_path("analogy")
    sections = parse_analogies(_read(path) if text is None else text, path.name)
    ok_vocab = _ok_vocab(space, restrict_vocab, case_insensitive)
    clip = min(restrict_vocab, len(space))
    vectors = np.asarray(space.vectors[:clip], dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1)          # gensim's fill_norms
    unit = vectors / norms[:, None]                   # gensim's get_vector(norm=True)

    norm = (str.upper if case_insensitive else str)
    rows = []          # (section index, a, b, c, expected, ia, ib, ic) for answerable questions
    items = []
    per_section = []
    for si, (title, questions) in enumerate(sections):
        missing = 0
        for q in questions:
            a, b, c, expected = (norm(w) for w in q)
            if a not in ok_vocab or b not in ok_vocab or c not in ok_vocab or expected not in ok_vocab:
                missing += 1
                continue
            rows.append((si, a, b, c, expected, ok_vocab[a], ok_vocab[b], ok_vocab[c]))
        per_section.append({"section": title, "questions": len(questions), "missing": missing})

    predicted: list[str | None] = [None] * len(rows)
    total = len(rows)
    search = _CandidateSearch(unit, sorted({i for r in rows for i in r[5:8]}))
    for start in range(0, total, batch):
        chunk = rows[start:start + batch]
        ia = np.array([r[5] for r in chunk])
        ib = np.array([r[6] for r in chunk])
        ic = np.array([r[7] for r in chunk])
        # gensim's get_mean_vector: a float32 accumulator, positive keys first, then the
        # division by the total weight (3.0) in float64, then unitvec to float32
        mean = unit[ib] + unit[ic]
        mean -= unit[ia]
        means = np.stack([matutils.unitvec(m).astype(np.float32) for m in mean.astype(np.float64) / 3.0])
        candidates = search.batch(ib, ic, mean)
        for j, r in enumerate(chunk):
            cj = candidates[j]
            # exact pass: gensim's own arithmetic on the candidates, its ordering and its rule
            exact = np.dot(vectors[cj], means[j]) / norms[cj]
            order = cj[np.argsort(-exact, kind="stable")]
            order = [i for i in order[:TOPN + 3] if i not in (r[5], r[6], r[7])][:TOPN]
            ignore = {r[1], r[2], r[3]}
            guess = None
            for i in order:
                guess = norm(space.labels[i])
                if guess in ok_vocab and guess not in ignore:
                    break
            predicted[start + j] = guess
        if progress:
            progress(min(1.0, (start + len(chunk)) / max(1, total)), f"{start + len(chunk):,} of {total:,} questions")

    correct_by = [0] * len(sections)
    answered_by = [0] * len(sections)
    for r, guess in zip(rows, predicted):
        ok = guess == r[4]
        correct_by[r[0]] += ok
        answered_by[r[0]] += 1
        items.append({"section": sections[r[0]][0], "a": r[1].lower(), "b": r[2].lower(), "c": r[3].lower(),
                      "expected": r[4].lower(), "predicted": (guess or "").lower(), "correct": ok})
    for s, cor, ans in zip(per_section, correct_by, answered_by):
        s.update(correct=cor, answered=ans, score=cor / ans if ans else 0.0,
                 missing_ratio=s["missing"] / s["questions"] if s["questions"] else 0.0)
    correct, answered = sum(correct_by), sum(answered_by)
    questions = sum(s["questions"] for s in per_section)
    return AnalogyResult(space.name, path.stem if path.name != BENCHMARKS["analogy"][0] else "analogy",
                         correct / answered if answered else 0.0, correct, answered, questions,
                         questions - answered, per_section, pd.DataFrame(items))


class _CandidateSearch:
    """For a batch of 3CosAdd queries q = u_b + u_c − u_a, the rows that may rank among
    the best ``TOPN + 3`` answers, found with one matrix product per vocabulary block.

    A lower bound of each query's (TOPN + 3)-th best score comes first, from the exact
    scores of the 64 nearest neighbours of b and of c (precomputed once per word). Then
    one pass over the vocabulary in blocks of 8,192 rows keeps only the rows scoring
    within ``EPS`` of that bound; a block whose best score for a query is below it is
    skipped with one max-reduction. ``EPS`` is far wider than float32 rounding, so
    gensim's own float32 ranking of the candidates is its ranking over the vocabulary.
    """

    EPS = 1e-4
    WARM = 64
    BLOCK = 8192

    def __init__(self, unit: np.ndarray, words: list[int]):
        self.unit = unit
        self.unit_t = np.ascontiguousarray(unit.T)
        self.n = len(unit)
        self.need = TOPN + 3
        self.pos = {w: i for i, w in enumerate(words)}
        self.near = self._nearest(words, min(self.WARM, self.n))

    def _nearest(self, words: list[int], k: int, block: int = 128) -> np.ndarray:
        import torch

        u = torch.from_numpy(self.unit)
        out = []
        with torch.inference_mode():
            for start in range(0, len(words), block):
                w = torch.as_tensor(words[start:start + block])
                out.append(torch.topk(u[w] @ u.T, k, dim=1, sorted=False).indices.numpy())
        return np.concatenate(out) if out else np.empty((0, k), dtype=np.int64)

    def batch(self, ib: np.ndarray, ic: np.ndarray, queries: np.ndarray) -> list[np.ndarray]:
        """Candidate rows for each query (``queries[j] = u_b + u_c − u_a``, float32)."""
        if self.n <= self.need:
            return [np.arange(self.n)] * len(queries)
        bounds = np.empty(len(queries), dtype=np.float32)
        for j, (b, c) in enumerate(zip(ib, ic)):
            warm = np.union1d(self.near[self.pos[b]], self.near[self.pos[c]])
            scores = self.unit[warm] @ queries[j]
            bounds[j] = np.partition(scores, -self.need)[-self.need] - self.EPS
        found: list[list[np.ndarray]] = [[] for _ in queries]
        for start in range(0, self.n, self.BLOCK):
            scores = queries @ self.unit_t[:, start:start + self.BLOCK]
            for j in np.flatnonzero(scores.max(axis=1) >= bounds):
                found[j].append(np.flatnonzero(scores[j] >= bounds[j]) + start)
        return [np.concatenate(f) for f in found]


# -- word pairs ---------------------------------------------------------------------------
@dataclass
class PairsResult(_Coverage):
    """Spearman and Pearson correlation of a space's cosines with human similarity judgements,
    on the pairs whose words it knows."""

    space: str
    benchmark: str
    spearman: float
    pearson: float
    spearman_p: float
    pearson_p: float
    pairs: int
    missing: int
    items: pd.DataFrame = field(repr=False)   #: a, b, gold, model (NaN when skipped)
    TOTAL: ClassVar[str] = "pairs"

    @property
    def score(self) -> float:
        return self.spearman

    def to_dict(self) -> dict:
        return {"benchmark": self.benchmark, "space": self.space, "kind": "pairs", "score": self.spearman,
                "spearman": self.spearman, "pearson": self.pearson, "spearman_p": self.spearman_p,
                "pearson_p": self.pearson_p, "missing_ratio": self.missing_ratio, "pairs": self.pairs,
                "used": self.pairs - self.missing, "sections": []}


def parse_scored_pairs(text: str, name: str = "pairs", delimiter: str = "\t") -> list[tuple[str, str, float]]:
    """``word1<TAB>word2<TAB>score`` lines; ``#`` comments and malformed lines skipped, as gensim does."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split(delimiter)
        if len(parts) != 3:
            continue
        try:
            out.append((parts[0], parts[1], float(parts[2])))
        except ValueError:
            continue
    if not out:
        raise InputError(f"{name}: no word pairs found (expected 'word1<TAB>word2<TAB>score' lines).")
    return out


def word_pairs(space: EmbeddingSpace, path: Path | str, *, restrict_vocab: int = RESTRICT_VOCAB,
               case_insensitive: bool = True, text: str | None = None) -> PairsResult:
    """Spearman and Pearson correlation with human judgements, equal to gensim's
    ``evaluate_word_pairs`` (pairs with an unknown word skipped)."""
    from gensim import matutils
    from scipy import stats

    path = Path(path)
    pairs = parse_scored_pairs(_read(path) if text is None else text, path.name)
    ok_vocab = _ok_vocab(space, restrict_vocab, case_insensitive)
    norm = (str.upper if case_insensitive else str)
    gold, model, items, missing = [], [], [], 0
    for a, b, sim in pairs:
        ka, kb = norm(a), norm(b)
        if ka not in ok_vocab or kb not in ok_vocab:
            missing += 1
            items.append({"a": a, "b": b, "gold": sim, "model": np.nan})
            continue
        va, vb = space.vectors[ok_vocab[ka]], space.vectors[ok_vocab[kb]]
        cos = float(np.dot(matutils.unitvec(va), matutils.unitvec(vb)))   # gensim's similarity()
        gold.append(sim)
        model.append(cos)
        items.append({"a": a, "b": b, "gold": sim, "model": cos})
    if len(gold) < 3:
        raise InputError(f"{space.name} knows both words of only {len(gold)} of the {len(pairs)} pairs in "
                         f"{path.name}; a correlation needs at least 3.")
    spearman = stats.spearmanr(gold, model)
    pearson = stats.pearsonr(gold, model)
    name = next((k for k, (f, _) in BENCHMARKS.items() if f == path.name and path.parent == _test_data()), path.stem)
    return PairsResult(space.name, name, float(spearman[0]), float(pearson[0]), float(spearman[1]),
                       float(pearson[1]), len(pairs), missing, pd.DataFrame(items))


def evaluate(space: EmbeddingSpace, benchmark: str | Path, *, restrict_vocab: int = RESTRICT_VOCAB,
             progress: Progress | None = None) -> AnalogyResult | PairsResult:
    """A named benchmark (analogy, ws353, simlex) or a file in one of their formats
    (read once: its ': section' lines say it holds analogies)."""
    path = benchmark_path(benchmark) if isinstance(benchmark, str) and benchmark in BENCHMARKS else Path(benchmark)
    text = _read(path)
    if _kind(text) == "analogy":
        return analogies(space, path, restrict_vocab=restrict_vocab, progress=progress, text=text)
    return word_pairs(space, path, restrict_vocab=restrict_vocab, text=text)


def evaluate_text(space: EmbeddingSpace, text: str, name: str, *, restrict_vocab: int = RESTRICT_VOCAB,
                  progress: Progress | None = None) -> AnalogyResult | PairsResult:
    """A benchmark given as text (an upload), in either format; ``name`` names it (its file
    name). Nothing is written to disk."""
    from embeddings.display import safe_filename

    if len(text) > MAX_BENCHMARK_BYTES:
        raise InputError(f"{name}: {len(text):,} characters; a benchmark file is a few hundred KB.")
    label = Path(safe_filename(name, "benchmark.txt"))
    if _kind(text) == "analogy":
        return analogies(space, label, restrict_vocab=restrict_vocab, progress=progress, text=text)
    return word_pairs(space, label, restrict_vocab=restrict_vocab, text=text)
