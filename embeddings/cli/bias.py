"""``bias weat|axis|debias|tests``."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .common import BiasGateFailed, _command, _emit, _Parser, _space_summary


def _weat_test(ws, args):
    from embeddings.text.wordlists import parse_words, read_text_file

    from ..bias import custom_test, get_test

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
    ci = (f" [95% CI {result.effect_size_ci[0]:+.3f}, {result.effect_size_ci[1]:+.3f}]"
          if result.effect_size_ci else "")
    top = result.most_influential
    lever = (f"; without '{top['word']}' ({top['role']}) d = {top['d_without']:+.3f}" if top else "")
    return (f"{result.test} on {space_name} ({'SEAT' if result.seat else 'WEAT'}): d = {result.effect_size:.3f}{ci}{lever}, "
            f"p = {result.p_value:.4g} ({result.p_method}, {result.permutations:,} partitions){holm}, "
            f"S = {result.S:.4f}, sizes {'/'.join(map(str, result.sizes))}"
            + (f"; missing: {', '.join(result.missing_words)}" if result.missing_words else ""))

def cmd_bias_weat(ws, args) -> None:
    """One test (``--test`` or four word files), or, with neither, every built-in test, with
    Holm's adjusted p beside each raw p."""
    from embeddings.store.space_store import load_space

    from ..bias import RefusedTest, builtin_tests, weat, with_holm

    space = load_space(ws, args.space)
    settings = dict(ddof=args.ddof, permutations=args.permutations, seed=args.seed, max_missing=args.max_missing,
                    lowercase_fallback=args.lowercase_fallback, bootstrap=args.bootstrap,
                    seat_unit=args.seat_permutation)
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

def cmd_bias_metric(ws, args) -> None:
    """One metric (WEAT, RND, ECT, MAC, RNSB) of one test, or of every built-in test."""
    from embeddings.store.space_store import load_space

    from ..bias import METRICS, builtin_tests, metric_table, run_metric

    space = load_space(ws, args.space)
    info = METRICS[args.metric]
    settings = dict(seed=args.seed, max_missing=args.max_missing, lowercase_fallback=args.lowercase_fallback,
                    ddof=args.ddof, bootstrap=args.bootstrap)
    if args.test or any([args.x, args.y, args.a, args.b]):
        r = run_metric(space, _weat_test(ws, args), args.metric, **settings)
        line = (f"{args.metric.upper()} {r.test} on {space.name}: {r.value:+.4f} ({info.direction}); "
                f"sizes {'/'.join(map(str, r.sizes))}, {r.vectors} vectors"
                + (f"; missing: {', '.join(r.missing_words)}" if r.missing_words else "")
                + (f"\nnote: {r.note}" if r.note else ""))
        _emit(args, r.to_dict(), line)
        return
    table = metric_table([space], builtin_tests(), args.metric, **settings)
    entries = [{k: v for k, v in row.items() if v == v and v != ""} for row in table.to_dict("records")]
    _emit(args, {"metric": args.metric, "space": space.name, "name": info.name, "formula": info.formula,
                 "source": info.source, "direction": info.direction, "unbiased": info.unbiased, "tests": entries},
          "\n".join(f"{args.metric.upper()} {e['test']} on {space.name}: " +
                    (f"{e['value']:+.4f}" if "value" in e else f"refused ({e.get('refused')})") for e in entries)
          + f"\n{info.name}: {info.direction}")


def cmd_bias_axis(ws, args) -> None:
    from embeddings.store.space_store import load_space
    from embeddings.text.wordlists import parse_pairs, parse_words, read_text_file

    from ..bias import axis_report

    space = load_space(ws, args.space)
    report = axis_report(space, parse_pairs(read_text_file(args.pairs)), parse_words(read_text_file(args.words)),
                         method=args.method, c=args.c, lowercase_fallback=args.lowercase_fallback,
                         ripa_on=args.ripa)
    out = report.to_dict()
    p = report.projections
    lo = ", ".join(f"{w} {v:+.3f}" for w, v in zip(p["word"][:5], p["projection"][:5]))
    hi = ", ".join(f"{w} {v:+.3f}" for w, v in zip(p["word"][::-1][:5], p["projection"][::-1][:5]))
    _emit(args, out, f"axis on {space.name} ({report.axis.method}, {len(report.axis.pairs)} pairs, first component "
                     f"{report.axis.explained_variance[0]:.1%} of the variance): DirectBias_{args.c:g} = "
                     f"{report.direct_bias:.4f} over {len(p)} words\n"
                     f"towards {report.axis.ends[0]}: {lo}\ntowards {report.axis.ends[1]}: {hi}"
                     + f"\nRIPA on the {report.ripa_vectors} vectors"
                     + (f" ({report.ripa_note})" if report.ripa_note else "")
                     + (f"\nwarning: {report.axis.warning}" if report.axis.warning else ""))

