"""``train``, ``space add-pretrained|import|list|show|delete|reduce|pool|add-baseline`` and ``export``."""

from __future__ import annotations

import json
import sys

from ..errors import InputError
from ..options import add_flag
from .common import _command, _emit, _named_command, _Parser, _progress_printer, _space_line, _space_summary


def _epoch_printer(args):
    if args.json or not sys.stderr.isatty():
        return None

    def on_epoch(r):
        loss = f", loss {r.loss:,.0f}" if r.loss is not None else ""
        print(f"\repoch {r.epoch}/{r.epochs}{loss}, {r.seconds:.1f}s, {r.words_per_second:,.0f} words/s   ",
              end="", file=sys.stderr, flush=True)

    return on_epoch

def cmd_train(ws, args) -> None:
    from ..models import train_space

    settings = {k: getattr(args, k) for k in ("dim", "window", "min_count", "epochs", "seed", "negative", "sample",
                                               "workers", "min_n", "max_n", "bucket") if getattr(args, k) is not None}
    if args.model in ("word2vec", "fasttext") and args.sg is not None:
        settings["sg"] = args.sg
    space = train_space(ws, args.corpus, args.model, args.name, on_epoch=_epoch_printer(args),
                        progress=_progress_printer(args), **settings)
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)
    s = _space_summary(ws, space.id)
    _emit(args, s, f"trained {s['name']} ({s['family']}): {s['vocabulary']:,} terms x {s['dim']} in "
                   f"{s['seconds']:.1f}s, {s['words_per_second']:,} words/s")

def cmd_space_add_pretrained(ws, args) -> None:
    from ..models import add_pretrained

    if args.model == "glove-6b-50d" and (args.terms_from or args.corpus):
        raise InputError("GloVe is a fixed vocabulary: use --top N, not a corpus.")
    corpus = args.terms_from or args.corpus
    unit = "term" if args.terms_from else args.unit
    if args.model != "glove-6b-50d" and not corpus:
        raise InputError("Give --terms-from CORPUS, or --unit sentence|document --corpus CORPUS.")
    options = {k: v for k, v in (("pooling", args.pooling), ("normalise", False if args.no_normalise else None),
                                 ("prompts", {k: v for k, v in (("query", args.query_prompt),
                                                                ("document", args.document_prompt)) if v}))
               if v not in (None, {})}
    space = add_pretrained(ws, args.model, args.name, corpus=corpus, unit=unit, top=args.top, options=options or None,
                           progress=_progress_printer(args))
    s = _space_summary(ws, space.id)
    _emit(args, s, f"added {_space_line(s)}")

def cmd_space_import(ws, args) -> None:
    from ..models import import_space
    from ..readers import Limits

    limits = Limits.from_env(args.max_mb)
    space = import_space(ws, args.file, args.format, args.name, limits=limits)
    s = _space_summary(ws, space.id)
    _emit(args, s, f"imported {_space_line(s)}")
    if not args.json:
        for warning in s["warnings"]:
            print(f"warning: {warning}", file=sys.stderr)

def cmd_space_list(ws, args) -> None:
    from embeddings.store.space_store import list_spaces

    rows = [_space_summary(ws, a.id) for a in list_spaces(ws)]
    _emit(args, rows, "\n".join(_space_line(r) for r in rows) if rows else "(no spaces)")

def cmd_space_show(ws, args) -> None:
    from embeddings.store.space_store import load_space

    space = load_space(ws, args.name, mmap=True)
    s = _space_summary(ws, space.id)
    s["provenance"] = space.provenance
    s["cased"] = space.cased
    s["top_labels"] = space.labels[:args.top]
    _emit(args, s, f"{_space_line(s)}\nparams: {json.dumps(s['params'])}\nfirst labels: {', '.join(s['top_labels'])}")

def cmd_space_delete(ws, args) -> None:
    art = ws.get("space", args.name)
    ws.delete("space", art.id)
    _emit(args, {"deleted": art.name, "id": art.id}, f"deleted space {art.name}")

def cmd_space_reduce(ws, args) -> None:
    from ..models import reduce_space

    space = reduce_space(ws, args.name, args.dim, args.new_name)
    s = _space_summary(ws, space.id)
    s["explained_variance"] = space.provenance.get("explained_variance")
    _emit(args, s, f"added {_space_line(s)} (PCA of {args.name}, {s['explained_variance']:.1%} of the variance)")

def cmd_export(ws, args) -> None:
    from embeddings.store.space_store import load_space

    from ..models.export import export_space

    paths = export_space(load_space(ws, args.space, mmap=True), args.format, args.out)
    _emit(args, {"space": args.space, "format": args.format, "files": [str(p) for p in paths]},
          "wrote " + ", ".join(str(p) for p in paths))


def cmd_space_pool(ws, args) -> None:
    from ..display import plural
    from ..models import add_pooled

    space = add_pooled(ws, args.word_space, args.corpus, args.method, args.name)
    s = _space_summary(ws, space.id)
    p = space.provenance
    _emit(args, {**s, "oov_tokens": p["oov_tokens"], "oov_share": p["oov_share"],
                 "empty_documents": p["empty_documents"]},
          f"added {_space_line(s)}; {p['oov_share']:.1%} of the tokens are not in {args.word_space}"
          + (f", {plural(p['empty_documents'], 'document')} with no known token" if p["empty_documents"] else ""))


