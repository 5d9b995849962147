"""Demo seeding: a new, empty workspace gets the Lee corpus and four spaces over it,
so the app never opens empty:

- ``lee`` (corpus), then
- ``lee-word2vec`` and ``lee-fasttext`` trained on it with the training defaults (skip-gram, 100-d, 10 epochs),
- ``glove-50d`` (GloVe 6B 50-d, all 400k words),
- ``lee-minilm``: all-MiniLM-L6-v2 over the Lee vocabulary;
- ``lee-word2vec-stability``: five more runs of that Word2Vec with seeds 1–5, the Audit's
  noise floor (about 16 s);

then the labelled sample the Choose page opens on, ``python-docs`` (standard-library
docstrings labelled by area), with a domain model and four document spaces over it:

- ``pydocs-word2vec`` trained on it (a word space, also for the audit),
- ``pydocs-word2vec-sif`` and ``pydocs-glove-sif``: those word spaces SIF-pooled per document,
- ``pydocs-tfidf``: the TF-IDF baseline (word 1–2-grams, LSA to 256 dimensions),
- ``pydocs-minilm``: MiniLM over each document (long ones chunked and mean-pooled),
- ``pydocs-minilm-supervised``: MiniLM fine-tuned on the labels of half the documents
  (the other half held out: every benchmark of this corpus then scores on it),
- ``pydocs-minilm-static``: MiniLM distilled into a 256-d static model (model2vec; the
  tokenizer's vocabulary only: adding the corpus's words takes 100 s instead of 22 s);

and saves the benchmark the Choose page opens on, and caches the UMAP layouts the
Projection page opens on. It takes about six minutes on two cores (363 s: MiniLM over the
2,261 labelled documents, plain and fine-tuned, the fine-tuning and the distillation are the
longest steps; numba compiling UMAP included).

Seeding runs once per workspace: a setting records that it happened, so a user who
deletes the demo corpus does not get it back. An inter-process lock keeps two app
sessions (or the app and ``make run``'s CLI call) from seeding at the same time.
"""

from __future__ import annotations

import logging
import os

from .corpus import RECOMMENDED, add_corpus
from .progress import Progress, no_progress
from .samples import SAMPLES
from .workspace import Workspace
from .files import utc_now

log = logging.getLogger(__name__)

SEEDED_KEY = "demo_seeded_at"
DEMO_CORPUS = "lee"
#: the labelled demo corpus and its label column (the Choose page's default)
LABELLED_CORPUS, LABEL_COLUMN = "python-docs", "area"
#: a budget for tests and quick looks: at most this many labelled documents (every k-th,
#: so each area keeps its share); unset, the whole sample
SAMPLE_DOCS_ENV = "EMBEDDINGS_DEMO_SAMPLE_DOCS"
#: the demo's fine-tuning: supervised on the labels of 600 training documents (about a minute)
DEMO_FINETUNE: dict = {"method": "supervised", "label": LABEL_COLUMN, "max_sentences": 600}


def labelled_sample() -> list:
    """The labelled sample's documents, within the budget of ``$EMBEDDINGS_DEMO_SAMPLE_DOCS``."""
    docs = SAMPLES[LABELLED_CORPUS].load()
    budget = os.environ.get(SAMPLE_DOCS_ENV)
    if budget and int(budget) < len(docs):
        step = len(docs) / int(budget)
        docs = [docs[int(i * step)] for i in range(int(budget))]
    return docs
#: the demo corpus keeps stopwords (the models need context) and joins strong phrases
#: (al_qaeda, tora_bora) with the settings the upload form starts from
DEMO_PREPROCESSING = RECOMMENDED
#: the training defaults (TrainParams: skip-gram, 100-d, window 5, min count 3, 10 epochs, seed 1),
#: so a model trained from the form with its defaults is like the demo's
DEMO_TRAINING: dict = {}


def _demo_spaces(ws: Workspace, progress: Progress) -> list[tuple[str, object]]:
    """(name, job) pairs; each job saves one space."""
    from .models import add_pretrained, train_space

    def trainer(family: str, name: str, lo: float, hi: float):
        def on_epoch(r):
            progress(lo + (hi - lo) * r.epoch / r.epochs, f"Training {name}: epoch {r.epoch}/{r.epochs}")
        return lambda: train_space(ws, DEMO_CORPUS, family, name, on_epoch=on_epoch, **DEMO_TRAINING)

    return [
        ("lee-word2vec", trainer("word2vec", "lee-word2vec", 0.10, 0.20)),
        ("lee-fasttext", trainer("fasttext", "lee-fasttext", 0.20, 0.45)),
        ("glove-50d", lambda: add_pretrained(ws, "glove-6b-50d", "glove-50d",
                                             progress=lambda f, m: progress(0.45 + 0.1 * f, f"GloVe: {m}"))),
        ("lee-minilm", lambda: add_pretrained(ws, "minilm", "lee-minilm", corpus=DEMO_CORPUS, unit="term",
                                              progress=lambda f, m: progress(0.55 + 0.2 * f, f"MiniLM: {m}"))),
        (DEMO_STABILITY, lambda: _demo_stability(ws, lambda f, m: progress(0.75 + 0.03 * f, f"Stability: {m}"))),
    ]


#: the demo's stability study: the demo Word2Vec's settings, five seeds
DEMO_STABILITY = "lee-word2vec-stability"


