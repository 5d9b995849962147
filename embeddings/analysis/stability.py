"""How much a model trained on a small corpus moves from one training run to the next.

A model trained on a small domain corpus has neighbourhoods that change with the random
seed (Antoniak & Mimno 2018; Wendlandt, Kummerfeld & Mihalcea 2018). A *stability study*
trains the same model ``runs`` times with seeds ``seed, seed + 1, …`` and, with
``bootstrap``, each time on a bootstrap resample of the corpus's documents. Then:

- per label, its **stability**: the mean over pairs of runs of the Jaccard overlap of its
  ``k`` nearest neighbours, among the labels every run has. 1: the same neighbours in
  every run; 0: none in common. Its **floor** is the smallest of those pairwise overlaps;
- per built-in WEAT test the vocabulary supports, d in each run, its mean and spread.

The study is an artefact of the workspace (kind ``stability``): it takes minutes, reports
progress, can be cancelled, and saves nothing unless every run finished. The Audit uses a
term's stability as its **noise floor**: a term differs from a general model *beyond its
own noise* when its overlap with the general model is below the overlap between *every*
two runs of the very same model on the very same corpus, its floor (:func:`beyond_noise`).
A term whose runs share no neighbours at all has a floor of 0: nothing it does against a
general model can be told from noise.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from embeddings.analysis.neighbours import K as NEIGHBOUR_K
from embeddings.errors import InputError, NotFoundError
from embeddings.progress import Progress, no_progress
from embeddings.space import EmbeddingSpace
from embeddings.store.artefact import Artefact
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import get_corpus

KIND = "stability"
#: the CLI's model names and the trained families they stand for
MODELS = {"word2vec": "word2vec", "fasttext": "fasttext", "ppmi": "ppmi-svd"}
RUNS = 5
K = NEIGHBOUR_K
#: how many of the most frequent shared labels get a stability score (the audit's terms are among them)
TOP = 3000


@dataclass(frozen=True)
class StabilityParams:
    corpus: str
    model: str                   #: word2vec, fasttext or ppmi
    runs: int = RUNS
    bootstrap: bool = False
    k: int = K
    top: int = TOP
    seed: int = 1
    settings: dict = field(default_factory=dict)   #: the model's training settings (dim, epochs, ...)

    def check(self) -> None:
        if self.model not in MODELS:
            raise InputError(f"Stability studies train {', '.join(MODELS)}; not {self.model!r}.")
        if self.runs < 2:
            raise InputError("A stability study needs at least two runs.")
        if self.k < 1 or self.top < 2:
            raise InputError("k must be at least 1 and top at least 2.")


# -- the maths ---------------------------------------------------------------------------------
def knn_sets(vectors: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """Row indices of each row's ``k`` nearest rows by cosine (unit rows), itself excluded."""
    k = min(k, len(vectors) - 1)
    out = np.empty((len(vectors), k), dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        sims = vectors[start:start + chunk] @ vectors.T
        sims[np.arange(len(sims)), np.arange(start, start + len(sims))] = -np.inf
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        out[start:start + len(sims)] = top
    return out


def jaccard_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, |A ∩ B| / |A ∪ B| of two neighbour-index arrays of equal shape."""
    k = a.shape[1]
    shared = np.array([len(np.intersect1d(x, y, assume_unique=True)) for x, y in zip(a, b)])
    return shared / (2 * k - shared)


def pairwise_jaccard(neighbour_sets: Sequence[np.ndarray]) -> np.ndarray:
    """(pairs of runs, labels): the Jaccard of each label's neighbours in each pair of runs."""
    pairs = list(itertools.combinations(range(len(neighbour_sets)), 2))
    return np.array([jaccard_rows(neighbour_sets[i], neighbour_sets[j]) for i, j in pairs])


# -- training the runs ----------------------------------------------------------------------------
def _sentences_by_document(corpus) -> dict[int, list[str]]:
    """Each document's lines of ``sentences.txt`` (what the trainers read), in order."""
    table = corpus.sentence_table()
    lines = Path(corpus.sentences_path).read_text(encoding="utf-8").splitlines()
    if len(lines) != len(table):
        raise InputError(f"{corpus.name}'s sentence files disagree ({len(lines):,} and {len(table):,} rows).")
    by_doc: dict[int, list[str]] = {}
    for doc, line in zip(table["doc"].to_numpy(), lines):
        by_doc.setdefault(int(doc), []).append(line)
    return by_doc


class _Resample:
    """A bootstrap resample of a corpus's documents, as the trainers read a corpus: the
    sentences of the drawn documents (a document drawn twice appears twice) in a temporary
    ``sentences.txt``, and their vocabulary. ``by_doc``: :func:`_sentences_by_document`."""

    def __init__(self, corpus, by_doc: dict[int, list[str]], rng: np.random.Generator, folder: Path):
        docs = np.array(sorted(by_doc))
        drawn = rng.choice(docs, size=len(docs), replace=True)
        self.sentences_path = folder / "sentences.txt"
        counts: Counter = Counter()
        documents: Counter = Counter()
        with open(self.sentences_path, "w", encoding="utf-8") as fh:
            for doc in drawn:
                seen = set()
                for line in by_doc[int(doc)]:
                    fh.write(line + "\n")
                    tokens = line.split()
                    counts.update(tokens)
                    seen.update(tokens)
                documents.update(seen)
        self.name, self.id = corpus.name, corpus.id
        self.stats = {**corpus.stats, "tokens": int(sum(counts.values())), "sha256": None}
        self._vocab = pd.DataFrame([(t, c, documents[t]) for t, c in counts.most_common()],
                                   columns=["term", "count", "documents"])

    def vocabulary(self) -> pd.DataFrame:
        return self._vocab

    def sentences(self):
        with open(self.sentences_path, encoding="utf-8") as fh:
            for line in fh:
                yield line.split()


def _params_class(model: str):
    """The dataclass of ``model``'s training settings."""
    if MODELS[model] in ("word2vec", "fasttext"):
        from embeddings.models.gensim_models import TrainParams

        return TrainParams
    from embeddings.models.count import CountParams

    return CountParams


def training_settings(model: str, params: dict) -> dict:
    """The settings of a trained space's provenance ``params`` that a study of ``model``
    repeats (its own training fields; the seed is the study's)."""
    fields = set(_params_class(model).__dataclass_fields__) - {"seed"}
    return {k: v for k, v in params.items() if k in fields}


def train_run(corpus, model: str, settings: dict, seed: int, on_epoch=None) -> EmbeddingSpace:
    """One run of ``model`` on ``corpus`` (a saved corpus or a resample), unsaved."""
    cls = _params_class(model)
    unknown = set(settings) - set(cls.__dataclass_fields__)
    if unknown:
        raise InputError(f"Unknown settings for {model}: {', '.join(sorted(unknown))}.")
    params = cls(**{**settings, "seed": seed})
    if MODELS[model] in ("word2vec", "fasttext"):
        from embeddings.models.gensim_models import train

        return train(corpus, MODELS[model], params, f"run-{seed}", on_epoch=on_epoch)[0]
    from embeddings.models.count import train_ppmi_svd

    return train_ppmi_svd(corpus, params, f"run-{seed}")


@dataclass
class Study:
    """A finished (or loaded) stability study."""

    params: StabilityParams
    labels: pd.DataFrame          #: label, frequency, stability (mean pairwise Jaccard@k), floor (the smallest)
    weat: pd.DataFrame            #: test, runs, mean, std, min, max of d
    vocabulary: int               #: labels every run has (the neighbours are searched among them)
    seconds: float
    name: str | None = None
    id: str | None = None
    #: the runs' spaces, in memory only (a fresh study has them; a loaded one does not)
    spaces: list = field(default_factory=list, repr=False)

    @property
    def median(self) -> float:
        return float(self.labels["stability"].median())

    def stability_of(self, labels: Sequence[str], column: str = "stability") -> pd.Series:
        """Stability (or ``floor``) of each label (NaN where the study did not measure it)."""
        table = self.labels.set_index("label")[column]
        return pd.Series([float(table.get(x, np.nan)) for x in labels], index=list(labels), dtype=float)

    def to_dict(self, top: int = 20) -> dict:
        lab = self.labels
        return {"name": self.name, "params": asdict(self.params), "vocabulary": self.vocabulary,
                "measured": len(lab), "k": self.params.k, "median_stability": self.median,
                "quantiles": {str(q): float(lab["stability"].quantile(q)) for q in (0.1, 0.25, 0.5, 0.75, 0.9)},
                "least_stable": lab.nsmallest(top, "stability")[["label", "stability"]].to_dict("records"),
                "most_stable": lab.nlargest(top, "stability")[["label", "stability"]].to_dict("records"),
                "weat": self.weat.to_dict("records"), "seconds": self.seconds}


def run_study(ws: Workspace, params: StabilityParams, *, progress: Progress = no_progress) -> Study:
    """Train the runs, then measure; unsaved (see :func:`save_study`). ``progress`` may raise
    :class:`~embeddings.errors.Cancelled` between and within runs (gensim's epochs)."""
    import time

    from embeddings.bias import RefusedTest, builtin_tests, weat

    params.check()
    corpus = get_corpus(ws, params.corpus)
    start = time.perf_counter()
    spaces: list[EmbeddingSpace] = []
    rng = np.random.default_rng(params.seed)
    by_doc = _sentences_by_document(corpus) if params.bootstrap else None
    with ws.scratch("stability") as tmp:            # held: another process's sweep leaves it alone
        for i in range(params.runs):
            seed = params.seed + i
            base = i / params.runs * 0.85
            progress(base, f"Run {i + 1} of {params.runs}: training {params.model} (seed {seed}"
                           f"{', bootstrap resample of the documents' if params.bootstrap else ''})")
            source = _Resample(corpus, by_doc, rng, Path(tmp)) if params.bootstrap else corpus

            def epoch(report, base=base, i=i):
                progress(base + report.epoch / max(1, report.epochs) * 0.85 / params.runs,
                         f"Run {i + 1} of {params.runs}: epoch {report.epoch}")

            spaces.append(train_run(source, params.model, params.settings, seed,
                                    on_epoch=epoch if params.model != "ppmi" else None))
    progress(0.86, "Comparing the runs' neighbourhoods")
    shared = set(spaces[0].labels).intersection(*(s.labels for s in spaces[1:]))
    order = [x for x in spaces[0].labels if x in shared]  # the first run's frequency order
    if len(order) < params.k + 2:
        raise InputError(f"The runs share only {len(order)} labels; too few for {params.k} neighbours.")
    rows = [np.asarray(s.lookup(order), dtype=np.float32) for s in spaces]
    measured = min(params.top, len(order))
    sets = [knn_sets(r, params.k)[:measured] for r in rows]
    pairwise = pairwise_jaccard(sets)
    freq = spaces[0].meta["frequency"].to_numpy()[[spaces[0].index[x] for x in order[:measured]]]
    labels = pd.DataFrame({"label": order[:measured], "frequency": freq, "stability": pairwise.mean(axis=0),
                           "floor": pairwise.min(axis=0)})
    progress(0.95, "WEAT in each run")
    weat_rows = []
    for test in builtin_tests():
        ds = []
        for s in spaces:
            try:
                ds.append(weat(s, test, bootstrap=0, permutations=1, exact_limit=0).effect_size)
            except RefusedTest:
                break
        if len(ds) == len(spaces):
            weat_rows.append({"test": test.id, "runs": len(ds), "mean": float(np.mean(ds)),
                              "std": float(np.std(ds, ddof=1)), "min": float(min(ds)), "max": float(max(ds))})
    weat_table = pd.DataFrame(weat_rows, columns=["test", "runs", "mean", "std", "min", "max"])
    progress(1.0, "Done")
    return Study(params, labels, weat_table, len(order), round(time.perf_counter() - start, 2), spaces=spaces)


def save_study(ws: Workspace, study: Study, name: str) -> Study:
    """Save a finished study as an artefact (atomic: nothing is saved if this fails)."""
    def build(folder: Path) -> dict:
        study.labels.to_parquet(folder / "labels.parquet", index=False)
        study.weat.to_parquet(folder / "weat.parquet", index=False)
        (folder / "study.json").write_text(json.dumps({"params": asdict(study.params), "vocabulary": study.vocabulary,
                                                       "seconds": study.seconds}), encoding="utf-8")
        return {"corpus": study.params.corpus, "model": study.params.model, "runs": study.params.runs,
                "bootstrap": study.params.bootstrap, "k": study.params.k, "median_stability": study.median,
                "measured": len(study.labels)}

    corpus = get_corpus(ws, study.params.corpus)
    art = ws.create(KIND, name, build, params=asdict(study.params), parent=corpus.id)
    study.name, study.id = art.name, art.id
    return study


def load_study(ws: Workspace, name_or_id: str) -> Study:
    art: Artefact = ws.get(KIND, name_or_id)
    info = json.loads((art.path / "study.json").read_text(encoding="utf-8"))
    return Study(StabilityParams(**info["params"]), pd.read_parquet(art.path / "labels.parquet"),
                 pd.read_parquet(art.path / "weat.parquet"), int(info["vocabulary"]), float(info["seconds"]),
                 art.name, art.id)


def studies_for(ws: Workspace, corpus: str | None = None) -> list[Artefact]:
    """Saved studies, newest first, optionally of one corpus (name or id)."""
    arts = sorted(ws.list(KIND), key=lambda a: a.created_at, reverse=True)
    if corpus is None:
        return arts
    c = get_corpus(ws, corpus)
    return [a for a in arts if a.parent == c.id or a.params.get("corpus") in (c.name, c.id)]


def model_of(family: str | None) -> str | None:
    """The study model (a key of :data:`MODELS`) that trains spaces of ``family``, or None."""
    return next((m for m, f in MODELS.items() if f == family), None)


def studies_of(ws: Workspace, family: str | None, corpus: str | None) -> list[Artefact]:
    """The saved studies that are a space's noise floor, newest first: studies of the model
    of its ``family`` (word2vec, fasttext, ppmi-svd) on the ``corpus`` (name or id) it was
    trained on. None for a pretrained space or a corpus no longer in the workspace."""
    model = model_of(family)
    if model is None or not corpus:
        return []
    try:
        arts = studies_for(ws, corpus)
    except NotFoundError:
        return []
    return [a for a in arts if a.params.get("model") == model]


def comparison_noise(study: Study, table: pd.DataFrame) -> dict:
    """A space's own seed-to-seed noise beside its comparison with another space (the
    Compare page's ``table``: label, jaccard, ...), on the labels the study measured:

    - ``measured`` of ``shared`` labels; ``median_stability``: their median Jaccard@k between
      two runs of the same model; ``median_jaccard``: their median Jaccard@k with the other
      space;
    - ``beyond_noise``: how many of them share fewer neighbours with the other space than
      the two least alike runs share (:func:`beyond_noise`).

    The study's neighbours are searched among its runs' common labels, the comparison's
    among the two spaces' shared labels: both are Jaccard@k of the same label's neighbours,
    over different pools (``k`` and ``study_k`` say whether k agrees)."""
    labels = table["label"].tolist()
    stab = study.stability_of(labels).to_numpy()
    floor = study.stability_of(labels, "floor").to_numpy()
    measured = np.isfinite(stab)
    jac = table["jaccard"].to_numpy(dtype=float)[measured]
    flags = [beyond_noise(o, f) for o, f in zip(jac, floor[measured])]
    some = bool(measured.any())
    return {"study": study.name, "model": study.params.model, "runs": study.params.runs, "study_k": study.params.k,
            "shared": len(labels), "measured": int(measured.sum()),
            "median_stability": float(np.median(stab[measured])) if some else None,
            "median_jaccard": float(np.median(jac)) if some else None,
            "beyond_noise": sum(f is True for f in flags)}


def beyond_noise(overlap: float, floor: float) -> bool | None:
    """True when a term's overlap with a general model is below its floor, the smallest
    overlap between two runs of its own model: it differs from the general model beyond its
    own noise. None when either is unknown."""
    if overlap is None or floor is None or not (math.isfinite(overlap) and math.isfinite(floor)):
        return None
    return bool(overlap < floor)
