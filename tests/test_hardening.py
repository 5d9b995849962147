"""Issue #10, item by item, through the paths a user takes: the CLI (in a subprocess where
memory is at stake, under an address-space limit so a regression fails fast instead of
swapping), the core, and AppTest. The browser halves of items 1, 2 and 7 are in
test_browser.py."""

from __future__ import annotations

import html
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections import Counter

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from embeddings.errors import DamagedError, InputError, WorkspaceError
from embeddings.store.workspace import Workspace
from tests.conftest import ROOT, make_docx, make_zip, run_cli

MB = 1024 * 1024


def cli_limited(*argv, limit_mb: int, env: dict | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    """``python -m embeddings ...`` in a child whose address space is capped at ``limit_mb``."""
    code = ("import resource, runpy, sys; "
            f"resource.setrlimit(resource.RLIMIT_AS, ({limit_mb * MB}, {limit_mb * MB})); "
            "sys.argv = ['embeddings', *sys.argv[1:]]; runpy.run_module('embeddings', run_name='__main__')")
    return subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=300)


def cli_on_file(capsys, tmp_path, filename: str, text: str, *argv) -> tuple[int, str, str]:
    """Write ``text`` to ``filename`` and run ``python -m embeddings --workspace WS <argv>``,
    where the argument ``"FILE"`` stands for the file's path."""
    path = tmp_path / filename
    path.write_text(text)
    return run_cli(capsys, "--workspace", tmp_path / "ws", *[path if a == "FILE" else a for a in argv])


def one_error_line(proc) -> str:
    """The one error line on stderr (progress lines, "[ 42%] stage", are not errors)."""
    lines = [line for line in proc.stderr.splitlines() if line.strip() and not re.match(r"\[\s*\d+%\]", line)]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return lines[0]


# -- 1. a user's string is text --------------------------------------------------------------
PAYLOADS = ['<iframe srcdoc="<script>parent.alert(13)</script>"></iframe>', "<img/src=x/onerror=alert(1)>",
            "![x](http://203.0.113.9/x.png)", "&lt;b&gt; & <a href='http://203.0.113.9'>a</a>"]


def test_safe_figure_escapes_every_data_string_and_keeps_numbers():
    import plotly.graph_objects as go

    from embeddings.display import MARKUP_SAFE, label_from_plot, safe_figure

    fig = go.Figure([go.Bar(x=PAYLOADS, y=[1, 2, 3, 4], name=PAYLOADS[0], text=PAYLOADS,
                            customdata=np.array([[p, 1] for p in PAYLOADS], dtype=object),
                            hovertemplate="<b>%{customdata[0]}</b><extra></extra>"),
                     go.Bar(x=["a"], y=[1], text=["1<br>2"], meta=MARKUP_SAFE("text"))])
    fig.update_layout(xaxis={"categoryarray": PAYLOADS})
    safe_figure(fig)
    expected = [html.escape(p, quote=False) for p in PAYLOADS]
    bar = fig.data[0]
    assert list(bar.x) == expected and list(bar.text) == expected
    assert bar.name == expected[0]
    assert [row[0] for row in bar.customdata] == expected and [row[1] for row in bar.customdata] == [1] * 4
    assert list(bar.y) == [1, 2, 3, 4]
    assert bar.hovertemplate == "<b>%{customdata[0]}</b><extra></extra>"  # templates are ours
    assert list(fig.layout.xaxis.categoryarray) == expected
    assert list(fig.data[1].text) == ["1<br>2"]  # declared markup of our own stays
    assert all("<" not in s for s in expected)
    assert [label_from_plot(s) for s in expected] == PAYLOADS  # what a selection hands back is undone


def test_markdown_escape_renders_payloads_literally():
    from pages.ui.text import md

    for p in PAYLOADS + ["**bold** _it_ `code` :red[x] :material/home: $x^2$ # h", "- item", "1. item"]:
        escaped = md(p)
        # no unescaped mark that styles, links, embeds or opens HTML is left
        assert not re.search(r"(?<!\\)[<>\[\]`*_$#]", escaped), escaped
        assert not re.match(r"[-+]|\d+\.", escaped), escaped
    assert md("a\nb\n\n# c") == r"a b \# c"


