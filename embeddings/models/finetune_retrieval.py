"""Fine-tuning for retrieval: a retrieval set's **training** queries, each with a relevant
document as its positive and a hard negative, under ``MultipleNegativesRankingLoss`` (the
other documents of the batch are negatives too). The set's evaluation queries are never
trained on: :func:`training_examples` reads the training side only, and the benchmarks read
the evaluation side only (:meth:`~embeddings.evaluate.qrels.RetrievalSet.texts`).

Hard negatives (``negatives``):

- ``model``: sentence-transformers' own ``mine_hard_negatives`` with the base model: for each
  query, the highest-ranked document that is not one of its positives, among the top
  :data:`RANGE_MAX`, scoring under :data:`RELATIVE_MARGIN` of the positive (a near-duplicate of
  the positive is more likely an unjudged relevant document than a negative);
- ``bm25``: the highest-ranked non-relevant document of BM25 (bm25s, the same as the leaderboard's);
- ``none``: in-batch negatives only.

The documents a training query points to are the run's training documents: the record's
split holds them out of nothing else, and the classification benchmarks score every space
on the other documents (:mod:`embeddings.evaluate.splits`).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from embeddings.errors import InputError
from embeddings.evaluate.splits import Split
from embeddings.progress import Progress, no_progress
from embeddings.text.corpus import Corpus

Negatives = Literal["model", "bm25", "none"]
NEGATIVES: tuple[Negatives, ...] = get_args(Negatives)
#: the depth a hard negative is drawn from, and its largest score as a share of the positive's
RANGE_MAX = 50
RELATIVE_MARGIN = 0.05
#: documents encoded per step of the mining (the bar moves, and Cancel is heard, between steps)
MINING_STEP = 256


def training_examples(corpus: Corpus, qset, budget: int, seed: int) -> tuple[list[str], list[int], list[str]]:
    """``(query texts, positive document numbers, query ids)`` of the set's training queries,
    one pair per query (its most relevant document, the first on a tie), at most ``budget``
    of them, drawn with ``seed``."""
    if qset.corpus_id != corpus.id:
        raise InputError(f"The retrieval set {qset.name} is over another corpus, not {corpus.name}.")
    queries, judged = qset.texts("train"), qset.judged("train")
    pairs = [(qid, text, max(judged[qid].items(), key=lambda d: (d[1], -d[0]))[0])
             for qid, text in queries.items() if judged.get(qid)]
    if len(pairs) < 2:
        raise InputError(f"{qset.name} has {len(pairs)} training queries; make the set again with a share kept "
                         "for training (retrieval make --train-share, or the page's *Kept for training*).")
    if len(pairs) > budget:
        keep = np.sort(np.random.default_rng(seed).choice(len(pairs), budget, replace=False))
        pairs = [pairs[i] for i in keep]
    return [p[1] for p in pairs], [int(p[2]) for p in pairs], [p[0] for p in pairs]


def training_split(corpus: Corpus, positives: list[int], seed: int) -> Split:
    n = int(corpus.stats["documents"])
    train = np.unique(np.asarray(positives, dtype=np.int64))
    split = Split(train, np.setdiff1d(np.arange(n), train), round(1 - len(train) / max(n, 1), 6), seed)
    split.corpus_id, split.corpus = corpus.id, corpus.name
    return split


def _bm25_negatives(corpus: Corpus, qset, qids: list[str], queries: list[str]) -> list[int | None]:
    from embeddings.evaluate.search import bm25_run

    run = bm25_run(corpus, dict(zip(qids, queries)))
    judged = qset.judged("train")
    return [next((d for d in run.get(q, [])[:RANGE_MAX] if d not in judged.get(q, {})), None) for q in qids]


def _quiet(method):
    return lambda texts, **kwargs: method(texts, **{**kwargs, "show_progress_bar": False})


def _with_progress(model, progress: Progress):
    """``model.encode_document`` in steps of :data:`MINING_STEP`, reporting each (and so hearing a Cancel)."""
    original = _quiet(model.encode_document)

    def encode_document(texts, **kwargs):
        parts = []
        for start in range(0, len(texts), MINING_STEP):
            progress(start / max(len(texts), 1), f"encoding the documents: {start:,} of {len(texts):,}")
            parts.append(np.asarray(original(texts[start:start + MINING_STEP], **kwargs)))
        return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    return encode_document


def _model_negatives(model, corpus: Corpus, queries: list[str], positives: list[int], progress: Progress
                     ) -> list[int | None]:
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    from embeddings.models.hf_folder import prompts_of

    texts = corpus.documents()["text"].astype(str).tolist()
    dataset = Dataset.from_dict({"anchor": queries, "positive": [texts[d] for d in positives]})
    model.encode_document = _with_progress(model, progress)
    model.encode_query = _quiet(model.encode_query)              # (tqdm would write on the CLI's stderr)
    try:
        prompts = prompts_of(model)
        mined = mine_hard_negatives(dataset, model, corpus=texts, range_max=RANGE_MAX,
                                    query_prompt=prompts.get("query", ""), corpus_prompt=prompts.get("document", ""),
                                    relative_margin=RELATIVE_MARGIN, num_negatives=1, sampling_strategy="top",
                                    output_format="triplet", batch_size=32, verbose=False)
    finally:
        del model.encode_document, model.encode_query       # the class's methods again
    first: dict[tuple[str, str], str] = {}
    for a, p, n in zip(mined["anchor"], mined["positive"], mined["negative"]):
        first.setdefault((a, p), n)
    number = {t: i for i, t in reversed(list(enumerate(texts)))}          # a text's first document
    return [number[first[(q, texts[d])]] if (q, texts[d]) in first else None for q, d in zip(queries, positives)]


def build_triplets(model, corpus: Corpus, qset, *, budget: int, seed: int, negatives: Negatives,
                   progress: Progress = no_progress):
    """``(dataset, split, record)``: the training examples, as (anchor, positive[, negative])
    columns for the trainer, the split of the documents they use, and what the record keeps."""
    from datasets import Dataset

    if negatives not in NEGATIVES:
        raise InputError(f"Unknown negatives {negatives!r}; expected one of {', '.join(NEGATIVES)}.")
    queries, positives, qids = training_examples(corpus, qset, budget, seed)
    texts = corpus.documents()["text"].astype(str)
    progress(0.0, f"{negatives} hard negatives for {len(queries):,} training queries")
    if negatives == "model":
        found = _model_negatives(model, corpus, queries, positives, progress)
    elif negatives == "bm25":
        found = _bm25_negatives(corpus, qset, qids, queries)
    else:
        found = [None] * len(queries)
    columns = {"anchor": queries, "positive": [texts.iloc[d] for d in positives]}
    if negatives != "none":          # a query without a usable negative keeps its in-batch negatives only
        keep = [i for i, n in enumerate(found) if n is not None]
        columns = {k: [v[i] for i in keep] for k, v in columns.items()}
        columns["negative"] = [texts.iloc[found[i]] for i in keep]
        positives = [positives[i] for i in keep]
    progress(1.0, "training examples ready")
    record = {"queries": qset.name, "queries_id": qset.id, "negatives": negatives,
              "training_queries": len(queries), "examples": len(columns["anchor"]),
              "without_negative": len(queries) - len(columns["anchor"])}
    return Dataset.from_dict(columns), training_split(corpus, positives, seed), record
