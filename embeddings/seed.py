"""Demo seeding: a new, empty workspace gets the Lee corpus, so the app never opens empty.

Seeding runs once per workspace: a setting records that it happened, so a user who
deletes the demo corpus does not get it back. An inter-process lock keeps two app
sessions (or the app and ``make run``'s CLI call) from seeding at the same time.
"""

from __future__ import annotations

from .corpus import Preprocessing, Progress, _no_progress, add_corpus
from .samples import SAMPLES
from .workspace import Workspace, utc_now

SEEDED_KEY = "demo_seeded_at"
DEMO_CORPUS = "lee"
#: the demo corpus keeps stopwords (the models need context) and joins strong phrases
#: (united_states, al_qaeda); threshold 50 keeps out pairs like he_said (score 22)
DEMO_PREPROCESSING = Preprocessing(phrases="bigrams", phrase_threshold=50.0)


def is_empty(ws: Workspace) -> bool:
    return not any(ws.counts().values())


def seed_demo(ws: Workspace, progress: Progress = _no_progress) -> list[str]:
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
            sample = SAMPLES["lee"]
            progress(0.0, f"Adding the demo corpus: {sample.title}")
            add_corpus(ws, DEMO_CORPUS, documents=sample.load(), preprocessing=DEMO_PREPROCESSING,
                       source_label="sample:lee", progress=progress)
            added.append(DEMO_CORPUS)
        ws.set_setting(SEEDED_KEY, utc_now())
        progress(1.0, "Demo workspace ready")
        return added
