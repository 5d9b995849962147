"""``retrieval``: retrieval sets (your queries and their judged documents), and running them."""

from __future__ import annotations

from pathlib import Path

from .common import BenchmarkGateFailed, _command, _emit, _progress_printer


def cmd_retrieval_add(ws, args) -> None:
    from embeddings.errors import InputError
    from embeddings.evaluate.qrels import add_set
    from embeddings.readers import Limits

    limit = Limits.from_env().max_file_bytes
    files = {}
    for f in map(Path, args.files):
        if not f.is_file():
            raise InputError(f"{f}: no such file.")
        if f.stat().st_size > limit:
            raise InputError(f"{f.name} is larger than the {limit // 2**20} MB limit ($EMBEDDINGS_MAX_UPLOAD_MB).")
        files[f.name] = f.read_bytes()
    qset = add_set(ws, args.name, args.corpus, files, id_field=args.id_field)
    out = {"name": qset.name, "id": qset.id, "corpus": args.corpus, "queries": len(qset.queries),
           "judgements": len(qset.qrels), "source": qset.source}
    _emit(args, out, f"added {out['name']}: {out['queries']:,} queries, {out['judgements']:,} judgements "
                     f"over {out['corpus']}")


def cmd_retrieval_make(ws, args) -> None:
    from embeddings.evaluate.selfmade import SelfMadeParams, make_set

    qset = make_set(ws, args.name, args.corpus, args.method, column=args.column,
                    params=SelfMadeParams(queries=args.queries, train_share=args.train_share, seed=args.seed))
    split = qset.queries["split"].value_counts().to_dict()
    out = {"name": qset.name, "id": qset.id, "corpus": args.corpus, "queries": len(qset.queries),
           "eval": int(split.get("eval", 0)), "train": int(split.get("train", 0)), "source": qset.source}
    _emit(args, out, f"made {out['name']}: {out['eval']:,} evaluation and {out['train']:,} training queries "
                     f"over {out['corpus']}, {out['source']}")


def cmd_retrieval_list(ws, args) -> None:
    from embeddings.evaluate.qrels import list_sets

    rows = [{"name": a.name, "id": a.id, **a.summary} for a in list_sets(ws)]
    _emit(args, rows, "\n".join(f"{r['name']:<24} {r['queries']:>6,} queries  {r['judgements']:>8,} judgements  "
                                f"over {r['corpus']}" for r in rows) or "no retrieval set yet")


def run_retrieval(ws, args) -> None:
    """``benchmark --task retrieval --queries SET``: every system on the set's queries."""
    from embeddings.errors import InputError
    from embeddings.evaluate.qrels import document_names, load_set
    from embeddings.evaluate.retrieval import evaluate, prepared
    from embeddings.evaluate.search import RetrievalParams
    from embeddings.store.space_store import load_space
    from embeddings.text.corpus import get_corpus

    if not args.queries:
        raise InputError("--task retrieval needs --queries SET (see `retrieval add`).")
    qset = load_set(ws, args.queries)
    corpus = get_corpus(ws, qset.corpus_id)
    names = [n.strip() for n in (args.spaces or "").split(",") if n.strip()]
    hybrid = names if args.hybrid else []
    params = RetrievalParams(rrf_k=args.rrf_k, k1=args.k1, b=args.b, seed=args.seed, exact=args.exact)
    result = evaluate(corpus, qset, **prepared(ws, [load_space(ws, n) for n in names]), bm25=not args.no_bm25,
                      hybrid=hybrid, params=params, progress=_progress_printer(args))
    out = result.summary()
    if args.run_out:
        system = args.run_system or result.leaderboard()["system"][0]
        if system not in result.runs:
            raise InputError(f"--run-system {system!r} is not one of: {', '.join(result.runs)}.")
        Path(args.run_out).write_text(result.run_file(system, document_names(corpus)))
        out["run_out"] = {"file": args.run_out, "system": system}
    board = result.leaderboard()
    lines = [f"{qset.name} over {corpus.name}: {result.n_queries:,} queries"]
    lines += [f"  {r['system']:<40} nDCG@10 {r['nDCG@10']:.3f} (95% {r['nDCG@10 low']:.3f} to "
              f"{r['nDCG@10 high']:.3f})  Recall@100 {r['Recall@100']:.3f}  MRR@10 {r['MRR@10']:.3f}"
              for r in board.to_dict("records")]
    lines += [f"  {d.verdict} ({d.a} − {d.b} = {d.difference:+.3f}, {d.confidence:.1%} interval "
              f"{d.low:+.3f} to {d.high:+.3f})" for d in result.pairs]
    _emit(args, out, "\n".join(lines))
    if args.fail_below is not None:
        failing = board[board["nDCG@10"] < args.fail_below]
        if len(failing):
            raise BenchmarkGateFailed("; ".join(f"{r['system']} nDCG@10 {r['nDCG@10']:.3f}"
                                                for r in failing.to_dict("records")) + f" below {args.fail_below:g}")


def add_retrieval_flags(b) -> None:
    """The flags ``benchmark --task retrieval`` adds."""
    from embeddings.evaluate.search import ANN_ABOVE, RetrievalParams as R
    from embeddings.options import add_flag

    g = b.add_argument_group("retrieval (--task retrieval)")
    g.add_argument("--queries", metavar="SET", help="a retrieval set (see `retrieval add`)")
    g.add_argument("--hybrid", action="store_true", help="also BM25 fused with each space (reciprocal rank fusion)")
    g.add_argument("--no-bm25", action="store_true", help="leave the BM25 baseline out of the leaderboard")
    add_flag(g, "--rrf-k", R, "rrf_k")
    add_flag(g, "--k1", R, "k1")
    add_flag(g, "--b", R, "b")
    g.add_argument("--exact", action="store_true",
                   help=f"search every document even where a space of more than {ANN_ABOVE:,} documents has an "
                        "approximate index")
    g.add_argument("--run-out", metavar="FILE", help="write a run in TREC format (the best system, or --run-system)")
    g.add_argument("--run-system", metavar="NAME", help="which system --run-out writes")


def register(sub) -> None:
    r = sub.add_parser("retrieval", help="retrieval sets: your queries and the documents that answer them")
    rsub = r.add_subparsers(dest="action", required=True)
    add = _command(rsub, cmd_retrieval_add, "add",
                   help="a CSV of (query, document id or text[, relevance]), or BEIR's queries.jsonl + qrels .tsv "
                        "(or a zip of them)")
    add.add_argument("files", nargs="+", metavar="FILE")
    add.add_argument("--corpus", required=True, help="the workspace corpus the documents belong to")
    add.add_argument("--name", required=True)
    add.add_argument("--id-field", metavar="FIELD", help="the corpus field holding document ids (default: _id, id...)")
    from embeddings.evaluate.selfmade import METHODS, SelfMadeParams
    from embeddings.options import add_flag

    make = _command(rsub, cmd_retrieval_make, "make", help="self-made queries from a corpus (a proxy, labelled so): "
                    + "; ".join(f"{k}: {v}" for k, v in METHODS.items()))
    make.add_argument("--corpus", required=True)
    make.add_argument("--method", choices=list(METHODS), required=True)
    make.add_argument("--column", metavar="FIELD", help="title: the metadata field holding each document's title")
    make.add_argument("--name", required=True)
    add_flag(make, "--queries", SelfMadeParams, "queries")
    add_flag(make, "--train-share", SelfMadeParams, "train_share", metavar="SHARE")
    add_flag(make, "--seed", SelfMadeParams, "seed")
    _command(rsub, cmd_retrieval_list, "list", help="the retrieval sets")
