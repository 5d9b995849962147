"""``encode`` (batch encoding, locally or on Ray) and ``place`` (new points into a saved layout)."""

from __future__ import annotations

from .common import _command, _emit, _progress_printer


def cmd_encode(ws, args) -> None:
    from ..corpus import get_corpus
    from ..encode import encode_space

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


def register(sub) -> None:
    from ..encode import DEFAULT_BATCH, ENGINES, UNITS

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
