"""AppTest for every page, driven from app.py with switch_page."""

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from embeddings.store.workspace import Workspace
from embeddings.text.corpus import get_corpus
from tests.conftest import ROOT, copy_workspace, make_docx


@pytest.fixture
def app(demo_ws, monkeypatch):
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(demo_ws.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.workspace = demo_ws
    return at.run()


def assert_clean(at):
    assert not at.exception, at.exception
    assert not [e.value for e in at.error], [e.value for e in at.error]


def metrics(at):
    return {m.label: m.value for m in at.metric}


def test_first_start_seeds_the_demo_once(demo_template, tmp_path, monkeypatch):
    """The worker's whole demo, in the order the pages need it; a start on it seeds nothing
    again, shows no panel, and no error."""
    ws = Workspace(demo_template)
    assert [c.name for c in ws.list("corpus")] == ["lee", "python-docs"]
    assert [s.name for s in ws.list("space")] == ["lee-word2vec", "glove-50d", "lee-minilm", "lee-fasttext",
                                                  "pydocs-word2vec", "pydocs-word2vec-sif", "pydocs-glove-sif",
                                                  "pydocs-tfidf", "pydocs-minilm", "pydocs-minilm-supervised",
                                                  "pydocs-minilm-static"]
    assert len(ws.list("projection")) == 2  # the Projection page's opening layouts, cached
    assert len(ws.list("benchmark")) == 2   # the Choose page's opening benchmark, then with the customised spaces
    assert [a.name for a in ws.list("stability")] == ["lee-word2vec-stability"]  # the Audit's noise floor
    copy = Workspace(copy_workspace(demo_template, tmp_path / "ws"))
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(copy.root))
    monkeypatch.setenv("EMBEDDINGS_DEMO", "background")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert_clean(at)
    assert metrics(at)["Corpora"] == "2" and metrics(at)["Embedding spaces"] == "11"
    assert not [h for h in at.subheader if h.value == "Preparing the demo"]
    assert not (copy.root / ".demo-status.json").exists()      # no worker was started on a seeded workspace


def test_projection_page_opens_instantly_on_the_demo(app):
    app.switch_page("pages/projection.py").run()
    assert_clean(app)
    trust = [c.value for c in app.caption if c.value.startswith("Trustworthiness")]
    assert len(trust) == 2 and all(t.endswith("cached") for t in trust)


def test_home_opens_on_the_seeded_demo(app):
    assert_clean(app)
    assert app.title[0].value == "Embedding Explorer"
    assert metrics(app)["Corpora"] == "2"
    table = app.dataframe[0].value.set_index("name")
    assert list(table.index) == ["lee", "python-docs"] and int(table.loc["lee", "documents"]) == 300
    assert str(app.workspace.root) in app.sidebar.code[0].value


def test_corpus_page_shows_statistics_of_the_demo(app):
    app.switch_page("pages/corpus.py").run()
    assert_clean(app)
    m = metrics(app)
    assert m["Documents"] == "300" and m["Vocabulary"] == f"{get_corpus(app.workspace, 'lee').stats['vocabulary']:,}"
    assert len(app.get("plotly_chart")) == 2  # Zipf and document lengths


def test_upload_csv_with_column_choice(app):
    app.switch_page("pages/corpus.py").run()
    app.file_uploader(key="uploads").set_value(
        ("reviews.csv", b"id,review,stars\n1,A moving and beautiful film.,5\n2,Too long and dull.,2\n", "text/csv")
    ).run()
    field = app.selectbox(key="field_reviews.csv")
    assert field.value == "review" and set(field.options) == {"id", "review", "stars"}
    app.button(key="add_upload").click().run()
    assert_clean(app)
    assert "Added **reviews**" in app.success[0].value
    page_made = get_corpus(app.workspace, "reviews")
    docs = page_made.documents()
    assert list(docs["meta.stars"]) == ["5", "2"]
    assert metrics(app)["Documents"] == "2"  # the new corpus is selected for inspection
    # the CLI's defaults are the form's: the same file gives the same corpus
    from embeddings.cli import main

    csv = app.workspace.root.parent / "reviews.csv"
    csv.write_bytes(b"id,review,stars\n1,A moving and beautiful film.,5\n2,Too long and dull.,2\n")
    assert main(["--workspace", str(app.workspace.root), "corpus", "add", str(csv), "--name", "cli-reviews",
                 "--text-column", "review", "--quiet"]) == 0
    cli_made = get_corpus(app.workspace, "cli-reviews")
    assert cli_made.params["preprocessing"] == page_made.params["preprocessing"]
    assert {k: cli_made.stats[k] for k in ("documents", "sentences", "tokens", "vocabulary")} == \
        {k: page_made.stats[k] for k in ("documents", "sentences", "tokens", "vocabulary")}


def test_bad_upload_shows_error_and_keeps_saved_corpora(app):
    app.switch_page("pages/corpus.py").run()
    app.file_uploader(key="uploads").set_value(("scan.txt", b"\x00\x01\x02\x03" * 100, "text/plain")).run()
    app.button(key="add_upload").click().run()
    assert not app.exception
    assert any("binary" in e.value for e in app.error)
    assert [c.name for c in app.workspace.list("corpus")] == ["lee", "python-docs"]


def test_several_files_at_once_and_duplicate_name(app):
    app.switch_page("pages/corpus.py").run()
    app.file_uploader(key="uploads").set_value([
        ("a.txt", b"First file text.", "text/plain"),
        ("b.docx", make_docx(["Second file text."]), "application/octet-stream"),
    ]).run()
    app.text_input(key="upload_name").input("lee").run()
    app.button(key="add_upload").click().run()
    assert any("already exists" in e.value for e in app.error)
    app.text_input(key="upload_name").input("two").run()
    app.button(key="add_upload").click().run()
    assert_clean(app)
    assert get_corpus(app.workspace, "two").stats["documents"] == 2


