"""Word sets and WEAT tests: the published ones (Caliskan et al. 2017; Bolukbasi et al. 2016's
gender lists) from ``data/wordsets/``, typed or uploaded ones, saved in the workspace."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from embeddings.resources import data_dir
from embeddings.store.files import atomic_write_json, read_json
from embeddings.store.workspace import Workspace

from ..errors import InputError

DATA_DIR = data_dir() / "wordsets"
CALISKAN_FILE = DATA_DIR / "weat_caliskan2017.json"
BOLUKBASI_FILE = DATA_DIR / "bolukbasi2016_gender.json"

#: SEAT's bleached templates (May et al. 2019 use these and a few more per word type)
WORDSET_KIND = "wordset"



# -- word sets and tests ---------------------------------------------------------------
@dataclass(frozen=True)
class WordSet:
    """A named list of words (one of a test's four sets)."""

    name: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class WeatTest:
    """Targets X, Y and attributes A, B; ``sources`` are full citations."""

    id: str
    title: str
    x: WordSet
    y: WordSet
    a: WordSet
    b: WordSet
    sources: tuple[str, ...] = ()
    published: dict = field(default_factory=dict, hash=False, compare=False)
    builtin: bool = False
    #: words the published test left out of the lists it cites, with the reason (``note``)
    removed: tuple[str, ...] = ()
    note: str = ""

    @property
    def sets(self) -> tuple[WordSet, WordSet, WordSet, WordSet]:
        return (self.x, self.y, self.a, self.b)

    @classmethod
    def from_json(cls, obj: dict, *, sources: dict | None = None) -> WeatTest:
        """A test from its JSON form (``{"id", "title", "targets": {name: words, name: words},
        "attributes": {...}, "sources": [...]}``), as uploaded, saved or cached."""
        return _test_from_json(obj, sources=sources)

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title,
                "targets": {self.x.name: list(self.x.words), self.y.name: list(self.y.words)},
                "attributes": {self.a.name: list(self.a.words), self.b.name: list(self.b.words)},
                "sources": list(self.sources)}


def _test_from_json(obj: dict, *, sources: dict | None = None, builtin: bool = False) -> WeatTest:
    try:
        (xn, xw), (yn, yw) = obj["targets"].items()
        (an, aw), (bn, bw) = obj["attributes"].items()
    except (KeyError, ValueError, AttributeError) as exc:
        raise InputError("A WEAT test needs 'targets' and 'attributes', each with exactly two named word lists.") \
            from exc
    cites = tuple((sources or {}).get(s, s) for s in obj.get("sources", []))
    sets = [WordSet(str(n), tuple(str(w).strip() for w in ws if str(w).strip())) for n, ws in
            ((xn, xw), (yn, yw), (an, aw), (bn, bw))]
    return WeatTest(str(obj.get("id") or "custom"), str(obj.get("title") or obj.get("id") or "custom test"), *sets,
                    sources=cites, published=dict(obj.get("published_effect_size", {})), builtin=builtin)


REMOVED_NOTE = ("Caliskan et al. (2017) dropped {words} from the IAT lists because they were rare in their "
                "corpus, keeping the two target sets the same size; they are dropped here too, so the effect size "
                "is comparable with the published one.")


def _caliskan_removal(test: WeatTest, removed: Sequence[str]) -> WeatTest:
    """The test as Caliskan et al. ran it: the names they removed taken out of the targets."""
    gone = set(removed)
    x, y = (WordSet(s.name, tuple(w for w in s.words if w not in gone)) for s in (test.x, test.y))
    dropped = tuple(w for s in (test.x, test.y) for w in s.words if w in gone)
    return replace(test, x=x, y=y, removed=dropped, note=REMOVED_NOTE.format(words=", ".join(dropped)))


@lru_cache(maxsize=1)
def builtin_tests() -> tuple[WeatTest, ...]:
    """The ten tests of Caliskan et al. (2017), from ``data/wordsets/``, with the names they
    removed (``caliskan_removed``) taken out of weat4 and weat5 as in the paper."""
    data = json.loads(CALISKAN_FILE.read_text(encoding="utf-8"))
    removed = data.get("caliskan_removed", {})
    tests = (_test_from_json(t, sources=data["sources"], builtin=True) for t in data["tests"])
    return tuple(_caliskan_removal(t, removed[t.id]) if t.id in removed else t for t in tests)


@lru_cache(maxsize=1)
def bolukbasi_gender() -> dict:
    """Definitional and equalise pairs, professions and gender-specific seed words."""
    return json.loads(BOLUKBASI_FILE.read_text(encoding="utf-8"))


def professions() -> list[str]:
    return [p[0] for p in bolukbasi_gender()["professions"]]


def gender_specific() -> list[str]:
    """Bolukbasi et al.'s full learned list of gender-specific words (1,441, grown from the
    218-word seed): hard debiasing leaves them un-neutralised, as published."""
    return list(bolukbasi_gender()["specific_full"])


def neutral_professions() -> list[str]:
    """The professions that hard debiasing neutralises (those not in the gender-specific list)."""
    specific = {w.lower() for w in gender_specific()}
    return [p for p in professions() if p.lower() not in specific]


def custom_test(title: str, x: tuple[str, Sequence[str]], y: tuple[str, Sequence[str]],
                a: tuple[str, Sequence[str]], b: tuple[str, Sequence[str]], *, test_id: str = "custom") -> WeatTest:
    """A test from four (name, words) sets; every set needs two words or more."""
    sets = []
    for role, (name, words) in zip("XYAB", (x, y, a, b)):
        words = tuple(dict.fromkeys(w.strip() for w in words if w.strip()))
        if len(words) < 2:
            raise InputError(f"Set {role} ({name or 'unnamed'}) needs at least two words.")
        sets.append(WordSet(name.strip() or role, words))
    return WeatTest(test_id, title.strip() or test_id, *sets)


def save_test(ws: Workspace, test: WeatTest, name: str | None = None) -> WeatTest:
    """Save a custom test in the workspace (kind ``wordset``)."""
    name = ws.check_new_name(WORDSET_KIND, name or test.title)
    saved = WeatTest(name, test.title, *test.sets, sources=test.sources)

    def build(folder: Path) -> dict:
        atomic_write_json(folder / "test.json", saved.to_json())
        return {"type": "weat", "sizes": [len(s.words) for s in saved.sets]}

    ws.create(WORDSET_KIND, name, build, params={"type": "weat"})
    return saved


def saved_tests(ws: Workspace) -> list[WeatTest]:
    out = []
    for art in ws.list(WORDSET_KIND):
        if art.params.get("type") == "weat":
            out.append(_test_from_json({**read_json(art.path / "test.json"), "id": art.name}))
    return out


def get_test(name: str, ws: Workspace | None = None) -> WeatTest:
    """A built-in test (``weat1`` … ``weat10``) or a custom one saved in the workspace."""
    for t in builtin_tests():
        if t.id == name.lower():
            return t
    if ws is not None:
        for t in saved_tests(ws):
            if t.id == name:
                return t
    known = [t.id for t in builtin_tests()] + ([t.id for t in saved_tests(ws)] if ws is not None else [])
    raise InputError(f"Unknown test {name!r}; known: {', '.join(known)}.")
