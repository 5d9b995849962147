"""Every page in a real browser: Debian's Chromium driven by Playwright against a real
``streamlit run`` server on a fresh workspace (see the fixtures in conftest.py).

Screenshots land in artifacts/ (git-ignored)."""

import re

import pytest
from playwright.sync_api import expect

from embeddings.corpus import get_corpus
from embeddings.workspace import Workspace
from tests.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def metric(pg, label: str) -> str:
    box = pg.locator('[data-testid="stMetric"]').filter(has=pg.get_by_text(label, exact=True)).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_home_opens_on_the_demo(page, app_server):
    page.goto(app_server.url)
    wait_for_app(page)
    page.get_by_role("heading", name="Embedding Explorer").wait_for()
    assert metric(page, "Corpora") == "1"
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_contain_text(str(app_server.workspace))
    expect(sidebar).to_contain_text("1 corpora")
    nav = sidebar.locator('[data-testid="stSidebarNav"]')
    expect(nav).to_contain_text("Home")
    expect(nav).to_contain_text("Corpora")
    screenshot(page, "home")
    assert page.js_errors == []


def test_corpus_upload_shows_statistics(page, app_server, tmp_path):
    text = ("Word embeddings map each word to a vector. Similar words get similar vectors.\n\n"
            "Dr. Mikolov introduced word2vec in 2013. Vectors capture analogies such as king and queen.\n")
    upload = tmp_path / "embeddings-notes.txt"
    upload.write_text(text)
    page.goto(f"{app_server.url}/corpus")
    wait_for_app(page)
    page.get_by_role("heading", name="Corpora").first.wait_for()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    page.get_by_text("embeddings-notes.txt").first.wait_for()
    page.get_by_label("Corpus name").first.fill("notes")
    page.get_by_label("Corpus name").first.press("Enter")
    wait_for_app(page)
    page.locator("button:visible", has_text="Add corpus").first.click()
    page.get_by_text(re.compile(r"Added notes: 1 document, \d+ tokens")).wait_for()
    wait_for_app(page)
    saved = get_corpus(Workspace(app_server.workspace), "notes").stats
    assert metric(page, "Documents") == "1"
    assert metric(page, "Sentences") == str(saved["sentences"]) == "4"
    assert metric(page, "Tokens") == str(saved["tokens"])
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 1  # Zipf; one document: no histogram
    screenshot(page, "corpus-uploaded")
    assert page.js_errors == []


def test_corpus_bad_upload_shows_error(page, app_server, tmp_path):
    bad = tmp_path / "scan.txt"
    bad.write_bytes(b"\x00\x01\x02\x03" * 256)
    before = [a.name for a in Workspace(app_server.workspace).list("corpus")]
    page.goto(f"{app_server.url}/corpus")
    wait_for_app(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(bad))
    page.get_by_text("scan.txt").first.wait_for()
    wait_for_app(page)
    page.locator("button:visible", has_text="Add corpus").first.click()
    page.get_by_text("scan.txt looks like a binary file, not text.").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert [a.name for a in Workspace(app_server.workspace).list("corpus")] == before
    screenshot(page, "corpus-bad-upload")