def test_paste_text(app):
    app.switch_page("pages/corpus.py").run()
    app.text_area(key="paste_text").input("Alpha beta gamma.\nDelta epsilon.").run()
    app.checkbox(key="paste_lines").check().run()
    app.text_input(key="paste_name").input("pasted").run()
    app.button(key="add_paste").click().run()
    assert_clean(app)
    assert get_corpus(app.workspace, "pasted").stats["documents"] == 2


def test_sample_with_preprocessing_options(app):
    app.workspace.delete("corpus", "python-docs")     # the demo's copy (the sample's default name)
    app.switch_page("pages/corpus.py").run()
    app.radio(key="sample_key").set_value("python-docs").run()
    app.checkbox(key="pp_stop").check().run()
    app.selectbox(key="pp_phrases").set_value("none").run()
    app.button(key="add_sample").click().run()
    assert_clean(app)
    c = get_corpus(app.workspace, "python-docs")
    assert c.params["preprocessing"]["stopwords"] is True and c.params["preprocessing"]["phrases"] == "none"
    assert "the" not in set(c.vocabulary()["term"])


def test_rename_and_delete(app):
    app.switch_page("pages/corpus.py").run()
    corpus_id = app.workspace.get("corpus", "lee").id
    app.text_input(key=f"rename_{corpus_id}").input("news").run()
    app.button(key="rename_btn").click().run()
    assert_clean(app)
    assert [c.name for c in app.workspace.list("corpus")] == ["news", "python-docs"]
    assert app.button(key="delete_btn").disabled
    app.checkbox(key=f"confirm_delete_{corpus_id}").check().run()
    app.button(key="delete_btn").click().run()
    assert_clean(app)
    assert [c.name for c in app.workspace.list("corpus")] == ["python-docs"]   # the other one is shown now
    assert metrics(app)["Documents"] == f"{get_corpus(app.workspace, 'python-docs').stats['documents']:,}"


# -- Models page ------------------------------------------------------------------------
def test_models_page_lists_the_seeded_spaces_with_cards(app):
    app.switch_page("pages/models.py").run()
    assert_clean(app)
    table = app.dataframe[0].value
    assert list(table["name"]) == ["lee-word2vec", "glove-50d", "lee-minilm", "lee-fasttext", "pydocs-word2vec",
                                   "pydocs-word2vec-sif", "pydocs-glove-sif", "pydocs-tfidf", "pydocs-minilm",
                                   "pydocs-minilm-supervised", "pydocs-minilm-static"]
    assert table.loc[table["name"] == "glove-50d", "size"].iloc[0] == "400,000 terms"
    m = metrics(app)
    assert m["Family"] == "word2vec" and m["Dimensions"] == "100"
    # nothing reads "None", parameters are a table in words, not JSON
    assert "None" not in table.astype(str).to_numpy() and table.loc[table["name"] == "glove-50d", "derived"].iloc[0] == "—"
    params = next(d.value for d in app.dataframe if list(d.value.columns) == ["parameter", "value"])
    row = dict(zip(params["parameter"], params["value"]))
    assert row["architecture"] == "skip-gram" and row["min count"] == "3" and row["epochs"] == "10"
    assert not app.get("json")
    # the training form starts from the demo's settings (TrainParams)
    assert app.radio(key="train_arch").value == "Skip-gram" and app.number_input(key="train_min_count").value == 3
    assert app.number_input(key="train_epochs").value == 10


def test_models_page_trains_word2vec_and_shows_its_card(app):
    app.switch_page("pages/models.py").run()
    app.number_input(key="train_dim").set_value(24).run()
    app.number_input(key="train_epochs").set_value(2).run()
    app.text_input(key="train_name").input("w2v-24").run()
    app.button(key="train_btn").click().run()
    assert_clean(app)
    assert "Trained **w2v-24**" in app.success[0].value
    s = app.workspace.get("space", "w2v-24")
    assert s.summary["dim"] == 24 and s.params["params"]["epochs"] == 2
    assert not any("cancelled" in w.value for w in app.warning)


def test_models_page_ppmi_glove_and_reduce(app):
    app.switch_page("pages/models.py").run()
    app.radio(key="train_family").set_value("ppmi-svd").run()
    app.number_input(key="train_dim").set_value(20).run()
    app.button(key="train_btn").click().run()
    assert_clean(app)
    assert app.workspace.get("space", "lee-ppmi-svd-20d").summary["family"] == "ppmi-svd"
    app.radio(key="pre_kind").set_value("GloVe 6B 50-d (400k words)").run()
    app.number_input(key="glove_top").set_value(5000).run()
    app.text_input(key="glove_name").input("glove-5k").run()
    app.button(key="glove_btn").click().run()
    assert_clean(app)
    assert app.workspace.get("space", "glove-5k").summary["vocabulary"] == 5000
    app.selectbox(key="reduce_source").set_value("glove-5k").run()
    app.number_input(key="reduce_dim").set_value(5).run()
    app.button(key="reduce_btn").click().run()
    assert_clean(app)
    assert app.workspace.get("space", "glove-5k-pca5").params["parent_name"] == "glove-5k"


def test_models_page_import_refuses_a_pickle_and_accepts_vectors(app):
    app.switch_page("pages/models.py").run()
    app.file_uploader(key="import_file").set_value(("model.kv", b"\x80\x04\x95junk", "application/octet-stream"))
    app.run()
    app.button(key="import_btn").click().run()
    assert any("pickle-based" in e.value for e in app.error)
    app.file_uploader(key="import_file").set_value(("tiny.txt", b"2 3\ncat 1 2 3\ndog 3 2 1\n", "text/plain"))
    app.run()
    app.button(key="import_btn").click().run()
    assert_clean(app)
    assert app.workspace.get("space", "tiny").summary["vocabulary"] == 2


