"""Fine-tuning for retrieval (#29): a retrieval set's training queries teach, its evaluation
queries never do; hard negatives follow the stated rule; before and after reads fine-tuned − base."""

import json
from pathlib import Path

import numpy as np
import pytest

from embeddings.evaluate.ir import MAIN
from embeddings.evaluate.qrels import load_set
from embeddings.evaluate.retrieval import evaluate, prepared, training_queries
from embeddings.evaluate.selfmade import SelfMadeParams, make_set
from embeddings.store.space_store import load_space
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import add_corpus, get_corpus
from embeddings.text.samples import SAMPLES


def _build(root: Path) -> None:
    """A real retrieval fine-tune from the CLI (three steps, BM25 negatives) on 60 of Lee's
    documents, what its trainer was given (``seen.json``), its JSON (``out.json``), and the
    base's document space of the same corpus."""
    import contextlib
    import io

    from embeddings.cli import main
    from embeddings.models import add_pretrained, finetune

    ws = Workspace(root / "ws")
    add_corpus(ws, "lee40", documents=SAMPLES["lee"].load()[:40])
    make_set(ws, "cloze", "lee40", "cloze", params=SelfMadeParams(queries=40, train_share=0.5, seed=1))
    seen = {}
    real = finetune.build_triplets
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setattr(finetune, "build_triplets", lambda *a, **k: seen.setdefault("out", real(*a, **k)))
        code = main(["--workspace", str(ws.root), "space", "finetune", "minilm", "--quiet", "--corpus", "lee40",
                     "--method", "retrieval", "--queries", "cloze", "--negatives", "bm25", "--max-steps", "3",
                     "--batch-size", "8", "--name", "tuned", "--json"])
    assert code == 0
    add_pretrained(ws, "minilm", "base", corpus="lee40", unit="document")
    dataset, split, _ = seen["out"]
    (root / "seen.json").write_text(json.dumps({**{c: list(dataset[c]) for c in dataset.column_names},
                                                "train": [int(i) for i in split.train]}))
    (root / "out.json").write_text(out.getvalue())
    (root / "DONE").touch()


