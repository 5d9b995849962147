"""Preprocessing: text to tokens, phrases and sentences, with the options of
:class:`Preprocessing` (one home for them: the upload form, the CLI and the demo read their
defaults here). Streaming: a text is cut into bounded blocks, sentences and units, one at a
time; phrase detection is gensim's ``Phrases`` over a restartable stream.

>>> tokenize("Café in New-York, 2001!", Preprocessing(strip_accents=True, numbers=False))
['cafe', 'in', 'new-york']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import pandas as pd

from embeddings.errors import InputError
from embeddings.options import check, option
from embeddings.progress import Progress, no_progress
from embeddings.readers import Document, paragraphs

PhraseMode = Literal["none", "bigrams", "trigrams"]
PHRASE_MODES: tuple[PhraseMode, ...] = get_args(PhraseMode)
PHRASE_SCORING = ("npmi", "default")
#: each phrase scorer as the pages and reports name it
SCORER_NAMES = {"npmi": "NPMI (normalised PMI, −1…1)", "default": "gensim default (Mikolov et al.)"}
_PHRASE_DELIMITERS = ("\x1f", "\x1e")  # one per Phrases pass; both shown as "_"

# A token is a run of word characters, with inner hyphens or apostrophes kept
# ("south-west", "don't"). Phrases are joined with "_" afterwards ("new_york").
TOKEN_RE = re.compile(r"\w+(?:[-'\u2019]\w+)*")


@dataclass(frozen=True)
class Preprocessing:
    """How text becomes tokens. Every field is recorded with the corpus."""

    lowercase: bool = True
    strip_accents: bool = False
    #: tokens shorter than this (in characters) are dropped
    min_length: int = option(1, 1, 20, "tokens shorter than this, in characters, are dropped")
    #: drop gensim's English stopwords (``gensim.parsing.preprocessing.STOPWORDS``)
    stopwords: bool = False
    #: keep tokens that contain no letter ("2001", "4,000")
    numbers: bool = True
    #: split documents into sentences (paragraphs, then NLTK's Punkt); else one line per document
    sentences: bool = True
    #: gensim Phrases: "none", "bigrams" or "trigrams" (two passes)
    phrases: PhraseMode = "none"
    #: gensim's scorer: "npmi" (normalised PMI, in [-1, 1]; Bouma 2009) or "default" (Mikolov et al. 2013)
    phrase_scoring: str = "npmi"
    phrase_threshold: float = 0.7
    phrase_min_count: int = option(5, 1, 1000, "a phrase must be seen this many times")
    #: drop lines repeated across many documents (navigation, headers, footers): :mod:`embeddings.text.boilerplate`
    boilerplate: bool = True

    def __post_init__(self):
        if self.phrases not in PHRASE_MODES:
            raise InputError(f"phrases must be one of {', '.join(PHRASE_MODES)}, not {self.phrases!r}.")
        check(self)
        if self.phrase_scoring not in PHRASE_SCORING:
            raise InputError(f"phrase scoring must be one of {', '.join(PHRASE_SCORING)}, not {self.phrase_scoring!r}.")
        if self.phrase_scoring == "npmi" and not -1 < self.phrase_threshold <= 1:
            raise InputError("An NPMI phrase threshold lies between -1 and 1 (0.7 keeps strong phrases).")
        if self.phrase_scoring == "default" and self.phrase_threshold <= 0:
            raise InputError("The phrase threshold must be positive.")

    @classmethod
    def from_params(cls, params: dict) -> Preprocessing:
        """The settings recorded with a corpus. Corpora made before NPMI scoring recorded no
        scorer: theirs was gensim's default; those made before boilerplate removal kept it."""
        return cls(**{"phrase_scoring": "default", "boilerplate": False, **params})

    def describe(self) -> str:
        parts = ["lowercase" if self.lowercase else "cased"]
        if self.boilerplate:
            parts.append("boilerplate lines dropped")
        if self.strip_accents:
            parts.append("accents stripped")
        if self.min_length > 1:
            parts.append(f"tokens ≥ {self.min_length} chars")
        if self.stopwords:
            parts.append("stopwords removed")
        if not self.numbers:
            parts.append("numbers dropped")
        parts.append("sentence split" if self.sentences else "one line per document")
        if self.phrases != "none":
            parts.append(f"{self.phrases} ({self.phrase_scoring} ≥ {self.phrase_threshold:g}, "
                         f"seen ≥ {self.phrase_min_count})")
        return ", ".join(parts)