def test_models_page_encodes_sentences_with_minilm(app):
    app.switch_page("pages/models.py").run()
    app.radio(key="pre_unit").set_value("sentence").run()
    app.number_input(key="pre_top").set_value(30).run()
    app.button(key="pre_btn").click().run()
    assert_clean(app)
    s = app.workspace.get("space", "lee-minilm-sentences")
    assert s.summary["vocabulary"] == 30 and s.summary["unit"] == "sentence"


def test_models_page_delete_a_space(app):
    app.switch_page("pages/models.py").run()
    space_id = app.workspace.get("space", "lee-word2vec").id
    app.checkbox(key=f"confirm_delete_space_{space_id}").check().run()
    app.button(key="delete_space_btn").click().run()
    assert_clean(app)
    assert "lee-word2vec" not in [a.name for a in app.workspace.list("space")]
    assert [c.name for c in app.workspace.list("corpus")] == ["lee", "python-docs"]


# -- Neighbours, Compare, Projection ---------------------------------------------------------
def test_neighbours_page_side_by_side_with_oov_and_url_state(app):
    app.switch_page("pages/neighbours.py").run()
    assert_clean(app)
    assert len(app.dataframe) == 4  # the four demo spaces
    app.text_input(key="nb_query").input("king - man + woman").run()
    assert_clean(app)
    glove = app.dataframe[2].value
    assert glove["label"].iloc[0] == "queen"
    assert app.query_params["q"] == ["king - man + woman"] or app.query_params["q"] == "king - man + woman"
    app.text_input(key="nb_query").input("governmnt").run()
    # word2vec cannot embed it (the Markdown source escapes the colon; the page shows it plain)
    assert any("Did you mean: government" in w.value.replace("\\", "") for w in app.warning)
    assert any("subword" in c.value for c in app.caption)  # fasttext can


def test_compare_page_cross_family_with_domino(app):
    app.switch_page("pages/compare.py").run()
    assert_clean(app)
    m = metrics(app)
    assert int(m["Shared labels"].replace(",", "")) > 2000
    assert any("Cross-family" in c.value for c in app.caption)
    # lee-word2vec has the demo's stability study: its noise floor, chosen by default
    assert app.selectbox(key="cmp_noise").value != "none"
    noise = next(c.value for c in app.caption if c.value.startswith("Noise floor:"))
    assert re.search(r"over [\d,]+ of [\d,]+ shared labels", noise) and "beyond lee-word2vec" in noise
    assert app.dataframe[0].value["floor"].notna().all()     # each listed label's floor, beside its Jaccard
    app.selectbox(key="cmp_label").set_value("sydney").run()
    assert_clean(app)
    assert any(md.value.startswith("**In both**") for md in app.markdown)
    app.selectbox(key="cmp_noise").set_value("none").run()
    assert not any(c.value.startswith("Noise floor:") for c in app.caption)
    assert "floor" not in app.dataframe[0].value.columns
    app.selectbox(key="cmp_b").set_value("lee-fasttext").run()
    assert_clean(app)
    assert len(app.get("plotly_chart")) == 2  # Jaccard histogram and, with equal dimensions, drift
    assert app.selectbox(key="cmp_noise").value != "none"   # other spaces: their newest study again


def test_projection_page_pca_two_panels_highlight_and_align(app):
    app.switch_page("pages/projection.py").run()
    app.radio(key="pj_method").set_value("pca").run()
    app.text_input(key="pj_search").input("government").run()
    assert_clean(app)
    charts = app.get("plotly_chart")
    assert len(charts) == 2
    trust = [c.value for c in app.caption if c.value.startswith("Trustworthiness")]
    assert len(trust) == 2 and all("kNN preservation" in t for t in trust)
    app.toggle(key="pj_align").set_value(True).run()
    app.selectbox(key="pj_colour").set_value("cluster (KMeans)").run()
    app.number_input(key="pj_labels").set_value(15).run()
    assert_clean(app)
    # the labelled map: every cluster named at its centre, the 15 most frequent words written
    import json

    for chart in app.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        named = [a["text"] for a in spec["layout"]["annotations"] if a["text"] != "<b>government</b>"]
        assert len(named) == 12 and all(t.startswith("<b>") for t in named)
        words = next(t for t in spec["data"] if t.get("name") == "most frequent")
        assert len(words["text"]) == 15
    app.selectbox(key="pj_mode").set_value("Regex").run()
    app.text_input(key="pj_regex").input("^gov").run()
    assert_clean(app)
    assert any("· PCA" in md.value and "points" in md.value for md in app.markdown)


