"""Benchmarks of image-text spaces on the user's own pairs.

- **Cross-modal retrieval**: each image as a query over the captions (image → caption) and
  each distinct caption over the images (caption → image); Recall@1/5/10 and nDCG@10 per query,
  by the retrieval metrics of :mod:`embeddings.evaluate.ir`. Only captions the user gave count
  (a file name standing in for a missing caption is no pair).
- **Zero-shot classification against a linear probe**: the label names in a template ("a photo
  of a {label}", editable) embedded as text, each image given the nearest label; against a
  logistic regression trained on the image vectors of a stratified training split, its C chosen
  by cross-validation on that split only. Both are scored on the same held-out images, so their
  difference is paired (bootstrap over images).

Differences between spaces are paired over the same queries, with Bonferroni-corrected
bootstrap intervals, as on Choose (:class:`embeddings.evaluate.tasks.Difference`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.evaluate.ir import query_metrics
from embeddings.evaluate.tasks import BOOTSTRAP, CONFIDENCE, Difference, bootstrap_interval
from embeddings.space import EmbeddingSpace

from .spaces import CUSTOMISED

METRICS = ("Recall@1", "Recall@5", "Recall@10", "nDCG@10")
MAIN = "nDCG@10"
DIRECTIONS = ("image → caption", "caption → image")
TEMPLATE = "a photo of a {label}"
#: the share of images the probe and zero-shot are scored on, and the probe's C grid
TEST_SHARE = 0.3
PROBE_CS = (0.01, 0.1, 1.0, 10.0, 100.0)


def trained_on(spaces) -> set[int]:
    """The images any adapted space among ``spaces`` was trained on: left out of every space's
    scores, so no space is scored on its own training pairs."""
    out: set[int] = set()
    for s in spaces:
        out |= set((s.provenance.get(CUSTOMISED) or {}).get("train_docs", []))
    return out


def pairs_of(space: EmbeddingSpace, corpus, docs=None, exclude=()) -> pd.DataFrame:
    """``doc, image_row, caption_row`` for each image with a caption the user gave (of ``docs``,
    without ``exclude``)."""
    from .corpus import image_table

    table = image_table(corpus)
    table = table[table["caption_given"] & ~table["doc"].isin(set(exclude))]
    if docs is not None:
        table = table[table["doc"].isin(set(int(d) for d in docs))]
    index = {label: i for i, label in enumerate(space.labels)}
    units = space.meta["unit"].to_numpy()
    rows = [(int(d), index.get(f), index.get(c)) for d, f, c in zip(table["doc"], table["file"], table["caption"])]
    rows = [r for r in rows if r[1] is not None and r[2] is not None and units[r[1]] == "image"
            and units[r[2]] == "caption"]
    return pd.DataFrame(rows, columns=["doc", "image_row", "caption_row"])


def _rank(queries: np.ndarray, candidates: np.ndarray, k: int = 10) -> np.ndarray:
    """Indices into ``candidates`` of each query's top ``k`` by cosine (rows are normalised)."""
    scores = queries @ candidates.T
    k = min(k, candidates.shape[0])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1, kind="stable")[:, ::-1]
    return np.take_along_axis(top, order, axis=1)


def cross_modal(space: EmbeddingSpace, corpus, docs=None, exclude=()) -> dict[str, pd.DataFrame]:
    """Per-query metrics in both directions: ``{direction: frame of qid and METRICS}``, over the
    pairs of ``docs`` (default: all) without ``exclude``."""
    pairs = pairs_of(space, corpus, docs, exclude)
    if len(pairs) < 2:
        raise InputError(f"{corpus.name} has {len(pairs)} image with a caption of its own here; retrieval needs "
                         "at least 2 (a captions file names each image and its caption).")
    v, labels = space.vectors, space.labels
    caption_rows = np.unique(pairs["caption_row"].to_numpy())
    image_rows = pairs["image_row"].to_numpy()
    top = _rank(v[image_rows], v[caption_rows])
    i2c = pd.DataFrame([{"qid": labels[q], **query_metrics([labels[caption_rows[j]] for j in ranked],
                                                           {labels[c]: 1}, METRICS)}
                        for q, c, ranked in zip(image_rows, pairs["caption_row"], top)])
    relevant = pairs.groupby("caption_row")["image_row"].apply(list)
    top = _rank(v[caption_rows], v[image_rows])
    c2i = pd.DataFrame([{"qid": labels[c], **query_metrics([labels[image_rows[j]] for j in ranked],
                                                           {labels[i]: 1 for i in relevant[c]}, METRICS)}
                        for c, ranked in zip(caption_rows, top)])
    return {DIRECTIONS[0]: i2c, DIRECTIONS[1]: c2i}


