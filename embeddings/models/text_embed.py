"""How a space embeds a new text (a query, a sentence pair, a request to ``serve``), or why it
cannot: the one home of that rule.

- an encoder (sentence-transformers, fine-tuned, distilled, model2vec): its own model;
- a **pooled** word space: the query's tokens (the corpus's tokeniser and stopwords; phrases
  are not joined, as BM25 does not join them) pooled the way the documents were: ``mean``,
  or SIF with the corpus's word frequencies and the corpus's first component removed (not
  the queries' own);
- **TF-IDF + LSA**: the vectoriser and the SVD are refitted on the corpus with the space's
  recorded settings and seed (the space keeps no fitted model), and the refit is checked
  against the stored document vectors before a query is embedded with it;
- **FastText**: the mean of the text's tokens' vectors, each from its subwords;
- an **endpoint**: the same endpoint, with the key from the same variable;
- anything else (a word space, a PCA of one, an imported file) embeds no text.

The embedder is built lazily: nothing is refitted until the first text comes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from embeddings.errors import EmbeddingsError, InputError
from embeddings.space import EmbeddingSpace
from embeddings.store.cards import POOLED_OR_TFIDF, SENTENCE_ENCODER, TEXT_ENCODERS

Embedder = Callable[[list[str]], np.ndarray]
#: a TF-IDF refit must reproduce the stored document vectors to this cosine (else it is refused)
REFIT_COSINE = 0.999
_REFIT_SAMPLE = 200


def _lazy(build: Callable[[], Embedder]) -> Embedder:
    state: dict = {}

    def embed(texts: list[str]) -> np.ndarray:
        if "fn" not in state:
            state["fn"] = build()
        return state["fn"](list(texts))

    return embed


def _pooled(ws, space: EmbeddingSpace) -> Embedder:
    from embeddings.models.docspaces import SIF_A, pool, sif_component, word_probability
    from embeddings.store.space_store import load_space
    from embeddings.text.corpus import get_corpus

    p = space.provenance
    parent, corpus = load_space(ws, p["parent"]), get_corpus(ws, p["corpus_id"])
    params = p.get("params", {})
    method, a = params.get("pooling", "mean"), float(params.get("sif_a", SIF_A))

    def build() -> Embedder:
        prep = corpus.preprocessing
        probability = word_probability(corpus) if method == "sif" else None
        component = sif_component(parent, corpus, a) if method == "sif" else None
        from embeddings.text.preprocess import query_tokens

        return lambda texts: pool(parent, [query_tokens(t, prep) for t in texts], method, probability, a,
                                  component=component)[0]

    return _lazy(build)


def _tfidf(ws, space: EmbeddingSpace) -> Embedder:
    from embeddings.models.docspaces import document_rows, refit_tfidf
    from embeddings.text.corpus import get_corpus

    corpus = get_corpus(ws, space.provenance["corpus_id"])

    def build() -> Embedder:
        transform, sample = refit_tfidf(corpus, space.provenance.get("params", {}), check=_REFIT_SAMPLE)
        rows = document_rows(space, corpus)[:len(sample)]
        refit = np.asarray(sample, dtype=np.float64)
        stored = np.asarray(space.vectors[rows], dtype=np.float64)
        norms = np.linalg.norm(refit, axis=1)
        some = norms > 1e-6 * max(float(norms.max(initial=0.0)), 1e-12)   # a document LSA maps to ~0 has no direction
        agreement = float(np.min(np.sum(refit[some] / norms[some, None] * stored[some], axis=1))) if some.any() else 0.0
        if agreement < REFIT_COSINE:
            raise InputError(f"{space.name}'s TF-IDF refit does not reproduce its stored vectors (lowest cosine "
                             f"{agreement:.4f}); the corpus or scikit-learn changed since it was built. Build it again.")
        return transform

    return _lazy(build)


def _encoder(ws, space: EmbeddingSpace, role) -> Embedder:
    """A sentence encoder's embedder with the model's prompt for ``role`` (a query's)."""
    from embeddings.models.sentence import sentence_embedder
    from embeddings.store.space_store import KIND

    own = ws.get(KIND, space.id).path / "model" if space.id else None
    return sentence_embedder(space.provenance, str(own) if own is not None and own.is_dir() else None, role=role)


def _fasttext(ws, space: EmbeddingSpace) -> Embedder:
    """A text as the mean of its tokens' FastText vectors (each from its subwords, so a word
    the corpus never had still counts), tokenised as the corpus was."""
    from embeddings.text.corpus import get_corpus
    from embeddings.text.preprocess import Preprocessing, query_tokens

    corpus_id = space.provenance.get("corpus_id")
    prep = get_corpus(ws, corpus_id).preprocessing if corpus_id else Preprocessing()

    def embed(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), space.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            tokens = query_tokens(text, prep)
            if tokens:
                out[i] = np.asarray(space.embed(tokens), dtype=np.float32).mean(axis=0)
        return out

    return embed


def text_embedder(ws, space: EmbeddingSpace, role: str | None = None) -> tuple[Embedder | None, str | None]:
    """How ``space`` embeds new texts, or None and why it cannot. ``role="query"``: a
    sentence encoder applies its query prompt, where its folder declares one."""

    p = space.provenance
    family = p.get("family")
    if family == SENTENCE_ENCODER and space.can_embed and role:
        return _encoder(ws, space, role), None
    if family in TEXT_ENCODERS and space.can_embed:
        return space.embed, None
    if family == "fasttext" and space.can_embed and not p.get("derived"):
        return _fasttext(ws, space), None
    if family in POOLED_OR_TFIDF:
        try:                                   # each loads its corpus (and a pooled space its word space) here
            return (_pooled if family == "pooled" else _tfidf)(ws, space), None
        except (EmbeddingsError, KeyError, OSError) as exc:     # the word space or the corpus was deleted
            return None, f"its word space or corpus is gone ({exc})"
    return None, f"a {p.get('unit', 'term')} space of family {family} does not embed new texts"


def with_text_embedder(ws, space: EmbeddingSpace, role: str | None = None) -> EmbeddingSpace:
    """``space`` able to embed new text where :func:`text_embedder` finds a way (else as it is);
    with ``role``, an encoder's embedder applies its prompt for that role."""
    if space.can_embed and not (role and space.family == SENTENCE_ENCODER):
        return space
    embed, _ = text_embedder(ws, space, role)
    return dataclasses.replace(space, embedder=embed) if embed is not None else space
