"""The SQLite catalogue: atomic creation, persistence, renames, deletes, concurrency."""

import json
import sqlite3
import subprocess
import sys

import pytest

from embeddings.errors import DuplicateNameError, NotFoundError, WorkspaceError
from embeddings.store.files import atomic_write_json
from embeddings.store.workspace import Workspace, default_root
from tests.conftest import ROOT


def _build(payload):
    def build(folder):
        (folder / "data.json").write_text(json.dumps(payload))
        return {"n": len(payload)}
    return build


def test_catalogue_is_sqlite_in_wal_mode(ws):
    con = sqlite3.connect(ws.root / "catalogue.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_create_get_rename_delete_and_survive_restart(ws):
    art = ws.create("corpus", "alpha", _build([1, 2, 3]), params={"p": 1})
    assert art.path.is_dir() and json.loads((art.path / "data.json").read_text()) == [1, 2, 3]
    again = Workspace(ws.root)  # a restart: a new object on the same folder
    got = again.get("corpus", "alpha")
    assert got.id == art.id and got.summary == {"n": 3} and got.params == {"p": 1}
    assert again.get("corpus", art.id).name == "alpha"  # by id too
    again.rename("corpus", "alpha", "beta")
    assert [a.name for a in ws.list("corpus")] == ["beta"]
    ws.delete("corpus", "beta")
    assert ws.list("corpus") == [] and not art.path.exists()
    with pytest.raises(NotFoundError, match="No corpus named 'beta'"):
        ws.get("corpus", "beta")


def test_failed_build_leaves_nothing(ws):
    ws.create("corpus", "kept", _build([1]))

    def broken(folder):
        (folder / "half.json").write_text("{")
        raise RuntimeError("disk full, say")

    with pytest.raises(RuntimeError):
        ws.create("corpus", "broken", broken)
    assert [a.name for a in ws.list("corpus")] == ["kept"]
    assert list((ws.root / ".tmp").iterdir()) == []
    assert sorted(p.name for p in (ws.root / "corpus").iterdir()) == [ws.get("corpus", "kept").id]


def test_names_are_validated_and_unique_per_kind(ws):
    ws.create("corpus", "same", _build([]))
    with pytest.raises(DuplicateNameError):
        ws.create("corpus", "same", _build([]))
    with pytest.raises(DuplicateNameError):
        ws.create("corpus", "  same  ", _build([]))
    ws.create("space", "same", _build([]))  # another kind may reuse it
    ws.create("corpus", "other", _build([]))
    with pytest.raises(DuplicateNameError):
        ws.rename("corpus", "other", "same")
    for bad in ("", "   ", "x" * 81, "tab\there"):
        with pytest.raises(WorkspaceError):
            ws.create("corpus", bad, _build([]))


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "x.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_workspace_location_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(tmp_path / "env-ws"))
    assert default_root() == tmp_path / "env-ws"
    assert Workspace().root == tmp_path / "env-ws"
    monkeypatch.delenv("EMBEDDINGS_WORKSPACE")
    assert str(default_root()) == "workspace"


def test_unusable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(WorkspaceError, match="Cannot use"):
        Workspace(blocker / "ws")


# Run in a separate interpreter (not multiprocessing: AppTest replaces __main__, which
# spawn would re-run). Each writer races the other for the "shared{i}" names.
_WRITER = """
import json, sys
from embeddings.errors import DuplicateNameError
from embeddings.store.workspace import Workspace
ws = Workspace(sys.argv[1]); prefix = sys.argv[2]; won = 0
def build(folder):
    (folder / "data.json").write_text(json.dumps(prefix))
    return {}
for i in range(25):
    ws.create("corpus", f"{prefix}{i}", build)
    try:
        ws.create("corpus", f"shared{i}", build)
        won += 1
    except DuplicateNameError:
        pass
print(won)
"""


def test_two_processes_writing_at_once_do_not_corrupt(tmp_path):
    root = tmp_path / "ws"
    Workspace(root)
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(root), p], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for p in ("a", "b")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    ws = Workspace(root)
    names = [a.name for a in ws.list("corpus")]
    assert len(names) == len(set(names))
    assert {f"a{i}" for i in range(25)} | {f"b{i}" for i in range(25)} <= set(names)
    assert sum(n.startswith("shared") for n in names) == 25  # each contested name won exactly once
    assert sum(int(out) for out, _ in outs) == 25
    folders = {p.name for p in (root / "corpus").iterdir()}
    assert folders == {a.id for a in ws.list("corpus")}  # no orphan folders, no missing ones
    con = sqlite3.connect(root / "catalogue.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