def alike_captions(space: EmbeddingSpace) -> tuple[int, int]:
    """``(alike, captions)``: how many of the space's captions share their vector with another
    caption (the model's tokenizer knows none of their words, or only their length differs).
    Such captions tie in every ranking, so retrieval cannot tell them apart. Linear memory: rows
    are grouped by their rounded values, never compared pairwise."""
    rows = np.flatnonzero(space.meta["unit"].to_numpy() == "caption")
    if len(rows) < 2:
        return 0, len(rows)
    _, inverse, counts = np.unique(np.round(np.asarray(space.vectors[rows]), 5), axis=0, return_inverse=True,
                                   return_counts=True)
    return int((counts[inverse] > 1).sum()), len(rows)


@dataclass
class ZeroShot:
    space: str
    label: str
    template: str
    n_test: int
    n_train: int
    classes: list[str]
    zero_shot: np.ndarray            #: 1 where zero-shot is right, per test image
    probe: np.ndarray                #: 1 where the probe is right, per test image
    chosen_c: float
    macro_f1: dict = field(default_factory=dict)
    #: the accuracy of always answering the test split's most frequent label, and that label
    majority: tuple[float, str] = (0.0, "")
    #: labels whose prompts the model embeds to the same vector (its tokenizer knows none of their words)
    same_prompts: list[str] = field(default_factory=list)

    def difference(self, confidence: float = CONFIDENCE) -> Difference:
        d = self.probe.astype(float) - self.zero_shot.astype(float)
        low, high = bootstrap_interval(d, confidence)
        return Difference("linear probe", "zero-shot", "classification", "accuracy", float(d.mean()), low, high,
                          f"paired bootstrap over {self.n_test:,} held-out images ({BOOTSTRAP:,} resamples)",
                          confidence)


