"""Evaluation equals gensim; the audit's coverage, pieces and drift match direct
computations; mining finds jargon; the CLI for both."""

import importlib
import json
import keyword
import sys

import numpy as np
import pandas as pd
import pytest
from gensim.models import KeyedVectors

from embeddings.analysis import audit as A
from embeddings.errors import InputError
from embeddings.evaluate import intrinsic as ev
from embeddings.evaluate.scoreboard import MIN_COVERAGE, scoreboard
from embeddings.store.space_store import load_space
from embeddings.text.corpus import get_corpus
from tests.conftest import run_cli as run


def keyed_vectors(space) -> KeyedVectors:
    kv = KeyedVectors(space.dim)
    kv.add_vectors(space.labels, np.asarray(space.vectors))
    return kv


def gensim_section_scores(sections):
    return [len(s["correct"]) / (len(s["correct"]) + len(s["incorrect"])) if s["correct"] or s["incorrect"] else 0.0
            for s in sections[:-1]]


@pytest.fixture(scope="module")
def demo(demo_template, tmp_path_factory):
    from embeddings.store.workspace import Workspace
    from tests.conftest import copy_workspace

    return Workspace(copy_workspace(demo_template, tmp_path_factory.mktemp("auditws") / "ws"))


@pytest.mark.parametrize("name,restrict", [("lee-word2vec", 300_000), ("glove-50d", 10_000)])
def test_evaluation_equals_gensim(demo, name, restrict):
    space = load_space(demo, name)
    kv = keyed_vectors(space)
    g_score, g_sections = kv.evaluate_word_analogies(ev.benchmark_path("analogy"), restrict_vocab=restrict)
    ours = ev.analogies(space, restrict_vocab=restrict)
    assert ours.score == pytest.approx(g_score, abs=1e-9)
    assert [s["score"] for s in ours.sections] == pytest.approx(gensim_section_scores(g_sections), abs=1e-9)
    assert ours.correct == len(g_sections[-1]["correct"])
    assert ours.answered == len(g_sections[-1]["correct"]) + len(g_sections[-1]["incorrect"])
    for bench in ("ws353", "simlex"):
        pearson, spearman, oov = kv.evaluate_word_pairs(ev.benchmark_path(bench))
        r = ev.word_pairs(space, ev.benchmark_path(bench))
        assert r.spearman == pytest.approx(spearman[0], abs=1e-9)
        assert r.pearson == pytest.approx(pearson[0], abs=1e-9)
        assert 100 * r.missing_ratio == pytest.approx(oov, abs=1e-9)
    if name == "lee-word2vec":
        assert ours.missing_ratio > 0.9  # the Lee vocabulary lacks most analogy words: shown, not hidden


