"""Fine-tune a sentence encoder on a corpus with sentence-transformers' own trainer.

Three methods, each from the sentence-transformers documentation:

- ``simcse`` (unsupervised): each training sentence paired with itself; dropout makes the
  two encodings differ, and ``MultipleNegativesRankingLoss`` pulls them together against
  the rest of the batch (Gao et al. 2021).
- ``tsdae`` (unsupervised): a decoder tied to the encoder rebuilds each sentence from the
  encoding of a copy with 60% of its words deleted, ``DenoisingAutoEncoderLoss`` (Wang et
  al. 2021). The deletion is drawn once, seeded.
- ``supervised``: documents with a label column, ``BatchAllTripletLoss`` over batches that
  hold several documents of each label (``GroupByLabelBatchSampler``), which pulls
  same-label texts together.
- ``retrieval``: a retrieval set's training queries with their relevant documents and hard
  negatives, ``MultipleNegativesRankingLoss`` (:mod:`embeddings.models.finetune_retrieval`).

``matryoshka`` wraps the loss in ``MatryoshkaLoss`` so the first 256, 128 or 64
dimensions keep their quality when the vectors are truncated (Kusupati et al. 2022).

Only the **training** side of a :mod:`~embeddings.evaluate.splits` split is used, for every method:
the held-out documents stay unseen, for the benchmarks to score on.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from embeddings.evaluate.splits import HELD_OUT_FRACTION, MODEL_FILE, Split, make_split
from embeddings.store.files import atomic_write_json
from embeddings.text.corpus import Corpus

from ..errors import InputError
from ..options import check, option
from ..progress import Progress, no_progress
from .finetune_retrieval import NEGATIVES, Negatives, build_triplets

Method = Literal["simcse", "tsdae", "supervised", "retrieval"]
METHODS: tuple[Method, ...] = get_args(Method)
#: each method in a line, for the page and the CLI
DESCRIPTIONS: dict[str, str] = {
    "simcse": "SimCSE, unsupervised: each sentence twice, with dropout noise (MultipleNegativesRankingLoss).",
    "tsdae": "TSDAE, unsupervised: rebuild each sentence from a copy with 60% of its words deleted.",
    "supervised": "Supervised, from a label column: texts of one label pulled together (BatchAllTripletLoss).",
    "retrieval": "For search, from a retrieval set's training queries: each query pulled to its relevant document and "
                 "away from a hard negative (MultipleNegativesRankingLoss); its evaluation queries are never seen.",
}
#: the truncations MatryoshkaLoss trains for, by default (MiniLM is 384-d)
MATRYOSHKA_DIMS = (384, 256, 128, 64)
#: a TSDAE training text loses this share of its words (the paper's setting)
TSDAE_DELETION = 0.6
#: sentences shorter than this many words teach SimCSE and TSDAE little
MIN_WORDS = 4
#: each method's learning rate unless one is given: SimCSE's and TSDAE's papers use 3e-5;
#: the triplet objective moves further from the pretrained geometry and gains from more
#: (on the bundled sample, one epoch at 1e-4 gave +0.08 held-out macro-F1, 3e-5 +0.01)
LEARNING_RATES = {"simcse": 3e-5, "tsdae": 3e-5, "supervised": 1e-4, "retrieval": 5e-5}
#: the triplet margin, in cosine distance (supervised)
TRIPLET_MARGIN = 0.25
#: the loss curve kept in the provenance has at most this many points
CURVE_POINTS = 200
#: a fine-tune's stages weigh as their work: seconds to train on one text (at most
#: ``max_length`` word pieces, one epoch) over seconds to encode one chunk of a document (at
#: most 256 word pieces) with MiniLM on CPU; measured by ``bench/finetune_stages.py``
TRAIN_COST = {"simcse": 6.5, "tsdae": 6.5, "supervised": 4.7,
              "retrieval": 9.0}   # (a query and two documents per example: estimated from supervised's, not measured)
#: word pieces per preprocessed word, to estimate a corpus's chunks before encoding it
PIECES_PER_WORD = 1.3


def stage_weights(corpus: Corpus, params: FinetuneParams, window: int = 256) -> dict[str, float]:
    """The stages of :func:`~embeddings.models.finetune_space` and their expected shares of
    its time (:data:`TRAIN_COST`): training on at most ``max_sentences`` texts per epoch,
    then encoding every document in chunks of ``window`` word pieces, then saving."""
    documents, words = int(corpus.stats["documents"]), int(corpus.stats["tokens"])
    texts = params.max_sentences * params.epochs
    if params.method == "supervised":
        texts = min(params.max_sentences, round(documents * (1 - params.held_out))) * params.epochs
    if params.method == "retrieval":   # training queries are few; mining encodes every document once
        texts = min(params.max_sentences, max(documents // 4, 1)) * params.epochs
    if params.max_steps:
        texts = min(texts, params.max_steps * params.batch_size)
    chunks = max(documents, words * PIECES_PER_WORD / window)
    train = texts * TRAIN_COST[params.method]
    return {"Fine-tuning": train, "Encoding the documents": chunks, "Saving": 0.02 * (train + chunks)}


@dataclass
class FinetuneParams:
    """A fine-tuning run's settings; the CLI and the page read their defaults from here."""

    method: Method = "simcse"
    label: str | None = None                     #: the label column (``supervised``)
    matryoshka: tuple[int, ...] | None = None    #: dimensions for MatryoshkaLoss, or None
    max_sentences: int = option(2000, 16, 200_000, "the budget: at most this many training texts (sentences "
                                "for simcse and tsdae, documents for supervised), drawn with the seed", step=500)
    epochs: int = option(1, 1, 20, "passes over the training texts")
    seed: int = option(0, 0, 10_000, "the seed of the draw, the split's shuffle and the training")
    batch_size: int = option(16, 2, 512, "texts per optimiser step (in-batch negatives for simcse)")
    learning_rate: float | None = None          #: None: the method's (:data:`LEARNING_RATES`)
    max_length: int = 128                        #: word pieces per training text
    held_out: float = option(HELD_OUT_FRACTION, 0.1, 0.9, "the share of documents never trained on: the "
                             "benchmarks score every space on them", step=0.05)
    max_steps: int | None = None                 #: a cap on optimiser steps (a quick look, the tests)
    queries: str | None = None                   #: the retrieval set whose training queries teach (``retrieval``)
    negatives: Negatives = "model"               #: how hard negatives are found (``retrieval``)

    def check(self, dim: int) -> None:
        check(self)
        if self.method not in METHODS:
            raise InputError(f"Unknown method {self.method!r}; expected one of {', '.join(METHODS)}.")
        if self.method == "supervised" and not self.label:
            raise InputError("Supervised fine-tuning needs a label column (--label).")
        if self.method != "supervised" and self.label:
            raise InputError(f"{self.method} takes no label column.")
        if (self.method == "retrieval") != bool(self.queries):
            raise InputError("Retrieval fine-tuning needs a retrieval set (--queries), and only it takes one.")
        if self.negatives not in NEGATIVES:
            raise InputError(f"Unknown negatives {self.negatives!r}; expected one of {', '.join(NEGATIVES)}.")
        if self.max_sentences < 2 * self.batch_size:
            raise InputError(f"The budget of {self.max_sentences} texts is under two batches of {self.batch_size}.")
        if self.learning_rate is None:
            self.learning_rate = LEARNING_RATES[self.method]
        if self.epochs < 1 or self.batch_size < 2 or not 0 < self.learning_rate < 1:
            raise InputError("Epochs must be at least 1, the batch size at least 2, the learning rate in (0, 1).")
        if self.matryoshka:
            if self.method == "tsdae":
                raise InputError("Matryoshka training works with simcse and supervised, not with tsdae's decoder.")
            bad = [d for d in self.matryoshka if not 0 < d <= dim]
            if bad:
                raise InputError(f"Matryoshka dimensions must be between 1 and the model's {dim}; got {bad}.")