@pytest.mark.parametrize("text, expected", [
    ("tf http://example.com/phish", "tf http\u200b\\://example.com/phish"),       # no autolink
    ("HTTPS://X.COM", "HTTPS\u200b\\://X.COM"),
    ("www.example.com", "www\u200b.example.com"),
    ("user@example.com", "user\u200b@example.com"),
    ("mailto:x@y.com", "mailto\\:x\u200b@y.com"),
    (":red[x]", "\\:red\\[x\\]"),                                                # no colour directive
    (":material/home:", "\\:material/home\\:"),
    ("a_b", "a\\_b"),
    ("ratio 3:1", "ratio 3\\:1"),
])
def test_markdown_escape_breaks_links_and_directives(text, expected):
    """#26, item 2: GFM links bare URLs and e-mail addresses even when escaped; a zero-width
    space breaks each form. What the browser then shows is checked by the hostile-names
    browser test (no link off the page, no coloured text, no backslash)."""
    from pages.ui.text import md

    assert md(text) == expected
    assert md(text).replace("\u200b", "").replace("\\", "") == text.replace("\\", "")


def test_no_page_enables_raw_html():
    for path in [ROOT / "app.py", *(ROOT / "pages").rglob("*.py")]:
        assert "unsafe_allow_html" not in path.read_text().replace("no unsafe_allow_html", ""), path


def test_download_names_are_never_paths():
    from embeddings.display import safe_filename

    for name in ["../../etc/passwd", "/abs/x", PAYLOADS[0], "a\\b", "..", ""]:
        out = safe_filename(name)
        assert "/" not in out and "\\" not in out and ".." not in out and "<" not in out and out, out


def test_reports_escape_names_labels_and_words(demo_ws):
    from embeddings.analysis.neighbours import compare
    from embeddings.figures.reports import compare_report
    from embeddings.space import EmbeddingSpace
    from embeddings.store.space_store import load_space

    glove = load_space(demo_ws, "glove-50d")
    words = ["government", "police", "people", "minister", "president", "country", "state", "city"]
    rows = [glove.index[w] for w in words]
    labels = words + [PAYLOADS[1]]
    vectors = np.vstack([np.asarray(glove.vectors[rows]), np.asarray(glove.vectors[rows[0]]) + 0.01])
    hostile = EmbeddingSpace.from_arrays(PAYLOADS[0], labels, vectors)
    report = compare_report(compare(hostile, glove, 3), PAYLOADS[0], "glove", examples=["government"])
    for p in PAYLOADS[:2]:
        assert p not in report
    assert "<iframe" not in report and "onerror=" not in report.replace(html.escape("onerror="), "")
    assert "cdn.plot.ly" not in report.split("<script")[0]  # plotly.js is inlined, not fetched


# -- 3. names and ids never collide ---------------------------------------------------------------
def test_id_shaped_names_are_refused_everywhere(demo_ws, capsys):
    glove = demo_ws.get("space", "glove-50d")
    with pytest.raises(WorkspaceError, match="looks like an artefact id"):
        demo_ws.check_new_name("space", glove.id)
    with pytest.raises(WorkspaceError, match="looks like an artefact id"):
        demo_ws.rename("space", "lee-fasttext", glove.id)
    code, _, err = run_cli(capsys, "--workspace", demo_ws.root, "corpus", "rename", "lee", glove.id)
    assert code == 2 and "looks like an artefact id" in err


def test_an_impostor_row_cannot_take_over_an_id(demo_ws):
    """A workspace written before the rule may hold a name equal to another artefact's id:
    lookups by id still reach the real artefact, and deleting by id deletes it, not the impostor."""
    glove = demo_ws.get("space", "glove-50d")
    ft = demo_ws.get("space", "lee-fasttext")
    with sqlite3.connect(demo_ws.db_path) as con:
        con.execute("UPDATE artefacts SET name=? WHERE id=?", (glove.id, ft.id))
    assert demo_ws.get("space", glove.id).id == glove.id
    demo_ws.delete("space", glove.id)
    assert [a.id for a in demo_ws.list("space") if a.id in (glove.id, ft.id)] == [ft.id]


