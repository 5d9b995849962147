"""Batch encoding of a corpus into a space: in this process, or on Ray when one machine is
not enough.

``python -m embeddings encode --corpus C --model M [--engine local|ray] [--address ADDR]
[--batch-size B] --name N`` (:func:`encode_space`) encodes a corpus's documents or
sentences with:

- a sentence encoder: ``minilm``, a local sentence-transformers folder, or a space of
  this workspace made by one (a fine-tuned model keeps its folder);
- a static model (model2vec): a distilled space of this workspace, or its folder.

**Engines.** ``local`` encodes here, batch by batch. ``ray`` hands the same batches to
Ray Data: the texts are written as parquet shards (:data:`SHARD_ROWS` rows each),
``read_parquet`` reads them, and ``map_batches`` runs them through an **actor pool** whose
actors load the model once each (:class:`Encoder`) and call the very function the local
engine calls (:func:`encode_batch`), so both give the same vectors. Without
``--address`` Ray starts on this machine (``ray.init()``: nothing to install, tests and
CI need no cluster); with one it joins that cluster, whose nodes need this package and
the model's folder at the same path (or a model shipped in a package, as MiniLM is).

**Writing.** The vectors are streamed, as they arrive, into one memory-mapped
``vectors.npy`` inside the workspace's usual atomic build (all files or none; a Cancel
or a crash leaves nothing), so a corpus larger than memory is never held in it. Ray's
own parquet shards are the input side only: the space stays one ``.npy`` that the
explorer memory-maps (``load_space``), rather than shards it would have to concatenate.
Above :data:`embeddings.analysis.ann.THRESHOLD` rows the neighbour index is built with it.

Ray's telemetry is off (``RAY_USAGE_STATS_ENABLED=0``) and its dashboard is not started:
nothing leaves the machine.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from embeddings.errors import InputError, NotFoundError
from embeddings.progress import Progress, no_progress
from embeddings.space import EmbeddingSpace, Unit
from embeddings.store.cards import SENTENCE_ENCODER
from embeddings.store.model_folders import check_folder, copy_folder
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import Corpus

ENGINES = ("local", "ray")
UNITS = ("document", "sentence")
#: texts per parquet shard handed to Ray Data (one read task each)
SHARD_ROWS = 2_000
DEFAULT_BATCH = 64
#: encoder kinds
SENTENCE, STATIC = SENTENCE_ENCODER, "model2vec"


@dataclass(frozen=True)
class ModelRef:
    """What encodes: its kind (:data:`SENTENCE` or :data:`STATIC`), its folder, and its name
    as the user gave it (``minilm`` stays ``minilm``, so a cluster node finds it in the package)."""

    kind: str
    path: str
    name: str

    @property
    def portable(self) -> str:
        """What a Ray actor loads: ``minilm`` (found in the package on every node), else the path."""
        from embeddings.models.sentence import MINILM

        return MINILM if self.name == MINILM else self.path


def resolve(ws: Workspace, model: str) -> ModelRef:
    """``minilm``, a model folder (sentence-transformers or model2vec), or a space of the
    workspace made by a sentence encoder or by distillation."""
    from embeddings.models.sentence import MINILM, encoder_folder
    from embeddings.store.space_store import KIND

    folder = Path(model).expanduser()
    if model != MINILM and not folder.is_dir():
        try:
            art = ws.get(KIND, model)
        except NotFoundError:
            raise InputError(f"{model}: not minilm, a space of this workspace or a model folder.") from None
        if art.params.get("family") == STATIC and (art.path / "model").is_dir():
            return ModelRef(STATIC, str((art.path / "model").resolve()), model)
    elif model != MINILM:
        check_folder(folder)                 # before a byte of it is read (its config.json, below)
        if _is_static(folder):
            return ModelRef(STATIC, str(folder.resolve()), model)
    return ModelRef(SENTENCE, str(encoder_folder(ws, model)), model)


def _is_static(folder: Path) -> bool:
    """A model2vec folder: a ``config.json`` that names a static model (model2vec also writes a
    ``modules.json`` for sentence-transformers' ``StaticEmbedding``, whose window is infinite:
    loading it as a sentence encoder failed with an OverflowError, #26)."""
    import json

    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("model_type") == "model2vec"


def load(ref_kind: str, path: str):
    """The model, loaded once per process (each Ray actor loads its own)."""
    if ref_kind == STATIC:
        from embeddings.models.distil import load_static

        return load_static(path)
    from embeddings.models.sentence import load_encoder

    return load_encoder(path)


def encode_batch(kind: str, model, texts: list[str], unit: str, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """The one encoding step both engines run: normalised float32 rows. Documents longer
    than a sentence encoder's window are chunked and mean-pooled, as everywhere else."""
    if kind == STATIC:
        from embeddings.models.distil import encode_static

        return encode_static(model, texts)
    from embeddings.models.sentence import encode, encode_documents

    if unit == "document":
        return encode_documents(model, texts, batch_size=batch_size)[0]
    return encode(model, texts, batch_size=batch_size)


class Encoder:
    """A Ray Data actor: loads the model once, then encodes every batch it is handed."""

    def __init__(self, kind: str, path: str, unit: str, batch_size: int, threads: int = 1):
        import importlib

        importlib.import_module("embeddings")  # sets the offline environment in the actor's process too
        if kind == SENTENCE:
            import torch

            torch.set_num_threads(threads)  # Ray sets one thread per whole CPU; the actor has fractional CPUs

        self.kind, self.unit, self.batch_size = kind, unit, batch_size
        self.model = load(kind, path)

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) for t in batch["text"]]
        vectors = encode_batch(self.kind, self.model, texts, self.unit, self.batch_size)
        return {"row": batch["row"], "vector": list(vectors)}