def cmd_space_add_baseline(ws, args) -> None:
    from embeddings.models.docspaces import parse_ngrams

    from ..models import add_baseline

    kind, ngrams = parse_ngrams(args.ngrams)
    space = add_baseline(ws, args.corpus, args.name, kind=kind, ngrams=ngrams, lsa=args.lsa, seed=args.seed)
    s = _space_summary(ws, space.id)
    _emit(args, {**s, "features": space.provenance["features"],
                 "explained_variance": space.provenance["explained_variance"]},
          f"added {_space_line(s)} from {space.provenance['features']:,} TF-IDF features "
          f"({space.provenance['explained_variance']:.1%} of their variance)")


def register(sub):
    """Add this module's subcommands (in the order ``--help`` lists them); returns the
    ``space`` group, for other modules' ``space`` subcommands."""
    train = _command(sub, cmd_train, "train", help="train word2vec, fasttext or ppmi-svd on a corpus")
    train.add_argument("--corpus", required=True)
    from embeddings.models.hf_folder import POOLINGS
    from embeddings.space import UNITS

    from ..models import TRAIN_FAMILIES
    from ..models.vectors import IMPORT_FORMATS

    train.add_argument("--model", required=True, choices=TRAIN_FAMILIES)
    train.add_argument("--name", required=True)
    arch = train.add_mutually_exclusive_group()
    arch.add_argument("--sg", dest="sg", action="store_true", default=None, help="skip-gram (the default)")
    arch.add_argument("--cbow", dest="sg", action="store_false", default=None, help="CBOW instead of skip-gram")
    from ..models.gensim_models import TrainParams

    for flag in ("--dim", "--window", "--min-count", "--epochs", "--seed", "--negative", "--sample", "--workers",
                 "--min-n", "--max-n", "--bucket"):    # None: the family's own default (PPMI-SVD has its own)
        name = flag[2:].replace("-", "_")
        add_flag(train, flag, TrainParams, name, default=None,
                 none_means=f"the training form's, {getattr(TrainParams(), name):g}")

    space = sub.add_parser("space", help="pretrained, imported and derived spaces")
    ssub = space.add_subparsers(dest="action", required=True, parser_class=_Parser)
    pre = _command(ssub, cmd_space_add_pretrained, "add-pretrained",
                   help="minilm (or a local model folder) over a corpus, or glove-6b-50d")
    pre.add_argument("model", metavar="minilm|glove-6b-50d|FOLDER")
    pre.add_argument("--name", required=True)
    pre.add_argument("--terms-from", metavar="CORPUS", help="encode the corpus's vocabulary terms")
    pre.add_argument("--unit", choices=UNITS, default=UNITS[0])
    pre.add_argument("--corpus", metavar="CORPUS", help="with --unit: the corpus to encode")
    pre.add_argument("--top", type=int, default=None, help="only the N most frequent terms (or first N units)")
    enc = pre.add_argument_group("a plain transformers folder (no modules.json), or prompts for any encoder")
    enc.add_argument("--pooling", choices=POOLINGS, help="default: lasttoken for a decoder-only model, else mean")
    enc.add_argument("--no-normalise", action="store_true", help="keep the pooled vectors' lengths")
    enc.add_argument("--query-prompt", metavar="TEXT", help="put before every query (e.g. 'query: ')")
    enc.add_argument("--document-prompt", metavar="TEXT", help="put before every document (e.g. 'passage: ')")
    imp = _command(ssub, cmd_space_import, "import", help="import a vectors file (never a pickle)")
    imp.add_argument("file")
    imp.add_argument("--format", required=True, choices=IMPORT_FORMATS)
    imp.add_argument("--name", required=True)
    imp.add_argument("--max-mb", type=float, default=None, metavar="MB")
    _command(ssub, cmd_space_list, "list", help="list spaces")
    _named_command(ssub, cmd_space_show, "show", "one space: its model card", top=10)
    _named_command(ssub, cmd_space_delete, "delete", "delete a space")
    red = _named_command(ssub, cmd_space_reduce, "reduce", "PCA down to --dim, saved as a new space")
    red.add_argument("--dim", type=int, required=True)
    red.add_argument("--name", dest="new_name", required=True)
    from embeddings.models.docspaces import LSA_DIM, POOLING

    pool = _command(ssub, cmd_space_pool, "pool", help="a word space pooled over each document of a corpus")
    pool.add_argument("word_space", metavar="WORD_SPACE")
    pool.add_argument("--corpus", required=True)
    pool.add_argument("--method", choices=POOLING, default=POOLING[0],
                      help="mean, or SIF (Arora et al. 2017: frequency weights, first component removed)")
    pool.add_argument("--name", required=True)
    base = _command(ssub, cmd_space_add_baseline, "add-baseline", help="the TF-IDF baseline as a document space (LSA)")
    base.add_argument("model", choices=["tfidf"])
    base.add_argument("--corpus", required=True)
    base.add_argument("--ngrams", default="word:1-2", metavar="word:1-2|char:3-5")
    base.add_argument("--lsa", type=int, default=LSA_DIM, metavar="K", help="dimensions kept by TruncatedSVD")
    base.add_argument("--seed", type=int, default=0)
    base.add_argument("--name", required=True)
    return ssub


def register_export(sub) -> None:
    """``export`` comes last in ``--help``."""
    export = _command(sub, cmd_export, "export", help="write a space to word2vec text, projector TSV or npy")
    export.add_argument("space")
    from ..models.export import EXPORT_FORMATS

    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument("--out", required=True)