#: what the upload form starts from and the demo uses: bigrams scored by NPMI ≥ 0.7
#: (strong pairs such as al_qaeda, tora_bora, new_zealand; not he_said or 4_000)
RECOMMENDED = Preprocessing(phrases="bigrams")


# -- tokenising -----------------------------------------------------------------
_punkt = None
# Punkt's trained English model is a download; instead its parameters are seeded with
# common English abbreviations (lowercase, without the final period), so "Mr. Smith"
# and "4 p.m. on Monday" stay whole. Words that also end sentences (no, sat, sun, mar)
# are left out.
ABBREVIATIONS = frozenset("""
mr mrs ms dr prof sr jr st mt ft co corp inc ltd plc bros dept univ gov lt sgt capt cmdr adm maj rev hon pres
vs etc e.g i.e cf approx vol vols fig figs eq eqs pp jan feb apr jun jul aug sep sept oct nov dec
a.m p.m u.s u.k u.n e.u d.c ph.d
""".split())


#: the longest stretch of text handed to Punkt or the tokeniser at once. A longer paragraph
#: is cut at its last sentence end (else whitespace) before this, so memory stays bounded
#: and Punkt's regex time limit is never reached; 50,000 characters is about 8,000 tokens,
#: under the 10,000 at which gensim's training cuts a sentence anyway.
MAX_BLOCK_CHARS = 50_000
_BREAK_RE = re.compile(r"[.!?][\"')\]]*\s")


def blocks(text: str, max_chars: int = MAX_BLOCK_CHARS) -> Iterator[str]:
    """Pieces of at most ``max_chars`` characters, cut after a sentence end where there is
    one, else at whitespace, else hard.

    >>> list(blocks("One two. Three four. Five", 12))
    ['One two.', 'Three four.', 'Five']
    """
    start, n = 0, len(text)
    while n - start > max_chars:
        window = text[start:start + max_chars]
        ends = [m.end() for m in _BREAK_RE.finditer(window)]
        cut = ends[-1] if ends else max(window.rfind(" "), window.rfind("\n")) + 1 or max_chars
        piece = window[:cut].strip()
        if piece:
            yield piece
        start += cut
    piece = text[start:].strip() if start else text.strip()
    if piece:
        yield piece


def iter_sentences(text: str) -> Iterator[str]:
    """The sentences of a document, lazily: blank lines first, then NLTK's Punkt on blocks
    of at most :data:`MAX_BLOCK_CHARS` characters."""
    global _punkt
    if _punkt is None:
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

        params = PunktParameters()
        params.abbrev_types = set(ABBREVIATIONS)
        _punkt = PunktSentenceTokenizer(params)
    for para in paragraphs(text):
        for block in blocks(para):
            for start, end in _punkt.span_tokenize(block):
                sentence = block[start:end].strip()
                if sentence:
                    yield sentence


def split_sentences(text: str) -> list[str]:
    """Split a document into sentences: blank lines first, then NLTK's Punkt.

    >>> split_sentences("Mr. Smith arrived at 4 p.m. on Monday. He left.")
    ['Mr. Smith arrived at 4 p.m. on Monday.', 'He left.']
    """
    return list(iter_sentences(text))


def units(text: str, prep: "Preprocessing") -> Iterator[str]:
    """The units a document is cut into before tokenising: its sentences, or (without
    sentence splitting) the document itself with its white space folded, in blocks."""
    if prep.sentences:
        yield from iter_sentences(text)
    else:
        for block in blocks(text):
            yield " ".join(block.split())


