"""Similarity pairs (embeddings.analysis.similarity), against scipy and numpy written here."""

import numpy as np
import pytest
from scipy import stats

from embeddings.analysis.similarity import parse_sts, similarity, similarity_board
from embeddings.errors import InputError
from embeddings.space import EmbeddingSpace

PAIRS = [("a socket connects two hosts", "a network connection between machines", 4.5),
         ("a thread runs code concurrently", "threads run at the same time", 4.0),
         ("compress a file with gzip", "a zip archive of files", 3.5),
         ("a hash of the password", "a thread pool executes tasks", 0.5),
         ("read a csv file", "parse rows of a table", 3.8),
         ("the lock protects shared state", "an email message header", 0.2)]


@pytest.mark.parametrize("text, message", [
    ("a\tb\n", "line 1: 2 tab-separated fields"),
    ("a\tb\t1\nc\td\tfive\ne\tf\t2\n", "line 2: the score 'five' is not a number"),
    ("a\tb\t1\nc\td\tnan\ne\tf\t2\n", "line 2: the score is nan"),
    ("a\tb\t1\n", "1 pairs; a correlation needs at least 3"),
])
def test_a_bad_pairs_file_is_refused_naming_the_line(text, message):
    with pytest.raises(InputError, match=message):
        parse_sts(text, "pairs.tsv")


def test_spearman_and_its_interval_equal_scipy_on_cosines_by_hand():
    rng = np.random.default_rng(0)
    table = {}

    def embed(texts):
        return np.array([table.setdefault(t, rng.normal(size=8)) for t in texts])

    score = similarity("toy", embed, PAIRS, resamples=500)
    a = np.array([table[p[0]] for p in PAIRS])
    b = np.array([table[p[1]] for p in PAIRS])
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert score.spearman == pytest.approx(stats.spearmanr(cos, [p[2] for p in PAIRS])[0])
    assert score.low <= score.spearman <= score.high and (score.n, score.total) == (6, 6)


def test_pooled_encoder_and_tfidf_spaces_take_part_a_word_space_says_why_not(tmp_path, glove):
    from embeddings.models import add_pretrained
    from embeddings.models.docspaces import pool_space, tfidf_space
    from embeddings.readers import Document
    from embeddings.store.space_store import load_space, save_space
    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import add_corpus
    from embeddings.text.preprocess import RECOMMENDED

    ws = Workspace(tmp_path / "ws")
    texts = [p[0] for p in PAIRS] + [p[1] for p in PAIRS]
    corpus = add_corpus(ws, "c", preprocessing=RECOMMENDED,
                        documents=[Document(t, "t", {"k": str(i % 2)}) for i, t in enumerate(texts * 3)])
    words = save_space(ws, EmbeddingSpace.from_arrays("glove", glove.labels[:50_000], glove.vectors[:50_000],
                                                      provenance={"family": "glove", "unit": "term"}))
    pooled = save_space(ws, pool_space(words, corpus, "mean", "pooled"))
    lsa = save_space(ws, tfidf_space(corpus, "lsa", lsa=4))
    minilm = add_pretrained(ws, "minilm", "mini", corpus="c", unit="document")
    spaces = [load_space(ws, s.id) for s in (pooled, lsa, minilm, words)]
    scores, refused = similarity_board(ws, spaces, PAIRS)
    assert [s.space for s in scores] == ["pooled", "lsa", "mini"] and "does not embed new texts" in refused["glove"]
    # the pooled space's cosines by hand: the corpus's tokens, GloVe's vectors averaged
    from embeddings.text.preprocess import tokenize

    def mean_vec(t):
        rows = [words.index[w] for w in tokenize(t, corpus.preprocessing) if w in words.index]
        return np.asarray(words.vectors[rows]).mean(0)

    cos = [float(mean_vec(a) @ mean_vec(b) / np.linalg.norm(mean_vec(a)) / np.linalg.norm(mean_vec(b)))
           for a, b, _ in PAIRS]
    np.testing.assert_allclose(scores[0].cosines, cos, atol=1e-5)
    assert scores[0].spearman == pytest.approx(stats.spearmanr(cos, [p[2] for p in PAIRS])[0])
