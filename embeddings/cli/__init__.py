"""Command line: ``python -m embeddings [--workspace DIR] <command> ... [--json]``.

It calls the same core functions as the pages. With ``--json`` stdout carries
exactly one JSON document. A user mistake prints one line on stderr and exits 2;
an internal error prints one line too (set ``EMBEDDINGS_DEBUG=1`` for the
traceback) and exits 1. With ``--json`` an error is also that JSON document:
``{"error": "...", "kind": "input" | "internal"}`` on stdout.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from embeddings.store.workspace import default_root

from ..errors import EmbeddingsError, disk_full
from . import app, audit, benchmark, bias, corpus, customise, endpoints, evaluate, explore, images, retrieval, scale, spaces
from .common import DOCUMENT, GateFailed, _Parser, document_stream, json_safe

#: the console command an installed package provides (pyproject.toml)
PROG = "embedding-explorer"


def build_parser():
    prog = PROG if os.path.basename(sys.argv[0]) == PROG else "python -m embeddings"
    p = _Parser(prog=prog, description="Embedding Explorer: corpora and embedding spaces.")
    p.add_argument("--workspace", metavar="DIR",
                   help="workspace folder (default: $EMBEDDINGS_WORKSPACE or ./workspace)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    corpus.register(sub)
    ssub = spaces.register(sub)
    customise.register_space(ssub)
    endpoints.register(sub, ssub)
    for module in (explore, bias, audit, evaluate, benchmark, customise, scale):
        module.register(sub)
    spaces.register_export(sub)
    retrieval.register(sub)
    images.register(sub)
    app.register(sub)
    return p


def _fail(argv: Sequence[str], message: str, kind: str) -> None:
    """The error's one line on stderr; with ``--json``, its JSON document on stdout too."""
    print(message, file=sys.stderr)
    if "--json" in argv:
        import json

        print(json.dumps({"error": message.split(": ", 1)[-1], "kind": kind}), file=document_stream())


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--json" not in argv:
        return _main(argv)
    # stdout carries exactly one JSON document: whatever else is printed meanwhile goes to stderr
    DOCUMENT[0] = sys.stdout
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return _main(argv)
    finally:
        DOCUMENT[0] = None


def _main(argv: list[str]) -> int:
    ws = None
    try:
        args = build_parser().parse_args(argv)
        from embeddings.store.workspace import Workspace

        # a command that reads no workspace (``samples``) opens none, so it creates no folder
        ws = Workspace(args.workspace) if getattr(args.func, "needs_workspace", True) else None
        args.func(ws, args)
        return 0
    except EmbeddingsError as exc:
        _fail(argv, f"error: {exc}", "input")
        return 2
    except GateFailed as exc:
        print(f"{exc.what}: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, traceback on request; a full disk is the user's to fix
        if (full := disk_full(exc, ws.root if ws is not None else default_root())) is not None:
            _fail(argv, f"error: {full}", "input")
            return 2
        if os.environ.get("EMBEDDINGS_DEBUG"):
            raise
        _fail(argv, f"internal error: {type(exc).__name__}: {exc} (set EMBEDDINGS_DEBUG=1 for the traceback)",
              "internal")
        return 1


__all__ = ["build_parser", "json_safe", "main"]


def console() -> None:
    """The ``embedding-explorer`` command: the CLI, and ``embedding-explorer app`` to serve."""
    sys.exit(main())
