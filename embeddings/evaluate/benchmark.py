"""Which embedding for my task? The task benchmarks run on a workspace corpus's labels.

:func:`benchmark` takes a corpus, a label column (a ``meta.<column>`` of its documents)
and the document spaces made from that corpus, runs the tasks of :mod:`embeddings.evaluate.tasks`
on each, compares every pair, and puts the cost of each space beside its quality. The
sparse TF-IDF baseline can join without being saved (``tfidf=True``).

A space takes part only if it holds one vector per document of this corpus: its
metadata says which document (``doc``) each row is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from embeddings.display import times
from embeddings.errors import InputError
from embeddings.evaluate.classify import (
    C_GRID,
    FOLDS,
    INNER_FOLDS,
    PROTOCOL,
    PROTOCOLS,
    REPEATS,
    TUNED_TOL,
    at_edge,
    check_folds,
    few_shot,
)
from embeddings.evaluate.splits import held_out_mask
from embeddings.evaluate.tasks import (
    MAIN_METRIC,
    TASKS,
    Difference,
    Labels,
    TaskScore,
    compare,
    labels_from,
    pareto,
    ranking_changes,
    run_task,
)
from embeddings.models.docspaces import document_rows
from embeddings.progress import Progress, no_progress
from embeddings.space import EmbeddingSpace
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import Corpus

#: the name the unsaved sparse TF-IDF baseline takes in a benchmark
TFIDF_SPARSE = "tfidf (sparse)"


@dataclass
class Cost:
    """What a space costs, as measured when it was made (``docs_per_second``) or as stored."""

    space: str
    dim: int
    bytes_per_vector: float
    docs_per_second: float | None
    seconds: float | None           #: time to train or make it, where we made it
    model_bytes: int | None = None  #: what embedding a new document needs on disk (model, word vectors, SVD)
    usd_per_million_tokens: float | None = None   #: an endpoint's price, as the user typed it
    host: str | None = None         #: an endpoint's host: where the texts went

    def row(self) -> dict:
        return {"space": self.space, "dim": self.dim, "bytes_per_vector": self.bytes_per_vector,
                "docs_per_second": self.docs_per_second, "seconds": self.seconds, "model_bytes": self.model_bytes,
                "usd_per_million_tokens": self.usd_per_million_tokens, "host": self.host}


def cost_of(space: EmbeddingSpace) -> Cost:
    p = space.provenance
    rate = p.get("texts_per_second")
    endpoint = p.get("endpoint") or {}
    return Cost(space.name, space.dim, float(space.vectors.dtype.itemsize * space.dim),
                float(rate) if rate else None, p.get("seconds"), p.get("model_bytes"),
                endpoint.get("price_per_million"), endpoint.get("host"))


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
    #: the few-shot curve (classification): rows space, shots, score, std
    few_shot: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["space", "shots", "score", "std"]))
    #: how classification's C was set (:data:`embeddings.evaluate.tasks.PROTOCOLS`) and the k-fold's repeats
    protocol: str = PROTOCOL
    repeats: int = REPEATS

    def ranking_changes(self) -> list[dict]:
        """Pairs whose classification order differs between the two protocols, each with the
        paired test's verdict under this protocol (a flip within error is no verdict)."""
        verdicts = {frozenset((d.a, d.b)): d.verdict for d in self.pairs if d.task == "classification"}
        return [{**c, "verdict": verdicts.get(frozenset((c["a"], c["b"])), "not compared")}
                for c in ranking_changes(self.scores, self.protocol)]

    def classification_readings(self) -> pd.DataFrame:
        """One row per space: macro-F1 under this protocol, the other's, the kNN classifier's,
        and the C used on each fold."""
        rows: dict[str, dict] = {}
        for s in self.scores:
            if s.task == "classification" and s.metric != "accuracy":
                row = rows.setdefault(s.space, {"space": s.space})
                row[s.metric] = s.score
                if s.chosen_c is not None:
                    row["C per fold"] = ", ".join(f"{c:g}" for c in s.chosen_c)
                    row["C at the grid's edge"] = at_edge(s.chosen_c)
        table = pd.DataFrame(list(rows.values()))
        last = ["C per fold", "C at the grid's edge"]
        return table[[c for c in table.columns if c not in last] + [c for c in last if c in table]] if len(table) \
            else table

    def pareto(self, task: str) -> list[str]:
        """The spaces on the quality–throughput frontier for ``task`` (those with a throughput)."""
        main = MAIN_METRIC[task]
        quality = {s.space: s.score for s in self.scores if s.task == task and s.metric == main}
        speed = {c.space: c.docs_per_second for c in self.costs if c.docs_per_second}
        return pareto({n: (q, speed[n]) for n, q in quality.items() if n in speed})

    def main_scores(self, task: str) -> dict[str, TaskScore]:
        return {s.space: s for s in self.scores if s.task == task and s.metric == MAIN_METRIC[task]}

    def points(self, task: str) -> pd.DataFrame:
        """One row per space for the quality–cost chart: score, std, n, throughput, on the front."""
        scores = self.main_scores(task)
        speed = {c.space: c.docs_per_second for c in self.costs}
        front = set(self.pareto(task))
        return pd.DataFrame([{"space": n, "score": s.score, "std": s.std, "n": s.n,
                              "docs_per_second": speed.get(n), "front": n in front} for n, s in scores.items()])

    def leaderboard(self, text: bool = False) -> pd.DataFrame:
        """Space × task: the main metric's mean and std (as ``0.726 ± 0.014`` when ``text``),
        the documents it rests on, and the cost."""
        rows = {}
        for s in self.scores:
            if s.metric != MAIN_METRIC[s.task]:
                continue
            row = rows.setdefault(s.space, {"space": s.space})
            if text:
                row[f"{s.task} ({s.metric})"] = f"{s.score:.3f} ± {s.std:.3f}"
            else:
                row[f"{s.task} ({s.metric})"] = s.score
                row[f"{s.task} std"] = s.std
            row["n"] = f"{s.n:,} of {s.total:,}"
        cost = {c.space: c for c in self.costs}
        for name, row in rows.items():
            c = cost.get(name)
            row["dim"] = c.dim if c else None
            row["docs/s"] = c.docs_per_second if c else None
            row["model MB"] = round(c.model_bytes / 1e6, 1) if c and c.model_bytes else np.nan
            if any(x.host for x in self.costs):          # an endpoint among them: its price and where texts went
                row["USD per M tokens"] = c.usd_per_million_tokens if c and c.usd_per_million_tokens is not None \
                    else np.nan
                row["host"] = c.host if c and c.host else "this machine"
        return pd.DataFrame(list(rows.values()))

    def reading(self, task: str) -> str:
        """The chart in one line: the best space, and what a faster one costs or saves."""
        scores = self.main_scores(task)
        if not scores:
            return ""
        metric = MAIN_METRIC[task]
        best = max(scores.values(), key=lambda s: s.score)
        speed = {c.space: c.docs_per_second for c in self.costs if c.docs_per_second}
        if len(scores) == 1:
            return f"{best.space} scores {metric} {best.score:.3f} ± {best.std:.3f} on {task}; add spaces to compare."
        line = f"{best.space} is best on {task} ({metric} {best.score:.3f} ± {best.std:.3f})"
        faster = sorted((n for n in scores if n in speed and best.space in speed and speed[n] > speed[best.space]),
                        key=lambda n: -scores[n].score)
        if not faster:
            return line + (" and the fastest measured." if best.space in speed else ".")
        other = faster[0]
        ratio = speed[other] / speed[best.space]
        pair = next((d for d in self.pairs if d.task == task and {d.a, d.b} == {best.space, other}), None)
        if pair is not None and pair.low <= 0 <= pair.high:
            return f"{other} is within error of {best.space} on {task} and {times(ratio)} faster."
        gap = best.score - scores[other].score
        return line + f"; {other} is {times(ratio)} faster but {gap:.3f} lower, a real difference."

    def failing(self, threshold: float) -> list[TaskScore]:
        """The (space, task) main scores under ``threshold``: what ``--fail-below`` refuses."""
        return [s for s in self.scores if s.metric == MAIN_METRIC[s.task] and s.score < threshold]

    def to_record(self) -> dict:
        """Everything, per-fold values included, as JSON-able data (see :meth:`from_record`)."""
        return {"corpus": self.corpus, "label": self.label, "seconds": self.seconds, "notes": self.notes,
                "labels": {"rows": self.labels.rows.tolist(), "y": self.labels.y.tolist(),
                           "total": self.labels.total, "dropped": self.labels.dropped},
                "protocol": self.protocol, "repeats": self.repeats,
                "scores": [{**{k: getattr(s, k) for k in ("space", "task", "metric", "unit", "n", "total")},
                            "values": s.values.tolist(), "split": list(s.split) if s.split else None,
                            "chosen_c": None if s.chosen_c is None else s.chosen_c.tolist()}
                           for s in self.scores],
                "pairs": [{k: getattr(d, k) for k in d.__dataclass_fields__} for d in self.pairs],
                "costs": [c.row() for c in self.costs], "few_shot": self.few_shot.to_dict("records")}

    @classmethod
    def from_record(cls, r: dict) -> "Benchmark":
        lab = r["labels"]
        labels = Labels(np.asarray(lab["rows"], dtype=np.int64), np.asarray(lab["y"], dtype=str), lab["total"],
                        lab["dropped"])
        scores = [TaskScore(s["space"], s["task"], s["metric"], np.asarray(s["values"]), s["unit"], s["n"],
                            s["total"], tuple(s["split"]) if s["split"] else None,
                            None if s.get("chosen_c") is None else np.asarray(s["chosen_c"])) for s in r["scores"]]
        return cls(r["corpus"], r["label"], labels, scores, [Difference(**d) for d in r["pairs"]],
                   [Cost(**c) for c in r["costs"]], r["seconds"], r["notes"],
                   pd.DataFrame(r.get("few_shot", []), columns=["space", "shots", "score", "std"]),
                   r.get("protocol", "mteb"), r.get("repeats", 1))

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
                "few_shot": self.few_shot.to_dict("records"),
                "protocol": self.protocol, "protocol_text": PROTOCOLS[self.protocol], "repeats": self.repeats,
                "ranking_changes": self.ranking_changes(),
                "notes": self.notes}


