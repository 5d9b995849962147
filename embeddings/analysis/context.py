"""Words in context: one vector per *use* of a term, and the senses they fall into.

A static model (Word2Vec, GloVe) gives a word one vector, whatever it means where it
stands. A transformer encoder gives each occurrence its own: here, the mean of the last
layer's outputs over the term's word pieces, in its sentence (as ELMo and BERT showed,
the vector then carries the sense). For a term of a corpus:

- :func:`occurrences` finds up to ``max`` sentences holding it (whole words, any case);
- :func:`contextual_vectors` takes each occurrence's vector;
- :func:`senses` clusters them with k-means, k chosen by the silhouette (cosine);
- :func:`spread` is the one number: the mean pairwise cosine distance of the uses. A
  term used one way scores low; jargon that means two things scores high.

Each sense is described by three example sentences and its nearest vocabulary terms (the
corpus's frequent words, each taken in isolation the same way), and a static space can
say which sense its single vector leans to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.progress import Progress, no_progress
from embeddings.text.corpus import Corpus

MAX_OCCURRENCES = 500
#: the demo's term: in the Lee corpus "bank" is the West Bank and the banks (Westpac, the ANZ)
DEMO_TERM = "bank"
#: below this many uses a term has no senses worth clustering
MIN_OCCURRENCES = 6
#: k-means tries 2 .. this many senses
MAX_SENSES = 5
#: below this silhouette the clusters split one cloud of uses rather than separate senses:
#: the view says "no clear senses" and shows one group (Kaufman & Rousseeuw read under 0.25 as
#: "no substantial structure"; contextual vectors sit lower, so the bar is lower too)
CLEAR_SENSES = 0.15
EXAMPLES = 3
NEIGHBOURS = 8
#: the vocabulary the senses' neighbours are drawn from: the corpus's most frequent words
VOCABULARY = 3000
BATCH = 32


@dataclass
class Occurrence:
    sentence: str
    start: int
    end: int
    doc: int

    def parts(self) -> tuple[str, str, str]:
        """``(before, the term as written, after)``, for a page to escape and highlight."""
        s = self.sentence
        return s[:self.start], s[self.start:self.end], s[self.end:]

    def marked(self, mark: str = "**") -> str:
        """The sentence with the term wrapped in ``mark``, as plain text (the JSON's examples)."""
        before, term, after = self.parts()
        return before + mark + term + mark + after


def term_pattern(term: str) -> re.Pattern:
    """The term as whole words, any case; ``new_york`` matches "New York"."""
    words = [re.escape(w) for w in term.replace("_", " ").split()]
    if not words:
        raise InputError("Give a term.")
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def occurrences(corpus: Corpus, term: str, max_n: int = MAX_OCCURRENCES, *, seed: int = 0) -> tuple[list[Occurrence], int]:
    """``(occurrences, found)``: up to ``max_n`` uses of ``term`` (one per sentence, drawn
    with ``seed`` when there are more) and how many sentences hold it in all."""
    pattern = term_pattern(term)
    table = corpus.sentence_table()
    hits = table[table["text"].str.contains(pattern, regex=True)].drop_duplicates("text")
    found = len(hits)
    if found > max_n:
        hits = hits.iloc[np.sort(np.random.default_rng(seed).choice(found, max_n, replace=False))]
    out = []
    for text, doc in zip(hits["text"], hits["doc"]):
        m = pattern.search(text)
        out.append(Occurrence(text, m.start(), m.end(), int(doc)))
    return out, found


def transformer_of(encoder):
    """The Hugging Face model and tokenizer inside a SentenceTransformer."""
    return encoder[0].auto_model, encoder.tokenizer


def contextual_vectors(encoder, uses: list[Occurrence], *, batch_size: int = BATCH,
                       progress: Progress = no_progress) -> tuple[np.ndarray, np.ndarray]:
    """``(vectors, kept)``: for each use, the mean of the last layer over the word pieces
    that overlap the term's characters; ``kept`` marks the uses whose term survived
    truncation to the model's window (the others get no vector)."""
    import torch

    model, tokenizer = transformer_of(encoder)
    model.eval()
    window = int(getattr(encoder, "max_seq_length", 0) or 512)
    vectors = np.zeros((len(uses), model.config.hidden_size), dtype=np.float32)
    kept = np.zeros(len(uses), dtype=bool)
    for start in range(0, len(uses), batch_size):
        batch = uses[start:start + batch_size]
        enc = tokenizer([u.sentence for u in batch], return_offsets_mapping=True, padding=True, truncation=True,
                        max_length=window, return_tensors="pt")
        offsets = enc.pop("offset_mapping").numpy()
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state.numpy()
        for i, use in enumerate(batch):
            o = offsets[i]
            pieces = (o[:, 1] > o[:, 0]) & (o[:, 0] < use.end) & (o[:, 1] > use.start)
            if pieces.any():
                vectors[start + i] = hidden[i][pieces].mean(axis=0)
                kept[start + i] = True
        progress(min(start + batch_size, len(uses)) / len(uses), f"{min(start + batch_size, len(uses)):,} uses")
    return vectors, kept


def _unit(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms == 0, 1, norms)


def spread(vectors: np.ndarray) -> float:
    """Mean pairwise cosine distance (1 − cos) over all pairs of uses.

    >>> round(spread(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])), 4)
    0.6667
    """
    U = _unit(np.asarray(vectors, dtype=np.float64))
    n = len(U)
    if n < 2:
        return float("nan")
    S = U @ U.T
    return float(1.0 - (S.sum() - np.trace(S)) / (n * (n - 1)))


def senses(vectors: np.ndarray, *, max_k: int = MAX_SENSES, seed: int = 0) -> tuple[np.ndarray, float]:
    """``(cluster of each use, silhouette)``: k-means on the unit vectors for k = 2 ..
    ``max_k``, keeping the k with the highest silhouette (cosine)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    U = _unit(vectors)
    best = (None, -1.0)
    for k in range(2, min(max_k, len(U) - 1) + 1):
        labels = KMeans(k, n_init=10, random_state=seed).fit_predict(U)
        if len(set(labels)) < 2:
            continue
        score = float(silhouette_score(U, labels, metric="cosine"))
        if score > best[1]:
            best = (labels, score)
    if best[0] is None:
        return np.zeros(len(U), dtype=int), float("nan")
    # senses numbered by size, largest first
    order = {c: i for i, c in enumerate(pd.Series(best[0]).value_counts().index)}
    return np.array([order[c] for c in best[0]]), best[1]


def clear(silhouette: float) -> bool:
    """Whether clusters with this silhouette are distinct senses (:data:`CLEAR_SENSES`).

    >>> clear(0.13), clear(0.31), clear(float("nan"))
    (False, True, False)
    """
    return bool(np.isfinite(silhouette) and silhouette >= CLEAR_SENSES)


def vocabulary_terms(corpus: Corpus, exclude: str, n: int = VOCABULARY) -> list[str]:
    """The corpus's ``n`` most frequent content words, but ``exclude``: three letters or
    more, letters only, not a stopword (gensim's list), and in at least two documents (a
    token of one page, an id or a markup leftover, is no neighbour)."""
    from gensim.parsing.preprocessing import STOPWORDS

    vocab = corpus.vocabulary()
    term = vocab["term"]
    keep = term.str.len().ge(3) & term.str.isalpha() & (term.str.lower() != exclude.lower()) & \
        ~term.str.lower().isin(STOPWORDS)
    if int(corpus.stats["documents"]) > 1:
        keep &= vocab["documents"].ge(2)
    return term[keep].head(n).tolist()


def isolated_vectors(encoder, terms: list[str], *, progress: Progress = no_progress) -> np.ndarray:
    """Each term's vector taken in isolation, the same way as an occurrence's (its pieces'
    mean in the last layer), so senses and terms are compared in one space."""
    uses = [Occurrence(t, 0, len(t), -1) for t in terms]
    return contextual_vectors(encoder, uses, batch_size=128, progress=progress)[0]


@dataclass
class Sense:
    size: int
    examples: list[Occurrence]
    neighbours: list[str]
    static_similarity: float | None = None

    def to_dict(self) -> dict:
        return {"size": self.size, "examples": [u.marked() for u in self.examples], "neighbours": self.neighbours,
                **({"static_similarity": self.static_similarity} if self.static_similarity is not None else {})}


@dataclass
class ContextView:
    """Everything the page and ``contextual --json`` show for one term."""

    term: str
    model: str
    found: int
    uses: list[Occurrence]
    vectors: np.ndarray
    cluster: np.ndarray
    silhouette: float
    spread: float
    senses: list[Sense] = field(default_factory=list)
    static: str | None = None          #: the static space compared, if any
    static_sense: int | None = None    #: the sense its one vector leans to

    def coordinates(self, seed: int = 0) -> np.ndarray:
        """The uses in 2-D (PCA of the unit vectors)."""
        from sklearn.decomposition import PCA

        U = _unit(self.vectors)
        return PCA(2, random_state=seed).fit_transform(U) if len(U) > 2 else np.zeros((len(U), 2))

    def to_dict(self) -> dict:
        return {"term": self.term, "model": self.model, "occurrences": len(self.uses), "found": self.found,
                "spread": self.spread, "silhouette": self.silhouette, "clear_senses": clear(self.silhouette),
                "clear_senses_threshold": CLEAR_SENSES, "senses": [s.to_dict() for s in self.senses],
                "static_space": self.static, "static_sense": self.static_sense}


def context_view(encoder, corpus: Corpus, term: str, *, model_name: str = "", max_n: int = MAX_OCCURRENCES,
                 static=None, seed: int = 0, progress: Progress = no_progress) -> ContextView:
    """The contextual view of ``term`` in ``corpus`` through ``encoder`` (a
    SentenceTransformer); ``static`` (an EmbeddingSpace holding the term) is placed by its
    mean cosine to each sense's neighbours."""
    from embeddings.progress import stage

    uses, found = occurrences(corpus, term, max_n, seed=seed)
    if len(uses) < MIN_OCCURRENCES:
        raise InputError(f"{term!r} occurs in {found} sentence(s) of {corpus.name}; the context view needs at "
                         f"least {MIN_OCCURRENCES}.")
    vectors, kept = contextual_vectors(encoder, uses, progress=stage(progress, 0.0, 0.6, "Encoding the uses: "))
    uses, vectors = [u for u, k in zip(uses, kept) if k], vectors[kept]
    cluster, silhouette = senses(vectors, seed=seed)
    if not clear(silhouette):       # one cloud: one group, and the view says so
        cluster = np.zeros(len(vectors), dtype=int)
    terms = vocabulary_terms(corpus, term)
    vocab = isolated_vectors(encoder, terms, progress=stage(progress, 0.6, 0.95, "Encoding the vocabulary: "))
    vocab = _unit(vocab - vocab.mean(axis=0))
    view = ContextView(term, model_name, found, uses, vectors, cluster, silhouette, spread(vectors))
    rng = np.random.default_rng(seed)
    overall = _unit(vectors).mean(axis=0)
    for c in range(int(cluster.max()) + 1):
        members = np.flatnonzero(cluster == c)
        # what sets this sense apart: its centroid less the mean of all uses (what every
        # use shares, the word itself), against the vocabulary centred the same way
        centre = _unit((_unit(vectors[members]).mean(axis=0) - overall)[None, :])[0]
        near = [terms[i] for i in np.argsort(-(vocab @ centre))[:NEIGHBOURS]]
        picks = members if len(members) <= EXAMPLES else rng.choice(members, EXAMPLES, replace=False)
        view.senses.append(Sense(len(members), [uses[i] for i in sorted(picks)], near))
    if static is not None:
        place_static(view, static)
    progress(1.0, "Done")
    return view


def place_static(view: ContextView, static) -> None:
    """Where the static space's single vector of the term falls: its mean cosine to each
    sense's neighbours (those the static space knows), and the sense it is closest to."""
    if view.term not in static:
        return
    v = static.vector(view.term)
    best = None
    for i, sense in enumerate(view.senses):
        known = [t for t in sense.neighbours if t in static]
        if known:
            sense.static_similarity = float(np.mean(static.lookup(known) @ v))
            if best is None or sense.static_similarity > view.senses[best].static_similarity:
                best = i
    view.static, view.static_sense = static.name, best


def rank_by_spread(encoder, corpus: Corpus, terms: list[str], *, max_n: int = 50, seed: int = 0,
                   progress: Progress = no_progress) -> pd.DataFrame:
    """``term, uses, spread`` for each term with enough uses, most spread first: the
    ambiguous jargon comes to the top. ``max_n`` uses per term keep it quick."""
    rows = []
    for i, term in enumerate(terms):
        progress(i / max(len(terms), 1), f"{term} ({i + 1} of {len(terms)})")
        uses, found = occurrences(corpus, term, max_n, seed=seed)
        if len(uses) < MIN_OCCURRENCES:
            continue
        vectors, kept = contextual_vectors(encoder, uses)
        if kept.sum() >= MIN_OCCURRENCES:
            rows.append({"term": term, "uses": int(kept.sum()), "found": found, "spread": spread(vectors[kept])})
    progress(1.0, "Done")
    frame = pd.DataFrame(rows, columns=["term", "uses", "found", "spread"])
    return frame.sort_values("spread", ascending=False, ignore_index=True)