def _demo_stability(ws: Workspace, progress: Progress) -> None:
    from .stability import StabilityParams, run_study, save_study

    save_study(ws, run_study(ws, StabilityParams(DEMO_CORPUS, "word2vec", settings=dict(DEMO_TRAINING)),
                             progress=progress), DEMO_STABILITY)


def _labelled_spaces(ws: Workspace, progress: Progress) -> list[tuple[str, object]]:
    """(name, job) pairs over the labelled sample; each job saves one space."""
    from .models import add_baseline, add_pooled, add_pretrained, distil_space, finetune_space, train_space

    c = LABELLED_CORPUS
    return [
        ("pydocs-word2vec", lambda: train_space(ws, c, "word2vec", "pydocs-word2vec", **DEMO_TRAINING)),
        ("pydocs-word2vec-sif", lambda: add_pooled(ws, "pydocs-word2vec", c, "sif", "pydocs-word2vec-sif")),
        ("pydocs-glove-sif", lambda: add_pooled(ws, "glove-50d", c, "sif", "pydocs-glove-sif")),
        ("pydocs-tfidf", lambda: add_baseline(ws, c, "pydocs-tfidf")),
        ("pydocs-minilm", lambda: add_pretrained(ws, "minilm", "pydocs-minilm", corpus=c, unit="document",
                                                 progress=lambda f, m: progress(0.8 + 0.05 * f, f"MiniLM: {m}"))),
        ("pydocs-minilm-supervised", lambda: finetune_space(
            ws, "minilm", c, "pydocs-minilm-supervised", **DEMO_FINETUNE, progress=lambda f, m: progress(0.85 + 0.07 * f, m))),
        ("pydocs-minilm-static", lambda: distil_space(ws, "minilm", "pydocs-minilm-static", corpus=c, words=False,
                                                      progress=lambda f, m: progress(0.92 + 0.03 * f, m))),
    ]


def _demo_projections(ws: Workspace, progress: Progress) -> None:
    """Cache the layouts the Projection page opens on (UMAP of the 5,000 most frequent
    labels of the first two spaces, unseeded as the page's default), so the demo's first
    view is instant."""
    from .projection import cached_project, select_rows
    from .space_store import list_spaces, load_space

    for i, art in enumerate(list_spaces(ws)[:2]):
        try:
            progress(0.95 + 0.02 * i, f"Laying out {art.name} (UMAP)")
            space = load_space(ws, art.id)
            cached_project(ws, space, select_rows(space, top=5000), "umap", seed=None)
        except Exception:
            log.exception("demo seeding: could not lay out %s", art.name)


def _demo_benchmark(ws: Workspace, progress: Progress) -> None:
    """Save the Choose page's opening benchmark (its default choices), so it opens at once."""
    from .benchmark import cached_benchmark
    from .cards import SpaceCard
    from .corpus import get_corpus
    from .space_store import list_spaces, load_space

    corpus = get_corpus(ws, LABELLED_CORPUS)
    spaces = [load_space(ws, a.id) for a in list_spaces(ws) if SpaceCard.from_artefact(a).documents_of(corpus.name)]
    cached_benchmark(ws, corpus, LABEL_COLUMN, spaces, tfidf=True,
                     progress=lambda f, m: progress(0.95 + 0.02 * f, f"Benchmarking: {m}"))


def _run(name: str, job) -> list[str]:
    """Run one seeding job: ``[name]`` if it saved, ``[]`` if it failed (logged: one missing
    model must not leave the demo empty)."""
    try:
        job()
        return [name]
    except Exception:
        log.exception("demo seeding: could not add %s", name)
        return []


def is_empty(ws: Workspace) -> bool:
    return not any(ws.counts().values())


def seed_demo(ws: Workspace, progress: Progress = no_progress) -> list[str]:
    """Seed the demo artefacts if this workspace was never seeded and is empty.

    Returns the names of what was added (empty when nothing was to do).
    """
    if ws.get_setting(SEEDED_KEY):
        return []
    with ws.lock("seed"):
        if ws.get_setting(SEEDED_KEY):  # another process seeded while we waited
            return []
        added: list[str] = []
        if is_empty(ws):
            # the labelled sample first, so that Lee is the newest corpus: the pages that open on
            # the newest corpus (Corpora, the training form) open on the demo's main corpus
            labelled = SAMPLES[LABELLED_CORPUS]
            progress(0.0, f"Adding the labelled sample: {labelled.title}")
            add_corpus(ws, LABELLED_CORPUS, documents=labelled_sample(), preprocessing=DEMO_PREPROCESSING,
                       source_label=f"sample:{LABELLED_CORPUS}", progress=lambda f, m: progress(0.03 * f, m))
            sample = SAMPLES["lee"]
            progress(0.03, f"Adding the demo corpus: {sample.title}")
            add_corpus(ws, DEMO_CORPUS, documents=sample.load(), preprocessing=DEMO_PREPROCESSING,
                       source_label="sample:lee", progress=lambda f, m: progress(0.03 + 0.07 * f, m))
            added += [DEMO_CORPUS, LABELLED_CORPUS]
            for name, job in _demo_spaces(ws, progress):
                added += _run(name, job)
            for i, (name, job) in enumerate(_labelled_spaces(ws, progress)):
                progress(0.75 + 0.01 * i, f"Making {name}")
                added += _run(name, job)
            _run("the default benchmark", lambda: _demo_benchmark(ws, progress))
            _demo_projections(ws, progress)
        ws.set_setting(SEEDED_KEY, utc_now())
        progress(1.0, "Demo workspace ready")
        return added
