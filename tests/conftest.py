"""Shared fixtures: workspaces, real files of every format, blocked network, and the
browser harness (a real ``streamlit run`` server plus Debian's Chromium via Playwright)."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# the suite's own workspaces never start the demo's worker (the demo fixtures start it on purpose)
os.environ["EMBEDDINGS_DEMO"] = "off"
if os.environ.get("PYTEST_XDIST_WORKER"):
    # two workers on two cores: one thread each (torch's OpenMP pool spins when oversubscribed);
    # set before anything imports torch or numpy's BLAS (numba keeps its count: pynndescent asks
    # for n_jobs=2). App servers started here inherit it
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
sys.path.insert(0, str(ROOT))

from embeddings.store.workspace import Workspace  # noqa: E402  (after sys.path gains the checkout)


# -- workspaces -------------------------------------------------------------------
@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path / "ws")


#: the suite's demo: 600 of the ~2,260 labelled documents (every area keeps its share); the full
#: sample's figures are in bench/ and the README
DEMO_DOCS = "600"
#: generous: the whole demo takes about 3 minutes alone at the suite's size
DEMO_TIMEOUT = 1200


def start_demo_worker(root: Path, log: Path, *args: str) -> subprocess.Popen:
    """The app's own demo worker (``seed --worker``) on ``root``, as ``make run`` starts it."""
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "EMBEDDINGS_DEMO_SAMPLE_DOCS": DEMO_DOCS, "EMBEDDINGS_DEMO": "background"}
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "embeddings", "--workspace", str(root), "seed", "--worker",
                                 "--parent", str(os.getpid()), *args], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def wait_for_stages(root: Path, keys, timeout: float = DEMO_TIMEOUT, log: Path | None = None) -> None:
    """Wait until the demo stages ``keys`` are built in ``root`` (failing at once if the worker
    reports one failed or skipped, or stops without them)."""
    from embeddings.demo import BY_KEY
    from embeddings.demo.run import read_status

    ws, deadline, seen_alive = Workspace(root), time.monotonic() + timeout, time.monotonic() + 60
    while True:
        if all(BY_KEY[k].done(ws) for k in keys):
            return
        status = read_status(ws)
        bad = [f"{s.title}: {s.state} ({s.error})" for s in (status.stages if status else ())
               if s.key in keys and s.state in ("failed", "skipped")]
        tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
        if bad:
            raise RuntimeError(f"the demo worker did not build {bad}\n{tail}")
        if status is not None and not status.alive and time.monotonic() > seen_alive:
            raise RuntimeError(f"the demo worker stopped without {keys}\n{tail}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the demo stages {keys} were not built in {timeout} s\n{tail}")
        time.sleep(0.5)


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory, request) -> Path:
    """Where the suite's demo builds: the app's worker, started once for the whole session
    (under pytest-xdist, by the first worker that needs it; the others find it started)."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent if hasattr(request.config, "workerinput") else \
        tmp_path_factory.getbasetemp()
    root, log = shared / "demo" / "ws", shared / "demo" / "worker.log"
    with FileLock(f"{shared}/demo.lock"):
        if not (shared / "demo" / "STARTED").exists():
            root.mkdir(parents=True, exist_ok=True)
            start_demo_worker(root, log)
            (shared / "demo" / "STARTED").touch()
            ARTIFACTS.mkdir(exist_ok=True)
    return root


@pytest.fixture(scope="session")
def demo_template(demo_root) -> Path:
    """The whole demo as the worker builds it: the Lee corpus and its four spaces, the labelled
    python-docs sample (600 documents) and its six spaces, the layouts, benchmarks and the
    stability study. Tests copy it; never write to it."""
    from embeddings.demo import STAGES

    wait_for_stages(demo_root, [s.key for s in STAGES], log=demo_root.parent / "worker.log")
    return demo_root


@pytest.fixture(scope="session")
def demo_first(demo_root) -> Path:
    """The demo's first stages only (the news corpus, Word2Vec, GloVe, the opening layouts):
    tests that need no more start as soon as these land, while the worker builds the rest."""
    from embeddings.demo import FIRST_STAGES

    wait_for_stages(demo_root, [*FIRST_STAGES, "projection"], log=demo_root.parent / "worker.log")
    return demo_root


#: the tests that run first: the one that starts the demo's worker, and the one that must see a
#: page wait for a stage the worker has not built yet
FIRST_TESTS = ("test_the_suites_demo_worker_starts", "test_choose_opens_on_the_benchmark_when_it_lands",
               "test_make_run_serves_home_while_the_demo_builds")


def _needs_demo(item) -> bool:
    return "demo_root" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config, items):
    """The order pytest-xdist hands out work (``--dist loadgroup --no-loadscope-reorder``):
    the test that starts the demo's worker, then the tests that need no demo (both run them
    while the worker builds), then those that need its first stages only, then the browser
    tests (one group per module, so its server starts once, in file order), then the rest."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group(f"browser:{item.module.__name__}"))

    def rank(item) -> int:
        if item.name in FIRST_TESTS:
            return 0
        if not _needs_demo(item):
            return 1
        if "demo_template" not in item.fixturenames:
            return 2        # the demo's first stages only: they land within a minute
        return 3 if item.get_closest_marker("browser") is not None else 4

    items.sort(key=rank)    # stable: file order within each rank


