"""``space finetune``, ``space distil``, ``space export-model`` and ``contextual``: customise an
encoder on a corpus and look at words in context."""

from __future__ import annotations

import time
from pathlib import Path

from embeddings.store.model_folders import copy_folder

from ..errors import InputError
from .common import _command, _emit, _progress_printer, _space_line, _space_summary


def _dims(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        dims = tuple(int(d) for d in text.split(","))
    except ValueError:
        raise InputError(f"--matryoshka takes dimensions separated by commas (384,256,128,64); got {text!r}.") \
            from None
    return tuple(sorted(set(dims), reverse=True))


def cmd_space_finetune(ws, args) -> None:
    from ..models import finetune_space

    settings = {k: getattr(args, k) for k in ("method", "label", "max_sentences", "epochs", "seed", "batch_size",
                                               "learning_rate", "max_steps", "held_out", "queries", "negatives")
                if getattr(args, k) is not None}
    settings["matryoshka"] = _dims(args.matryoshka)
    start = time.perf_counter()
    space, run = finetune_space(ws, args.base, args.corpus, args.name, progress=_progress_printer(args), **settings)
    total = time.perf_counter() - start          # training, encoding the corpus and saving
    s = _space_summary(ws, space.id)
    out = {**s, "steps": run["steps"], "final_loss": run["final_loss"], "seconds": run["seconds"],
           "total_seconds": round(total, 1),
           "train_documents": run["split"]["train_documents"],
           "held_out_documents": run["split"]["held_out_documents"], "texts": run["texts"],
           "texts_per_second": run["texts_per_second"], **({"retrieval": run["retrieval"]} if "retrieval" in run else {})}
    loss = f", final loss {run['final_loss']:.4f}" if run["final_loss"] is not None else ""
    _emit(args, out, f"fine-tuned {_space_line(s)}: {run['method']} on {run['texts']:,} texts of "
                     f"{run['split']['train_documents']:,} training documents, {run['steps']:,} steps in "
                     f"{run['seconds']:.1f}s{loss}; {run['split']['held_out_documents']:,} documents held out; "
                     f"{total:.1f}s in all")


def cmd_space_distil(ws, args) -> None:
    from ..models import distil_space

    space = distil_space(ws, args.base, args.name, dims=args.dims, corpus=args.corpus, words=not args.no_words,
                         progress=_progress_printer(args))
    s = _space_summary(ws, space.id)
    p = space.provenance
    out = {**s, "vocabulary_entries": p["vocabulary"], "corpus_terms": p["corpus_terms"],
           "distil_seconds": p["distil_seconds"], "texts_per_second": p["texts_per_second"],
           "model_bytes": p["model_bytes"]}
    _emit(args, out, f"distilled {_space_line(s)}: {p['vocabulary']:,} entries in {p['distil_seconds']:.1f}s, "
                     f"{p['texts_per_second']:,.0f} texts/s, {p['model_bytes'] / 1e6:.1f} MB")


def cmd_space_export_model(ws, args) -> None:
    """Copy a customised space's model folder out (SentenceTransformer(path) or
    StaticModel.from_pretrained(path) loads it)."""
    art = ws.get("space", args.name)
    source = art.path / "model"
    if not source.is_dir():
        raise InputError(f"{art.name} keeps no model of its own (only fine-tuned and distilled spaces do).")
    out = Path(args.out).expanduser()
    if out.exists():
        raise InputError(f"{out} already exists; choose a new folder.")
    copy_folder(source, out)
    _emit(args, {"space": art.name, "folder": str(out)}, f"wrote the model of {art.name} to {out}")


def cmd_contextual(ws, args) -> None:
    from embeddings.analysis.context import context_view
    from embeddings.store.space_store import load_space
    from embeddings.text.corpus import get_corpus

    from ..models.sentence import encoder_folder, load_encoder

    corpus = get_corpus(ws, args.corpus)
    encoder = load_encoder(str(encoder_folder(ws, args.space)))
    static = load_space(ws, args.static) if args.static else None
    view = context_view(encoder, corpus, args.term, model_name=args.space, max_n=args.max, static=static,
                        seed=args.seed, progress=_progress_printer(args))
    lines = [f"{view.term!r} in {corpus.name}: {len(view.uses):,} uses (of {view.found:,} sentences), spread "
             f"{view.spread:.3f}, {len(view.senses)} senses (silhouette {view.silhouette:.2f})"]
    for i, sense in enumerate(view.senses, 1):
        lines.append(f"  sense {i} ({sense.size} uses): {', '.join(sense.neighbours)}")
        lines.extend(f"    - {e.marked()}" for e in sense.examples)
    _emit(args, view.to_dict(), "\n".join(lines))


def register_space(ssub) -> None:
    """Subcommands of ``space``."""
    from ..models.distil import DIMS
    from ..models.finetune import LEARNING_RATES, METHODS, NEGATIVES, FinetuneParams
    from ..options import add_flag

    d = FinetuneParams()
    ft = _command(ssub, cmd_space_finetune, "finetune",
                  help="fine-tune minilm (or a local folder) on a corpus: simcse, tsdae, supervised or retrieval")
    ft.add_argument("base", metavar="minilm|FOLDER|SPACE")
    ft.add_argument("--corpus", required=True)
    ft.add_argument("--method", choices=METHODS, default=d.method)
    ft.add_argument("--label", metavar="COLUMN", help="the label column (supervised)")
    ft.add_argument("--queries", metavar="SET", help="retrieval: the retrieval set whose training queries teach")
    ft.add_argument("--negatives", choices=NEGATIVES, default=d.negatives,
                    help=f"retrieval: hard negatives mined by the base model, by BM25, or none (default {d.negatives})")
    ft.add_argument("--matryoshka", metavar="384,256,128,64", help="train the truncations too (MatryoshkaLoss)")
    for flag in ("--max-sentences", "--epochs", "--seed", "--batch-size"):
        add_flag(ft, flag, FinetuneParams, flag[2:].replace("-", "_"))
    ft.add_argument("--learning-rate", type=float, default=None,
                    help="default: " + ", ".join(f"{m} {r:g}" for m, r in LEARNING_RATES.items()))
    add_flag(ft, "--held-out", FinetuneParams, "held_out", metavar="SHARE")
    ft.add_argument("--max-steps", type=int, default=None, help="stop after N optimiser steps")
    ft.add_argument("--name", required=True)
    di = _command(ssub, cmd_space_distil, "distil", help="distil an encoder into a static model (model2vec)")
    di.add_argument("base", metavar="minilm|FOLDER|SPACE")
    di.add_argument("--dims", type=int, default=DIMS[0], help="PCA dimensions (256, 128, 64)")
    di.add_argument("--corpus", help="add its words to the vocabulary and embed its documents")
    di.add_argument("--no-words", action="store_true",
                    help="keep the tokenizer's vocabulary only (about 3x faster on MiniLM)")
    di.add_argument("--name", required=True)
    ex = _command(ssub, cmd_space_export_model, "export-model", help="copy a customised space's model folder out")
    ex.add_argument("name")
    ex.add_argument("--out", required=True, metavar="FOLDER")


def register(sub) -> None:
    from embeddings.analysis.context import MAX_OCCURRENCES

    ctx = _command(sub, cmd_contextual, "contextual", help="a term's uses in context, their senses and spread")
    ctx.add_argument("space", metavar="minilm|FOLDER|SPACE", help="the encoder")
    ctx.add_argument("term")
    ctx.add_argument("--corpus", required=True)
    ctx.add_argument("--max", type=int, default=MAX_OCCURRENCES, help="at most this many uses")
    ctx.add_argument("--static", metavar="SPACE", help="a word space (Word2Vec, GloVe) to place the term's one vector")
    ctx.add_argument("--seed", type=int, default=0)