# -- what to encode ----------------------------------------------------------------------
def units(corpus: Corpus, unit: str, limit: int | None = None) -> tuple[list[str], list[str], pd.DataFrame]:
    """(labels, texts, meta) of a corpus's documents or sentences (all their occurrences:
    a batch encoder does not deduplicate)."""
    from embeddings.models.docspaces import document_labels, document_meta

    if unit == "document":
        docs = corpus.documents()
        if limit:
            docs = docs.head(limit)
        return document_labels(docs), docs["text"].astype(str).tolist(), document_meta(docs)
    if unit == "sentence":
        table = corpus.sentence_table()
        if limit:
            table = table.head(limit)
        texts = table["text"].astype(str).tolist()
        labels = [f"#{d}.{i} {' '.join(t.split())[:60]}" for i, (d, t) in enumerate(zip(table["doc"], texts))]
        return labels, texts, pd.DataFrame({"doc": table["doc"].to_numpy(), "frequency": np.ones(len(texts), int)})
    raise InputError(f"Unknown unit {unit!r}; expected one of {', '.join(UNITS)}.")


def write_shards(texts: list[str], folder: Path, rows: int = SHARD_ROWS) -> list[Path]:
    """The texts as parquet shards (``row``, ``text``) for Ray Data to read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, start in enumerate(range(0, len(texts), rows)):
        chunk = texts[start:start + rows]
        table = pa.table({"row": np.arange(start, start + len(chunk), dtype=np.int64), "text": chunk})
        path = folder / f"part-{k:05d}.parquet"
        pq.write_table(table, path)
        paths.append(path)
    return paths


# -- engines ---------------------------------------------------------------------------------
def _local(ref: ModelRef, texts: list[str], unit: str, batch_size: int, sink, progress: Progress) -> None:
    model = load(ref.kind, ref.path)
    step = max(batch_size * 8, 512)
    for start in range(0, len(texts), step):
        chunk = texts[start:start + step]
        sink(np.arange(start, start + len(chunk)), encode_batch(ref.kind, model, chunk, unit, batch_size))
        progress((start + len(chunk)) / len(texts), f"Encoded {start + len(chunk):,} of {len(texts):,}")


def ray_init(address: str | None = None):
    """Join ``address``'s cluster, or start Ray on this machine (no dashboard, no telemetry).
    Returns True when this call started it (and so should stop it)."""
    import logging

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    for name in ("ray", "ray.data"):  # our progress is the one report; Ray's warnings go to its logs
        logging.getLogger(name).setLevel(logging.ERROR)

    if ray.is_initialized():
        return False
    kwargs = {"include_dashboard": False, "log_to_driver": False, "logging_level": "error",
              "configure_logging": False}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(**kwargs)
    return True


#: logical CPUs left to Ray Data's own tasks (listing the shards takes a whole one; reading
#: them less), so the actor pool can never hold every CPU and starve them: on a 2-core
#: machine it did, a deadlock. Logical only: the actors' threads still use every core.
READ_CPUS = 1.0


def ray_actors(ref: ModelRef) -> tuple[int, float, int]:
    """(actors, CPUs per actor, threads per actor). A static model is a lookup: one actor
    per core. A transformer gets two threads per actor (fewer, larger actors keep one model
    copy per two cores). The actors' logical CPUs leave :data:`READ_CPUS` to Ray Data's tasks."""
    import ray

    cpus = float(ray.cluster_resources().get("CPU", 1))
    threads = 1 if ref.kind == STATIC or cpus < 2 else 2
    actors = max(1, int(cpus // threads))
    return actors, round(max(0.25, (cpus - READ_CPUS) / actors), 3), threads


def _ray(ref: ModelRef, texts: list[str], unit: str, batch_size: int, sink, progress: Progress,
         address: str | None, workdir: Path) -> dict:
    import ray
    import ray.data

    started = ray_init(address)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        ctx.verbose_stats_logs = False
        write_shards(texts, workdir / "shards")
        actors, per, threads = ray_actors(ref)
        ds = ray.data.read_parquet(str(workdir / "shards"), num_cpus=READ_CPUS / 4)
        ds = ds.map_batches(Encoder, fn_constructor_kwargs={"kind": ref.kind, "path": ref.portable, "unit": unit,
                                                             "batch_size": batch_size, "threads": threads},
                            batch_size=max(batch_size * 4, 256), batch_format="numpy", num_cpus=per,
                            compute=ray.data.ActorPoolStrategy(size=actors))
        done = 0
        for batch in ds.iter_batches(batch_format="numpy", batch_size=None, prefetch_batches=1):
            vectors = np.stack(batch["vector"]).astype(np.float32, copy=False)
            sink(np.asarray(batch["row"], dtype=np.int64), vectors)
            done += len(vectors)
            progress(done / len(texts), f"Encoded {done:,} of {len(texts):,} on Ray ({actors} actors × {per:g} CPU)")
        return {"actors": actors, "cpus_per_actor": per, "threads_per_actor": threads, "cluster": address or "local",
                "ray": ray.__version__, "shards": len(list((workdir / "shards").glob("*.parquet")))}
    finally:
        if started:
            ray.shutdown()


def encode_space(ws: Workspace, corpus: Corpus, model: str, name: str, *, unit: Unit = "document",
                 engine: str = "local", address: str | None = None, batch_size: int = DEFAULT_BATCH,
                 limit: int | None = None, progress: Progress = no_progress) -> EmbeddingSpace:
    """Encode ``corpus``'s documents or sentences with ``model`` on ``engine`` and save the
    space ``name`` (vectors streamed to disk; nothing is saved if it fails or is cancelled)."""
    from embeddings.models.sentence import MINILM
    from embeddings.store.files import utc_now
    from embeddings.store.space_store import KIND, load_space, open_vectors, write_labels, write_provenance

    if engine not in ENGINES:
        raise InputError(f"Unknown engine {engine!r}; expected one of {', '.join(ENGINES)}.")
    if address and engine != "ray":
        raise InputError("--address joins a Ray cluster: use it with --engine ray.")
    if batch_size < 1:
        raise InputError("The batch size must be at least 1.")
    ref = resolve(ws, model)
    name = ws.check_new_name(KIND, name)
    labels, texts, meta = units(corpus, unit, limit)
    if not texts:
        raise InputError(f"{corpus.name} has no {unit}s to encode.")
    dim = _dimension(ref)
    provenance = {"family": ref.kind, "model": MINILM if ref.name == MINILM else ref.path, "model_path": ref.path,
                  "unit": unit,
                  "params": {"unit": unit, "batch_size": batch_size, "engine": engine, "limit": limit},
                  "corpus": corpus.name, "corpus_id": corpus.id, "corpus_sha256": corpus.stats.get("sha256"),
                  "engine": engine}
    if ref.kind == SENTENCE and unit == "document":
        from embeddings.models.sentence import inherit_split

        columns = meta.to_dict("series")
        inherit_split(columns, Path(ref.path), corpus, provenance)
        meta = pd.DataFrame(columns)

    def build(folder: Path) -> dict:
        from embeddings.analysis.ann import ensure, needs_index

        vectors = open_vectors(folder, len(texts), dim)
        seen = np.zeros(len(texts), dtype=bool)

        def sink(rows: np.ndarray, block: np.ndarray) -> None:
            vectors[rows] = block
            seen[rows] = True

        start = time.perf_counter()
        if engine == "ray":  # the shards live in the build folder (locked while it builds), then go
            provenance["ray"] = _ray(ref, texts, unit, batch_size, sink, lambda f, m: progress(0.9 * f, m),
                                     address, folder / "_ray")
            shutil.rmtree(folder / "_ray", ignore_errors=True)
        else:
            _local(ref, texts, unit, batch_size, sink, lambda f, m: progress(0.9 * f, m))
        if not seen.all():
            raise InputError(f"The {engine} engine returned {int(seen.sum()):,} of {len(texts):,} vectors.")
        seconds = time.perf_counter() - start
        vectors.flush()
        provenance.update(seconds=round(seconds, 3), texts_per_second=round(len(texts) / seconds, 1),
                          model_bytes=_bytes(Path(ref.path)), created_at=utc_now())
        if ref.kind == STATIC:  # a static space embeds new texts through its own copy of the model
            copy_folder(ref.path, folder / "model")      # its regular files only, never a link out
        write_labels(folder, labels, meta)
        if needs_index(len(texts)):
            ensure(folder, vectors, progress=lambda f, m: progress(0.9 + 0.1 * f, m))
        write_provenance(folder, provenance)
        return {"family": ref.kind, "vocabulary": len(texts), "dim": dim, "unit": unit, "corpus": corpus.name,
                "seconds": provenance["seconds"], "words_per_second": None, "can_embed": True}

    if len(set(labels)) != len(labels):
        raise InputError("Two texts got the same label; this should not happen (report it).")
    ws.create(KIND, name, build, params=provenance, parent=None)
    progress(1.0, f"Saved {name}")
    return load_space(ws, name)


def _dimension(ref: ModelRef) -> int:
    model = load(ref.kind, ref.path)
    if ref.kind == STATIC:
        return int(model.dim)
    dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(dim_of())


def _bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
