"""A user's string is text: how the pages show names, labels, words and messages.

Not a page. Every page shows a user's string through :func:`md` (Markdown) or
:func:`plotly_chart` (figures); file names through :func:`download_name`.
"""

import re

import streamlit as st

from embeddings.display import safe_figure, safe_filename

# -- a user's string is text ---------------------------------------------------------
# Streamlit reads Markdown (and its own :icon: / :color[...] / $LaTeX$ directives) in every
# body, caption, label, tab, toast and message. A user's string (a name, a label, a file
# name, a word, an error message quoting them) goes through md() before it joins one, so
# `![x](http://host/y.png)` cannot fetch anything and `**` cannot restyle the page. Raw HTML
# is never enabled (no unsafe_allow_html anywhere).
# the marks that mean something anywhere in a line; every colon, as one opens an :icon:, an
# :emoji: or a :red[colour] directive (an escaped mark renders as itself)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#~$&|!:])")
# GitHub-flavoured Markdown turns bare http://, www. and e-mail text into live links, escaped or
# not (the browser showed it): a zero-width space before "://" and "@", and after "www" before
# ".", breaks each form while the text reads the same
_AUTOLINK = re.compile(r"(?=://)|(?=@)|(?<=www)(?=\.)", re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"
_MD_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")  # a list item or heading only at the start of a line


def md(value: object) -> str:
    """A user's string as literal Markdown text: every mark that would style, link, embed an
    image, raw HTML, an icon, a colour or LaTeX is backslash-escaped (CommonMark renders an
    escaped mark as itself), and runs of white space, newlines included, fold to one space,
    so nothing can start a block; a bare URL or e-mail address gets a zero-width space that keeps
    it from becoming a link. ``md("**x** ![i](http://h/i.png)")`` shows those characters."""
    text = _AUTOLINK.sub(ZERO_WIDTH_SPACE, " ".join(str(value).split()))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" if m.group(1).isdigit() else "\\" + m.group(1), text)


def md_highlight(before: str, term: str, after: str) -> str:
    """A user's sentence as literal text with ``term`` in bold: each part escaped by :func:`md`,
    the spaces around the term kept (``md`` trims them)."""
    lead = " " if before[-1:].isspace() else ""
    trail = " " if after[:1].isspace() else ""
    return f"{md(before)}{lead}**{md(term)}**{trail}{md(after)}"


def md_list(values, sep: str = ", ") -> str:
    """Several user strings, each escaped, joined by ``sep``."""
    return sep.join(md(v) for v in values)


def plotly_chart(fig, **kwargs):
    """``st.plotly_chart`` after every data string of the figure is escaped (see embeddings.display)."""
    return st.plotly_chart(safe_figure(fig), **kwargs)


def download_name(name: str, suffix: str) -> str:
    """A download's file name from a user's name (no path, no markup)."""
    return safe_filename(name) + suffix


def fmt_int(n: int | float) -> str:
    return f"{int(n):,}"
