"""Domain-vocabulary audit: which of a corpus's terms general models do not know, split
into many word pieces, or know differently.

For each term: corpus frequency and document frequency; whether each space has it; how
MiniLM's WordPiece tokenizer splits it; its nearest neighbours in each space; its
*overlap*: Jaccard@k between its neighbours in the domain space and in each other space,
both searched among the labels the two spaces share (as on the Compare page), where 1
means the same neighbours and 0 none in common; and its *drift* = 1 − overlap, which
reads the other way round (1: every neighbour changed). Flags: ``unknown`` (missing from
some general space), ``fragmented`` (3 or more word pieces), ``rare`` (below the domain
model's ``min_count``), ``unstable`` (overlap below 0.1 against some general space).

With a stability study of the domain model (:mod:`embeddings.analysis.stability`) the audit has a
**noise floor**: each term's own seed-to-seed stability (Jaccard@k of its neighbours
between runs of the same model on the same corpus; the floor is the smallest over pairs of
runs). A term whose overlap with a general model is below its floor *differs from the
general model beyond its own noise* (flag ``beyond noise``); a low overlap that the model's
own runs also show is noise, not domain, and the
raw ``unstable`` threshold is then not used.

Terms can be mined from the corpus: words and detected phrases over-represented against
general English. The reference is the bundled GloVe 6B vocabulary (Wikipedia 2014 +
Gigaword 5), whose frequency rank is turned into a relative frequency with Zipf's law
(p ∝ 1/rank). A word missing from GloVe gets the frequency of rank 400,001; a phrase
(or a word GloVe's tokenizer splits, such as "it's") gets that of its rarest part, an
upper bound on its own frequency, so such scores are conservative.

>>> round(float(zipf_probability(1)), 4)   # the most frequent word: 1 / H(400,000)
0.0742
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from embeddings.analysis.neighbours import K as NEIGHBOUR_K
from embeddings.errors import InputError
from embeddings.options import option
from embeddings.progress import Progress
from embeddings.space import EmbeddingSpace
from embeddings.store.cards import SENTENCE_ENCODER, domain_spaces
from embeddings.text.corpus import Corpus

FRAGMENTED = 3
UNSTABLE = 0.1
DEFAULT_MIN_COUNT = 5
GLOVE_SIZE = 400_000
_HARMONIC = math.log(GLOVE_SIZE + 1) + 0.5772156649  # ≈ H(400,000)
FLAGS = ("unknown", "fragmented", "rare", "unstable", "beyond noise")


@dataclass(frozen=True)
class AuditParams:
    """The audit's options (the page and the ``audit`` command)."""

    k: int = option(NEIGHBOUR_K, 2, 50, "neighbours compared per term")
    mine: int = option(50, 10, 2000, "terms mined: those most over-represented against general English "
                       "(GloVe 6B frequency ranks through Zipf's law)", step=10)


def zipf_probability(rank: int | np.ndarray) -> float | np.ndarray:
    """Zipf's law over the GloVe vocabulary: p(rank) = 1 / (rank · H_N)."""
    return 1.0 / (np.asarray(rank, dtype=np.float64) * _HARMONIC)


@lru_cache(maxsize=1)
def glove_ranks() -> dict[str, int]:
    """word -> frequency rank (1 = most frequent) in the bundled GloVe 6B vocabulary."""
    from embeddings.models.glove import glove_files

    words = pd.read_parquet(glove_files()[1])["index"].astype(str).tolist()
    return {w: i + 1 for i, w in enumerate(words)}


@lru_cache(maxsize=1)
def _tokenizer():
    from transformers import AutoTokenizer

    from embeddings.models.hf_folder import LOAD_AS_DATA
    from embeddings.models.sentence import minilm_path

    return AutoTokenizer.from_pretrained(str(minilm_path()), **LOAD_AS_DATA)


def pieces(terms: Sequence[str]) -> list[list[str]]:
    """MiniLM's WordPiece split of each term (phrases are split at ``_`` first)."""
    tok = _tokenizer()
    return [tok.tokenize(t.replace("_", " ")) for t in terms]


