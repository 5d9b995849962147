"""Retrieval on your own queries (#29): the metrics equal pytrec_eval (trec_eval), BM25 equals
the Lucene formula written here, the readers name the bad line, and the whole path (CLI,
JSON, run file) on the demo's labelled corpus."""

import csv
import io
import json
import math
import re

import numpy as np
import pytest

from embeddings.errors import InputError
from embeddings.evaluate import ir
from tests.test_cli import run


def random_case(seed: int, queries: int = 40, docs: int = 300):
    rng = np.random.default_rng(seed)
    run_, qrels = {}, {}
    for q in range(queries):
        qid = f"q{q}"
        ranked = [f"d{i}" for i in rng.permutation(docs)[:ir.DEPTH]]
        judged = {f"d{i}": int(rng.integers(0, 4)) for i in rng.choice(docs, int(rng.integers(1, 12)), replace=False)}
        if not any(judged.values()):
            judged[next(iter(judged))] = 1
        # half the time, put relevant documents near the top so every metric is exercised
        if q % 2:
            ranked = [d for d in judged if judged[d] > 0][:3] + [d for d in ranked if d not in judged][:ir.DEPTH - 3]
        run_[qid], qrels[qid] = ranked, judged
    return run_, qrels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_pytrec_eval(seed):
    import pytrec_eval

    run_, qrels = random_case(seed)
    ours = ir.evaluate_run(run_, qrels).set_index("qid")
    scored = {q: {d: float(len(docs) - r) for r, d in enumerate(docs)} for q, docs in run_.items()}
    top10 = {q: {d: float(10 - r) for r, d in enumerate(docs[:10])} for q, docs in run_.items()}
    full = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.10,100", "map_cut.100"}).evaluate(scored)
    mrr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)
    for q in qrels:
        assert ours.loc[q, "nDCG@10"] == pytest.approx(full[q]["ndcg_cut_10"], abs=1e-9)
        assert ours.loc[q, "Recall@10"] == pytest.approx(full[q]["recall_10"], abs=1e-9)
        assert ours.loc[q, "Recall@100"] == pytest.approx(full[q]["recall_100"], abs=1e-9)
        assert ours.loc[q, "MAP@100"] == pytest.approx(full[q]["map_cut_100"], abs=1e-9)
        assert ours.loc[q, "MRR@10"] == pytest.approx(mrr[q]["recip_rank"], abs=1e-9)


def test_reciprocal_rank_fusion_by_hand():
    fused = ir.reciprocal_rank_fusion([["a", "b", "c"], ["c", "a", "d"]], k=60)
    score = {"a": 1 / 61 + 1 / 62, "b": 1 / 62, "c": 1 / 63 + 1 / 61, "d": 1 / 63}
    assert fused == sorted(score, key=lambda d: -score[d])
    run_file = ir.trec_run({"q1": ["a", "b"]}, "BM25 + x (RRF)")
    assert run_file == "q1 Q0 a 1 2 BM25_+_x__RRF_\nq1 Q0 b 2 1 BM25_+_x__RRF_\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from embeddings.readers import Document
    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import add_corpus
    from embeddings.text.preprocess import Preprocessing

    ws = Workspace(tmp_path_factory.mktemp("retrieval") / "ws")
    texts = ["The cat sat on the mat and the cat slept.", "Dogs chase cats in the park.",
             "A mat is a small rug.", "Parks have trees, dogs and people.", "Nothing about animals here at all."]
    docs = [Document(t, f"d{i}.txt", {"_id": f"doc-{i}"}) for i, t in enumerate(texts)]
    corpus = add_corpus(ws, "tiny", documents=docs, preprocessing=Preprocessing(sentences=False, boilerplate=False))
    return ws, corpus, texts


