"""The model card of a space, typed, from its catalogue row alone (no vectors are read).

One home for what the pages and the CLI ask of a space before loading it: its unit, its
family, whether it is a sentence encoder (probed with SEAT), whether it was derived (PCA,
hard debiasing) and from which parent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from embeddings.space import Family
from embeddings.store.artefact import Artefact

SENTENCE_ENCODER: Family = "sentence-transformer"
#: the families whose spaces embed any new text with their own model (an encoder, a static model)
TEXT_ENCODERS = (SENTENCE_ENCODER, "model2vec", "endpoint")
#: the document families that embed a new text through their word space or a refit of their
#: model on the corpus (:mod:`embeddings.models.text_embed`)
POOLED_OR_TFIDF = ("pooled", "tfidf")
#: the families the app trains on a corpus
TRAIN_FAMILIES = ("word2vec", "fasttext", "ppmi-svd")


def is_sentence_encoder(family: str | None, can_embed: bool) -> bool:
    """A sentence encoder that can embed new text (a local one, or one behind an endpoint):
    bias tests use SEAT on it (the one rule for a loaded space and for a catalogue card)."""
    return family in (SENTENCE_ENCODER, "endpoint") and bool(can_embed)


def is_general_space(provenance: dict) -> bool:
    """A general model's term space (GloVe, MiniLM, a user's encoder or imported vectors): not
    trained by the app on any corpus and not derived from another space. The audit's default
    comparison, never another corpus's domain model."""
    return (provenance.get("unit", "term") == "term" and provenance.get("family") not in TRAIN_FAMILIES
            and not provenance.get("derived"))


def is_domain_space(provenance: dict, corpus_name: str, corpus_id: str) -> bool:
    """A term space trained on this corpus: what the audit compares the others with."""
    return (provenance.get("corpus") in (corpus_name, corpus_id) and provenance.get("unit", "term") == "term"
            and provenance.get("family") in TRAIN_FAMILIES)


def domain_spaces(provenances: dict[str, dict], corpus_name: str, corpus_id: str) -> list[str]:
    """The names (in order) of the spaces trained on the corpus, from name -> provenance."""
    return [n for n, p in provenances.items() if is_domain_space(p, corpus_name, corpus_id)]


@dataclass(frozen=True)
class SpaceCard:
    """A space as the catalogue describes it."""

    id: str
    name: str
    family: str | None
    unit: str = "term"
    vocabulary: int = 0
    dim: int = 0
    can_embed: bool = False
    corpus: str | None = None
    parent: str | None = None               #: the parent space's id, for a derived space
    parent_name: str | None = None
    derived: str | None = None              #: "pca", "hard-debias", ... or None
    seconds: float | None = None
    words_per_second: float | None = None
    seed: int | None = None
    created_at: str = ""
    params: dict = field(default_factory=dict, hash=False, compare=False)      #: training/loading parameters
    provenance: dict = field(default_factory=dict, hash=False, compare=False)  #: the whole record

    @classmethod
    def from_artefact(cls, art: Artefact) -> SpaceCard:
        p, s = art.params or {}, art.summary or {}
        return cls(id=art.id, name=art.name, family=s.get("family") or p.get("family"),
                   unit=s.get("unit") or p.get("unit") or "term", vocabulary=int(s.get("vocabulary") or 0),
                   dim=int(s.get("dim") or 0), can_embed=bool(s.get("can_embed", False)), corpus=p.get("corpus"),
                   parent=p.get("parent"), parent_name=p.get("parent_name"), derived=p.get("derived"),
                   seconds=p.get("seconds"), words_per_second=p.get("words_per_second"), seed=p.get("seed"),
                   created_at=art.created_at, params=dict(p.get("params") or {}), provenance=dict(p))

    @property
    def is_sentence_encoder(self) -> bool:
        """A sentence encoder that can embed new text: bias tests use SEAT on it."""
        return is_sentence_encoder(self.family, self.can_embed)

    @property
    def embeds_text(self) -> bool:
        """It can embed a new text (a query): an encoder, a pooled word space, TF-IDF + LSA."""
        return self.can_embed or (self.family in POOLED_OR_TFIDF and self.unit == "document")

    @property
    def is_terms(self) -> bool:
        return self.unit == "term"

    def documents_of(self, corpus: str) -> bool:
        """One vector per document of ``corpus`` (named as the catalogue names it): a space the
        task benchmarks can score on that corpus's labels."""
        return self.unit == "document" and self.corpus == corpus

    @property
    def is_debiased(self) -> bool:
        return self.derived == "hard-debias"

    @property
    def is_finetuned(self) -> bool:
        """Fine-tuned on a corpus here (it keeps its model, its run and its split)."""
        return bool(self.provenance.get("finetune"))

    @property
    def is_encoder(self) -> bool:
        """Made by a transformer encoder whose model can be fine-tuned, distilled or asked for
        words in context: the base encoders' spaces and the fine-tuned ones."""
        return self.family == SENTENCE_ENCODER and not self.derived

    @property
    def customised(self) -> dict | None:
        """How the space's model was customised (method and base), or None."""
        p = self.provenance
        if p.get("finetune"):
            return {"method": p["finetune"]["method"], "base": p["finetune"]["base"]}
        if p.get("family") == "model2vec":
            return {"method": "distilled (model2vec)", "base": p.get("base")}
        return None

    def to_dict(self) -> dict:
        """The card as ``space show --json`` prints it."""
        return {"id": self.id, "name": self.name, "family": self.family, "vocabulary": self.vocabulary,
                "dim": self.dim, "unit": self.unit, "corpus": self.corpus, "parent": self.parent_name,
                "seconds": self.seconds, "words_per_second": self.words_per_second, "seed": self.seed,
                "params": self.params, "warnings": list(self.provenance.get("warnings", [])),
                "can_embed": self.can_embed, "customised": self.customised, "created_at": self.created_at}
