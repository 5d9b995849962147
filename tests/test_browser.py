"""Every page in a real browser: Debian's Chromium driven by Playwright against a real
``streamlit run`` server on a fresh workspace (see the fixtures in conftest.py).

Screenshots land in artifacts/ (git-ignored)."""

import re

import pytest
from playwright.sync_api import expect

from embeddings.store.workspace import Workspace
from embeddings.text.corpus import get_corpus
from tests.conftest import (
    assert_nothing_left_the_machine,
    guarded_context,
    layout_problems,
    screenshot,
    script_state,
    tables_fit,
    upload_on_corpus_page,
    wait_for_app,
    write_labelled_csv,
)

pytestmark = pytest.mark.browser


def expect_metric(pg, label: str, value: str) -> None:
    """Wait (Playwright's polling expect) until the metric called ``label`` shows ``value``."""
    box = pg.locator('[data-testid="stMetric"]').filter(has=pg.get_by_text(label, exact=True)).first
    expect(box.locator('[data-testid="stMetricValue"]')).to_have_text(value)


def test_home_opens_on_the_demo(page, app_server):
    page.goto(app_server.url)
    wait_for_app(page)
    page.get_by_role("heading", name="Embedding Explorer").wait_for()
    expect_metric(page, "Corpora", "2")
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_contain_text(str(app_server.workspace))
    expect(sidebar).to_contain_text("2 corpora")
    nav = sidebar.locator('[data-testid="stSidebarNav"]')
    expect(nav).to_contain_text("Home")
    expect(nav).to_contain_text("Corpora")
    screenshot(page, "home")
    assert page.js_errors == []


def test_wait_for_app_returns_only_when_the_scripts_run_is_over(page, app_server):
    """#27, item 6: the helper waits on the app's run state. A t-SNE of 400 words at a
    perplexity no other test uses takes a second or two; when the helper returns, the run is
    over and the panel is drawn, with no further waiting (the old helper returned at once)."""
    import random

    perplexity = round(random.uniform(20, 40), 2)
    page.goto(f"{app_server.url}/projection?spaces=lee-word2vec&method=tsne&pj_top=400&pj_perp={perplexity}")
    wait_for_app(page)
    assert script_state(page) == "notRunning"
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 1          # drawn, not pending
    page.get_by_label("Highlight a term in every panel").fill("government")
    page.get_by_label("Highlight a term in every panel").press("Enter")
    wait_for_app(page)                                                        # the action's rerun included
    assert script_state(page) == "notRunning"
    # (Plotly draws the new figure after the run: its DOM is polled, the script's state is not)
    expect(page.locator('[data-testid="stPlotlyChart"] .annotation-text')).to_contain_text("government")


def test_corpus_upload_shows_statistics(page, app_server, tmp_path):
    text = ("Word embeddings map each word to a vector. Similar words get similar vectors.\n\n"
            "Dr. Mikolov introduced word2vec in 2013. Vectors capture analogies such as king and queen.\n")
    upload = tmp_path / "embeddings-notes.txt"
    upload.write_text(text)
    upload_on_corpus_page(page, app_server.url, upload, "notes")
    # the preview runs before anything is saved (two sentences: no pair is frequent enough, no boilerplate)
    page.locator("button:visible", has_text="Preview").first.click()
    expect(page.get_by_text(re.compile(r"No phrase passes .* on all 2 documents"))).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"No boilerplate: no line is"))).to_be_visible()
    assert "notes" not in [a.name for a in Workspace(app_server.workspace).list("corpus")]
    page.locator("button:visible", has_text="Add corpus").first.click()
    page.get_by_text(re.compile(r"Added notes: 2 documents, \d+ tokens")).wait_for()   # one per paragraph
    wait_for_app(page)
    saved = get_corpus(Workspace(app_server.workspace), "notes").stats
    assert saved["sentences"] == 4 and saved["documents"] == 2
    expect_metric(page, "Documents", "2")
    expect_metric(page, "Sentences", "4")
    expect_metric(page, "Tokens", str(saved["tokens"]))
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(1)  # Zipf; two documents: no histogram
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