def mine_terms(corpus: Corpus, n: int = 50, *, min_count: int = DEFAULT_MIN_COUNT, min_documents: int = 2
               ) -> pd.DataFrame:
    """The ``n`` terms most over-represented in the corpus against general English.

    ``score = log(p_corpus / p_reference)``; terms need ``min_count`` occurrences in
    ``min_documents`` documents and a letter. Columns: term, count, documents, p_corpus,
    p_reference, reference_rank, score.
    """
    if n < 1:
        raise InputError("Ask for at least one term to mine.")
    vocab = corpus.vocabulary()
    vocab = vocab[(vocab["count"] >= min_count) & (vocab["documents"] >= min_documents)
                  & vocab["term"].str.contains(r"[^\W\d_]", regex=True)].copy()
    if vocab.empty:
        raise InputError(f"No term of {corpus.name} occurs {min_count} times in {min_documents} documents; "
                         "lower the thresholds or type the terms.")
    ranks = glove_ranks()

    def rank_of(term: str) -> int:
        # GloVe's tokenizer splits "it's" into "it" and "'s" and hyphenated words at the
        # hyphen: compare like with like, part by part
        parts = [p for p in re.split(r"[_\-'\u2019]", term.lower()) if p]
        return max(ranks.get(p, ranks.get("'" + p, GLOVE_SIZE + 1)) for p in parts)

    total = corpus.stats["tokens"]
    vocab["reference_rank"] = [rank_of(t) for t in vocab["term"]]
    vocab["p_corpus"] = vocab["count"] / total
    vocab["p_reference"] = zipf_probability(vocab["reference_rank"].to_numpy())
    vocab["score"] = np.log(vocab["p_corpus"] / vocab["p_reference"])
    out = vocab.sort_values(["score", "count"], ascending=False, kind="stable").head(n)
    return out[["term", "count", "documents", "p_corpus", "p_reference", "reference_rank", "score"]] \
        .reset_index(drop=True)


def nearest_terms(space: EmbeddingSpace, terms: list[str], k: int, rows: np.ndarray | None = None
                ) -> dict[str, list[str]]:
    """k nearest labels of each term known to the space (searched among ``rows`` if given)."""
    from embeddings.analysis.neighbours import top_k

    known = [t for t in terms if space.key(t) in space.index]
    if not known:
        return {}
    idx = np.array([space.index[space.key(t)] for t in known])
    pool = np.arange(len(space)) if rows is None else rows
    sims = np.asarray(space.vectors[idx], dtype=np.float32) @ np.asarray(space.vectors[pool], dtype=np.float32).T
    pos = {r: i for i, r in enumerate(pool.tolist())}
    out = {}
    for j, t in enumerate(known):
        exclude = np.array([pos[idx[j]]]) if idx[j] in pos else None
        best = top_k(sims[j], k, exclude)
        out[t] = [space.labels[pool[i]] for i in best]
    return out


@dataclass
class Audit:
    """A domain-vocabulary audit: per term its frequencies, whether each space knows it, its
    word pieces, neighbours, overlap and drift with the domain space, and flags; per space a
    summary with the number of terms each figure rests on."""

    corpus: str
    domain: str                   #: the space other spaces are compared with
    spaces: list[str]
    k: int
    terms: pd.DataFrame           #: one row per term (see :meth:`records`)
    summary: pd.DataFrame         #: one row per space
    mined: bool
    reference: str
    noise: dict | None = None     #: the stability study used as noise floor (name, model, runs, k, median)

    def records(self) -> list[dict]:
        return self.terms.to_dict("records")

    def to_dict(self) -> dict:
        terms = []
        for r in self.records():
            terms.append({"term": r["term"], "frequency": int(r["frequency"]), "documents": int(r["documents"]),
                          "known": {s: bool(r[f"known:{s}"]) for s in self.spaces},
                          "pieces": list(r["pieces"]),
                          "neighbours": {s: list(r[f"neighbours:{s}"]) for s in self.spaces},
                          "overlap": {s: (None if pd.isna(r[f"overlap:{s}"]) else float(r[f"overlap:{s}"]))
                                      for s in self.spaces if s != self.domain},
                          "drift": {s: (None if pd.isna(r[f"drift:{s}"]) else float(r[f"drift:{s}"]))
                                    for s in self.spaces if s != self.domain},
                          "flags": list(r["flags"]),
                          **({"stability": None if pd.isna(r["stability"]) else float(r["stability"]),
                              "noise_floor": None if pd.isna(r["noise_floor"]) else float(r["noise_floor"]),
                              "beyond_noise": {s: r[f"beyond_noise:{s}"] for s in self.spaces if s != self.domain}}
                             if self.noise else {})})
        cov = {r["space"]: float(r["coverage"]) for r in self.summary.to_dict("records")}
        return {"corpus": self.corpus, "domain": self.domain, "k": self.k, "mined": self.mined,
                "reference": self.reference, "terms": terms, "coverage": cov,
                "summary": self.summary.to_dict("records"), "noise_floor": self.noise}

    def table(self) -> pd.DataFrame:
        """Flat, export-friendly: lists joined with spaces/commas."""
        t = self.terms.copy()
        for c in t.columns:
            if c == "pieces":
                t[c] = t[c].map(" ".join)
            elif c.startswith("neighbours:") or c == "flags":
                t[c] = t[c].map(", ".join)
        return t