def test_common_items_equal_gensim_on_the_intersected_file(demo, tmp_path):
    """Each space scored on the questions every space answers: gensim on a file holding
    only those questions gives the same numbers. Ranking leaves out scores on < 50%."""
    spaces = [load_space(demo, n) for n in ("glove-50d", "lee-word2vec", "lee-fasttext")]
    kvs = [keyed_vectors(s) for s in spaces]
    # word pairs: keep the lines every space knows both words of (case-insensitive, as gensim)
    lines = [ln for ln in ev.benchmark_path("ws353").read_text().splitlines() if ln and not ln.startswith("#")]
    known = lambda kv, w: w.upper() in {k.upper() for k in kv.index_to_key[:300_000]}
    vocab = [{k.upper() for k in kv.index_to_key[:300_000]} for kv in kvs]
    common = [ln for ln in lines if len(ln.split("\t")) == 3
              and all(ln.split("\t")[0].upper() in v and ln.split("\t")[1].upper() in v for v in vocab)]
    assert 3 < len(common) < len(lines) and known(kvs[0], "tiger")
    (tmp_path / "common.txt").write_text("\n".join(common) + "\n")
    results = [ev.word_pairs(s, ev.benchmark_path("ws353")) for s in spaces]
    board = scoreboard(results).set_index("space")
    for s, kv in zip(spaces, kvs):
        _, spearman, oov = kv.evaluate_word_pairs(tmp_path / "common.txt")
        assert oov == 0
        assert board.loc[s.name, "common"] == pytest.approx(spearman[0], abs=1e-9)
        assert board.loc[s.name, "common_n"] == len(common)
    # analogies (two spaces, top 30k words): the questions both answer, section by section,
    # from gensim's own lists of what it answered
    two, kv2 = spaces[:2], kvs[:2]
    per = [kv.evaluate_word_analogies(ev.benchmark_path("analogy"), restrict_vocab=30_000)[1][:-1] for kv in kv2]
    shared = [(a["section"], [q for q in a["correct"] + a["incorrect"] if q in set(b["correct"] + b["incorrect"])])
              for a, b in zip(*per)]
    (tmp_path / "common-analogy.txt").write_text("".join(
        f": {sec}\n" + "".join(" ".join(q) + "\n" for q in qs) for sec, qs in shared if qs))
    results = [ev.analogies(s, restrict_vocab=30_000) for s in two]
    board = scoreboard(results).set_index("space")
    for s, kv in zip(two, kv2):
        score, _ = kv.evaluate_word_analogies(tmp_path / "common-analogy.txt", restrict_vocab=30_000)
        assert board.loc[s.name, "common"] == pytest.approx(score, abs=1e-9)
        assert board.loc[s.name, "common_n"] == sum(len(qs) for _, qs in shared) > 0
    # coverage and ranking: lee-word2vec answers < 10% of the analogies: shown, never ranked
    w2v = board.loc["lee-word2vec"]
    assert w2v["coverage"] == pytest.approx(w2v["used"] / w2v["total"]) and w2v["coverage"] < MIN_COVERAGE
    assert not w2v["ranked"] and w2v["rank"] is pd.NA
    assert board.loc["glove-50d", "rank"] == 1


def test_analogy_on_a_cased_vocabulary_with_case_collisions():
    """gensim's rule with duplicates across case (Paris/paris) and a tiny vocabulary."""
    rng = np.random.default_rng(0)
    labels = ["paris", "Paris", "france", "rome", "italy", "Rome", "berlin", "germany", "madrid", "spain",
              "x1", "x2", "x3"]
    from embeddings.space import EmbeddingSpace

    space = EmbeddingSpace.from_arrays("toy", labels, rng.normal(size=(len(labels), 8)))
    text = (": capitals\nparis france rome italy\nrome italy berlin germany\nberlin germany madrid spain\n"
            "madrid spain paris france\nparis france nowhere land\n")
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "mini.txt"
    path.write_text(text)
    kv = keyed_vectors(space)
    g_score, _ = kv.evaluate_word_analogies(str(path))
    ours = ev.analogies(space, path)
    assert ours.score == pytest.approx(g_score, abs=1e-12)
    assert ours.questions == 5 and ours.missing == 1


def test_bad_benchmark_files(tmp_path, demo):
    space = load_space(demo, "glove-50d")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    junk = tmp_path / "junk.tsv"
    junk.write_text("just some words\nnot pairs\n")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    for path, needle in ((empty, "empty"), (junk, "no word pairs"), (binary, "binary")):
        with pytest.raises(InputError, match=needle):
            ev.evaluate(space, path)
    unknown = tmp_path / "unknown.tsv"
    unknown.write_text("qqqzz\tzzqqq\t5\nqqqzz1\tzzqqq1\t3\n")
    with pytest.raises(InputError, match="only 0 of the 2 pairs"):
        ev.evaluate(space, unknown)


# -- audit ---------------------------------------------------------------------------------
def python_identifiers() -> set[str]:
    """Names a Python programmer uses: keywords, builtins, stdlib modules and their attributes."""
    names = set(keyword.kwlist) | set(dir(__builtins__) if isinstance(__builtins__, dict) else dir(__builtins__))
    names |= set(sys.stdlib_module_names)
    for mod in sorted(sys.stdlib_module_names):
        if mod.startswith("_") or mod in ("antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"):
            continue
        try:
            m = importlib.import_module(mod)
        except Exception:
            continue
        names |= set(dir(m))
        for v in vars(m).values():
            if isinstance(v, type):
                names |= set(dir(v))
    return {n.lower() for n in names}