def test_models_train_word2vec_and_see_the_card(page, app_server):
    page.goto(f"{app_server.url}/models")
    wait_for_app(page)
    page.get_by_role("heading", name="Models").first.wait_for()
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Corpus").first.click()
    page.get_by_role("option", name="lee", exact=True).click()
    wait_for_app(page)
    page.get_by_role("spinbutton", name="Epochs").fill("40")
    page.get_by_role("spinbutton", name="Epochs").press("Enter")
    page.get_by_label("Space name").first.fill("browser-w2v")
    page.get_by_label("Space name").first.press("Enter")
    wait_for_app(page)
    page.locator("button:visible", has_text="Train").first.click()
    page.get_by_text(re.compile(r"Training browser-w2v: epoch \d+/40")).first.wait_for()
    expect(page.get_by_text(re.compile(r"Epoch \d+ of 40 · loss [\d,]+ · [\d.]+ s elapsed · [\d,]+ words/s"))
           ).to_be_visible()
    screenshot(page, "models-training")
    page.get_by_text("Trained browser-w2v").wait_for(timeout=120_000)
    wait_for_app(page)
    expect(page.locator('[data-testid="stProgress"]')).to_have_count(0)
    expect(page.get_by_role("heading", name="browser-w2v")).to_be_visible()  # the model card
    expect_metric(page, "Family", "word2vec")
    expect_metric(page, "Dimensions", "100")
    expect(page.get_by_text(re.compile(r"Words/s:"))).to_be_visible()
    saved = Workspace(app_server.workspace).get("space", "browser-w2v")
    assert saved.params["params"]["epochs"] == 40
    screenshot(page, "models-card")
    assert layout_problems(page) == {}          # the list of spaces fits at 1,280 px
    assert page.js_errors == []


def test_deep_link_on_a_fresh_server_goes_through_the_router(browser, demo_template, tmp_path):
    """The first session of a new server opening /models must get the app's router and
    sidebar, not Streamlit's legacy pages/ mode (which would list pages/common.py)."""
    from tests.conftest import ARTIFACTS, AppServer, assert_nothing_left_the_machine, copy_workspace, guarded_context

    server = AppServer(copy_workspace(demo_template, tmp_path / "ws"), ARTIFACTS / "deep-link-server.log")
    try:
        context = guarded_context(browser, viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        pg.goto(f"{server.url}/models")
        wait_for_app(pg)
        pg.get_by_role("heading", name="Models").first.wait_for()
        nav = pg.locator('[data-testid="stSidebarNav"]')
        expect(nav).to_contain_text("Corpora")
        expect(nav).not_to_contain_text("common")
        expect(pg.locator('[data-testid="stSidebar"]')).to_contain_text("11 spaces")
        context.close()
        assert_nothing_left_the_machine(context)
    finally:
        server.stop()


def test_projection_two_panels_and_a_highlighted_word(page, app_server):
    page.goto(f"{app_server.url}/projection?spaces=lee-word2vec,lee-minilm,glove-50d,lee-fasttext&method=pca")
    wait_for_app(page)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts).to_have_count(4, timeout=180_000)
    assert layout_problems(page) == {}                  # the four chips fit
    page.goto(f"{app_server.url}/projection?spaces=lee-word2vec,lee-minilm&method=pca")
    wait_for_app(page)
    expect(charts).to_have_count(2, timeout=180_000)
    expect(page.get_by_text(re.compile(r"^Trustworthiness [\d.]+ · kNN preservation"))).to_have_count(2)
    page.get_by_label("Highlight a term in every panel").fill("government")
    page.get_by_label("Highlight a term in every panel").press("Enter")
    wait_for_app(page)
    for i in range(2):
        expect(charts.nth(i).locator(".annotation-text")).to_contain_text("government", timeout=60_000)
    assert "highlight=government" in page.url  # shareable state
    screenshot(page, "projection")
    assert page.js_errors == []


def test_neighbours_expression_in_every_space(page, app_server):
    page.goto(f"{app_server.url}/neighbours")
    wait_for_app(page)
    page.get_by_label("Query", exact=True).fill("king - man + woman")
    page.get_by_label("Query", exact=True).press("Enter")
    wait_for_app(page)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts).to_have_count(4, timeout=60_000)
    expect(charts.nth(2)).to_contain_text("queen")  # GloVe's bar chart, best first
    expect(page.get_by_text("Query: king − man + woman")).to_be_visible()
    screenshot(page, "neighbours")
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(4)
    assert layout_problems(page) == {}           # four chips, and each table's cosine column, in view
    assert page.js_errors == []


