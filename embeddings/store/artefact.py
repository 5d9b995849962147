"""An artefact's catalogue row and the rules for its name (a user's string: checked once, here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from embeddings.errors import WorkspaceError

MAX_NAME_LENGTH = 80
#: what an artefact id looks like; names of that shape are refused so ids and names never collide
ID_RE = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True)
class Artefact:
    """One catalogue row. ``path`` is the artefact's folder."""

    id: str
    kind: str
    name: str
    created_at: str
    path: Path
    parent: str | None = None
    params: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "created_at": self.created_at,
            "parent": self.parent,
            **self.summary,
        }


def clean_name(name: str) -> str:
    """Validate a user-given artefact name and return it stripped."""
    if not isinstance(name, str) or not name.strip():
        raise WorkspaceError("A name is required.")
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise WorkspaceError(f"Names are at most {MAX_NAME_LENGTH} characters; this one has {len(name)}.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise WorkspaceError("Names cannot contain control characters.")
    if ID_RE.fullmatch(name):
        raise WorkspaceError(f"{name!r} looks like an artefact id (12 hex digits); pick a name of another shape.")
    return name
