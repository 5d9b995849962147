"""``audit``: the domain-vocabulary audit."""

from __future__ import annotations

from embeddings.analysis.audit import AuditParams
from embeddings.analysis.neighbours import K as NEIGHBOUR_K
from embeddings.options import add_flag

from ..errors import InputError
from .common import _command, _emit


def cmd_audit(ws, args) -> None:
    from embeddings.analysis.audit import audit
    from embeddings.store.space_store import load_space
    from embeddings.text.corpus import get_corpus
    from embeddings.text.wordlists import parse_words, read_text_file

    if (args.terms is None) == (args.mine is None):
        raise InputError("Give --terms FILE or --mine N.")
    names = [n.strip() for n in args.spaces.split(",") if n.strip()]
    spaces = [load_space(ws, n) for n in names]
    terms = parse_words(read_text_file(args.terms)) if args.terms else None
    corpus = get_corpus(ws, args.corpus)
    noise = None
    if args.noise != "none":
        from embeddings.analysis.stability import load_study, studies_for

        found = studies_for(ws, corpus.id) if args.noise == "auto" else [ws.get("stability", args.noise)]
        noise = load_study(ws, found[0].id) if found else None
    result = audit(corpus, spaces, terms, mine=args.mine, k=args.k,
                   domain=load_space(ws, args.domain).name if args.domain else None, noise=noise)
    out = result.to_dict()
    flagged = [t["term"] for t in out["terms"] if t["flags"]]
    _emit(args, out, f"{len(out['terms'])} terms of {result.corpus}, domain space {result.domain}\n"
                     + "\n".join(f"  {r['space']:<20} coverage {r['coverage']:.0%} "
                                  f"(by frequency {r['coverage_by_frequency']:.0%})"
                                  + (f", median neighbour overlap {r['median_overlap']:.2f} (drift "
                                     f"{r['median_drift']:.2f}) on {r['overlap_n']} terms" if r["overlap_n"] else "")
                                  for r in out["summary"])
                     + (f"\nnoise floor: {result.noise['study']} ({result.noise['runs']} runs of "
                        f"{result.noise['model']}, median stability {result.noise['median_stability']:.2f}); "
                        + "; ".join(f"{r['beyond_noise']} of {r['noise_n']} terms differ from {r['space']} beyond "
                                    "their own noise" for r in out["summary"] if r.get("noise_n"))
                        if result.noise else "\nno noise floor (run `stability` on this corpus for one)")
                     + f"\nflagged: {', '.join(flagged[:30])}")


def cmd_stability(ws, args) -> None:
    """Train the same model with several seeds (and document resamples); per label the mean
    pairwise Jaccard@k of its neighbours across runs, and WEAT d's spread."""
    from embeddings.analysis.stability import RUNS, TOP, K, StabilityParams, run_study, save_study

    from .common import _progress_printer

    settings = {}
    for key in ("dim", "epochs", "min_count", "window", "workers"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    params = StabilityParams(args.corpus, args.model, runs=args.runs or RUNS, bootstrap=args.bootstrap,
                             k=args.k or K, top=args.top or TOP, seed=args.seed, settings=settings)
    study = run_study(ws, params, progress=_progress_printer(args))
    if args.name:
        study = save_study(ws, study, args.name)
    out = study.to_dict()
    _emit(args, out, f"{params.runs} runs of {params.model} on {params.corpus}"
                     f"{' (bootstrap resamples of the documents)' if params.bootstrap else ''}: median stability "
                     f"(mean pairwise Jaccard@{params.k}) {study.median:.3f} over {len(study.labels):,} labels "
                     f"(of {study.vocabulary:,} shared)\n"
                     + "\n".join(f"  {w['test']}: d = {w['mean']:+.3f} ± {w['std']:.3f} (range {w['min']:+.3f} to "
                                 f"{w['max']:+.3f}, {w['runs']} runs)" for w in out["weat"])
                     + (f"\nsaved as {study.name}" if study.name else ""))


def register(sub) -> None:
    """Add this module's subcommands (in the order ``--help`` lists them)."""
    au = _command(sub, cmd_audit, "audit", help="domain-vocabulary audit of a corpus's terms against spaces")
    au.add_argument("--corpus", required=True)
    au.add_argument("--spaces", required=True, metavar="A,B,...")
    au.add_argument("--terms", metavar="FILE", help="one term per line")
    add_flag(au, "--mine", AuditParams, "mine", default=None, none_means="--terms instead",
             help_suffix=f"; the page mines {AuditParams().mine}")
    add_flag(au, "-k", AuditParams, "k")
    au.add_argument("--domain", metavar="SPACE", help="the space trained on the corpus (default: guessed)")
    au.add_argument("--noise", default="auto", metavar="STUDY|auto|none",
                    help="a stability study as noise floor (default: the corpus's newest one)")
    st = _command(sub, cmd_stability, "stability", help="seed-to-seed stability of a model trained on a corpus")
    st.add_argument("--corpus", required=True)
    st.add_argument("--model", required=True, choices=("word2vec", "fasttext", "ppmi"))
    st.add_argument("--runs", type=int, help="training runs (default 5)")
    st.add_argument("--bootstrap", action="store_true", help="each run on a bootstrap resample of the documents")
    st.add_argument("-k", type=int, help=f"neighbours compared (default {NEIGHBOUR_K})")
    st.add_argument("--top", type=int, help="how many of the most frequent labels get a score (default 3000)")
    st.add_argument("--seed", type=int, default=1, help="the first run's seed; run i uses seed + i")
    st.add_argument("--name", help="save the study in the workspace under this name")
    for key, kind in (("dim", int), ("epochs", int), ("min_count", int), ("window", int), ("workers", int)):
        st.add_argument(f"--{key.replace('_', '-')}", dest=key, type=kind)
