"""#26, item 7: a full disk is a clear message, from the CLI (exit 2) and from the page, and
nothing half-written stays. The workspace lives on a real 24 MB tmpfs, filled to its last
64 KB by a file, so every write fails as it would on a full disk."""

import json
import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from embeddings.demo import SEEDED_KEY
from embeddings.errors import DiskFullError, disk_full
from embeddings.store.workspace import Workspace
from tests.conftest import ROOT, copy_workspace


@pytest.fixture
def full_ws(lee_ws, tmp_path):
    """A copy of the Lee workspace on a tmpfs with 64 KB free (root only: mount)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        ws = Workspace(copy_workspace(lee_ws.root, disk / "ws"))
        ws.set_setting(SEEDED_KEY, "test")       # the page does not seed the demo into it
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        with open(disk / "filler", "wb") as f:
            f.truncate(0)
            f.write(b"\0" * max(free - (64 << 10), 0))
        yield ws
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _contents(ws: Workspace) -> tuple:
    tmp = ws.root / ".tmp"
    return ([a.name for a in ws.list("space")], sorted(p.name for p in tmp.iterdir()) if tmp.exists() else [])


def test_the_cli_says_the_disk_is_full_exits_2_and_leaves_nothing(full_ws):
    before = _contents(full_ws)
    done = subprocess.run([sys.executable, "-m", "embeddings", "--workspace", str(full_ws.root), "train", "--corpus",
                           "lee", "--model", "word2vec", "--name", "w2v", "--dim", "50", "--epochs", "1", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, (done.stdout, done.stderr)
    error = json.loads(done.stdout)
    assert error["kind"] == "input" and error["error"].startswith(f"The disk holding the workspace ({full_ws.root}) "
                                                                  "is full: 0.")
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert _contents(full_ws) == before            # no space, no build folder left behind
    (full_ws.root.parent / "filler").unlink()        # room again: the same command succeeds
    again = subprocess.run(done.args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert [a.name for a in full_ws.list("space")] == ["w2v"]


def test_the_page_says_the_disk_is_full_and_saves_nothing(full_ws, monkeypatch):
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(full_ws.root))
    before = _contents(full_ws)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    app.switch_page("pages/models.py").run()
    app.number_input(key="train_dim").set_value(24).run()
    app.number_input(key="train_epochs").set_value(1).run()
    app.button(key="train_btn").click().run()
    assert not app.exception
    errors = [e.value.replace("\\", "") for e in app.error]
    assert len(errors) == 1 and f"({full_ws.root}) is full: 0." in errors[0], errors
    assert "Something went wrong" not in errors[0]
    assert _contents(full_ws) == before


def test_the_ways_a_full_disk_shows_itself_are_recognised_and_nothing_else_is(tmp_path):
    import errno
    import sqlite3

    for exc in (OSError(errno.ENOSPC, "No space left on device"), OSError("857700 requested and 40928 written"),
                sqlite3.OperationalError("database or disk is full")):
        assert isinstance(disk_full(exc, tmp_path), DiskFullError)
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("while saving") from inner
    except RuntimeError as outer:
        assert isinstance(disk_full(outer, tmp_path), DiskFullError)      # found through the cause
    for exc in (OSError(errno.ENOENT, "No such file"), ValueError("857700 requested"), RuntimeError("boom")):
        assert disk_full(exc, tmp_path) is None
    assert "MB free" in str(DiskFullError(tmp_path))