# -- 4. header claims do not allocate ------------------------------------------------------------
@pytest.mark.parametrize("fmt,data", [
    ("word2vec-binary", b"2000000000 300\n" + b"a " + b"\0" * 243),
    ("word2vec", ("300000000 3\n" + "".join(f"w{i} 0.1 0.2 0.3\n" for i in range(1100))).encode()),
])
def test_a_header_claim_is_checked_against_the_file_size(tmp_path, fmt, data):
    path = tmp_path / "claim.vec"
    path.write_bytes(data)
    proc = cli_limited("--workspace", tmp_path / "ws", "space", "import", path, "--format", fmt, "--name", "c",
                       limit_mb=1500)
    assert proc.returncode == 2, proc.stderr
    line = one_error_line(proc)
    assert "is not a valid" in line and "MemoryError" not in line  # refused from the header and the file size


def test_header_claim_rule_against_a_direct_computation():
    from embeddings.models.vectors import check_header_claim

    check_header_claim("ok.bin", 10 * (4 * 3 + 2), 10, 3, binary=True)  # exactly enough room
    with pytest.raises(InputError, match="at most 9 of them"):
        check_header_claim("short.bin", 10 * (4 * 3 + 2) - 1, 10, 3, binary=True)
    with pytest.raises(InputError, match="0 dimensions"):
        check_header_claim("zero.txt", 100, 1, 0, binary=False)