def copy_workspace(src: Path, dst: Path, *, seeded: bool = False) -> Path:
    """A copy of a workspace, consistent while its demo worker still writes to it: the
    catalogue through SQLite's backup, then the artefact folders (a folder newer than the
    catalogue's copy has no row there and is swept when the copy opens). ``seeded``: mark the
    copy's demo finished, so an app on it starts no worker of its own."""
    import shutil
    import sqlite3

    from embeddings.demo import SEEDED_KEY
    from embeddings.store.workspace import CATALOGUE

    dst.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(src / CATALOGUE)) as a, contextlib.closing(sqlite3.connect(dst / CATALOGUE)) as b:
        a.backup(b)
    shutil.copytree(src, dst, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.lock", ".tmp", f"{CATALOGUE}*", ".demo-status.json"))
    if seeded:
        Workspace(dst).set_setting(SEEDED_KEY, "a copy of the suite's demo")
    return dst


@pytest.fixture
def demo_ws(demo_template, tmp_path) -> Workspace:
    """A private copy of the seeded demo workspace."""
    return Workspace(copy_workspace(demo_template, tmp_path / "ws"))


@pytest.fixture
def first_ws(demo_first, tmp_path) -> Workspace:
    """A private copy of the demo's first stages (the news corpus, Word2Vec, GloVe, the layouts)."""
    return Workspace(copy_workspace(demo_first, tmp_path / "ws", seeded=True))


@pytest.fixture(scope="session")
def lee_small_ws(tmp_path_factory):
    """A read-only workspace holding the first 60 Lee stories as ``lee``: for jobs that encode
    every document (fine-tuning, distilling), a test budget (the whole corpus is the demo's)."""
    from embeddings.text.corpus import add_corpus
    from embeddings.text.samples import SAMPLES

    ws = Workspace(tmp_path_factory.mktemp("lee-small") / "ws")
    add_corpus(ws, "lee", documents=SAMPLES["lee"].load()[:60], source_label="sample:lee (first 60)")
    return ws


@pytest.fixture(scope="session")
def lee_ws(tmp_path_factory):
    """A read-only workspace holding the Lee corpus (default preprocessing), shared by tests."""
    from embeddings.text.corpus import add_corpus
    from embeddings.text.samples import SAMPLES

    ws = Workspace(tmp_path_factory.mktemp("lee") / "ws")
    add_corpus(ws, "lee", documents=SAMPLES["lee"].load(), source_label="sample:lee")
    return ws


# -- real files of every format ----------------------------------------------------
def make_pdf(lines: list[str]) -> bytes:
    """A real one-page PDF with text, built with pypdf (Helvetica, one line each)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    })
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    ops = ["BT /F1 12 Tf 72 720 Td 14 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    stream = DecodedStreamObject()
    stream.set_data("\n".join(ops).encode("latin-1"))
    page.replace_contents(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


# -- no network --------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch):
    """Block every outgoing internet socket in this process; record attempts. Loopback stays
    open: Ray's processes (and a local app server) talk over 127.0.0.1."""
    attempts: list = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo
    real_create = socket.create_connection

    def loopback(host) -> bool:
        return str(host) in LOOPBACK or str(host).startswith("127.")

    def guarded_connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            attempts.append(address)
            raise OSError(f"network blocked by test: {address}")
        return real_connect(self, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host is None or loopback(host):
            return real_getaddrinfo(host, *args, **kwargs)
        attempts.append(host)
        raise socket.gaierror(f"network blocked by test: {host}")

    def guarded_create(address, *args, **kwargs):
        if loopback(address[0]):
            return real_create(address, *args, **kwargs)
        attempts.append(address)
        raise OSError(f"network blocked: {address}")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", guarded_create)
    return attempts


LOOPBACK = {"localhost", "::1", "127.0.0.1", "0.0.0.0", ""}


# -- browser harness -----------------------------------------------------------------
def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``streamlit run app.py`` on a free port with its own workspace."""

    def __init__(self, workspace: Path, log_path: Path):
        self.workspace = workspace
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "EMBEDDINGS_WORKSPACE": str(workspace), "HF_HUB_OFFLINE": "1",
               "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self, timeout: float = 90) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}; see {self._log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not answer within {timeout}s; see {self._log.name}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        msg = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run under CI: {msg}")
        pytest.skip(msg)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, demo_template):
    """One app server for the browser tests, on a copy of the seeded demo workspace."""
    _require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    root = copy_workspace(demo_template, tmp_path_factory.mktemp("browser") / "ws")
    server = AppServer(root, ARTIFACTS / "streamlit-server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # An assertion waits for the app's next rerun. Playwright's 5 s default is met on a quiet
    # machine, not on CI's, where two workers share two cores: the chart that follows a
    # caption can take longer. A real failure still fails, after 30 s.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


#: how long a browser assertion waits for the page to reach the expected state
EXPECT_TIMEOUT_MS = 30_000

#: the hosts a page may talk to: this machine (the app, and Ray's processes, live on loopback)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def guarded_context(browser, **kwargs):
    """A browser context in which every request to another host is aborted and recorded
    (``context.external``), and every JavaScript dialog is dismissed and recorded
    (``context.dialogs``): a test that leaves either non-empty has found a leak or an
    injected script. file:, data: and blob: URLs stay on the machine and pass."""
    context = browser.new_context(**kwargs)
    context.external, context.dialogs = [], []

    def route(r):
        parts = urlsplit(r.request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            context.external.append(r.request.url)
            r.abort()
        else:
            r.continue_()

    context.route("**/*", route)
    context.on("page", lambda pg: pg.on("dialog", lambda d: (context.dialogs.append(d.message), d.dismiss())))
    return context


def assert_nothing_left_the_machine(context) -> None:
    assert context.external == [], f"requests to other hosts: {context.external[:5]}"
    assert context.dialogs == [], f"JavaScript dialogs opened (injected script?): {context.dialogs[:5]}"


@pytest.fixture
def page(browser, app_server, request):
    """A fresh browser page; on failure a screenshot is kept under artifacts/. The test
    fails if the page asked any host but this machine for anything, or opened a dialog."""
    context = guarded_context(browser, viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.app_url = app_server.url
    pg.js_errors = errors
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        with contextlib.suppress(Exception):
            pg.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()
    assert_nothing_left_the_machine(context)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


#: the three areas of the python-docs sample the task tests use (about 250 documents)
LABELLED_AREAS = ("concurrency", "security", "text")


def labelled_docs() -> list:
    """The python-docs sample's docstrings of LABELLED_AREAS, each with meta area and module."""
    from embeddings.text.samples import SAMPLES

    return [d for d in SAMPLES["python-docs"].load() if d.meta["area"] in LABELLED_AREAS]


def write_labelled_csv(path: Path, text: str = "text", label: str = "area", *, module: bool = False) -> list:
    """A user's labelled CSV of labelled_docs(): columns ``text``, ``label`` (and ``module``).
    Returns the documents written."""
    import csv

    docs = labelled_docs()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([text, label] + (["module"] if module else []))
        w.writerows([d.text, d.meta["area"]] + ([d.meta["module"]] if module else []) for d in docs)
    return docs


def upload_on_corpus_page(pg, url: str, path: Path, name: str) -> None:
    """Open the Corpora page, upload ``path`` and name the corpus (the caller presses Add)."""
    pg.goto(f"{url}/corpus")
    wait_for_app(pg)
    pg.get_by_role("heading", name="Corpora").first.wait_for()
    pg.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    pg.get_by_text(path.name).first.wait_for()
    wait_for_app(pg)   # the rerun the upload starts (a CSV adds its column choice) ends before typing
    # each tab of "Add a corpus" has its own "Corpus name" field and the hidden tabs' stay in the
    # page, in an order Streamlit does not promise: type into the one on screen
    field = pg.locator('input[aria-label="Corpus name"]:visible').first
    field.fill(name)
    field.press("Enter")
    wait_for_app(pg)


def script_state(pg) -> str | None:
    """The app's own record of the script's run ("notRunning" once a run has finished)."""
    return pg.get_attribute('[data-testid="stApp"]', "data-test-script-state")


#: in the page: when the app's run state last changed (a MutationObserver on stApp's attribute)
_SETTLED = """([settle, from]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  let r = window.__eeRun;
  if (!r || r.app !== app) {
    r = window.__eeRun = {app, state: app.dataset.testScriptState, since: performance.now()};
    new MutationObserver(() => {
      const s = app.dataset.testScriptState;
      if (s !== r.state) { r.state = s; r.since = performance.now(); }
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  }
  return r.state === 'notRunning' && performance.now() - Math.max(r.since, from) >= settle;
}"""


def wait_for_app(pg, timeout: float = 180_000, settle_ms: int = 600) -> None:
    """Wait until the script's run is over, by the app's run state (#27): the state must read
    "notRunning" and stay so for ``settle_ms`` from the call on. An action's rerun is requested a
    moment after the action (a text box commits its value, then asks), so an idle state seen
    at once may still be the previous run's, and a run can be followed by another the
    frontend asks for once it has drawn the first (a widget bound to the URL takes its value
    then): 20 ms apart here, over 250 ms on a loaded CI machine. The settle covers both.
    (The status widget this used to wait for never appeared, so it never waited.)"""
    start = pg.evaluate("performance.now()")          # idle for settle_ms counted from now, not from before
    pg.wait_for_function(_SETTLED, arg=[settle_ms, start], timeout=timeout, polling=50)


def screenshot(pg, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its main container, so the viewport is
    stretched to the container's height for the shot and restored afterwards."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = pg.viewport_size
    height = pg.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]'); return m ? m.scrollHeight : 0; }")
    pg.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, 8000))})
    pg.wait_for_timeout(500)  # let charts re-layout to the new size
    pg.screenshot(path=str(path), full_page=True)
    pg.set_viewport_size(size)
    return path


