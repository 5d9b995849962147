"""Command line: ``python -m embeddings [--workspace DIR] <command> ... [--json]``.

It calls the same core functions as the pages. With ``--json`` stdout carries
exactly one JSON document. A user mistake prints one line on stderr and exits 2;
an internal error prints one line too (set ``EMBEDDINGS_DEBUG=1`` for the
traceback) and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import EmbeddingsError, InputError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line, not a usage block."""

    def error(self, message: str):  # noqa: D401
        raise InputError(f"{message} (see '{self.prog} --help')")


def json_safe(obj):
    """``obj`` with every NaN or infinity (Python or numpy) as None, numpy scalars and arrays as
    Python values: JSON has no NaN, so ``--json`` prints null there.

    >>> import numpy as np
    >>> json_safe({"cosine": float("nan"), "d": np.float32(0.5), "xs": [np.inf, 1]})
    {'cosine': None, 'd': 0.5, 'xs': [None, 1]}
    """
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _emit(args, obj, human: str) -> None:
    if args.json:
        # allow_nan=False: a NaN that slipped past json_safe is a bug, never invalid JSON on stdout
        print(json.dumps(json_safe(obj), ensure_ascii=False, indent=None, default=str, allow_nan=False))
    else:
        print(human)


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")


# -- corpus ---------------------------------------------------------------------
def _preprocessing_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("preprocessing")
    g.add_argument("--cased", action="store_true", help="keep case (default: lowercase)")
    g.add_argument("--strip-accents", action="store_true", help="remove accents (café -> cafe)")
    g.add_argument("--min-length", type=int, default=1, metavar="N", help="drop tokens shorter than N characters")
    g.add_argument("--stopwords", action="store_true", help="remove gensim's English stopwords")
    g.add_argument("--drop-numbers", action="store_true", help="drop tokens without a letter")
    g.add_argument("--no-sentences", action="store_true", help="do not split documents into sentences")
    from .corpus import PHRASE_MODES, PHRASE_SCORING, Preprocessing as P

    g.add_argument("--phrases", choices=PHRASE_MODES, default=P.phrases,
                   help="detect phrases with gensim Phrases (new_york)")
    g.add_argument("--phrase-scoring", choices=PHRASE_SCORING, default=P.phrase_scoring,
                   help=f"gensim's scorer (default {P.phrase_scoring}: normalised PMI in [-1, 1])")
    g.add_argument("--phrase-threshold", type=float, default=P.phrase_threshold, metavar="X",
                   help=f"default {P.phrase_threshold:g} (npmi); gensim's default scorer uses about 10")
    g.add_argument("--phrase-min-count", type=int, default=P.phrase_min_count, metavar="N")
    r = p.add_argument_group("reading")
    r.add_argument("--text-column", metavar="NAME", help="csv/tsv column or jsonl field holding the text")
    r.add_argument("--lines", action="store_true", help=".txt/.md: every line is a document")
    r.add_argument("--whole-file", action="store_true",
                   help=".txt/.md: the whole file is one document (default: one per paragraph, at blank lines)")
    r.add_argument("--no-header", dest="header", action="store_false",
                   help="csv/tsv: the first row is data; columns are named 'column 1', 'column 2'...")
    r.add_argument("--max-mb", type=float, default=None, metavar="MB",
                   help="size limit per file (default 200, or $EMBEDDINGS_MAX_UPLOAD_MB)")


def _preprocessing_from(args):
    from .corpus import Preprocessing

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
    )


def _read_file_sources(paths: Sequence[str], args, limits):
    """The files as sources, every path checked first; each file is read only when its turn
    comes, so its bytes can be freed once it is parsed (ingest streams file by file)."""
    from .readers import Source, check_size, format_of

    checked = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise InputError(f"{p}: no such file.")
        format_of(path.name)
        check_size(path.name, path.stat().st_size, limits)  # before reading it into memory
        checked.append(path)
    return (Source(path.name, path.read_bytes(), args.text_column, lines_as_documents=args.lines,
                   whole_file=args.whole_file, header=args.header)
            for path in checked)