def test_bm25_equals_the_lucene_formula(tiny):
    from embeddings.evaluate.search import RetrievalParams, bm25_run
    from embeddings.text.preprocess import tokenize

    ws, corpus, texts = tiny
    params = RetrievalParams()
    tokens = [tokenize(t, corpus.preprocessing) for t in texts]
    n, avgdl = len(tokens), np.mean([len(t) for t in tokens])

    def score(query, doc):
        total = 0.0
        for term in set(tokenize(query, corpus.preprocessing)):
            df = sum(term in t for t in tokens)
            if not df:
                continue
            tf = doc.count(term)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            total += idf * tf * (params.k1 + 1) / (tf + params.k1 * (1 - params.b + params.b * len(doc) / avgdl))
        return total

    queries = {"q1": "cat on a mat", "q2": "dogs in parks", "q3": "zebra"}
    got = bm25_run(corpus, queries, params)
    for qid, text in queries.items():
        scores = [score(text, t) for t in tokens]
        expected = [i for i in sorted(range(n), key=lambda i: (-scores[i], i)) if scores[i] > 0]
        assert got[qid] == expected, qid
    assert got["q3"] == []          # no shared term: nothing is retrieved


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def test_readers_take_beir_and_csv_and_name_the_bad_line(tiny):
    from embeddings.evaluate.qrels import read_files

    ws, corpus, texts = tiny
    queries = b'{"_id": "q1", "text": "cat on a mat"}\n{"_id": "q2", "text": "dogs"}\n'
    qrels = b"query-id\tcorpus-id\tscore\nq1\tdoc-0\t2\nq1\tdoc-2\t1\nq2\tdoc-1\t1\n"
    table, judged = read_files({"queries.jsonl": queries, "test.tsv": qrels}, corpus)
    assert list(table["qid"]) == ["q1", "q2"] and list(judged["doc"]) == [0, 2, 1]
    assert list(judged["relevance"]) == [2, 1, 1]
    # the same as one zip, with BEIR's folder layout
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("scifact/queries.jsonl", queries)
        z.writestr("scifact/qrels/test.tsv", qrels)
        z.writestr("scifact/qrels/train.tsv", b"query-id\tcorpus-id\tscore\nq2\tdoc-3\t1\n")
    zipped, zjudged = read_files({"beir.zip": buf.getvalue()}, corpus)
    assert zipped.equals(table) and zjudged.equals(judged)          # test.tsv is preferred
    # a CSV: by id or by the exact text, graded or not
    table, judged = read_files({"mine.csv": _csv([["query", "document", "relevance"], ["cat", "doc-0", "2"],
                                                  ["cat", texts[2], "1"], ["dogs", "doc-1", ""],
                                                  ["dogs", "d3.txt", "1"]])}, corpus)
    assert list(table["text"]) == ["cat", "dogs"] and list(judged["doc"]) == [0, 2, 1, 3]   # id, text, id, file
    assert list(judged["relevance"]) == [2, 1, 1, 1]
    bad = [
        ({"queries.jsonl": queries, "test.tsv": qrels + b"q1\tdoc-9\t1\n"}, "test.tsv, line 5: no document of tiny"),
        ({"queries.jsonl": queries, "test.tsv": qrels + b"q7\tdoc-1\t1\n"}, "line 5: the query id 'q7' is not"),
        ({"queries.jsonl": queries + b'{"_id": "q1", "text": "again"}\n', "test.tsv": qrels},
         "queries.jsonl, line 3: the query id 'q1' appears twice"),
        ({"queries.jsonl": queries + b'{"_id": "q3", "text": "  "}\n', "test.tsv": qrels}, "line 3: query 'q3' has no text"),
        ({"queries.jsonl": queries, "test.tsv": b"q1\tdoc-0\t0\n"}, "query 'q1' has no relevant document"),
        ({"mine.csv": _csv([["query", "document"], ["cat", "doc-0"], ["", "doc-1"]])}, "mine.csv, line 3: the query is empty"),
        ({"mine.csv": _csv([["query", "document"], ["cat", "a ghost text"]])}, "line 2: no document of tiny has the id,"),
        ({"mine.csv": _csv([["query", "document"], ["cat", "doc-0"], ["cat", "doc-0"]])}, "line 3: the query 'cat' names"),
        ({"mine.csv": _csv([["question", "answer"], ["cat", "doc-0"]])}, "mine.csv, line 1: the header needs"),
    ]
    for files, message in bad:
        with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
            read_files(files, corpus)


