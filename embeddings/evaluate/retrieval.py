"""Retrieval on your own questions: which system finds the documents your queries need.

Systems, each ranking a corpus's documents for every query of a retrieval set
(:mod:`embeddings.evaluate.qrels`):

- **BM25** (bm25s, Lucene's variant, ``k1`` and ``b`` as settings) over the corpus's own
  tokens: its tokeniser and stopwords, without its phrases (a query has none);
- **dense** search with any document space of the corpus that can embed a query, by cosine:
  a sentence encoder (fine-tuned or distilled too), a pooled word space or TF-IDF + LSA
  (:mod:`embeddings.models.text_embed` says how each embeds the query);
- **hybrids** by reciprocal rank fusion of BM25 and one dense system (its ``k`` as a setting).

The metrics are :mod:`embeddings.evaluate.ir`'s (nDCG@10 first); every two systems are compared
on the same queries with a paired bootstrap interval, Bonferroni-corrected across the pairs,
in the verdict style of the classification benchmark.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from embeddings.errors import EmbeddingsError, InputError
from embeddings.evaluate.ir import MAIN, METRICS, evaluate_run, trec_run
from embeddings.evaluate.qrels import RetrievalSet
from embeddings.evaluate.search import BM25, HIT_AT, Chunks, RetrievalParams, Run, bm25_run, dense_run, hybrid_name, hybrid_run
from embeddings.evaluate.tasks import CONFIDENCE, Difference, bootstrap_interval
from embeddings.options import check
from embeddings.progress import Progress, no_progress
from embeddings.space import EmbeddingSpace
from embeddings.text.corpus import Corpus

TASK = "retrieval (your queries)"


@dataclass
class RetrievalResult:
    """Per-query metrics of every system on a retrieval set, their runs and paired comparisons."""

    set_name: str
    corpus: str
    per_query: pd.DataFrame                   #: system, qid, each metric
    runs: dict[str, Run]
    pairs: list[Difference]
    seconds: dict[str, float]                 #: each system's time to answer all the queries
    params: RetrievalParams = field(default_factory=RetrievalParams)
    notes: list[str] = field(default_factory=list)
    _board: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def systems(self) -> list[str]:
        return list(dict.fromkeys(self.per_query["system"]))

    @property
    def n_queries(self) -> int:
        return int(self.per_query["qid"].nunique())

    def leaderboard(self) -> pd.DataFrame:
        """One row per system, best nDCG@10 first: each metric's mean, nDCG@10's 95% bootstrap
        interval over the queries, n, and the time per query (computed once: the bootstrap is
        the costly part, and the page, the summary and the run file all ask)."""
        if self._board is None:
            self._board = self._leaderboard()
        return self._board.copy()

    def _leaderboard(self) -> pd.DataFrame:
        rows = []
        for system, part in self.per_query.groupby("system", sort=False):
            values = part[MAIN].to_numpy()
            low, high = bootstrap_interval(values, CONFIDENCE, seed=self.params.seed)
            rows.append({"system": system, **{m: float(part[m].mean()) for m in METRICS},
                         f"{MAIN} low": low, f"{MAIN} high": high, "queries": len(part),
                         "ms per query": 1000 * self.seconds.get(system, np.nan) / max(len(part), 1)})
        return pd.DataFrame(rows).sort_values(MAIN, ascending=False, kind="stable").reset_index(drop=True)

    def disagreements(self, a: str, b: str, n: int = 20) -> pd.DataFrame:
        """Queries one system answers in its top 10 and the other does not, largest nDCG@10 gap first."""
        wide = self.per_query.pivot(index="qid", columns="system", values=[MAIN, f"Recall@{HIT_AT}"])
        found_a, found_b = wide[(f"Recall@{HIT_AT}", a)] > 0, wide[(f"Recall@{HIT_AT}", b)] > 0
        gap = wide[(MAIN, a)] - wide[(MAIN, b)]
        frame = pd.DataFrame({"qid": wide.index, f"{MAIN} {a}": wide[(MAIN, a)].to_numpy(),
                              f"{MAIN} {b}": wide[(MAIN, b)].to_numpy(), "gap": gap.to_numpy(),
                              "found by": np.where(found_a & ~found_b, a, np.where(found_b & ~found_a, b, ""))})
        frame = frame[frame["found by"] != ""]
        return frame.reindex(frame["gap"].abs().sort_values(ascending=False, kind="stable").index).head(n)

    def points(self) -> pd.DataFrame:
        """One row per system for the quality–cost chart: nDCG@10 and its interval, queries
        per second, and whether it is on the Pareto frontier."""
        from embeddings.evaluate.tasks import pareto

        board = self.leaderboard()
        speed = 1000 / board["ms per query"].where(board["ms per query"] > 0)
        front = set(pareto({s: (q, v) for s, q, v in zip(board["system"], board[MAIN], speed) if np.isfinite(v)}))
        return pd.DataFrame({"space": board["system"], "score": board[MAIN], "low": board[f"{MAIN} low"],
                             "high": board[f"{MAIN} high"], "n": board["queries"], "queries_per_second": speed,
                             "front": [s in front for s in board["system"]]})

    def changes(self, before: str, after: str, n: int = 20) -> pd.DataFrame:
        """The queries whose nDCG@10 moved most from ``before`` to ``after`` (either way),
        ``after − before`` per query; unchanged queries left out."""
        wide = self.per_query.pivot(index="qid", columns="system", values=MAIN)
        frame = pd.DataFrame({"qid": wide.index, f"{MAIN} before": wide[before].to_numpy(),
                              f"{MAIN} after": wide[after].to_numpy()})
        frame["change"] = frame[f"{MAIN} after"] - frame[f"{MAIN} before"]
        frame = frame[frame["change"] != 0]
        return frame.reindex(frame["change"].abs().sort_values(ascending=False, kind="stable").index).head(n)

    def difference(self, a: str, b: str) -> Difference | None:
        """The paired comparison of ``a`` and ``b``, read as ``a − b`` (whichever order it was computed in)."""
        for d in self.pairs:
            if (d.a, d.b) == (a, b):
                return d
            if (d.a, d.b) == (b, a):
                return dataclasses.replace(d, a=a, b=b, difference=-d.difference, low=-d.high, high=-d.low)
        return None

    def run_file(self, system: str, doc_ids: Sequence[str] | None = None) -> str:
        """``system``'s run in TREC format, documents by their ids (``doc_ids[number]``) or numbers."""
        name = (lambda d: doc_ids[d]) if doc_ids is not None else str
        return trec_run({q: [name(d) for d in docs] for q, docs in self.runs[system].items()}, system)

    def summary(self) -> dict:
        board = self.leaderboard()
        return {"set": self.set_name, "corpus": self.corpus, "queries": self.n_queries, "main_metric": MAIN,
                "leaderboard": board.round(6).to_dict("records"), "pairs": [d.row() for d in self.pairs],
                "params": {"rrf_k": self.params.rrf_k, "k1": self.params.k1, "b": self.params.b},
                "notes": self.notes}


