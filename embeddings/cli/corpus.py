"""``corpus add|list|show|rename|delete``, ``samples`` and ``seed``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from .common import _command, _emit, _named_command, _Parser, _progress_printer


def _preprocessing_args(p: argparse.ArgumentParser) -> None:
    """The upload form's options with the upload form's defaults (RECOMMENDED): the same file
    gives the same corpus from the page and from here."""
    from embeddings.options import add_flag
    from embeddings.text.boilerplate import RULE
    from embeddings.text.preprocess import PHRASE_MODES, PHRASE_SCORING, RECOMMENDED as P, Preprocessing

    g = p.add_argument_group("preprocessing (defaults: the upload form's)")
    g.add_argument("--cased", action="store_true", help="keep case (default: lowercase)")
    g.add_argument("--strip-accents", action="store_true", help="remove accents (café -> cafe)")
    g.add_argument("--keep-boilerplate", action="store_true",
                   help="keep lines repeated across the documents (default: drop " + RULE.replace("%", "%%") + ")")
    add_flag(g, "--min-length", Preprocessing, "min_length", default=P.min_length)
    g.add_argument("--stopwords", action="store_true", help="remove gensim's English stopwords")
    g.add_argument("--drop-numbers", action="store_true", help="drop tokens without a letter")
    g.add_argument("--no-sentences", action="store_true", help="do not split documents into sentences")
    g.add_argument("--phrases", choices=PHRASE_MODES, default=P.phrases,
                   help=f"detect phrases with gensim Phrases (new_york; default {P.phrases})")
    g.add_argument("--phrase-scoring", choices=PHRASE_SCORING, default=P.phrase_scoring,
                   help=f"gensim's scorer (default {P.phrase_scoring}: normalised PMI in [-1, 1])")
    g.add_argument("--phrase-threshold", type=float, default=P.phrase_threshold, metavar="X",
                   help=f"default {P.phrase_threshold:g} (npmi); gensim's default scorer uses about 10")
    add_flag(g, "--phrase-min-count", Preprocessing, "phrase_min_count", default=P.phrase_min_count)
    r = p.add_argument_group("reading")
    r.add_argument("--text-column", metavar="NAME", help="csv/tsv column or jsonl field holding the text")
    r.add_argument("--lines", action="store_true", help=".txt/.md: every line is a document")
    r.add_argument("--whole-file", action="store_true",
                   help=".txt/.md: the whole file is one document (default: one per paragraph, at blank lines)")
    r.add_argument("--sections", action="store_true",
                   help=".html/.md: each section under an h1-h3 (# to ###) heading is a document, its heading kept "
                        "as metadata (for `retrieval make --method heading`)")
    r.add_argument("--no-header", dest="header", action="store_false",
                   help="csv/tsv: the first row is data; columns are named 'column 1', 'column 2'...")
    r.add_argument("--max-mb", type=float, default=None, metavar="MB",
                   help="size limit per file (default 200, or $EMBEDDINGS_MAX_UPLOAD_MB)")

def _preprocessing_from(args):
    from embeddings.text.preprocess import Preprocessing

    return Preprocessing(
        lowercase=not args.cased,
        strip_accents=args.strip_accents,
        min_length=args.min_length,
        stopwords=args.stopwords,
        numbers=not args.drop_numbers,
        sentences=not args.no_sentences,
        phrases=args.phrases,
        phrase_scoring=args.phrase_scoring,
        phrase_threshold=args.phrase_threshold,
        phrase_min_count=args.phrase_min_count,
        boilerplate=not args.keep_boilerplate,
    )

def _read_file_sources(paths: Sequence[str], args, limits):
    """The files as sources, every path checked first; each file is read only when its turn
    comes, so its bytes can be freed once it is parsed (ingest streams file by file)."""
    from ..readers import Source, check_size, format_of

    checked = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise InputError(f"{p}: no such file.")
        format_of(path.name)
        check_size(path.name, path.stat().st_size, limits)  # before reading it into memory
        checked.append(path)
    return (Source(path.name, path.read_bytes(), args.text_column, lines_as_documents=args.lines,
                   whole_file=args.whole_file, sections=args.sections, header=args.header)
            for path in checked)

def cmd_corpus_add(ws, args) -> None:
    from embeddings.text.corpus import add_corpus
    from embeddings.text.samples import SAMPLES

    from ..readers import Limits

    prep = _preprocessing_from(args)
    limits = Limits.from_env(args.max_mb)
    progress = _progress_printer(args)
    if args.sample:
        if args.files:
            raise InputError("Give files or --sample, not both.")
        if args.sample not in SAMPLES:
            raise InputError(f"Unknown sample {args.sample!r}; known: {', '.join(SAMPLES)}.")
        ws.check_new_name("corpus", args.name)
        corpus = add_corpus(ws, args.name, documents=SAMPLES[args.sample].load(), preprocessing=prep,
                            source_label=f"sample:{args.sample}", progress=progress)
    else:
        if not args.files:
            raise InputError("Give one or more files, or --sample NAME.")
        ws.check_new_name("corpus", args.name)
        sources = _read_file_sources(args.files, args, limits)
        corpus = add_corpus(ws, args.name, sources=sources, preprocessing=prep, limits=limits, progress=progress)
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)
    s = corpus.summary()
    _emit(args, s, f"added corpus {s['name']} ({s['id']}): {s['documents']:,} documents, "
                   f"{s['sentences']:,} sentences, {s['tokens']:,} tokens, {s['vocabulary']:,} terms")

def cmd_corpus_list(ws, args) -> None:
    from embeddings.text.corpus import list_corpora

    rows = [c.summary() for c in list_corpora(ws)]
    lines = [f"{r['name']:<24} {r['documents']:>8,} docs {r['tokens']:>11,} tokens {r['vocabulary']:>9,} terms"
             for r in rows]
    _emit(args, rows, "\n".join(lines) if lines else "(no corpora)")

def cmd_corpus_show(ws, args) -> None:
    from embeddings.text.corpus import get_corpus

    c = get_corpus(ws, args.name)
    out = c.summary()
    out["top_terms"] = c.top_terms(args.top).to_dict("records")
    out["phrases"] = c.phrases().head(args.top).to_dict("records")
    out["files"] = c.stats.get("files", [])
    terms = ", ".join(f"{t['term']} ({t['count']})" for t in out["top_terms"])
    _emit(args, out, f"{out['name']}: {out['documents']:,} documents, {out['tokens']:,} tokens, "
                     f"{out['vocabulary']:,} terms\ntop terms: {terms}")

def cmd_corpus_rename(ws, args) -> None:
    from embeddings.text.corpus import rename_corpus

    c = rename_corpus(ws, args.name, args.new_name)
    _emit(args, c.summary(), f"renamed to {c.name}")

def cmd_corpus_delete(ws, args) -> None:
    from embeddings.text.corpus import delete_corpus, get_corpus

    c = get_corpus(ws, args.name)
    delete_corpus(ws, c.id)
    _emit(args, {"deleted": c.name, "id": c.id}, f"deleted corpus {c.name}")

def cmd_samples(ws, args) -> None:
    from embeddings.text.samples import SAMPLES

    rows = [{"key": s.key, "title": s.title, "description": s.description, "licence": s.licence}
            for s in SAMPLES.values()]
    _emit(args, rows, "\n".join(f"{r['key']:<12} {r['description']}" for r in rows))


cmd_samples.needs_workspace = False     # a listing of the package's samples: no workspace is opened

def cmd_seed(ws, args) -> None:
    """Build the demo's missing stages (see :mod:`embeddings.demo.run`): here and now, or as
    the app's background worker (``--worker``: leaves at once if another process builds)."""
    from embeddings.demo.run import run_stages, watch_parent

    if args.worker and args.parent:
        watch_parent(args.parent)
    out = None if args.quiet else sys.stderr
    added = run_stages(ws, wait=not args.worker, until=args.until, out=out)
    _emit(args, {"added": added, "workspace": str(ws.root)},
          f"seeded {', '.join(added)}" if added else f"{ws.root}: nothing to build")