def _cloze_csv(corpus, n=40) -> bytes:
    """Self-made queries for the test: a document's first sentence → that document."""
    docs = corpus.documents().iloc[::max(1, len(corpus.documents()) // n)].head(n)
    rows = [["query", "document"]]
    for text in docs["text"]:
        first = text.split(". ")[0][:200]
        rows.append([first, text])
    return _csv(rows)


def test_the_cli_ranks_bm25_dense_and_hybrid_on_the_demo(demo_ws, tmp_path, capsys):
    from embeddings.evaluate.qrels import load_set
    from embeddings.text.corpus import get_corpus

    corpus = get_corpus(demo_ws, "python-docs")
    (tmp_path / "mine.csv").write_bytes(_cloze_csv(corpus))
    code, out, err = run(capsys, "--workspace", demo_ws.root, "retrieval", "add", str(tmp_path / "mine.csv"),
                         "--corpus", "python-docs", "--name", "firsts", "--json")
    assert code == 0, err
    assert json.loads(out)["queries"] == 40
    code, out, err = run(capsys, "--workspace", demo_ws.root, "benchmark", "--task", "retrieval", "--queries",
                         "firsts", "--spaces", "pydocs-minilm", "--hybrid", "--run-out", str(tmp_path / "run.txt"),
                         "--json")
    assert code == 0, err
    assert "NaN" not in out
    doc = json.loads(out)
    board = {r["system"]: r for r in doc["leaderboard"]}
    assert set(board) == {"BM25", "pydocs-minilm", "BM25 + pydocs-minilm (RRF)"}
    assert all(r["queries"] == 40 for r in board.values())
    assert board["BM25"]["nDCG@10"] > 0.5           # the query is a sentence of its document
    for r in board.values():
        assert r["nDCG@10 low"] <= r["nDCG@10"] <= r["nDCG@10 high"]
    assert len(doc["pairs"]) == 3 and all(p["task"] == "retrieval (your queries)" for p in doc["pairs"])
    lines = (tmp_path / "run.txt").read_text().splitlines()
    assert lines and all(len(line.split()) == 6 and line.split()[1] == "Q0" for line in lines)
    # the leaderboard's numbers are the means of the per-query metrics, recomputed here from the run file
    import pytrec_eval

    from embeddings.evaluate.qrels import document_names

    qset = load_set(demo_ws, "firsts")
    names = document_names(corpus)              # what the run file calls each document
    assert len(set(names)) == len(names)
    qrels = {q: {names[d]: r for d, r in docs.items()} for q, docs in qset.judged().items()}
    runs: dict = {}
    for line in lines:
        q, _, d, rank, score, system = line.split()
        runs.setdefault(q, {})[d] = float(score)
    scores = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(runs)
    system = doc["run_out"]["system"]
    assert np.mean([scores[q]["ndcg_cut_10"] for q in qrels]) == pytest.approx(board[system]["nDCG@10"], abs=1e-6)
    # a gate for CI, and a space that cannot embed a query is refused with the reason
    code, out, err = run(capsys, "--workspace", demo_ws.root, "benchmark", "--task", "retrieval", "--queries",
                         "firsts", "--fail-below", "0.999")
    assert code == 3 and "below 0.999" in err
    code, out, err = run(capsys, "--workspace", demo_ws.root, "benchmark", "--task", "retrieval", "--queries",
                         "firsts", "--spaces", "pydocs-word2vec")
    assert code == 2 and "cannot embed a query" in err
    # a pooled word space and TF-IDF + LSA embed the query the way they embedded the documents
    code, out, err = run(capsys, "--workspace", demo_ws.root, "benchmark", "--task", "retrieval", "--queries",
                         "firsts", "--spaces", "pydocs-word2vec-sif,pydocs-tfidf", "--no-bm25", "--json")
    assert code == 0, err
    board = {r["system"]: r for r in json.loads(out)["leaderboard"]}
    assert set(board) == {"pydocs-word2vec-sif", "pydocs-tfidf"}
    assert board["pydocs-tfidf"]["nDCG@10"] > 0.3           # the query is a sentence of its document


def test_the_choose_page_adds_queries_runs_and_shows_where_systems_disagree(demo_ws, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from embeddings.evaluate.qrels import load_set
    from embeddings.evaluate.retrieval import evaluate
    from embeddings.store.space_store import load_space
    from embeddings.text.corpus import get_corpus
    from tests.conftest import ROOT

    corpus = get_corpus(demo_ws, "python-docs")
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(demo_ws.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("pages/choose.py").run()
    at.segmented_control(key="ch_mode").set_value("Your queries").run()
    assert not at.exception, at.exception
    assert any("No queries for python-docs yet" in i.value for i in at.info)
    at.file_uploader(key="rt_files").set_value([("firsts.csv", _cloze_csv(corpus, 20), "text/csv")]).run()
    at.text_input(key="rt_name").input("firsts").run()
    at.button(key="rt_add").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("20 queries" in s.value for s in at.success)
    at.multiselect(key=f"rt_spaces_{corpus.id}").set_value(["pydocs-minilm"]).run()
    at.toggle(key="rt_hybrid").set_value(True).run()
    at.button(key="rt_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    board = at.dataframe[0].value.set_index("system")          # the leaderboard, then the pairs
    # the page shows what the core computes on the same set and systems
    expected = evaluate(corpus, load_set(demo_ws, "firsts"), [load_space(demo_ws, "pydocs-minilm")],
                        hybrid=["pydocs-minilm"]).leaderboard().set_index("system")
    assert set(board.index) == set(expected.index) == {"BM25", "pydocs-minilm", "BM25 + pydocs-minilm (RRF)"}
    for system in board.index:
        assert board.loc[system, "nDCG@10"] == pytest.approx(expected.loc[system, "nDCG@10"])
        assert board.loc[system, "queries"] == 20
    assert any("Means over 20 queries" in c.value for c in at.caption)
    verdicts = at.dataframe[1].value["verdict"]
    assert len(verdicts) == 3
    # no queries of one's own: the page makes some, labelled as a proxy, and selects them
    at.radio(key="rt_make_method").set_value("cloze").run()
    at.number_input(key="rt_make_n").set_value(50).run()
    at.button(key="rt_make").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("50 queries" in s.value and "a proxy" in s.value for s in at.success), [s.value for s in at.success]
    assert at.selectbox(key="rt_set").value == load_set(demo_ws, "python-docs-cloze").id


def _opening_csv(corpus, n=60) -> bytes:
    """Harder queries: a document's first six words (docstrings often open alike: "Return a new ...")."""
    docs = corpus.documents().iloc[::max(1, len(corpus.documents()) // n)].head(n)
    return _csv([["query", "document"], *[[" ".join(t.split()[:6]), t] for t in docs["text"]]])


@pytest.mark.browser
def test_the_choose_page_in_a_browser_compares_search_systems_on_your_queries(page, app_server, tmp_path):
    from playwright.sync_api import expect

    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import get_corpus
    from tests.conftest import layout_problems, screenshot, wait_for_app

    upload = tmp_path / "openings.csv"
    upload.write_bytes(_opening_csv(get_corpus(Workspace(app_server.workspace), "python-docs")))
    page.goto(f"{app_server.url}/choose?ch_mode=Your+queries")
    wait_for_app(page)
    page.get_by_text("Add your queries").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    wait_for_app(page)
    page.get_by_role("textbox", name="Name").fill("openings")
    page.get_by_role("textbox", name="Name").press("Enter")
    wait_for_app(page)
    page.locator("button", has_text="Add the queries").click()
    expect(page.get_by_text(re.compile(r"Added openings: \d+ queries"))).to_be_visible(timeout=60_000)
    page.locator("button", has_text="Run").first.click()
    wait_for_app(page)
    expect(page.get_by_text(re.compile(r"Means over \d+ queries"))).to_be_visible(timeout=180_000)
    board = page.locator('[data-testid="stDataFrame"]').first
    expect(board).to_contain_text("BM25")
    expect(page.get_by_text(re.compile(r"paired bootstrap over queries"))).to_be_visible()
    screenshot(page, "choose-queries")
    assert layout_problems(page) == {}
    assert page.js_errors == []


def test_self_made_queries_are_seeded_split_and_labelled_as_a_proxy(lee_ws, tmp_path):
    from embeddings.evaluate.qrels import load_set
    from embeddings.evaluate.retrieval import evaluate
    from embeddings.evaluate.selfmade import SelfMadeParams, make_set
    from embeddings.readers import Document
    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import add_corpus, get_corpus
    from tests.conftest import copy_workspace

    ws = Workspace(copy_workspace(lee_ws.root, tmp_path / "ws"))
    qset = make_set(ws, "cloze", "lee", "cloze", params=SelfMadeParams(queries=50, train_share=0.2, seed=3))
    docs = get_corpus(ws, "lee").documents().set_index("doc")
    assert len(qset.queries) == 50 and (qset.queries["split"] == "train").sum() == 10
    for qid, text in zip(qset.queries["qid"], qset.queries["text"]):
        doc = int(qset.qrels.set_index("qid").loc[qid, "doc"])
        assert text in " ".join(str(docs.loc[doc, "text"]).split())     # a sentence of its own document
    assert "a proxy" in qset.source and "not removed" in qset.source
    again = make_set(ws, "cloze-again", "lee", "cloze", params=SelfMadeParams(queries=50, train_share=0.2, seed=3))
    assert again.queries.equals(qset.queries) and again.qrels.equals(qset.qrels)      # seeded
    other = make_set(ws, "cloze-other", "lee", "cloze", params=SelfMadeParams(queries=50, seed=4))
    assert list(other.queries["text"]) != list(qset.queries["text"])
    result = evaluate(get_corpus(ws, "lee"), load_set(ws, "cloze"), [])
    assert result.n_queries == 40                    # the training queries are never evaluated on
    # a title column: each unique title names its document; a shared one names none
    titled = [Document(f"Body {i} about topic {i}.", f"t{i}.txt", {"title": f"Title {i}"}) for i in range(12)]
    titled.append(Document("Another body.", "t12.txt", {"title": "Title 3"}))
    add_corpus(ws, "titled", documents=titled)
    made = make_set(ws, "titles", "titled", "title", column="title")
    assert sorted(made.queries["text"]) == sorted(f"Title {i}" for i in range(12) if i != 3)
    with pytest.raises(InputError, match="Name the column that holds each document's title"):
        make_set(ws, "no-column", "titled", "title")
    # a heading: the section read under it is its answer; a repeated heading ("Examples") names none
    from embeddings.readers import Source

    md = "".join(f"## {i}.1. Topic {i} heading\nSection {i} says something about subject {i}.\n\n### Examples\nx{i}\n"
                 for i in range(12))
    add_corpus(ws, "sectioned", sources=[Source("guide.md", md.encode(), sections=True)])
    made = make_set(ws, "headings", "sectioned", "heading")
    assert sorted(made.queries["text"]) == sorted(f"Topic {i} heading" for i in range(12))     # numbering dropped
    sections = get_corpus(ws, "sectioned").documents().set_index("doc")
    for qid, doc in zip(made.qrels["qid"], made.qrels["doc"]):
        text = made.queries.set_index("qid").loc[qid, "text"]
        assert sections.loc[doc, "meta.heading"].endswith(text) and text not in sections.loc[doc, "text"]
    with pytest.raises(InputError, match="was not read by sections"):
        make_set(ws, "no-headings", "titled", "heading")
