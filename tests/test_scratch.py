"""#26, item 3: a job's scratch folder belongs to the job. Another process opening the workspace
(its sweep removes every ``.tmp`` folder no process holds) in the middle of a long job leaves
the job running to success; a folder nobody holds is swept (the control)."""

import os
import subprocess
import sys
import time

import pytest

from embeddings.store.workspace import Workspace
from tests.conftest import ROOT, copy_workspace


def _another_process_opens(root) -> None:
    """Age every scratch folder past the sweep's grace, then open the workspace from a second
    process (the CLI, as a user in another shell would)."""
    old = time.time() - 3600
    for child in (root / ".tmp").iterdir():
        os.utime(child, (old, old))
    done = subprocess.run([sys.executable, "-m", "embeddings", "--workspace", str(root), "corpus", "list"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def _opened_once(root):
    """A progress callback that runs :func:`_another_process_opens` at the job's first report."""
    seen = []

    def progress(fraction, message):
        if not seen:
            seen.append(sorted(p.name for p in (root / ".tmp").iterdir()))
            _another_process_opens(root)
    progress.seen = seen
    return progress


@pytest.fixture
def ws(lee_small_ws, tmp_path) -> Workspace:
    return Workspace(copy_workspace(lee_small_ws.root, tmp_path / "ws"))


def test_a_folder_nobody_holds_is_swept_by_the_other_process(ws):
    stray = ws.root / ".tmp" / "left-by-a-killed-job"
    stray.mkdir()
    _another_process_opens(ws.root)
    assert not stray.exists()


def test_a_bootstrap_stability_study_outlives_another_process_opening_the_workspace(ws):
    from embeddings.analysis.stability import StabilityParams, run_study

    progress = _opened_once(ws.root)
    study = run_study(ws, StabilityParams("lee", "ppmi", runs=2, bootstrap=True, top=300,
                                          settings={"dim": 20}), progress=progress)
    assert any(name.startswith("job-stability-") for name in progress.seen[0])   # the job's folder was there
    assert len(study.spaces) == 2 and study.labels["stability"].between(0, 1).all()
    assert not any((ws.root / ".tmp").iterdir())                                # and it went with the job


def test_a_fine_tune_outlives_another_process_opening_the_workspace(ws):
    from embeddings.models import finetune_space

    progress = _opened_once(ws.root)
    space, run = finetune_space(ws, "minilm", "lee", "lee-simcse", progress=progress, method="simcse",
                                max_sentences=32, max_steps=1, batch_size=8)
    assert any(name.startswith("job-finetune-") for name in progress.seen[0])
    assert run["steps"] == 1 and (ws.get("space", "lee-simcse").path / "model").is_dir()


def test_a_distillation_outlives_another_process_opening_the_workspace(ws):
    from embeddings.models import distil_space

    progress = _opened_once(ws.root)
    space = distil_space(ws, "minilm", "lee-static", dims=16, words=False, progress=progress)
    assert any(name.startswith("job-distil-") for name in progress.seen[0])
    assert space.dim == 16 and (ws.get("space", "lee-static").path / "model").is_dir()
    assert not any((ws.root / ".tmp").iterdir())


def test_an_encoding_outlives_another_process_opening_the_workspace(ws):
    from embeddings.models.encode import encode_space
    from embeddings.text.corpus import get_corpus

    progress = _opened_once(ws.root)
    space = encode_space(ws, get_corpus(ws, "lee"), "minilm", "lee-docs", limit=40, progress=progress)
    assert progress.seen[0] and len(space) == 40          # its build folder was there, held
    assert not any((ws.root / ".tmp").iterdir())


def test_a_benchmark_outlives_another_process_opening_the_workspace(ws):
    from embeddings.evaluate.benchmark import cached_benchmark
    from embeddings.text.corpus import add_corpus
    from embeddings.text.preprocess import RECOMMENDED
    from tests.conftest import LABELLED_AREAS, labelled_docs

    corpus = add_corpus(ws, "pydocs3", documents=labelled_docs(), preprocessing=RECOMMENDED)
    progress = _opened_once(ws.root)
    result, cached = cached_benchmark(ws, corpus, "area", [], tasks=("classification",), folds=3, tfidf=True,
                                      progress=progress)
    assert progress.seen and not cached and set(result.labels.classes) == set(LABELLED_AREAS)
    assert cached_benchmark(ws, corpus, "area", [], tasks=("classification",), folds=3, tfidf=True)[1]
