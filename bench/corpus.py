"""Corpus ingestion throughput, against the raw libraries in the same run.

Prints one JSON document:
- ours: ``add_corpus`` end to end (sentence splitting, tokenising, statistics, files
  written atomically), with and without bigram detection;
- baselines: gensim's ``simple_preprocess`` over the same documents (tokenising only),
  and gensim ``Phrases`` training on the same sentences (what our phrase step wraps).

Run: ``make bench`` or ``.venv/bin/python bench/corpus.py [--repeat N]``.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings.store.workspace import Workspace
from embeddings.text.corpus import add_corpus
from embeddings.text.preprocess import Preprocessing, preprocess
from embeddings.text.samples import SAMPLES


def best_of(repeat, fn):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--copies", type=int, default=4, help="how many copies of the two samples to ingest")
    args = ap.parse_args()

    docs = (SAMPLES["lee"].load() + SAMPLES["python-docs"].load()) * args.copies
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases
    from gensim.utils import simple_preprocess

    t_gensim, tokens = best_of(args.repeat, lambda: sum(len(simple_preprocess(d.text, min_len=1, max_len=10**6))
                                                         for d in docs))
    sentences = preprocess(docs, Preprocessing()).sentences
    t_phrases, _ = best_of(args.repeat, lambda: Phrases(sentences, min_count=5, threshold=10.0,
                                                         connector_words=ENGLISH_CONNECTOR_WORDS).freeze())

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(tmp)
        for label, prep in (("plain", Preprocessing()), ("bigrams", Preprocessing(phrases="bigrams"))):
            counter = iter(range(10**6))
            t, corpus = best_of(args.repeat, lambda: add_corpus(ws, f"{label}-{next(counter)}", documents=docs,
                                                                 preprocessing=prep))
            results[label] = {"seconds": round(t, 3), "tokens": corpus.stats["tokens"],
                              "tokens_per_second": round(corpus.stats["tokens"] / t)}

    print(json.dumps({
        "benchmark": "corpus-ingest",
        "documents": len(docs),
        "ours_add_corpus": results,
        "gensim_simple_preprocess": {"seconds": round(t_gensim, 3), "tokens": tokens,
                                     "tokens_per_second": round(tokens / t_gensim)},
        "gensim_phrases_training": {"seconds": round(t_phrases, 3),
                                    "tokens_per_second": round(sum(map(len, sentences)) / t_phrases)},
        "ratio_ours_plain_vs_simple_preprocess": round(results["plain"]["tokens_per_second"] / (tokens / t_gensim), 3),
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
    }, indent=1))


if __name__ == "__main__":
    main()