@pytest.fixture(scope="session")
def tuned(tmp_path_factory, request):
    """The fine-tune, built once for the session (under pytest-xdist, by the first worker that
    asks; the others wait on the lock and read it). Tests read it; one that writes copies it."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent if hasattr(request.config, "workerinput") else \
        tmp_path_factory.getbasetemp()
    root = shared / "finetune-retrieval"
    with FileLock(f"{shared}/finetune-retrieval.lock"):
        if not (root / "DONE").exists():             # built aside, then moved: a failed build leaves nothing
            import shutil

            building = shared / "finetune-retrieval.building"
            shutil.rmtree(building, ignore_errors=True)
            _build(building)
            building.rename(root)
    return Workspace(root / "ws"), json.loads((root / "seen.json").read_text()), json.loads((root / "out.json").read_text())


@pytest.mark.xdist_group("finetune_retrieval")
def test_a_retrieval_fine_tune_trains_on_training_queries_only_and_reads_tuned_minus_base(tuned, tmp_path):
    from tests.conftest import copy_workspace

    shared, dataset, out = tuned
    small = Workspace(copy_workspace(shared.root, tmp_path / "ws"))         # this test adds a set
    record = out["retrieval"]
    qset = load_set(small, "cloze")
    train, held = set(qset.texts("train").values()), set(qset.texts("eval").values())
    assert set(dataset["anchor"]) <= train and not set(dataset["anchor"]) & held      # never an evaluation query
    assert record["negatives"] == "bm25" and record["examples"] == len(dataset["anchor"]) >= 16
    docs = get_corpus(small, "lee40").documents()
    judged, texts = qset.judged("train"), dict(zip(qset.texts("train").values(), qset.texts("train")))
    number = {t: i for i, t in enumerate(docs["text"])}
    for q, p, n in zip(dataset["anchor"], dataset["positive"], dataset["negative"]):
        assert judged[texts[q]].get(number[p], 0) > 0 and judged[texts[q]].get(number[n], 0) == 0
    assert set(dataset["train"]) == {number[p] for p in dataset["positive"]}           # the documents it saw
    # before and after, on the evaluation queries: the difference is the mean of the per-query changes
    space = load_space(small, "tuned")
    result = evaluate(get_corpus(small, "lee40"), qset, [load_space(small, "base"), space], bm25=False)
    assert result.n_queries == len(held)
    wide = result.per_query.pivot(index="qid", columns="system", values=MAIN)
    d = result.difference("tuned", "base")
    assert d.difference == pytest.approx(float((wide["tuned"] - wide["base"]).mean()))
    assert d.low <= d.difference <= d.high
    changes = result.changes("base", "tuned")
    assert list(changes["change"].abs()) == sorted(changes["change"].abs(), reverse=True)
    assert (changes["change"] != 0).all() and len(changes) == min(20, int(((wide["tuned"] - wide["base"]) != 0).sum()))
    # another set over the same corpus shares queries with the training ones: those are left out for every system
    other = make_set(small, "cloze-2", "lee40", "cloze", params=SelfMadeParams(queries=40, seed=1))
    overlap = sum(t in train for t in other.texts("eval").values())
    assert overlap > 0
    again = evaluate(get_corpus(small, "lee40"), other, [space], bm25=True, trained=training_queries(small, [space]))
    assert again.n_queries == 40 - overlap and f"{overlap:,} evaluation queries were training queries" in again.notes[1]


def test_hard_negatives_mined_by_the_model_keep_the_stated_margin(tuned):
    """sentence-transformers' mine_hard_negatives with the base model: each negative scores
    below (1 − margin) × its positive, by cosines computed here with the model."""
    from embeddings.models.finetune import load_trainable
    from embeddings.models.finetune_retrieval import RELATIVE_MARGIN, build_triplets
    from embeddings.models.sentence import minilm_path

    model = load_trainable(minilm_path())
    model.max_seq_length = 128
    small = tuned[0]
    corpus = get_corpus(small, "lee40")
    seen = []
    dataset, _, record = build_triplets(model, corpus, load_set(small, "cloze"), budget=1000, seed=0,
                                        negatives="model", progress=lambda f, m: seen.append(f))
    assert record["examples"] == len(dataset) >= 10 and seen == sorted(seen)            # the bar never goes back
    q = model.encode(dataset["anchor"], normalize_embeddings=True)
    p = model.encode(dataset["positive"], normalize_embeddings=True)
    n = model.encode(dataset["negative"], normalize_embeddings=True)
    assert "encode_document" not in model.__dict__                                    # the wrapper is gone
    positive, negative = np.sum(q * p, axis=1), np.sum(q * n, axis=1)
    assert (negative <= (1 - RELATIVE_MARGIN) * positive + 1e-4).all()
    assert all(a != b for a, b in zip(dataset["positive"], dataset["negative"]))


@pytest.mark.xdist_group("finetune_retrieval")
def test_before_and_after_shows_the_retrieval_change_and_the_queries_that_moved(tuned, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    small, _, _ = tuned
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(small.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("pages/customise.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="ba_tuned").value == "tuned"
    assert any("Retrieval on cloze's evaluation queries" in h.value for h in at.subheader)
    result = evaluate(get_corpus(small, "lee40"), load_set(small, "cloze"),        # as the page readies them
                      **prepared(small, [load_space(small, "base"), load_space(small, "tuned")]), bm25=False)
    d = result.difference("tuned", "base")
    metrics = {m.label: m for m in at.metric}
    assert metrics["nDCG@10, fine-tuned"].value == f"{result.leaderboard().set_index('system').loc['tuned', MAIN]:.3f}"
    assert metrics["nDCG@10, fine-tuned"].delta == f"{d.difference:+.3f}"
    assert any(f"{result.n_queries:,} queries never trained on" in c.value for c in at.caption)
    if len(result.changes("base", "tuned")):
        assert at.selectbox(key="ba_rt_query").options
        assert any("relevant" in m.value for m in at.markdown)          # the picked query's two top 5s