def run_cli(capsys, *argv):
    """Run ``python -m embeddings`` in process; return (exit code, stdout, stderr)."""
    from embeddings.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def glove():
    """GloVe 6B 50-d, all 400k words (loaded once per test module)."""
    from embeddings.models.glove import load_glove

    return load_glove("glove", None)


def table_overflows(pg) -> list[tuple[int, float, float]]:
    """Each visible table (``stDataFrame``) whose last column ends past the viewport's right
    edge or behind a horizontal scroll: ``(index, right edge, hidden pixels)``. Glide's grid
    scrolls inside ``.dvn-scroller``; its scrollWidth beyond clientWidth is a column cut off."""
    width = pg.viewport_size["width"]
    out = []
    frames = pg.locator('[data-testid="stDataFrame"]')
    for i in range(frames.count()):
        frame = frames.nth(i)
        if not frame.is_visible():
            continue
        box = frame.bounding_box()
        hidden = frame.evaluate("el => { const s = el.querySelector('.dvn-scroller');"
                                " if (!s) throw new Error('no grid scroller in a table');"
                                " return s.scrollWidth - s.clientWidth; }")
        if box["x"] + box["width"] > width + 1 or hidden > 1:
            out.append((i, box["x"] + box["width"], hidden))
    return out


def chips_clipped(pg) -> list[tuple[int, float]]:
    """Each visible multiselect whose chips run past its box (a chip cut off or hidden behind
    the others): ``(index, hidden pixels)``. The chips scroll inside the tags container."""
    out = []
    boxes = pg.locator('[data-testid="stMultiSelectTagsContainer"]')
    for i in range(boxes.count()):
        box = boxes.nth(i)
        if box.is_visible():
            hidden = box.evaluate("el => el.scrollWidth - el.clientWidth")
            if hidden > 1:
                out.append((i, hidden))
    return out


def tables_fit(pg, timeout: float = 10.0) -> list[tuple[int, float, float]]:
    """:func:`table_overflows`, polled until it is empty or ``timeout`` seconds pass (a grid
    lays out its columns after it is drawn); what still overflows then is returned."""
    deadline = time.monotonic() + timeout
    while True:
        over = table_overflows(pg)
        if not over or time.monotonic() > deadline:
            return over
        pg.wait_for_timeout(200)


def layout_problems(pg, widths: tuple[int, ...] = (1400, 1280)) -> dict[int, dict]:
    """At each width (height 900), the tables with a column off-screen and the multiselects
    with a chip cut off (#25, item 8); ``{}`` when everything fits. The viewport is put back."""
    size, out = pg.viewport_size, {}
    for width in widths:
        pg.set_viewport_size({"width": width, "height": 900})
        tables = tables_fit(pg)
        deadline = time.monotonic() + 5
        while (chips := chips_clipped(pg)) and time.monotonic() < deadline:
            pg.wait_for_timeout(200)
        if tables or chips:
            out[width] = {"tables": tables, "chips": chips}
    pg.set_viewport_size(size)
    return out