def test_compare_with_domino_view(page, app_server):
    page.goto(f"{app_server.url}/compare?a=lee-word2vec&b=lee-minilm&k=10&label=sydney")
    wait_for_app(page)
    expect(page.get_by_text("Cross-family comparison")).to_be_visible(timeout=120_000)
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(1)
    expect(page.get_by_text("Only in lee-word2vec")).to_be_visible()
    expect(page.get_by_text("Only in lee-minilm")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Jaccard@10 [\d.]+ · ordered overlap"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Noise floor: lee-word2vec-stability"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("HTML report"))).to_be_visible()
    screenshot(page, "compare")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert tables_fit(page) == []
    assert page.js_errors == []


def test_bias_weat6_on_two_spaces_with_heatmap(page, app_server):
    page.goto(f"{app_server.url}/bias?spaces=glove-50d,lee-fasttext&tests=weat6")
    wait_for_app(page)
    page.get_by_role("heading", name="Bias probes").wait_for()
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts.first).to_contain_text("weat6", timeout=120_000)  # the heatmap's row
    expect(charts.first).to_contain_text("+1.71")                   # d on glove-50d, as in the paper's table
    expect(charts.first).to_contain_text("lee-fasttext")
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()  # the side-by-side table
    expect_metric(page, "effect size d", "+1.708")
    partitions = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("partitions", exact=True))
    expect(partitions).to_contain_text("12,870")
    expect(partitions).to_contain_text("exact")
    expect(charts.first).to_contain_text("[+1.50, +1.85]")           # d's bootstrap 95% interval, in the cell
    expect(page.get_by_text("Each word's leverage.")).to_be_visible()
    screenshot(page, "bias")
    # the other metrics: the heatmap follows the selector; all five side by side in one table
    page.get_by_text("Relative negative sentiment bias", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_text(re.compile("Sweeney & Najafian"))).to_be_visible(timeout=120_000)
    expect(charts.first).to_contain_text("weat6")
    expect(page.get_by_text(re.compile("^All five metrics"))).to_be_visible()
    screenshot(page, "bias-metrics")
    assert layout_problems(page) == {}
    assert page.js_errors == []


def test_audit_on_the_demo_corpus(page, app_server):
    page.goto(f"{app_server.url}/audit")
    wait_for_app(page)
    page.get_by_role("heading", name="Vocabulary audit").wait_for()
    # the page opens on the newest corpus; other tests of this server add corpora, so choose Lee
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="lee", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_text(re.compile(r"^50 terms · domain space lee-word2vec"))).to_be_visible(timeout=120_000)
    # the widgets show what the results used, not the corpus the page opened on (#25)
    expect(page.locator('[data-testid="stMultiSelect"]').first).to_contain_text("lee-word2vec")
    expect(page.locator('[data-testid="stSelectbox"]').nth(1).locator("input")).to_have_value("lee-word2vec")
    expect(page.locator('[data-testid="stSelectbox"]').nth(2).locator("input")).to_have_value(
        re.compile(r"^lee-word2vec-stability"))
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(3, timeout=60_000)
    box = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("glove-50d", exact=True)).first
    expect(box.locator('[data-testid="stMetricValue"]')).to_have_text(re.compile(r"^\d+% known$"))
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("HTML report"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Noise floor: lee-word2vec-stability"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"beyond lee-word2vec's own seed-to-seed noise")).first).to_be_visible()
    screenshot(page, "audit")
    assert layout_problems(page) == {}
    assert page.js_errors == []


def test_audit_measures_a_noise_floor_with_progress_and_cancel(page, app_server):
    """The demo has a stability study of its Word2Vec, not of its FastText: with FastText as the
    domain space the Audit offers to measure its noise; the runs show their progress, and
    Cancel ends them with nothing saved."""
    before = [a.name for a in Workspace(app_server.workspace).list("stability")]
    page.goto(f"{app_server.url}/audit?spaces=lee-fasttext,glove-50d")
    wait_for_app(page)
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="lee", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name=re.compile("Measure lee-fasttext's noise")).click()
    page.get_by_text(re.compile(r"Run [12] of 5: (training fasttext|epoch \d+)")).first.wait_for(timeout=120_000)
    screenshot(page, "audit-stability-progress")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text(re.compile("The stability study was cancelled; nothing was saved")).wait_for(timeout=60_000)
    assert [a.name for a in Workspace(app_server.workspace).list("stability")] == before
    assert page.js_errors == []