class _Tokeniser:
    """Text to tokens under one :class:`Preprocessing` (case, accents, numbers, length);
    compiled once, called per unit."""

    def __init__(self, prep: Preprocessing):
        from gensim.utils import deaccent

        self.prep = prep
        self._deaccent = deaccent

    def __call__(self, text: str) -> list[str]:
        prep = self.prep
        if prep.strip_accents:
            text = self._deaccent(text)
        if prep.lowercase:
            text = text.lower()
        tokens = TOKEN_RE.findall(text)
        if prep.min_length > 1:
            tokens = [t for t in tokens if len(t) >= prep.min_length]
        if not prep.numbers:
            tokens = [t for t in tokens if any(c.isalpha() for c in t)]
        return tokens


def tokenize(text: str, prep: Preprocessing | None = None) -> list[str]:
    """Tokens of one text under ``prep`` (stopwords and phrases are corpus-level steps).

    >>> tokenize("Café in New-York, 2001!", Preprocessing(strip_accents=True, numbers=False))
    ['cafe', 'in', 'new-york']
    """
    return _Tokeniser(prep or Preprocessing())(text)


def query_tokens(text: str, prep: Preprocessing) -> list[str]:
    """A new text's tokens (a query's) as the corpus's documents were tokenised, stopwords
    removed where the corpus removes them, phrases not joined (they are learnt over a corpus).

    >>> query_tokens("How do I open the file?", Preprocessing(stopwords=True))
    ['open', 'file']
    """
    tokens = tokenize(text, prep)
    if prep.stopwords:
        from gensim.parsing.preprocessing import STOPWORDS

        tokens = [t for t in tokens if t.lower() not in STOPWORDS]
    return tokens


@dataclass
class Tokenised:
    """The result of preprocessing in memory: aligned lists, one entry per kept sentence.
    (For small inputs and tests; a saved corpus streams the same steps to disk.)"""

    sentences: list[list[str]]
    sentence_text: list[str]
    sentence_doc: list[int]
    #: phrase -> (score); from gensim's Phrases
    phrase_scores: dict[str, float] = field(default_factory=dict)


Unit = tuple[int, str, list[str]]  # (document index, text, tokens)


