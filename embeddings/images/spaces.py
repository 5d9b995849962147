"""The space of an image corpus under a CLIP-family model: images and texts in one set of rows.

Rows, in this order (``meta["unit"]``):

- ``image``: one per image, labelled by its file name;
- ``caption``: one per distinct caption (images sharing a caption share its row);
- ``term``: the captions' most frequent words (:data:`TERMS`, stopwords left out).

``meta["modality"]`` is ``image`` or ``text`` and ``meta["doc"]`` the image a row belongs to (its
first image for a shared caption; -1 for a term), so every page can tell the kinds apart and
find a thumbnail. The provenance records the model folder, the units, how many rows are images
and the measured images per second. The space embeds new texts with the same model; new images
go through :func:`embed_images`. A space adapted on the corpus's pairs (:mod:`.adapter`) keeps
its two linear maps and applies them to both.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.progress import Progress, no_progress, stage
from embeddings.space import EmbeddingSpace
from embeddings.store.workspace import Workspace

FAMILY = "clip"
UNIT = "image+text"
UNITS = ("image", "caption", "term")
TERMS = 500
ADAPTER_FILES = ("adapter_image.npy", "adapter_text.npy")
#: the provenance key of a space customised on its corpus's pairs (an adapter or a fine-tune): the run
CUSTOMISED = "customised"


def is_image_space(space: EmbeddingSpace) -> bool:
    return space.provenance.get("family") == FAMILY


def _terms(corpus, n: int, taken: set[str]) -> pd.DataFrame:
    from gensim.parsing.preprocessing import STOPWORDS

    vocab = corpus.vocabulary()
    keep = vocab[~vocab["term"].isin(STOPWORDS) & vocab["term"].str.contains(r"[^\W\d_]", regex=True)
                 & ~vocab["term"].isin(taken)]
    return keep.head(n)


def image_text_rows(corpus, *, terms: int = TERMS) -> pd.DataFrame:
    """``label, unit, modality, doc, frequency``: the rows of the space of ``corpus``."""
    from .corpus import image_table

    table = image_table(corpus)
    images = pd.DataFrame({"label": table["file"], "unit": "image", "modality": "image", "doc": table["doc"],
                           "frequency": 1})
    taken = set(images["label"])
    caps = table[~table["caption"].isin(taken)].groupby("caption", sort=False)["doc"].agg(["first", "size"])
    captions = pd.DataFrame({"label": caps.index, "unit": "caption", "modality": "text",
                             "doc": caps["first"].to_numpy(), "frequency": caps["size"].to_numpy()})
    taken |= set(captions["label"])
    words = _terms(corpus, terms, taken)
    term_rows = pd.DataFrame({"label": words["term"].to_numpy(), "unit": "term", "modality": "text", "doc": -1,
                              "frequency": words["count"].to_numpy()})
    return pd.concat([images, captions, term_rows], ignore_index=True)


def add_image_space(ws: Workspace, corpus: str, model: str, name: str, *, terms: int = TERMS,
                    progress: Progress = no_progress) -> EmbeddingSpace:
    """Embed the images, captions and caption words of the image corpus ``corpus`` with the
    CLIP-family folder ``model`` and save the space as ``name``."""
    from embeddings.store.space_store import save_space

    from .clip import encode_texts, load_clip
    from .corpus import open_image_corpus

    name = ws.check_new_name("space", name)
    c = open_image_corpus(ws, corpus)
    progress(0.0, "Loading the model")
    clip = load_clip(model)
    rows = image_text_rows(c, terms=terms)
    is_image = (rows["modality"] == "image").to_numpy()
    started = time.perf_counter()
    docs = rows.loc[is_image, "doc"].tolist()
    image_vectors = images_in_batches(clip, c, docs, stage(progress, 0.02, 0.8))
    image_seconds = time.perf_counter() - started
    text_vectors = encode_texts(clip, rows.loc[~is_image, "label"].tolist(), progress=stage(progress, 0.8, 0.97))
    vectors = np.empty((len(rows), clip.dim), dtype=np.float32)
    vectors[is_image], vectors[~is_image] = image_vectors, text_vectors
    provenance = {"family": FAMILY, "unit": UNIT, "units": list(UNITS), "model": clip.model_type,
                  "model_path": str(clip.path), "corpus_id": c.id, "corpus": c.name, "dim": clip.dim,
                  "image_rows": int(is_image.sum()), "seconds": round(time.perf_counter() - started, 3),
                  "images_per_second": round(len(docs) / image_seconds, 2) if image_seconds > 0 else None,
                  "model_bytes": clip.weight_bytes(), "card": clip.card()}
    space = EmbeddingSpace.from_arrays(name, rows["label"].tolist(), vectors, normalised=True,
                                       meta=rows.drop(columns=["label", "frequency"]),
                                       frequency=rows["frequency"].to_numpy(), provenance=provenance,
                                       embedder=clip_embedder(None, provenance))
    progress(0.98, "Saving")
    saved = save_space(ws, space, name)
    progress(1.0, "Saved")
    return with_embedder(ws, saved)


def with_embedder(ws: Workspace, space: EmbeddingSpace) -> EmbeddingSpace:
    """A space just saved, embedding new texts as a loaded one does."""
    import dataclasses

    from embeddings.store.space_store import KIND

    return dataclasses.replace(space, embedder=clip_embedder(ws.get(KIND, space.id).path, space.provenance))


def images_in_batches(clip, corpus, docs, progress: Progress) -> np.ndarray:
    """Image vectors of ``docs``, decoding one batch at a time (memory: one batch of images)."""
    from .clip import IMAGE_BATCH, encode_images
    from .corpus import load_image

    out = np.empty((len(docs), clip.dim), dtype=np.float32)
    for start in range(0, len(docs), IMAGE_BATCH):
        batch = [load_image(corpus, d) for d in docs[start:start + IMAGE_BATCH]]
        out[start:start + len(batch)] = encode_images(clip, batch)
        done = start + len(batch)
        progress(done / max(1, len(docs)), f"Images: {done:,} of {len(docs):,}")
    return out


def _adapter(folder: Path | None) -> tuple[np.ndarray, np.ndarray] | None:
    if folder is None or not all((folder / f).is_file() for f in ADAPTER_FILES):
        return None
    return tuple(np.load(folder / f, allow_pickle=False) for f in ADAPTER_FILES)


def model_folder(folder: Path | None, provenance: dict) -> str:
    """The space's model: its own copy (a fine-tuned one keeps it in ``model/``), else the folder it names."""
    own = folder / "model" if folder is not None else None
    return str(own) if own is not None and own.is_dir() else provenance["model_path"]


