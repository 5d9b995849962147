"""Which spaces a page opens on (issue #25, item 6): the space just made in this session,
then the spaces trained on the session's corpus (the one last added or chosen on any page),
then the general models (GloVe, MiniLM, a user's encoder), then the rest.

A page's space widgets follow: when the session's corpus changes or a space is made, they move
to the new defaults on the next visit or rerun; otherwise they keep what the user chose. The URL
(``?spaces=a,b``) decides only a widget's first render.
"""

from __future__ import annotations

import streamlit as st

from embeddings.cards import SpaceCard, is_general_space

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
