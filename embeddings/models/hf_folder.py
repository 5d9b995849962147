"""Any local Hugging Face encoder folder, not only a sentence-transformers one (#30).

A folder with ``modules.json`` is a sentence-transformers model and loads as one. Any other
folder with a ``config.json`` is a plain ``transformers`` checkpoint (a BERT, a RoBERTa, an
embedding LLM): it is wrapped in sentence-transformers' own modules, so every path of the
app (encoding, chunking, prompts, fine-tuning) treats it alike, with an explicit, recorded
pooling:

- ``mean`` (the default for encoders): the mean of the token vectors, padding left out;
- ``cls``: the first token's vector;
- ``lasttoken`` (the default for decoder-only models, as embedding LLMs are trained): the
  last real token's vector (the tokenizer's end-of-text token stands in for a missing pad);

then L2 normalisation unless turned off, the window from the config (its position
embeddings, capped by the tokenizer's maximum), and prompts for queries and documents
from the folder or typed by the user. The folder checks of :mod:`embeddings.store.model_folders`
apply (regular files, size limits) and no code of the folder's own ever runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, get_args

from embeddings.errors import InputError

Pooling = Literal["mean", "cls", "lasttoken"]
POOLINGS: tuple[Pooling, ...] = get_args(Pooling)
#: model types that are decoder-only (their last token has seen the whole text)
DECODERS = {"gpt2", "gptj", "gpt_neo", "gpt_neox", "llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2",
            "gemma3", "phi", "phi3", "opt", "bloom", "falcon", "olmo", "olmo2", "starcoder2", "stablelm"}
#: a window no longer than this is taken from the config (a RoPE model may claim 128k)
MAX_WINDOW = 8192
LICENCE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING")
#: every load of a model folder passes these (transformers, sentence-transformers): files on this
#: machine only, and never the folder's own Python, so nothing can prompt on stdin either (#26)
LOAD_AS_DATA = {"local_files_only": True, "trust_remote_code": False}


Role = Literal["query", "document"]
#: the prompt names sentence-transformers' ``encode_document`` looks for, in its order
_DOCUMENT_PROMPTS = ("document", "passage", "corpus")


def prompts_of(model) -> dict[str, str]:
    """The prompts a model folder declares (``config_sentence_transformers.json``) for queries
    and for documents (the first non-empty of ``document``, ``passage``, ``corpus``); empty
    when it declares none (MiniLM). Passed explicitly: sentence-transformers 6 adds an empty
    ``document`` prompt that its ``encode_document`` would take before a declared ``passage``.

    >>> class M: prompts = {"query": "query: ", "passage": "passage: ", "classification": "c: "}
    >>> prompts_of(M())
    {'query': 'query: ', 'document': 'passage: '}
    """
    declared = getattr(model, "prompts", None) or {}
    document = next((declared[k] for k in _DOCUMENT_PROMPTS if declared.get(k)), None)
    return {k: v for k, v in (("query", declared.get("query")), ("document", document)) if v}




def is_sentence_transformers(path: Path) -> bool:
    return (Path(path) / "modules.json").is_file()


def read_config(path: Path) -> dict:
    file = Path(path) / "config.json"
    try:
        return json.loads(file.read_text(encoding="utf-8")) if file.is_file() and file.stat().st_size < 1 << 20 else {}
    except ValueError as exc:
        raise InputError(f"{file} is not valid JSON ({exc}).") from None


def is_image_text_folder(path: str | Path) -> bool:
    """Whether ``path`` holds a CLIP-family model (a text and a vision tower in one config):
    :mod:`embeddings.images.clip` reads it, not the text-encoder path."""
    try:
        config = read_config(Path(path).expanduser())
    except (InputError, OSError):
        return False
    return isinstance(config.get("text_config"), dict) and isinstance(config.get("vision_config"), dict)


def is_decoder(config: dict) -> bool:
    """A decoder-only (causal) language model, by its config."""
    architectures = [str(a) for a in config.get("architectures") or []]
    return bool(config.get("is_decoder")) or config.get("model_type") in DECODERS or \
        any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures)


def default_pooling(config: dict) -> Pooling:
    """``lasttoken`` for a decoder-only model, ``mean`` for an encoder.

    >>> default_pooling({"model_type": "qwen2"}), default_pooling({"model_type": "bert"})
    ('lasttoken', 'mean')
    """
    return "lasttoken" if is_decoder(config) else "mean"


def window(config: dict, tokenizer_max: int | None = None) -> int:
    """The longest input in tokens: the config's position embeddings, capped by the tokenizer's
    own maximum and :data:`MAX_WINDOW`.

    >>> window({"max_position_embeddings": 512}, 10**30), window({"n_positions": 1024}, 512)
    (512, 512)
    """
    positions = config.get("max_position_embeddings") or config.get("n_positions") or config.get("n_ctx") or 512
    caps = [int(positions), MAX_WINDOW] + ([int(tokenizer_max)] if tokenizer_max and tokenizer_max < 10**7 else [])
    return min(caps)


def build_encoder(path: Path, pooling: Pooling | None = None, *, normalise: bool = True,
                  prompts: dict[str, str] | None = None):
    """A SentenceTransformer over the plain ``transformers`` folder ``path``: its weights, the
    ``pooling`` (default :func:`default_pooling`), normalisation, the prompts."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling as PoolingModule, Transformer

    config = read_config(path)
    pooling = pooling or default_pooling(config)
    if pooling not in POOLINGS:
        raise InputError(f"Unknown pooling {pooling!r}; expected one of {', '.join(POOLINGS)}.")
    try:
        body = Transformer(str(path), model_kwargs=dict(LOAD_AS_DATA), processor_kwargs=dict(LOAD_AS_DATA),
                           config_kwargs=dict(LOAD_AS_DATA))
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"Could not load the model in {path}: {str(exc).splitlines()[0]}") from exc
    tokenizer = body.tokenizer
    if getattr(tokenizer, "pad_token", None) is None and getattr(tokenizer, "eos_token", None) is not None:
        tokenizer.pad_token = tokenizer.eos_token          # decoder-only tokenizers often have no pad token
    body.max_seq_length = window(config, getattr(tokenizer, "model_max_length", None))
    dim = int(body.get_embedding_dimension() if hasattr(body, "get_embedding_dimension")
              else body.get_word_embedding_dimension())
    modules = [body, PoolingModule(dim, pooling_mode=pooling)] + ([Normalize()] if normalise else [])
    return SentenceTransformer(modules=modules, device="cpu", prompts=dict(prompts or {}))


def model_card(path: Path, model=None, *, pooling: str | None = None, normalise: bool = True) -> dict:
    """What the Models page shows of a folder: architecture, parameters, dimension, window,
    pooling, prompts, and its licence file (name and first line) if it has one."""
    config = read_config(path)
    card: dict = {"architecture": ", ".join(config.get("architectures") or []) or config.get("model_type"),
                  "model_type": config.get("model_type"), "folder_kind": "sentence-transformers"
                  if is_sentence_transformers(path) else "transformers"}
    if model is not None:
        card["parameters"] = int(sum(p.numel() for p in model.parameters()))
        dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        card["dim"] = int(dim_of())
        card["max_length"] = int(getattr(model, "max_seq_length", 0) or 0) or None
        card["prompts"] = prompts_of(model)
    if card["folder_kind"] == "transformers":
        card["pooling"] = pooling or default_pooling(config)
        card["normalised"] = normalise
    for name in LICENCE_FILES:
        file = Path(path) / name
        if file.is_file():
            first = next((line.strip() for line in file.read_text(encoding="utf-8", errors="replace")[:4096]
                          .splitlines() if line.strip()), "")
            card["licence"] = {"file": name, "first_line": first[:200]}
            break
    return card