def test_choose_opens_on_a_leaderboard_with_its_pareto_chart(page, app_server):
    page.goto(f"{app_server.url}/choose")
    wait_for_app(page)
    page.get_by_role("heading", name="Leaderboard").wait_for(timeout=120_000)
    expect(page.get_by_text("saved result")).to_be_visible()
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.wait_for(timeout=60_000)
    expect(chart).to_contain_text("Pareto frontier")
    expect(chart).to_contain_text("pydocs-minilm")
    expect(page.get_by_text(re.compile(r"(is best on|of .* on) classification"))).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(3)     # leaderboard, pairs, readings
    screenshot(page, "choose")
    page.set_viewport_size({"width": 1280, "height": 900})                    # no column off-screen at 1,280 px
    page.get_by_text("Classification readings").click()
    wait_for_app(page)
    assert tables_fit(page) == []
    assert page.js_errors == []



def test_choose_on_an_uploaded_csv_with_the_tfidf_baseline(page, app_server, tmp_path):
    """A user's own labelled CSV: uploaded on the Corpora page, benchmarked on the Choose page."""
    upload = tmp_path / "tickets.csv"
    docs = write_labelled_csv(upload, "body", "team")
    upload_on_corpus_page(page, app_server.url, upload, "tickets")
    page.locator("button:visible", has_text="Add corpus").first.click()
    page.get_by_text(re.compile(r"Added tickets: \d+ documents")).wait_for(timeout=120_000)
    page.goto(f"{app_server.url}/choose")
    wait_for_app(page)
    page.get_by_role("heading", name="Choose an embedding").wait_for()
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="tickets").click()
    wait_for_app(page)
    # the sparse TF-IDF alone; the demo's leaderboard stays (faded) until this one replaces it
    expect(page.get_by_text(f"{len(docs):,} of {len(docs):,} documents, 3 classes")).to_be_visible(timeout=180_000)
    only = re.compile(r"tfidf \(sparse\) scores macro-F1 0\.\d+ ± 0\.\d+ on classification")
    expect(page.get_by_text(only)).to_be_visible()
    screenshot(page, "choose-upload")
    assert page.js_errors == []


def test_evaluate_two_spaces_side_by_side(page, app_server):
    page.goto(f"{app_server.url}/evaluate?spaces=glove-50d,lee-word2vec")
    wait_for_app(page)
    page.get_by_role("heading", name="Evaluate").wait_for()
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    expect(chart).to_contain_text("0.503", timeout=120_000)   # GloVe's Spearman on WordSim-353
    expect(chart).to_contain_text("n 353/353")
    expect(chart).to_contain_text("lee-word2vec")
    # lee-word2vec knows few SimLex words: its bar is hatched (a plotly pattern) and not ranked
    expect(chart).to_contain_text("not ranked")
    assert chart.locator("defs pattern, [fill^='url(#']").count() > 0
    expect(page.get_by_text("Not ranked (under half the items answered)")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(1)
    screenshot(page, "evaluate")
    assert layout_problems(page) == {}
    assert page.js_errors == []


# -- issue #10: hostile names, reports offline, cancel ---------------------------------------------
SPACE_PAYLOAD = '<iframe srcdoc="<script>parent.alert(13)</script>"></iframe>'
CORPUS_PAYLOAD = "<img src=x onerror=alert(7)>![p](http://203.0.113.9/p.png)"
FILE_PAYLOAD = "<svg onload=alert(5)>.txt"
LABEL_PAYLOADS = ["<img/src=x/onerror=alert(1)>", "![x](http://203.0.113.9/x.png)", ":red[x]",
                  "<b>bold</b>", "&amp;", "http://example.com/x", "www.example.com", "user@example.com"]
#: a second space's name: bare links and a colour directive (#26, item 2)
LINK_PAYLOAD = "tf http://example.com/phish :red[x] user@example.com www.example.com"
# what a rendered payload would leave in the DOM (Streamlit itself puts none of these there)
INJECTED = "[onerror], [onload], iframe[srcdoc], img[src='x'], img[src^='http://203.0.113.9']"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, demo_template):
    """A server on a copy of the demo workspace plus a corpus, a file, a space and labels named
    with script and Markdown payloads."""
    from embeddings.models.vectors import import_vectors
    from embeddings.readers import Source
    from embeddings.store.space_store import load_space, save_space
    from embeddings.text.corpus import add_corpus
    from tests.conftest import ARTIFACTS, AppServer, _require_chromium, copy_workspace

    _require_chromium()
    root = copy_workspace(demo_template, tmp_path_factory.mktemp("hostile") / "ws")
    ws = Workspace(root)
    text = ("The government met the minister. " * 40 + " ".join(LABEL_PAYLOADS) + ".\n").encode()
    add_corpus(ws, CORPUS_PAYLOAD, sources=[Source(FILE_PAYLOAD, text)])
    glove = load_space(ws, "glove-50d")
    words = ["government", "minister", "police", "people", "president", "country", "king", "queen", "man",
             "woman", "city", "state", "week", "year", "said", "australia", "sydney", "fire", "election", "party"]
    lines = [f"{w} " + " ".join(f"{v:.5f}" for v in glove.vector(w)) for w in words]
    base = glove.vector("government")
    lines += [f"{p} " + " ".join(f"{v + 0.01 * (i + 1):.5f}" for v in base) for i, p in enumerate(LABEL_PAYLOADS)]
    vec = tmp_path_factory.mktemp("vec") / "hostile.vec"
    vec.write_text(f"{len(lines)} {glove.dim}\n" + "\n".join(lines) + "\n")
    save_space(ws, import_vectors(vec, "word2vec", SPACE_PAYLOAD))
    save_space(ws, import_vectors(vec, "word2vec", LINK_PAYLOAD))
    server = AppServer(root, ARTIFACTS / "hostile-server.log")
    yield server
    server.stop()