def compare_systems(per_query: pd.DataFrame, *, seed: int = 0) -> list[Difference]:
    """Every two systems on nDCG@10, paired on the queries: the mean difference (the better
    system first) with a paired bootstrap interval, Bonferroni-corrected over the pairs."""
    wide = per_query.pivot(index="qid", columns="system", values=MAIN)
    # best first, so each difference reads "a − b" with a the better on average (a positive number)
    systems = sorted(dict.fromkeys(per_query["system"]), key=lambda s: -wide[s].mean())
    pairs = [(a, b) for i, a in enumerate(systems) for b in systems[i + 1:]]
    level = 1 - (1 - CONFIDENCE) / max(len(pairs), 1)
    out = []
    for a, b in pairs:
        d = (wide[a] - wide[b]).to_numpy()
        low, high = bootstrap_interval(d, level, seed=seed)
        method = "paired bootstrap over queries" + (f", Bonferroni over {len(pairs)} pairs" if len(pairs) > 1 else "")
        out.append(Difference(a, b, TASK, MAIN, float(d.mean()), low, high, method, level))
    return out


def _same(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def training_queries(ws, spaces: Sequence[EmbeddingSpace]) -> dict[str, set[str] | None]:
    """For each space fine-tuned for retrieval, the texts of the queries it was trained on
    (None when its retrieval set was deleted and they cannot be known)."""
    from embeddings.evaluate.qrels import load_set

    out: dict[str, set[str] | None] = {}
    for space in spaces:
        record = (space.provenance.get("finetune") or {}).get("retrieval")
        if record:
            try:
                out[space.name] = {_same(t) for t in load_set(ws, record["queries_id"]).texts("train").values()}
            except EmbeddingsError:
                out[space.name] = None
    return out


def prepared(ws, spaces: Sequence[EmbeddingSpace]) -> dict:
    """What :func:`evaluate` takes from the workspace for ``spaces``: each able to embed a
    query (an encoder with its query prompt), their kept chunks (max-sim), and the queries
    any of them was fine-tuned on. ``evaluate(corpus, qset, **prepared(ws, spaces), ...)``."""
    from embeddings.models.text_embed import with_text_embedder
    from embeddings.store.space_store import read_chunks

    ready = [with_text_embedder(ws, s, role="query") for s in spaces]
    chunks = {s.name: c for s in ready if (c := read_chunks(ws, s)) is not None}
    return {"spaces": ready, "chunks": chunks, "trained": training_queries(ws, ready)}


def _reading_notes(spaces: Sequence[EmbeddingSpace], chunks: dict[str, Chunks]) -> list[str]:
    """How each dense system read the texts: its prompts, and its long documents."""
    notes = []
    for s in spaces:
        prompts = s.provenance.get("prompts") or {}
        if prompts:
            notes.append(f"{s.name}: queries prefixed {prompts.get('query', '')!r} and documents "
                         f"{prompts.get('document', '')!r} (the model's own prompts).")
        endpoint = s.provenance.get("endpoint") or {}
        if endpoint.get("remote"):
            notes.append(f"{s.name}: its documents and these queries were sent to {endpoint.get('host')}.")
        split = (s.provenance.get("chunking") or {}).get("documents_split", 0)
        if split:
            how = "its best chunk's score (max-sim)" if s.name in chunks else \
                "the mean of its chunks' vectors (the chunks were not kept: make the space again for max-sim)"
            notes.append(f"{s.name}: {split:,} documents longer than the model's window; each scores by {how}.")
    return notes


def evaluate(corpus: Corpus, qset: RetrievalSet, spaces: Sequence[EmbeddingSpace], *, bm25: bool = True,
             hybrid: Sequence[str] = (), params: RetrievalParams = RetrievalParams(),
             trained: dict[str, set[str] | None] | None = None, chunks: dict[str, Chunks] | None = None,
             progress: Progress = no_progress) -> RetrievalResult:
    """Every system on the evaluation queries of ``qset``; ``hybrid`` names the dense systems
    (space names) to fuse with BM25. ``trained`` (:func:`training_queries`): an evaluation
    query that a fine-tune was trained on is left out for every system, and the notes say so.
    ``chunks``: a space's kept chunks, for max-sim (see :func:`prepared`)."""
    chunks = chunks or {}
    check(params)
    if qset.corpus_id != corpus.id:
        raise InputError(f"The retrieval set {qset.name} is over another corpus, not {corpus.name}.")
    queries, judged = qset.texts("eval"), qset.judged("eval")
    notes = []
    for name, texts in (trained or {}).items():
        if texts is None:
            notes.append(f"{name} was fine-tuned on a retrieval set that is gone: its training queries cannot be "
                         "checked against these.")
            continue
        seen = [q for q, t in queries.items() if _same(t) in texts]
        if seen:
            notes.append(f"{len(seen):,} evaluation queries were training queries of {name}: left out for every "
                         "system.")
            queries = {q: t for q, t in queries.items() if q not in seen}
            judged = {q: d for q, d in judged.items() if q not in seen}
    if not queries:
        raise InputError(f"No evaluation query of {qset.name} is left to score on.")
    if not bm25 and not spaces:
        raise InputError("Pick at least one system: BM25 or a document space.")
    names = [s.name for s in spaces]
    unknown = [h for h in hybrid if h not in names]
    if unknown:
        raise InputError(f"A hybrid fuses BM25 with a chosen space; {', '.join(unknown)} is not among them.")
    runs: dict[str, Run] = {}
    seconds: dict[str, float] = {}
    steps = int(bm25) + len(spaces) + len(hybrid)
    done = 0
    if bm25 or hybrid:
        progress(0.0, "BM25 over the corpus's tokens")
        timings: dict = {}
        runs[BM25] = bm25_run(corpus, queries, params, timings=timings)
        seconds[BM25] = timings["search"]         # as a dense system's: its documents were encoded beforehand
        notes.append(f"BM25 built its index in {timings['index']:.1f} s, outside its time per query (a dense "
                     "system's documents were encoded when its space was made).")
        done += 1
    for space in spaces:
        progress(done / steps, f"Searching {space.name}")
        if space.can_embed:
            space.embed(["warm-up"])          # the model loads once, outside the time per query
        start = time.perf_counter()
        runs[space.name] = dense_run(space, corpus, queries, chunks=chunks.get(space.name), exact=params.exact,
                                     notes=notes)
        seconds[space.name] = time.perf_counter() - start
        done += 1
    for name in hybrid:
        runs[hybrid_name(name)] = hybrid_run(runs[BM25], runs[name], params.rrf_k)
        seconds[hybrid_name(name)] = seconds[BM25] + seconds[name]
    if not bm25:
        runs.pop(BM25, None)
    qrels = {q: {str(d): r for d, r in docs.items()} for q, docs in judged.items()}
    frames = []
    for system, run in runs.items():
        frame = evaluate_run({q: [str(d) for d in docs] for q, docs in run.items()}, qrels)
        frame.insert(0, "system", system)
        frames.append(frame)
    per_query = pd.concat(frames, ignore_index=True)
    progress(1.0, "Compared")
    notes.insert(0, f"{len(queries):,} evaluation queries with {sum(len(v) for v in judged.values()):,} judgements.")
    notes.extend(_reading_notes(spaces, chunks))
    return RetrievalResult(qset.name, corpus.name, per_query, runs, compare_systems(per_query, seed=params.seed),
                           seconds, params, notes)
