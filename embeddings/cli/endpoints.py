"""``serve`` (a space as an OpenAI-compatible endpoint) and ``space add-endpoint`` (a space
from one)."""

from __future__ import annotations

import sys

from .common import _command, _emit, _progress_printer, _space_line, _space_summary


def cmd_serve(ws, args) -> None:
    from embeddings.serve import serve

    serve(ws, args.space, host=args.host, port=args.port, log=lambda m: print(m, file=sys.stderr, flush=True))


def cmd_space_add_endpoint(ws, args) -> None:
    from embeddings.models.endpoint import EndpointSpec, add_endpoint, estimate

    spec = EndpointSpec(url=args.url, model=args.model, key_env=args.key_env, price_per_million=args.price,
                        batch_size=args.batch_size, confirmed_host=args.confirm_host)
    if args.estimate:
        e = estimate(ws, spec, args.corpus, args.unit)
        cost = f", about ${e['cost_estimated_usd']:,.2f}" if e["cost_estimated_usd"] is not None else ""
        _emit(args, e, f"{e['texts']:,} {args.unit}s, about {e['tokens_estimated']:,} tokens ({e['rule']}){cost}, "
                       f"in {e['batches']:,} batches to {e['host']}; nothing was sent")
        return
    space = add_endpoint(ws, spec, args.name, corpus=args.corpus, unit=args.unit, progress=_progress_printer(args))
    s = _space_summary(ws, space.id)
    p = space.provenance
    _emit(args, {**s, "endpoint": p["endpoint"]}, f"added {_space_line(s)} from {p['endpoint']['host']}: "
          f"{p['endpoint']['batches']:,} batches ({p['endpoint']['batches_reused']:,} reused from an earlier run)")


def register(sub, ssub) -> None:
    from embeddings.models.endpoint import EndpointSpec
    from embeddings.serve import DEFAULT_HOST, DEFAULT_PORT, LIMITS
    from embeddings.space import UNITS

    p = _command(sub, cmd_serve, "serve", help="serve a space as an OpenAI-compatible embeddings endpoint (loopback)")
    p.add_argument("space")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}, this machine only; another "
                   "address lets other machines send text (a warning is printed)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.epilog = (f"Each request: at most {LIMITS.inputs:,} inputs of {LIMITS.characters:,} characters, "
                f"{LIMITS.body_bytes // 2**20} MB in all.")
    d = EndpointSpec(url="", model="")
    e = _command(ssub, cmd_space_add_endpoint, "add-endpoint",
                 help="a space from an OpenAI-compatible embeddings endpoint (Ollama, vLLM, TEI, llama.cpp, a "
                      "hosted provider)")
    e.add_argument("--url", required=True, help="the endpoint's base URL, e.g. http://127.0.0.1:11434/v1")
    e.add_argument("--model", required=True, help="the model name the endpoint knows")
    e.add_argument("--name", required=True)
    e.add_argument("--corpus", required=True, help="the corpus to encode")
    e.add_argument("--unit", choices=UNITS, default="document")
    e.add_argument("--key-env", metavar="VAR", help="the environment variable holding the API key (never stored)")
    e.add_argument("--price", type=float, default=None, metavar="USD",
                   help="price per million tokens, for the estimate and the card")
    e.add_argument("--batch-size", type=int, default=d.batch_size)
    e.add_argument("--confirm-host", metavar="HOST",
                   help="required for a host other than this machine: its name, to say the corpus may leave for it")
    e.add_argument("--estimate", action="store_true", help="print the tokens and cost it would take, send nothing")
