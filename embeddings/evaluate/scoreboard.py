"""Benchmark results side by side: the score, the items it rests on, and a fair comparison.

A score on a few items of a benchmark is shown with its coverage (``used`` of ``total``)
and is not ranked under :data:`MIN_COVERAGE`; the *common* score rates every space on the
items all of them answer, so a space is never ranked on easier questions than another.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from embeddings.evaluate.intrinsic import AnalogyResult, PairsResult

#: a score computed on fewer than this share of a benchmark's items is shown but not ranked
MIN_COVERAGE = 0.5


def _item_keys(r: AnalogyResult | PairsResult) -> pd.Series:
    """The answered items of a result, as comparable keys (case-folded as the scoring is)."""
    if isinstance(r, AnalogyResult):
        it = r.items
        return (it["section"] + "\t" + it["a"] + "\t" + it["b"] + "\t" + it["c"] + "\t" + it["expected"]).str.upper()
    it = r.items.reset_index(drop=True)
    answered = it[it["model"].notna()]
    # a pair file may repeat a pair: its position keeps each line distinct
    return answered.index.astype(str) + "\t" + answered["a"].str.upper() + "\t" + answered["b"].str.upper()


def common_items(results: Sequence[AnalogyResult | PairsResult]) -> dict[str, float]:
    """Each result's score on the items that every result answers (same benchmark): the
    spaces compared on the same questions. Accuracy for analogies, Spearman for pairs
    (NaN when fewer than 3 pairs are common)."""
    from scipy import stats

    keys = [set(_item_keys(r)) for r in results]
    shared = set.intersection(*keys) if keys else set()
    out = {}
    for r in results:
        k = _item_keys(r)
        keep = k.isin(shared).to_numpy()
        if isinstance(r, AnalogyResult):
            out[r.space] = float(r.items["correct"][keep].mean()) if keep.any() else float("nan")
        else:
            part = r.items.reset_index(drop=True).loc[k.index[keep]]
            out[r.space] = (float(stats.spearmanr(part["gold"], part["model"])[0]) if len(part) >= 3
                            else float("nan"))
    return out


def scoreboard(results: Sequence[AnalogyResult | PairsResult]) -> pd.DataFrame:
    """One row per (space, benchmark): the score with the items it rests on (``used`` of
    ``total``, ``coverage``); ``ranked`` is False under ``MIN_COVERAGE`` and ``rank`` (1 =
    best) counts only ranked rows; ``common`` is the score on the items every space of the
    benchmark answers, ``common_n`` how many those are."""
    rows = []
    for r in results:
        if isinstance(r, AnalogyResult):
            rows.append({"space": r.space, "benchmark": r.benchmark, "metric": "accuracy", "score": r.score,
                         "pearson": np.nan, "missing": r.missing_ratio,
                         "used": r.answered, "total": r.questions})
        else:
            rows.append({"space": r.space, "benchmark": r.benchmark, "metric": "Spearman", "score": r.spearman,
                         "pearson": r.pearson, "missing": r.missing_ratio, "used": r.pairs - r.missing,
                         "total": r.pairs})
    board = pd.DataFrame(rows, columns=["space", "benchmark", "metric", "score", "pearson", "missing", "used",
                                        "total"])
    board["coverage"] = board["used"] / board["total"].where(board["total"] > 0)
    board["ranked"] = board["coverage"] >= MIN_COVERAGE
    board["rank"] = (board["score"].where(board["ranked"]).groupby(board["benchmark"])
                     .rank(ascending=False, method="min").astype("Int64"))
    board["common"], board["common_n"] = np.nan, 0
    for bench, idx in board.groupby("benchmark", sort=False).groups.items():
        group = [r for r in results if r.benchmark == bench]
        if len(group) > 1:
            scores = common_items(group)
            board.loc[idx, "common"] = board.loc[idx, "space"].map(scores)
            board.loc[idx, "common_n"] = len(set.intersection(*(set(_item_keys(r)) for r in group)))
        else:
            board.loc[idx, "common"] = board.loc[idx, "score"]
            board.loc[idx, "common_n"] = board.loc[idx, "used"]
    board["common_n"] = board["common_n"].astype(int)
    return board


def n_of(used: int, total: int) -> str:
    """'318 of 353' — the coverage a score rests on, as every score shows it."""
    return f"{used:,} of {total:,}"