# -- 5. zip containers get the zip guards ---------------------------------------------------------
def _docx_bomb(unpacked: int) -> bytes:
    template = zipfile.ZipFile(io.BytesIO(make_docx(["x"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for item in template.infolist():
            if item.filename != "word/document.xml":
                z.writestr(item, template.read(item))
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            chunk = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 10_000
            for _ in range(unpacked // len(chunk)):
                fh.write(chunk)
            fh.write(b"</w:body></w:document>")
    return out.getvalue()


def test_a_docx_bomb_is_refused_before_it_is_parsed(tmp_path):
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(_docx_bomb(300 * MB))
    assert bomb.stat().st_size < 2 * MB
    proc = cli_limited("--workspace", tmp_path / "ws", "corpus", "add", bomb, "--name", "b", limit_mb=1500)
    assert proc.returncode == 2, proc.stderr
    assert "over the 100.0 MB limit" in one_error_line(proc)
    # the same .docx inside a .zip upload meets the same guard
    from embeddings.readers import Source, read_source

    with pytest.raises(InputError, match="over the 100.0 MB limit"):
        read_source(Source("docs.zip", make_zip({"in/bomb.docx": bomb.read_bytes()}, zipfile.ZIP_STORED)))


def test_a_normal_docx_still_reads():
    from embeddings.readers import Source, read_source

    docs, _ = read_source(Source("ok.docx", make_docx(["Hello there.", "Second paragraph."])))
    assert "Second paragraph." in docs[0].text


# -- 6. ingest streams ----------------------------------------------------------------------------
def test_a_long_one_line_document_streams_in_blocks_with_every_token(tmp_path, capsys):
    """A one-line file far longer than a Punkt block: every token arrives (checked against a
    regex count of the lowercased text), no sentence is longer than a block, and the per-
    document counts add up."""
    from embeddings.text.corpus import get_corpus
    from embeddings.text.preprocess import MAX_BLOCK_CHARS, TOKEN_RE

    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    text = " ".join(rng.choice(words, 60_000)) + " " + " ".join(["nodot"] * 20_000)  # a tail with no sentence end
    path = tmp_path / "long.txt"
    path.write_text(text + "\n")
    code, out, err = run_cli(capsys, "--workspace", tmp_path / "ws", "corpus", "add", path, "--name", "long",
                             "--phrases", "none", "--json")
    assert code == 0, err
    corpus = get_corpus(Workspace(tmp_path / "ws"), "long")
    streamed = Counter(t for s in corpus.sentences() for t in s)
    assert streamed == Counter(TOKEN_RE.findall(text.lower()))
    assert max(len(t) for t in corpus.sentence_table()["text"]) <= MAX_BLOCK_CHARS
    docs = corpus.documents()
    assert list(docs.columns[:5]) == ["doc", "source", "text", "tokens", "sentences"]
    assert int(docs["tokens"].sum()) == corpus.stats["tokens"] == sum(streamed.values())
    assert int(docs["sentences"].sum()) == corpus.stats["sentences"]


def test_streamed_corpus_equals_the_in_memory_pipeline_with_phrases_and_stopwords(tmp_path):
    from embeddings.text.corpus import add_corpus
    from embeddings.text.preprocess import Preprocessing, preprocess
    from embeddings.text.samples import SAMPLES

    docs = SAMPLES["lee"].load()[:120]
    prep = Preprocessing(phrases="trigrams", phrase_min_count=3, stopwords=True)
    tok = preprocess(docs, prep)
    corpus = add_corpus(Workspace(tmp_path / "ws"), "lee", documents=docs, preprocessing=prep)
    assert list(corpus.sentences()) == tok.sentences
    table = corpus.sentence_table()
    assert table["text"].tolist() == tok.sentence_text and table["doc"].tolist() == tok.sentence_doc
    assert any("_" in t for s in tok.sentences for t in s)  # phrases were applied


# -- 8. NaN and infinity --------------------------------------------------------------------------
def test_nan_vectors_are_refused_naming_the_line(tmp_path, capsys):
    code, _, err = cli_on_file(capsys, tmp_path, "nan.txt", "4 2\na 1 2\nb 1 1\nc nan 1\nd 1 inf\n",
                               "space", "import", "FILE", "--format", "word2vec", "--name", "n")
    assert code == 2 and "line 4 ('c') holds a NaN or infinite value (2 such vectors" in err


def test_json_output_never_contains_nan(demo_ws, capsys, tmp_path):
    """Every number that has no value (GloVe's frequencies, a score on no items) prints as null."""
    from embeddings.cli import json_safe

    assert json.dumps(json_safe({"x": [np.nan, np.float32("inf"), 1.5]}), allow_nan=False) == \
        '{"x": [null, null, 1.5]}'
    strict = {"parse_constant": lambda c: pytest.fail(f"{c} in --json output")}
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("qqqq\tzzzz\t5.0\nwwww\tvvvv\t3.0\n")  # no pair known: the score is undefined
    for argv in (["space", "show", "glove-50d"], ["neighbours", "glove-50d", "king"],
                 ["space", "list"], ["evaluate", "glove-50d", "--benchmark", pairs]):
        code, out, err = run_cli(capsys, "--workspace", demo_ws.root, *argv, "--json")
        if code == 0:
            json.loads(out, **strict)
        else:
            assert code == 2 and "internal error" not in err, err


# -- 9. duplicate labels --------------------------------------------------------------------------
def test_duplicate_labels_keep_the_first_and_say_which(tmp_path, capsys):
    from embeddings.store.space_store import load_space

    code, out, err = cli_on_file(capsys, tmp_path, "dup.txt", "4 2\na 1 2\nb 2 1\na 5 5\nz 1 1\n",
                                 "space", "import", "FILE", "--format", "word2vec", "--name", "d", "--json")
    assert code == 0, err
    s = load_space(Workspace(tmp_path / "ws"), "d")
    assert s.labels == ["a", "b", "z"] and "None" not in s.labels
    np.testing.assert_allclose(s.vector("a"), np.array([1, 2]) / np.sqrt(5), rtol=1e-6)  # the first one
    assert "1 repeated word dropped" in json.loads(out)["warnings"][0]
    assert "'a' (line 4, first at 2)" in json.loads(out)["warnings"][0]


# -- 10. ragged CSV rows --------------------------------------------------------------------------
def test_ragged_csv_rows_are_refused_with_their_line(tmp_path, capsys):
    code, _, err = cli_on_file(capsys, tmp_path, "r.csv", 'id,text\n1,"fine, quoted"\n2,hello world,extra,more\n',
                               "corpus", "add", "FILE", "--name", "r")
    assert code == 2 and "r.csv, line 3: 4 fields where the header has 2" in err


def test_a_csv_without_header_is_a_visible_choice(tmp_path, capsys):
    from embeddings.text.corpus import get_corpus

    code, _, err = cli_on_file(capsys, tmp_path, "nh.csv", "1,the first document text\n2,the second document text\n",
                               "corpus", "add", "FILE", "--name", "nh", "--no-header", "--text-column", "column 2")
    assert code == 0, err
    docs = get_corpus(Workspace(tmp_path / "ws"), "nh").documents()
    assert docs["text"].tolist() == ["the first document text", "the second document text"]
    assert docs["meta.column 1"].tolist() == ["1", "2"]


# -- 11. bad limits and shapes ---------------------------------------------------------------------
def test_zero_dimensional_files_are_refused(tmp_path, capsys):
    for fmt, text in (("word2vec", "2 0\na\nb\n"), ("glove", "a\nb\n")):
        code, _, err = cli_on_file(capsys, tmp_path, f"z-{fmt}.txt", text, "space", "import", "FILE", "--format", fmt,
                                   "--name", f"z{fmt}")
        assert code == 2 and ("0 dimensions" in err or "no numbers" in err), err


def test_all_zero_vectors_are_reported(tmp_path, capsys):
    code, out, err = cli_on_file(capsys, tmp_path, "zeros.txt", "a 1 2\nb 0 0\nc 0.5 0.5\nd 0 0\n",
                                 "space", "import", "FILE", "--format", "glove", "--name", "zz")
    assert code == 0, err
    assert "warning: 2 all-zero vectors" in err and "'b', 'd'" in err


@pytest.mark.parametrize("argv,env", [
    (["corpus", "add", "{file}", "--name", "x", "--max-mb", "-5"], {}),
    (["corpus", "add", "{file}", "--name", "x"], {"EMBEDDINGS_MAX_UPLOAD_MB": "abc"}),
    (["space", "import", "{file}", "--format", "glove", "--name", "x"], {"EMBEDDINGS_MAX_UPLOAD_MB": "0"}),
])
def test_bad_limits_are_one_clear_line(tmp_path, argv, env):
    f = tmp_path / "t.txt"
    f.write_text("hello world\n")
    proc = cli_limited("--workspace", tmp_path / "ws", *[a.replace("{file}", str(f)) for a in argv], limit_mb=4000,
                       env=env)
    assert proc.returncode == 2
    assert "must be a positive number of MB" in one_error_line(proc)


# -- 12. orphans after a crash ----------------------------------------------------------------------
_KILL_BETWEEN_RENAME_AND_COMMIT = """
import os, signal, sys
import numpy as np
sys.path.insert(0, {root!r})
from embeddings.space import EmbeddingSpace
from embeddings.store.space_store import save_space
from embeddings.store.workspace import Workspace
ws = Workspace({ws!r})
real_rename = os.rename
def rename_then_die(src, dst):
    real_rename(src, dst)
    if "/space/" in str(dst):
        os.kill(os.getpid(), signal.SIGKILL)
os.rename = rename_then_die
save_space(ws, EmbeddingSpace.from_arrays("doomed", ["a", "b"], np.eye(2)))
"""


def test_a_kill_between_rename_and_commit_leaves_nothing_after_the_next_open(tmp_path):
    root = tmp_path / "ws"
    Workspace(root)
    proc = subprocess.run([sys.executable, "-c", _KILL_BETWEEN_RENAME_AND_COMMIT.format(root=str(ROOT),
                                                                                        ws=str(root))])
    assert proc.returncode == -signal.SIGKILL
    assert len(list((root / "space").iterdir())) == 1  # the folder made it, its row did not
    ws = Workspace(root)
    assert list((root / "space").iterdir()) == [] and ws.list("space") == []


def test_build_folders_are_swept_unless_a_live_process_holds_them(tmp_path):
    import fcntl

    root = tmp_path / "ws"
    Workspace(root)
    dead, alive = root / ".tmp" / "space-dead", root / ".tmp" / "space-alive"
    dead.mkdir()
    alive.mkdir()
    young = root / ".tmp" / "space-just-made"  # made a moment ago, not yet locked by its build
    young.mkdir()
    minute_ago = time.time() - 60
    for folder in (dead, alive):
        os.utime(folder, (minute_ago, minute_ago))
    fd = os.open(alive, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # what a running build holds
    try:
        Workspace(root)
        assert not dead.exists() and alive.exists() and young.exists()
    finally:
        os.close(fd)
    Workspace(root)
    assert not alive.exists()


# -- 13. damaged artefacts ------------------------------------------------------------------------
def _damage(ws: Workspace, name: str, how: str) -> None:
    folder = ws.get("space", name).path
    if how == "truncated vectors":
        data = (folder / "vectors.npy").read_bytes()
        (folder / "vectors.npy").write_bytes(data[: len(data) // 2])
    elif how == "missing meta":
        (folder / "meta.parquet").unlink()
    elif how == "bad provenance":
        (folder / "provenance.json").write_text("{not json")


@pytest.mark.parametrize("how", ["truncated vectors", "missing meta", "bad provenance"])
def test_the_cli_names_a_damaged_space(demo_ws, capsys, how):
    _damage(demo_ws, "lee-word2vec", how)
    for argv in (["space", "show", "lee-word2vec"], ["neighbours", "lee-word2vec", "king"]):
        code, _, err = run_cli(capsys, "--workspace", demo_ws.root, *argv)
        assert code == 2, err
        assert "space 'lee-word2vec' is damaged (" in err and "delete it or create it again" in err
    code, _, err = run_cli(capsys, "--workspace", demo_ws.root, "space", "show", "glove-50d")
    assert code == 0, err


def test_a_corpus_without_its_vocabulary_is_named_damaged(demo_ws, capsys):
    from embeddings.text.corpus import get_corpus

    (get_corpus(demo_ws, "lee").path / "vocab.parquet").unlink()
    with pytest.raises(DamagedError, match="vocab.parquet is missing"):
        get_corpus(demo_ws, "lee").vocabulary()


def test_pages_list_a_damaged_space_and_keep_working(demo_ws, monkeypatch):
    _damage(demo_ws, "lee-word2vec", "truncated vectors")  # one of the Audit page's defaults
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(demo_ws.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    for page in ("pages/audit.py", "pages/neighbours.py", "pages/models.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.error or page == "pages/models.py", (page, [e.value for e in at.error])
        shown = " ".join(w.value for w in at.warning) + " ".join(e.value for e in at.error)
        if page != "pages/models.py":
            assert "damaged" in shown and "lee\\-word2vec" in shown or "lee-word2vec" in shown, shown
    at.switch_page("pages/audit.py").run()
    assert any("known" in m.value for m in at.metric)  # the audit ran on the other spaces


# -- 7. long jobs report progress and can be stopped -----------------------------------------------
@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_layouts_report_their_epochs_and_stop_when_asked(demo_ws, method):
    """UMAP's epochs (through umap-learn's tqdm hook) and openTSNE's iterations reach the
    progress callback in order; raising from it (what a Cancel does) stops the layout, and
    nothing is cached."""
    from sklearn.manifold import trustworthiness

    from embeddings.errors import Cancelled
    from embeddings.layout.projection import cached_project, project, select_rows
    from embeddings.store.space_store import load_space

    glove = load_space(demo_ws, "glove-50d")
    rows = select_rows(glove, top=1500)
    seen = []
    proj = project(glove, rows, method, seed=1, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] <= 1
    steps = [m for _, m in seen if " of " in m and ("epoch" in m or "iteration" in m)]
    assert len(steps) >= 5, seen
    x = np.asarray(glove.vectors[rows])
    assert proj.trustworthiness == pytest.approx(trustworthiness(x, proj.coords, n_neighbors=10, metric="cosine"),
                                                 abs=1e-9)
    assert proj.trustworthiness > 0.85

    def cancel_midway(f, m):
        if " of " in m and f > 0.45:
            raise Cancelled("stopped")

    before = len(demo_ws.list("projection"))
    with pytest.raises(Cancelled):
        cached_project(demo_ws, glove, rows[:1200], method, seed=1, progress=cancel_midway)
    assert len(demo_ws.list("projection")) == before

    # the cancelled layout left no lock behind once its thread ended: tqdm's lock (which
    # sentence-transformers' encoding takes for its bar) is free. It once stayed held forever.
    import threading

    from tqdm.auto import tqdm

    for thread in threading.enumerate():
        if thread.name == "projection-step":
            thread.join(120)
    for lock in tqdm.get_lock().locks:
        assert lock.acquire(timeout=10), "tqdm's lock is still held after a cancelled layout"
        lock.release()


def test_our_tsne_is_as_trustworthy_as_scikit_learns(demo_ws):
    from sklearn.manifold import TSNE, trustworthiness

    from embeddings.layout.methods import tsne_layout
    from embeddings.layout.projection import select_rows
    from embeddings.store.space_store import load_space

    glove = load_space(demo_ws, "glove-50d")
    x = np.asarray(glove.vectors[select_rows(glove, top=1000)])
    ours = trustworthiness(x, tsne_layout(x, {"perplexity": 30.0}, 1), n_neighbors=10, metric="cosine")
    theirs = trustworthiness(x, TSNE(perplexity=30, metric="cosine", init="pca", random_state=1).fit_transform(x),
                             n_neighbors=10, metric="cosine")
    assert ours > theirs - 0.03


def test_the_point_cap_is_said_before_the_run_and_a_large_panel_is_a_density_map(demo_ws, monkeypatch):
    """The cap is lowered to 100,000 here (it is 2,000,000): GloVe's 400k words are then capped,
    and the panel, above LARGE_MAP points, is drawn as a density image plus individual points."""
    from embeddings.layout import projection
    from embeddings.layout.maps import MAX_DRAWN

    monkeypatch.setattr(projection, "MAX_POINTS", 100_000)
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(demo_ws.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.switch_page("pages/projection.py").run()
    at.multiselect(key="pj_spaces").set_value(["glove-50d"])
    at.radio(key="pj_method").set_value("pca")
    at.selectbox(key="pj_mode").set_value("All").run()
    assert not at.exception
    captions = " ".join(c.value.replace("\\", "") for c in at.caption)    # the page shows md()'s escapes plain
    assert "400,000 labels: its 100,000 most frequent are shown" in captions
    assert f"100,000 of 100,000 points in this view: their density, and the {MAX_DRAWN:,} most frequent" in captions
    assert projection.estimate_seconds("umap", 100_000) > 20  # what the page says before a long run


def test_a_density_maps_pixels_count_what_numpys_histogram2d_counts():
    """maps.pixel_counts (arithmetic and one bincount) against np.histogram2d, with points on
    the edges and outside the extent."""
    from embeddings.layout.maps import density_png, pixel_counts

    rng = np.random.default_rng(3)
    xy = np.vstack([rng.normal(size=(200_000, 2)), [[-2.0, -2.0], [2.0, 2.0], [5.0, 0.0], [0.0, -9.0]]])
    extent = (-2.0, 2.0, -2.0, 2.0)
    ours = pixel_counts(xy.astype(np.float32), extent, 120, 160)
    theirs, _, _ = np.histogram2d(xy[:, 1].astype(np.float32), xy[:, 0].astype(np.float32), bins=(120, 160),
                                  range=((-2.0, 2.0), (-2.0, 2.0)))
    assert ours.shape == (120, 160) and np.array_equal(ours, theirs.astype(np.int64))
    import io

    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(density_png(xy, extent, pixels=160))))
    assert image.shape == (160, 160, 4)
    assert ((image[::-1, :, 3] > 0) == (pixel_counts(xy, extent, 160, 160) > 0)).all()  # drawn where counted
