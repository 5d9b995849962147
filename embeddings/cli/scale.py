"""``encode`` (batch encoding, locally or on Ray) and ``place`` (new points into a saved layout)."""

from __future__ import annotations

from .common import _command, _emit, _progress_printer
from .explore import add_layout_args, layout_params


def cmd_encode(ws, args) -> None:
    from embeddings.models.encode import encode_space
    from embeddings.text.corpus import get_corpus

    progress = _progress_printer(args, in_logs=True)
    space = encode_space(ws, get_corpus(ws, args.corpus), args.model, args.name, unit=args.unit, engine=args.engine,
                         address=args.address, batch_size=args.batch_size, limit=args.limit, progress=progress)
    getattr(progress, "finish", lambda: None)()
    p = space.provenance
    out = {"space": space.name, "id": space.id, "corpus": p["corpus"], "model": p["model"], "unit": p["unit"],
           "engine": p["engine"], "vectors": len(space), "dim": space.dim, "seconds": p["seconds"],
           "texts_per_second": p["texts_per_second"], "ray": p.get("ray"), "neighbour_index": space.ann is not None}
    _emit(args, out, f"{space.name}: {len(space):,} {p['unit']}s × {space.dim} in {p['seconds']:.1f} s "
                     f"({p['texts_per_second']:,.0f}/s, {p['engine']} engine)")


def cmd_place(ws, args) -> None:
    from embeddings.layout.placement import place
    from embeddings.layout.projection import cached_project, select_rows
    from embeddings.store.space_store import load_space
    from embeddings.text.wordlists import parse_words

    space = load_space(ws, args.space)
    progress = _progress_printer(args)
    layout = cached_project(ws, space, select_rows(space, top=args.limit), args.method, params=layout_params(args),
                            seed=args.seed, progress=progress)
    items = parse_words(args.items) if args.items else []
    if args.file:
        from pathlib import Path

        items += [line.strip() for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
    placed = place(space, layout, items, seed=args.seed, progress=progress)
    out = {**placed.summary(), "space": space.name, "layout": layout.summary(),
           "points": placed.frame().round(5).to_dict("records")}
    _emit(args, out, f"placed {len(placed.labels):,} points into {space.name}'s {args.method} layout of "
                     f"{len(layout.labels):,}: kNN preservation {placed.knn_preservation:.3f} "
                     f"(the layout's own: {layout.knn_preservation:.3f})")


def register(sub) -> None:
    from embeddings.models.encode import DEFAULT_BATCH, ENGINES, UNITS

    enc = _command(sub, cmd_encode, "encode",
                   help="encode a corpus's documents or sentences into a space (here, or on Ray with --engine ray)")
    enc.add_argument("--corpus", required=True)
    enc.add_argument("--model", required=True, metavar="minilm|FOLDER|SPACE",
                     help="minilm, a sentence-transformers or model2vec folder, or a space made by an encoder "
                          "or by distillation")
    enc.add_argument("--name", required=True, help="the new space's name")
    enc.add_argument("--unit", choices=UNITS, default=UNITS[0])
    enc.add_argument("--engine", choices=ENGINES, default=ENGINES[0],
                     help="local: in this process; ray: Ray Data map_batches over an actor pool")
    enc.add_argument("--address", help="with --engine ray: join this Ray cluster (default: start Ray here)")
    enc.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    enc.add_argument("--limit", type=int, help="only the first N documents or sentences")

    pl = _command(sub, cmd_place, "place",
                  help="place new labels or texts into a saved layout (UMAP's and openTSNE's transform)")
    pl.add_argument("space")
    pl.add_argument("items", nargs="?", help="labels or texts, comma-separated")
    pl.add_argument("--file", help="one label or text per line")
    add_layout_args(pl)
