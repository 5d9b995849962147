"""Which embedding for my task? The task benchmarks run on a workspace corpus's labels.

:func:`benchmark` takes a corpus, a label column (a ``meta.<column>`` of its documents)
and the document spaces made from that corpus, runs the tasks of :mod:`embeddings.tasks`
on each, compares every pair, and puts the cost of each space beside its quality. The
sparse TF-IDF baseline can join without being saved (``tfidf=True``).

A space takes part only if it holds one vector per document of this corpus: its
metadata says which document (``doc``) each row is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .corpus import Corpus
from .errors import InputError
from .progress import Progress, no_progress
from .space import EmbeddingSpace
from .tasks import FOLDS, MAIN_METRIC, TASKS, Difference, Labels, TaskScore, compare, labels_from, pareto, run_task

#: the name the unsaved sparse TF-IDF baseline takes in a benchmark
TFIDF_SPARSE = "tfidf (sparse)"


def label_columns(corpus: Corpus) -> list[str]:
    """The corpus's metadata columns that could be labels: 2 to 200 distinct values,
    each repeated (an id or free text is not a label)."""
    docs = corpus.documents()
    out = []
    for column in docs.columns:
        if column.startswith("meta."):
            values = docs[column].dropna().astype(str)
            distinct = values.nunique()
            if 2 <= distinct <= 200 and distinct < len(values) / 2:
                out.append(column.removeprefix("meta."))
    return out


def document_rows(space: EmbeddingSpace, corpus: Corpus) -> np.ndarray:
    """For each document of ``corpus``, its row in ``space``; refuses a space that is not
    one vector per document of this corpus."""
    if space.provenance.get("unit") != "document" or "doc" not in space.meta:
        raise InputError(f"{space.name} is not a document space (it holds {space.provenance.get('unit', 'term')}s"
                         "); make one with pooling, TF-IDF or a sentence encoder on this corpus.")
    if space.provenance.get("corpus_id") not in (None, corpus.id) and space.provenance.get("corpus") != corpus.name:
        raise InputError(f"{space.name} was made from another corpus ({space.provenance.get('corpus')}).")
    n = int(corpus.stats["documents"])
    doc = space.meta["doc"].to_numpy().astype(np.int64)
    rows = np.full(n, -1, dtype=np.int64)
    inside = (doc >= 0) & (doc < n)
    rows[doc[inside]] = np.flatnonzero(inside)
    if (rows < 0).any():
        raise InputError(f"{space.name} holds {int((rows >= 0).sum()):,} of the {n:,} documents of {corpus.name}; "
                         "the benchmark needs all of them (make it again without a limit).")
    return rows


@dataclass
class Cost:
    """What a space costs, as measured when it was made (``docs_per_second``) or as stored."""

    space: str
    dim: int
    bytes_per_vector: float
    docs_per_second: float | None
    seconds: float | None           #: time to train or make it, where we made it

    def row(self) -> dict:
        return {"space": self.space, "dim": self.dim, "bytes_per_vector": self.bytes_per_vector,
                "docs_per_second": self.docs_per_second, "seconds": self.seconds}


def cost_of(space: EmbeddingSpace) -> Cost:
    p = space.provenance
    rate = p.get("texts_per_second")
    return Cost(space.name, space.dim, float(space.vectors.dtype.itemsize * space.dim),
                float(rate) if rate else None, p.get("seconds"))


@dataclass
class Benchmark:
    """A benchmark's results: scores per (space, task, metric), paired differences, costs."""

    corpus: str
    label: str
    labels: Labels
    scores: list[TaskScore]
    pairs: list[Difference]
    costs: list[Cost]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def pareto(self, task: str) -> list[str]:
        """The spaces on the quality–throughput frontier for ``task`` (those with a throughput)."""
        main = MAIN_METRIC[task]
        quality = {s.space: s.score for s in self.scores if s.task == task and s.metric == main}
        speed = {c.space: c.docs_per_second for c in self.costs if c.docs_per_second}
        return pareto({n: (q, speed[n]) for n, q in quality.items() if n in speed})

    def failing(self, threshold: float) -> list[TaskScore]:
        """The (space, task) main scores under ``threshold``: what ``--fail-below`` refuses."""
        return [s for s in self.scores if s.metric == MAIN_METRIC[s.task] and s.score < threshold]

    def to_dict(self) -> dict:
        tasks = sorted({s.task for s in self.scores}, key=TASKS.index)
        return {"corpus": self.corpus, "label": self.label, "documents": int(len(self.labels.y)),
                "total_documents": self.labels.total, "classes": len(self.labels.classes),
                "dropped_classes": self.labels.dropped,
                "results": [{k: v for k, v in s.row().items() if k != "over"} for s in self.scores],
                "pairs": [d.row() for d in self.pairs],
                "cost": [c.row() for c in self.costs],
                "pareto": self.pareto(tasks[0]) if tasks else [], "pareto_task": tasks[0] if tasks else None,
                "pareto_by_task": {t: self.pareto(t) for t in tasks}, "seconds": round(self.seconds, 3),
                "notes": self.notes}


def benchmark(corpus: Corpus, label: str, spaces: list[EmbeddingSpace], *, tasks: tuple[str, ...] = TASKS,
              folds: int = FOLDS, seed: int = 0, tfidf: bool = False, progress: Progress = no_progress
              ) -> Benchmark:
    """Run ``tasks`` for every space (and the sparse TF-IDF baseline if ``tfidf``)."""
    from .docspaces import tfidf_matrix

    start = time.perf_counter()
    docs = corpus.documents()
    column = f"meta.{label}"
    if column not in docs:
        found = label_columns(corpus)
        raise InputError(f"{corpus.name} has no column {label!r}; "
                         + (f"its label-like columns are: {', '.join(found)}." if found else
                            "it has no label column. Add the corpus from a CSV or JSONL file whose other "
                            "columns are kept as metadata, one of them holding each document's label."))
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise InputError(f"Unknown task {unknown[0]!r}; expected one of {', '.join(TASKS)}.")
    labels = labels_from(docs[column], folds)
    candidates: list[tuple[str, object]] = [(s.name, lambda s=s: np.asarray(s.vectors)[document_rows(s, corpus)])
                                            for s in spaces]
    if tfidf:
        candidates.append((TFIDF_SPARSE, lambda: tfidf_matrix(corpus, "word", docs=docs)[0].tocsr()))
    if not candidates:
        raise InputError("Choose at least one space to benchmark.")
    scores: list[TaskScore] = []
    costs = [cost_of(s) for s in spaces]
    steps = len(candidates) * len(tasks)
    for i, (name, matrix) in enumerate(candidates):
        made = time.perf_counter()
        X = matrix()[labels.rows]
        if name == TFIDF_SPARSE:
            rate = len(docs) / max(time.perf_counter() - made, 1e-9)
            costs.append(Cost(name, X.shape[1], float(X.nnz / X.shape[0] * 12), round(rate, 1), None))
        for j, task in enumerate(tasks):
            progress((i * len(tasks) + j) / steps, f"{task} on {name}")
            scores.extend(run_task(name, X, labels, task, folds=folds, seed=seed))
    progress(1.0, "Comparing")
    notes = []
    if labels.dropped:
        notes.append(f"Left out {len(labels.dropped)} class(es) with fewer than {folds} documents: "
                     + ", ".join(f"{k} ({v})" for k, v in labels.dropped.items()))
    return Benchmark(corpus.name, label, labels, scores, compare(scores, seed=seed), costs,
                     time.perf_counter() - start, notes)