def test_bias_page_runs_the_grid_side_by_side_and_drills_into_a_cell(app):
    from embeddings import bias
    from embeddings.store.space_store import load_space

    app.switch_page("pages/bias.py").run()
    assert_clean(app)
    table = app.dataframe[0].value
    assert len(table) == 30  # ten tests × the three word spaces
    glove = load_space(app.workspace, "glove-50d")
    row = table[(table.test == "weat6") & (table.space == "glove-50d")].iloc[0]
    ref = bias.weat(glove, bias.get_test("weat6"))
    assert row["d"] == pytest.approx(ref.effect_size, abs=1e-12) and row["p_method"] == "exact"
    refused = table[table.space == "lee-word2vec"]
    assert refused["refused"].str.contains("in the space").all()  # a reason, not an error
    assert len(app.get("plotly_chart")) >= 2  # heatmap and the drill-down strip
    # the drill-down opens on a space the test ran on, never on a refused one
    opened = app.selectbox(key="bias_drill_space").value
    assert not table.set_index(["test", "space"]).loc[("weat6", opened), "refused"]
    app.selectbox(key="bias_drill_space").set_value("glove-50d").run()  # weat6 is the default test
    assert metrics(app)["effect size d"] == f"{ref.effect_size:+.3f}"
    # the interval and the leverage of each word: the same as the core's, as error bars and bars
    assert (row["d low"], row["d high"]) == pytest.approx(ref.effect_size_ci, abs=1e-12)
    assert len(app.get("plotly_chart")) >= 4  # heatmap, interval plot, strip, per-word leverage
    assert any(f"{ref.most_influential['d_without']:+.3f}" in m.value for m in app.markdown)
    # the five metrics side by side, each equal to the core's; and the heatmap follows the metric
    side = next(d.value for d in app.dataframe if "RNSB" in d.value.columns).set_index(["test", "space"])
    for metric in ("rnd", "ect", "mac", "rnsb"):
        expected = bias.run_metric(glove, bias.get_test("weat6"), metric).value
        assert side.loc[("weat6", "glove-50d"), metric.upper()] == pytest.approx(expected, abs=1e-12)
    app.radio(key="bias_metric").set_value("ect").run()
    assert_clean(app)
    assert any("Embedding coherence test" in c.value and "Phillips (2019)" in c.value for c in app.caption)


def test_bias_page_probes_a_sentence_encoder_with_seat(app):
    app.switch_page("pages/bias.py").run()
    # a sentence encoder is probed with SEAT, and the page says so (one test: SEAT encodes its sentences)
    app.multiselect(key="bias_tests").set_value(["weat6"]).run()
    app.multiselect(key="bias_spaces").set_value(["glove-50d", "lee-minilm"]).run()
    assert_clean(app)
    assert any("SEAT" in i.value for i in app.info)
    table = app.dataframe[0].value
    assert table.set_index("space").loc["lee-minilm", "probe"] == "SEAT"


def test_bias_page_saves_a_typed_custom_test(app):
    from embeddings import bias

    app.switch_page("pages/bias.py").run()
    # a custom test, typed and saved in the workspace
    for role, name, words in (("X", "pets", "cat, dog, puppy"), ("Y", "pests", "rat, flea, cockroach"),
                              ("A", "pleasant", "love, joy, peace"), ("B", "unpleasant", "hate, pain, war")):
        app.text_input(key=f"bias_c_{role}_name").input(name)
        app.text_area(key=f"bias_c_{role}_words").input(words)
    next(b for b in app.button if b.label == "Save test").click().run()
    assert_clean(app)
    assert [t.id for t in bias.saved_tests(app.workspace)] == ["custom"]
    assert "custom" in app.multiselect(key="bias_tests").value


def test_bias_page_axis_uses_the_spaces_chosen_once(app):
    from embeddings import bias
    from embeddings.store.space_store import load_space

    app.switch_page("pages/bias.py").run()
    app.multiselect(key="bias_tests").set_value(["weat6"]).run()  # SEAT on MiniLM encodes one test's sentences
    app.multiselect(key="bias_spaces").set_value(["glove-50d", "lee-minilm"]).run()
    glove = load_space(app.workspace, "glove-50d")
    # the bias axis on the default gender pairs and professions
    axis = next(d.value for d in app.dataframe if "DirectBias (c=1)" in d.value.columns).set_index("space")
    assert list(axis.index) == ["glove-50d", "lee-minilm"]          # the spaces chosen once, for every tab
    rep = bias.axis_report(glove, [tuple(p) for p in bias.bolukbasi_gender()["definitional_pairs"]],
                           bias.neutral_professions())
    assert axis.loc["glove-50d", "DirectBias (c=1)"] == pytest.approx(rep.direct_bias, abs=1e-9)


def test_bias_page_debiases_and_reads_before_and_after_honestly(app):
    from embeddings import bias
    from embeddings.store.space_store import load_space

    app.switch_page("pages/bias.py").run()
    glove = load_space(app.workspace, "glove-50d")
    rep = bias.axis_report(glove, [tuple(p) for p in bias.bolukbasi_gender()["definitional_pairs"]],
                           bias.neutral_professions())
    # hard debias: a new derived space, and the before/after view
    app.selectbox(key="debias_source").set_value("glove-50d").run()
    app.button(key="debias_go").click().run()
    assert_clean(app)
    art = app.workspace.get("space", "glove-50d-debiased")
    assert art.parent == glove.id and art.params["derived"] == "hard-debias"
    m = metrics(app)
    assert m["after, along the removed direction"] == "0 by construction"
    assert float(m["DirectBias before (glove-50d)"]) == pytest.approx(rep.direct_bias, abs=1e-4)
    honest = bias.debias_report(glove, load_space(app.workspace, "glove-50d-debiased"))
    assert float(m["after, along a recomputed direction"]) == pytest.approx(honest.after_recomputed, abs=1e-4)
    assert float(m["k-means accuracy after"]) == pytest.approx(honest.residual.after, abs=1e-3)
    assert float(m["k-means accuracy before"]) > float(m["k-means accuracy after"])


def _audit_spaces(app):
    return next(m for m in app.multiselect if m.label == "Spaces")


