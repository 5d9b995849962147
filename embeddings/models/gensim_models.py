"""Word2Vec and FastText training with gensim, on a workspace corpus.

Training reads the corpus's ``sentences.txt`` through gensim's ``corpus_file`` mode
(no Python iteration per sentence). A callback reports each epoch (loss where gensim
computes it, elapsed time, words/s) and can stop training between epochs: nothing is
saved unless every epoch ran.

FastText spaces keep their subword buckets (``ngrams.npy``) so that ``embed()`` makes
vectors for unseen words exactly as gensim does, through a ``FastTextKeyedVectors``
rebuilt from arrays (no pickle).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from embeddings.options import check, option
from embeddings.text.corpus import Corpus

from ..errors import InputError
from ..space import EmbeddingSpace

FAMILIES = ("word2vec", "fasttext")


@dataclass(frozen=True)
class TrainParams:
    """Settings shared by Word2Vec and FastText: gensim's names, and its defaults except
    where a small domain corpus (the demo's 60k tokens, a user's few hundred documents)
    needs otherwise: skip-gram, which learns rare words better than CBOW; ``min_count=3``
    and 10 epochs, so domain terms seen a handful of times get a vector; ``workers=2`` for
    these machines and a smaller FastText ``bucket``. The training form, the CLI and the
    demo all start from these."""

    sg: bool = True
    dim: int = option(100, 2, 1000, "dimensions of the vectors")
    window: int = option(5, 1, 20, "context words on each side")
    min_count: int = option(3, 1, 1000, "terms seen fewer times get no vector")
    negative: int = option(5, 0, 30, "negative samples per positive one")
    sample: float = option(1e-3, 0.0, 0.1, "down-sampling of frequent words", step=1e-4)
    epochs: int = option(10, 1, 200, "passes over the corpus")
    seed: int = option(1, 0, 2**31 - 1, "the random seed")
    workers: int = option(2, 1, 64, "training threads")
    # FastText only
    min_n: int = option(3, 1, 10, "shortest character n-gram")
    max_n: int = option(6, 1, 12, "longest character n-gram")
    bucket: int = option(200_000, 1000, 10_000_000, "hash buckets for the n-grams")

    def validate(self) -> None:
        check(self)
        if self.min_n > self.max_n:
            raise InputError("Invalid setting: need min_n <= max_n.")


@dataclass
class EpochReport:
    """What one finished training epoch reports: epoch number, loss (Word2Vec), elapsed seconds
    and words per second."""

    epoch: int
    epochs: int
    loss: float | None
    seconds: float
    words_per_second: float


#: on_epoch(report) is called after every epoch; raising Cancelled stops training
EpochCallback = Callable[[EpochReport], None]


def _callback(epochs: int, words: int, on_epoch: EpochCallback | None, compute_loss: bool):
    from gensim.models.callbacks import CallbackAny2Vec

    class Reporter(CallbackAny2Vec):
        """gensim's epoch callback: each finished epoch becomes an :class:`EpochReport`, and a
        :class:`Cancelled` raised by the caller stops training."""

        def __init__(self):
            self.epoch = 0
            self.start = time.perf_counter()
            self.previous_loss = 0.0

        def on_epoch_end(self, model):
            self.epoch += 1
            elapsed = time.perf_counter() - self.start
            loss = None
            if compute_loss:  # gensim's loss is cumulative over the run
                total = float(model.get_latest_training_loss())
                loss, self.previous_loss = total - self.previous_loss, total
            if on_epoch is not None:
                on_epoch(EpochReport(self.epoch, epochs, loss, elapsed, words * self.epoch / max(elapsed, 1e-9)))

    return Reporter()


def train(corpus: Corpus, family: str, params: TrainParams, name: str,
          on_epoch: EpochCallback | None = None) -> tuple[EmbeddingSpace, dict]:
    """Train Word2Vec or FastText on ``corpus``; return the space and its FastText
    arrays (``{"ngrams.npy": ...}`` or ``{}``) for :meth:`EmbeddingSpace.save`."""
    from gensim.models import FastText, Word2Vec

    if family not in FAMILIES:
        raise InputError(f"Unknown model family {family!r}; expected one of {', '.join(FAMILIES)}.")
    params.validate()
    words = int(corpus.stats["tokens"])
    vocab = corpus.vocabulary()
    if int((vocab["count"] >= params.min_count).sum()) < 2:
        raise InputError(f"Fewer than two terms of {corpus.name} occur at least min_count={params.min_count} "
                         "times; lower min_count or use a larger corpus.")
    common = dict(corpus_file=str(corpus.sentences_path), vector_size=params.dim, window=params.window,
                  min_count=params.min_count, negative=params.negative, sample=params.sample,
                  epochs=params.epochs, seed=params.seed, workers=params.workers, sg=int(params.sg))
    compute_loss = family == "word2vec"  # gensim's FastText does not report a loss
    reporter = _callback(params.epochs, words, on_epoch, compute_loss)
    start = time.perf_counter()
    if family == "word2vec":
        model = Word2Vec(**common, compute_loss=True, callbacks=[reporter])
    else:
        model = FastText(**common, min_n=params.min_n, max_n=params.max_n, bucket=params.bucket,
                         callbacks=[reporter])
    seconds = time.perf_counter() - start
    kv = model.wv
    counts = dict(zip(vocab["term"], vocab["count"]))
    labels = list(kv.index_to_key)
    provenance = {
        "family": family,
        "params": asdict(params) if family == "fasttext" else
        {k: v for k, v in asdict(params).items() if k not in ("min_n", "max_n", "bucket")},
        "corpus": corpus.name,
        "corpus_id": corpus.id,
        "corpus_sha256": corpus.stats.get("sha256"),
        "seed": params.seed,
        "seconds": round(seconds, 3),
        "words_per_second": round(words * params.epochs / seconds),
        "unit": "term",
        "library": f"gensim {__import__('gensim').__version__}",
    }
    extra = {"ngrams.npy": np.asarray(kv.vectors_ngrams, dtype=np.float32)} if family == "fasttext" else {}
    embedder = _make_fasttext_embedder(labels, np.asarray(kv.vectors), extra["ngrams.npy"], params.min_n,
                                       params.max_n, params.bucket) if family == "fasttext" else None
    space = EmbeddingSpace.from_arrays(name, labels, kv.vectors, frequency=[counts.get(t, 0) for t in labels],
                                       provenance=provenance, keep_norms=True, embedder=embedder)
    return space, extra


def _make_fasttext_embedder(labels, vectors, ngrams, min_n, max_n, bucket):
    """gensim's own FastTextKeyedVectors, rebuilt from arrays; OOV words go through
    its subword hashing, exactly as in the trained model."""
    from gensim.models.fasttext import FastTextKeyedVectors

    kv = FastTextKeyedVectors(vector_size=vectors.shape[1], min_n=min_n, max_n=max_n, bucket=bucket)
    kv.add_vectors(labels, vectors)
    kv.vectors_ngrams = ngrams

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([kv.get_vector(t) for t in texts]) if texts else np.zeros((0, kv.vector_size), np.float32)

    return embed


def fasttext_embedder(folder: Path, provenance: dict):
    """The embedder of a saved FastText space (attached by :func:`embeddings.store.space_store.load_space`).

    Word vectors come from the space's own files: ``vectors.npy`` holds them
    normalised, which is what the space serves; OOV vectors are normalised by
    ``EmbeddingSpace.embed``. Loaded lazily, on the first unseen word."""
    p = provenance["params"]
    state: dict = {}

    def embed(texts: list[str]) -> np.ndarray:
        if "fn" not in state:

            from embeddings.store.space_store import read_labels, read_vectors

            labels, _ = read_labels(folder)
            vectors = read_vectors(folder)
            ngrams = np.load(folder / "ngrams.npy", mmap_mode="r", allow_pickle=False)
            state["fn"] = _make_fasttext_embedder(labels, vectors, np.asarray(ngrams), p["min_n"], p["max_n"],
                                                  p["bucket"])
        return state["fn"](texts)

    return embed
