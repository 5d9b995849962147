"""``images``: image corpora, image-text spaces from a local CLIP-family folder, their
benchmarks on the corpus's own pairs, and an adapter trained on them (#31)."""

from __future__ import annotations

from pathlib import Path

from embeddings.errors import InputError

from .common import _command, _emit, _progress_printer, _space_line, _space_summary


def cmd_add(ws, args) -> None:
    from embeddings.images.corpus import add_image_corpus, image_stats
    from embeddings.readers import Limits

    path = Path(args.zip)
    if not path.is_file():
        raise InputError(f"{args.zip}: no such file.")
    captions = (Path(args.captions).name, Path(args.captions).read_bytes()) if args.captions else None
    corpus, skipped = add_image_corpus(ws, args.name, path.name, path.read_bytes(), captions=captions,
                                       limits=Limits.from_env(args.max_mb), progress=_progress_printer(args))
    s = image_stats(corpus)
    _emit(args, {"corpus": corpus.name, "id": corpus.id, **s, "skipped": skipped},
          f"added image corpus {corpus.name}: {s['images']:,} images, {s['captioned']:,} with a caption"
          + (f"; skipped {len(skipped):,}: " + "; ".join(skipped[:5]) if skipped else ""))


def cmd_space(ws, args) -> None:
    from embeddings.images.spaces import add_image_space

    space = add_image_space(ws, args.corpus, args.model, args.name, terms=args.terms, progress=_progress_printer(args))
    s = _space_summary(ws, space.id)
    _emit(args, {**s, "images": space.provenance["image_rows"], "images_per_second":
                 space.provenance["images_per_second"]},
          f"added {_space_line(s)}: {space.provenance['image_rows']:,} images and "
          f"{len(space) - space.provenance['image_rows']:,} texts in one space")


def cmd_bench(ws, args) -> None:
    from embeddings.images.bench import DIRECTIONS, benchmark_spaces
    from embeddings.store.space_store import load_space

    spaces = {s.name: s for s in (load_space(ws, n) for n in args.spaces)}
    b = benchmark_spaces(ws, spaces, args.label, template=args.template)
    lines = [f"left out for every space: the {b.left_out:,} images an adapter trained on"] if b.left_out else []
    lines += [f"{r['space']}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                          for k, v in r.items() if k != "space" and v is not None)
              for r in b.board.to_dict("records")]
    lines += [f"{n}: {a:,} of {t:,} captions share their vector with another (they tie in every ranking)"
              for n, (a, t) in b.alike.items() if a]
    lines += [f"{d.a} − {d.b}, {d.task}: {d.verdict} "
              f"({d.difference:+.3f}, {d.low:+.3f} to {d.high:+.3f})" for d in b.differences]
    lines += [f"{n}: linear probe − zero-shot {z.difference().difference:+.3f} on {z.n_test:,} images: "
              f"{z.difference().verdict} (always {z.majority[1]!r}: {z.majority[0]:.3f})"
              + (f"; {len(z.same_prompts)} labels' prompts embed alike: zero-shot cannot tell them apart"
                 if z.same_prompts else "") for n, z in b.shots.items()]
    _emit(args, b.to_dict(), "\n".join(lines) or f"nothing to compare in {', '.join(DIRECTIONS)}")


def cmd_adapt(ws, args) -> None:
    from embeddings.images.adapter import EPOCHS, adapt_space, adapter_before_after
    from embeddings.images.finetune import EPOCHS as FT_EPOCHS, finetune_clip
    from embeddings.images.spaces import CUSTOMISED

    if args.method == "finetune":
        space = finetune_clip(ws, args.base, args.name, epochs=args.epochs or FT_EPOCHS, seed=args.seed,
                              progress=_progress_printer(args))
    else:
        space = adapt_space(ws, args.base, args.name, epochs=args.epochs or EPOCHS, seed=args.seed,
                            progress=_progress_printer(args))
    ba = adapter_before_after(ws, space.name)
    run = space.provenance[CUSTOMISED]
    human = [f"{run['kind']}: {space.name} from {run['base']}: {run['train_pairs']:,} training pairs, "
             f"{run['held_out_pairs']:,} held out (split by caption), loss {run['loss_curve'][0][1]:.4f} → "
             f"{run['loss_curve'][-1][1]:.4f}"]
    human += [f"{d.task}: {d.verdict} ({d.difference:+.3f} nDCG@10, {d.low:+.3f} to {d.high:+.3f})"
              for d in ba.differences]
    _emit(args, {**_space_summary(ws, space.id), "before_after": ba.to_dict()}, "\n".join(human))


def register(sub) -> None:
    from embeddings.images.adapter import EPOCHS
    from embeddings.images.bench import TEMPLATE
    from embeddings.images.finetune import EPOCHS as FT_EPOCHS
    from embeddings.images.spaces import TERMS

    images = sub.add_parser("images", help="image corpora and image-text spaces (a local CLIP-family folder)")
    isub = images.add_subparsers(dest="images_command", required=True)
    a = _command(isub, cmd_add, "add", help="an image corpus from a zip of PNG, JPEG, WebP or GIF images")
    a.add_argument("name")
    a.add_argument("zip")
    a.add_argument("--captions", help="a CSV, TSV or JSONL of file and caption (and label) columns; "
                   "else one inside the zip is used")
    a.add_argument("--max-mb", help="per-file size limit in MB (default $EMBEDDINGS_MAX_UPLOAD_MB or 200)")
    s = _command(isub, cmd_space, "space", help="embed an image corpus with a local CLIP or SigLIP folder")
    s.add_argument("corpus")
    s.add_argument("--model", required=True, help="a local folder of a CLIP-family model (save_pretrained)")
    s.add_argument("--name", required=True)
    s.add_argument("--terms", type=int, default=TERMS, help=f"caption words embedded as well (default {TERMS})")
    b = _command(isub, cmd_bench, "bench", help="cross-modal retrieval and zero-shot against a linear probe")
    b.add_argument("spaces", nargs="+")
    b.add_argument("--label", help="a label column for zero-shot and the linear probe")
    b.add_argument("--template", default=TEMPLATE, help=f"the zero-shot prompt (default {TEMPLATE!r})")
    d = _command(isub, cmd_adapt, "adapt", help="customise on the corpus's pairs: a contrastive adapter on frozen "
                 "vectors (seconds), or a fine-tune of the encoder (sentence-transformers' trainer)")
    d.add_argument("base")
    d.add_argument("--name", required=True)
    d.add_argument("--method", choices=("adapter", "finetune"), default="adapter")
    d.add_argument("--epochs", type=int, default=None, help=f"default {EPOCHS} for an adapter, {FT_EPOCHS} for a fine-tune")
    d.add_argument("--seed", type=int, default=0)