def test_audit_page_mines_terms_and_filters(app):
    from embeddings.analysis.audit import audit

    app.switch_page("pages/audit.py").run()
    assert_clean(app)
    # the demo's stability study is the noise floor
    noise = next(s for s in app.selectbox if s.label == "Noise floor")
    assert noise.value != "none"
    assert any(c.value.startswith("Noise floor: **lee-word2vec-stability**") for c in app.caption)
    assert any("beyond lee-word2vec's own seed-to-seed noise" in c.value for c in app.caption)
    noise.set_value("none").run()
    assert _audit_spaces(app).value == ["lee-word2vec", "glove-50d", "lee-minilm"]
    table = app.dataframe[0].value
    assert len(table) == 50
    ws = app.workspace
    from embeddings.store.space_store import load_space
    from embeddings.text.corpus import get_corpus

    ref = audit(get_corpus(ws, "lee"), [load_space(ws, n) for n in ("lee-word2vec", "glove-50d", "lee-minilm")],
                mine=50)
    assert table["term"].tolist() == ref.terms["term"].tolist()
    cov = ref.summary.set_index("space")["coverage"]
    assert metrics(app)["glove-50d"] == f"{cov['glove-50d']:.0%} known"
    assert len(app.get("plotly_chart")) == 3
    app.multiselect(key="au_flags").set_value(["unknown"]).run()
    filtered = app.dataframe[0].value
    assert 0 < len(filtered) < 50 and filtered["flags"].str.contains("unknown").all()
    # typed terms, including one the corpus never saw
    app.multiselect(key="au_flags").set_value([])
    app.radio(key="au_source").set_value("Type or upload").run()
    app.text_area(key="au_terms").input("qantas\ngovernment\nzzqqxx").run()
    assert_clean(app)
    typed = app.dataframe[0].value.set_index("term")
    assert list(typed.index) == ["qantas", "government", "zzqqxx"]
    assert typed.loc["zzqqxx", "frequency"] == 0 and "rare" in typed.loc["zzqqxx", "flags"]


def test_evaluate_page_side_by_side_with_missing_share(app):
    from embeddings.evaluate import intrinsic as ev
    from embeddings.store.space_store import load_space

    app.switch_page("pages/evaluate.py").run()
    assert_clean(app)
    board = next(d.value for d in app.dataframe if "metric" in d.value.columns)
    assert set(board["space"]) == {"lee-word2vec", "glove-50d", "lee-minilm"}     # the first three word spaces
    row = board[(board.space == "glove-50d") & (board.benchmark == "ws353")].iloc[0]
    ref = ev.word_pairs(load_space(app.workspace, "glove-50d"), ev.benchmark_path("ws353"))
    assert row["score"] == pytest.approx(ref.spearman, abs=1e-12)
    assert row["n"] == f"{ref.pairs - ref.missing:,} of {ref.pairs:,}"
    assert row["coverage"] == pytest.approx(1 - ref.missing_ratio)
    w2v = board[(board.space == "lee-word2vec") & (board.benchmark == "simlex")].iloc[0]
    assert w2v["coverage"] < 0.5 and w2v["rank"] == "not ranked"          # shown, not ranked
    simlex = board[board.benchmark == "simlex"]
    assert "1" in simlex["rank"].tolist() and "None" not in board.astype(str).to_numpy()
    assert set(simlex["common_n"]) == {simlex["common_n"].iloc[0]}      # one set of common items
    assert any("Not ranked" in c.value and "lee-word2vec" in c.value for c in app.caption)
    # the user's own analogy file, scored per section
    app.multiselect(key="ev_spaces").set_value(["glove-50d"]).run()
    app.file_uploader(key="ev_upload").set_value(
        ("family.txt", b": family\nman woman king queen\nboy girl brother sister\n", "text/plain")).run()
    assert_clean(app)
    board = next(d.value for d in app.dataframe if "metric" in d.value.columns)
    assert "family" in set(board["benchmark"])
    assert any("section" in d.value.columns for d in app.dataframe)


def test_home_explains_every_measure_in_one_line(app):
    from embeddings.glossary import GLOSSARY

    text = " ".join(m.value for m in app.markdown)
    for term, line in GLOSSARY.items():
        assert f"**{term}**: {line}" in text
    assert {"trustworthiness", "kNN preservation", "Jaccard@k", "ordered overlap", "SEAT", "DirectBias",
            "RIPA"} == set(GLOSSARY)


# -- the Choose page (#13) -----------------------------------------------------------------------
def test_choose_page_opens_on_the_saved_leaderboard_and_its_scores_are_sklearns(app):
    from sklearn.model_selection import StratifiedKFold

    from embeddings.store.space_store import load_space
    from embeddings.text.corpus import get_corpus
    from tests.test_tasks import _nested

    app.switch_page("pages/choose.py").run()
    assert_clean(app)
    board = next(d.value for d in app.dataframe if "classification (macro-F1)" in d.value.columns)
    assert list(board["space"]) == ["pydocs-word2vec-sif", "pydocs-glove-sif", "pydocs-tfidf", "pydocs-minilm",
                                    "pydocs-minilm-supervised", "pydocs-minilm-static", "tfidf (sparse)"]
    assert any("saved result" in c.value for c in app.caption)        # the demo seeded it: no wait
    corpus = get_corpus(app.workspace, "python-docs")
    docs = corpus.documents()
    # the demo's fine-tuned space trained on half the documents: every space is scored on the other half
    tuned = load_space(app.workspace, "pydocs-minilm-supervised")
    held = np.sort(tuned.meta["doc"].to_numpy()[tuned.meta["split"].to_numpy() == "held-out"])
    assert set(board["n"]) == {f"{len(held):,} of {len(docs):,}"}
    assert any("held-out documents" in w.value for w in app.warning)
    # the leaderboard's macro-F1 is scikit-learn's nested cross-validation on the same folds of the
    # held-out documents, and the readings table shows the C it chose on each fold
    s = load_space(app.workspace, "pydocs-glove-sif")
    X = np.asarray(s.vectors)[np.argsort(s.meta["doc"].to_numpy())][held]
    ref = _nested(X, docs["meta.area"].to_numpy()[held], StratifiedKFold(5, shuffle=True, random_state=0), 0)
    shown = board.set_index("space").loc["pydocs-glove-sif", "classification (macro-F1)"]
    assert shown == f"{ref['test_f1_macro'].mean():.3f} ± {ref['test_f1_macro'].std(ddof=1):.3f}"
    readings = next(d.value for d in app.dataframe if "C per fold" in d.value.columns).set_index("space")
    assert readings.loc["pydocs-glove-sif", "C per fold"] == ", ".join(f"{e.best_params_['C']:g}"
                                                                       for e in ref["estimator"])
    assert {"macro-F1", "macro-F1 (C = 1)", "kNN macro-F1"} <= set(readings.columns)
    readings = [m.value for m in app.markdown if m.value.startswith("- ")]
    assert len(readings) == 3 and all(any(t in r for r in readings) for t in ("classification", "clustering",
                                                                                "retrieval"))
    pairs = next(d.value for d in app.dataframe if "better" in d.value.columns)
    assert len(pairs) == 3 * 21 and set(pairs["task"]) == {"classification", "clustering", "retrieval"}
    assert [c.key for c in app.get("plotly_chart")] == ["ch_pareto"]