def _assert_rendered_as_text(pg, must_show: list[str]) -> None:
    wait_for_app(pg)
    pg.wait_for_timeout(1500)  # let plotly draw its SVG text
    assert pg.locator(INJECTED).count() == 0, pg.locator(INJECTED).first.evaluate("e => e.outerHTML")
    # no link off the page, no coloured text: a name's URL, e-mail or :red[...] is text (#26)
    away = pg.evaluate("() => [...document.querySelectorAll('a[href]')].filter(a => !a.href.startsWith("
                       "location.origin) && !a.href.startsWith('about:')).map(a => a.parentElement.outerHTML)")
    assert away == [], (pg.url, away)
    assert pg.locator(".stMarkdownColoredText").count() == 0
    for text in must_show:  # in page text (a selectbox's value is not: names there are checked by the rest)
        expect(pg.get_by_text(text, exact=False).first).to_be_attached(timeout=30_000)
    assert pg.locator("[data-testid='stException']").count() == 0


def test_script_and_markdown_in_names_and_labels_render_as_text(browser, hostile_server):
    """Every page that shows the hostile names and labels: no dialog, no injected element, no
    request to another host (the guarded context), and the payloads visible as literal text."""
    from urllib.parse import quote

    from tests.conftest import assert_nothing_left_the_machine, guarded_context

    context = guarded_context(browser, viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    url, sp, label = hostile_server.url, quote(SPACE_PAYLOAD), quote(LABEL_PAYLOADS[0])
    visits = [
        ("", []),
        ("/corpus", [FILE_PAYLOAD]),
        (f"/projection?spaces={sp}&method=pca&highlight={label}", [SPACE_PAYLOAD]),
        (f"/neighbours?spaces={sp},glove-50d&q={label}", [SPACE_PAYLOAD, LABEL_PAYLOADS[0]]),
        (f"/compare?a={sp}&b=glove-50d&label=government", [SPACE_PAYLOAD]),
        (f"/bias?spaces={sp},glove-50d&tests=weat6", [SPACE_PAYLOAD]),
        (f"/bias?spaces={quote(LINK_PAYLOAD)},glove-50d&tests=weat6", []),
        (f"/neighbours?spaces={quote(LINK_PAYLOAD)}&q=government", []),
        (f"/audit?spaces={sp},glove-50d", [SPACE_PAYLOAD]),
        (f"/evaluate?spaces={sp},glove-50d", []),
        ("/models", []),
    ]
    for path, shown in visits:
        pg.goto(url + path)
        _assert_rendered_as_text(pg, shown)
    # the model card of the hostile space: type into the card selector to filter, then take the match
    picker = pg.get_by_label("Model card")
    picker.click()
    picker.press_sequentially("iframe")
    picker.press("Enter")
    _assert_rendered_as_text(pg, [SPACE_PAYLOAD])
    expect(pg.get_by_role("heading", name=SPACE_PAYLOAD)).to_be_visible()
    icon = pg.evaluate("() => document.querySelector(\"link[rel~='icon']\").href")
    assert icon.startswith(url), icon  # the favicon is served by the app itself
    screenshot(pg, "hostile-names")
    context.close()
    assert_nothing_left_the_machine(context)


def test_exported_reports_open_offline_and_escape_names(browser, demo_ws, tmp_path):
    """The three HTML reports, written with hostile names, opened from disk in a guarded
    browser: plotly draws (inlined, no CDN), nothing is fetched, nothing is injected."""
    import pandas as pd

    from embeddings import bias
    from embeddings.analysis.audit import audit
    from embeddings.analysis.neighbours import compare
    from embeddings.figures.reports import audit_report, bias_report, compare_report
    from embeddings.store.space_store import load_space
    from embeddings.text.corpus import get_corpus
    from tests.conftest import assert_nothing_left_the_machine, guarded_context

    glove, w2v = load_space(demo_ws, "glove-50d"), load_space(demo_ws, "lee-word2vec")
    reports = {
        "compare.html": compare_report(compare(w2v, glove, 5, max_labels=500), SPACE_PAYLOAD, LABEL_PAYLOADS[1],
                                       examples=["government"]),
        "bias.html": bias_report(pd.DataFrame([bias.weat(glove, bias.builtin_tests()[5]).row()]),
                                 [bias.builtin_tests()[5]]),
        "audit.html": audit_report(audit(get_corpus(demo_ws, "lee"), [w2v, glove], LABEL_PAYLOADS + ["government"],
                                         k=5)),
    }
    context = guarded_context(browser, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    for name, body in reports.items():
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        pg.goto(path.as_uri())
        pg.wait_for_selector(".plotly-graph-div .main-svg", timeout=30_000)
        assert pg.locator(INJECTED).count() == 0, name
        # it fits a laptop screen and reads as prose: no NaN, None or True/False in its tables
        width = pg.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1280, (name, width)
        cells = pg.locator("td").all_inner_texts()
        assert not {"nan", "NaN", "None", "True", "False", "<NA>"} & set(cells), name
    expect(pg.get_by_text(LABEL_PAYLOADS[0]).first).to_be_attached()  # the audit's term table, as text
    context.close()
    assert_nothing_left_the_machine(context)


def test_projection_shows_progress_with_eta_and_can_be_cancelled(page, app_server):
    """t-SNE of 8,000 GloVe words: the bar shows the stage, the percentage and the time left;
    Cancel stops it, nothing is cached, and the page waits for Run again."""
    before = len(Workspace(app_server.workspace).list("projection"))
    page.goto(f"{app_server.url}/projection?spaces=glove-50d&method=tsne&pj_top=8000")   # the run starts at once
    page.get_by_text(re.compile(r"t-SNE layout, iteration [\d,]+ of 750 · \d+% · about .* left")).first.wait_for(
        timeout=180_000)
    screenshot(page, "projection-progress")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("The projection was cancelled; nothing was saved.").wait_for(timeout=60_000)
    expect(page.get_by_role("button", name="Run again")).to_be_visible()
    assert len(Workspace(app_server.workspace).list("projection")) == before
    assert page.js_errors == []


def test_bias_debias_stays_on_its_tab_and_reads_honestly(page, app_server):
    """The tab is in the URL; Debias reruns the page and it stays on the tab; the removed
    direction reads '0 by construction' beside the recomputed one and the clustering check."""
    page.goto(f"{app_server.url}/bias?bias_tab=Hard+debias")
    wait_for_app(page)
    tab = page.get_by_role("tab", name="Hard debias")
    expect(tab).to_have_attribute("aria-selected", "true")
    page.get_by_role("button", name="Debias").click()
    expect(page.get_by_text("0 by construction")).to_be_visible(timeout=120_000)
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("k-means accuracy after")).to_be_visible()
    assert "bias_tab=Hard+debias" in page.url or "bias_tab=Hard%20debias" in page.url
    screenshot(page, "bias-debias")
    assert page.js_errors == []


def _click_shared_point(pg, chart, other):
    """Click a point of ``chart`` whose label ``other`` draws too (its screen position from
    plotly's axes), the one with most room around it, so the click cannot land on a neighbour.
    Which words both panels hold depends on the seeded demo (Word2Vec's
    threads are not deterministic), so the test asks the page rather than naming one."""
    plot = chart.locator(".js-plotly-plot")
    drawn = other.locator(".js-plotly-plot").evaluate(
        "gd => gd._fullData.flatMap(t => (t.customdata || []).map(c => c[0]))")
    # of the first 300 shared points, the one farthest from any other point, so the click hits it
    pos = plot.evaluate("""(gd, drawn) => { const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const there = new Set(drawn), all = [], shared = [];
        for (const t of gd._fullData) { if (!t.customdata) continue;
          for (let i = 0; i < t.x.length; i++) {
            const p = {x: xa._offset + xa.l2p(t.x[i]), y: ya._offset + ya.l2p(t.y[i]), label: t.customdata[i][0]};
            all.push(p); if (there.has(p.label) && shared.length < 300) shared.push(p); } }
        let best = null, room = -1;
        for (const p of shared) { let near = Infinity;
          for (const q of all) if (q !== p) near = Math.min(near, Math.hypot(p.x - q.x, p.y - q.y));
          if (near > room) { room = near; best = p; } }
        return best; }""", drawn)
    assert pos, "no label is drawn in both panels"
    box = plot.bounding_box()
    pg.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
    return pos["label"]


def test_projection_labelled_map_click_selection_and_full_deep_link(page, app_server, browser):
    """#11: cluster names on the map; a click in one panel rings the point in the other and
    lists its neighbours in both spaces; the whole view reopens from its link in a new
    browser context."""
    from tests.conftest import assert_nothing_left_the_machine, guarded_context

    page.goto(f"{app_server.url}/projection?spaces=lee-word2vec,glove-50d&method=pca")
    wait_for_app(page)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts).to_have_count(2, timeout=180_000)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Colour by").click()
    page.get_by_role("option", name="cluster (KMeans)", exact=True).click()
    wait_for_app(page)
    page.get_by_role("spinbutton", name="Label top words").fill("10")
    page.get_by_role("spinbutton", name="Label top words").press("Enter")
    wait_for_app(page)
    for i in range(2):   # twelve clusters, each named on the map
        expect(charts.nth(i).locator(".annotation-text")).to_have_count(12, timeout=60_000)
    expect(charts.first.locator(".textpoint")).to_have_count(10)     # the ten most frequent words
    screenshot(page, "projection-labelled")

    charts.first.scroll_into_view_if_needed()
    label = _click_shared_point(page, charts.first, charts.nth(1))
    expect(page.get_by_text("selected: its 10 nearest neighbours in each space")).to_be_visible(timeout=60_000)
    wait_for_app(page)
    for i in range(2):   # ringed in both panels (a "selected" trace in each legend)
        expect(charts.nth(i).locator(".legendtext", has_text="selected")).to_have_count(1, timeout=60_000)
    table = page.locator('[data-testid="stDataFrame"]').last
    expect(table).to_be_visible()
    assert label

    # the full view in the URL: open the link from "Copy link" in a fresh context
    page.get_by_role("button", name="Copy link").click()
    link = page.locator('[data-testid="stCode"]').last.inner_text().strip()
    assert "pj_colour=cluster" in link and "pj_labels=10" in link and "method=pca" in link
    fresh = guarded_context(browser, viewport={"width": 1400, "height": 1000})
    try:
        pg2 = fresh.new_page()
        pg2.goto(link)
        wait_for_app(pg2)
        charts2 = pg2.locator('[data-testid="stPlotlyChart"]')
        expect(charts2).to_have_count(2, timeout=180_000)
        expect(pg2.get_by_role("combobox", name="Colour by")).to_have_value("cluster (KMeans)")
        expect(pg2.get_by_role("spinbutton", name="Label top words")).to_have_value("10")
        expect(pg2.get_by_role("radio", name="PCA")).to_be_checked()
        expect(charts2.first.locator(".annotation-text")).to_have_count(12, timeout=60_000)
    finally:
        fresh.close()
    assert_nothing_left_the_machine(fresh)
    assert page.js_errors == []


