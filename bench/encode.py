"""MiniLM encoding throughput: our batched encoder (progress per batch) against plain
``SentenceTransformer.encode`` on the same texts, one run. Prints JSON."""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings.models.sentence import encode, load_encoder
from embeddings.text.preprocess import split_sentences
from embeddings.text.samples import SAMPLES


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentences", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    texts = [s for d in SAMPLES["lee"].load() for s in split_sentences(d.text)][: args.sentences]
    model = load_encoder("minilm")
    model.encode(texts[:64])  # warm-up

    def best(fn):
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    t_plain = best(lambda: model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=False))
    t_ours = best(lambda: encode(model, texts, batch_size=args.batch_size))
    print(json.dumps({
        "benchmark": "encode-minilm",
        "texts": len(texts),
        "batch_size": args.batch_size,
        "plain_texts_per_second": round(len(texts) / t_plain, 1),
        "ours_texts_per_second": round(len(texts) / t_ours, 1),
        "overhead": round(t_ours / t_plain - 1, 4),
        "cpus": os.cpu_count(),
    }, indent=1))


if __name__ == "__main__":
    main()
