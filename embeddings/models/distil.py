"""Distil a sentence encoder into a static model with model2vec.

model2vec (Tulkens & van Dongen 2024) runs the encoder once over every entry of a
vocabulary, the tokenizer's word pieces plus, here, the corpus's own words, reduces the
outputs by PCA to ``dims`` dimensions and weights them (SIF). The result embeds any text
by looking up its pieces and averaging: no transformer at encode time, so it runs tens to
hundreds of times faster, and a word it has never seen still gets a vector from its
pieces. A space made this way keeps the model in its folder and embeds new texts.

A model distilled from a fine-tuned encoder inherits that encoder's train / held-out split
(:mod:`embeddings.evaluate.splits`): its teacher saw the training documents.
"""

from __future__ import annotations

import functools
import logging
import shutil
import threading
import time
from pathlib import Path
from unittest import mock

import numpy as np

from embeddings.evaluate.splits import MODEL_FILE
from embeddings.text.corpus import Corpus

from ..errors import InputError
from ..progress import Progress, no_progress
from ..space import EmbeddingSpace

#: the dimensions offered (PCA), the first the default
DIMS = (256, 128, 64)
#: at most this many of the corpus's most frequent words join the vocabulary
CORPUS_TERMS = 20_000
#: texts encoded per progress report
BATCH = 1024
_models: dict[str, object] = {}
_lock = threading.Lock()


def corpus_vocabulary(corpus: Corpus, top: int = CORPUS_TERMS) -> list[str]:
    """The corpus's most frequent single words (phrases such as ``new_york`` are left to
    their parts), as model2vec takes a vocabulary (words the tokenizer already holds as one
    piece are dropped by :func:`distil`)."""
    vocab = corpus.vocabulary()
    words = vocab["term"][~vocab["term"].str.contains("_", regex=False)]
    return words.head(top).tolist()


def distil(base_path: Path, workdir: Path, *, dims: int = DIMS[0], corpus: Corpus | None = None,
           words: bool = True, progress: Progress = no_progress) -> tuple[Path, dict]:
    """Distil the encoder in ``base_path`` and save the static model in ``workdir / "model"``;
    returns ``(folder, record)``. With ``words``, the corpus's words join the vocabulary (on
    MiniLM this about triples the time: model2vec then encodes every entry as a word).
    ``progress`` is called per batch of the encoder's forward passes and may stop the run
    (nothing is written then)."""
    import model2vec
    from model2vec.distill import distill_from_model, inference
    from transformers import AutoModel, AutoTokenizer

    from .hf_folder import LOAD_AS_DATA

    if dims < 2:
        raise InputError(f"The static model needs at least 2 dimensions; got {dims}.")
    progress(0.0, "Loading the encoder")
    model = AutoModel.from_pretrained(str(base_path), **LOAD_AS_DATA)
    tokenizer = AutoTokenizer.from_pretrained(str(base_path), use_fast=True, **LOAD_AS_DATA)
    known = tokenizer.get_vocab()
    words = [w for w in corpus_vocabulary(corpus) if w not in known] if corpus is not None and words else []
    if dims > model.config.hidden_size:
        raise InputError(f"The encoder has {model.config.hidden_size} dimensions; choose at most that many.")
    total = len(tokenizer) + len(words)   # an upper bound: known words are not encoded twice
    done = [0]

    def count(module, args, kwargs):
        done[0] += int(kwargs["input_ids"].shape[0])
        progress(min(done[0] / total, 0.99), f"{done[0]:,} of about {total:,} vocabulary entries")

    hook = model.register_forward_pre_hook(count, with_kwargs=True)
    start = time.perf_counter()
    quiet = logging.getLogger("model2vec")
    level = quiet.level
    quiet.setLevel(logging.ERROR)   # it warns once per word it already knows
    try:
        with mock.patch.object(inference, "tqdm", functools.partial(inference.tqdm, disable=True)):
            static = distill_from_model(model, tokenizer, vocabulary=words or None, pca_dims=dims, device="cpu")
    finally:
        hook.remove()
        quiet.setLevel(level)
    seconds = time.perf_counter() - start
    folder = workdir / "model"
    static.save_pretrained(str(folder))
    if (Path(base_path) / MODEL_FILE).is_file():   # the teacher's split goes with its student
        shutil.copy2(Path(base_path) / MODEL_FILE, folder / MODEL_FILE)
    record = {"family": "model2vec", "method": "model2vec distillation", "dims": int(static.dim),
              "vocabulary": int(static.embedding.shape[0]), "corpus_terms": len(words),
              "distil_seconds": round(seconds, 3), "library": f"model2vec {model2vec.__version__}"}
    return folder, record


def load_static(folder: Path | str):
    """A saved static model, loaded once per process and folder."""
    from model2vec import StaticModel

    key = str(Path(folder).resolve())
    with _lock:
        if key not in _models:
            _models[key] = StaticModel.from_pretrained(key)
        return _models[key]


def forget_static(folder: Path | str) -> None:
    with _lock:
        _models.pop(str(Path(folder).resolve()), None)


def encode_static(model, texts: list[str], *, progress: Progress = no_progress) -> np.ndarray:
    """model2vec's own ``encode`` (no truncation: a lookup costs nothing per token), batch
    by batch for progress; normalised float32 rows."""
    out = np.empty((len(texts), model.dim), dtype=np.float32)
    for start in range(0, len(texts), BATCH):
        batch = texts[start:start + BATCH]
        out[start:start + len(batch)] = model.encode(batch, max_length=None, use_multiprocessing=False)
        progress((start + len(batch)) / len(texts), f"Encoded {start + len(batch):,} of {len(texts):,}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def static_embedder(folder: Path):
    """Embed new texts by lookup in the space's own static model."""
    def embed(texts: list[str]) -> np.ndarray:
        return encode_static(load_static(folder), [t.replace("_", " ") for t in texts])

    return embed


def static_space(folder: Path, name: str, record: dict, *, corpus: Corpus | None = None,
                 progress: Progress = no_progress) -> EmbeddingSpace:
    """The static model as a space: the documents of ``corpus`` (with the split the model
    inherited, if any), or else its whole-word vocabulary."""
    import pandas as pd

    from .sentence import corpus_units, inherit_split

    model = load_static(folder)
    if corpus is not None:
        labels, texts, meta = corpus_units(corpus, "document", None)
        unit = "document"
    else:
        labels = [t for t in model.tokens if t.isalpha() and t.islower()]
        texts, meta, unit = labels, {}, "term"
    if not texts:
        raise InputError("Nothing to encode: the corpus has no documents.")
    start = time.perf_counter()
    vectors = encode_static(model, texts, progress=progress)
    seconds = time.perf_counter() - start
    provenance = {**record, "unit": unit, "params": {"dims": record["dims"], "unit": unit},
                  "seconds": round(seconds, 3), "texts_per_second": round(len(texts) / max(seconds, 1e-9), 1),
                  "model_bytes": sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())}
    if corpus is not None:
        provenance.update({"corpus": corpus.name, "corpus_id": corpus.id,
                           "corpus_sha256": corpus.stats.get("sha256")})
        inherit_split(meta, Path(folder), corpus, provenance)
    return EmbeddingSpace.from_arrays(name, labels, vectors, meta=pd.DataFrame(meta), provenance=provenance,
                                      normalised=True, embedder=static_embedder(folder))
