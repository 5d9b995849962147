"""WEAT's effect size d (Caliskan et al.) and how far to trust it: a bootstrap over the words
of each set (a SEAT word brings all its sentences), its percentile interval, and d without
each word in turn."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: bootstrap resamples for the interval on d (words resampled within each of the four sets)
BOOTSTRAP = 2000


def association(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """s(w, A, B) for each row of ``w`` (rows of all three are unit vectors)."""
    return (w @ a.T).mean(axis=1) - (w @ b.T).mean(axis=1)


def effect_size(s_x: np.ndarray, s_y: np.ndarray, ddof: int = 1) -> float:
    """Cohen's d of Caliskan et al.: difference of means over the std of s on X∪Y."""
    std = np.concatenate([s_x, s_y]).std(ddof=ddof)
    if std == 0:
        return 0.0
    return float((s_x.mean() - s_y.mean()) / std)


def _weighted_d(s_x: np.ndarray, s_y: np.ndarray, c_x: np.ndarray, c_y: np.ndarray, ddof: int) -> np.ndarray:
    """d for rows of item weights (counts): ``s_*`` are (R, items) or (items,), ``c_*`` (R, items)."""
    n_x, n_y = c_x.sum(axis=1), c_y.sum(axis=1)
    sum_x, sum_y = (c_x * s_x).sum(axis=1), (c_y * s_y).sum(axis=1)
    n = n_x + n_y
    mean = (sum_x + sum_y) / n
    squares = (c_x * s_x ** 2).sum(axis=1) + (c_y * s_y ** 2).sum(axis=1)
    var = np.maximum(squares - n * mean ** 2, 0.0) / np.maximum(n - ddof, 1)
    std = np.sqrt(var)
    diff = sum_x / n_x - sum_y / n_y
    return np.divide(diff, std, out=np.zeros_like(diff), where=std > 1e-15)


def _group_counts(rng: np.random.Generator, groups: np.ndarray, resamples: int) -> np.ndarray:
    """(resamples, items) weights: each group (word) drawn with replacement as often as there
    are groups; an item weighs as often as its word was drawn."""
    k = int(groups.max()) + 1
    counts = rng.multinomial(k, np.full(k, 1.0 / k), size=resamples)
    return counts[:, groups].astype(np.float64)


def bootstrap_d(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, groups: Sequence[np.ndarray], *,
                ddof: int = 1, resamples: int = BOOTSTRAP, seed: int = 0, chunk: int = 500) -> np.ndarray:
    """``resamples`` bootstrap values of d: the words of each of X, Y, A and B are drawn with
    replacement within their set (a SEAT word brings all its sentences); s is recomputed
    against the resampled attributes. ``groups`` gives each item's word index, per set."""
    cxa, cxb, cya, cyb = x @ a.T, x @ b.T, y @ a.T, y @ b.T
    rng = np.random.default_rng(seed)
    out = np.empty(resamples)
    for start in range(0, resamples, chunk):
        m = min(chunk, resamples - start)
        wx, wy, wa, wb = (_group_counts(rng, np.asarray(g), m) for g in groups)
        wa /= wa.sum(axis=1, keepdims=True)
        wb /= wb.sum(axis=1, keepdims=True)
        s_x = wa @ cxa.T - wb @ cxb.T            # (m, |X|)
        s_y = wa @ cya.T - wb @ cyb.T
        out[start:start + m] = _weighted_d(s_x, s_y, wx, wy, ddof)
    return out


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap values."""
    lo, hi = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def leave_one_out(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, groups: Sequence[np.ndarray],
                  words: Sequence[Sequence[str]], names: Sequence[str], d: float, *, ddof: int = 1) -> pd.DataFrame:
    """d recomputed without each word of each set in turn (with all its SEAT sentences);
    ``delta`` is the change from ``d``, the effect size with every word."""
    rows = []
    sets = [x, y, a, b]
    for role, vecs, grp, ws, name in zip("XYAB", sets, groups, words, names):
        grp = np.asarray(grp)
        for i, word in enumerate(ws):
            keep = grp != i
            if not keep.any():
                continue
            parts = list(sets)
            parts["XYAB".index(role)] = vecs[keep]
            px, py, pa, pb = parts
            without = effect_size(association(px, pa, pb), association(py, pa, pb), ddof)
            rows.append({"role": role, "set": name, "word": word, "d_without": without, "delta": without - d})
    return pd.DataFrame(rows, columns=["role", "set", "word", "d_without", "delta"])
