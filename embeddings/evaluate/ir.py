"""Retrieval metrics as the field computes them (trec_eval, pytrec_eval, BEIR, MTEB).

A *run* ranks documents for each query; *qrels* judge some of them (relevance > 0 is
relevant, larger is more relevant). Per query, with the run cut at k:

- ``nDCG@k``: sum over the top k of ``rel_i / log2(i + 1)`` over the same sum for the ideal
  order of the judged documents (trec_eval's ``ndcg_cut``: the gain is the relevance itself);
- ``Recall@k``: the share of the query's relevant documents in the top k;
- ``MRR@k``: one over the rank of the first relevant document in the top k, else 0;
- ``MAP@k``: the mean over the query's relevant documents of the precision at each one's rank
  within the top k (0 for those below it; trec_eval's ``map_cut``).

``tests/test_retrieval.py`` checks every one against pytrec_eval on the same run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: the metrics, the main one first (MTEB's and BEIR's)
METRICS = ("nDCG@10", "Recall@10", "Recall@100", "MRR@10", "MAP@100")
MAIN = METRICS[0]
#: how deep a run must go for every metric
DEPTH = 100


def _cut(name: str) -> tuple[str, int]:
    kind, k = name.split("@")
    return kind, int(k)


def query_metrics(ranked: Sequence[str], judged: Mapping[str, int], names: Sequence[str] = METRICS) -> dict[str, float]:
    """The metrics of one query: ``ranked``, its documents best first; ``judged``, document
    → relevance (only relevance > 0 counts as relevant)."""
    relevant = {d: r for d, r in judged.items() if r > 0}
    if not relevant:
        raise ValueError("a query needs at least one relevant document")
    gains = np.array([relevant.get(d, 0) for d in ranked], dtype=np.float64)
    hit = gains > 0
    ideal = np.sort(np.fromiter(relevant.values(), dtype=np.float64))[::-1]
    out = {}
    for name in names:
        kind, k = _cut(name)
        g, h = gains[:k], hit[:k]
        if kind == "nDCG":
            discount = 1.0 / np.log2(np.arange(2, k + 2))
            out[name] = float((g * discount[:len(g)]).sum() / (ideal[:k] * discount[:min(k, len(ideal))]).sum())
        elif kind == "Recall":
            out[name] = float(h.sum() / len(relevant))
        elif kind == "MRR":
            first = np.flatnonzero(h)
            out[name] = float(1.0 / (first[0] + 1)) if first.size else 0.0
        elif kind == "MAP":
            ranks = np.flatnonzero(h) + 1
            out[name] = float((np.arange(1, len(ranks) + 1) / ranks).sum() / len(relevant))
        else:
            raise ValueError(f"unknown metric {name!r}")
    return out


def evaluate_run(run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]],
                 names: Sequence[str] = METRICS) -> pd.DataFrame:
    """One row per judged query (``qid`` and each metric); a query the run left out scores 0."""
    rows = [{"qid": q, **query_metrics(run.get(q, []), judged, names)} for q, judged in qrels.items()]
    return pd.DataFrame(rows, columns=["qid", *names])


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60, depth: int = DEPTH) -> list[str]:
    """Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009): each document scores
    ``sum 1 / (k + rank)`` over the rankings that hold it (rank from 1); ties keep the order
    of first appearance."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda d: -scores[d])[:depth]


def trec_run(run: Mapping[str, Sequence[str]], system: str) -> str:
    """A run file in TREC format: ``qid Q0 docid rank score system``, the score falling with the rank."""
    name = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in system) or "run"
    lines = [f"{q} Q0 {d} {r} {len(docs) - r + 1} {name}" for q, docs in run.items()
             for r, d in enumerate(docs, start=1)]
    return "\n".join(lines) + ("\n" if lines else "")