def test_choose_page_makes_a_pooled_space_and_scores_it(app):
    app.switch_page("pages/choose.py").run()          # the demo's saved leaderboard
    # a small benchmark first (one space, classification, no TF-IDF): the space made below joins it
    next(m for m in app.multiselect if m.label == "Document spaces of this corpus").set_value(["pydocs-glove-sif"])
    app.multiselect(key="ch_tasks").set_value(["classification"])
    app.toggle(key="ch_tfidf").set_value(False)
    app.radio(key="mk_how").set_value("pool").run()
    app.selectbox(key="mk_source").set_value("glove-50d").run()
    app.radio(key="mk_pool").set_value("mean").run()
    app.text_input(key="mk_name").input("glove-mean").run()
    app.button(key="mk_go").click().run()
    assert_clean(app)
    art = app.workspace.get("space", "glove-mean")
    assert art.summary["unit"] == "document" and art.params["params"] == {"pooling": "mean"}
    spaces = next(m for m in app.multiselect if m.label == "Document spaces of this corpus")
    assert spaces.value == ["pydocs-glove-sif", "glove-mean"]          # the space just made is chosen
    board = next(d.value for d in app.dataframe if "classification (macro-F1)" in d.value.columns)
    assert list(board["space"]) == ["pydocs-glove-sif", "glove-mean"]


def test_choose_page_without_a_labelled_corpus_says_what_it_needs(app):
    app.workspace.delete("corpus", "python-docs")
    app.switch_page("pages/choose.py").run()
    assert_clean(app)
    assert any("label column" in i.value and "CSV" in i.value for i in app.info)


def test_choose_page_scores_uploaded_similarity_pairs(app):
    from tests.test_similarity import PAIRS

    app.switch_page("pages/choose.py").run()
    text = "# our pairs\n" + "\n".join(f"{a}\t{b}\t{s}" for a, b, s in PAIRS) + "\n"
    app.file_uploader(key="ch_pairs_file").set_value(("pairs.tsv", text.encode(), "text/tab-separated-values")).run()
    assert_clean(app)
    sts = next(d.value for d in app.dataframe if "interval (95%)" in d.value.columns)
    assert list(sts["space"]) == ["pydocs-word2vec-sif", "pydocs-glove-sif", "pydocs-tfidf", "pydocs-minilm",
                                  "pydocs-minilm-supervised", "pydocs-minilm-static"]      # TF-IDF + LSA refitted
    assert set(sts["pairs"]) <= {f"{n} of {len(PAIRS)}" for n in range(3, len(PAIRS) + 1)}
    assert not any("left out" in c.value for c in app.caption)
    app.file_uploader(key="ch_pairs_file").set_value(("bad.tsv", b"a\tb\t1\nc\td\n", "text/plain")).run()
    assert not app.exception and any("bad.tsv, line 2" in e.value for e in app.error)


# -- the Customise and Words in context pages (#14) ------------------------------------------------
def test_customise_page_opens_on_before_and_after_of_the_demo_fine_tune(app):
    app.switch_page("pages/customise.py").run()
    assert_clean(app)
    board = next(d.value for d in app.dataframe if "classification (macro-F1)" in d.value.columns)
    assert set(board["space"]) == {"pydocs-minilm", "pydocs-minilm-supervised"}
    held = app.workspace.get("space", "pydocs-minilm-supervised").params["finetune"]["split"]["held_out_documents"]
    assert set(board["n"]) == {f"{held:,} of {held * 2:,}"} or all(n.endswith(f"of {600:,}") for n in board["n"])
    pairs = next(d.value for d in app.dataframe if "fine-tuned − base" in d.value.columns)
    assert set(pairs["task"]) == {"classification", "retrieval"}
    terms = next(d.value for d in app.dataframe if "overlap" in d.value.columns)
    assert len(terms) == 20 and terms["overlap"].between(0, 1).all()
    assert {c.key for c in app.get("plotly_chart")} == {"ba_moved", "ba_loss"}


def test_customise_page_fine_tune_form_asks_for_labels_only_where_there_are_some(app):
    app.query_params["cu_tab"] = "Fine-tune"
    app.switch_page("pages/customise.py").run()
    assert_clean(app)
    assert "ba_tuned" not in [s.key for s in app.selectbox]          # the hidden tab did not run
    app.selectbox(key="ft_corpus").set_value("lee").run()
    app.radio(key="ft_method").set_value("supervised").run()
    assert any("has no label column" in i.value for i in app.info)
    assert "ft_go" not in [b.key for b in app.button]
    app.selectbox(key="ft_corpus").set_value("python-docs").run()
    corpus_id = app.workspace.get("corpus", "python-docs").id
    assert app.selectbox(key=f"ft_label_{corpus_id}").value == "area"
    assert app.text_input(key="ft_name").placeholder == "python-docs-minilm-supervised"
    assert app.selectbox(key="ft_base").options[:2] == ["minilm", "pydocs-minilm-supervised"]
    assert_clean(app)