def test_mined_terms_of_python_docs_are_jargon(tmp_path):
    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import add_corpus
    from embeddings.text.samples import SAMPLES

    c = add_corpus(Workspace(tmp_path / "ws"), "py", documents=SAMPLES["python-docs"].load())
    mined = A.mine_terms(c, 50)
    assert len(mined) == 50 and mined["score"].is_monotonic_decreasing
    ids = python_identifiers()
    jargon = [t for t in mined["term"] if t in ids or t.replace("-", "") in ids]
    assert len(jargon) >= 30, (len(jargon), sorted(set(mined["term"]) - set(jargon)))
    # general English words are not mined
    assert not {"the", "and", "number", "value", "return"} & set(mined["term"])


def test_audit_matches_direct_computation(demo):
    from transformers import AutoTokenizer

    from embeddings.models.sentence import minilm_path

    corpus = get_corpus(demo, "lee")
    spaces = [load_space(demo, n) for n in ("lee-word2vec", "glove-50d", "lee-minilm")]
    terms = ["qantas", "centrelink", "government", "united_states", "tora_bora", "xyzzyq"]
    result = A.audit(corpus, spaces, terms, k=10)
    assert result.domain == "lee-word2vec"
    t = result.terms.set_index("term")
    vocab = corpus.vocabulary().set_index("term")
    tok = AutoTokenizer.from_pretrained(str(minilm_path()))
    for term in terms:
        assert t.loc[term, "frequency"] == int(vocab["count"].get(term, 0))
        assert t.loc[term, "documents"] == int(vocab["documents"].get(term, 0))
        assert t.loc[term, "pieces"] == tok.tokenize(term.replace("_", " "))
    for s in spaces:
        known = np.array([term in s.index for term in terms])
        assert t[f"known:{s.name}"].tolist() == known.tolist()
        row = result.summary.set_index("space").loc[s.name]
        assert row["coverage"] == pytest.approx(known.mean())
        freq = np.array([vocab["count"].get(x, 0) for x in terms], dtype=float)
        assert row["coverage_by_frequency"] == pytest.approx(freq[known].sum() / freq.sum())
    minilm = result.summary.set_index("space").loc["lee-minilm"]
    assert minilm["mean_fragmentation"] == pytest.approx(np.mean([len(tok.tokenize(x.replace("_", " ")))
                                                                  for x in terms]))
    # overlap: an independent Jaccard over the shared labels; drift reads it the other way round
    dom, glove = spaces[0], spaces[1]
    shared = [lab for lab in dom.labels if lab in glove.index]

    def near(space, term):
        vecs = np.array([space.vectors[space.index[lab]] for lab in shared], dtype=np.float64)
        q = np.asarray(space.vectors[space.index[term]], dtype=np.float64)
        order = [shared[i] for i in np.argsort(-(vecs @ q), kind="stable") if shared[i] != term]
        return set(order[:10])

    for term in ("government", "qantas"):
        a, b = near(dom, term), near(glove, term)
        assert t.loc[term, "overlap:glove-50d"] == pytest.approx(len(a & b) / len(a | b))
        assert t.loc[term, "drift:glove-50d"] == pytest.approx(1 - len(a & b) / len(a | b))
    assert np.isnan(t.loc["tora_bora", "overlap:glove-50d"])  # GloVe has no phrases
    assert np.isnan(t.loc["tora_bora", "drift:glove-50d"])
    g = result.summary.set_index("space").loc["glove-50d"]
    assert g["median_overlap"] == pytest.approx(np.nanmedian(t["overlap:glove-50d"]))
    assert g["median_drift"] == pytest.approx(np.nanmedian(1 - t["overlap:glove-50d"]))
    assert g["overlap_n"] == int(t["overlap:glove-50d"].notna().sum())
    assert "unknown" in t.loc["tora_bora", "flags"] and "rare" in t.loc["xyzzyq", "flags"]
    assert t.loc["government", "neighbours:glove-50d"][:1] == [
        glove.labels[int(np.argsort(-(glove.vectors @ glove.vector("government")))[1])]]


