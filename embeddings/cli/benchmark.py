"""``benchmark``: task benchmarks on a corpus's labels, with paired differences and costs."""

from __future__ import annotations

from .common import BenchmarkGateFailed, _command, _emit, _progress_printer


def cmd_benchmark(ws, args) -> None:
    from embeddings.evaluate.benchmark import benchmark
    from embeddings.store.space_store import load_space
    from embeddings.text.corpus import get_corpus

    from ..errors import InputError

    if args.task == "retrieval":
        from .retrieval import run_retrieval

        return run_retrieval(ws, args)
    if not args.corpus or not args.label:
        raise InputError("Give --corpus and --label (the label tasks), or --task retrieval --queries SET.")
    names = [n.strip() for n in (args.spaces or "").split(",") if n.strip()]
    if not names and not args.tfidf:
        raise InputError("Give --spaces A,B,... (document spaces of this corpus), or --tfidf.")
    tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
    result = benchmark(get_corpus(ws, args.corpus), args.label, [load_space(ws, n) for n in names], tasks=tasks,
                       folds=args.folds, seed=args.seed, tfidf=args.tfidf, few_shots=args.few_shot,
                       protocol=args.protocol, repeats=args.repeats, progress=_progress_printer(args))
    out = result.to_dict()
    if args.pairs:
        from embeddings.analysis.similarity import MAX_PAIRS_BYTES, parse_sts, similarity_board

        from ..readers import read_small_text

        text = read_small_text(args.pairs, max_bytes=MAX_PAIRS_BYTES, what="split the pairs into several files")
        pairs = parse_sts(text, str(args.pairs))
        scores, refused = similarity_board(ws, [load_space(ws, n) for n in names], pairs, seed=args.seed)
        out["similarity"] = [s.row() for s in scores]
        out["similarity_refused"] = refused
    lines = [f"{out['corpus']} by {out['label']}: {out['documents']:,} of {out['total_documents']:,} documents, "
             f"{out['classes']} classes"]
    lines += [f"  {r['space']:<24} {r['task']:<15} {r['metric']:<10} {r['score']:.3f} ± {r['std']:.3f}"
              for r in out["results"]]
    lines += [f"  {p['task']}: {p['verdict']} ({p['a']} − {p['b']} = {p['difference']:+.3f}, "
              f"{p['confidence']:.1%} interval {p['low']:+.3f} to {p['high']:+.3f})" for p in out["pairs"]]
    lines += [f"  classification C per fold on {r['space']}: {', '.join(f'{c:g}' for c in r['chosen_C'])}"
              for r in out["results"] if r.get("chosen_C")]
    lines += [f"  ranking change: {c['sentence']}" for c in out["ranking_changes"]]
    lines += [f"  note: {n}" for n in out["notes"]]
    lines += [f"  similarity on {r['space']}: Spearman {r['score']:.3f} (95% {r['low']:.3f} to {r['high']:.3f}, "
              f"{r['n']:,} of {r['total']:,} pairs)" for r in out.get("similarity", [])]
    lines += [f"  similarity: {n} left out: {why}" for n, why in out.get("similarity_refused", {}).items()]
    _emit(args, out, "\n".join(lines))
    if args.fail_below is not None:
        failing = result.failing(args.fail_below)
        if failing:
            raise BenchmarkGateFailed("; ".join(f"{s.space} {s.task} {s.metric} {s.score:.3f}" for s in failing)
                                      + f" below {args.fail_below:g}")


def register(sub) -> None:
    """Add this module's subcommands (in the order ``--help`` lists them)."""
    from embeddings.evaluate.classify import PROTOCOL, PROTOCOLS, BenchmarkParams
    from embeddings.evaluate.tasks import TASKS
    from embeddings.options import add_flag

    from .retrieval import add_retrieval_flags

    b = _command(sub, cmd_benchmark, "benchmark",
                 help="classification, clustering and retrieval on a corpus's labels, or retrieval on your queries "
                      "(--task retrieval), space against space")
    b.add_argument("--task", choices=("labels", "retrieval"), default="labels",
                   help="labels: the tasks on a label column (--tasks); retrieval: your queries (--queries)")
    b.add_argument("--corpus", help="the corpus (the label tasks)")
    b.add_argument("--label", metavar="COLUMN", help="the metadata column holding each label")
    b.add_argument("--spaces", metavar="A,B,...", help="document spaces made from this corpus")
    b.add_argument("--tfidf", action="store_true", help="add the sparse TF-IDF baseline (word 1-2 grams)")
    b.add_argument("--tasks", default=",".join(TASKS), metavar=",".join(TASKS))
    add_flag(b, "--folds", BenchmarkParams, "folds")
    b.add_argument("--protocol", choices=list(PROTOCOLS), default=PROTOCOL,
                   help="classification: " + "; ".join(f"{k}: {v}" for k, v in PROTOCOLS.items()))
    add_flag(b, "--repeats", BenchmarkParams, "repeats")
    add_flag(b, "--seed", BenchmarkParams, "seed")
    b.add_argument("--pairs", metavar="FILE", help="STS-style pairs, 'text<TAB>text<TAB>score' per line: the "
                   "Spearman of each space's cosine against the scores")
    b.add_argument("--few-shot", action="store_true",
                   help="also the few-shot curve: macro-F1 at 8, 16, 32 and 64 labelled documents per class")
    b.add_argument("--fail-below", type=float, default=None, metavar="SCORE",
                   help="exit 3 if a space's main score on a task (with --task retrieval: nDCG@10) is below SCORE")
    add_retrieval_flags(b)
