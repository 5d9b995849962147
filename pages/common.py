"""Streamlit helpers shared by the pages: the workspace, caches, progress and errors.

Not a page (app.py's navigation does not list it). Session state holds ids and
selections only; tables come from ``st.cache_data`` keyed by artefact id, which is
safe because artefacts never change after they are written.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator

import streamlit as st

from embeddings.corpus import Corpus, get_corpus, list_corpora
from embeddings.display import safe_figure, safe_filename
from embeddings.cards import SpaceCard
from embeddings.errors import EmbeddingsError
from embeddings.space import EmbeddingSpace
from embeddings.space_store import load_space
from embeddings.workspace import Artefact, Workspace, default_root

log = logging.getLogger("embeddings.app")


def _route_through_app() -> None:
    """Make every run go through app.py's st.navigation.

    Streamlit treats a ``pages/`` folder beside the entry point as a legacy (v1)
    multipage app until some run calls ``st.navigation``. So the first session of a
    server that opens a deep link such as ``/models`` would run ``pages/models.py``
    on its own: no router, no sidebar, the raw file list as navigation. Every page
    imports this module first, so on the first import in the server process we switch
    the legacy mode off (as ``st.navigation`` itself does) and rerun: the rerun goes
    through app.py, whose navigation resolves the same URL to the right page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# session-state keys
SELECTED_CORPUS = "selected_corpus_id"


def workspace_root() -> str:
    """``streamlit run app.py -- --workspace DIR``, else $EMBEDDINGS_WORKSPACE, else ./workspace."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--workspace")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return os.path.abspath(args.workspace or default_root())


@st.cache_resource(show_spinner=False)
def _workspace(root: str) -> Workspace:
    return Workspace(root)


def workspace() -> Workspace:
    return _workspace(workspace_root())


def corpora() -> list[Corpus]:
    return list_corpora(workspace())


def _space_rows() -> tuple[dict[str, Artefact], dict[str, str]]:
    """The catalogue's spaces split into healthy (name -> row) and damaged (name -> why)."""
    from embeddings.space_store import list_spaces, space_problem

    healthy, damaged = {}, {}
    for a in list_spaces(workspace()):
        problem = space_problem(a)
        if problem:
            damaged[a.name] = problem
        else:
            healthy[a.name] = a
    return healthy, damaged


def space_cards() -> dict[str, SpaceCard]:
    """name -> model card of each usable space, oldest first. Reads the catalogue and file
    headers only, no vectors; a damaged space is left out (see :func:`damaged_notice`)."""
    return {name: SpaceCard.from_artefact(a) for name, a in _space_rows()[0].items()}


def damaged_notice(damaged: dict[str, str]) -> None:
    """Say which spaces are damaged (name -> why); the page goes on without them."""
    if damaged:
        st.warning("Left out, damaged: " + "; ".join(f"{md(n)} ({md(why)})" for n, why in damaged.items())
                   + ". Delete them on the Models page, or create them again.", icon=":material/broken_image:")


def space_choices(unit: str | None = None, cards: dict[str, SpaceCard] | None = None) -> dict[str, str]:
    """name -> id of the workspace's usable spaces (optionally of one unit), oldest first."""
    cards = space_cards() if cards is None else cards
    return {name: c.id for name, c in cards.items() if unit is None or c.unit == unit}


def spaces_or_stop(minimum: int = 1) -> dict[str, str]:
    """The workspace's usable spaces (name -> id); with fewer than ``minimum``, say so and stop the page.
    The spaces are checked once for the notice and the choices alike."""
    healthy, damaged = _space_rows()
    damaged_notice(damaged)
    choices = space_choices(cards=healthy)
    if len(choices) < minimum:
        st.info("No space yet: train or add one on the Models page." if not choices else
                f"This page needs {minimum} spaces: add another on the Models page.")
        st.stop()
    return choices


def default_spaces(choices: dict[str, str], n: int) -> list[str]:
    """The spaces named in the URL (``?spaces=a,b``) that exist, else the first ``n``."""
    return [name for name in query_list("spaces") if name in choices] or list(choices)[:n]


def query_list(key: str) -> list[str]:
    """A comma-separated URL query parameter as a list."""
    value = st.query_params.get(key, "")
    return [v for v in value.split(",") if v]


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


@st.cache_resource(max_entries=8, show_spinner=False)
def _space(root: str, space_id: str) -> EmbeddingSpace:
    return load_space(_workspace(root), space_id)


def space(space_id: str) -> EmbeddingSpace:
    """A saved space, loaded once per server (spaces never change once written)."""
    return _space(workspace_root(), space_id)


@st.cache_data(max_entries=16, show_spinner=False)
def corpus_tables(root: str, corpus_id: str) -> dict:
    """The tables the corpus page draws, read once per corpus."""
    c = get_corpus(_workspace(root), corpus_id)
    return {"vocab": c.vocabulary(), "phrases": c.phrases(), "documents": c.documents().drop(columns=["text"])}