# -- customising an encoder and words in context (#14) ---------------------------------------------
def test_fine_tune_shows_progress_per_step_and_can_be_cancelled(page, app_server):
    """A SimCSE run on Lee: the bar names the step, the loss, the percentage and the time
    left; Cancel stops it and nothing is saved."""
    before = len(Workspace(app_server.workspace).list("space"))
    page.goto(f"{app_server.url}/customise?cu_tab=Fine-tune")
    wait_for_app(page)
    expect(page.get_by_role("tab", name="Fine-tune")).to_have_attribute("aria-selected", "true")
    # the form opens on the session's corpus, here the newest (other tests add corpora): choose Lee
    page.get_by_role("combobox", name="Corpus").first.click()
    page.get_by_role("option", name="lee", exact=True).click()
    wait_for_app(page)
    budget = page.get_by_role("spinbutton", name="Training texts, at most")
    budget.fill("2000")
    budget.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Fine-tune", exact=True).click()
    page.get_by_text(re.compile(r"Fine-tuning: step [\d,]+ of [\d,]+ · loss [\d.e+-]+ · \d+% · about .* left")) \
        .first.wait_for(timeout=180_000)
    screenshot(page, "customise-progress")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Fine-tuning was cancelled; nothing was saved.").wait_for(timeout=60_000)
    assert len(Workspace(app_server.workspace).list("space")) == before
    assert page.js_errors == []