@dataclass
class FinetuneRun:
    """What a finished run leaves: the model folder and the record of how it was made."""

    model_dir: Path
    split: Split
    texts: int
    steps: int
    losses: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0
    retrieval: dict = field(default_factory=dict)     #: the set, the negatives and the examples (``retrieval``)

    @property
    def final_loss(self) -> float | None:
        return self.losses[-1][1] if self.losses else None

    def record(self, base: str, params: FinetuneParams) -> dict:
        curve = self.losses
        if len(curve) > CURVE_POINTS:
            keep = np.unique(np.linspace(0, len(curve) - 1, CURVE_POINTS).round().astype(int))
            curve = [curve[i] for i in keep]
        return {"base": base, "method": params.method, "params": asdict(params), "split": self.split.record(),
                "texts": self.texts, "steps": self.steps, "final_loss": self.final_loss,
                "seconds": round(self.seconds, 3),
                "texts_per_second": round(self.texts * params.epochs / self.seconds, 2) if self.seconds else None,
                "loss_curve": [[s, round(v, 6)] for s, v in curve], **({"retrieval": self.retrieval} if self.retrieval else {})}


def _sample(n: int, budget: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n, budget, replace=False)) if n > budget else np.arange(n)


def training_texts(corpus: Corpus, params: FinetuneParams, split: Split) -> tuple[list[str], list[str] | None]:
    """The texts (and labels, for ``supervised``) of the training side, at most
    ``max_sentences`` of them, drawn with the run's seed: documents for ``supervised``,
    distinct sentences of at least :data:`MIN_WORDS` words otherwise."""
    rng = np.random.default_rng(params.seed)
    if params.method == "supervised":
        docs = corpus.documents().iloc[split.train]
        labels = corpus.labels(params.label, docs).astype("string").str.strip()
        keep = labels.notna() & (labels != "") & docs["text"].str.strip().astype(bool)
        docs, labels = docs[keep.to_numpy()], labels[keep]
        pick = _sample(len(docs), params.max_sentences, rng)
        return docs["text"].iloc[pick].tolist(), labels.iloc[pick].astype(str).tolist()
    sentences = corpus.sentence_table()
    train = np.zeros(int(corpus.stats["documents"]), dtype=bool)
    train[split.train] = True
    sentences = sentences[train[sentences["doc"].to_numpy()]].drop_duplicates("text")
    sentences = sentences[sentences["text"].str.split().str.len() >= MIN_WORDS]
    pick = _sample(len(sentences), params.max_sentences, rng)
    return sentences["text"].iloc[pick].tolist(), None