def benchmark(corpus: Corpus, label: str, spaces: list[EmbeddingSpace], *, tasks: tuple[str, ...] = TASKS,
              folds: int = FOLDS, seed: int = 0, tfidf: bool = False, few_shots: bool = False,
              protocol: str = PROTOCOL, repeats: int = REPEATS, progress: Progress = no_progress) -> Benchmark:
    """Run ``tasks`` for every space (and the sparse TF-IDF baseline if ``tfidf``); with
    classification and ``few_shots``, the few-shot curve too (it fits 40 more classifiers
    per space, so it is asked for). ``protocol`` and ``repeats``: see
    :func:`embeddings.evaluate.tasks.classification`."""
    from embeddings.models.docspaces import sparse_tfidf

    start = time.perf_counter()
    docs = corpus.documents()
    values = corpus.labels(label, docs)
    check_folds(folds, repeats)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise InputError(f"Unknown task {unknown[0]!r}; expected one of {', '.join(TASKS)}.")
    within, customised = held_out_mask(spaces, lambda s: document_rows(s, corpus))
    labels = labels_from(values, folds, within)
    candidates: list[tuple[str, object]] = [(s.name, lambda s=s: np.asarray(s.vectors)[document_rows(s, corpus)])
                                            for s in spaces]
    sparse_model: list = []   # the vectorizer, once made: its idf weights and vocabulary are the model

    def sparse_space():
        matrix, vectorizer = sparse_tfidf(corpus, docs)
        sparse_model.append(vectorizer)
        return matrix

    if tfidf:
        candidates.append((TFIDF_SPARSE, sparse_space))
    if not candidates:
        raise InputError("Choose at least one space to benchmark.")
    scores: list[TaskScore] = []
    curves = []
    costs = [cost_of(s) for s in spaces]
    steps = len(candidates) * len(tasks)
    for i, (name, matrix) in enumerate(candidates):
        made = time.perf_counter()
        X = matrix()[labels.rows]
        if name == TFIDF_SPARSE:
            rate = len(docs) / max(time.perf_counter() - made, 1e-9)
            # bytes per vector: its non-zeros as CSR stores them (4-byte value, 4-byte index)
            vec = sparse_model[0]
            model = int(vec.idf_.nbytes + sum(len(t.encode()) + 8 for t in vec.vocabulary_))  # idf + the n-grams
            costs.append(Cost(name, X.shape[1], float(X.nnz / X.shape[0] * 8), round(rate, 1), None, model))
        for j, task in enumerate(tasks):
            step = i * len(tasks) + j
            progress(step / steps, f"{task} on {name}")
            scores.extend(run_task(name, X, labels, task, folds=folds, seed=seed, protocol=protocol, repeats=repeats,
                                   progress=lambda f, m: progress((step + f) / steps, f"{task} on {name}, {m}")))
            if task == "classification" and few_shots:
                curves.append(few_shot(X, labels.y, folds=folds, seed=seed).assign(space=name))
    progress(1.0, "Comparing")
    notes = [held_out_note(labels, customised)] if customised else []
    if labels.dropped:
        notes.append(f"Left out {len(labels.dropped)} class(es) with fewer than {folds} documents: "
                     + ", ".join(f"{k} ({v})" for k, v in labels.dropped.items()))
    curve = pd.concat(curves, ignore_index=True)[["space", "shots", "score", "std"]] if curves is not None and curves \
        else pd.DataFrame(columns=["space", "shots", "score", "std"])
    return Benchmark(corpus.name, label, labels, scores, compare(scores, seed=seed), costs,
                     time.perf_counter() - start, notes, curve, protocol, repeats)


