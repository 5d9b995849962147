"""Customising MiniLM at the sizes issue #14 names, against the raw libraries in the same
run. Prints JSON.

On the python-docs sample (standard-library docstrings labelled by area, ~2,260
documents), half the documents held out (seed 0):

1. **Fine-tuning throughput**: SimCSE on 2,000 training sentences, 1 epoch, batch 16,
   through our :func:`embeddings.models.finetune.finetune` (progress callback, split,
   saving) against a plain sentence-transformers training script on the same texts with
   the same settings. Targets: ours ≥ 0.9× the plain script's sentences/s; the run ≤ 5 min.
2. **Distillation**: model2vec of MiniLM with the corpus's words, PCA to 256. Target
   ≤ 3 min; the static model encodes the documents ≥ 50× faster than MiniLM.
3. **Is it worth it?** Base MiniLM, SimCSE, supervised (the label column, the training
   documents only) and the distilled model, scored by the task benchmark on the held-out
   documents: macro-F1 with the paired difference to the base and its interval,
   throughput and dimensions.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings.store.workspace import Workspace
from embeddings.text.corpus import add_corpus
from embeddings.text.preprocess import RECOMMENDED
from embeddings.text.samples import SAMPLES


def plain_simcse(base_path: Path, texts: list[str], params, out: Path) -> float:
    """The sentence-transformers documentation's SimCSE script, seconds of ``train()``."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers.trainer_callback import PrinterCallback

    model = SentenceTransformer(str(base_path), device="cpu", local_files_only=True)
    model.max_seq_length = params.max_length
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out), num_train_epochs=params.epochs, per_device_train_batch_size=params.batch_size,
        learning_rate=params.learning_rate, warmup_steps=0.1, seed=params.seed, save_strategy="no",
        report_to="none", disable_tqdm=True, use_cpu=True, batch_sampler=BatchSamplers.NO_DUPLICATES,
        logging_steps=1)
    trainer = SentenceTransformerTrainer(model=model, args=args, loss=MultipleNegativesRankingLoss(model),
                                         train_dataset=Dataset.from_dict({"anchor": texts, "positive": texts}))
    trainer.remove_callback(PrinterCallback)   # as ours: stdout carries the JSON
    t = time.perf_counter()
    trainer.train()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args()

    from embeddings.evaluate.benchmark import benchmark
    from embeddings.evaluate.splits import make_split
    from embeddings.models.distil import distil, static_space
    from embeddings.models.finetune import FinetuneParams, finetune, training_texts
    from embeddings.models.sentence import encode_corpus, forget_encoder, minilm_path

    ws = Workspace(tempfile.mkdtemp(prefix="bench-customise-"))
    corpus = add_corpus(ws, "pydocs", documents=SAMPLES["python-docs"].load(), preprocessing=RECOMMENDED)
    base_path = minilm_path()
    out: dict = {"documents": int(corpus.stats["documents"])}

    # 1. SimCSE: ours against the plain script, same texts and settings
    simcse = FinetuneParams(method="simcse", max_sentences=args.sentences, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        run = finetune(base_path, corpus, simcse, Path(tmp))
        split = make_split(corpus.documents(), fraction=simcse.held_out, seed=0)
        texts, _ = training_texts(corpus, simcse, split)
        plain = plain_simcse(base_path, texts, simcse, Path(tmp) / "plain")
        spaces = {"minilm": encode_corpus(corpus, "minilm", unit="document"),
                  "minilm-simcse": encode_corpus(corpus, "minilm-simcse", model=str(run.model_dir), unit="document")}
        forget_encoder(run.model_dir)
    out["finetune_simcse"] = {
        "sentences": run.texts, "epochs": 1, "batch_size": simcse.batch_size, "steps": run.steps,
        "ours_seconds": round(run.seconds, 1), "plain_script_seconds": round(plain, 1),
        "ours_sentences_per_second": round(run.texts / run.seconds, 2),
        "plain_sentences_per_second": round(len(texts) / plain, 2),
        "ratio_ours_over_plain_throughput": round((run.texts / run.seconds) / (len(texts) / plain), 3),
        "target_ratio": 0.9, "target_seconds": 300, "met": run.seconds <= 300 and plain / run.seconds >= 0.9}

    # supervised, from the label column, on the training documents
    supervised = FinetuneParams(method="supervised", label="area", seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        sup = finetune(base_path, corpus, supervised, Path(tmp))
        spaces["minilm-supervised"] = encode_corpus(corpus, "minilm-supervised", model=str(sup.model_dir),
                                                    unit="document")
        forget_encoder(sup.model_dir)
    out["finetune_supervised"] = {"documents": sup.texts, "steps": sup.steps, "seconds": round(sup.seconds, 1),
                                  "learning_rate": supervised.learning_rate}

    # 2. distillation
    with tempfile.TemporaryDirectory() as tmp:
        folder, record = distil(base_path, Path(tmp), dims=256, corpus=corpus)
        spaces["minilm-static256"] = static_space(folder, "minilm-static256", record, corpus=corpus)
    minilm_rate = spaces["minilm"].provenance["texts_per_second"]
    static_rate = spaces["minilm-static256"].provenance["texts_per_second"]
    out["distil"] = {"seconds": record["distil_seconds"], "vocabulary": record["vocabulary"],
                     "corpus_terms": record["corpus_terms"], "dims": record["dims"],
                     "static_docs_per_second": static_rate, "minilm_docs_per_second": minilm_rate,
                     "speedup": round(static_rate / minilm_rate, 1), "target_seconds": 180, "target_speedup": 50,
                     "met": record["distil_seconds"] <= 180 and static_rate / minilm_rate >= 50}

    # 3. all four on the held-out documents (one split: the same seed and share)
    bench = benchmark(corpus, "area", list(spaces.values()), tasks=("classification", "retrieval"))
    f1 = {s.space: s for s in bench.scores if s.metric == "macro-F1"}
    rows = []
    for name, space in spaces.items():
        row = {"space": name, "macro_f1": round(f1[name].score, 4), "std": round(f1[name].std, 4),
               "dims": space.dim, "docs_per_second": space.provenance.get("texts_per_second")}
        for d in bench.pairs:
            if d.metric == "macro-F1" and {d.a, d.b} == {name, "minilm"}:
                sign = 1 if d.a == name else -1
                lo, hi = sorted((sign * d.low, sign * d.high))
                row.update({"difference_to_base": round(sign * d.difference, 4), "interval": [round(lo, 4),
                                                                                              round(hi, 4)],
                            "confidence": round(d.confidence, 4)})
        rows.append(row)
    out["held_out"] = {"documents": int(len(bench.labels.y)), "of": bench.labels.total, "spaces": rows,
                       "map": {s.space: round(s.score, 4) for s in bench.scores if s.metric == "MAP"}}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