def damaged(text: str, rng: np.random.Generator, deletion: float = TSDAE_DELETION) -> str:
    """TSDAE's noise: each word deleted with probability ``deletion``, at least one kept."""
    words = text.split()
    keep = rng.random(len(words)) > deletion
    if words and not keep.any():
        keep[rng.integers(len(words))] = True
    return " ".join(w for w, k in zip(words, keep) if k)


def build_dataset(method: Method, texts: list[str], labels: list[str] | None, seed: int):
    from datasets import Dataset

    if method == "simcse":
        return Dataset.from_dict({"anchor": texts, "positive": texts})
    if method == "tsdae":
        rng = np.random.default_rng(seed)
        return Dataset.from_dict({"damaged": [damaged(t, rng) for t in texts], "original": texts})
    classes = {c: i for i, c in enumerate(sorted(set(labels or [])))}
    if len(classes) < 2:
        raise InputError("Supervised fine-tuning needs at least two labels among the training documents.")
    return Dataset.from_dict({"text": texts, "label": [classes[c] for c in labels]})


def build_loss(model, params: FinetuneParams):
    from sentence_transformers.sentence_transformer import losses

    if params.method in ("simcse", "retrieval"):
        loss = losses.MultipleNegativesRankingLoss(model)
    elif params.method == "tsdae":
        loss = losses.DenoisingAutoEncoderLoss(model, tie_encoder_decoder=True)
    else:   # cosine distance: the encoder's vectors are unit length, so Euclidean margins of 5 never bind
        loss = losses.BatchAllTripletLoss(model, distance_metric=losses.BatchHardTripletLossDistanceFunction.cosine_distance,
                                          margin=TRIPLET_MARGIN)
    if params.matryoshka:
        loss = losses.MatryoshkaLoss(model, loss, matryoshka_dims=list(params.matryoshka))
    return loss


