"""Before and after: a fine-tuned encoder against the base it was tuned from, on its corpus.

One view, four measurements, all on the user's own data:

- **task scores** with the paired difference and its interval (:func:`embeddings.evaluate.benchmark.benchmark`,
  which scores both on the held-out documents only);
- **how far the domain's words moved**: the corpus's most domain-specific terms
  (:func:`embeddings.analysis.audit.mine_terms`), each one's neighbours among the corpus's frequent
  words in the base and in the fine-tuned encoder, and their overlap (Jaccard@k);
- the **loss curve** of the run;
- for a fine-tune on a retrieval set, **retrieval** on the set's evaluation queries (never
  trained on): nDCG@10 of each, the paired difference and the queries that changed most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from embeddings.analysis.neighbours import K as NEIGHBOUR_K
from embeddings.errors import InputError
from embeddings.progress import Progress, no_progress, stage
from embeddings.space import EmbeddingSpace
from embeddings.store.cards import SENTENCE_ENCODER
from embeddings.text.corpus import Corpus

#: the mined domain terms compared, and the vocabulary their neighbours come from
TERMS = 20
VOCABULARY = 2000
K = NEIGHBOUR_K


def base_of(tuned: EmbeddingSpace, spaces: list[EmbeddingSpace]) -> EmbeddingSpace | None:
    """Among ``spaces``, the document space of the same corpus made by ``tuned``'s base
    encoder (not itself customised), or None."""
    run = tuned.provenance.get("finetune") or {}
    base = run.get("base")
    for s in spaces:
        p = s.provenance
        if (s.id != tuned.id and p.get("family") == SENTENCE_ENCODER and p.get("unit") == "document"
                and not p.get("finetune") and p.get("corpus_id") == tuned.provenance.get("corpus_id")
                and base in (p.get("model"), p.get("model_path"))):
            return s
    return None


def term_space(encoder, terms: list[str], name: str) -> EmbeddingSpace:
    """The terms encoded by a sentence encoder, as an unsaved space."""
    from embeddings.models.sentence import encode

    return EmbeddingSpace.from_arrays(name, terms, encode(encoder, [t.replace("_", " ") for t in terms]),
                                      provenance={"family": SENTENCE_ENCODER, "unit": "term"}, normalised=True)


def moved_terms(base_encoder, tuned_encoder, corpus: Corpus, *, terms: int = TERMS, vocabulary: int = VOCABULARY,
                k: int = K, progress: Progress = no_progress) -> pd.DataFrame:
    """``term, overlap, base, tuned`` for the corpus's ``terms`` most domain-specific terms:
    their ``k`` nearest among the corpus's ``vocabulary`` most frequent terms (plus the mined
    ones) in each encoder, and the Jaccard overlap of the two lists, lowest first."""
    from embeddings.analysis.audit import mine_terms, nearest_terms, neighbour_overlap

    mined = mine_terms(corpus, terms)["term"].tolist()
    vocab = corpus.vocabulary()["term"].head(vocabulary).tolist()
    words = list(dict.fromkeys(vocab + mined))
    progress(0.0, "Encoding the terms with the base")
    before = term_space(base_encoder, words, "base")
    progress(0.5, "Encoding the terms with the fine-tuned model")
    after = term_space(tuned_encoder, words, "fine-tuned")
    overlap = neighbour_overlap(before, after, mined, k)
    near_b, near_a = nearest_terms(before, mined, k), nearest_terms(after, mined, k)
    progress(1.0, "Done")
    frame = pd.DataFrame({"term": mined, "overlap": overlap,
                          "base": [", ".join(near_b.get(t, [])) for t in mined],
                          "tuned": [", ".join(near_a.get(t, [])) for t in mined]})
    return frame.sort_values("overlap", ignore_index=True)


@dataclass
class BeforeAfter:
    tuned: str
    base: str
    benchmark: object            #: a :class:`~embeddings.evaluate.benchmark.Benchmark` of the two
    terms: pd.DataFrame          #: :func:`moved_terms`
    loss_curve: pd.DataFrame     #: step, loss
    run: dict                    #: the fine-tuning record
    retrieval: object = None     #: a :class:`~embeddings.evaluate.retrieval.RetrievalResult` of the two, or None

    def difference(self):
        """The paired difference of the main classification score, tuned − base."""
        from embeddings.evaluate.tasks import MAIN_METRIC

        main = MAIN_METRIC["classification"]
        for d in self.benchmark.pairs:
            if d.task == "classification" and d.metric == main and {d.a, d.b} == {self.tuned, self.base}:
                return d
        return None

    def to_dict(self) -> dict:
        return {"tuned": self.tuned, "base": self.base, "benchmark": self.benchmark.to_dict(),
                "terms": self.terms.to_dict("records"), "mean_overlap": float(np.nanmean(self.terms["overlap"]))
                if self.terms["overlap"].notna().any() else None,
                "loss_curve": self.loss_curve.to_dict("records"), "run": self.run,
                "retrieval": self._retrieval()}

    def _retrieval(self) -> dict | None:
        if self.retrieval is None:
            return None
        d = self.retrieval.difference(self.tuned, self.base)
        return {**self.retrieval.summary(), "tuned_minus_base": d.row() if d else None,
                "changes": self.retrieval.changes(self.base, self.tuned).to_dict("records")}


def before_after(tuned: EmbeddingSpace, base: EmbeddingSpace, corpus: Corpus, label: str | None, *,
                 tuned_encoder, base_encoder, qset=None, search: dict | None = None,
                 progress: Progress = no_progress) -> BeforeAfter:
    """The measurements for ``tuned`` against ``base`` (both document spaces of ``corpus``);
    without a ``label`` there are no task scores (None); with ``qset`` (the retrieval set a
    retrieval fine-tune was trained on), retrieval on its evaluation queries (``search``: the
    two spaces as :func:`~embeddings.evaluate.retrieval.prepared` readies them)."""
    from embeddings.evaluate.benchmark import benchmark

    run = tuned.provenance.get("finetune")
    if not run:
        raise InputError(f"{tuned.name} is not a fine-tuned space.")
    bench = None
    if label:
        bench = benchmark(corpus, label, [base, tuned], tasks=("classification", "retrieval"),
                          progress=stage(progress, 0.0, 0.5, "Scoring: "))
    retrieval = None
    if qset is not None:
        from embeddings.evaluate.retrieval import evaluate

        retrieval = evaluate(corpus, qset, **(search or {"spaces": [base, tuned]}), bm25=False,
                             progress=stage(progress, 0.5, 0.7, "Retrieval: "))
    terms = moved_terms(base_encoder, tuned_encoder, corpus, progress=stage(progress, 0.7, 1.0, "Neighbours: "))
    curve = pd.DataFrame(run.get("loss_curve", []), columns=["step", "loss"])
    return BeforeAfter(tuned.name, base.name, bench, terms, curve, run, retrieval)