def test_before_and_after_of_the_demo_fine_tune(page, app_server):
    page.goto(f"{app_server.url}/customise")
    wait_for_app(page)
    page.get_by_role("heading", name="Task scores on the held-out documents").wait_for(timeout=180_000)
    expect(page.get_by_text(re.compile(r"Every space is scored on the [\d,]+ labelled held-out documents"))) \
        .to_be_visible()
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts).to_have_count(2, timeout=60_000)  # the charts come after the tables; a loaded machine is slow
    expect(charts.nth(1)).to_contain_text("training loss", timeout=60_000)
    expect(page.get_by_role("heading", name="How far the domain's words moved")).to_be_visible()
    screenshot(page, "customise-before-after")
    assert layout_problems(page) == {}
    assert page.js_errors == []


def test_words_in_context_on_the_demo_term(page, app_server):
    page.goto(f"{app_server.url}/context")
    wait_for_app(page)
    page.get_by_role("heading", name="Words in context").wait_for()
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=120_000)
    expect_metric(page, "Senses", "2")
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_contain_text("sense 1")
    expect(page.get_by_text("West Bank", exact=False).first).to_be_visible()
    screenshot(page, "context")
    assert page.js_errors == []


def test_making_a_document_space_shows_its_progress_and_can_be_cancelled(page, app_server):
    """MiniLM over every document of the labelled sample: the bar names the stage and the
    percentage; Cancel stops it, the page says so, and no space is saved (#25)."""
    before = [a.name for a in Workspace(app_server.workspace).list("space")]
    page.goto(f"{app_server.url}/choose")
    wait_for_app(page)
    page.get_by_role("heading", name="Leaderboard").wait_for(timeout=120_000)
    page.get_by_text("Make a document space from this corpus").click()
    page.get_by_text("Sentence encoder over each document").click()
    wait_for_app(page)
    page.get_by_role("button", name="Make it").click()
    page.get_by_text(re.compile(r"Making python-docs-minilm: .* · \d+%")).first.wait_for(timeout=120_000)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Making python-docs-minilm was cancelled; nothing was saved.").wait_for(timeout=60_000)
    assert [a.name for a in Workspace(app_server.workspace).list("space")] == before
    assert page.js_errors == []


def test_a_catastrophic_pattern_in_a_link_stalls_no_other_visitor(browser, app_server):
    """#26, item 1: the link that froze the server. Its pattern backtracks for minutes in
    Python's re; matched by RE2, the page says no label matches, and a second visitor's Home
    page loads meanwhile."""
    import time

    first, second = (guarded_context(browser, viewport={"width": 1400, "height": 1000}) for _ in range(2))
    attacker, visitor = first.new_page(), second.new_page()
    attacker.goto(f"{app_server.url}/projection?spaces=lee-word2vec&pj_mode=Regex"
                  "&pj_regex=(%5Cw%7C%5Cw%7C%5Cw%7C%5Cw)*!")
    start = time.monotonic()
    visitor.goto(f"{app_server.url}/")
    wait_for_app(visitor)
    expect(visitor.get_by_role("heading", name="Embedding Explorer")).to_be_visible()
    assert time.monotonic() - start < 10, "the other visitor's page waited on the pattern"
    wait_for_app(attacker)
    expect(attacker.get_by_text(re.compile(r"No label of lee-word2vec matches"))).to_be_visible(timeout=30_000)
    for context in (first, second):
        context.close()
        assert_nothing_left_the_machine(context)
