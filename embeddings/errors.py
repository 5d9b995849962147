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


class DiskFullError(EmbeddingsError):
    """The disk holding the workspace ran out of space; what was being written is gone."""

    def __init__(self, root):
        import shutil

        try:
            free = f"{shutil.disk_usage(root).free / 1e6:,.1f} MB free"
        except OSError:
            free = "its free space unknown"
        super().__init__(f"The disk holding the workspace ({root}) is full: {free}. Nothing was saved; "
                         "free some space and run it again.")


#: the ways a full disk shows itself: errno ENOSPC or EDQUOT, numpy's short write, SQLite's message
_FULL_ERRNOS = (28, 122)


def disk_full(exc: BaseException, root) -> DiskFullError | None:
    """``exc`` (or an error it was raised from) as a :class:`DiskFullError` for the workspace
    at ``root``, or None when it is something else."""
    import re

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DiskFullError):
            return exc
        if isinstance(exc, OSError) and (exc.errno in _FULL_ERRNOS or re.search(r"\d+ requested and \d+ written",
                                                                                 str(exc))):
            return DiskFullError(root)
        if "database or disk is full" in str(exc):          # sqlite3.OperationalError
            return DiskFullError(root)
        exc = exc.__cause__ or exc.__context__
    return None
