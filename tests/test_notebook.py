"""The notebook API (#28, item 5): docs/notebook.md's code runs on the demo workspace, and
its numbers equal a direct computation written here."""

import contextlib
import io
import re

import numpy as np
import pytest

from tests.conftest import ROOT, copy_workspace

DOC = ROOT / "docs" / "notebook.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture
def notebook_ws(demo_template, tmp_path, monkeypatch):
    copy_workspace(demo_template, tmp_path / "workspace")
    monkeypatch.chdir(tmp_path)         # the guide opens "workspace", as after make run
    return tmp_path / "workspace"


def test_the_guides_code_runs_and_reuses_the_pages_cache(notebook_ws):
    from embeddings.store.workspace import Workspace

    before = {kind: len(Workspace(notebook_ws).list(kind)) for kind in ("benchmark", "projection")}
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for code in blocks():
            exec(compile(code, str(DOC), "exec"), namespace)
    assert len(blocks()) >= 6
    after = {kind: len(Workspace(notebook_ws).list(kind)) for kind in ("benchmark", "projection")}
    assert after["benchmark"] == before["benchmark"]          # the Choose page's own run, reused
    assert after["projection"] == before["projection"] + 1    # the PCA map, cached for the page
    text = out.getvalue()
    assert "Invalid setting: k = 1000 is outside 1 to 100" in text
    board = namespace["board"].leaderboard()
    assert len(board) >= 6 and "pydocs-minilm" in set(board.index.get_level_values(0)) | set(board.get("space", []))


def test_neighbours_equal_a_direct_cosine_ranking(notebook_ws):
    from embeddings import Workspace

    glove = Workspace.open("workspace").space("glove-50d")
    got = glove.neighbours("river", k=5)
    vectors = np.asarray(glove.vectors, dtype=np.float64)
    raw = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = raw @ raw[glove.labels.index("river")]
    scores[glove.labels.index("river")] = -np.inf
    top = np.argsort(-scores)[:5]
    assert list(got["label"]) == [glove.labels[i] for i in top]
    assert np.allclose(got["cosine"], scores[top], atol=1e-5)


def test_compare_equals_a_direct_jaccard(notebook_ws):
    from embeddings import Workspace, compare

    ws = Workspace.open("workspace")
    a, b = ws.space("lee-word2vec"), ws.space("glove-50d")
    result = compare(a, b, k=5, max_labels=300)
    shared = result.shared
    assert len(shared) == 300

    def knn(space):
        idx = [space.labels.index(x) for x in shared]
        v = np.asarray(space.vectors, dtype=np.float64)[idx]
        sims = v @ v.T
        np.fill_diagonal(sims, -np.inf)
        return np.argsort(-sims, axis=1, kind="stable")[:, :5]

    na, nb = knn(a), knn(b)
    jaccard = [len(set(x) & set(y)) / len(set(x) | set(y)) for x, y in zip(na, nb)]
    assert result.summary()["mean_jaccard"] == pytest.approx(np.mean(jaccard), abs=2e-3)


def test_open_refuses_a_folder_that_is_not_a_workspace(tmp_path):
    from embeddings import Workspace

    with pytest.raises(FileNotFoundError, match="No workspace"):
        Workspace.open(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()
