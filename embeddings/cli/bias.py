"""``bias weat|axis|debias|tests``."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .common import _Parser, _emit, _command, _space_summary, BiasGateFailed


def _weat_test(ws, args):
    from ..bias import custom_test, get_test
    from ..wordlists import parse_words, read_text_file

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
    from ..bias import RefusedTest, builtin_tests, weat, with_holm
    from ..space_store import load_space

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

def cmd_bias_axis(ws, args) -> None:
    from ..bias import axis_report
    from ..wordlists import parse_pairs, parse_words, read_text_file
    from ..space_store import load_space

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
    from ..bias import debias_space
    from ..wordlists import parse_pairs, parse_words, read_text_file

    kwargs = {}
    if args.definitional:
        kwargs["definitional"] = parse_pairs(read_text_file(args.definitional))
    if args.equalize:
        kwargs["equalize"] = parse_pairs(read_text_file(args.equalize))
    if args.specific:
        kwargs["specific"] = parse_words(read_text_file(args.specific))
    from ..bias import debias_report
    from ..space_store import load_space

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
    from ..bias import builtin_tests, saved_tests

    tests = list(builtin_tests()) + saved_tests(ws)
    out = [{"id": t.id, "title": t.title, "sets": {s.name: list(s.words) for s in t.sets},
            "sources": list(t.sources), "published_effect_size": t.published, "builtin": t.builtin,
            **({"removed": list(t.removed), "note": t.note} if t.removed else {})} for t in tests]
    _emit(args, out, "\n".join(f"{t.id:<10} {t.title}" for t in tests))


def register(sub) -> None:
    """Add this module's subcommands (in the order ``--help`` lists them)."""
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
    from ..bias import EXACT_LIMIT, MAX_MISSING, PERMUTATIONS

    bw.add_argument("--permutations", type=int, default=PERMUTATIONS, metavar="N",
                    help=f"random partitions when exact enumeration is over {EXACT_LIMIT:,}")
    bw.add_argument("--seed", type=int, default=0)
    bw.add_argument("--max-missing", type=float, default=MAX_MISSING, metavar="SHARE",
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
