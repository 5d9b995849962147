"""Which spaces and corpus a page opens on (issue #25, item 6): the space just made in this session,
then the spaces trained on the session's corpus (the one last added or chosen on any page),
then the general models (GloVe, MiniLM, a user's encoder), then the rest.

A page's space widgets follow: when the session's corpus changes or a space is made, they move
to the new defaults on the next visit or rerun; otherwise they keep what the user chose. The URL
(``?spaces=a,b``) decides only a widget's first render.
"""

from __future__ import annotations

import streamlit as st

from embeddings.store.cards import SpaceCard, is_general_space
from pages.common import corpora, space_cards
from pages.ui.url import names as link_names

#: the session's corpus id (set by every corpus picker and by adding a corpus)
SELECTED_CORPUS = "selected_corpus_id"
#: the name of the space made last in this session (set by every form that makes one)
MADE_SPACE = "made_space_name"


def remember_made(name: str) -> None:
    """Record a space just made, so every page's space widgets select it."""
    st.session_state[MADE_SPACE] = name


def ranked_spaces(cards: dict[str, SpaceCard], corpus_ids: tuple[str, ...] = (), made: str | None = None,
                  terms_only: bool = False) -> list[str]:
    """Names in the order a page should offer them first. ``corpus_ids`` holds the session
    corpus's id and name (a space records either). Without a session corpus or a made space,
    the catalogue's order (oldest first) is kept, so a fresh session opens as before."""
    names = [n for n, c in cards.items() if not terms_only or c.is_terms]
    if not corpus_ids and made not in names:
        return names

    def rank(name: str) -> int:
        card = cards[name]
        if name == made:
            return 0
        if corpus_ids and card.corpus in corpus_ids and card.is_terms:
            return 1
        if is_general_space(card.provenance | {"family": card.family, "unit": card.unit}):
            return 2
        if corpus_ids and card.corpus in corpus_ids:
            return 3
        return 4
    return sorted(names, key=rank)          # stable: the catalogue's order within a rank


def session_context(corpora: dict[str, str]) -> tuple[tuple[str, ...], str | None]:
    """``((corpus id, corpus name) or (), made space)`` of this session; ``corpora`` maps id -> name."""
    chosen = st.session_state.get(SELECTED_CORPUS)
    ids = (chosen, corpora[chosen]) if chosen in corpora else ()
    return ids, st.session_state.get(MADE_SPACE)


def follow(key: str, first, then, context) -> None:
    """Set widget ``key``'s value before it is drawn: ``then`` whenever ``context`` (the
    session's corpus and made space) has changed since it was last drawn, else ``first`` (the
    URL's choice or the page's default) when it has no value. Otherwise the user's choice
    stands. The widget is created without ``default``/``index``: its value comes from here."""
    state, mark = st.session_state, f"_{key}_context"
    if state.get(mark, context) != context:      # even when the widget's own state went with its page
        state[key] = then
    elif key not in state:
        state[key] = first
    state[mark] = context


def pick_corpus(where, names: list[str], key: str, *, fallback: str | None = None, label: str = "Corpus",
                **kwargs) -> str:
    """A corpus selectbox that opens on the corpus last added or chosen in this session
    (on any page), else ``fallback`` (the page's demo corpus), else the newest; choosing one
    here makes it the session's corpus for the other pages."""
    by_id = {c.id: c.name for c in corpora()}
    chosen = by_id.get(st.session_state.get(SELECTED_CORPUS))
    follows = f"_{key}_follows"
    if st.session_state.get(key) not in names or (chosen in names and st.session_state.get(follows) != chosen):
        # first visit, a deleted corpus, or another page chose a corpus since: open on it
        st.session_state[key] = chosen if chosen in names else fallback if fallback in names else names[-1]
    name = where.selectbox(label, names, key=key, **kwargs)
    ids = {v: k for k, v in by_id.items()}
    if name in ids:
        st.session_state[SELECTED_CORPUS] = ids[name]
        st.session_state[follows] = name
    return name


def space_order(choices: dict[str, str], terms_only: bool = False) -> tuple[list[str], tuple]:
    """The choices in the order a page offers them first (:mod:`pages.ui.defaults`), and the
    session context (corpus, made space) that order follows."""
    cards = space_cards()
    ids, made = session_context({c.id: c.name for c in corpora()})
    ranked = ranked_spaces({n: cards[n] for n in choices if n in cards}, ids, made, terms_only)
    return ranked or list(choices), (ids, made)


def follow_spaces(key: str, choices: dict[str, str], n: int, terms_only: bool = False) -> None:
    """Set the space multiselect ``key`` before it is drawn: the spaces named in the URL
    (``?spaces=a,b``) on its first render, else the first ``n`` of :func:`space_order`; it moves
    to the new defaults when the session's corpus changes or a space is made."""
    ranked, context = space_order(choices, terms_only)
    url = link_names("spaces", choices)
    follow(key, url or ranked[:n], ranked[:n], context)
