"""Looking a test's words up in a space: case rules, missing words, words a space embeds,
and the SEAT switch for sentence encoders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from embeddings.store.cards import is_sentence_encoder

from ..errors import InputError
from ..space import EmbeddingSpace


# -- looking words up ------------------------------------------------------------------
@dataclass
class Resolved:
    """How a word list was found in a space."""

    words: list[str]            #: the words that got a vector (as asked)
    vectors: np.ndarray         #: their unit vectors, float64 (raw vectors when ``raw``)
    missing: list[str] = field(default_factory=list)
    embedded: list[str] = field(default_factory=list)   #: made by the space's embedder (not in its vocabulary)
    lowered: list[str] = field(default_factory=list)    #: found only in lowercase (cased space, fallback on)
    raw: bool = False           #: the vectors are the original, unnormalised ones


def resolve(space: EmbeddingSpace, words: Iterable[str], *, lowercase_fallback: bool = False,
            embed_oov: bool = True, raw: bool = False) -> Resolved:
    """The vectors of ``words`` in ``space``, and which were missing, embedded or lowered.
    ``raw``: the original vectors (unit vector × the stored norm; a word the space embeds
    keeps its embedder's unnormalised vector); the space must have kept its norms."""
    if raw and space.norms is None:
        raise InputError(f"{space.name} was saved without its vectors' norms; only its unit vectors are known.")
    words = list(dict.fromkeys(words))
    found, rows, missing, lowered, to_embed = [], [], [], [], []
    for w in words:
        key = space.key(w)
        row = space.index.get(key)
        if row is None and lowercase_fallback and space.cased:
            row = space.index.get(w.lower())
            if row is not None:
                lowered.append(w)
        if row is not None:
            found.append(w)
            rows.append(row)
        elif embed_oov and space.can_embed:
            to_embed.append(w)
        else:
            missing.append(w)
    vecs = [space.raw(rows) if raw else np.asarray(space.vectors[rows], dtype=np.float64)]
    if to_embed:
        keys = [space.key(w) for w in to_embed]
        vecs.append(np.asarray(space.embedder(keys) if raw else space.embed(keys), dtype=np.float64))
    vectors = np.vstack(vecs) if len(vecs) > 1 else vecs[0]
    return Resolved(found + to_embed, vectors.reshape(-1, space.dim), missing, to_embed, lowered, raw)


def uses_seat(space: EmbeddingSpace) -> bool:
    """Sentence encoders are probed with SEAT (words in templates), others with WEAT."""
    return is_sentence_encoder(space.family, space.can_embed)