def _check_request(spaces: Sequence[EmbeddingSpace], terms, mine, k: int) -> None:
    if not spaces:
        raise InputError("Pick at least one space to audit.")
    if (terms is None) == (mine is None):
        raise InputError("Give a term list or a number of terms to mine, not both.")
    if not 1 <= k <= 100:
        raise InputError("k is between 1 and 100.")
    names = [s.name for s in spaces]
    if len(set(names)) != len(names):
        raise InputError("Each space can be audited once.")


def choose_domain(corpus: Corpus, spaces: Sequence[EmbeddingSpace], domain: str | None) -> str:
    """The space the others are compared with: ``domain`` if given, else the first space
    trained on this corpus (:func:`~embeddings.store.cards.domain_spaces`), else the first space."""
    names = [s.name for s in spaces]
    if domain is None:
        trained = domain_spaces({s.name: {**s.provenance, "family": s.family} for s in spaces}, corpus.name, corpus.id)
        domain = trained[0] if trained else names[0]
    if domain not in names:
        raise InputError(f"The domain space {domain!r} is not among the audited spaces.")
    return domain


def choose_terms(corpus: Corpus, terms: Sequence[str] | None, mine: int | None) -> list[str]:
    """The ``mine`` most over-represented terms, or the given ones (deduplicated, lowercased
    when the corpus is, at most 5,000)."""
    if mine is not None:
        return mine_terms(corpus, mine)["term"].tolist()
    chosen = list(dict.fromkeys(t.strip() for t in terms if t.strip()))
    if not chosen:
        raise InputError("The term list is empty.")
    if len(chosen) > 5000:
        raise InputError(f"{len(chosen):,} terms: an audit takes at most 5,000; split the list.")
    if corpus.params.get("preprocessing", {}).get("lowercase", True):
        chosen = list(dict.fromkeys(t.lower() for t in chosen))
    return chosen


def neighbour_overlap(dom: EmbeddingSpace, other: EmbeddingSpace, terms: Sequence[str], k: int) -> list[float]:
    """Per term, Jaccard@k of its neighbours in ``dom`` and in ``other``, both searched among
    the labels the two share (NaN where a term is not in both)."""
    shared = [lab for lab in dom.labels if other.key(lab) in other.index]
    overlap = [np.nan] * len(terms)
    if not shared:
        return overlap
    rows_d = np.array([dom.index[lab] for lab in shared])
    rows_s = np.array([other.index[other.key(lab)] for lab in shared])
    in_both = [t for t in terms if dom.key(t) in dom.index and other.key(t) in other.index]
    near_d = nearest_terms(dom, in_both, k, rows_d)
    near_s = nearest_terms(other, in_both, k, rows_s)
    for j, t in enumerate(terms):
        if t in near_d:
            a = {other.key(x) for x in near_d[t]}
            b = set(near_s[t])
            overlap[j] = len(a & b) / len(a | b) if a | b else np.nan
    return overlap


def term_flags(frame: pd.DataFrame, general: Sequence[str], min_count: int) -> list[list[str]]:
    """Per term: unknown (to some general space), fragmented, rare (below the domain model's
    min_count), and either beyond noise (overlap with some general space below the term's
    own seed-to-seed stability, when a stability study gives one) or unstable (overlap under
    ``UNSTABLE``, without one)."""
    noise = "stability" in frame
    flags = []
    for _, r in frame.iterrows():
        f = []
        if any(not r[f"known:{g}"] for g in general):
            f.append("unknown")
        if r["n_pieces"] >= FRAGMENTED:
            f.append("fragmented")
        if r["frequency"] < min_count:
            f.append("rare")
        if noise and not pd.isna(r["stability"]):
            if any(r[f"beyond_noise:{g}"] is True for g in general):
                f.append("beyond noise")
        elif any(not pd.isna(r[f"overlap:{g}"]) and r[f"overlap:{g}"] < UNSTABLE for g in general):
            f.append("unstable")
        flags.append(f)
    return flags


