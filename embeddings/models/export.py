"""A space out to files other tools read: word2vec text, the TensorFlow Projector's TSV
pair, or ``.npy`` plus labels; zipped into one download where it is several files."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..space import EmbeddingSpace

EXPORT_FORMATS = ("word2vec", "projector-tsv", "npy")


def export_space(space: EmbeddingSpace, fmt: str, out: Path | str) -> list[Path]:
    """Write a space to files; returns the paths written.

    - ``word2vec``: word2vec text format (readable by gensim and most tools);
    - ``projector-tsv``: ``vectors.tsv`` + ``metadata.tsv`` (label, frequency) for the
      TensorFlow Embedding Projector, in the folder ``out``;
    - ``npy``: ``<out>.npy`` + ``<out>.labels.txt`` (one label per line).
    """
    from gensim.models import KeyedVectors

    out = Path(out)
    if fmt == "word2vec":
        if any(" " in label or "\n" in label for label in space.labels):
            raise InputError("The word2vec format cannot hold labels with spaces (sentences, documents); "
                             "use projector-tsv or npy.")
        kv = KeyedVectors(space.dim)
        kv.add_vectors(space.labels, np.asarray(space.vectors))
        out.parent.mkdir(parents=True, exist_ok=True)
        kv.save_word2vec_format(str(out), binary=False)
        return [out]
    if fmt == "projector-tsv":
        out.mkdir(parents=True, exist_ok=True)
        np.savetxt(out / "vectors.tsv", space.vectors, delimiter="\t", fmt="%.6g")
        meta = pd.DataFrame({"label": [" ".join(x.split()) for x in space.labels],
                             "frequency": space.meta["frequency"].to_numpy()})
        meta.to_csv(out / "metadata.tsv", sep="\t", index=False)
        return [out / "vectors.tsv", out / "metadata.tsv"]
    if fmt == "npy":
        stem = out.with_suffix("") if out.suffix == ".npy" else out
        stem.parent.mkdir(parents=True, exist_ok=True)
        np.save(f"{stem}.npy", np.asarray(space.vectors))
        Path(f"{stem}.labels.txt").write_text("\n".join(" ".join(x.split()) for x in space.labels) + "\n",
                                             encoding="utf-8")
        return [Path(f"{stem}.npy"), Path(f"{stem}.labels.txt")]
    raise InputError(f"Unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}.")


def export_bytes(space: EmbeddingSpace, fmt: str) -> tuple[str, bytes]:
    """One downloadable file: word2vec text as is; the multi-file formats zipped."""
    import zipfile

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in space.name) or "space"
    with tempfile.TemporaryDirectory() as tmp:
        paths = export_space(space, fmt, Path(tmp) / (f"{safe}.txt" if fmt == "word2vec" else safe))
        if fmt == "word2vec":
            return f"{safe}.word2vec.txt", paths[0].read_bytes()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for path in paths:
                z.write(path, arcname=path.name)
        return f"{safe}.{fmt}.zip", buf.getvalue()