def test_cli_evaluate_and_audit(demo, capsys, tmp_path):
    root = demo.root
    code, out, err = run(capsys, "--workspace", root, "evaluate", "glove", "--benchmark", "ws353", "--json")
    assert code == 0, err
    res = json.loads(out)
    _, spearman, oov = keyed_vectors(load_space(demo, "glove-50d")).evaluate_word_pairs(ev.benchmark_path("ws353"))
    assert res["score"] == pytest.approx(spearman[0], abs=1e-9) and res["missing_ratio"] == oov / 100
    assert {"benchmark", "score", "missing_ratio", "sections", "pearson"} <= set(res)

    code, out, err = run(capsys, "--workspace", root, "evaluate", "glove-50d", "lee-word2vec", "--benchmark",
                         "simlex", "--json")
    assert code == 0, err
    res = json.loads(out)
    by = {r["space"]: r for r in res["results"]}
    assert by["lee-word2vec"]["ranked"] is False and by["lee-word2vec"]["rank"] is None
    assert by["glove-50d"]["rank"] == 1 and by["lee-word2vec"]["coverage"] < 0.5
    assert by["glove-50d"]["common_n"] == by["lee-word2vec"]["n"]       # w2v's words are all in GloVe's
    code, out, err = run(capsys, "--workspace", root, "evaluate", "glove-50d", "lee-word2vec", "--benchmark",
                         "simlex")
    assert "under half: not ranked" in out and "common items" in out

    analogy = tmp_path / "mine.txt"
    analogy.write_text(": family\nman woman king queen\nboy girl brother sister\n")
    code, out, err = run(capsys, "--workspace", root, "evaluate", "glove-50d", "--benchmark", analogy, "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["sections"][0]["section"] == "family" and res["missing_ratio"] == 0.0

    code, out, err = run(capsys, "--workspace", root, "audit", "--corpus", "lee", "--spaces", "lee-word2vec,glove",
                         "--mine", "50", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert len(res["terms"]) == 50 and set(res["coverage"]) == {"lee-word2vec", "glove-50d"}
    for term in res["terms"]:
        assert {"term", "frequency", "documents", "known", "pieces", "neighbours", "overlap", "drift",
                "flags"} <= set(term)
        assert term["frequency"] > 0 and term["documents"] > 0 and term["pieces"]
        assert set(term["known"]) == {"lee-word2vec", "glove-50d"} and len(term["neighbours"]["lee-word2vec"]) == 10
        assert set(term["drift"]) == set(term["overlap"]) == {"glove-50d"}
        o, d = term["overlap"]["glove-50d"], term["drift"]["glove-50d"]
        assert (o is None and d is None) or d == pytest.approx(1 - o)

    code, _, err = run(capsys, "--workspace", root, "audit", "--corpus", "lee", "--spaces", "glove", "--json")
    assert code == 2 and "--terms FILE or --mine N" in err
    code, _, err = run(capsys, "--workspace", root, "evaluate", "glove", "--benchmark", "nosuch.txt")
    assert code == 2 and "no such file" in err


def test_evaluate_text_scores_an_upload_without_a_file(demo):
    """The Evaluate page's upload path: the same scores as the file, nothing written."""
    glove = load_space(demo, "glove-50d")
    text = ev.benchmark_path("ws353").read_text()
    up = ev.evaluate_text(glove, text, "../../my ws353.tsv")
    ref = ev.word_pairs(glove, ev.benchmark_path("ws353"))
    assert (up.spearman, up.pairs, up.missing) == (pytest.approx(ref.spearman, abs=1e-12), ref.pairs, ref.missing)
    assert "/" not in up.benchmark
    an = ev.evaluate_text(glove, ": family\nman woman king queen\nboy girl brother sister\n", "family.txt")
    assert an.sections[0]["section"] == "family" and an.questions == 2
