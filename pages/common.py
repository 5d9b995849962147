"""Streamlit helpers shared by the pages: the workspace, its spaces and corpora, caches, links.

Progress and errors live in :mod:`pages.ui.jobs`, a user's string as text in
:mod:`pages.ui.text`; both are re-exported here.

Not a page (app.py's navigation does not list it). Session state holds ids and
selections only; tables come from ``st.cache_data`` keyed by artefact id, which is
safe because artefacts never change after they are written.
"""

from __future__ import annotations

import argparse
import os
import sys

import streamlit as st

from embeddings.space import EmbeddingSpace
from embeddings.store.artefact import Artefact
from embeddings.store.cards import SpaceCard
from embeddings.store.space_store import load_space
from embeddings.store.workspace import Workspace, default_root
from embeddings.text.corpus import Corpus, get_corpus, list_corpora
from pages.ui.text import md


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
    from embeddings.store.space_store import list_spaces, space_problem

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


@st.cache_resource(max_entries=8, show_spinner=False)
def _space(root: str, space_id: str) -> EmbeddingSpace:
    return load_space(_workspace(root), space_id)


def space(space_id: str) -> EmbeddingSpace:
    """A saved space, loaded once per server (spaces never change once written)."""
    return _space(workspace_root(), space_id)


@st.cache_data(max_entries=64, show_spinner=False)
def _label_columns(root: str, corpus_id: str) -> list[str]:
    return get_corpus(_workspace(root), corpus_id).label_columns()


def label_columns_of(corpus_id: str) -> list[str]:
    """The label-like columns of a corpus: read once per corpus (a corpus never changes)."""
    return _label_columns(workspace_root(), corpus_id)


@st.cache_data(max_entries=16, show_spinner=False)
def corpus_tables(root: str, corpus_id: str) -> dict:
    """The tables the corpus page draws, read once per corpus."""
    c = get_corpus(_workspace(root), corpus_id)
    return {"vocab": c.vocabulary(), "phrases": c.phrases(), "documents": c.documents().drop(columns=["text"])}


# Last, so that a session importing this module while another one's import is cut short
# by the rerun never sees a half-defined module.
_route_through_app()
