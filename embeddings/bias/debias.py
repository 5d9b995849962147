"""Hard debiasing (Bolukbasi et al. 2016) and what it leaves: DirectBias along a recomputed
direction and Gonen & Goldberg's (2019) clustering check."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from embeddings.store.workspace import Workspace

from ..errors import InputError
from ..space import EmbeddingSpace
from .axis import BiasAxis, bias_axis, direct_bias, project_words
from .lookup import uses_seat
from .wordsets import bolukbasi_gender, gender_specific, neutral_professions


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


class HardDebias:
    """Hard debiasing (Bolukbasi et al. 2016) in scikit-learn's shape: :meth:`fit` finds the
    gender direction ``direction_`` (PCA of the definitional pairs, or one pair's
    difference) in a space; :meth:`transform` removes it from every word outside the
    gender-specific list (neutralise), makes each equalise pair symmetric about the
    neutral subspace (equalise), and returns an unsaved derived space whose provenance
    records the parent and the direction (to measure the child along the same axis).

    Defaults are the published lists in ``data/wordsets/bolukbasi2016_gender.json``,
    with the full learned gender-specific list.
    """

    def __init__(self, *, definitional: Sequence[tuple[str, str]] | None = None,
                 equalize: Sequence[Sequence[str]] | None = None, specific: Iterable[str] | None = None):
        g_data = bolukbasi_gender()
        self.definitional = [tuple(p) for p in (definitional or g_data["definitional_pairs"])]
        self.equalize = [tuple(p) for p in (equalize or g_data["equalize_pairs"])]
        self.specific = list(specific if specific is not None else gender_specific())

    def fit(self, space: EmbeddingSpace) -> HardDebias:
        self.axis_ = bias_axis(space, self.definitional, method="pca" if len(self.definitional) > 1 else "pair")
        self.direction_ = self.axis_.direction
        return self

    def transform(self, space: EmbeddingSpace, name: str) -> EmbeddingSpace:
        g = self.direction_
        keys = {space.key(w) for w in self.specific}
        vectors = np.array(space.vectors, dtype=np.float64)
        keep = np.array([label in keys for label in space.labels])
        neutral = ~keep
        vectors[neutral] -= np.outer(vectors[neutral] @ g, g)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        vectors /= norms
        equalised = self._equalise(space, vectors, g)
        return space.derive(name, vectors, how="hard-debias", debias={
            "method": "hard (Bolukbasi et al. 2016)", "definitional_pairs": [list(p) for p in self.axis_.pairs],
            "explained_variance": self.axis_.explained_variance[:3], "neutralised": int(neutral.sum()),
            "kept_specific": int(keep.sum()), "equalised_pairs": equalised, "direction": [float(v) for v in g]})

    def _equalise(self, space: EmbeddingSpace, vectors: np.ndarray, g: np.ndarray) -> list[list[str]]:
        """Each equalise pair the space has (case variants in a cased space) made symmetric
        about the neutral subspace, in place; returns the pairs equalised."""
        equalised = []
        idx = space.index
        candidates = _case_variants(self.equalize) if space.cased else list(dict.fromkeys(
            (a.lower(), b.lower()) for a, b in self.equalize))
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
        return equalised


def hard_debias(space: EmbeddingSpace, name: str, *, definitional: Sequence[tuple[str, str]] | None = None,
                equalize: Sequence[Sequence[str]] | None = None, specific: Iterable[str] | None = None
                ) -> EmbeddingSpace:
    """:class:`HardDebias` fitted on ``space`` and applied to it: the debiased child, unsaved."""
    return HardDebias(definitional=definitional, equalize=equalize, specific=specific).fit(space).transform(space, name)


def debias_space(ws: Workspace, source: str, name: str, **kwargs) -> EmbeddingSpace:
    """Hard-debias a saved space into a new derived space in the workspace."""
    from embeddings.store.space_store import load_space, save_space

    name = ws.check_new_name("space", name)
    parent = load_space(ws, source)
    if uses_seat(parent) and parent.provenance.get("unit", "term") != "term":
        raise InputError(f"{parent.name} holds sentences or documents; hard debiasing works on word spaces.")
    return save_space(ws, hard_debias(parent, name, **kwargs), name)


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
