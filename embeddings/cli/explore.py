"""``neighbours``, ``compare`` and ``project``."""

from __future__ import annotations

from embeddings.analysis.neighbours import CompareParams, NeighbourParams
from embeddings.options import add_flag

from .common import _command, _emit, _progress_printer


def cmd_neighbours(ws, args) -> None:
    from embeddings.analysis.neighbours import neighbours
    from embeddings.store.space_store import ensure_index, load_space

    space = load_space(ws, args.space, mmap=True)
    if args.build_index and not args.exact:
        ensure_index(ws, space, progress=_progress_printer(args))
    result = neighbours(space, args.query, args.k, exclude_query=not args.include_query, exact=args.exact)
    out = {"query": args.query, "space": space.name, "search": "approximate, re-ranked exactly"
           if space.ann is not None and not args.exact else "exact",
           "neighbours": [{"label": n.label, "cosine": round(n.cosine, 6)} for n in result]}
    _emit(args, out, "\n".join(f"{n.cosine:7.4f}  {n.label}" for n in result))

def cmd_compare(ws, args) -> None:
    from embeddings.analysis.neighbours import compare
    from embeddings.store.space_store import load_space

    result = compare(load_space(ws, args.a), load_space(ws, args.b), args.k, max_labels=args.max_labels)
    out = result.summary()
    out["aligned"] = result.aligned
    table = result.table.round(6)
    noise = ""
    if args.noise:  # a stability study: the seed-to-seed noise beside the comparison, and each label's floor
        from embeddings.analysis.stability import comparison_noise, load_study

        study = load_study(ws, args.noise)
        out["noise_floor"] = nf = comparison_noise(study, result.table)
        table["floor"] = study.stability_of(table["label"], "floor").to_numpy()
        if nf["measured"]:
            noise = (f"\nnoise floor {study.name}: seed-to-seed median Jaccard@{nf['study_k']} "
                     f"{nf['median_stability']:.3f}, across the spaces {nf['median_jaccard']:.3f} on "
                     f"{nf['measured']:,} of {nf['shared']:,} labels; {nf['beyond_noise']:,} beyond noise")
        else:
            noise = f"\nnoise floor {study.name}: it measured none of the shared labels"
    out["labels"] = table.to_dict("records")
    changed = result.most_changed(10, content_only=not args.all_labels)["label"].tolist()
    _emit(args, out, f"{args.a} vs {args.b}: {out['shared']:,} shared labels, mean Jaccard@{args.k} "
                     f"{out['mean_jaccard']:.3f}, median {out['median_jaccard']:.3f}\n"
                     f"most changed{'' if args.all_labels else ' content words'}: {', '.join(changed)}{noise}")

def add_layout_args(parser) -> None:
    """The options that name a layout (``project`` makes it, ``place`` adds to it)."""
    from embeddings.layout.projection import METHODS, SEED, ProjectionParams as P
    from embeddings.options import add_flag

    parser.add_argument("--method", choices=METHODS, default=METHODS[0])
    add_flag(parser, "--limit", P, "points")
    add_flag(parser, "--seed", P, "seed", default=SEED, none_means="unseeded",
             help_suffix="; unseeded unless given, as on the page, so the two share cached layouts")
    add_flag(parser, "--n-neighbors", P, "n_neighbors")
    add_flag(parser, "--min-dist", P, "min_dist")
    add_flag(parser, "--perplexity", P, "perplexity")


def layout_params(args) -> dict:
    return {"umap": {"n_neighbors": args.n_neighbors, "min_dist": args.min_dist},
            "tsne": {"perplexity": args.perplexity}, "pca": {}}[args.method]


def cmd_project(ws, args) -> None:
    from embeddings.layout.projection import cached_project, select_rows
    from embeddings.store.space_store import load_space

    space = load_space(ws, args.space)
    rows = select_rows(space, top=args.limit)
    proj = cached_project(ws, space, rows, args.method, params=layout_params(args), seed=args.seed,
                          progress=_progress_printer(args))
    if args.out:
        frame = proj.frame()
        frame.to_parquet(args.out, index=False)
    out = proj.summary()
    if args.out:
        out["out"] = args.out
    _emit(args, out, f"{out['points']:,} points by {args.method} in {out['seconds']:.1f}s"
                     f"{' (cached)' if out['cached'] else ''}: trustworthiness {out['trustworthiness']}, "
                     f"kNN preservation {out['knn_preservation']}")


def register(sub) -> None:
    """Add this module's subcommands (in the order ``--help`` lists them)."""
    nb = _command(sub, cmd_neighbours, "neighbours",
                  help="nearest neighbours of a term or expression (king - man + woman)")
    for name in ("space", "query"):
        nb.add_argument(name)
    add_flag(nb, "-k", NeighbourParams, "k")
    nb.add_argument("--include-query", action="store_true", help="keep the query's own words in the results")
    nb.add_argument("--exact", action="store_true",
                    help="brute-force search even where the space has an approximate index (large spaces)")
    nb.add_argument("--build-index", action="store_true",
                    help="build the space's approximate index first if it has none (above 50,000 labels; saved)")
    cmp_ = _command(sub, cmd_compare, "compare", help="neighbourhood overlap of two spaces over their shared labels")
    for name in ("a", "b"):
        cmp_.add_argument(name)
    add_flag(cmp_, "-k", CompareParams, "k")
    add_flag(cmp_, "--max-labels", CompareParams, "max_labels")
    cmp_.add_argument("--all-labels", action="store_true",
                      help="list stopwords, numbers and rare labels among the most changed too")
    cmp_.add_argument("--noise", metavar="STUDY",
                      help="a stability study (see `stability`): its seed-to-seed noise beside the comparison")
    proj = _command(sub, cmd_project, "project", help="a 2-D layout with trust scores (cached in the workspace)")
    proj.add_argument("space")
    add_layout_args(proj)
    proj.add_argument("--out", metavar="FILE.parquet")
