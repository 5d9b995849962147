"""The Python API for notebooks: continue in Python what the app shows.

::

    from embeddings import Workspace, compare, benchmark
    ws = Workspace.open("workspace")
    ws.space("glove-50d").neighbours("river", k=5)

Everything here is a thin layer over the core the pages and the CLI use, with the same
defaults (the options of :mod:`embeddings.options`), and every result is a plain value or a
pandas frame. ``docs/notebook.md`` is the guide; its code runs as a test.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from embeddings.analysis import neighbours as _nb
from embeddings.analysis.neighbours import CompareParams, Comparison, NeighbourParams
from embeddings.evaluate.benchmark import Benchmark, cached_benchmark
from embeddings.evaluate.classify import BenchmarkParams
from embeddings.layout.projection import SEED, Method, Projection, ProjectionParams, cached_project, select_rows
from embeddings.options import check
from embeddings.space import EmbeddingSpace
from embeddings.store import workspace as _store
from embeddings.store.space_store import list_spaces, load_space
from embeddings.text.corpus import Corpus, get_corpus, list_corpora

_N, _C, _P, _B = NeighbourParams(), CompareParams(), ProjectionParams(), BenchmarkParams()


class Space:
    """A saved space: its :class:`~embeddings.space.EmbeddingSpace` (``.value``) and what the
    app computes on it."""

    def __init__(self, ws: Workspace, value: EmbeddingSpace):
        self.workspace, self.value = ws, value

    def __repr__(self) -> str:
        return f"Space({self.value.name!r}: {len(self.value):,} labels x {self.value.dim})"

    def __len__(self) -> int:
        return len(self.value)

    @property
    def name(self) -> str:
        return self.value.name

    @property
    def labels(self) -> list[str]:
        return self.value.labels

    @property
    def vectors(self) -> np.ndarray:
        """Unit-length float32 rows, read-only, in label order."""
        return self.value.vectors

    @property
    def provenance(self) -> dict:
        return dict(self.value.provenance)

    def neighbours(self, query: str, k: int = _N.k, *, include_query: bool = False) -> pd.DataFrame:
        """The ``k`` nearest labels to a term or an expression (``"king - man + woman"``),
        by cosine: columns ``label``, ``cosine``."""
        check(NeighbourParams(k=k))
        found = _nb.neighbours(self.value, query, k, exclude_query=not include_query)
        return pd.DataFrame({"label": [n.label for n in found], "cosine": [n.cosine for n in found]})

    def project(self, method: Method = "umap", *, points: int = _P.points, seed: int | None = SEED,
                **params) -> Projection:
        """A 2-D layout of the ``points`` most frequent labels, cached in the workspace and shared
        with the page and the CLI: ``.frame()`` (label, x, y, neighbours) and ``.summary()`` (the
        trust scores). ``params``: the method's settings (``n_neighbors``, ``min_dist``, ``perplexity``)."""
        check(ProjectionParams(points=points, **params))
        rows = select_rows(self.value, top=points)
        return cached_project(self.workspace, self.value, rows, method, params=params or None, seed=seed)


class Workspace(_store.Workspace):
    """A workspace folder, as the app and the CLI use it (``make run`` serves ``./workspace``)."""

    @classmethod
    def open(cls, path: str | Path = "workspace") -> Workspace:
        """An existing workspace (:class:`FileNotFoundError` if the folder has no catalogue)."""
        if not (Path(path) / _store.CATALOGUE).is_file():
            raise FileNotFoundError(f"No workspace at {path}: start the app there once, or run "
                                    f"`python -m embeddings --workspace {path} seed`.")
        return cls(path)

    def space(self, name: str) -> Space:
        return Space(self, load_space(self, name))

    def spaces(self) -> list[str]:
        return [a.name for a in list_spaces(self)]

    def corpus(self, name: str) -> Corpus:
        return get_corpus(self, name)

    def corpora(self) -> list[str]:
        return [c.name for c in list_corpora(self)]


def _value(space: Space | EmbeddingSpace) -> EmbeddingSpace:
    return space.value if isinstance(space, Space) else space


def compare(a: Space | EmbeddingSpace, b: Space | EmbeddingSpace, k: int = _C.k, *,
            max_labels: int = _C.max_labels) -> Comparison:
    """How each shared label's neighbourhood changes from ``a`` to ``b`` (Jaccard@k, as on the
    Compare page): ``.summary()``, ``.table``, ``.most_changed(n)``."""
    check(CompareParams(k=k, max_labels=max_labels))
    return _nb.compare(_value(a), _value(b), k, max_labels=max_labels)


def benchmark(ws: Workspace, corpus: str, label: str, spaces: Sequence[str], *, folds: int = _B.folds,
              repeats: int = _B.repeats, seed: int = _B.seed, tfidf: bool = False) -> Benchmark:
    """The Choose page's benchmark of document ``spaces`` on ``corpus``'s ``label`` column
    (cached in the workspace): ``.leaderboard()``, ``.pairs`` (paired differences with their
    intervals and verdicts), ``.summary()``."""
    check(BenchmarkParams(folds=folds, repeats=repeats, seed=seed))
    loaded = [load_space(ws, s) for s in spaces]
    return cached_benchmark(ws, get_corpus(ws, corpus), label, loaded, folds=folds, repeats=repeats, seed=seed,
                            tfidf=tfidf)[0]
