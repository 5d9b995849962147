"""Shared by the subcommands: the one-line argparse, JSON output without NaN, progress on stderr, model cards."""

from __future__ import annotations

import argparse
import json
import re
import sys

from ..errors import InputError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line, not a usage block."""

    def error(self, message: str):
        raise InputError(f"{message} (see '{self.prog} --help')")

def json_safe(obj):
    """``obj`` with every NaN or infinity (Python or numpy) as None, numpy scalars and arrays as
    Python values: JSON has no NaN, so ``--json`` prints null there.

    >>> import numpy as np
    >>> json_safe({"cosine": float("nan"), "d": np.float32(0.5), "xs": [np.inf, 1]})
    {'cosine': None, 'd': 0.5, 'xs': [None, 1]}
    """
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj

#: with ``--json``, the real stdout: the one JSON document goes there, while anything a library
#: prints during the command (Ray's raylet warnings did) is sent to stderr (see ``cli.main``)
DOCUMENT: list = [None]


def document_stream():
    return DOCUMENT[0] or sys.stdout


def _emit(args, obj, human: str) -> None:
    if args.json:
        # allow_nan=False: a NaN that slipped past json_safe is a bug, never invalid JSON on stdout
        print(json.dumps(json_safe(obj), ensure_ascii=False, indent=None, default=str, allow_nan=False),
              file=document_stream())
    else:
        print(human)

def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")

def _command(subparsers, func, name: str, **kwargs) -> argparse.ArgumentParser:
    """A subcommand that runs ``func(ws, args)`` and takes --json."""
    parser = subparsers.add_parser(name, **kwargs)
    _add_json(parser)
    parser.set_defaults(func=func)
    return parser


def _named_command(subparsers, func, name: str, help: str, top: int | None = None) -> argparse.ArgumentParser:
    """A subcommand on one named artefact (``show``, ``rename``, ``delete``...); ``top``
    adds ``--top`` with that default."""
    parser = _command(subparsers, func, name, help=help)
    parser.add_argument("name")
    if top is not None:
        parser.add_argument("--top", type=int, default=top)
    return parser

class _TerminalProgress:
    """Progress on stderr as ``[ 42%] stage · ETA 1 min 10 s``: rewritten in place on a
    terminal; in a log (not a terminal), one line per stage and per tenth, so a long first
    start never looks stuck."""

    def __init__(self, tty: bool):
        from ..progress import Clock

        self.tty, self.clock, self.last = tty, Clock(), None

    def __call__(self, fraction: float, message: str) -> None:
        from ..progress import duration

        f, eta = self.clock.update(fraction, message)
        when = "" if eta is None else f" · ETA {duration(eta)}"
        text = f"[{f:4.0%}] {message[:64]}{when}"
        if self.tty:
            print(f"\r{text:<92}", end="", file=sys.stderr, flush=True)
            return
        key = (re.sub(r"[\d,]+", "#", message), int(f * 10))   # "Tokenising document # of #"
        if key != self.last:
            self.last = key
            print(text, file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.tty:
            print(file=sys.stderr, flush=True)

def _progress_printer(args, *, in_logs: bool = False):
    """Progress on stderr (stdout keeps the result, so ``--json`` has it too): in place on a
    terminal, line by line in a file or a pipe; nothing with ``--quiet``. ``in_logs`` is kept
    for callers that always log (the demo seeding of ``make run``)."""
    if getattr(args, "quiet", False):
        return lambda f, m: None
    return _TerminalProgress(sys.stderr.isatty())

def _space_summary(ws, name_or_id: str) -> dict:
    """A space's model card from the catalogue alone (no vectors or labels are read)."""
    from embeddings.store.cards import SpaceCard

    return SpaceCard.from_artefact(ws.get("space", name_or_id)).to_dict()

def _space_line(s: dict) -> str:
    extra = f" on {s['corpus']}" if s.get("corpus") else ""
    return f"{s['name']:<24} {s['family']:<20} {s['vocabulary']:>9,} x {s['dim']:<4}{extra}"

class GateFailed(Exception):
    """A gate a team set in CI failed (exit 3); ``what`` names it on stderr."""

    what = "gate"


class BenchmarkGateFailed(GateFailed):
    """``benchmark --fail-below``: a space scored under the user's threshold (exit 3)."""

    what = "benchmark gate"


class BiasGateFailed(GateFailed):
    """``bias weat --fail-above``: the effect size is over the user's threshold (exit 3)."""

    what = "bias gate"