class _TerminalProgress:
    """Progress on stderr as ``[ 42%] stage · ETA 1 min 10 s``: rewritten in place on a
    terminal; in a log (not a terminal), one line per stage and per tenth, so a long first
    start never looks stuck."""

    def __init__(self, tty: bool):
        import time

        self.tty, self.clock, self.start, self.last = tty, time.monotonic, time.monotonic(), None

    def __call__(self, fraction: float, message: str) -> None:
        f = min(max(float(fraction), 0.0), 1.0)
        elapsed = self.clock() - self.start
        eta = elapsed * (1 - f) / f if 0.03 < f < 1 and elapsed > 2 else None
        when = "" if eta is None else f" · ETA {int(eta) // 60} min {int(eta) % 60:02d} s" if eta >= 60 \
            else f" · ETA {eta:.0f} s"
        text = f"[{f:4.0%}] {message[:64]}{when}"
        if self.tty:
            print(f"\r{text:<92}", end="", file=sys.stderr, flush=True)
            return
        key = (re.sub(r"[\d,]+", "#", message), int(f * 10))   # "Tokenising document # of #"
        if key != self.last:
            self.last = key
            print(text, file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.tty:
            print(file=sys.stderr, flush=True)


def _progress_printer(args, *, in_logs: bool = False):
    """Progress on a terminal; with ``in_logs`` also line by line when stderr is a file or a
    pipe (the demo seeding of ``make run``, whose first start takes minutes)."""
    if args.json or not (sys.stderr.isatty() or in_logs):
        return lambda f, m: None
    return _TerminalProgress(sys.stderr.isatty())


def cmd_corpus_add(ws, args) -> None:
    from .corpus import add_corpus
    from .readers import Limits
    from .samples import SAMPLES

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
    from .corpus import list_corpora

    rows = [c.summary() for c in list_corpora(ws)]
    lines = [f"{r['name']:<24} {r['documents']:>8,} docs {r['tokens']:>11,} tokens {r['vocabulary']:>9,} terms"
             for r in rows]
    _emit(args, rows, "\n".join(lines) if lines else "(no corpora)")


def cmd_corpus_show(ws, args) -> None:
    from .corpus import get_corpus

    c = get_corpus(ws, args.name)
    out = c.summary()
    out["top_terms"] = c.top_terms(args.top).to_dict("records")
    out["phrases"] = c.phrases().head(args.top).to_dict("records")
    out["files"] = c.stats.get("files", [])
    terms = ", ".join(f"{t['term']} ({t['count']})" for t in out["top_terms"])
    _emit(args, out, f"{out['name']}: {out['documents']:,} documents, {out['tokens']:,} tokens, "
                     f"{out['vocabulary']:,} terms\ntop terms: {terms}")


def cmd_corpus_rename(ws, args) -> None:
    from .corpus import rename_corpus

    c = rename_corpus(ws, args.name, args.new_name)
    _emit(args, c.summary(), f"renamed to {c.name}")


def cmd_corpus_delete(ws, args) -> None:
    from .corpus import delete_corpus, get_corpus

    c = get_corpus(ws, args.name)
    delete_corpus(ws, c.id)
    _emit(args, {"deleted": c.name, "id": c.id}, f"deleted corpus {c.name}")


def cmd_samples(ws, args) -> None:
    from .samples import SAMPLES

    rows = [{"key": s.key, "title": s.title, "description": s.description, "licence": s.licence}
            for s in SAMPLES.values()]
    _emit(args, rows, "\n".join(f"{r['key']:<12} {r['description']}" for r in rows))


def cmd_seed(ws, args) -> None:
    from .demo import SEEDED_KEY, seed_demo

    progress = _progress_printer(args, in_logs=True)
    if not args.json and not ws.get_setting(SEEDED_KEY):
        print(f"Seeding the demo workspace in {ws.root} (first start only; about 75 s on two cores)…",
              file=sys.stderr, flush=True)
    added = seed_demo(ws, progress)
    getattr(progress, "finish", lambda: None)()
    _emit(args, {"added": added, "workspace": str(ws.root)},
          f"seeded {', '.join(added)}" if added else f"{ws.root}: already seeded")


# -- spaces ---------------------------------------------------------------------
def _space_summary(ws, name_or_id: str) -> dict:
    """A space's model card from the catalogue alone (no vectors or labels are read)."""
    from .cards import SpaceCard

    return SpaceCard.from_artefact(ws.get("space", name_or_id)).to_dict()


def _space_line(s: dict) -> str:
    extra = f" on {s['corpus']}" if s.get("corpus") else ""
    return f"{s['name']:<24} {s['family']:<20} {s['vocabulary']:>9,} x {s['dim']:<4}{extra}"


def _epoch_printer(args):
    if args.json or not sys.stderr.isatty():
        return None

    def on_epoch(r):
        loss = f", loss {r.loss:,.0f}" if r.loss is not None else ""
        print(f"\repoch {r.epoch}/{r.epochs}{loss}, {r.seconds:.1f}s, {r.words_per_second:,.0f} words/s   ",
              end="", file=sys.stderr, flush=True)

    return on_epoch


def cmd_train(ws, args) -> None:
    from .models import train_space

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
    from .models import add_pretrained

    if args.model == "glove-6b-50d" and (args.terms_from or args.corpus):
        raise InputError("GloVe is a fixed vocabulary: use --top N, not a corpus.")
    corpus = args.terms_from or args.corpus
    unit = "term" if args.terms_from else args.unit
    if args.model != "glove-6b-50d" and not corpus:
        raise InputError("Give --terms-from CORPUS, or --unit sentence|document --corpus CORPUS.")
    space = add_pretrained(ws, args.model, args.name, corpus=corpus, unit=unit, top=args.top,
                           progress=_progress_printer(args))
    s = _space_summary(ws, space.id)
    _emit(args, s, f"added {_space_line(s)}")


def cmd_space_import(ws, args) -> None:
    from .models import import_space
    from .readers import Limits

    limits = Limits.from_env(args.max_mb)
    space = import_space(ws, args.file, args.format, args.name, limits=limits)
    s = _space_summary(ws, space.id)
    _emit(args, s, f"imported {_space_line(s)}")
    if not args.json:
        for warning in s["warnings"]:
            print(f"warning: {warning}", file=sys.stderr)


def cmd_space_list(ws, args) -> None:
    from .space import list_spaces

    rows = [_space_summary(ws, a.id) for a in list_spaces(ws)]
    _emit(args, rows, "\n".join(_space_line(r) for r in rows) if rows else "(no spaces)")


def cmd_space_show(ws, args) -> None:
    from .space import load_space

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
    from .models import reduce_space

    space = reduce_space(ws, args.name, args.dim, args.new_name)
    s = _space_summary(ws, space.id)
    s["explained_variance"] = space.provenance.get("explained_variance")
    _emit(args, s, f"added {_space_line(s)} (PCA of {args.name}, {s['explained_variance']:.1%} of the variance)")


def cmd_export(ws, args) -> None:
    from .models.vectors import export_space
    from .space import load_space

    paths = export_space(load_space(ws, args.space, mmap=True), args.format, args.out)
    _emit(args, {"space": args.space, "format": args.format, "files": [str(p) for p in paths]},
          "wrote " + ", ".join(str(p) for p in paths))



# -- explore ----------------------------------------------------------------------
def cmd_neighbours(ws, args) -> None:
    from .neighbours import neighbours
    from .space import load_space

    space = load_space(ws, args.space)
    result = neighbours(space, args.query, args.k, exclude_query=not args.include_query)
    out = {"query": args.query, "space": space.name,
           "neighbours": [{"label": n.label, "cosine": round(n.cosine, 6)} for n in result]}
    _emit(args, out, "\n".join(f"{n.cosine:7.4f}  {n.label}" for n in result))


def cmd_compare(ws, args) -> None:
    from .neighbours import compare
    from .space import load_space

    result = compare(load_space(ws, args.a), load_space(ws, args.b), args.k, max_labels=args.max_labels)
    out = result.summary()
    out["aligned"] = result.aligned
    table = result.table.round(6)
    out["labels"] = table.to_dict("records")
    changed = result.most_changed(10, content_only=not args.all_labels)["label"].tolist()
    _emit(args, out, f"{args.a} vs {args.b}: {out['shared']:,} shared labels, mean Jaccard@{args.k} "
                     f"{out['mean_jaccard']:.3f}, median {out['median_jaccard']:.3f}\n"
                     f"most changed{'' if args.all_labels else ' content words'}: {', '.join(changed)}")


def cmd_project(ws, args) -> None:
    from .projection import cached_project, select_rows
    from .space import load_space

    space = load_space(ws, args.space)
    rows = select_rows(space, top=args.limit)
    params = {"umap": {"n_neighbors": args.n_neighbors, "min_dist": args.min_dist},
              "tsne": {"perplexity": args.perplexity}, "pca": {}}[args.method]
    proj = cached_project(ws, space, rows, args.method, params=params, seed=args.seed,
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


# -- bias ---------------------------------------------------------------------------
def _weat_test(ws, args):
    from .bias import custom_test, get_test
    from .wordlists import parse_words, read_text_file

    files = [args.x, args.y, args.a, args.b]
    if args.test and any(files):
        raise InputError("Give --test or the four word files --x --y --a --b, not both.")
    if args.test:
        return get_test(args.test, ws)
    if not all(files):
        raise InputError("Give all four of --x --y --a --b (or --test weat1..weat10, or a saved custom test).")
    sets = [(Path(f).stem, parse_words(read_text_file(f))) for f in files]
    return custom_test("custom", *sets)


def _weat_line(result, space_name: str) -> str:
    holm = f", Holm p = {result.p_holm:.4g}" if result.p_holm is not None else ""
    return (f"{result.test} on {space_name} ({'SEAT' if result.seat else 'WEAT'}): d = {result.effect_size:.3f}, "
            f"p = {result.p_value:.4g} ({result.p_method}, {result.permutations:,} partitions){holm}, "
            f"S = {result.S:.4f}, sizes {'/'.join(map(str, result.sizes))}"
            + (f"; missing: {', '.join(result.missing_words)}" if result.missing_words else ""))


def cmd_bias_weat(ws, args) -> None:
    """One test (``--test`` or four word files), or, with neither, every built-in test, with
    Holm's adjusted p beside each raw p."""
    from .bias import RefusedTest, builtin_tests, weat, with_holm
    from .space import load_space

    space = load_space(ws, args.space)
    settings = dict(ddof=args.ddof, permutations=args.permutations, seed=args.seed, max_missing=args.max_missing,
                    lowercase_fallback=args.lowercase_fallback)
    if args.test or any([args.x, args.y, args.a, args.b]):
        results, refused = [weat(space, _weat_test(ws, args), **settings)], []
    else:
        ran, refused, cache = [], [], {}
        for test in builtin_tests():
            try:
                ran.append(weat(space, test, sentence_cache=cache, **settings))
            except RefusedTest as exc:
                refused.append({"test": test.id, "space": space.name, "refused": str(exc)})
        results = with_holm(ran)
    if len(results) == 1 and not refused and (args.test or args.x):
        _emit(args, results[0].to_dict(), _weat_line(results[0], space.name))
    else:
        order = {t.id: i for i, t in enumerate(builtin_tests())}
        entries = sorted([r.to_dict() for r in results] + refused, key=lambda e: order.get(e["test"], 99))
        human = "\n".join(_weat_line(r, space.name) for r in results) + "".join(
            f"\n{e['test']} on {space.name}: refused ({e['refused']})" for e in refused)
        _emit(args, {"space": space.name, "p_adjustment": "Holm (1979), over the tests that ran on this space",
                     "tests": entries}, human + "\np: one-sided permutation p; Holm p: adjusted for the tests run "
                                                "together")
    worst = max(results, key=lambda r: abs(r.effect_size), default=None)
    if args.fail_above is not None and worst is not None and abs(worst.effect_size) > args.fail_above:
        raise BiasGateFailed(f"{worst.test} on {space.name}: |d| = {abs(worst.effect_size):.3f} is above "
                             f"the gate of {args.fail_above}.")


class BiasGateFailed(Exception):
    """``bias weat --fail-above``: the effect size is over the user's threshold (exit 3)."""


def cmd_bias_axis(ws, args) -> None:
    from .bias import axis_report
    from .wordlists import parse_pairs, parse_words, read_text_file
    from .space import load_space

    space = load_space(ws, args.space)
    report = axis_report(space, parse_pairs(read_text_file(args.pairs)), parse_words(read_text_file(args.words)),
                         method=args.method, c=args.c, lowercase_fallback=args.lowercase_fallback)
    out = report.to_dict()
    p = report.projections
    lo = ", ".join(f"{w} {v:+.3f}" for w, v in zip(p["word"][:5], p["projection"][:5]))
    hi = ", ".join(f"{w} {v:+.3f}" for w, v in zip(p["word"][::-1][:5], p["projection"][::-1][:5]))
    _emit(args, out, f"axis on {space.name} ({report.axis.method}, {len(report.axis.pairs)} pairs, first component "
                     f"{report.axis.explained_variance[0]:.1%} of the variance): DirectBias_{args.c:g} = "
                     f"{report.direct_bias:.4f} over {len(p)} words\n"
                     f"towards {report.axis.ends[0]}: {lo}\ntowards {report.axis.ends[1]}: {hi}"
                     + (f"\nwarning: {report.axis.warning}" if report.axis.warning else ""))


def cmd_bias_debias(ws, args) -> None:
    from .bias import debias_space
    from .wordlists import parse_pairs, parse_words, read_text_file

    kwargs = {}
    if args.definitional:
        kwargs["definitional"] = parse_pairs(read_text_file(args.definitional))
    if args.equalize:
        kwargs["equalize"] = parse_pairs(read_text_file(args.equalize))
    if args.specific:
        kwargs["specific"] = parse_words(read_text_file(args.specific))
    from .bias import debias_report
    from .space import load_space

    space = debias_space(ws, args.space, args.name, **kwargs)
    info = {k: v for k, v in space.provenance["debias"].items() if k != "direction"}
    report = debias_report(load_space(ws, args.space), space)
    out = {**_space_summary(ws, space.id), "debias": info, "report": report.to_dict()}
    res = report.residual
    _emit(args, out, f"saved {space.name}: {info['neutralised']:,} words neutralised, "
                     f"{len(info['equalised_pairs'])} pairs equalised, parent {args.space}\n"
                     f"DirectBias over {report.professions} neutral professions: {report.before:.4f} before; after, "
                     f"{report.after_removed:.1e} along the removed direction (0 by construction) and "
                     f"{report.after_recomputed:.4f} along a direction recomputed from {space.name}\n"
                     + (f"k-means (k=2) separates the {res.n:,} most biased words with accuracy {res.before:.3f} "
                        f"before and {res.after:.3f} after (0.5 = chance; Gonen & Goldberg 2019)" if res else
                        f"clustering check not run: {report.residual_problem}"))


def cmd_bias_tests(ws, args) -> None:
    from .bias import builtin_tests, saved_tests

    tests = list(builtin_tests()) + saved_tests(ws)
    out = [{"id": t.id, "title": t.title, "sets": {s.name: list(s.words) for s in t.sets},
            "sources": list(t.sources), "published_effect_size": t.published, "builtin": t.builtin,
            **({"removed": list(t.removed), "note": t.note} if t.removed else {})} for t in tests]
    _emit(args, out, "\n".join(f"{t.id:<10} {t.title}" for t in tests))


# -- audit and evaluation ------------------------------------------------------------
def cmd_audit(ws, args) -> None:
    from .audit import audit
    from .wordlists import parse_words, read_text_file
    from .corpus import get_corpus
    from .space import load_space

    if (args.terms is None) == (args.mine is None):
        raise InputError("Give --terms FILE or --mine N.")
    names = [n.strip() for n in args.spaces.split(",") if n.strip()]
    spaces = [load_space(ws, n) for n in names]
    terms = parse_words(read_text_file(args.terms)) if args.terms else None
    result = audit(get_corpus(ws, args.corpus), spaces, terms, mine=args.mine, k=args.k,
                   domain=load_space(ws, args.domain).name if args.domain else None)
    out = result.to_dict()
    flagged = [t["term"] for t in out["terms"] if t["flags"]]
    _emit(args, out, f"{len(out['terms'])} terms of {result.corpus}, domain space {result.domain}\n"
                     + "\n".join(f"  {r['space']:<20} coverage {r['coverage']:.0%} "
                                  f"(by frequency {r['coverage_by_frequency']:.0%})"
                                  + (f", median neighbour overlap {r['median_overlap']:.2f} (drift "
                                     f"{r['median_drift']:.2f}) on {r['overlap_n']} terms" if r["overlap_n"] else "")
                                  for r in out["summary"])
                     + f"\nflagged: {', '.join(flagged[:30])}")


def cmd_evaluate(ws, args) -> None:
    import pandas as pd

    from .evaluation import BENCHMARKS, evaluate, n_of, scoreboard
    from .space import load_space

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


def _command(subparsers, func, name: str, **kwargs) -> argparse.ArgumentParser:
    """A subcommand that runs ``func(ws, args)`` and takes --json."""
    parser = subparsers.add_parser(name, **kwargs)
    _add_json(parser)
    parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m embeddings", description="Embedding Explorer: corpora and embedding spaces.")
    p.add_argument("--workspace", metavar="DIR",
                   help="workspace folder (default: $EMBEDDINGS_WORKSPACE or ./workspace)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    corpus = sub.add_parser("corpus", help="add, list, show, rename and delete corpora")
    csub = corpus.add_subparsers(dest="action", required=True, parser_class=_Parser)
    add = _command(csub, cmd_corpus_add, "add", help="read files (or a sample) into a new corpus")
    add.add_argument("files", nargs="*", metavar="FILE")
    add.add_argument("--name", required=True)
    add.add_argument("--sample", metavar="KEY", help="a bundled sample instead of files (see 'samples')")
    _preprocessing_args(add)
    _command(csub, cmd_corpus_list, "list", help="list corpora")
    show = _command(csub, cmd_corpus_show, "show", help="one corpus with its top terms")
    show.add_argument("name")
    show.add_argument("--top", type=int, default=20)
    ren = _command(csub, cmd_corpus_rename, "rename", help="rename a corpus")
    ren.add_argument("name")
    ren.add_argument("new_name")
    dele = _command(csub, cmd_corpus_delete, "delete", help="delete a corpus")
    dele.add_argument("name")

    _command(sub, cmd_samples, "samples", help="list the bundled sample corpora")
    _command(sub, cmd_seed, "seed", help="seed the demo workspace (once; no-op afterwards)")

    train = _command(sub, cmd_train, "train", help="train word2vec, fasttext or ppmi-svd on a corpus")
    train.add_argument("--corpus", required=True)
    train.add_argument("--model", required=True, choices=("word2vec", "fasttext", "ppmi-svd"))
    train.add_argument("--name", required=True)
    arch = train.add_mutually_exclusive_group()
    arch.add_argument("--sg", dest="sg", action="store_true", default=None, help="skip-gram (the default)")
    arch.add_argument("--cbow", dest="sg", action="store_false", default=None, help="CBOW instead of skip-gram")
    for flag, kind in (("--dim", int), ("--window", int), ("--min-count", int), ("--epochs", int), ("--seed", int),
                       ("--negative", int), ("--sample", float), ("--workers", int), ("--min-n", int),
                       ("--max-n", int), ("--bucket", int)):
        train.add_argument(flag, type=kind, default=None, help="default: as the training form (see TrainParams)")

    space = sub.add_parser("space", help="pretrained, imported and derived spaces")
    ssub = space.add_subparsers(dest="action", required=True, parser_class=_Parser)
    pre = _command(ssub, cmd_space_add_pretrained, "add-pretrained",
                   help="minilm (or a local model folder) over a corpus, or glove-6b-50d")
    pre.add_argument("model", metavar="minilm|glove-6b-50d|FOLDER")
    pre.add_argument("--name", required=True)
    pre.add_argument("--terms-from", metavar="CORPUS", help="encode the corpus's vocabulary terms")
    pre.add_argument("--unit", choices=("term", "sentence", "document"), default="term")
    pre.add_argument("--corpus", metavar="CORPUS", help="with --unit: the corpus to encode")
    pre.add_argument("--top", type=int, default=None, help="only the N most frequent terms (or first N units)")
    imp = _command(ssub, cmd_space_import, "import", help="import a vectors file (never a pickle)")
    imp.add_argument("file")
    imp.add_argument("--format", required=True, choices=("word2vec", "word2vec-binary", "glove", "fasttext-vec"))
    imp.add_argument("--name", required=True)
    imp.add_argument("--max-mb", type=float, default=None, metavar="MB")
    _command(ssub, cmd_space_list, "list", help="list spaces")
    sshow = _command(ssub, cmd_space_show, "show", help="one space: its model card")
    sshow.add_argument("name")
    sshow.add_argument("--top", type=int, default=10)
    sdel = _command(ssub, cmd_space_delete, "delete", help="delete a space")
    sdel.add_argument("name")
    red = _command(ssub, cmd_space_reduce, "reduce", help="PCA down to --dim, saved as a new space")
    red.add_argument("name")
    red.add_argument("--dim", type=int, required=True)
    red.add_argument("--name", dest="new_name", required=True)

    nb = _command(sub, cmd_neighbours, "neighbours",
                  help="nearest neighbours of a term or expression (king - man + woman)")
    nb.add_argument("space")
    nb.add_argument("query")
    nb.add_argument("-k", type=int, default=10)
    nb.add_argument("--include-query", action="store_true", help="keep the query's own words in the results")
    cmp_ = _command(sub, cmd_compare, "compare", help="neighbourhood overlap of two spaces over their shared labels")
    cmp_.add_argument("a")
    cmp_.add_argument("b")
    cmp_.add_argument("-k", type=int, default=10)
    cmp_.add_argument("--max-labels", type=int, default=None, help="only the N most frequent shared labels")
    cmp_.add_argument("--all-labels", action="store_true",
                      help="list stopwords, numbers and rare labels among the most changed too")
    proj = _command(sub, cmd_project, "project", help="a 2-D layout with trust scores (cached in the workspace)")
    proj.add_argument("space")
    proj.add_argument("--method", choices=("umap", "pca", "tsne"), default="umap")
    proj.add_argument("--limit", type=int, default=5000, help="the N most frequent labels")
    proj.add_argument("--seed", type=int, default=1)
    proj.add_argument("--n-neighbors", type=int, default=15)
    proj.add_argument("--min-dist", type=float, default=0.1)
    proj.add_argument("--perplexity", type=float, default=30.0)
    proj.add_argument("--out", metavar="FILE.parquet")

    bias = sub.add_parser("bias", help="WEAT/SEAT tests, bias axes and hard debiasing")
    bsub = bias.add_subparsers(dest="action", required=True, parser_class=_Parser)
    bw = _command(bsub, cmd_bias_weat, "weat", help="WEAT (SEAT for sentence encoders) with its permutation p; "
                                                  "without --test, all ten built-in tests with Holm's p")
    bw.add_argument("space")
    bw.add_argument("--test", metavar="ID", help="weat1..weat10, or a custom test saved in the workspace "
                                                 "(default: all built-in tests)")
    for flag in ("--x", "--y", "--a", "--b"):
        bw.add_argument(flag, metavar="FILE", help="a word list, one word per line")
    bw.add_argument("--ddof", type=int, choices=(0, 1), default=1,
                    help="1: sample std, as Caliskan et al. (default); 0: population std, as WEFE")
    bw.add_argument("--permutations", type=int, default=100_000, metavar="N",
                    help="random partitions when exact enumeration is over 100,000")
    bw.add_argument("--seed", type=int, default=0)
    bw.add_argument("--max-missing", type=float, default=0.2, metavar="SHARE",
                    help="refuse a test when a set loses more than this share of its words")
    bw.add_argument("--lowercase-fallback", action="store_true", help="cased spaces: try lowercase when missing")
    bw.add_argument("--fail-above", type=float, default=None, metavar="D",
                    help="exit 3 when |d| is above D (a bias gate for CI)")
    ba = _command(bsub, cmd_bias_axis, "axis", help="a bias direction from pairs; projections, DirectBias, RIPA")
    ba.add_argument("space")
    ba.add_argument("--pairs", required=True, metavar="FILE", help="one pair per line: 'woman man'")
    ba.add_argument("--words", required=True, metavar="FILE", help="words to project, one per line")
    ba.add_argument("--method", choices=("pca", "pair"), default="pca")
    ba.add_argument("--c", type=float, default=1.0, help="DirectBias strictness c")
    ba.add_argument("--lowercase-fallback", action="store_true")
    bd = _command(bsub, cmd_bias_debias, "debias", help="hard debiasing (Bolukbasi et al.) into a new space")
    bd.add_argument("space")
    bd.add_argument("--name", required=True)
    bd.add_argument("--definitional", metavar="FILE", help="pairs (default: the published gender pairs)")
    bd.add_argument("--equalize", metavar="FILE", help="pairs to equalise (default: the published list)")
    bd.add_argument("--specific", metavar="FILE", help="words never neutralised (default: the published full list of 1,441)")
    _command(bsub, cmd_bias_tests, "tests", help="list the built-in and saved WEAT tests")

    au = _command(sub, cmd_audit, "audit", help="domain-vocabulary audit of a corpus's terms against spaces")
    au.add_argument("--corpus", required=True)
    au.add_argument("--spaces", required=True, metavar="A,B,...")
    au.add_argument("--terms", metavar="FILE", help="one term per line")
    au.add_argument("--mine", type=int, metavar="N", help="the N terms most over-represented against GloVe")
    au.add_argument("-k", type=int, default=10)
    au.add_argument("--domain", metavar="SPACE", help="the space trained on the corpus (default: guessed)")
    ev = _command(sub, cmd_evaluate, "evaluate", help="analogy accuracy or word-pair correlation, as gensim")
    ev.add_argument("space", nargs="+", help="one space, or several to compare (ranked, and on common items)")
    ev.add_argument("--benchmark", required=True, metavar="analogy|ws353|simlex|FILE")
    ev.add_argument("--restrict-vocab", type=int, default=300_000, metavar="N")

    export = _command(sub, cmd_export, "export", help="write a space to word2vec text, projector TSV or npy")
    export.add_argument("space")
    export.add_argument("--format", required=True, choices=("word2vec", "projector-tsv", "npy"))
    export.add_argument("--out", required=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        from .workspace import Workspace

        ws = Workspace(args.workspace)
        args.func(ws, args)
        return 0
    except EmbeddingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BiasGateFailed as exc:
        print(f"bias gate: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, traceback on request
        if os.environ.get("EMBEDDINGS_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (set EMBEDDINGS_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 1
