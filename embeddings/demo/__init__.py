"""The demo: what a new, empty workspace is given so the app never opens empty, as an
ordered list of :data:`STAGES`, each one ordinary workspace artefact (saved atomically, so a
stage is either whole or absent). :mod:`embeddings.demo.run` builds them in a background
worker process, in the order the pages need them, while the app already serves:

1. the news corpus ``lee``, its ``lee-word2vec``, ``glove-50d`` (GloVe 6B 50-d, all 400k
   words) and the Projection page's opening layouts (UMAP of those two);
2. ``lee-minilm`` (all-MiniLM-L6-v2 over the Lee vocabulary) and ``lee-fasttext``;
3. the labelled sample ``python-docs`` (standard-library docstrings labelled by area), its
   word model and four document spaces (``pydocs-word2vec-sif``, ``pydocs-glove-sif``,
   ``pydocs-tfidf``: TF-IDF + LSA 256, ``pydocs-minilm``: long documents chunked and
   mean-pooled), and the Choose page's opening benchmark of them;
4. ``pydocs-minilm-supervised`` (MiniLM fine-tuned on the labels of 600 training documents,
   the other half held out), ``pydocs-minilm-static`` (distilled into a 256-d static model),
   the benchmark with those two, and ``lee-word2vec-stability`` (five more seeds of the demo
   Word2Vec: the Audit's noise floor).

A stage's ``seconds`` is its measured time on a quiet 2-core machine with the full sample
(``bench/first_start.py``): the weights of the progress bar and its time left.
Seeding runs once per workspace: a setting records that it finished, so a user who deletes
the demo corpus does not get it back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from embeddings.progress import Progress
from embeddings.store.workspace import Workspace
from embeddings.text.preprocess import RECOMMENDED

log = logging.getLogger(__name__)

#: set when every stage is built (the demo is then never rebuilt); set when the first stage starts
SEEDED_KEY, STARTED_KEY = "demo_seeded_at", "demo_started_at"
DEMO_CORPUS = "lee"
#: the labelled demo corpus and its label column (the Choose page's default)
LABELLED_CORPUS, LABEL_COLUMN = "python-docs", "area"
#: a budget for tests and quick looks: at most this many labelled documents (every k-th,
#: so each area keeps its share); unset, the whole sample
SAMPLE_DOCS_ENV = "EMBEDDINGS_DEMO_SAMPLE_DOCS"
#: the demo's fine-tuning: supervised on the labels of 600 training documents (about a minute)
DEMO_FINETUNE: dict = {"method": "supervised", "label": LABEL_COLUMN, "max_sentences": 600}
#: the training defaults (TrainParams: skip-gram, 100-d, window 5, min count 3, 10 epochs, seed 1),
#: so a model trained from the form with its defaults is like the demo's
DEMO_TRAINING: dict = {}
#: the demo corpus keeps stopwords (the models need context) and joins strong phrases
#: (al_qaeda, tora_bora) with the settings the upload form starts from
DEMO_PREPROCESSING = RECOMMENDED
#: the demo's stability study: the demo Word2Vec's settings, five seeds
DEMO_STABILITY = "lee-word2vec-stability"
#: the two layouts the Projection page opens on: UMAP of the most frequent labels, unseeded
OPENING_LAYOUT = {"top": 5000, "method": "umap"}


def labelled_sample() -> list:
    """The labelled sample's documents, within the budget of ``$EMBEDDINGS_DEMO_SAMPLE_DOCS``."""
    from embeddings.text.samples import SAMPLES

    docs = SAMPLES[LABELLED_CORPUS].load()
    budget = os.environ.get(SAMPLE_DOCS_ENV)
    if budget and int(budget) < len(docs):
        step = len(docs) / int(budget)
        docs = [docs[int(i * step)] for i in range(int(budget))]
    return docs


@dataclass(frozen=True)
class Stage:
    """One step of the demo: ``key`` names it (the artefact's name where it makes one),
    ``kind`` the artefact kind it makes (``None``: it records itself in a setting),
    ``needs`` the stages whose artefacts it reads, ``seconds`` its measured time, and
    ``build(ws, progress)`` makes it."""

    key: str
    title: str
    kind: str | None
    seconds: float
    build: Callable[[Workspace, Progress], object]
    needs: tuple[str, ...] = ()

    def done(self, ws: Workspace) -> bool:
        if self.kind is None:
            return ws.get_setting(done_key(self.key)) is not None
        return ws.exists(self.kind, self.key)


def done_key(stage: str) -> str:
    """The setting a stage that makes no artefact of its own name records itself in."""
    return f"demo_stage_{stage}"


# -- the builders ---------------------------------------------------------------------
def _corpus(name: str, sample: str, documents: Callable[[], list]):
    def build(ws: Workspace, progress: Progress):
        from embeddings.text.corpus import add_corpus

        return add_corpus(ws, name, documents=documents(), preprocessing=DEMO_PREPROCESSING, source_label=f"sample:{sample}",
                          progress=progress)
    return build