def training_arguments(params: FinetuneParams, output_dir: Path):
    """The trainer's settings for a run: CPU, no checkpoints, no reports, no progress bar (ours is)."""
    from sentence_transformers import SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers

    sampler = {"simcse": BatchSamplers.NO_DUPLICATES, "tsdae": BatchSamplers.BATCH_SAMPLER,
               "supervised": BatchSamplers.GROUP_BY_LABEL, "retrieval": BatchSamplers.NO_DUPLICATES}[params.method]
    return SentenceTransformerTrainingArguments(
        output_dir=str(output_dir), num_train_epochs=params.epochs, per_device_train_batch_size=params.batch_size,
        learning_rate=params.learning_rate, warmup_steps=0.1, seed=params.seed, data_seed=params.seed,
        logging_steps=1, save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=True,
        dataloader_num_workers=0, batch_sampler=sampler, max_steps=params.max_steps or -1)


class _Reporter:
    """A trainer callback: the loss at every step, and ``progress`` (which may stop the run)."""

    def __init__(self, progress: Progress):
        from transformers import TrainerCallback

        self.losses: list[tuple[int, float]] = []
        outer = self

        class Callback(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):
                if logs and "loss" in logs and math.isfinite(logs["loss"]):
                    outer.losses.append((int(state.global_step), float(logs["loss"])))

            def on_step_end(self, args, state, control, **kwargs):
                loss = f" · loss {outer.losses[-1][1]:.4g}" if outer.losses else ""
                progress(state.global_step / max(state.max_steps, 1),
                         f"step {state.global_step:,} of {state.max_steps:,}{loss}")

        self.callback = Callback()


def load_trainable(base_path: Path):
    """A fresh copy of the base model on the CPU (never the shared one encoding is using)."""
    from sentence_transformers import SentenceTransformer

    from .hf_folder import LOAD_AS_DATA

    return SentenceTransformer(str(base_path), device="cpu", **LOAD_AS_DATA)


def finetune(base_path: Path, corpus: Corpus, params: FinetuneParams, workdir: Path, *,
             progress: Progress = no_progress, qset=None) -> FinetuneRun:
    """Train a copy of the encoder in ``base_path`` on ``corpus`` (``retrieval``: on ``qset``'s
    training queries) and save it as a sentence-transformers folder in ``workdir / "model"``
    (with the split it was trained on). Raises whatever ``progress`` raises (a cancel) before
    anything is written."""
    from sentence_transformers import SentenceTransformerTrainer
    from transformers.trainer_callback import PrinterCallback

    from ..progress import stages

    progress(0.0, "Loading the base model")
    model = load_trainable(base_path)
    dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") \
        else model.get_sentence_embedding_dimension()
    params.check(dim)
    window = model.max_seq_length
    model.max_seq_length = min(window, params.max_length)
    extra: dict = {}
    if params.method == "retrieval":
        part = stages(progress, {"Finding hard negatives": 1.0 if params.negatives == "model" else 0.05,
                                 "Training": 1.0})
        dataset, split, extra = build_triplets(model, corpus, qset, budget=params.max_sentences, seed=params.seed,
                                               negatives=params.negatives, progress=part["Finding hard negatives"])
        progress, texts = part["Training"], dataset["anchor"]
    else:
        split = make_split(corpus.documents(), fraction=params.held_out, seed=params.seed)
        split.corpus_id, split.corpus = corpus.id, corpus.name
        texts, labels = training_texts(corpus, params, split)
        dataset = build_dataset(params.method, texts, labels, params.seed)
    if len(texts) < 2 * params.batch_size:
        raise InputError(f"Only {len(texts)} training texts on the training side of {corpus.name}; "
                         f"fine-tuning needs at least two batches of {params.batch_size}.")
    reporter = _Reporter(progress)
    trainer = SentenceTransformerTrainer(model=model, args=training_arguments(params, workdir / "trainer"),
                                         train_dataset=dataset, loss=build_loss(model, params),
                                         callbacks=[reporter.callback])
    trainer.remove_callback(PrinterCallback)   # it prints every log to stdout (``--json`` owns stdout)
    start = time.perf_counter()
    state = trainer.train()
    seconds = time.perf_counter() - start
    model.max_seq_length = window   # encode with the base's window, as the base does
    out = workdir / "model"
    model.save_pretrained(str(out))
    atomic_write_json(out / MODEL_FILE, split.to_json())
    return FinetuneRun(out, split, len(texts), int(state.global_step), reporter.losses, seconds, extra)
