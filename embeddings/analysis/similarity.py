"""Similarity pairs, STS-style: a user's file of text pairs with a gold score, and the
Spearman correlation of each space's cosine with the gold scores.

A space takes part when it can embed new texts:

- a sentence encoder (MiniLM or a local folder), by its own model;
- a pooled word space, by tokenising each text as its corpus was tokenised (phrases are a
  corpus-level step and are not applied) and pooling its parent's word vectors the same
  way (mean, or SIF with the corpus's frequencies; SIF's common component is removed from
  the pair texts themselves);

other spaces (TF-IDF + LSA keeps no vectorizer; a word space holds words, not texts) are
refused with the reason. The interval is a bootstrap over the pairs (2,000 resamples,
seeded).

>>> parse_sts("a cat\\ta dog\\t3.5\\n# comment\\n\\nthe sun\\ta star\\t1\\nrain\\tsnow\\t2", "toy.tsv")
[('a cat', 'a dog', 3.5), ('the sun', 'a star', 1.0), ('rain', 'snow', 2.0)]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from embeddings.errors import InputError
from embeddings.evaluate.tasks import BOOTSTRAP, CONFIDENCE

#: at most this many pairs, and bytes, in one file
MAX_PAIRS = 20_000
MAX_PAIRS_BYTES = 20 * 1024 * 1024


def parse_sts(text: str, name: str = "pairs") -> list[tuple[str, str, float]]:
    """``text<TAB>text<TAB>score`` lines (``#`` comments and blank lines skipped). A line
    with another number of fields, or a score that is not a finite number, is refused with
    its line number: a silently skipped pair would change the score without a word."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise InputError(f"{name}, line {lineno}: {len(parts)} tab-separated fields where 3 are expected "
                             "(text, text, score).")
        try:
            score = float(parts[2])
        except ValueError:
            raise InputError(f"{name}, line {lineno}: the score {parts[2].strip()!r} is not a number.") from None
        if not math.isfinite(score):
            raise InputError(f"{name}, line {lineno}: the score is {parts[2].strip()}, not a finite number.")
        if not parts[0].strip() or not parts[1].strip():
            raise InputError(f"{name}, line {lineno}: an empty text.")
        out.append((parts[0].strip(), parts[1].strip(), score))
        if len(out) > MAX_PAIRS:
            raise InputError(f"{name} holds more than {MAX_PAIRS:,} pairs; split it.")
    if len(out) < 3:
        raise InputError(f"{name}: {len(out)} pairs; a correlation needs at least 3.")
    return out


@dataclass
class SimilarityScore:
    """Spearman of cosine against gold for one space, with a bootstrap interval, on the
    ``n`` pairs it could embed (of ``total``)."""

    space: str
    spearman: float
    low: float
    high: float
    n: int
    total: int
    cosines: np.ndarray = field(repr=False)

    def row(self) -> dict:
        return {"space": self.space, "task": "similarity", "metric": "Spearman", "score": self.spearman,
                "low": self.low, "high": self.high, "n": self.n, "total": self.total,
                "coverage": self.n / self.total if self.total else float("nan")}


def similarity(name: str, embed: Callable[[list[str]], np.ndarray], pairs: list[tuple[str, str, float]], *,
               seed: int = 0, resamples: int = BOOTSTRAP, confidence: float = CONFIDENCE) -> SimilarityScore:
    """Spearman's rho of cos(embed(a), embed(b)) against the gold scores, with a percentile
    bootstrap interval over the pairs. A pair with a zero vector (nothing known) is left out."""
    from scipy import stats

    both = embed([p[0] for p in pairs] + [p[1] for p in pairs])    # one call: SIF's component fits on all texts
    a, b = both[:len(pairs)], both[len(pairs):]
    gold = np.array([p[2] for p in pairs])
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    ok = (na > 0) & (nb > 0)
    cos = np.full(len(pairs), np.nan)
    cos[ok] = (a[ok] * b[ok]).sum(axis=1) / (na[ok] * nb[ok])
    if ok.sum() < 3:
        raise InputError(f"{name} could embed only {int(ok.sum())} of the {len(pairs)} pairs.")
    rho = float(stats.spearmanr(cos[ok], gold[ok])[0])
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(ok)
    boots = []
    for _ in range(resamples):
        pick = rng.choice(idx, len(idx))
        boots.append(stats.spearmanr(cos[pick], gold[pick])[0])
    boots = np.asarray(boots, dtype=float)
    boots = boots[np.isfinite(boots)]
    low, high = np.quantile(boots, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return SimilarityScore(name, rho, float(low), float(high), int(ok.sum()), len(pairs), cos)


def similarity_board(ws, spaces, pairs: list[tuple[str, str, float]], *, seed: int = 0
                     ) -> tuple[list[SimilarityScore], dict[str, str]]:
    """Every space that can embed the pair texts, scored; the others with the reason."""
    from embeddings.models.text_embed import text_embedder

    scores, refused = [], {}
    for space in spaces:
        embed, why = text_embedder(ws, space)
        if embed is None:
            refused[space.name] = why
            continue
        try:
            scores.append(similarity(space.name, embed, pairs, seed=seed))
        except InputError as exc:
            refused[space.name] = str(exc)
    return scores, refused
