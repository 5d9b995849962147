"""The demo's staged worker (issue #27): stages in the order the pages need them, each saved
atomically, resumable after kill -9, one builder per workspace, failures reported, and the
app's pages while it builds. Real worker processes on real workspaces throughout."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from streamlit.testing.v1 import AppTest

from embeddings.demo import BY_KEY, DEMO_CORPUS, FIRST_STAGES, PAGE_STAGES, SEEDED_KEY, STAGES, STARTED_KEY, waiting_for
from embeddings.demo.run import _running, read_status, run_stages
from embeddings.readers import Document
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import add_corpus
from pages.ui.corpus_add import INSPECT_KEY
from tests.conftest import ROOT, start_demo_worker

pytestmark = pytest.mark.timeout(600)


def _wait(predicate, timeout=300.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _catalogue(ws: Workspace) -> dict[tuple[str, str], str]:
    """(kind, name) -> id of every artefact (ids are new for each build)."""
    return {(kind, a.name): a.id for kind in ("corpus", "space", "projection") for a in ws.list(kind)}


def test_the_suites_demo_worker_starts(demo_root):
    """The suite's demo is the app's worker: its status file appears, lists the stages in the
    declared order, and its first stages land (the whole suite's demo tests wait on it)."""
    ws = Workspace(demo_root)
    _wait(lambda: read_status(ws) is not None, 120, "the status file")
    assert [s.key for s in read_status(ws).stages] == [s.key for s in STAGES]


def test_stages_come_in_the_order_the_pages_need_them():
    keys = [s.key for s in STAGES]
    assert keys[:len(FIRST_STAGES)] == list(FIRST_STAGES) and keys[len(FIRST_STAGES)] == "projection"
    for i, stage in enumerate(STAGES):     # a stage reads only what an earlier stage made
        assert all(keys.index(n) < i for n in stage.needs if n in BY_KEY), stage.key
    assert all(k in BY_KEY for keys_ in PAGE_STAGES.values() for k in keys_)
    # the Choose page's second benchmark comes after the spaces it covers
    assert keys.index("benchmark-customised") > keys.index("pydocs-minilm-static")


def test_a_killed_worker_leaves_no_half_stage_and_the_next_start_resumes(tmp_path):
    """kill -9 in the middle of the UMAP layouts: no half artefact; the restart skips the
    stages built before (same artefacts) and builds the rest once."""
    root, log = tmp_path / "ws", tmp_path / "worker.log"
    worker = start_demo_worker(root, log, "--until", "projection")
    ws = Workspace(root)

    def in_layout():
        status = read_status(ws)
        row = status and status.by_key["projection"]
        return bool(row and row.state == "running" and row.fraction > 0.05)
    _wait(in_layout, what="the layout stage")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    before = _catalogue(Workspace(root))            # a new open sweeps what the kill left
    assert {name for kind, name in before if kind != "projection"} == set(FIRST_STAGES)
    assert not list((root / ".tmp").glob("*")), "a half-built folder survived the next open"
    for art in Workspace(root).list("projection"):   # a layout either whole or absent
        assert (art.path / "coords.parquet").stat().st_size > 0
    assert not Workspace(root).get_setting(SEEDED_KEY) and Workspace(root).get_setting(STARTED_KEY)

    start_demo_worker(root, log, "--until", "projection").wait(timeout=300)
    after = _catalogue(Workspace(root))
    assert {k: v for k, v in after.items() if k in before} == before      # nothing rebuilt
    assert len(Workspace(root).list("projection")) == 2
    rows = {s.key: s for s in read_status(Workspace(root)).stages}
    assert all(rows[k].state == "done" and rows[k].seconds is None for k in FIRST_STAGES)   # skipped as built
    assert rows["projection"].state == "done" and rows["projection"].seconds is not None
    assert not Workspace(root).get_setting(SEEDED_KEY)        # --until leaves the demo unfinished


def test_two_starters_on_one_workspace_build_each_stage_once(tmp_path):
    root = tmp_path / "ws"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [start_demo_worker(root, log, "--until", "glove-50d") for log in logs]
    for w in workers:
        assert w.wait(timeout=300) == 0
    texts = [log.read_text() for log in logs]
    builders = [t for t in texts if "[demo] building the demo in" in t]
    assert len(builders) == 1, texts
    assert "another process is building the demo" in [t for t in texts if t not in builders][0]
    assert sum(t.count("Word2Vec on the news: done in") for t in texts) == 1
    # the CLI's seed (a third starter) waits for the lock, then finds nothing to build
    out = subprocess.run([sys.executable, "-m", "embeddings", "--workspace", str(root), "seed", "--until",
                          "glove-50d", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and '"added": []' in out.stdout


def test_a_failed_stage_is_reported_and_the_others_still_run(tmp_path, capsys):
    """A user's own corpus named like the demo's, too small to train on: Word2Vec fails with
    its error, the layouts that need it are skipped, GloVe is still built, and the demo is not
    marked done (the next start tries again)."""
    ws = Workspace(tmp_path / "ws")
    add_corpus(ws, DEMO_CORPUS, documents=[Document("one short line", "mine")])
    ws.set_setting(STARTED_KEY, "a start that was stopped")
    built = run_stages(ws, until="projection", out=sys.stderr)
    assert built == ["glove-50d"]
    rows = read_status(ws).by_key
    assert rows["lee-word2vec"].state == "failed" and rows["lee-word2vec"].error
    assert rows["projection"].state == "skipped" and "Word2Vec on the news" in rows["projection"].error
    err = capsys.readouterr().err
    assert re.search(r"Word2Vec on the news: FAILED: \w+", err) and "demo incomplete" in err
    assert not ws.get_setting(SEEDED_KEY)


def test_pages_while_the_demo_builds(tmp_path, monkeypatch):
    """While a real worker builds: Home shows the panel with every stage; a page whose stage
    has not landed says what it waits for; a corpus the user adds works at once."""
    root, log = tmp_path / "ws", tmp_path / "worker.log"
    worker = start_demo_worker(root, log)
    try:
        ws = Workspace(root)
        _wait(lambda: (read_status(ws) or None) is not None and BY_KEY[DEMO_CORPUS].done(ws), what="the first stage")
        monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(root))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        assert not at.exception
        assert [h.value for h in at.subheader if h.value == "Preparing the demo"]
        table = next(d.value for d in at.dataframe if "stage" in d.value.columns)
        assert table["stage"].tolist() == [s.title for s in STAGES]
        assert waiting_for(ws, "choose") is not None
        at.switch_page("pages/choose.py").run()
        assert not at.exception and not at.error
        assert any("Waiting for the demo: The opening benchmark" in m.value for m in at.markdown)
        assert "ch_board" not in [d.key for d in at.dataframe]      # no leaderboard before the benchmark lands
        # the user's own corpus: the Corpora page opens on it at once, the demo still building
        add_corpus(ws, "my-notes", documents=[Document(f"note {i} about embeddings and vectors", f"n{i}")
                                              for i in range(20)])
        at.switch_page("pages/corpus.py").run()
        assert not at.exception and read_status(ws).alive
        assert "my-notes" in at.selectbox(key=INSPECT_KEY).options
    finally:
        worker.kill()
        worker.wait()


# -- in a real browser -----------------------------------------------------------------------
def _make_run(root, port: int, log):
    """``make run`` as a user types it (the dependencies are installed: no install), in its own
    process group, with the suite's demo budget."""
    env = {**os.environ, "EMBEDDINGS_WORKSPACE": str(root), "EMBEDDINGS_DEMO": "background",
           "EMBEDDINGS_DEMO_SAMPLE_DOCS": "600", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    return subprocess.Popen(["make", "-s", "run", f"PORT={port}"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.browser
def test_make_run_serves_home_while_the_demo_builds(browser, tmp_path):
    """A fresh workspace: ``make run`` answers at once, Home shows the panel, a page waiting for
    its stage says so; Ctrl-C ends the server and the worker with it (the demo resumes later)."""
    from tests.conftest import _free_port, _require_chromium, assert_nothing_left_the_machine, guarded_context, wait_for_app
    _require_chromium()
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("make run needs the installed .venv (make test makes it)")
    port, root = _free_port(), tmp_path / "ws"
    log_path = tmp_path / "make-run.log"
    with open(log_path, "wb") as log:
        make = _make_run(root, port, log)
    context = guarded_context(browser, viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        deadline = time.monotonic() + 120
        while True:
            try:
                pg.goto(f"http://127.0.0.1:{port}/", timeout=5000)
                break
            except Exception:
                assert time.monotonic() < deadline and make.poll() is None, log_path.read_text()
                time.sleep(0.5)
        pg.get_by_text("Preparing the demo").wait_for(timeout=120_000)
        wait_for_app(pg)
        assert pg.get_by_text("Embedding Explorer").first.is_visible()
        pg.goto(f"http://127.0.0.1:{port}/choose")
        pg.get_by_text("Waiting for the demo: The opening benchmark").wait_for(timeout=60_000)
        status = read_status(Workspace(root))
        assert status is not None and status.alive
    finally:
        context.close()
        os.killpg(make.pid, signal.SIGINT)          # Ctrl-C in make run's terminal
        make.wait(timeout=30)
    assert_nothing_left_the_machine(context)
    _wait(lambda: not read_status(Workspace(root)).alive or not _running(status.pid), 15, "the worker to end")
    text = log_path.read_text()
    assert "URL: http://" in text and "[demo" in text and "the app stopped; the demo resumes on its next start" in text
    assert not Workspace(root).get_setting(SEEDED_KEY)


@pytest.mark.browser
def test_choose_opens_on_the_benchmark_when_it_lands(browser, demo_root, tmp_path):
    """On the suite's own demo while it builds: Choose says it waits for the opening
    benchmark, then shows the leaderboard when the worker saves it, with no reload."""
    from tests.conftest import AppServer, assert_nothing_left_the_machine, guarded_context, wait_for_app

    if BY_KEY["benchmark"].done(Workspace(demo_root)):
        pytest.fail("the suite's demo built its benchmark before this test (it runs first to see the wait)")
    server = AppServer(demo_root, tmp_path / "server.log")      # reads only: the worker writes
    context = guarded_context(browser, viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        pg.goto(f"{server.url}/choose")
        pg.get_by_text("Waiting for the demo: The opening benchmark").wait_for(timeout=60_000)
        pg.get_by_text("Leaderboard", exact=True).wait_for(timeout=900_000)     # no reload: the page reruns itself
        wait_for_app(pg)
        assert pg.get_by_text("saved result").first.is_visible()
        assert not pg.get_by_text("Waiting for the demo").count()
    finally:
        context.close()
        server.stop()
    assert_nothing_left_the_machine(context)