def adapt(vectors: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Rows mapped by an adapter's matrix, normalised again."""
    from embeddings.space import normalise

    return normalise(vectors @ matrix)


def clip_embedder(folder: Path | None, provenance: dict, maps: tuple[np.ndarray, np.ndarray] | None = None):
    """The space's text embedder: its model, then its adapter (saved in ``folder``, or ``maps``)."""
    from .clip import encode_texts, load_clip

    maps = maps if maps is not None else _adapter(folder)
    model = model_folder(folder, provenance)

    def embed(texts: list[str]) -> np.ndarray:
        vectors = encode_texts(load_clip(model), list(texts))
        return adapt(vectors, maps[1]) if maps is not None else vectors

    return embed


def embed_images(ws: Workspace, space: EmbeddingSpace, images: list) -> np.ndarray:
    """Vectors of new images (PIL) in ``space``: its model, then its adapter if it has one."""
    from embeddings.store.space_store import KIND

    from .clip import encode_images, load_clip

    if not is_image_space(space):
        raise InputError(f"{space.name} embeds no images; choose a space made by an image-text model.")
    folder = ws.get(KIND, space.id).path
    maps = _adapter(folder)
    vectors = encode_images(load_clip(model_folder(folder, space.provenance)), images)
    return adapt(vectors, maps[0]) if maps is not None else vectors


def rows_of(space: EmbeddingSpace, unit: str) -> np.ndarray:
    """Row indices of one unit (``image``, ``caption`` or ``term``)."""
    return np.flatnonzero(space.meta["unit"].to_numpy() == unit)
