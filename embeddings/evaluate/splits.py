"""The train / held-out split of a corpus's documents, the one rule against leakage.

A model customised on a corpus (fine-tuned, or distilled from a fine-tuned encoder) sees
only the **training** documents. Every document space such a model makes carries a
``split`` column in its metadata (``train`` or ``held-out`` per document), and its model
folder carries :data:`MODEL_FILE`, so a space made from that folder later inherits the
split too. The task benchmarks then score *every* space, the customised ones and their
bases alike, on the documents that no customised space was trained on (paired, on the
same rows); :func:`held_out_mask` is that rule.

>>> import pandas as pd
>>> s = make_split(pd.DataFrame({"text": ["a"] * 10}), fraction=0.3, seed=0)
>>> len(s.train), len(s.held_out), sorted(set(s.column(10)))
(7, 3, ['held-out', 'train'])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from embeddings.errors import InputError

#: the metadata column of a document space that names each document's side of the split
COLUMN = "split"
TRAIN, HELD_OUT = "train", "held-out"
#: the share of documents kept out of training by default
HELD_OUT_FRACTION = 0.5
#: the file in a customised model's folder that records which documents trained it
MODEL_FILE = "embedding_explorer_split.json"


@dataclass
class Split:
    """Document indices (rows of ``corpus.documents()``) on each side."""

    train: np.ndarray
    held_out: np.ndarray
    fraction: float
    seed: int
    corpus_id: str | None = None
    corpus: str | None = None

    def column(self, n: int) -> np.ndarray:
        """The ``split`` column for the ``n`` documents of the corpus."""
        out = np.full(n, HELD_OUT, dtype=object)
        out[self.train] = TRAIN
        return out

    def record(self) -> dict:
        """What the provenance keeps (counts and how it was drawn; the rows are in the column)."""
        return {"corpus": self.corpus, "corpus_id": self.corpus_id, "seed": self.seed,
                "held_out_fraction": self.fraction, "train_documents": int(len(self.train)),
                "held_out_documents": int(len(self.held_out))}

    def to_json(self) -> dict:
        return {**self.record(), "train": [int(i) for i in self.train]}

    @classmethod
    def from_json(cls, d: dict, n: int) -> "Split":
        train = np.asarray(d.get("train", []), dtype=np.int64)
        if len(train) and (train.min() < 0 or train.max() >= n):
            raise InputError("The model's split names documents the corpus does not have.")
        held = np.setdiff1d(np.arange(n), train)
        return cls(train, held, float(d.get("held_out_fraction", 0)), int(d.get("seed", 0)), d.get("corpus_id"),
                   d.get("corpus"))


def make_split(docs: pd.DataFrame, *, fraction: float = HELD_OUT_FRACTION, seed: int = 0) -> Split:
    """Hold out ``fraction`` of the documents, drawn with ``seed``. The draw depends on the
    number of documents, the share and the seed only, never on the method or a label column:
    models customised on one corpus with the same seed (SimCSE, TSDAE and supervised alike)
    share one held-out side, so the benchmarks compare them all on the same documents."""
    if not 0.05 <= fraction <= 0.95:
        raise InputError(f"The held-out share must be between 0.05 and 0.95; got {fraction}.")
    n = len(docs)
    order = np.random.default_rng(seed).permutation(n)
    k = int(round(n * fraction))
    return Split(np.sort(order[k:]), np.sort(order[:k]), fraction, seed)


def model_split(model_path: Path | str) -> dict | None:
    """The split recorded in a customised model's folder, or None for a model we did not train."""
    from embeddings.store.files import read_json

    path = Path(model_path) / MODEL_FILE
    return read_json(path) if path.is_file() else None


def held_out_mask(spaces, rows_of) -> tuple[np.ndarray | None, list[str]]:
    """``(mask over the corpus's documents, names)``: the documents held out by **every**
    space that carries a split (the customised ones), or ``(None, [])`` when none does.
    ``rows_of(space)`` gives each document's row in the space."""
    mask, names = None, []
    for space in spaces:
        if COLUMN not in space.meta:
            continue
        rows = rows_of(space)
        held = space.meta[COLUMN].to_numpy()[rows] == HELD_OUT
        mask = held if mask is None else mask & held
        names.append(space.name)
    return mask, names
