"""``evaluate``: intrinsic benchmarks, one space or several side by side."""

from __future__ import annotations

from pathlib import Path

from .common import _command, _emit, _progress_printer


def cmd_evaluate(ws, args) -> None:
    import pandas as pd

    from embeddings.evaluate.intrinsic import BENCHMARKS, evaluate
    from embeddings.evaluate.scoreboard import n_of, scoreboard
    from embeddings.store.space_store import load_space

    bench = args.benchmark if args.benchmark in BENCHMARKS else Path(args.benchmark)
    results = [evaluate(load_space(ws, name), bench, restrict_vocab=args.restrict_vocab,
                        progress=_progress_printer(args)) for name in args.space]
    board = scoreboard(results).set_index("space")
    outs = []
    for r in results:
        row = board.loc[r.space]
        outs.append({**r.to_dict(), "n": int(row["used"]), "total": int(row["total"]),
                     "coverage": float(row["coverage"]), "ranked": bool(row["ranked"]),
                     "rank": None if pd.isna(row["rank"]) else int(row["rank"]),
                     "common_score": float(row["common"]), "common_n": int(row["common_n"])})
    lines = []
    for o in outs:
        extra = f", Pearson {o['pearson']:.4f}" if o["kind"] == "pairs" else ""
        lines.append(f"{o['benchmark']} on {o['space']}: {o['score']:.4f}{extra} (n {n_of(o['n'], o['total'])}"
                     + (", under half: not ranked" if not o["ranked"] else f", rank {o['rank']}"
                        if len(outs) > 1 else "") + ")"
                     + (f"; on the {o['common_n']:,} common items: {o['common_score']:.4f}" if len(outs) > 1 else ""))
    _emit(args, outs[0] if len(outs) == 1 else {"benchmark": outs[0]["benchmark"], "results": outs},
          "\n".join(lines))


def register(sub) -> None:
    """Add this module's subcommands (in the order ``--help`` lists them)."""
    ev = _command(sub, cmd_evaluate, "evaluate", help="analogy accuracy or word-pair correlation, as gensim")
    ev.add_argument("space", nargs="+", help="one space, or several to compare (ranked, and on common items)")
    ev.add_argument("--benchmark", required=True, metavar="analogy|ws353|simlex|FILE")
    from embeddings.evaluate.intrinsic import RESTRICT_VOCAB

    ev.add_argument("--restrict-vocab", type=int, default=RESTRICT_VOCAB, metavar="N")