def test_context_page_shows_the_demo_term_with_two_senses(app):
    app.switch_page("pages/context.py").run()
    assert_clean(app)
    shown = metrics(app)
    assert shown["Senses"] == "2" and float(shown["Spread"]) > 0
    uses, found = shown["Uses"].split(" of ")
    assert int(uses.replace(",", "")) == int(found.replace(",", "")) >= 40
    quotes = [m.value for m in app.markdown if m.value.startswith("> ")]
    assert len(quotes) == 6 and any("West **Bank**" in q for q in quotes)
    assert [c.key for c in app.get("plotly_chart")] == ["cx_map"]
    lee = app.workspace.get("corpus", "lee").id
    app.text_input(key=f"cx_term_{lee}").input("zzyzx").run()
    assert not app.exception and any("needs at least" in e.value for e in app.error)


def test_customise_page_distil_form_names_a_missing_model_folder(app):
    app.query_params["cu_tab"] = "Distil"
    app.switch_page("pages/customise.py").run()
    assert app.toggle(key="di_words").value is True          # the corpus's words, unless asked otherwise
    app.selectbox(key="di_base").set_value("a local model folder…").run()
    app.text_input(key="di_base_path").input("/nonexistent/model").run()
    app.button(key="di_go").click().run()
    assert not app.exception and any("not minilm, a space of this workspace or a model folder" in e.value
                                     for e in app.error)
    assert len(app.workspace.list("space")) == 11


def test_with_an_allow_list_the_model_folder_boxes_tell_nothing_of_other_paths(app, monkeypatch, tmp_path):
    """#26, item 5: EMBEDDINGS_MODEL_DIRS set, a path that exists and one that does not get the
    same message on both pages that take a typed folder, and nothing is made."""
    from embeddings.store.model_folders import ALLOW_ENV, NOT_ALLOWED

    monkeypatch.setenv(ALLOW_ENV, str(tmp_path))
    app.query_params["cu_tab"] = "Distil"
    app.switch_page("pages/customise.py").run()
    app.selectbox(key="di_base").set_value("a local model folder…").run()
    seen = []
    for path in ("/etc", "/nonexistent/model"):
        app.text_input(key="di_base_path").input(path).run()
        seen.append([e.value.replace("\\", "") for e in app.error])
        assert app.button(key="di_go").disabled
    assert not app.exception and seen == [[f"/etc {NOT_ALLOWED}"], [f"/nonexistent/model {NOT_ALLOWED}"]]
    app.switch_page("pages/models.py").run()
    app.radio(key="pre_kind").set_value("A local model folder (sentence-transformers or transformers)").run()
    app.text_input(key="pre_folder").input("/etc").run()
    assert [e.value.replace("\\", "") for e in app.error] == [f"/etc {NOT_ALLOWED}"]
    assert app.button(key="pre_btn").disabled and len(app.workspace.list("space")) == 11


def test_the_corpus_chosen_on_one_page_opens_the_next_and_the_audit_compares_general_models(app):
    """Choose python-docs on the Choose page: the Audit and Words in context open on it; the
    Audit's default spaces are its own domain model beside the general models, never the news
    corpus's domain models, and its widgets show what its results used."""
    from embeddings.store.cards import TRAIN_FAMILIES
    from embeddings.store.space_store import load_space

    app.switch_page("pages/choose.py").run()
    assert app.selectbox(key="ch_corpus").value == "python-docs"           # the labelled corpus
    app.switch_page("pages/audit.py").run()
    assert_clean(app)
    assert app.selectbox(key="au_corpus").value == "python-docs"
    chosen = _audit_spaces(app).value
    families = {n: load_space(app.workspace, n).provenance for n in chosen}
    assert "lee-word2vec" not in chosen and "lee-fasttext" not in chosen
    others = [n for n, p in families.items() if p.get("corpus") not in (None, "python-docs")
              and p.get("family") in TRAIN_FAMILIES]
    assert others == [] and "glove-50d" in chosen
    assert any("python-docs" in c.value or "mined" in c.value for c in app.caption)
    shown = {m.label for m in app.metric}
    assert shown == set(chosen)                                             # the results are these spaces
    # a corpus chosen here follows to Words in context
    app.selectbox(key="au_corpus").set_value("lee").run()
    assert _audit_spaces(app).value[0] == "lee-word2vec"     # lee's own domain model again
    app.switch_page("pages/context.py").run()
    assert app.selectbox(key="cx_corpus").value == "lee"


def test_the_upload_form_previews_the_boilerplate_it_drops_and_the_corpus_keeps_none(app):
    app.switch_page("pages/corpus.py").run()
    pages = [(f"page{i}.md", f"Home | Guides | Next page\n\nTopic {i}: a page about subject number {i} and its "
                             f"own words, zebra{i} quokka{i}.\n\nCopyright 2026 Example Docs.".encode(), "text/markdown")
             for i in range(6)]
    app.file_uploader(key="uploads").set_value(pages).run()
    app.radio(key="txt_split").set_value("file").run()
    app.button(key="preview_upload").click().run()
    assert_clean(app)
    said = next(m.value for m in app.markdown if m.value.startswith("**Boilerplate**"))
    assert "12 boilerplate line(s) dropped from 6 of 6 documents" in said       # two lines on each page
    lines = next(d.value for d in app.dataframe if "line" in d.value.columns)
    assert set(lines["line"]) == {"Home | Guides | Next page", "Copyright 2026 Example Docs."}
    assert list(lines["documents"]) == [6, 6]
    app.text_input(key="upload_name").input("docs").run()
    app.button(key="add_upload").click().run()
    assert_clean(app)
    corpus = get_corpus(app.workspace, "docs")
    text = " ".join(corpus.documents()["text"])
    assert "Home" not in text and "Copyright" not in text and "zebra3" in text
    assert corpus.stats["boilerplate"]["lines_removed"] == 12
    assert not [p for p in corpus.phrases()["phrase"] if {"home", "guides", "next", "copyright"} & set(p.split("_"))]