def register(sub) -> None:
    """Add this module's subcommands (in the order ``--help`` lists them)."""
    corpus = sub.add_parser("corpus", help="add, list, show, rename and delete corpora")
    csub = corpus.add_subparsers(dest="action", required=True, parser_class=_Parser)
    add = _command(csub, cmd_corpus_add, "add", help="read files (or a sample) into a new corpus")
    add.add_argument("files", nargs="*", metavar="FILE")
    add.add_argument("--name", required=True)
    add.add_argument("--sample", metavar="KEY", help="a bundled sample instead of files (see 'samples')")
    _preprocessing_args(add)
    _command(csub, cmd_corpus_list, "list", help="list corpora")
    _named_command(csub, cmd_corpus_show, "show", "one corpus with its top terms", top=20)
    _named_command(csub, cmd_corpus_rename, "rename", "rename a corpus").add_argument("new_name")
    _named_command(csub, cmd_corpus_delete, "delete", "delete a corpus")

    _command(sub, cmd_samples, "samples", help="list the bundled sample corpora")
    seed = _command(sub, cmd_seed, "seed", help="build the demo in the workspace (once: resumes where a start "
                    "stopped; no-op when done)")
    seed.add_argument("--worker", action="store_true", help="run as the app's background worker: leave at once "
                      "if another process is building the demo here")
    seed.add_argument("--parent", type=int, help="with --worker: stop when this process (the app) ends")
    from ..demo import STAGES
    seed.add_argument("--until", choices=[s.key for s in STAGES], metavar="STAGE",
                      help="build the stages up to this one only (the demo stays unfinished)")
