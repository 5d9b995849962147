"""Training throughput: our path against plain gensim, same corpus, same parameters, one run.

Corpus: the two bundled samples repeated to at least 1M tokens, ingested once. For
Word2Vec and FastText it times
- ``gensim``: ``Word2Vec``/``FastText`` on the corpus's ``sentences.txt`` (corpus_file mode);
- ``ours_train``: :func:`embeddings.models.gensim_models.train` (callbacks, provenance,
  normalised space) and ``ours_train_save``: :func:`embeddings.models.train_space`
  (the same plus the atomic write into the workspace),
and prints words/s (raw tokens × epochs / seconds) and the ratios. Best of ``--repeat``.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings.models import train_space
from embeddings.models.gensim_models import TrainParams, train
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import add_corpus
from embeddings.text.preprocess import Preprocessing
from embeddings.text.samples import SAMPLES


def best(repeat, fn):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--min-tokens", type=int, default=1_000_000)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    from gensim.models import FastText, Word2Vec

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(tmp)
        base = SAMPLES["lee"].load() + SAMPLES["python-docs"].load()
        docs = list(base)
        tokens_per_copy = 140_000  # roughly; checked below
        while len(docs) // len(base) * tokens_per_copy < args.min_tokens:
            docs += base
        corpus = add_corpus(ws, "bench", documents=docs, preprocessing=Preprocessing())
        words = corpus.stats["tokens"]
        assert words >= args.min_tokens, words
        params = TrainParams(sg=False, dim=100, window=5, min_count=5, epochs=args.epochs, seed=1, workers=2)
        common = dict(corpus_file=str(corpus.sentences_path), vector_size=params.dim, window=params.window,
                      min_count=params.min_count, negative=params.negative, sample=params.sample,
                      epochs=params.epochs, seed=params.seed, workers=params.workers, sg=0)
        out = {"benchmark": "train", "corpus_tokens": words, "epochs": args.epochs, "repeat": args.repeat,
               "cpus": os.cpu_count(), "families": {}}
        counter = iter(range(10**6))
        for family, cls, extra in (("word2vec", Word2Vec, {}),
                                   ("fasttext", FastText, dict(min_n=3, max_n=6, bucket=params.bucket))):
            t_gensim = best(args.repeat, lambda: cls(**common, **extra))
            t_ours = best(args.repeat, lambda: train(corpus, family, params, "x"))
            t_save = best(args.repeat, lambda: train_space(ws, "bench", family, f"s{next(counter)}", dim=100,
                                                           sg=False, min_count=5,
                                                           epochs=args.epochs, seed=1, workers=2))
            wps = lambda t: round(words * args.epochs / t)
            out["families"][family] = {
                "gensim_words_per_second": wps(t_gensim),
                "ours_train_words_per_second": wps(t_ours),
                "ours_train_save_words_per_second": wps(t_save),
                "overhead_train": round(t_ours / t_gensim - 1, 4),
                "overhead_train_save": round(t_save / t_gensim - 1, 4),
            }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
