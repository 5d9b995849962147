"""EmbeddingSpace: the one value every feature consumes.

A space is a named set of labelled vectors:

- ``labels``: the terms, sentences or documents, unique, in a fixed order;
- ``vectors``: float32, L2-normalised rows, read-only;
- ``meta``: per-label columns, ``frequency`` at least (a pandas frame, label order), and
  ``norm``, each label's original vector norm, for spaces made from raw vectors (trained,
  imported, GloVe): the norm carries frequency and salience, and some measures (RIPA, RND)
  are defined on the raw vectors (:attr:`EmbeddingSpace.norms`, :meth:`raw`);
- ``provenance``: what made it (family, parameters, corpus id and hash, seed, timing,
  parent for derived spaces).

``embed(texts)`` gives vectors for labels outside the space where the family can make
them (FastText through subwords, sentence encoders); otherwise it raises
:class:`OOVError`.

A space is a pure value: saving, loading and attaching a family's embedder live in
:mod:`embeddings.store.space_store`.

>>> import numpy as np
>>> s = EmbeddingSpace.from_arrays("toy", ["cat", "dog"], np.array([[3.0, 4.0], [1.0, 0.0]]))
>>> s.vector("cat")
array([0.6, 0.8], dtype=float32)
>>> s.vectors.flags.writeable
False
>>> "bird" in s, s.cased
(False, False)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypedDict, get_args

import numpy as np
import pandas as pd

from .errors import EmbeddingsError, InputError

#: what a space's labels are
Unit = Literal["term", "sentence", "document"]
UNITS: tuple[Unit, ...] = get_args(Unit)
#: what made a space's vectors
Family = Literal["word2vec", "fasttext", "ppmi-svd", "glove", "imported", "sentence-transformer", "model2vec",
                 "pooled", "tfidf", "endpoint"]


class Provenance(TypedDict, total=False):
    """What made a space, saved as its ``provenance.json``. Every key is optional: a space
    built in Python may carry none, and older workspaces lack the newer keys."""

    family: Family
    unit: Unit
    model: str                  #: the model's name, or its folder
    model_path: str
    library: str                #: the library and version that trained it
    params: dict[str, Any]      #: the family's settings (TrainParams, the encoder's batch size...)
    seed: int
    corpus: str                 #: the corpus it was trained on or encodes, by name
    corpus_id: str
    corpus_sha256: str | None
    engine: Literal["local", "ray"]
    ray: dict[str, Any]
    seconds: float              #: the build's wall time
    words_per_second: int
    texts_per_second: float
    model_bytes: int
    created_at: str             #: UTC, ISO 8601
    derived: str                #: how a derived space was made ("pca", "debias", "pooled"...)
    parent: str                 #: the parent space's id
    parent_name: str
    finetune: dict[str, Any]    #: a fine-tuned encoder's run record
    debias: dict[str, Any]
    pooling: str
    source: str
    warnings: list[str]         #: what the user should know about its numbers


def nonfinite_rows(vectors: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Indices of the rows holding a NaN or an infinity (checked block by block)."""
    hits = [start + np.flatnonzero(~np.isfinite(vectors[start:start + chunk]).all(axis=1))
            for start in range(0, len(vectors), chunk)]
    return np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64)


