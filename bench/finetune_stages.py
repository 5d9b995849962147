"""The fine-tune's progress stages against the time they take (#25, item 7). Prints JSON.

For each method, :func:`embeddings.models.finetune_space` on the python-docs sample (about
2,260 labelled documents, half held out), every progress call recorded with its time:

- each stage's seconds and its share of the whole, beside the share its weight predicted
  (:func:`embeddings.models.finetune.stage_weights`);
- the measured ``TRAIN_COST``: seconds per training text over seconds per encoded chunk,
  the figure :data:`embeddings.models.finetune.TRAIN_COST` holds;
- the largest step back of the bar (it must be 0).

    python bench/finetune_stages.py [--texts 320]
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def one(ws, corpus, method: str, texts: int) -> dict:
    from embeddings.models import finetune_space
    from embeddings.models.finetune import TRAIN_COST, FinetuneParams, stage_weights

    calls: list[tuple[float, float, str]] = []
    start = time.perf_counter()
    settings = {"method": method, "max_sentences": texts, "label": "area" if method == "supervised" else None}
    weights = stage_weights(corpus, FinetuneParams(**settings))
    space, run = finetune_space(ws, "minilm", corpus.id, f"ft-{method}",
                                progress=lambda f, m: calls.append((time.perf_counter() - start, f, m)), **settings)
    total = time.perf_counter() - start
    began = {}
    for t, _, m in calls:
        began.setdefault(m.split(": ", 1)[0], t)
    names = list(weights)
    ends = [began.get(n) for n in names[1:]] + [total]
    seconds = {n: round(e - began[n], 2) for n, e in zip(names, ends)}
    chunks = len(space) + int(space.provenance.get("chunking", {}).get("documents_split", 0) or 0)
    trained = run["texts"] * run["params"]["epochs"]
    per_text = seconds["Fine-tuning"] / trained
    per_chunk = seconds["Encoding the documents"] / max(chunks, 1)
    fractions = [f for _, f, _ in calls]
    return {"method": method, "texts": trained, "chunks_at_least": chunks, "seconds": seconds, "total": round(total, 1),
            "share": {n: round(s / total, 3) for n, s in seconds.items()},
            "predicted_share": {n: round(w / sum(weights.values()), 3) for n, w in weights.items()},
            "train_cost_measured": round(per_text / per_chunk, 2), "train_cost_used": TRAIN_COST[method],
            "largest_step_back": max([0.0] + [a - b for a, b in zip(fractions, fractions[1:])])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=320)
    parser.add_argument("--methods", default="simcse,tsdae,supervised")
    args = parser.parse_args()
    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import add_corpus
    from embeddings.text.preprocess import RECOMMENDED
    from embeddings.text.samples import SAMPLES

    ws = Workspace(tempfile.mkdtemp(prefix="bench-stages-"))
    corpus = add_corpus(ws, "pydocs", documents=SAMPLES["python-docs"].load(), preprocessing=RECOMMENDED)
    out = []
    for method in args.methods.split(","):
        out.append(one(ws, corpus, method, args.texts))
        print(json.dumps(out[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"documents": int(corpus.stats["documents"]), "runs": out}, indent=1))


if __name__ == "__main__":
    main()
