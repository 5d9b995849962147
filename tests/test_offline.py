"""The ingest flow runs with every outgoing internet socket blocked in-process."""

import os
import socket

import pytest

from embeddings.readers import Source
from embeddings.text.corpus import add_corpus
from embeddings.text.preprocess import Preprocessing
from embeddings.text.samples import SAMPLES
from tests.conftest import ROOT, make_docx, make_pdf, make_zip


def test_the_block_is_real(no_network):
    with pytest.raises(OSError, match="blocked"):
        socket.create_connection(("pypi.org", 443), timeout=2)
    with pytest.raises(OSError, match="blocked"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("93.184.216.34", 80))


def test_ingest_every_format_and_the_samples_offline(ws, no_network):
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    sources = [
        Source("a.txt", b"Plain text about embeddings."),
        Source("b.csv", b"text,label\nA row of text.,x\n"),
        Source("c.jsonl", b'{"text": "A json line."}\n'),
        Source("d.html", b"<p>Some html.</p>"),
        Source("e.pdf", make_pdf(["A pdf page."])),
        Source("f.docx", make_docx(["A docx paragraph."])),
        Source("g.zip", make_zip({"h.md": b"Zipped *markdown*."})),
    ]
    c = add_corpus(ws, "offline", sources=sources, preprocessing=Preprocessing(phrases="bigrams"))
    assert c.stats["documents"] == 7
    for key, sample in SAMPLES.items():
        add_corpus(ws, key, documents=sample.load(), preprocessing=Preprocessing(phrases="trigrams"))
    assert [x.name for x in ws.list("corpus")] == ["offline", *SAMPLES]
    assert no_network == []  # nothing even tried


def test_corpus_page_offline(demo_ws, monkeypatch, no_network):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(demo_ws.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/corpus.py").run()
    at.file_uploader(key="uploads").set_value(("n.txt", b"Offline words here.", "text/plain")).run()
    at.text_input(key="upload_name").input("n").run()
    at.button(key="add_upload").click().run()
    assert not at.exception and not at.error
    assert "Added **n**" in at.success[0].value
    assert no_network == []


def test_streamlit_config_keeps_the_app_local():
    """No usage statistics, no external-IP lookup (Streamlit asks checkip.amazonaws.com
    unless an address is set), and the server listens on this machine only."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["browser"]["serverAddress"] == "localhost"
    assert config["server"]["address"] == "localhost"


def test_make_run_style_server_does_not_look_up_an_external_ip(tmp_path):
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.conftest import _free_port

    port = _free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as fh:  # as `make run` starts it: only the port on the command line
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
                                cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT,
                                env={**os.environ, "EMBEDDINGS_WORKSPACE": str(tmp_path / "ws")})
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        time.sleep(1)
    finally:
        proc.terminate()
        proc.wait(10)
    text = log.read_text()
    assert f"  URL: http://localhost:{port}" in text
    # the fallback branch that prints "Network URL" is the one that looks up the external IP
    assert "Network URL" not in text and "External URL" not in text and "auto detect external IP" not in text
