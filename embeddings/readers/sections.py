"""A page cut at its headings: each section under an h1–h3 (HTML) or ``#``–``###`` (Markdown)
heading becomes a document, its heading kept as metadata (``heading``) and left out of the
text, as a CSV title column is. That makes heading → section queries (#29) and keeps a long
manual page from being one averaged vector.

HTML goes through trafilatura's main content (the same reading as a whole page: no menus or
footers), in its XML form, whose ``<head rend="h2">`` elements mark the headings. A deeper
heading (h4–h6) stays in its section's text. A permalink mark at the end of a heading
(Sphinx's and MkDocs' ``¶``) is dropped. Text before the first heading is a section with no
heading; an empty section (a heading followed straight by a subheading) is no document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

LEVELS = ("h1", "h2", "h3")
PERMALINK = "¶"
_PERMALINKS = re.compile(PERMALINK + r"(?=\s|$)", re.M)
_ATX = re.compile(r"^ {0,3}(#{1,3})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def clean_heading(text: str) -> str:
    """One line, without a trailing permalink mark.

    >>> clean_heading("3.1. Using Python as a\\n Calculator¶")
    '3.1. Using Python as a Calculator'
    """
    return " ".join(text.split()).rstrip(PERMALINK).rstrip()


def drop_permalinks(text: str) -> str:
    """Without the permalink marks Sphinx and MkDocs put after headings and definitions.

    >>> drop_permalinks("abs(x)¶ Return the absolute value. ¶ stays¶x")
    'abs(x) Return the absolute value.  stays¶x'
    """
    return _PERMALINKS.sub("", text)


def _emit(heading: str, lines: list[str]) -> Iterator[tuple[str, str]]:
    body = "\n".join(line for line in lines if line.strip()).strip()
    if body:
        yield heading, body


def markdown_sections(text: str) -> list[tuple[str, str]]:
    r"""(heading, body) pairs of a Markdown text, cut at ATX headings of levels 1–3 outside
    fenced code.

    >>> markdown_sections("Intro\n# One\nfirst\n```\n# not a heading\n```\n## Two ##\nsecond\n### Empty\n")
    [('', 'Intro'), ('One', 'first\n```\n# not a heading\n```'), ('Two', 'second')]
    """
    out: list[tuple[str, str]] = []
    heading, lines, fence = "", [], ""
    for line in text.splitlines():
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
        elif opened:
            fence = opened.group(1)
        elif m := _ATX.match(line):
            out.extend(_emit(heading, lines))
            heading, lines = clean_heading(m.group(2)), []
            continue
        lines.append(line)
    out.extend(_emit(heading, lines))
    return out


def html_sections(html: str) -> list[tuple[str, str]] | None:
    """(heading, body) pairs of an HTML page's main content; None when trafilatura finds none."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(html, output_format="xml", include_comments=False, include_tables=True,
                              include_links=False, include_images=False, include_formatting=False,
                              favor_recall=True, with_metadata=False, deduplicate=False)
    if not xml:
        return None
    main = etree.fromstring(xml.encode("utf-8")).find("main")
    if main is None:
        return None
    out: list[tuple[str, str]] = []
    heading, lines = "", []
    for element in main:
        text = " ".join(drop_permalinks("".join(element.itertext())).split())
        if element.tag == "head" and element.get("rend") in LEVELS:
            out.extend(_emit(heading, lines))
            heading, lines = clean_heading(text), []
        elif text:
            lines.append(clean_heading(text) if element.tag == "head" else text)
    out.extend(_emit(heading, lines))
    return out
