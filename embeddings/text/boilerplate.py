"""Boilerplate: lines that repeat across a large share of a corpus's documents.

Page headers and footers, navigation bars ("Prev Up Home Next"), licence lines and cookie
notices are not the domain's vocabulary, but they are its most frequent phrases. The rule,
in one place: a line (whitespace folded, case kept) is boilerplate when it stands in at
least :data:`SHARE` of the documents **and** in at least :data:`MIN_DOCUMENTS` of them;
lines longer than :data:`MAX_LINE_CHARS` are content and never counted. A corpus of fewer
than :data:`MIN_DOCUMENTS` documents has no boilerplate.

Counting keeps one 64-bit hash per distinct line of a document (8 bytes a line), not the
lines themselves; the text of the top :data:`EXAMPLES` lines is kept for the preview.

>>> docs = [Document(f"Prev Up Home Next\\nPage {i} is about topic {i}.", "f") for i in range(6)]
>>> kept, report = strip_boilerplate(docs)
>>> kept[0].text, report.removed, report.examples[0]
('Page 0 is about topic 0.', 6, ('Prev Up Home Next', 6))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from embeddings.readers import Document
from embeddings.text.preprocess import TOKEN_RE

#: a line in at least this share of the documents is boilerplate...
SHARE = 0.3
#: ...if it also stands in at least this many documents
MIN_DOCUMENTS = 5
#: longer lines are content, never counted; so are lines without a word (a lone "|" or "»"); a
#: navigation bar whose items stand one per line is counted item by item
MAX_LINE_CHARS = 300
MIN_WORDS = 1
#: how many of the most widespread boilerplate lines a report keeps, with their text
EXAMPLES = 10
RULE = (f"a line with a word (up to {MAX_LINE_CHARS} characters) found in at least {SHARE:.0%} of the documents "
        f"and in at least {MIN_DOCUMENTS} of them")


@dataclass
class Boilerplate:
    """What the rule finds in a corpus: ``lines`` distinct boilerplate lines, ``removed``
    line occurrences dropped from ``documents`` documents (of ``total``), and the most
    widespread lines as ``(text, documents)``."""

    lines: int = 0
    removed: int = 0
    documents: int = 0
    total: int = 0
    examples: list[tuple[str, int]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"rule": RULE, "distinct_lines": self.lines, "lines_removed": self.removed,
                "documents_touched": self.documents, "documents": self.total,
                "examples": [{"line": t, "documents": n} for t, n in self.examples]}

    def sentence(self) -> str:
        if not self.lines:
            return f"No boilerplate: no line is {RULE}."
        return (f"{self.removed:,} boilerplate line(s) dropped from {self.documents:,} of {self.total:,} documents: "
                f"{self.lines:,} distinct line(s), each {RULE}.")


def _line(raw: str) -> str:
    return " ".join(raw.split())


_NONE = np.zeros(0, np.int64)
#: the line boundaries of ``str.splitlines``
_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _hashes(text: str) -> np.ndarray:
    """The distinct counted lines of one document, as hashes (none for a one-line document:
    a CSV row or a line is a whole document, never a header around one)."""
    if not _BREAK.search(text):
        return _NONE
    lines = {_line(raw) for raw in text.splitlines()} - {""}
    if len(lines) < 2:
        return _NONE
    return np.fromiter((hash(t) for t in lines if len(t) <= MAX_LINE_CHARS and _counted(t)), np.int64)


def _counted(line: str) -> bool:
    return len(TOKEN_RE.findall(line, 0, MAX_LINE_CHARS)) >= MIN_WORDS


def find_boilerplate(documents: Sequence[Document]) -> tuple[set[int], Boilerplate]:
    """The hashes of the boilerplate lines, and a report (examples; nothing removed yet)."""
    total = len(documents)
    report = Boilerplate(total=total)
    if total < MIN_DOCUMENTS:
        return set(), report
    # only documents with lines to count: an empty array per one-line document cost 112 bytes
    # each (a million CSV rows: 112 MB at the peak of ingest, #26)
    per_doc = [h for d in documents if len(h := _hashes(d.text))]
    values, counts = np.unique(np.concatenate(per_doc) if per_doc else _NONE, return_counts=True)
    need = max(MIN_DOCUMENTS, int(np.ceil(SHARE * total)))
    found = values[counts >= need]
    report.lines = len(found)
    if not len(found):
        return set(), report
    order = np.argsort(-counts[counts >= need], kind="stable")[:EXAMPLES]
    top = {int(found[i]): int(counts[counts >= need][i]) for i in order}
    texts: dict[int, str] = {}
    for d in documents:
        for raw in d.text.splitlines():
            t = _line(raw)
            h = hash(t)
            if h in top and h not in texts:
                texts[h] = t
        if len(texts) == len(top):
            break
    report.examples = [(texts[h], n) for h, n in top.items()]
    return set(found.tolist()), report


def strip_boilerplate(documents: Sequence[Document]) -> tuple[list[Document], Boilerplate]:
    """``documents`` without their boilerplate lines (a document left empty is dropped by the
    corpus as any empty one), and the report of what went."""
    found, report = find_boilerplate(documents)
    if not found:
        return list(documents), report
    out = []
    for d in documents:
        lines = d.text.splitlines()
        if len(lines) < 2:
            out.append(d)
            continue
        kept = [raw for raw in lines if hash(_line(raw)) not in found]
        if len(kept) < len(lines):
            report.documents += 1
            report.removed += len(lines) - len(kept)
            d = replace(d, text="\n".join(kept))
        out.append(d)
    return out, report
