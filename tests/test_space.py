"""EmbeddingSpace (a pure value) and space_store (saving, loading, the embedder registry)."""

import numpy as np
import pytest

from embeddings.errors import DamagedError, InputError
from embeddings.space import EmbeddingSpace
from embeddings.store import space_store
from embeddings.store.space_store import load_space, register_embedder, save_space, space_problem


def test_space_normalises_is_read_only_and_round_trips(ws):
    s = EmbeddingSpace.from_arrays("toy", ["Cat", "dog", "zero"], np.array([[3.0, 4.0], [0.0, 2.0], [0.0, 0.0]]),
                                   frequency=[5, 3, 1], provenance={"family": "imported"})
    assert np.allclose(s.vectors, [[0.6, 0.8], [0.0, 1.0], [0.0, 0.0]]) and s.vectors.dtype == np.float32
    with pytest.raises(ValueError):
        s.vectors[0, 0] = 1.0
    assert s.cased and s.dim == 2 and len(s) == 3
    back = load_space(ws, save_space(ws, s).id)
    assert back.labels == s.labels and np.array_equal(back.vectors, s.vectors)
    assert list(back.meta["frequency"]) == [5, 3, 1] and back.provenance["family"] == "imported"
    assert not back.vectors.flags.writeable
    with pytest.raises(InputError, match="unique"):
        EmbeddingSpace.from_arrays("dup", ["a", "a"], np.eye(2))


def test_derive_keeps_the_parents_record_and_says_how():
    parent = EmbeddingSpace.from_arrays("p", ["a", "b", "c"], np.eye(3), frequency=[3, 2, 1],
                                        provenance={"family": "word2vec", "corpus": "c1", "seconds": 9.0,
                                                    "params": {"dim": 3}})
    parent.id = "0123456789ab"
    child = parent.derive("child", np.eye(3)[:, :2] + 1.0, how="pca(2)", explained_variance=0.5)
    p = child.provenance
    assert (p["family"], p["corpus"], p["params"], p["derived"]) == ("word2vec", "c1", {"dim": 3}, "pca(2)")
    assert (p["parent"], p["parent_name"], p["explained_variance"]) == ("0123456789ab", "p", 0.5)
    assert "seconds" not in p                       # the parent's timing is not the child's
    assert child.labels == parent.labels and list(child.meta["frequency"]) == [3, 2, 1]
    np.testing.assert_allclose(np.linalg.norm(child.vectors, axis=1), 1.0, rtol=1e-6)


def test_load_attaches_the_registered_embedder_but_not_to_a_derived_space(ws, monkeypatch):
    monkeypatch.setattr(space_store, "_EMBEDDERS", dict(space_store._EMBEDDERS))  # the registry is the process's
    seen = []

    def factory(folder, provenance):
        seen.append((folder.name, provenance["family"]))
        return lambda texts: np.ones((len(texts), 2), dtype=np.float32)

    register_embedder("toy-family", factory)
    s = save_space(ws, EmbeddingSpace.from_arrays("toy", ["a", "b"], np.eye(2), provenance={"family": "toy-family"}))
    back = load_space(ws, "toy")
    assert back.can_embed and seen == [(s.id, "toy-family")]
    np.testing.assert_allclose(back.embed(["unseen"]), [[0.5 ** 0.5, 0.5 ** 0.5]], rtol=1e-6)  # normalised
    child = save_space(ws, back.derive("toy-pca", np.eye(2), how="pca(2)"))
    assert not load_space(ws, child.id).can_embed and len(seen) == 1


def test_a_truncated_vectors_file_is_named_before_loading(ws):
    s = save_space(ws, EmbeddingSpace.from_arrays("cut", ["a", "b"], np.eye(2)))
    art = ws.get("space", s.id)
    data = (art.path / "vectors.npy").read_bytes()
    (art.path / "vectors.npy").write_bytes(data[:-4])
    assert "vectors.npy is unreadable" in space_problem(art)
    with pytest.raises(DamagedError, match="vectors.npy"):
        load_space(ws, "cut")