def cmd_bias_debias(ws, args) -> None:
    from embeddings.text.wordlists import parse_pairs, parse_words, read_text_file

    from ..bias import debias_space

    kwargs = {}
    if args.definitional:
        kwargs["definitional"] = parse_pairs(read_text_file(args.definitional))
    if args.equalize:
        kwargs["equalize"] = parse_pairs(read_text_file(args.equalize))
    if args.specific:
        kwargs["specific"] = parse_words(read_text_file(args.specific))
    from embeddings.store.space_store import load_space

    from ..bias import debias_report

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
    from ..bias import WeatParams
    from ..options import add_flag

    add_flag(bw, "--permutations", WeatParams, "permutations")
    add_flag(bw, "--seed", WeatParams, "seed")
    add_flag(bw, "--max-missing", WeatParams, "max_missing", metavar="SHARE")
    bw.add_argument("--lowercase-fallback", action="store_true", help="cased spaces: try lowercase when missing")
    bw.add_argument("--fail-above", type=float, default=None, metavar="D",
                    help="exit 3 when |d| is above D (a bias gate for CI)")
    from ..bias import METRICS, RIPA_VECTORS, SEAT_UNITS

    add_flag(bw, "--bootstrap", WeatParams, "bootstrap")
    bw.add_argument("--seat-permutation", choices=SEAT_UNITS, default=SEAT_UNITS[0],
                    help="SEAT: permute whole words (their template sentences together; default) or single "
                         "sentences (May et al. 2019)")
    bm = _command(bsub, cmd_bias_metric, "metric", help="WEAT, RND, ECT, MAC or RNSB (WEFE's metrics) on a space")
    bm.add_argument("space")
    bm.add_argument("--metric", choices=list(METRICS), required=True)
    bm.add_argument("--test", help="weat1..weat10 or a saved custom test (default: all built-in tests)")
    for flag in ("--x", "--y", "--a", "--b"):
        bm.add_argument(flag, metavar="FILE", help="a word list, one word per line")
    add_flag(bm, "--seed", WeatParams, "seed", help_suffix="; also RNSB's split and classifier")
    bm.add_argument("--ddof", type=int, choices=(0, 1), default=1, help="WEAT: 1 sample std (default), 0 as WEFE")
    add_flag(bm, "--bootstrap", WeatParams, "bootstrap")
    add_flag(bm, "--max-missing", WeatParams, "max_missing", metavar="SHARE")
    bm.add_argument("--lowercase-fallback", action="store_true")
    ba = _command(bsub, cmd_bias_axis, "axis", help="a bias direction from pairs; projections, DirectBias, RIPA")
    ba.add_argument("space")
    ba.add_argument("--pairs", required=True, metavar="FILE", help="one pair per line: 'woman man'")
    ba.add_argument("--words", required=True, metavar="FILE", help="words to project, one per line")
    ba.add_argument("--method", choices=("pca", "pair"), default="pca")
    ba.add_argument("--c", type=float, default=1.0, help="DirectBias strictness c")
    ba.add_argument("--ripa", choices=RIPA_VECTORS, default=RIPA_VECTORS[0],
                    help="RIPA on the raw vectors (as published; default) or the unit vectors")
    ba.add_argument("--lowercase-fallback", action="store_true")
    bd = _command(bsub, cmd_bias_debias, "debias", help="hard debiasing (Bolukbasi et al.) into a new space")
    bd.add_argument("space")
    bd.add_argument("--name", required=True)
    bd.add_argument("--definitional", metavar="FILE", help="pairs (default: the published gender pairs)")
    bd.add_argument("--equalize", metavar="FILE", help="pairs to equalise (default: the published list)")
    bd.add_argument("--specific", metavar="FILE", help="words never neutralised (default: the published full list of 1,441)")
    _command(bsub, cmd_bias_tests, "tests", help="list the built-in and saved WEAT tests")
