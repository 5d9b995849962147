"""A space from an OpenAI-compatible embeddings endpoint (#30): a local Ollama, vLLM, TEI or
llama.cpp server, another machine's ``python -m embeddings serve``, or a hosted provider.

Nothing leaves this machine unless the user names the host: a URL whose host is not loopback
is refused until the host is confirmed by name (``confirmed_host``), and the space's card and
every result built on it carry that host. The API key is read from an environment variable
the user names, at the moment of each request; only the variable's name is recorded, never
the key (not in the workspace, a URL, a log or a report).

Texts go in batches over ``httpx``; a 429 or a 5xx is retried with exponential backoff
(``Retry-After`` honoured), a 4xx is refused with the endpoint's own message. Each answered
batch is kept on disk under the workspace, keyed by the endpoint, the model and the batch's
texts, so a rerun after a failure or a kill sends only the batches not yet answered.
Progress moves and Cancel is heard between batches and during every wait.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from embeddings.errors import InputError
from embeddings.progress import Progress, no_progress
from embeddings.serve import is_loopback

FAMILY = "endpoint"
#: attempts per batch on a 429 or a 5xx, the first wait, and the longest
RETRIES, FIRST_WAIT, LONGEST_WAIT = 5, 0.5, 30.0
#: the estimate's rule of thumb (OpenAI's for English); the endpoint's own count is not asked
CHARS_PER_TOKEN = 4
CACHE = ".cache/endpoint"


@dataclass(frozen=True)
class EndpointSpec:
    url: str
    model: str
    key_env: str | None = None             #: the environment variable holding the key
    price_per_million: float | None = None  #: USD per million tokens, typed by the user
    batch_size: int = 64
    confirmed_host: str | None = None      #: a host outside this machine, named by the user
    timeout: float = 120.0

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def remote(self) -> bool:
        return not is_loopback(self.host)

    @property
    def endpoint(self) -> str:
        """``…/v1/embeddings`` from the base URL the user gave (with or without the path)."""
        base = self.url.rstrip("/")
        return base if base.endswith("/embeddings") else base + "/embeddings"

    def public(self) -> dict:
        """What the card records: no key, no credentials, no query string."""
        parts = urlsplit(self.url)
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else ""
        return {"url": urlunsplit((parts.scheme, netloc, parts.path, "", "")), "host": self.host, "model": self.model,
                "remote": self.remote, "key_env": self.key_env, "price_per_million": self.price_per_million,
                "batch_size": self.batch_size}


def check(spec: EndpointSpec) -> None:
    """Refuse what would send text somewhere the user did not name, or leak a secret."""
    parts = urlsplit(spec.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{spec.url!r} is not an http(s) URL with a host.")
    if parts.username or parts.password or parts.query:
        raise InputError("Put no credentials or query string in the URL: name the environment variable that holds "
                         "the key instead (--key-env).")
    if spec.remote and (spec.confirmed_host or "").lower() != spec.host:
        raise InputError(f"{spec.host} is not this machine: the corpus's text would be sent there. To go ahead, "
                         f"confirm the host by name (--confirm-host {spec.host}, or the page's confirmation).")
    if not spec.model.strip():
        raise InputError("Name the model the endpoint serves (--model).")
    if not 1 <= spec.batch_size <= 2048:
        raise InputError(f"The batch size must be between 1 and 2,048; got {spec.batch_size}.")
    if spec.key_env and not os.environ.get(spec.key_env):
        raise InputError(f"The environment variable {spec.key_env} is not set (it should hold the API key).")


def _headers(spec: EndpointSpec) -> dict:
    key = os.environ.get(spec.key_env, "") if spec.key_env else ""
    return {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}


def _wait(seconds: float, progress: Progress, at: float, why: str) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        progress(at, f"{why}; retrying in {left:.0f} s")
        time.sleep(min(0.25, left))


def _request(client, spec: EndpointSpec, texts: list[str], progress: Progress, at: float) -> np.ndarray:
    import httpx

    wait = FIRST_WAIT
    for attempt in range(1, RETRIES + 1):
        try:
            response = client.post(spec.endpoint, json={"model": spec.model, "input": texts}, headers=_headers(spec))
        except httpx.HTTPError as exc:
            if attempt == RETRIES:
                raise InputError(f"{spec.host} did not answer ({type(exc).__name__}) after {RETRIES} tries.") from None
            _wait(wait, progress, at, f"{spec.host} did not answer")
            wait = min(2 * wait, LONGEST_WAIT)
            continue
        if response.status_code == 429 or response.status_code >= 500:
            if attempt == RETRIES:
                raise InputError(f"{spec.host} answered {response.status_code} {RETRIES} times; try again later.")
            after = response.headers.get("Retry-After", "")
            delay = min(float(after), LONGEST_WAIT) if after.replace(".", "", 1).isdigit() else wait
            _wait(delay, progress, at, f"{spec.host} answered {response.status_code}")
            wait = min(2 * wait, LONGEST_WAIT)
            continue
        if response.status_code >= 400:
            raise InputError(f"{spec.host} refused the request ({response.status_code}: {_message(response)}).")
        return _vectors(response, len(texts), spec.host)
    raise AssertionError("unreachable")


def _message(response) -> str:
    try:
        error = response.json().get("error")
        return str(error.get("message") if isinstance(error, dict) else error)[:300]
    except (ValueError, AttributeError):
        return response.text[:300]


def _vectors(response, n: int, host: str) -> np.ndarray:
    try:
        data = sorted(response.json()["data"], key=lambda d: d["index"])
        vectors = np.asarray([d["embedding"] for d in data], dtype=np.float32)
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{host} answered, but not with OpenAI's embeddings format ({exc}).") from None
    if vectors.ndim != 2 or len(vectors) != n or not np.isfinite(vectors).all():
        raise InputError(f"{host} answered {len(vectors)} vectors for {n} texts, or vectors that are not finite.")
    return vectors


def _batch_file(folder: Path, i: int, spec: EndpointSpec, texts: list[str]) -> Path:
    digest = hashlib.sha256("\x1f".join([spec.endpoint, spec.model, *texts]).encode()).hexdigest()[:16]
    return folder / f"{i:06d}-{digest}.npy"


def embed_texts(spec: EndpointSpec, texts: list[str], *, cache: Path | None = None,
                progress: Progress = no_progress) -> tuple[np.ndarray, dict]:
    """Every text's vector from the endpoint, batch by batch; ``(vectors, stats)``. With
    ``cache``, each answered batch is kept there and reused by a later call."""
    import httpx

    check(spec)
    batches = [texts[i:i + spec.batch_size] for i in range(0, len(texts), spec.batch_size)]
    parts, reused = [], 0
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    with httpx.Client(timeout=spec.timeout) as client:
        for i, batch in enumerate(batches):
            at = i / max(len(batches), 1)
            progress(at, f"batch {i + 1:,} of {len(batches):,}")
            file = _batch_file(cache, i, spec, batch) if cache is not None else None
            if file is not None and file.is_file():
                parts.append(np.load(file, allow_pickle=False))
                reused += 1
                continue
            vectors = _request(client, spec, batch, progress, at)
            if file is not None:
                tmp = file.with_suffix(".part.npy")
                np.save(tmp, vectors)
                os.replace(tmp, file)              # a batch is on disk whole or not at all
            parts.append(vectors)
    progress(1.0, f"{len(batches):,} batches answered")
    dims = {p.shape[1] for p in parts}
    if len(dims) > 1:
        raise InputError(f"{spec.host} answered vectors of different lengths ({sorted(dims)}).")
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32), {"batches": len(batches),
                                                                             "batches_reused": reused}


def estimate_texts(spec: EndpointSpec, texts: list[str]) -> dict:
    """Tokens and cost before a run: at :data:`CHARS_PER_TOKEN` characters a token."""
    characters = sum(len(t) for t in texts)
    tokens = math.ceil(characters / CHARS_PER_TOKEN)
    cost = tokens / 1e6 * spec.price_per_million if spec.price_per_million is not None else None
    return {"texts": len(texts), "characters": characters, "tokens_estimated": tokens,
            "cost_estimated_usd": round(cost, 4) if cost is not None else None, "host": spec.host,
            "remote": spec.remote, "batches": math.ceil(len(texts) / spec.batch_size),
            "rule": f"{CHARS_PER_TOKEN} characters per token"}


def _units(ws, corpus: str, unit: str):
    from embeddings.models.sentence import corpus_units
    from embeddings.text.corpus import get_corpus

    c = get_corpus(ws, corpus)
    labels, texts, meta = corpus_units(c, unit, None)
    return c, labels, texts, meta


def estimate(ws, spec: EndpointSpec, corpus: str, unit: str = "document") -> dict:
    check(spec)
    return estimate_texts(spec, _units(ws, corpus, unit)[2])


def cache_folder(ws, spec: EndpointSpec, corpus_id: str, unit: str) -> Path:
    key = hashlib.sha256("\x1f".join([spec.endpoint, spec.model, corpus_id, unit, str(spec.batch_size)]).encode())
    return Path(ws.root) / CACHE / key.hexdigest()[:20]


def add_endpoint(ws, spec: EndpointSpec, name: str, *, corpus: str, unit: str = "document",
                 progress: Progress = no_progress):
    """Encode a corpus's units through the endpoint and save the space (resumable)."""
    import pandas as pd

    from embeddings.space import EmbeddingSpace
    from embeddings.store.space_store import save_space

    check(spec)
    name = ws.check_new_name("space", name)
    c, labels, texts, meta = _units(ws, corpus, unit)
    if not texts:
        raise InputError(f"{c.name} has no {unit}s to encode.")
    folder = cache_folder(ws, spec, c.id, unit)
    start = time.perf_counter()
    vectors, stats = embed_texts(spec, texts, cache=folder, progress=progress)
    seconds = time.perf_counter() - start
    sent = estimate_texts(spec, texts)
    provenance = {"family": FAMILY, "unit": unit, "model": f"{spec.model} at {spec.host}", "corpus": c.name,
                  "corpus_id": c.id, "corpus_sha256": c.stats.get("sha256"), "seconds": round(seconds, 3),
                  "texts_per_second": round(len(texts) / seconds, 1) if seconds else None,
                  "endpoint": {**spec.public(), **stats, "tokens_estimated": sent["tokens_estimated"],
                               "cost_estimated_usd": sent["cost_estimated_usd"]}}
    space = EmbeddingSpace.from_arrays(name, labels, vectors, meta=pd.DataFrame(meta), provenance=provenance,
                                       embedder=endpoint_embedder(None, provenance))
    saved = save_space(ws, space, name)
    shutil.rmtree(folder, ignore_errors=True)       # the space holds the vectors now
    return saved


def endpoint_embedder(folder, provenance: dict):
    """New texts (queries) through the same endpoint, with the key from the same variable."""
    e = provenance.get("endpoint") or {}
    spec = EndpointSpec(url=e.get("url", ""), model=e.get("model", ""), key_env=e.get("key_env"),
                        batch_size=int(e.get("batch_size") or 64), confirmed_host=e.get("host"))

    def embed(texts: list[str]) -> np.ndarray:
        return embed_texts(spec, list(texts))[0]

    return embed
