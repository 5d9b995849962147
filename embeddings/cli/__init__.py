"""Command line: ``python -m embeddings [--workspace DIR] <command> ... [--json]``.

It calls the same core functions as the pages. With ``--json`` stdout carries
exactly one JSON document. A user mistake prints one line on stderr and exits 2;
an internal error prints one line too (set ``EMBEDDINGS_DEBUG=1`` for the
traceback) and exits 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ..errors import EmbeddingsError
from . import audit, benchmark, bias, corpus, customise, evaluate, explore, scale, spaces
from .common import GateFailed, _Parser, json_safe


def build_parser():
    p = _Parser(prog="python -m embeddings", description="Embedding Explorer: corpora and embedding spaces.")
    p.add_argument("--workspace", metavar="DIR",
                   help="workspace folder (default: $EMBEDDINGS_WORKSPACE or ./workspace)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    corpus.register(sub)
    customise.register_space(spaces.register(sub))
    for module in (explore, bias, audit, evaluate, benchmark, customise, scale):
        module.register(sub)
    spaces.register_export(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        from ..workspace import Workspace

        ws = Workspace(args.workspace)
        args.func(ws, args)
        return 0
    except EmbeddingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GateFailed as exc:
        print(f"{exc.what}: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, traceback on request
        if os.environ.get("EMBEDDINGS_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (set EMBEDDINGS_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 1


__all__ = ["build_parser", "json_safe", "main"]