def _sample(key: str) -> Callable[[], list]:
    from embeddings.text.samples import SAMPLES

    return lambda: SAMPLES[key].load()


def _train(corpus: str, family: str, name: str):
    def build(ws: Workspace, progress: Progress):
        from embeddings.models import train_space

        return train_space(ws, corpus, family, name, on_epoch=lambda r: progress(r.epoch / r.epochs,
                           f"epoch {r.epoch} of {r.epochs}"), **DEMO_TRAINING)
    return build


def _pretrained(model: str, name: str, **kwargs):
    def build(ws: Workspace, progress: Progress):
        from embeddings.models import add_pretrained

        return add_pretrained(ws, model, name, progress=progress, **kwargs)
    return build


def _pooled(source: str, name: str):
    def build(ws: Workspace, progress: Progress):
        from embeddings.models import add_pooled

        return add_pooled(ws, source, LABELLED_CORPUS, "sif", name)
    return build


def _tfidf(ws: Workspace, progress: Progress):
    from embeddings.models import add_baseline

    return add_baseline(ws, LABELLED_CORPUS, "pydocs-tfidf")


def _finetune(ws: Workspace, progress: Progress):
    from embeddings.models import finetune_space

    return finetune_space(ws, "minilm", LABELLED_CORPUS, "pydocs-minilm-supervised", **DEMO_FINETUNE, progress=progress)


def _distil(ws: Workspace, progress: Progress):
    from embeddings.models import distil_space

    # the tokenizer's vocabulary only: adding the corpus's words takes 100 s instead of 22 s
    return distil_space(ws, "minilm", "pydocs-minilm-static", corpus=LABELLED_CORPUS, words=False, progress=progress)


def _stability(ws: Workspace, progress: Progress):
    from embeddings.analysis.stability import StabilityParams, run_study, save_study

    save_study(ws, run_study(ws, StabilityParams(DEMO_CORPUS, "word2vec", settings=dict(DEMO_TRAINING)),
                             progress=progress), DEMO_STABILITY)


def opening_spaces(ws: Workspace) -> list:
    """The spaces the Projection page opens on in a fresh session: the catalogue's first two."""
    from embeddings.store.space_store import list_spaces

    return list_spaces(ws)[:2]


def _projections(ws: Workspace, progress: Progress):
    """Cache the layouts the Projection page opens on, so the demo's first view is instant."""
    from embeddings.layout.projection import cached_project, select_rows
    from embeddings.store.space_store import load_space

    arts = opening_spaces(ws)
    for i, art in enumerate(arts):
        progress(i / len(arts), f"laying out {art.name}")
        space = load_space(ws, art.id)
        cached_project(ws, space, select_rows(space, top=OPENING_LAYOUT["top"]), OPENING_LAYOUT["method"], seed=None,
                       progress=lambda f, m, i=i: progress((i + f) / len(arts), m))
    ws.set_setting(done_key("projection"), "1")


def _benchmark(key: str):
    def build(ws: Workspace, progress: Progress):
        """Save the Choose page's opening benchmark (its default choices: every document space
        of the labelled sample, with the sparse TF-IDF), so it opens at once."""
        from embeddings.evaluate.benchmark import cached_benchmark
        from embeddings.store.cards import SpaceCard
        from embeddings.store.space_store import list_spaces, load_space
        from embeddings.text.corpus import get_corpus

        corpus = get_corpus(ws, LABELLED_CORPUS)
        spaces = [load_space(ws, a.id) for a in list_spaces(ws) if SpaceCard.from_artefact(a).documents_of(corpus.name)]
        cached_benchmark(ws, corpus, LABEL_COLUMN, spaces, tfidf=True, progress=progress)
        ws.set_setting(done_key(key), "1")
    return build


_DOCS = ("pydocs-word2vec-sif", "pydocs-glove-sif", "pydocs-tfidf", "pydocs-minilm")
_CUSTOMISED = ("pydocs-minilm-supervised", "pydocs-minilm-static")

