"""Spaces on disk: save, check, load, list, and the registry of family embedders.

:class:`~embeddings.space.EmbeddingSpace` is a pure value; this module is where it meets
the workspace. A saved space is one artefact folder (``space/<id>/``):

- ``vectors.npy``: float32, L2-normalised rows;
- ``meta.parquet``: a ``label`` column and the per-label metadata;
- ``provenance.json``: what made it;
- any family extras, e.g. FastText's ``ngrams.npy`` (the subword buckets), or an encoder's
  document space's ``chunks.npy`` and ``chunk_rows.npy`` (the vectors of the chunks of its
  documents longer than the window, and each chunk's row: retrieval's max-sim).

No pickle anywhere. This module is the folder format's one owner: every writer (here,
:mod:`embeddings.models.encode`'s streaming build) and every reader (a family's embedder)
goes through :func:`write_vectors` / :func:`open_vectors`, :func:`write_labels`,
:func:`write_provenance`, :func:`read_vectors` and :func:`read_labels`.

**Embedders.** A family that can embed unseen texts (FastText through subwords, sentence
encoders) registers a factory with :func:`register_embedder`; :func:`load_space` attaches
it. The factories are registered by :mod:`embeddings.models`, which this module finds the
way a plug-in system finds its entry points (by name, on the first load), so the layers
stay one-way: ``space`` ← ``space_store`` ← ``models``.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from embeddings.analysis import ann
from embeddings.errors import DamagedError, NotFoundError
from embeddings.progress import Progress, no_progress
from embeddings.space import EmbeddingSpace
from embeddings.store.artefact import Artefact
from embeddings.store.files import atomic_write_json, read_json, utc_now
from embeddings.store.model_folders import copy_folder
from embeddings.store.workspace import Workspace

KIND = "space"

#: the files every saved space has
SPACE_FILES = VECTORS, META, PROVENANCE = ("vectors.npy", "meta.parquet", "provenance.json")

#: the chunks of the documents longer than an encoder's window, and each one's row (optional)
CHUNK_VECTORS, CHUNK_ROWS = "chunks.npy", "chunk_rows.npy"

#: family → factory(folder, provenance) → embedder or None
EmbedderFactory = Callable[[Path, dict], Callable[[list[str]], np.ndarray] | None]
_EMBEDDERS: dict[str, EmbedderFactory] = {}
#: the package whose import registers the built-in families' embedders
PLUGINS = "embeddings.models"


def register_embedder(family: str, factory: EmbedderFactory) -> None:
    """Make :func:`load_space` attach ``factory(folder, provenance)`` to spaces of ``family``."""
    _EMBEDDERS[family] = factory


def embedder_for(folder: Path, provenance: dict) -> Callable[[list[str]], np.ndarray] | None:
    """The embedder of a saved space, or None (a derived space, e.g. a PCA of FastText, has
    none: the model's vectors live in another space)."""
    if provenance.get("derived"):
        return None
    importlib.import_module(PLUGINS)  # registers the built-in factories (once; cached by Python)
    factory = _EMBEDDERS.get(provenance.get("family"))
    return factory(folder, provenance) if factory else None


def summary_fields(space: EmbeddingSpace, provenance: dict | None = None) -> dict:
    """The catalogue row of a space: what the pages list without loading vectors."""
    p = provenance or space.provenance
    return {
        "family": p.get("family"),
        "vocabulary": len(space),
        "dim": space.dim,
        "unit": p.get("unit", "term"),
        "corpus": p.get("corpus"),
        "seconds": p.get("seconds"),
        "words_per_second": p.get("words_per_second"),
        "can_embed": space.can_embed,
    }


# -- the folder format ---------------------------------------------------------------
def write_vectors(folder: Path, vectors: np.ndarray) -> None:
    np.save(folder / VECTORS, np.asarray(vectors, dtype=np.float32))


def open_vectors(folder: Path, rows: int, dim: int) -> np.memmap:
    """An empty float32 ``vectors.npy`` of ``rows x dim`` to fill block by block (streaming writers)."""
    return np.lib.format.open_memmap(folder / VECTORS, mode="w+", dtype=np.float32, shape=(rows, dim))


def write_labels(folder: Path, labels: list[str], meta: pd.DataFrame) -> None:
    """``meta.parquet``: the ``label`` column first, then the per-label metadata, in row order."""
    frame = meta.reset_index(drop=True).copy()
    frame.insert(0, "label", labels)
    frame.to_parquet(folder / META, index=False)


def write_provenance(folder: Path, provenance: dict) -> None:
    atomic_write_json(folder / PROVENANCE, provenance)


def read_vectors(folder: Path, *, mmap: bool = False) -> np.ndarray:
    return np.load(folder / VECTORS, mmap_mode="r" if mmap else None, allow_pickle=False)


def read_chunks(ws: Workspace, space: EmbeddingSpace) -> tuple[np.ndarray, np.ndarray] | None:
    """``(chunk vectors, their rows)`` of a saved document space that kept them, else None
    (memory-mapped: a large corpus's chunks are read as a search needs them)."""
    try:
        folder = ws.get(KIND, space.id).path if space.id else None
    except NotFoundError:              # an unsaved or deleted space
        return None
    if folder is None or not (folder / CHUNK_VECTORS).is_file() or not (folder / CHUNK_ROWS).is_file():
        return None
    vectors = np.load(folder / CHUNK_VECTORS, mmap_mode="r", allow_pickle=False)
    rows = np.load(folder / CHUNK_ROWS, allow_pickle=False)
    if vectors.ndim != 2 or vectors.shape[1] != space.dim or len(rows) != len(vectors) or \
            (len(rows) and (rows.min() < 0 or rows.max() >= len(space))):
        raise DamagedError(KIND, space.name, "its chunk files do not match its vectors")
    return vectors, rows


def read_labels(folder: Path) -> tuple[list[str], pd.DataFrame]:
    """The labels (through Arrow: a million come out as a list in two thirds of pandas' time)
    and the rest of the metadata."""
    table = pq.read_table(folder / META)
    column = table.column("label")
    labels = column.to_pylist()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        labels = [str(label) for label in labels]
    return labels, table.drop_columns(["label"]).to_pandas()


def save_space(ws: Workspace, space: EmbeddingSpace, name: str | None = None, *,
               extra_files: dict[str, np.ndarray] | None = None,
               extra_dirs: dict[str, Path] | None = None) -> EmbeddingSpace:
    """Write ``space`` into the workspace as a new artefact (atomically: all files or none)
    and return the saved space: the same vectors (no copy) with the artefact's id and name.
    ``extra_dirs`` are folders copied in (a fine-tuned or distilled model: ``model/``)."""
    name = ws.check_new_name(KIND, name or space.name)
    provenance = {**space.provenance, "created_at": utc_now()}

    def build(folder: Path) -> dict:
        write_vectors(folder, space.vectors)
        write_labels(folder, space.labels, space.meta)
        for fname, array in (extra_files or {}).items():
            np.save(folder / fname, array)
        for dname, source in (extra_dirs or {}).items():
            copy_folder(source, folder / dname)
        write_provenance(folder, provenance)
        return summary_fields(space, provenance)

    art = ws.create(KIND, name, build, params=provenance, parent=provenance.get("parent"))
    return dataclasses.replace(space, id=art.id, name=art.name, provenance=provenance)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def space_problem(art: Artefact) -> str | None:
    """Why a saved space cannot be loaded (a missing, truncated or unreadable file), or None.

    Cheap: it reads the ``.npy`` header (memory-mapped), the parquet footer and the small
    JSON, not the vectors, so the pages can check every space they list.
    """
    import pyarrow.parquet as pq

    for fname in SPACE_FILES:
        if not (art.path / fname).is_file():
            return f"{fname} is missing"
    try:
        vectors = np.load(art.path / VECTORS, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        return f"vectors.npy is unreadable: {_first_line(exc)}"
    if vectors.ndim != 2:
        return "vectors.npy is not a matrix"
    try:
        rows = pq.read_metadata(art.path / META).num_rows
    except (OSError, ValueError) as exc:
        return f"meta.parquet is unreadable: {_first_line(exc)}"
    if rows != vectors.shape[0]:
        return f"meta.parquet has {rows:,} rows for {vectors.shape[0]:,} vectors"
    try:
        if not isinstance(read_json(art.path / PROVENANCE), dict):
            return "provenance.json is not a JSON object"
    except (ValueError, OSError):
        return "provenance.json is unreadable"
    return None


#: vectors files larger than this are memory-mapped unless told otherwise (read through the
#: page cache: a 10M × 384 space is not held in RAM, nor twice)
MMAP_BYTES = 256 * 1024 * 1024


def load_space(ws: Workspace, name_or_id: str, *, mmap: bool | None = None) -> EmbeddingSpace:
    """Load a saved space, with its family's embedder and, for a large one, its neighbour
    index if built. The vectors are memory-mapped when ``mmap``, or (``None``) when the
    file is larger than :data:`MMAP_BYTES`.

    A space whose files are damaged raises :class:`~embeddings.errors.DamagedError`.
    """
    art = ws.get(KIND, name_or_id, fuzzy=True)
    problem = space_problem(art)
    if problem:
        raise DamagedError(KIND, art.name, problem)
    if mmap is None:
        mmap = (art.path / VECTORS).stat().st_size > MMAP_BYTES
    try:
        vectors = read_vectors(art.path, mmap=mmap)
        labels, meta = read_labels(art.path)
        provenance = read_json(art.path / PROVENANCE)
    except (ValueError, OSError, KeyError, EOFError) as exc:  # damaged in a way the cheap check cannot see
        raise DamagedError(KIND, art.name, f"{type(exc).__name__}: {_first_line(exc) if str(exc) else ''}"
                           ) from exc
    index = ann.open_index(art.path, len(labels), vectors.shape[1]) if ann.needs_index(len(labels)) else None
    return EmbeddingSpace(art.name, labels, vectors, meta, provenance, id=art.id,
                          embedder=embedder_for(art.path, provenance), ann=index)


def ensure_index(ws: Workspace, space: EmbeddingSpace, *, progress: Progress = no_progress):
    """The approximate neighbour index of a saved space above :data:`embeddings.analysis.ann.THRESHOLD`
    labels: opened, or built once (with progress; Cancel leaves nothing) and saved in the
    space's folder, then attached to ``space``. None for a small or unsaved space.

    The one thing set on a space after it is built: an index made later, on request (a loaded
    space that already has one is constructed with it)."""
    if space.ann is not None or space.id is None or not ann.needs_index(len(space)):
        return space.ann
    folder = ws.get(KIND, space.id).path
    with ws.lock(f"ann-{space.id}"):  # two sessions asking at once build it once
        space.ann = ann.ensure(folder, space.vectors, progress=progress)
    return space.ann


def list_spaces(ws: Workspace) -> list[Artefact]:
    return ws.list(KIND)
