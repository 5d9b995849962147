"""``audit``: the domain-vocabulary audit."""

from __future__ import annotations


from ..errors import InputError
from .common import _emit, _command


def cmd_audit(ws, args) -> None:
    from ..audit import audit
    from ..wordlists import parse_words, read_text_file
    from ..corpus import get_corpus
    from ..space_store import load_space

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


def register(sub) -> None:
    """Add this module's subcommands (in the order ``--help`` lists them)."""
    au = _command(sub, cmd_audit, "audit", help="domain-vocabulary audit of a corpus's terms against spaces")
    au.add_argument("--corpus", required=True)
    au.add_argument("--spaces", required=True, metavar="A,B,...")
    au.add_argument("--terms", metavar="FILE", help="one term per line")
    au.add_argument("--mine", type=int, metavar="N", help="the N terms most over-represented against GloVe")
    au.add_argument("-k", type=int, default=10)
    au.add_argument("--domain", metavar="SPACE", help="the space trained on the corpus (default: guessed)")