def space_summary(frame: pd.DataFrame, spaces: Sequence[EmbeddingSpace], domain: str) -> pd.DataFrame:
    """Per space: coverage by type and by frequency, the median overlap and drift with the
    domain space and the number of terms they rest on, mean fragmentation (MiniLM)."""
    freq = frame["frequency"].to_numpy(dtype=float)
    summary = []
    for s in spaces:
        known = frame[f"known:{s.name}"].to_numpy()
        row = {"space": s.name, "role": "domain" if s.name == domain else "general",
               "coverage": float(known.mean()),
               "coverage_by_frequency": float(freq[known].sum() / freq.sum()) if freq.sum() else float("nan"),
               "median_overlap": (float(np.nanmedian(frame[f"overlap:{s.name}"])) if s.name != domain
                                  and frame[f"overlap:{s.name}"].notna().any() else float("nan")),
               "overlap_n": int(frame[f"overlap:{s.name}"].notna().sum()) if s.name != domain else 0,
               "mean_fragmentation": float(frame["n_pieces"].mean())
               if s.family == SENTENCE_ENCODER else float("nan")}
        if "stability" in frame:
            judged = frame[f"beyond_noise:{s.name}"] if s.name != domain else pd.Series([], dtype=object)
            row["noise_n"] = int(judged.map(lambda v: v is not None).sum())
            row["beyond_noise"] = int(judged.map(lambda v: v is True).sum())
        row["median_drift"] = 1.0 - row["median_overlap"]  # the median of 1 − x is 1 − the median of x
        summary.append(row)
    return pd.DataFrame(summary)


def audit(corpus: Corpus, spaces: Sequence[EmbeddingSpace], terms: Sequence[str] | None = None, *,
          mine: int | None = None, k: int = NEIGHBOUR_K, domain: str | None = None,
          progress: Progress | None = None, noise=None) -> Audit:
    """Audit ``terms`` (or the ``mine`` most over-represented ones) against ``spaces``.

    ``domain`` names the space trained on this corpus (default: the first space whose
    provenance names the corpus, else the first space). ``noise``: a
    :class:`~embeddings.analysis.stability.Study` of the domain model, the noise floor.
    """
    say = progress or (lambda f, m: None)
    _check_request(spaces, terms, mine, k)
    if noise is not None and noise.params.k != k:     # Jaccard@k is only comparable at the same k
        raise InputError(f"The noise floor {noise.name} was measured at k = {noise.params.k}, and this audit "
                         f"compares k = {k} neighbours: audit at k = {noise.params.k}, or measure a study at k = {k}.")
    names = [s.name for s in spaces]
    domain = choose_domain(corpus, spaces, domain)
    dom = next(s for s in spaces if s.name == domain)
    say(0.05, "Choosing terms")
    vocab = corpus.vocabulary().set_index("term")
    chosen = choose_terms(corpus, terms, mine)
    min_count = int(dom.provenance.get("params", {}).get("min_count", DEFAULT_MIN_COUNT))

    say(0.15, "Splitting terms into word pieces (MiniLM tokenizer)")
    split = pieces(chosen)
    frame = pd.DataFrame({
        "term": chosen,
        "frequency": [int(vocab["count"].get(t, 0)) for t in chosen],
        "documents": [int(vocab["documents"].get(t, 0)) for t in chosen],
        "pieces": split,
        "n_pieces": [len(p) for p in split],
    })
    for i, s in enumerate(spaces):
        say(0.2 + 0.6 * i / len(spaces), f"Neighbours in {s.name}")
        frame[f"known:{s.name}"] = [s.key(t) in s.index for t in chosen]
        near = nearest_terms(s, chosen, k)
        frame[f"neighbours:{s.name}"] = [near.get(t, []) for t in chosen]
    say(0.85, "Neighbour overlap with the domain space")
    general = [s for s in spaces if s.name != domain]
    for s in general:
        overlap = neighbour_overlap(dom, s, chosen, k)
        frame[f"overlap:{s.name}"] = overlap
        frame[f"drift:{s.name}"] = 1.0 - np.asarray(overlap, dtype=float)
    noise_info = None
    if noise is not None:
        from embeddings.analysis.stability import beyond_noise

        keys = [dom.key(t) for t in chosen]
        frame["stability"] = noise.stability_of(keys).to_numpy()
        frame["noise_floor"] = noise.stability_of(keys, "floor").to_numpy()
        for s in general:
            frame[f"beyond_noise:{s.name}"] = [beyond_noise(o, st) for o, st in
                                               zip(frame[f"overlap:{s.name}"], frame["noise_floor"])]
        noise_info = {"study": noise.name, "model": noise.params.model, "runs": noise.params.runs,
                      "bootstrap": noise.params.bootstrap, "k": noise.params.k, "median_stability": noise.median,
                      "measured_terms": int(frame["stability"].notna().sum())}
    frame["flags"] = term_flags(frame, [s.name for s in general], min_count)
    summary = space_summary(frame, spaces, domain)
    say(1.0, "Done")
    reference = ("GloVe 6B vocabulary rank (Wikipedia 2014 + Gigaword 5) as relative frequency by Zipf's law; "
                 "a phrase takes its rarest word's frequency") if mine is not None else "typed or uploaded"
    return Audit(corpus.name, domain, names, k, frame, summary, mine is not None, reference, noise_info)
