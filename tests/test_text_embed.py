"""How a space embeds a new text (embeddings.models.text_embed): a document's own text, given
as a query, lands on the document's stored vector, computed here from the parts directly."""

import numpy as np
import pytest

from embeddings.errors import InputError
from embeddings.models.docspaces import pool_space, tfidf_space
from embeddings.models.text_embed import text_embedder, with_text_embedder
from embeddings.space import EmbeddingSpace
from embeddings.store.space_store import save_space
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import add_corpus
from embeddings.text.preprocess import Preprocessing
from embeddings.text.samples import SAMPLES


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Lee's documents without phrase joining (a query is not phrase-joined either)."""
    ws = Workspace(tmp_path_factory.mktemp("embed") / "ws")
    corpus = add_corpus(ws, "lee", documents=SAMPLES["lee"].load()[:120],
                        preprocessing=Preprocessing(phrases="none", stopwords=True))
    vocab = corpus.vocabulary()["term"].tolist()
    rng = np.random.default_rng(0)
    words = save_space(ws, EmbeddingSpace.from_arrays("words", vocab, rng.normal(size=(len(vocab), 16)),
                                                      provenance={"unit": "term", "family": "imported"}))
    return ws, corpus, words


def _cosines(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


@pytest.mark.parametrize("method", ["mean", "sif"])
def test_a_pooled_space_embeds_a_document_onto_its_stored_vector(setup, method):
    ws, corpus, words = setup
    pooled = save_space(ws, pool_space(words, corpus, method, f"pooled-{method}"))
    embed, why = text_embedder(ws, pooled)
    assert why is None
    docs = corpus.documents()
    got = embed(docs["text"].tolist()[:30])
    assert _cosines(got, np.asarray(pooled.vectors[:30])).min() > 0.9999
    # by hand: the mean of the unit word vectors of the text's tokens (SIF: weighted, component removed)
    from gensim.parsing.preprocessing import STOPWORDS

    from embeddings.text.preprocess import tokenize

    tokens = [t for t in tokenize("The bushfire spread to homes near Sydney.", corpus.preprocessing)
              if t not in STOPWORDS and t in words.index]
    vectors = np.asarray([words.vectors[words.index[t]] for t in tokens], dtype=np.float64)
    if method == "mean":
        expected = vectors.mean(axis=0)
    else:
        counts = corpus.vocabulary().set_index("term")["count"]
        p = counts / counts.sum()
        weights = np.array([1e-3 / (1e-3 + p[t]) for t in tokens])
        raw = _raw_sif(words, corpus, p)
        u = np.linalg.svd(raw, full_matrices=False)[2][0]
        expected = (weights[:, None] * vectors).mean(axis=0)
        expected = expected - (expected @ u) * u
    got = embed(["The bushfire spread to homes near Sydney."])
    assert _cosines(got, expected[None])[0] > 0.9999


def _raw_sif(words, corpus, p):
    """Every document's SIF average before the component's removal, by hand."""
    from embeddings.models.docspaces import document_tokens

    rows = []
    for tokens in document_tokens(corpus):
        known = [t for t in tokens if t in words.index]
        if not known:
            rows.append(np.zeros(words.dim))
            continue
        w = np.array([1e-3 / (1e-3 + p[t]) for t in known])
        rows.append((w[:, None] * np.asarray([words.vectors[words.index[t]] for t in known])).mean(axis=0))
    return np.asarray(rows)


@pytest.mark.parametrize("kind", ["word", "char"])
def test_tfidf_is_refitted_and_embeds_a_document_onto_its_stored_vector(setup, kind):
    ws, corpus, _ = setup
    space = save_space(ws, tfidf_space(corpus, f"tfidf-{kind}", kind=kind, lsa=24))
    embedded = with_text_embedder(ws, space)
    assert embedded.can_embed and not space.can_embed          # the saved value is left as it was
    got = embedded.embed(corpus.documents()["text"].tolist()[:30])
    assert _cosines(got, np.asarray(space.vectors[:30])).min() > 0.999


def test_a_refit_that_does_not_reproduce_the_stored_vectors_is_refused(setup):
    ws, corpus, _ = setup
    space = tfidf_space(corpus, "tfidf-other", lsa=24)
    tampered = EmbeddingSpace.from_arrays("tfidf-tampered", space.labels, np.roll(np.asarray(space.vectors), 1, axis=0),
                                          meta=space.meta, provenance=space.provenance)
    embed, _ = text_embedder(ws, save_space(ws, tampered))
    with pytest.raises(InputError, match="does not reproduce its stored vectors"):
        embed(["a query"])


def test_a_word_space_embeds_no_text_and_says_why(setup):
    ws, _, words = setup
    embed, why = text_embedder(ws, words)
    assert embed is None and "does not embed new texts" in why
    assert not with_text_embedder(ws, words).can_embed
