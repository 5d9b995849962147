"""The command line, in process (fast) and as a real subprocess (what a user runs)."""

import json
import os
import subprocess
import sys

import pytest

from embeddings.cli import main
from tests.conftest import ROOT, make_docx, make_pdf, make_zip, write_labelled_csv


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_corpus_add_list_show_rename_delete(tmp_path, capsys):
    ws = tmp_path / "ws"
    files = {
        "a.txt": b"The first file. It has two sentences.",
        "b.csv": b"id,body\n1,Row one text.\n2,Row two text.\n",
        "c.pdf": make_pdf(["A PDF line."]),
        "d.docx": make_docx(["A Word paragraph."]),
        "e.zip": make_zip({"inner/f.md": b"# Zipped markdown"}),
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    code, out, err = run(capsys, "--workspace", ws, "corpus", "add", *paths, "--name", "mix", "--text-column",
                         "body", "--json")
    assert code == 0, err
    added = json.loads(out)
    assert {"id", "name", "documents", "sentences", "tokens", "vocabulary"} <= set(added)
    assert added["documents"] == 6 and added["name"] == "mix"

    code, out, _ = run(capsys, "--workspace", ws, "corpus", "list", "--json")
    assert code == 0 and [r["name"] for r in json.loads(out)] == ["mix"]
    code, out, _ = run(capsys, "--workspace", ws, "corpus", "show", "mix", "--json", "--top", "3")
    shown = json.loads(out)
    assert len(shown["top_terms"]) == 3 and shown["top_terms"][0]["count"] >= shown["top_terms"][1]["count"]
    assert {f["file"] for f in shown["files"]} >= {"a.txt", "b.csv", "c.pdf", "d.docx", "e.zip",
                                                   "e.zip/inner/f.md"}
    code, out, _ = run(capsys, "--workspace", ws, "corpus", "rename", "mix", "mixed")
    assert code == 0 and "renamed to mixed" in out
    code, out, _ = run(capsys, "--workspace", ws, "corpus", "delete", "mixed")
    assert code == 0
    code, out, _ = run(capsys, "--workspace", ws, "corpus", "list", "--json")
    assert json.loads(out) == []


# case -> (file name, file bytes or None for a missing file, extra CLI args, expected message)
BAD_INPUTS = {
    "empty file": ("empty.txt", b"", [], "is empty"),
    "binary renamed .txt": ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, [], "binary"),
    "decodes as nothing": ("bom.txt", b"\xef\xbb\xbf\n \n", [], "contains no text"),
    "over the size limit": ("big.txt", b"word " * 300, ["--max-mb", "0.001"], "over the"),
    "zip with ../": ("evil.zip", make_zip({"../../etc/x.txt": b"x"}), [], "unsafe path"),
    "zip with absolute path": ("abs.zip", make_zip({"/tmp/x.txt": b"x"}), [], "unsafe path"),
    "zip bomb": ("bomb.zip", make_zip({"z.txt": b"\0" * (20 << 20)}), [], "zip bomb"),
    "corrupt pdf": ("bad.pdf", b"%PDF-1.4\nnot really", [], "not a readable PDF"),
    "corrupt docx": ("bad.docx", b"PK\x03\x04junk", [], "not a readable Word"),
    "csv without the column": ("t.csv", b"id,text\n1,hi\n", ["--text-column", "body"], "no column 'body'"),
    "zero tokens": ("nums.txt", b"1 2 3 42", ["--drop-numbers"], "No tokens are left"),
    "duplicate name": ("fine.txt", b"fine words", ["--name", "saved"], "already exists"),
    "missing file": ("nope.txt", None, [], "no such file"),
    "pickle": ("m.pkl", b"\x80\x04.", [], "unpickling"),
    "bad option": ("ok.txt", b"ok", ["--phrases", "sixgrams"], "invalid choice"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_line_nonzero_and_keeps_what_was_saved(tmp_path, capsys, case):
    ws = tmp_path / "ws"
    (tmp_path / "good.txt").write_bytes(b"Saved before anything went wrong.")
    assert run(capsys, "--workspace", ws, "corpus", "add", tmp_path / "good.txt", "--name", "saved")[0] == 0
    name, data, args, message = BAD_INPUTS[case]
    if data is not None:
        (tmp_path / name).write_bytes(data)
    if "--name" not in args:
        args = [*args, "--name", "new"]
    code, out, err = run(capsys, "--workspace", ws, "corpus", "add", tmp_path / name, *args, "--json", "--quiet")
    assert code == 2 and json.loads(out) == {"error": err.strip().removeprefix("error: "), "kind": "input"}
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err
    code, out, _ = run(capsys, "--workspace", ws, "corpus", "list", "--json")
    assert [r["name"] for r in json.loads(out)] == ["saved"]


def _subprocess(*argv, **kw):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("EMBEDDINGS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "embeddings", *map(str, argv)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, **kw)


def test_real_process_lee_sample_reports_about_60k_tokens(tmp_path):
    proc = _subprocess("--workspace", tmp_path / "w", "corpus", "add", "--sample", "lee", "--name", "lee", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one JSON document
    assert 55_000 <= doc["tokens"] <= 65_000 and doc["documents"] == 300
    proc = _subprocess("--workspace", tmp_path / "w", "corpus", "add", "--sample", "lee", "--name", "lee")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "already exists" in proc.stderr
    proc = _subprocess("--workspace", tmp_path / "w", "corpus", "show", "nosuch")
    assert proc.returncode == 2 and proc.stderr == "error: No corpus named 'nosuch'. Known: lee.\n"


def test_unknown_sample_and_usage_errors_are_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "--workspace", tmp_path / "w", "corpus", "add", "--sample", "nope", "--name", "x")
    assert code == 2 and "Unknown sample 'nope'" in err and err.count("\n") == 1
    code, _, err = run(capsys, "--workspace", tmp_path / "w", "frobnicate")
    assert code == 2 and err.count("\n") == 1 and "invalid choice" in err


def test_seed_is_idempotent(demo_ws, capsys):
    ws = demo_ws.root
    code, out, _ = run(capsys, "--workspace", ws, "seed", "--json")
    assert code == 0 and json.loads(out)["added"] == []
    run(capsys, "--workspace", ws, "corpus", "delete", "lee")
    code, out, _ = run(capsys, "--workspace", ws, "seed", "--json")  # a deleted demo does not come back
    assert json.loads(out)["added"] == []


# -- models -----------------------------------------------------------------------------
def test_train_export_and_read_back_with_gensim(lee_ws, tmp_path, capsys):
    from gensim.models import KeyedVectors

    from tests.conftest import copy_workspace

    ws = copy_workspace(lee_ws.root, tmp_path / "ws")
    code, out, err = run(capsys, "--workspace", ws, "train", "--corpus", "lee", "--model", "word2vec", "--dim", "50",
                         "--epochs", "5", "--seed", "1", "--name", "w2v", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert {"id", "name", "family", "vocabulary", "dim", "seconds", "words_per_second"} <= set(doc)
    assert doc["family"] == "word2vec" and doc["dim"] == 50 and doc["words_per_second"] > 0
    code, _, err = run(capsys, "--workspace", ws, "export", "w2v", "--format", "word2vec", "--out", tmp_path / "f.txt")
    assert code == 0, err
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "f.txt"))
    assert len(kv) == doc["vocabulary"]
    code, out, _ = run(capsys, "--workspace", ws, "space", "reduce", "w2v", "--dim", "10", "--name", "w2v10", "--json")
    assert code == 0 and json.loads(out)["dim"] == 10 and json.loads(out)["parent"] == "w2v"
    code, out, _ = run(capsys, "--workspace", ws, "space", "list", "--json")
    assert [s["name"] for s in json.loads(out)] == ["w2v", "w2v10"]
    code, out, _ = run(capsys, "--workspace", ws, "space", "show", "w2v10", "--json")
    assert json.loads(out)["provenance"]["derived"] == "pca(10)"
    code, out, _ = run(capsys, "--workspace", ws, "space", "delete", "w2v10")
    assert code == 0
    code, _, err = run(capsys, "--workspace", ws, "space", "import", tmp_path / "f.txt", "--format", "glove",
                       "--name", "wrong")
    assert code == 2 and "is this the word2vec format" in err and err.count("\n") == 1


def test_add_pretrained_minilm_with_the_network_blocked(lee_ws, tmp_path, capsys, no_network):
    from tests.conftest import copy_workspace

    ws = copy_workspace(lee_ws.root, tmp_path / "ws")
    code, out, err = run(capsys, "--workspace", ws, "space", "add-pretrained", "minilm", "--terms-from", "lee",
                         "--top", "200", "--name", "mini", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["vocabulary"] == 200 and doc["dim"] == 384 and doc["family"] == "sentence-transformer"
    code, out, _ = run(capsys, "--workspace", ws, "space", "add-pretrained", "glove-6b-50d", "--top", "1000",
                       "--name", "g", "--json")
    assert json.loads(out)["vocabulary"] == 1000
    code, _, err = run(capsys, "--workspace", ws, "space", "add-pretrained", "minilm", "--name", "x")
    assert code == 2 and "--terms-from" in err
    assert no_network == []


def test_pickled_model_is_refused_on_the_cli(tmp_path, capsys):
    (tmp_path / "w2v.model").write_bytes(b"\x80\x04\x95 whatever")
    code, _, err = run(capsys, "--workspace", tmp_path / "ws", "space", "import", tmp_path / "w2v.model",
                       "--format", "word2vec", "--name", "m")
    assert code == 2 and "pickle-based" in err and "would run code" in err


def test_neighbours_compare_and_project_on_the_demo(demo_ws, tmp_path, capsys):
    ws = demo_ws.root
    code, out, err = run(capsys, "--workspace", ws, "neighbours", "glove-50d", "king - man + woman", "-k", "3", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["query"] == "king - man + woman" and doc["neighbours"][0]["label"] == "queen"
    code, _, err = run(capsys, "--workspace", ws, "neighbours", "lee-word2vec", "governmnt")
    assert code == 2 and "Did you mean: government" in err
    code, out, _ = run(capsys, "--workspace", ws, "compare", "lee-word2vec", "lee-minilm", "-k", "5", "--json")
    doc = json.loads(out)
    assert {"k", "shared", "mean_jaccard", "median_jaccard", "labels"} <= set(doc) and doc["k"] == 5
    assert {"label", "jaccard", "ordered"} <= set(doc["labels"][0])
    # with the demo's stability study: the same figures as the Compare page's, no NaN in the JSON
    code, out, err = run(capsys, "--workspace", ws, "compare", "lee-word2vec", "lee-minilm", "--noise",
                         "lee-word2vec-stability", "--json")
    assert code == 0, err
    doc = json.loads(out)
    from embeddings.analysis.neighbours import compare
    from embeddings.analysis.stability import comparison_noise, load_study
    from embeddings.store.space_store import load_space
    from embeddings.store.workspace import Workspace

    w = Workspace(ws)
    study = load_study(w, "lee-word2vec-stability")
    expected = comparison_noise(study, compare(load_space(w, "lee-word2vec"), load_space(w, "lee-minilm"), 10).table)
    assert doc["noise_floor"] == pytest.approx(expected) and expected["measured"] > 1000
    floors = study.labels.set_index("label")["floor"]
    assert all(row["floor"] == pytest.approx(floors[row["label"]]) if row["label"] in floors.index
               else row["floor"] is None for row in doc["labels"])
    code, out, err = run(capsys, "--workspace", ws, "project", "lee-word2vec", "--method", "pca", "--limit", "500",
                         "--out", tmp_path / "p.parquet", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["points"] == 500 and 0 < doc["trustworthiness"] <= 1 and "knn_preservation" in doc
    import pandas as pd

    assert len(pd.read_parquet(tmp_path / "p.parquet")) == 500


def test_a_labelled_csv_pooled_tfidf_and_benchmarked_with_a_gate(tmp_path, capsys):
    """The #13 path on a user's CSV: label kept as metadata, two document spaces, the
    benchmark as JSON (no NaN), and --fail-below exiting 3."""
    path = tmp_path / "docs.csv"
    docs = write_labelled_csv(path, module=True)
    ws = tmp_path / "ws"
    assert run(capsys, "--workspace", ws, "corpus", "add", path, "--name", "docs", "--text-column", "text")[0] == 0
    assert run(capsys, "--workspace", ws, "space", "add-pretrained", "glove-6b-50d", "--name", "glove",
               "--top", "50000")[0] == 0
    code, out, err = run(capsys, "--workspace", ws, "space", "pool", "glove", "--corpus", "docs", "--method", "sif",
                         "--name", "glove-sif", "--json")
    assert code == 0, err
    pooled = json.loads(out)
    assert pooled["unit"] == "document" and pooled["vocabulary"] == len(docs) and 0 < pooled["oov_share"] < 0.5
    code, out, err = run(capsys, "--workspace", ws, "space", "add-baseline", "tfidf", "--corpus", "docs",
                         "--ngrams", "char:3-4", "--lsa", "40", "--name", "char-lsa", "--json")
    assert code == 0, err
    assert json.loads(out)["dim"] == 40
    code, out, err = run(capsys, "--workspace", ws, "benchmark", "--corpus", "docs", "--label", "area", "--spaces",
                         "glove-sif,char-lsa", "--tfidf", "--tasks", "classification,clustering", "--folds", "3",
                         "--json")
    assert code == 0, err
    result = json.loads(out)
    assert {"corpus", "label", "documents", "classes", "results", "pairs", "cost", "pareto"} <= set(result)
    assert result["classes"] == 3 and result["documents"] == len(docs)
    assert {r["task"] for r in result["results"]} == {"classification", "clustering"}
    assert all({"space", "task", "metric", "score", "std", "coverage"} <= set(r) for r in result["results"])
    assert all({"a", "b", "task", "difference", "low", "high"} <= set(p) for p in result["pairs"])
    assert set(result["pareto"]) <= {"glove-sif", "char-lsa", "tfidf (sparse)"} and result["pareto"]
    assert "NaN" not in out
    from tests.test_similarity import PAIRS

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("\n".join(f"{a}\t{b}\t{s}" for a, b, s in PAIRS) + "\n")
    code, out, err = run(capsys, "--workspace", ws, "benchmark", "--corpus", "docs", "--label", "area", "--spaces",
                         "glove-sif,char-lsa", "--tasks", "retrieval", "--pairs", pairs, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert [r["space"] for r in result["similarity"]] == ["glove-sif", "char-lsa"]     # TF-IDF + LSA is refitted
    assert result["similarity"][0]["total"] == 6 and not result["similarity_refused"]
    code, out, err = run(capsys, "--workspace", ws, "benchmark", "--corpus", "docs", "--label", "area", "--spaces",
                         "glove-sif", "--tasks", "classification", "--folds", "3", "--fail-below", "0.99")
    assert code == 3 and "benchmark gate: glove-sif classification macro-F1" in err
    code, _, err = run(capsys, "--workspace", ws, "benchmark", "--corpus", "docs", "--label", "colour",
                       "--spaces", "glove-sif")
    assert code == 2 and "no column 'colour'" in err and "area" in err


def test_json_errors_are_json_on_stdout_and_progress_goes_to_stderr(tmp_path, capsys, monkeypatch):
    ws = tmp_path / "ws"
    code, out, err = run(capsys, "--workspace", ws, "corpus", "show", "nope", "--json")
    assert code == 2 and json.loads(out)["kind"] == "input" and "No corpus named 'nope'" in json.loads(out)["error"]
    # an internal error: one line on stderr, its JSON on stdout, exit 1
    import embeddings.text.corpus

    monkeypatch.setattr(embeddings.text.corpus, "list_corpora", lambda ws: 1 / 0)
    code, out, err = run(capsys, "--workspace", ws, "corpus", "list", "--json")
    assert code == 1 and json.loads(out) == {"error": "ZeroDivisionError: division by zero (set EMBEDDINGS_DEBUG=1 "
                                                      "for the traceback)", "kind": "internal"}
    assert err.startswith("internal error: ZeroDivisionError") and err.count("\n") == 1
    monkeypatch.undo()
    # progress goes to stderr with --json (stdout keeps its one document), and not with --quiet
    (tmp_path / "a.txt").write_text("Some words here. And some more words there.")
    code, out, err = run(capsys, "--workspace", ws, "corpus", "add", tmp_path / "a.txt", "--name", "a", "--json")
    assert code == 0 and json.loads(out)["name"] == "a" and "%]" in err
    code, out, err = run(capsys, "--workspace", ws, "corpus", "add", tmp_path / "a.txt", "--name", "b", "--json",
                         "--quiet")
    assert code == 0 and err == ""
    # a library that prints on stdout during a --json command (Ray's raylet warnings did) cannot break the document
    real = embeddings.text.corpus.list_corpora
    monkeypatch.setattr(embeddings.text.corpus, "list_corpora",
                        lambda ws: print("(raylet) WARNING: 8 PYTHON worker processes have been started") or real(ws))
    code, out, err = run(capsys, "--workspace", ws, "corpus", "list", "--json")
    assert code == 0 and [r["name"] for r in json.loads(out)] == ["a", "b"] and "(raylet) WARNING" in err
    code, out, err = run(capsys, "--workspace", ws, "corpus", "list")                   # without --json: as printed
    assert out.startswith("(raylet) WARNING")


def test_listing_the_samples_creates_no_workspace(tmp_path, capsys, monkeypatch):
    """#26, item 9: ``samples`` reads the package only; it used to leave an empty ./workspace."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EMBEDDINGS_WORKSPACE", raising=False)
    code, out, _ = run(capsys, "samples", "--json")
    assert code == 0 and {"lee", "python-docs"} <= {r["key"] for r in json.loads(out)}
    assert list(tmp_path.iterdir()) == []