def zero_rows(vectors: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Indices of the all-zero rows: they have no direction, so every cosine with them is 0."""
    hits = [start + np.flatnonzero(~vectors[start:start + chunk].any(axis=1))
            for start in range(0, len(vectors), chunk)]
    return np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64)


class OOVError(EmbeddingsError):
    """Labels that are not in a space that cannot embed new ones."""

    def __init__(self, space: str, missing: Sequence[str], suggestions: dict[str, list[str]] | None = None):
        self.missing = list(missing)
        self.suggestions = suggestions or {}
        shown = ", ".join(repr(m) for m in self.missing[:5]) + (" ..." if len(self.missing) > 5 else "")
        hint = ""
        first = self.suggestions.get(self.missing[0]) if self.missing else None
        if first:
            hint = f" Did you mean: {', '.join(first)}?"
        super().__init__(f"Not in the vocabulary of {space}: {shown}.{hint}")


#: the meta column holding each label's original (pre-normalisation) vector norm
NORM = "norm"


def row_norms(vectors: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """The L2 norm of each row, float32, in chunks (bounded extra memory)."""
    out = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), chunk):
        out[start:start + chunk] = np.linalg.norm(np.asarray(vectors[start:start + chunk], dtype=np.float32), axis=1)
    return out


def normalise(vectors: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """L2-normalise rows into a new float32 array, in chunks (bounded extra memory).
    Zero rows stay zero."""
    out = np.empty(vectors.shape, dtype=np.float32)
    for start in range(0, len(vectors), chunk):
        block = np.asarray(vectors[start:start + chunk], dtype=np.float32)
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        np.divide(block, norms, out=out[start:start + chunk])
    return out


@dataclass(eq=False)
class EmbeddingSpace:
    """Labelled, L2-normalised, read-only vectors with provenance. See the module docs."""

    name: str
    labels: list[str]
    vectors: np.ndarray
    meta: pd.DataFrame
    provenance: Provenance = field(default_factory=dict)
    id: str | None = None
    #: family-specific maker of vectors for unseen texts; set by the loaders
    embedder: Callable[[list[str]], np.ndarray] | None = field(default=None, repr=False)
    #: an approximate neighbour index over the rows (large saved spaces; see :mod:`embeddings.analysis.ann`)
    ann: object | None = field(default=None, repr=False)

    def __post_init__(self):
        if len(self.labels) != len(self.vectors):
            raise ValueError(f"{len(self.labels)} labels but {len(self.vectors)} vectors")
        if self.vectors.ndim != 2:
            raise ValueError("vectors must be a 2-D array")
        self.vectors.flags.writeable = False

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_arrays(cls, name: str, labels: Sequence[str], vectors: np.ndarray, *,
                    frequency: Sequence[float] | None = None, meta: pd.DataFrame | None = None,
                    provenance: dict | None = None, normalised: bool = False, keep_norms: bool = False,
                    embedder: Callable[[list[str]], np.ndarray] | None = None) -> "EmbeddingSpace":
        """Build a space from raw vectors (normalised here unless ``normalised``).
        ``keep_norms`` stores each row's original norm in ``meta["norm"]``: spaces made from
        raw vectors (trained, imported, GloVe) keep them; already-normalised vectors must
        bring the column in ``meta``."""
        labels = [str(x) for x in labels]
        if len(set(labels)) != len(labels):
            seen: set[str] = set()
            dup = next(x for x in labels if x in seen or seen.add(x))
            raise InputError(f"The labels of a space must be unique; {dup!r} appears more than once.")
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[1] == 0:
            raise InputError("Vectors must have at least one dimension.")
        bad = nonfinite_rows(vectors)
        if len(bad):
            raise InputError(f"{len(bad):,} vectors contain NaN or infinite values, the first at row {bad[0] + 1:,} "
                             f"({labels[bad[0]]!r}).")
        frame = meta.reset_index(drop=True).copy() if meta is not None else pd.DataFrame(index=range(len(labels)))
        if keep_norms and not normalised:
            frame[NORM] = row_norms(vectors)
        elif keep_norms and NORM not in frame:
            raise ValueError("normalised vectors keep their norms only through meta['norm']")
        vectors = vectors.astype(np.float32, copy=False) if normalised else normalise(vectors)
        if frequency is not None:
            frame["frequency"] = np.asarray(frequency)
        elif "frequency" not in frame:
            frame["frequency"] = np.zeros(len(labels), dtype=np.int64)
        return cls(name, labels, vectors, frame, dict(provenance or {}), embedder=embedder)

    # -- lookups --------------------------------------------------------------------
    #: what a child does not inherit from its parent's record: they describe the parent's own making
    NOT_INHERITED = ("seconds", "words_per_second", "created_at")

    def derive(self, name: str, vectors: np.ndarray, *, how: str, **record) -> EmbeddingSpace:
        """A child space over the same labels and metadata: new ``vectors``, a provenance that
        keeps the parent's (family, corpus, parameters) and says ``derived=how``, ``parent``,
        ``parent_name``, plus ``record``. The one way PCA reduction and hard debiasing make
        a space (unsaved; see :func:`embeddings.store.space_store.save_space`)."""
        provenance = {**{k: v for k, v in self.provenance.items() if k not in self.NOT_INHERITED},
                      "family": self.family, "derived": how, "parent": self.id, "parent_name": self.name, **record}
        # the parent's norms do not describe the child's vectors (a PCA reduction, a debiased space)
        return EmbeddingSpace.from_arrays(name, self.labels, vectors, meta=self.meta.drop(columns=NORM, errors="ignore"),
                                          provenance=provenance)

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: object) -> bool:
        return label in self.index

    def __repr__(self) -> str:
        return f"EmbeddingSpace({self.name!r}, {len(self):,} × {self.dim}, family={self.family!r})"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def family(self) -> str:
        return self.provenance.get("family", "unknown")

    @cached_property
    def index(self) -> dict[str, int]:
        """label -> row."""
        return {label: i for i, label in enumerate(self.labels)}

    @cached_property
    def cased(self) -> bool:
        """True when some label has an upper-case letter (an all-lowercase space is uncased)."""
        return any(label != label.lower() for label in self.labels)

    def key(self, term: str) -> str:
        """The label to look ``term`` up under: lowercase in an uncased space, as given in a cased one."""
        return term if self.cased else term.lower()

    @property
    def can_embed(self) -> bool:
        return self.embedder is not None

    @property
    def frequency(self) -> np.ndarray:
        return self.meta["frequency"].to_numpy()

    @property
    def norms(self) -> np.ndarray | None:
        """Each label's original vector norm, or None for a space saved without them
        (made before norms were kept, or from vectors that were never raw: sentence encoders,
        derived spaces)."""
        return self.meta[NORM].to_numpy(dtype=np.float64) if NORM in self.meta else None

    def raw(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """The original (unnormalised) vectors of ``rows``, float64: unit vector × norm.
        Raises when the space kept no norms."""
        norms = self.norms
        if norms is None:
            raise InputError(f"{self.name} was saved without its vectors' norms, so its raw vectors are unknown.")
        rows = np.asarray(rows, dtype=np.intp)
        return np.asarray(self.vectors[rows], dtype=np.float64) * norms[rows, None]

    def vector(self, label: str) -> np.ndarray:
        """The (normalised) vector of one label, embedding it if the family can."""
        return self.lookup([label])[0]

    def lookup(self, labels: Iterable[str]) -> np.ndarray:
        """Vectors for labels: rows of the space, or embedded where the family can.
        Raises :class:`OOVError` listing what is missing otherwise."""
        labels = list(labels)
        rows = [self.index.get(x) for x in labels]
        missing = [x for x, r in zip(labels, rows) if r is None]
        if not missing:
            return self.vectors[rows]
        extra = self.embed(missing)
        out = np.empty((len(labels), self.dim), dtype=np.float32)
        it = iter(extra)
        for i, r in enumerate(rows):
            out[i] = self.vectors[r] if r is not None else next(it)
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised vectors for texts, whether or not they are labels of the space."""
        texts = list(texts)
        if self.embedder is None:
            missing = [t for t in texts if t not in self.index]
            if missing:
                raise OOVError(self.name, missing, {m: self.suggest(m) for m in missing[:1]})
            return self.vectors[[self.index[t] for t in texts]]
        return normalise(np.asarray(self.embedder(texts)))

    def suggest(self, word: str, n: int = 3) -> list[str]:
        """Close spellings from the vocabulary (difflib over the most frequent labels)."""
        import difflib

        pool = self.labels[:50_000]
        return difflib.get_close_matches(self.key(word), pool, n=n, cutoff=0.75)