def _tokenised_units(documents: Sequence[Document], prep: Preprocessing, progress: Progress) -> Iterator[Unit]:
    """Every unit (sentence) of every document with its tokens, one at a time."""
    tok = _Tokeniser(prep)
    step = max(1, len(documents) // 50)
    for i, doc in enumerate(documents):
        for unit in units(doc.text, prep):
            tokens = tok(unit)
            if tokens:
                yield i, unit, tokens
        if i % step == 0:
            progress((i + 1) / len(documents), f"Tokenising document {i + 1:,} of {len(documents):,}")


def is_content_phrase(parts: Sequence[str]) -> bool:
    """False for a phrase made only of numbers, single characters or code-like pieces with
    digits ("427_640", "n_1", "j1_j2"): a phrase needs one part with two letters or more
    and no digit.

    >>> is_content_phrase(["new", "york"]), is_content_phrase(["iso", "8601"]), is_content_phrase(["4", "000"])
    (True, True, False)
    """
    return any(sum(c.isalpha() for c in p) >= 2 and not any(c.isdigit() for c in p) for p in parts)


class _Finisher:
    """The corpus-level steps after tokenising: phrases (learnt over the whole corpus by
    gensim's Phrases, one pass per layer) and stopword removal."""

    def __init__(self, prep: Preprocessing):
        self.prep = prep
        self.layers: list = []
        self.delimiters = _PHRASE_DELIMITERS[: 2 if prep.phrases == "trigrams" else 1] if prep.phrases != "none" \
            else ()
        self.table = str.maketrans({d: "_" for d in self.delimiters})
        self.stopwords: frozenset[str] = frozenset()
        if prep.stopwords:
            from gensim.parsing.preprocessing import STOPWORDS

            self.stopwords = frozenset(STOPWORDS)

    def learn(self, sentences: Callable[[], Iterable[list[str]]], progress: Progress) -> dict[str, float]:
        """Learn the phrase layers from a restartable stream of token lists; return phrase -> score.

        Each pass joins with its own control character: gensim's freeze()/export_phrases split a
        phrase on the delimiter, so a trigram pass over "new_york" + "city" with one shared
        delimiter (or a corpus token like "__init__") would be mis-scored. The delimiters
        become "_" at the end.
        """
        from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

        scores: dict[str, float] = {}
        for layer, delimiter in enumerate(self.delimiters):
            progress(layer / len(self.delimiters), f"Detecting phrases (pass {layer + 1} of {len(self.delimiters)})")
            done = list(self.layers)
            model = Phrases(
                (self._apply(s, done) for s in sentences()),
                min_count=self.prep.phrase_min_count,
                threshold=self.prep.phrase_threshold,
                scoring=self.prep.phrase_scoring,
                delimiter=delimiter,
                connector_words=ENGLISH_CONNECTOR_WORDS,
            ).freeze()
            for phrase in [p for p in model.phrasegrams if not is_content_phrase(p.split(delimiter))]:
                del model.phrasegrams[phrase]       # frozen phrases apply only what is left here
            scores.update(model.phrasegrams)
            self.layers.append(model)
        return {p.translate(self.table): score for p, score in scores.items()}

    @staticmethod
    def _apply(tokens: list[str], layers: list) -> list[str]:
        for model in layers:
            tokens = model[tokens]
        return tokens

    def __call__(self, tokens: list[str]) -> list[str]:
        if self.layers:
            tokens = [t.translate(self.table) for t in self._apply(tokens, self.layers)]
        if self.stopwords:
            tokens = [t for t in tokens if t.lower() not in self.stopwords]
        return tokens


def preprocess(documents: Sequence[Document], prep: Preprocessing, progress: Progress = no_progress) -> Tokenised:
    """Tokenise documents, detect phrases, remove stopwords, in memory."""
    raw = list(_tokenised_units(documents, prep, lambda f, m: progress(0.7 * f, m)))
    finish = _Finisher(prep)
    scores = finish.learn(lambda: (tokens for _, _, tokens in raw), lambda f, m: progress(0.7 + 0.2 * f, m)) \
        if finish.delimiters else {}
    out = Tokenised([], [], [], scores)
    for doc, text, tokens in raw:
        tokens = finish(tokens)
        if tokens:
            out.sentences.append(tokens)
            out.sentence_text.append(text)
            out.sentence_doc.append(doc)
    return out


#: phrase preview: detect on the first this-many characters of the documents
PREVIEW_CHARS = 2_000_000


@dataclass(frozen=True)
class PhrasePreview:
    """The phrases a setting would detect, on the documents' first ``PREVIEW_CHARS``."""

    table: pd.DataFrame          #: phrase, count, score (best first)
    documents: int               #: documents looked at
    total: int                   #: documents given
    prep: Preprocessing

    @property
    def partial(self) -> bool:
        return self.documents < self.total


def preview_phrases(documents: Sequence[Document], prep: Preprocessing, *, max_chars: int = PREVIEW_CHARS,
                    progress: Progress = no_progress) -> PhrasePreview:
    """What ``prep``'s phrase detection makes of (the start of) the documents, before
    anything is saved. On a part, counts are lower than on the whole, so fewer pairs reach
    the min count."""
    if prep.phrases == "none":
        raise InputError("Phrase detection is off; choose bigrams or trigrams to preview phrases.")
    taken, size = [], 0
    for doc in documents:
        if taken and size + len(doc.text) > max_chars:
            break
        taken.append(Document(doc.text[:max_chars], doc.source))
        size += len(taken[-1].text)
    tok = preprocess(taken, prep, progress)
    counts = Counter(t for sentence in tok.sentences for t in sentence)
    vocab = pd.DataFrame({"term": list(counts), "count": list(counts.values())})
    return PhrasePreview(_phrase_table(tok.phrase_scores, vocab), len(taken), len(documents), prep)


def _phrase_table(scores: dict[str, float], vocab: pd.DataFrame) -> pd.DataFrame:
    counts = dict(zip(vocab["term"], vocab["count"]))
    rows = [(p, counts[p], float(s)) for p, s in scores.items() if p in counts]
    table = pd.DataFrame(rows, columns=["phrase", "count", "score"])
    return table.sort_values(["count", "score", "phrase"], ascending=[False, False, True], ignore_index=True)
