"""User-facing errors.

Everything the core raises for a *user* mistake (bad file, unknown name, duplicate
name, ...) is an :class:`EmbeddingsError`. Its message is one sentence a person can
act on; the CLI prints it as one line and the pages show it with ``st.error``.
Anything else that escapes is a bug and is reported as such.
"""

from __future__ import annotations


class EmbeddingsError(Exception):
    """A problem the user can fix; ``str(err)`` is the message to show."""


class InputError(EmbeddingsError):
    """A file, text or parameter that cannot be used."""


class NotFoundError(EmbeddingsError):
    """A named artefact that is not in the workspace."""


class DuplicateNameError(EmbeddingsError):
    """An artefact with the same kind and name already exists."""


class WorkspaceError(EmbeddingsError):
    """The workspace folder or catalogue cannot be used."""


class DamagedError(EmbeddingsError):
    """A saved artefact whose files are missing or unreadable (a crash, a disk problem, a hand edit)."""

    def __init__(self, kind: str, name: str, why: str):
        self.kind, self.name, self.why = kind, name, why
        super().__init__(f"{kind} {name!r} is damaged ({why}): delete it or create it again.")


class Cancelled(EmbeddingsError):
    """A long job stopped on the user's request; nothing was saved."""
