"""A user's regular expression (a widget, a URL parameter, the CLI), matched in linear time.

Python's ``re`` backtracks: ``(\\w|\\w|\\w|\\w)*!`` takes minutes on one 16-letter label and
holds the interpreter while it does, so one link froze the server for every visitor (#26).
RE2 (Google's engine, through its maintained binding ``google-re2``) matches in time linear in
the text, whatever the pattern; what it cannot do in linear time (back-references,
look-around) it refuses, and we say so. The pattern's length and its compiled program's memory
are bounded here, once for every caller.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from embeddings.errors import InputError

#: the longest pattern a user may give
MAX_PATTERN_CHARS = 500
#: RE2's memory budget for one compiled pattern (a larger program is refused)
MAX_PATTERN_BYTES = 8 << 20
#: what the refusal says about the syntax
SYNTAX = ("RE2 syntax (linear time): no back-references (\\1) or look-around ((?=…), (?<=…)); "
          "\\w and \\b are ASCII, \\pL matches any letter")


def compile_pattern(text: str):
    """``text`` compiled by RE2, or an :class:`~embeddings.errors.InputError` that quotes it
    and says why (too long, invalid, or beyond RE2)."""
    import re2

    if len(text) > MAX_PATTERN_CHARS:
        raise InputError(f"The regular expression is {len(text):,} characters long; the limit is "
                         f"{MAX_PATTERN_CHARS:,}.")
    options = re2.Options()
    options.log_errors = False          # the reason goes into our message, not onto stderr
    options.max_mem = MAX_PATTERN_BYTES
    try:
        return re2.compile(text, options)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise InputError(f"Invalid regular expression {text!r}: {reason}. Patterns use {SYNTAX}.") from None


def matching(labels: Iterable[str], text: str) -> np.ndarray:
    """A boolean mask: which ``labels`` contain a match of the user's pattern ``text``."""
    search = compile_pattern(text).search
    return np.fromiter((search(label) is not None for label in labels), dtype=bool)
