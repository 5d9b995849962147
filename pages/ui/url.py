"""A link's parameters, checked against the widgets' own bounds before any widget reads them
(#26, item 6). One :class:`Bound` per parameter is the home of its bounds: the widget is
drawn from it, and :func:`check_link` reads the same bound to say, once per session and
value, that a bad value in a link fell back to the default. Streamlit's own binding
(``bind="query-params"``) drops a value it cannot use silently; the caption says so.

Not a page.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import streamlit as st

from pages.ui.text import md, md_list

URL = "query-params"     # widgets bound to the URL: a copied link reopens the same view


@dataclass(frozen=True)
class Bound:
    """What a URL parameter may hold: a whole number or a number in ``[low, high]``, one of
    ``options`` (its text or its position), or ``true``/``false`` (``flag``)."""

    low: float | None = None
    high: float | None = None
    whole: bool = True
    options: tuple[str, ...] | None = None
    flag: bool = False

    @property
    def span(self) -> tuple:
        """``(low, high)`` as the widget takes them: whole numbers as ``int``."""
        return (int(self.low), int(self.high)) if self.whole else (self.low, self.high)

    def accepts(self, raw: str) -> bool:
        if self.flag:
            return raw.lower() in ("true", "false")
        if self.options is not None:
            return raw in self.options or (raw.isdigit() and int(raw) < len(self.options))
        try:
            value = int(raw) if self.whole else float(raw)
        except ValueError:
            return False
        return math.isfinite(value) and self.low <= value <= self.high

    def says(self) -> str:
        if self.flag:
            return "true or false"
        if self.options is not None:
            return "one of " + md_list(self.options)
        if self.whole:
            return f"a whole number from {int(self.low):,} to {int(self.high):,}"
        return f"a number from {self.low:g} to {self.high:g}"


def _refused(key: str, raw: str, says: str, then: str = "the default is used") -> None:
    """The caption for a refused value, once per session, parameter and value."""
    seen = st.session_state.setdefault("_link_refused", set())
    if (key, raw) not in seen:
        seen.add((key, raw))
        st.caption(f"The link's {md(key)} = {md(raw[:40])} is not {says}: {then}.")


def check_link(rules: dict[str, Bound]) -> None:
    """A caption for each parameter of this page's link that its bound refuses (the widget
    bound to it then shows its default)."""
    for key, bound in rules.items():
        raw = st.query_params.get(key)
        if raw not in (None, "") and not bound.accepts(raw):
            _refused(key, raw, bound.says())


def number(key: str, default: int | float, bound: Bound) -> int | float:
    """A number from the link that no widget binds (a widget's first value), within ``bound``;
    otherwise ``default``, with a caption."""
    raw = st.query_params.get(key)
    if raw in (None, ""):
        return default
    if not bound.accepts(raw):
        _refused(key, raw, bound.says())
        return default
    return int(raw) if bound.whole else float(raw)


def choice(key: str, options: list[str], default: str) -> str:
    """One of ``options`` (by its text) from the link, else ``default`` with a caption."""
    raw = st.query_params.get(key)
    if raw in (None, ""):
        return default
    if raw not in options:
        _refused(key, raw, "one of " + md_list(options))
        return default
    return raw


def names(key: str, choices: Iterable[str]) -> list[str]:
    """The comma-separated names in the link's ``key`` that are among ``choices``; the others
    are named in a caption."""
    choices = set(choices)
    listed = [v for v in st.query_params.get(key, "").split(",") if v]
    unknown = [v for v in listed if v not in choices]
    if unknown:
        _refused(key, ",".join(unknown), "a name this workspace has", "left out")
    return [v for v in listed if v in choices]


def sync_query_params(**values) -> None:
    """Keep the page's key state in the URL, so a demo link reopens the same view."""
    for key, value in values.items():
        value = str(value)
        if st.query_params.get(key) != value:
            st.query_params[key] = value


def view_link(page: str) -> str:
    """This view's shareable address: the browser's origin, the page, and every query
    parameter (the synced ones and the widgets bound to the URL)."""
    from urllib.parse import urlencode, urlsplit

    origin = urlsplit(st.context.url or "http://localhost:8501")
    pairs = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
    return f"{origin.scheme}://{origin.netloc}/{page}" + (f"?{urlencode(pairs)}" if pairs else "")


def copy_link(page: str, container=None) -> None:
    """A "Copy link" popover holding this view's address with a copy button."""
    with (container or st).popover("Copy link", icon=":material/link:"):
        st.caption("This link reopens the view as it is now: spaces, points, colours and settings.")
        st.code(view_link(page), language=None, wrap_lines=True)