def zero_shot(space: EmbeddingSpace, corpus, label: str, *, template: str = TEMPLATE, seed: int = 0,
              exclude=()) -> ZeroShot:
    """Zero-shot by label names against a linear probe, on the same held-out images (the images
    of ``exclude`` take no part)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import GridSearchCV, train_test_split

    from .corpus import image_table

    if "{label}" not in template:
        raise InputError("The template needs {label} where the label's name goes, as in 'a photo of a {label}'.")
    table = image_table(corpus)
    column = f"meta.{label}"
    if column not in table:
        raise InputError(f"{corpus.name} has no column {label!r}; its label-like columns: "
                         f"{', '.join(corpus.label_columns()) or 'none'}.")
    index = {lab: i for i, lab in enumerate(space.labels)}
    table = table[table["file"].map(lambda f: f in index) & (table[column].astype(str).str.strip() != "")
                  & ~table["doc"].isin(set(exclude))]
    counts = table[column].value_counts()
    table = table[table[column].isin(counts[counts >= 3].index)]      # a class needs train and test images
    classes = sorted(table[column].unique())
    if len(classes) < 2:
        raise InputError(f"{label!r} needs at least two values with 3 images or more each.")
    X = space.vectors[[index[f] for f in table["file"]]]
    y = table[column].to_numpy()
    train, test = train_test_split(np.arange(len(y)), test_size=TEST_SHARE, stratify=y, random_state=seed)
    prompts = [template.replace("{label}", c) for c in classes]
    if space.embedder is None:
        raise InputError(f"{space.name} cannot embed the label prompts (its model is not available).")
    P = np.asarray(space.embed(prompts), dtype=np.float32)
    guess = np.array(classes)[np.argmax(X[test] @ P.T, axis=1)]
    twins = (P @ P.T > 1 - 1e-6) & ~np.eye(len(classes), dtype=bool)
    top = pd.Series(y[test]).value_counts()
    folds = int(min(5, pd.Series(y[train]).value_counts().min()))
    probe = GridSearchCV(LogisticRegression(max_iter=2000), {"C": list(PROBE_CS)}, cv=max(2, folds),
                         scoring="accuracy").fit(X[train], y[train])
    predicted = probe.predict(X[test])
    truth = y[test]
    return ZeroShot(space.name, label, template, len(test), len(train), classes,
                    (guess == truth).astype(np.int8), (predicted == truth).astype(np.int8),
                    float(probe.best_params_["C"]),
                    {"zero-shot": float(f1_score(truth, guess, average="macro")),
                     "linear probe": float(f1_score(truth, predicted, average="macro"))},
                    (float(top.iloc[0] / len(test)), str(top.index[0])),
                    [c for c, t in zip(classes, twins.any(axis=1)) if t])


def differences(per_space: dict[str, dict[str, pd.DataFrame]], metric: str = MAIN,
                confidence: float = CONFIDENCE) -> list[Difference]:
    """Every pair of spaces in each direction, paired over the same queries (ids must match)."""
    out = []
    for direction in DIRECTIONS:
        names = [n for n in per_space if direction in per_space[n]]
        pairs = list(combinations(names, 2))
        level = 1 - (1 - confidence) / max(1, len(pairs))
        for a, b in pairs:
            fa = per_space[a][direction].set_index("qid")[metric]
            fb = per_space[b][direction].set_index("qid")[metric]
            shared = fa.index.intersection(fb.index)
            if len(shared) < 2:
                continue
            d = (fa.loc[shared] - fb.loc[shared]).to_numpy()
            low, high = bootstrap_interval(d, level)
            out.append(Difference(a, b, direction, metric, float(d.mean()), low, high,
                                  f"paired bootstrap over {len(shared):,} queries ({BOOTSTRAP:,} resamples)"
                                  + (f", Bonferroni over {len(pairs)} pairs" if len(pairs) > 1 else ""), level))
    return out


def leaderboard(per_space: dict[str, dict[str, pd.DataFrame]], shots: dict[str, ZeroShot],
                spaces: dict[str, EmbeddingSpace]) -> pd.DataFrame:
    """One row per space: both directions' nDCG@10 and Recall@1, zero-shot and probe accuracy
    (with n), images per second and dimension."""
    rows = []
    for name, frames in per_space.items():
        p = spaces[name].provenance
        row = {"space": name}
        for direction, frame in frames.items():
            short = "i→c" if direction == DIRECTIONS[0] else "c→i"
            row[f"{short} nDCG@10"] = float(frame[MAIN].mean())
            row[f"{short} R@1"] = float(frame["Recall@1"].mean())
            row[f"{short} queries"] = len(frame)
        shot = shots.get(name)
        if shot is not None:
            row["zero-shot acc"] = float(shot.zero_shot.mean())
            row["probe acc"] = float(shot.probe.mean())
            row["majority acc"] = shot.majority[0]
            row["test images"] = shot.n_test
        row["images/s"] = p.get("images_per_second")
        row["model MB"] = round(p["model_bytes"] / 1e6, 1) if p.get("model_bytes") else None
        row["dim"] = spaces[name].dim
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class ImageBenchmark:
    """Every measurement of :func:`benchmark_spaces`: what the Images page and ``images bench`` show."""

    corpus: str
    board: pd.DataFrame                  #: :func:`leaderboard`
    differences: list[Difference]        #: :func:`differences`
    shots: dict[str, ZeroShot]           #: zero-shot against the probe, per space (empty without a label)
    left_out: int                        #: images a customised space among them trained on, left out for all
    alike: dict[str, tuple[int, int]]    #: :func:`alike_captions`, per space

    def to_dict(self) -> dict:
        return {"corpus": self.corpus, "left_out_trained_images": self.left_out,
                "captions_alike": {n: {"alike": a, "captions": t} for n, (a, t) in self.alike.items()},
                "leaderboard": self.board.to_dict("records"), "differences": [d.row() for d in self.differences],
                "zero_shot": {n: {"template": z.template, "test_images": z.n_test, "train_images": z.n_train,
                                  "chosen_C": z.chosen_c, "macro_f1": z.macro_f1,
                                  "majority": {"label": z.majority[1], "accuracy": z.majority[0]},
                                  "same_prompts": z.same_prompts, "probe_minus_zero_shot": z.difference().row()}
                              for n, z in self.shots.items()}}


def benchmark_spaces(ws, spaces: dict[str, EmbeddingSpace], label: str | None = None, *,
                     template: str = TEMPLATE) -> ImageBenchmark:
    """Cross-modal retrieval of ``spaces`` (name → space, all of one image corpus), zero-shot
    against a probe on ``label`` if given, their paired verdicts and the captions that tie; the
    images any customised space among them trained on are left out for every space."""
    from embeddings.text.corpus import get_corpus

    corpora = {s.provenance.get("corpus_id") for s in spaces.values()}
    if len(corpora) != 1 or None in corpora:
        raise InputError("Compare image-text spaces of one image corpus (made with `images space`).")
    corpus = get_corpus(ws, corpora.pop())
    left_out = trained_on(spaces.values())
    per_space = {n: cross_modal(s, corpus, exclude=left_out) for n, s in spaces.items()}
    shots = {n: zero_shot(s, corpus, label, template=template, exclude=left_out)
             for n, s in spaces.items()} if label else {}
    return ImageBenchmark(corpus.name, leaderboard(per_space, shots, spaces), differences(per_space), shots,
                          len(left_out), {n: alike_captions(s) for n, s in spaces.items()})