def test_space_widgets_follow_the_sessions_corpus_and_select_a_space_just_made(app):
    """Item 6 of #25: a fresh session opens on the demo's spaces; once python-docs is chosen,
    Neighbours, Projection and Compare open on its own model beside the general ones (never
    the news corpus's); a space made on the Models page is selected everywhere; a choice the
    user makes stands until the corpus changes."""
    from embeddings.store.cards import SpaceCard, is_general_space

    cards = {a.name: SpaceCard.from_artefact(a) for a in app.workspace.list("space")}
    app.switch_page("pages/neighbours.py").run()
    fresh = app.multiselect(key="nb_spaces").value
    assert fresh == [n for n, c in cards.items() if c.is_terms][:4]          # the catalogue's order
    app.switch_page("pages/choose.py").run()
    assert app.selectbox(key="ch_corpus").value == "python-docs"
    general = [n for n, c in cards.items() if is_general_space(c.provenance | {"family": c.family, "unit": c.unit})]
    assert general, "the demo has general models"
    app.switch_page("pages/neighbours.py").run()
    assert_clean(app)
    chosen = app.multiselect(key="nb_spaces").value
    assert chosen[:1 + len(general)] == ["pydocs-word2vec", *general][:4], (chosen, general)
    app.query_params.clear()                    # as a browser does on a page switch (AppTest keeps them)
    app.switch_page("pages/projection.py").run()
    assert app.multiselect(key="pj_spaces").value == ["pydocs-word2vec", general[0]]
    app.query_params.clear()
    app.switch_page("pages/compare.py").run()
    assert_clean(app)
    assert (app.selectbox(key="cmp_a").value, app.selectbox(key="cmp_b").value) == ("pydocs-word2vec", general[0])
    app.selectbox(key="cmp_b").set_value("lee-word2vec").run()                  # the user's choice stands
    app.run()
    assert app.selectbox(key="cmp_b").value == "lee-word2vec"
    # a space made on the Models page is selected on the next page
    app.switch_page("pages/models.py").run()
    app.selectbox(key="reduce_source").set_value("glove-50d").run()
    app.number_input(key="reduce_dim").set_value(5).run()
    app.button(key="reduce_btn").click().run()
    assert_clean(app)
    app.query_params.clear()
    app.switch_page("pages/neighbours.py").run()
    assert app.multiselect(key="nb_spaces").value[:2] == ["glove-50d-pca5", "pydocs-word2vec"]
    app.query_params.clear()
    app.switch_page("pages/compare.py").run()
    assert app.selectbox(key="cmp_a").value == "glove-50d-pca5"


def test_audit_selects_a_domain_model_just_made_and_the_noise_study_just_measured(app):
    """A PPMI-SVD space trained on lee on the Models page opens the Audit as lee's domain space;
    measuring its noise there (5 runs) selects the new study at once (#25, items 4 and 6)."""
    from embeddings.analysis import stability

    app.switch_page("pages/models.py").run()
    app.radio(key="train_family").set_value("ppmi-svd").run()
    app.number_input(key="train_dim").set_value(20).run()
    app.button(key="train_btn").click().run()
    assert_clean(app)
    made = "lee-ppmi-svd-20d"
    assert app.workspace.get("space", made)
    app.switch_page("pages/audit.py").run()
    app.selectbox(key="au_corpus").set_value("lee").run()
    assert_clean(app)
    lee = get_corpus(app.workspace, "lee").id
    assert _audit_spaces(app).value[0] == made
    assert app.selectbox(key=f"au_domain_{lee}").value == made
    assert not stability.studies_of(app.workspace, "ppmi-svd", lee)
    app.button(key="au_measure").click().run()
    assert_clean(app)
    studies = stability.studies_of(app.workspace, "ppmi-svd", lee)
    assert len(studies) == 1
    assert app.selectbox(key=f"au_noise_{lee}_{made}").value == studies[0].id       # selected at once
    assert any(c.value.startswith(f"Noise floor: **{studies[0].name}**") for c in app.caption)


def test_a_bad_value_in_a_link_falls_back_with_a_caption_on_every_page(demo_ws, monkeypatch):
    """#26, item 6: every page that reads the link checks each parameter against its widget's
    own bounds (pages/ui/url.py). A number out of range or not a number, an unknown option,
    tab or space: never an error box, the default is used, and a caption names the parameter."""
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(demo_ws.root))
    cases = [("neighbours", {"k": bad, "q": "king"}) for bad in ("abc", "100000")] + \
            [("compare", {"k": "1e3", "a": "no-such-space", "b": "<script>"}),
             ("projection", {"pj_top": "abc", "pj_nn": "100000", "pj_mode": "Nonsense", "method": "cube",
                             "pj_seed": "-5", "pj_md": "x", "pj_perp": "nan", "pj_repro": "maybe",
                             "spaces": "lee-word2vec,ghost"}),
             ("bias", {"bias_tab": "Secret", "spaces": "ghost", "tests": "nonsense-test"}),
             ("customise", {"cu_tab": "Admin"}), ("audit", {"spaces": "ghost"}), ("evaluate", {"spaces": "ghost"})]
    for page, params in cases:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        at.switch_page(f"pages/{page}.py").run()
        assert_clean(at)
        captions = " ".join(c.value.replace("\\", "") for c in at.caption)
        refused = {key for key in params if f"The link's {key} = " in captions}
        assert refused == set(params) - {"q"}, (page, params, captions[:800])
        if page == "neighbours":
            assert "is not a whole number from 1 to 100: the default is used" in captions