# -- a user's string is text ---------------------------------------------------------
# Streamlit reads Markdown (and its own :icon: / :color[...] / $LaTeX$ directives) in every
# body, caption, label, tab, toast and message. A user's string (a name, a label, a file
# name, a word, an error message quoting them) goes through md() before it joins one, so
# `![x](http://host/y.png)` cannot fetch anything and `**` cannot restyle the page. Raw HTML
# is never enabled (no unsafe_allow_html anywhere).
# the marks that mean something anywhere in a line, and a colon that opens an :icon: or :emoji: code
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#~$&|!]|:(?=[\w/+-]+:))")
_MD_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")  # a list item or heading only at the start of a line


def md(value: object) -> str:
    """A user's string as literal Markdown text: every mark that would style, link, embed an
    image, raw HTML, an icon, a colour or LaTeX is backslash-escaped (CommonMark renders an
    escaped mark as itself), and runs of white space, newlines included, fold to one space,
    so nothing can start a block. ``md("**x** ![i](http://h/i.png)")`` shows those characters."""
    text = _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" if m.group(1).isdigit() else "\\" + m.group(1), text)


def md_list(values, sep: str = ", ") -> str:
    """Several user strings, each escaped, joined by ``sep``."""
    return sep.join(md(v) for v in values)


def plotly_chart(fig, **kwargs):
    """``st.plotly_chart`` after every data string of the figure is escaped (see embeddings.display)."""
    return st.plotly_chart(safe_figure(fig), **kwargs)


def download_name(name: str, suffix: str) -> str:
    """A download's file name from a user's name (no path, no markup)."""
    return safe_filename(name) + suffix


@contextlib.contextmanager
def guard(what: str = "this page") -> Iterator[None]:
    """Show a user mistake as ``st.error`` and a bug as a short message (traceback to the log).

    Streamlit's own control flow (rerun, stop) derives from BaseException and passes through.
    """
    try:
        yield
    except EmbeddingsError as exc:  # messages quote names, words and file names: text, not Markdown
        st.error(md(str(exc)), icon=":material/error:")
    except Exception as exc:  # a bug: never a traceback in front of a stakeholder
        log.exception("error in %s", what)
        st.error(
            f"Something went wrong in {md(what)} ({type(exc).__name__}: {md(exc)}). "
            "Nothing saved in the workspace was changed; the details are in the server log.",
            icon=":material/bug_report:",
        )


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def progress_reporter(label: str) -> tuple[Callable[[float, str], None], Callable[[], None]]:
    """A progress bar for the core's ``progress(fraction, message)`` callbacks: the stage (the
    message), the percentage and, once it can be estimated, the time left.

    Returns ``(progress, done)``; ``done()`` removes the bar. The label and the messages are
    plain text (they name spaces and files): both are escaped here.
    """
    bar = st.progress(0.0, text=md(label))
    started = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        elapsed = time.perf_counter() - started
        eta = f" · about {_duration(elapsed * (1 - fraction) / fraction)} left" \
            if fraction >= 0.05 and elapsed >= 2 and fraction < 1 else ""
        bar.progress(fraction, text=f"{md(label)}: {md(message)} · {fraction:.0%}{eta}")

    return progress, bar.empty


@contextlib.contextmanager
def cancellable(key: str, what: str, signature: object = None) -> Iterator[None]:
    """Run a long job with a Cancel button beside its progress bar.

    Pressing Cancel reruns the page; Streamlit stops this run at its next call (the next
    progress update), so the job ends there and nothing is saved or cached. For a job that
    starts by itself on every run (a projection, the WEAT grid, an audit), give its settings
    as ``signature``: while they stay the same, the page says the job was cancelled and
    waits for *Run again* instead of starting it anew. A job started by a button needs none
    (the rerun does not press the button again); the page shows a one-time notice.
    """
    state_key = f"_cancelled_{key}"
    sig = repr(signature)
    if signature is not None and st.session_state.get(state_key) == sig:
        st.info(f"{md(what)} was cancelled; nothing was saved. Change the settings, or run it again.",
                icon=":material/cancel:")
        if st.button("Run again", key=f"{key}_again", icon=":material/replay:"):
            st.session_state.pop(state_key, None)
            st.rerun()
        st.stop()

    def cancel() -> None:
        if signature is not None:
            st.session_state[state_key] = sig
        else:
            flash(f"{md(what)} was cancelled; nothing was saved.")

    slot = st.empty()
    slot.button("Cancel", key=f"{key}_cancel", icon=":material/cancel:", on_click=cancel,
                help=f"Stop {what[:1].lower() + what[1:]}; nothing is saved.")
    try:
        yield
    finally:
        slot.empty()


def fmt_int(n: int | float) -> str:
    return f"{int(n):,}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``plural(1, "document") == "1 document"``, ``plural(2, "document") == "2 documents"``."""
    return f"{int(n):,} {word if n == 1 else (words or word + 's')}"


FLASH = "flash_message"


def flash(message: str) -> None:
    """Keep a success message across ``st.rerun()`` (shown once by :func:`show_flash`)."""
    st.session_state[FLASH] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message, icon=":material/check_circle:")


# Last, so that a session importing this module while another one's import is cut short
# by the rerun never sees a half-defined module.
_route_through_app()