#: the demo, in the order the pages need it (the keys are also the artefacts' names)
STAGES: tuple[Stage, ...] = (
    Stage(DEMO_CORPUS, "The news corpus (Lee)", "corpus", 2, _corpus(DEMO_CORPUS, "lee", _sample("lee"))),
    Stage("lee-word2vec", "Word2Vec on the news", "space", 2, _train(DEMO_CORPUS, "word2vec", "lee-word2vec"),
          (DEMO_CORPUS,)),
    Stage("glove-50d", "GloVe 6B 50-d", "space", 2, _pretrained("glove-6b-50d", "glove-50d")),
    Stage("projection", "The opening projection (UMAP)", None, 20, _projections, ("lee-word2vec", "glove-50d")),
    Stage("lee-minilm", "MiniLM over the news vocabulary", "space", 10,
          _pretrained("minilm", "lee-minilm", corpus=DEMO_CORPUS, unit="term"), (DEMO_CORPUS,)),
    Stage("lee-fasttext", "FastText on the news", "space", 3, _train(DEMO_CORPUS, "fasttext", "lee-fasttext"),
          (DEMO_CORPUS,)),
    Stage(LABELLED_CORPUS, "The labelled sample (Python docstrings)", "corpus", 1,
          _corpus(LABELLED_CORPUS, LABELLED_CORPUS, labelled_sample)),
    Stage("pydocs-word2vec", "Word2Vec on the docstrings", "space", 2,
          _train(LABELLED_CORPUS, "word2vec", "pydocs-word2vec"), (LABELLED_CORPUS,)),
    Stage("pydocs-word2vec-sif", "Its SIF document space", "space", 1, _pooled("pydocs-word2vec", "pydocs-word2vec-sif"),
          ("pydocs-word2vec",)),
    Stage("pydocs-glove-sif", "GloVe's SIF document space", "space", 1, _pooled("glove-50d", "pydocs-glove-sif"),
          ("glove-50d", LABELLED_CORPUS)),
    Stage("pydocs-tfidf", "TF-IDF + LSA", "space", 3, _tfidf, (LABELLED_CORPUS,)),
    Stage("pydocs-minilm", "MiniLM over each docstring", "space", 30,
          _pretrained("minilm", "pydocs-minilm", corpus=LABELLED_CORPUS, unit="document"), (LABELLED_CORPUS,)),
    Stage("benchmark", "The opening benchmark", None, 50, _benchmark("benchmark"), (LABELLED_CORPUS, *_DOCS)),
    Stage("pydocs-minilm-supervised", "MiniLM fine-tuned on the labels", "space", 60, _finetune, (LABELLED_CORPUS,)),
    Stage("pydocs-minilm-static", "MiniLM distilled (static)", "space", 12, _distil, (LABELLED_CORPUS,)),
    Stage("benchmark-customised", "The benchmark with the customised spaces", None, 40,
          _benchmark("benchmark-customised"), (LABELLED_CORPUS, *_DOCS, *_CUSTOMISED)),
    Stage(DEMO_STABILITY, "The noise floor (five more Word2Vec seeds)", "stability", 6, _stability,
          ("lee-word2vec",)),
)
BY_KEY = {s.key: s for s in STAGES}

#: the stages a page opens on (the first not built is the one it waits for; a stage that
#: covers spaces the user may already see is waited for only once one of them exists)
PAGE_STAGES: dict[str, tuple[str, ...]] = {
    "corpus": (DEMO_CORPUS,),
    "models": ("lee-word2vec",),
    "projection": ("projection",),
    "neighbours": ("glove-50d",),
    "compare": ("glove-50d",),
    "bias": ("glove-50d",),
    "audit": ("lee-minilm",),
    "evaluate": ("glove-50d",),
    "choose": ("benchmark", "benchmark-customised"),
    "customise": (LABELLED_CORPUS,),
    "context": (DEMO_CORPUS,),
}
#: the first stages together: the news corpus with Word2Vec and GloVe (the start's target: 60 s)
FIRST_STAGES = (DEMO_CORPUS, "lee-word2vec", "glove-50d")


def is_empty(ws: Workspace) -> bool:
    return not any(ws.counts().values())


def wanted(ws: Workspace) -> bool:
    """Whether this workspace should get (the rest of) the demo: never seeded to the end, and
    either empty or with a seeding under way (a start that was stopped resumes)."""
    return not ws.get_setting(SEEDED_KEY) and (bool(ws.get_setting(STARTED_KEY)) or is_empty(ws))


def waiting_for(ws: Workspace, page: str) -> Stage | None:
    """The stage ``page`` (its url path) waits for, or None if what it opens on is built. A
    page's first stage is waited for until built; a later one only once a space it covers
    exists (the Choose page's second benchmark, once a customised space has landed)."""
    keys = PAGE_STAGES.get(page, ())
    for i, key in enumerate(keys):
        stage = BY_KEY[key]
        if stage.done(ws):
            continue
        covers = set(stage.needs) - set(BY_KEY[keys[0]].needs) if i else set()
        if i == 0 or any(BY_KEY[k].done(ws) for k in covers if k in BY_KEY):
            return stage
    return None


def opening_corpus(names: list[str]) -> str | None:
    """The corpus a page opens on when the session has chosen none (``names`` oldest first):
    the newest one the user added, else the demo's news corpus, else the newest."""
    own = [n for n in names if n not in BY_KEY]
    return own[-1] if own else DEMO_CORPUS if DEMO_CORPUS in names else (names[-1] if names else None)


def own_data(ws: Workspace) -> bool:
    """Whether the workspace holds a corpus or a space the demo did not make."""
    return any(a.name not in BY_KEY for kind in ("corpus", "space") for a in ws.list(kind))