def held_out_note(labels: Labels, customised: list[str]) -> str:
    """What a benchmark with customised spaces was scored on, in a sentence."""
    return (f"Every space is scored on the {len(labels.y):,} labelled held-out documents (of {labels.total:,}) "
            f"that {', '.join(customised)} never saw in training; the training documents are left out for all "
            "spaces alike, so the comparison stays paired.")


#: the dimensions a dimension curve tries (those below the space's own)
CURVE_DIMS = (8, 16, 32, 64, 128, 256, 512)
#: how a dimension curve cuts a space down: PCA (fitted without labels), or keeping the first
#: k coordinates (what a Matryoshka-trained model is made for)
REDUCTIONS = ("pca", "truncate")


def dimension_curve(space: EmbeddingSpace, corpus: Corpus, label: str, *, task: str = "classification",
                    folds: int = FOLDS, seed: int = 0, dims: tuple[int, ...] = CURVE_DIMS, reduce: str = "pca",
                    progress: Progress = no_progress) -> tuple[pd.DataFrame, int | None]:
    """The main score of ``task`` with the space reduced to each of ``dims`` (``reduce``:
    PCA fitted without labels, or the first k coordinates, renormalised), then at full
    size: ``(curve, drop_at)`` where ``drop_at`` is the
    largest tried dimension whose score falls more than one std (of the full space's) below
    the full space's score, or None if none does."""
    from sklearn.decomposition import PCA

    if reduce not in REDUCTIONS:
        raise InputError(f"Unknown reduction {reduce!r}; expected one of {', '.join(REDUCTIONS)}.")
    labels = labels_from(corpus.labels(label), folds, held_out_mask([space], lambda s: document_rows(s, corpus))[0])
    X = np.asarray(space.vectors)[document_rows(space, corpus)][labels.rows]
    tried = [d for d in dims if d < min(space.dim, len(labels.y))] + [space.dim]
    rows = []
    for i, d in enumerate(tried):
        progress(i / len(tried), f"{task} at {d} dimensions")
        if d == space.dim:
            Xd = X
        elif reduce == "truncate":
            Xd = X[:, :d] / np.maximum(np.linalg.norm(X[:, :d], axis=1, keepdims=True), 1e-12)
        else:
            Xd = PCA(n_components=d, random_state=seed).fit_transform(X)
        score = next(s for s in run_task(space.name, Xd, labels, task, folds=folds, seed=seed)
                     if s.metric == MAIN_METRIC[task])
        rows.append({"dim": d, "score": score.score, "std": score.std})
    curve = pd.DataFrame(rows)
    full = curve.iloc[-1]
    below = curve[(curve["dim"] < space.dim) & (curve["score"] < full["score"] - full["std"])]
    return curve, int(below["dim"].max()) if len(below) else None


