"""Serve a space as an OpenAI-compatible embeddings endpoint (#30): ``POST /v1/embeddings``
and ``GET /v1/models``, on loopback unless the user names another host.

Any space that embeds new text answers (:mod:`embeddings.models.text_embed`: an encoder, a
fine-tuned or distilled one, FastText, a pooled word space, TF-IDF + LSA). The app is
Starlette, run by uvicorn (both maintained, both already under Streamlit). Requests are
bounded (:data:`LIMITS`: inputs per call, characters per input, bytes per body) and refused
with a 4xx and one message, in OpenAI's error shape. The model runs in a worker thread, one
request at a time, so the event loop keeps answering (a refusal does not wait behind an
embedding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from dataclasses import dataclass

import numpy as np

from embeddings.errors import InputError
from embeddings.space import EmbeddingSpace

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765


@dataclass(frozen=True)
class Limits:
    """What one request may ask (the one home of these bounds)."""

    inputs: int = 256               #: texts per call
    characters: int = 32_000        #: characters per text
    body_bytes: int = 8 * 1024 * 1024


LIMITS = Limits()


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost``: this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0"), is_loopback("example.com")
    (True, True, False, False)
    """
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _error(status: int, message: str, kind: str = "invalid_request_error"):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)


def parse_request(body: bytes, model: str, limits: Limits = LIMITS) -> list[str]:
    """The texts of an embeddings request, or :class:`RequestError` with its status and message."""
    if len(body) > limits.body_bytes:
        raise RequestError(413, f"The request is {len(body):,} bytes; the limit is {limits.body_bytes:,}.")
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise RequestError(400, "The body is not JSON.") from None
    if not isinstance(payload, dict) or "input" not in payload:
        raise RequestError(400, 'The body must be a JSON object with "input" (a string or a list of strings).')
    if payload.get("model") not in (None, model):
        raise RequestError(404, f"This server serves {model!r}, not {payload.get('model')!r}.")
    if payload.get("encoding_format", "float") != "float":
        raise RequestError(400, 'Only "encoding_format": "float" is served.')
    texts = payload["input"]
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise RequestError(400, '"input" must be a string or a non-empty list of strings (token ids are not served).')
    if len(texts) > limits.inputs:
        raise RequestError(413, f"{len(texts):,} inputs in one call; the limit is {limits.inputs:,}.")
    long = next((i for i, t in enumerate(texts) if len(t) > limits.characters), None)
    if long is not None:
        raise RequestError(413, f"Input {long} has {len(texts[long]):,} characters; the limit is {limits.characters:,}.")
    return texts


class RequestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def create_app(space: EmbeddingSpace, embed, *, limits: Limits = LIMITS):
    """The Starlette app serving ``space`` through ``embed`` (texts → vectors)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    lock = asyncio.Lock()          # one embedding at a time: the model is not re-entrant on two cores

    async def embeddings(request):
        try:
            texts = parse_request(await request.body(), space.name, limits)
        except RequestError as exc:
            return _error(exc.status, str(exc))
        async with lock:
            try:
                vectors = await run_in_threadpool(embed, texts)
            except InputError as exc:
                return _error(422, str(exc))
        vectors = np.asarray(vectors, dtype=np.float32)
        if not np.isfinite(vectors).all():
            return _error(500, "The model returned a vector that is not finite.", "server_error")
        words = sum(len(t.split()) for t in texts)
        return JSONResponse({"object": "list", "model": space.name,
                             "data": [{"object": "embedding", "index": i, "embedding": v.tolist()}
                                      for i, v in enumerate(vectors)],
                             "usage": {"prompt_tokens": words, "total_tokens": words}})

    async def models(request):
        return JSONResponse({"object": "list", "data": [{"id": space.name, "object": "model", "created": 0,
                                                         "owned_by": "embedding-explorer", "dimensions": space.dim}]})

    async def not_found(request, exc):
        return _error(404, f"No route {request.url.path}; this server answers POST /v1/embeddings and GET /v1/models.")

    async def wrong_method(request, exc):
        return _error(405, f"{request.method} is not served on {request.url.path}.")

    return Starlette(routes=[Route("/v1/embeddings", embeddings, methods=["POST"]),
                             Route("/v1/models", models, methods=["GET"])],
                     exception_handlers={404: not_found, 405: wrong_method})


def servable(ws, name: str):
    """``(space, embed)`` for a space that embeds new text, or InputError saying why not."""
    from embeddings.models.text_embed import text_embedder
    from embeddings.store.space_store import load_space

    space = load_space(ws, name)
    embed, why = text_embedder(ws, space)
    if embed is None:
        raise InputError(f"{space.name} cannot be served: {why}.")
    return space, embed


def serve(ws, name: str, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log=print) -> None:
    """Serve the space ``name`` until interrupted (uvicorn, one process)."""
    import uvicorn

    space, embed = servable(ws, name)
    if not is_loopback(host):
        log(f"WARNING: serving {space.name} on {host}: other machines can send it text and read its vectors. "
            "Use the default 127.0.0.1 to keep it on this machine.")
    log(f"Serving {space.name} ({space.dim} dimensions) at http://{host}:{port}/v1/embeddings")
    uvicorn.run(create_app(space, embed), host=host, port=port, log_level="warning", access_log=False)