KIND = "benchmark"


def cache_key(corpus: Corpus, label: str, spaces: list[EmbeddingSpace], tasks: tuple[str, ...], folds: int,
              seed: int, tfidf: bool, few_shots: bool = False, protocol: str = PROTOCOL, repeats: int = REPEATS) -> str:
    """The name a benchmark is cached under: a hash of everything that decides its result."""
    import hashlib
    import json

    payload = json.dumps({"corpus": corpus.id, "label": label, "spaces": [s.id for s in spaces], "tasks": list(tasks),
                          "folds": folds, "seed": seed, "tfidf": tfidf, **({"few_shots": True} if few_shots else {}),
                          "protocol": protocol, "repeats": repeats,
                          # both protocols run on every fold: a new grid or inner search, a new run
                          "c_grid": list(C_GRID), "inner": [INNER_FOLDS, TUNED_TOL]},
                         sort_keys=True)
    return f"bench-{hashlib.sha1(payload.encode()).hexdigest()[:16]}"


def cached_benchmark(ws: Workspace, corpus: Corpus, label: str, spaces: list[EmbeddingSpace], *,
                     tasks: tuple[str, ...] = TASKS, folds: int = FOLDS, seed: int = 0, tfidf: bool = False,
                     few_shots: bool = False, protocol: str = PROTOCOL, repeats: int = REPEATS,
                     progress: Progress = no_progress) -> tuple[Benchmark, bool]:
    """:func:`benchmark`, read from the workspace when the same run was saved (saved spaces
    only); ``(result, cached)``. A finished run is saved, a cancelled one is not."""
    from embeddings.store.files import atomic_write_json, read_json

    key = cache_key(corpus, label, spaces, tuple(tasks), folds, seed, tfidf, few_shots, protocol, repeats)

    def save(folder, result):
        atomic_write_json(folder / "benchmark.json", result.to_record())
        return {"corpus": corpus.name, "label": label, "spaces": len(spaces) + tfidf}

    return ws.cached(KIND, key, lambda art: Benchmark.from_record(read_json(art.path / "benchmark.json")),
                     lambda: benchmark(corpus, label, spaces, tasks=tasks, folds=folds, seed=seed, tfidf=tfidf,
                                       few_shots=few_shots, protocol=protocol, repeats=repeats, progress=progress),
                     save if all(s.id for s in spaces) else None, params={"corpus": corpus.id, "label": label},
                     parent=corpus.id, damaged=(OSError, ValueError, KeyError))
