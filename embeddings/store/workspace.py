"""The persistent workspace: a SQLite catalogue plus one folder per artefact.

Layout of a workspace folder::

    catalogue.sqlite        the catalogue (WAL mode): one row per artefact, plus settings
    corpus/<id>/            one folder per artefact, grouped by kind
    space/<id>/
    .tmp/                   artefacts being built; renamed into place when complete

An artefact is created by :meth:`Workspace.create`: its files are written into a fresh
folder under ``.tmp/``, and only once they are all there is the folder renamed into place
and the catalogue row committed, in one SQLite transaction. A reader sees the whole artefact
or nothing; what a killed build leaves is swept on the next open (:meth:`Workspace._sweep`);
two sessions writing at once are serialised by SQLite's lock (``UNIQUE(kind, name)`` settles
races on a name). :meth:`Workspace.cached` keeps derived artefacts (layouts, benchmarks).

Example
-------
>>> import tempfile, json
>>> ws = Workspace(tempfile.mkdtemp())
>>> def build(folder):
...     (folder / "hello.json").write_text(json.dumps({"hi": 1}))
...     return {"files": 1}
>>> art = ws.create("corpus", "demo", build, params={"source": "doctest"})
>>> [a.name for a in ws.list("corpus")]
['demo']
>>> ws.rename("corpus", "demo", "demo2").name
'demo2'
>>> ws.delete("corpus", "demo2")
>>> ws.list("corpus")
[]
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from embeddings.errors import DuplicateNameError, NotFoundError, WorkspaceError
from embeddings.store.artefact import Artefact, clean_name
from embeddings.store.files import utc_now

ENV_VAR = "EMBEDDINGS_WORKSPACE"
DEFAULT_DIR = "workspace"
CATALOGUE = "catalogue.sqlite"
KINDS = ("corpus", "space", "projection", "wordset", "benchmark", "stability", "queries")
_SCHEMA_VERSION = 1
T = TypeVar("T")  # what Workspace.cached keeps
#: a build folder younger than this is never swept (see Workspace._sweep)
_NEW_BUILD_SECONDS = 10
_SCHEMA = """
CREATE TABLE IF NOT EXISTS artefacts (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    parent      TEXT,
    params      TEXT NOT NULL DEFAULT '{}',
    summary     TEXT NOT NULL DEFAULT '{}',
    UNIQUE (kind, name)
);
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def default_root() -> Path:
    """The workspace folder: ``$EMBEDDINGS_WORKSPACE`` if set, else ``./workspace``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def _try_lock(path: Path) -> int | None:
    """An exclusive, non-blocking ``flock`` on a folder: its descriptor, or None if another process holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


class Workspace:
    """A workspace folder. Cheap to construct; every call opens its own connection,
    so one instance may be shared between threads (Streamlit sessions)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_root()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / ".tmp").mkdir(exist_ok=True)
            for kind in KINDS:
                (self.root / kind).mkdir(exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"Cannot use {self.root} as a workspace: {exc.strerror or exc}.") from exc
        self.db_path = self.root / CATALOGUE
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise WorkspaceError(
                    f"{self.root} was written by a newer Embedding Explorer (catalogue v{version})."
                )
            con.executescript(_SCHEMA)
            con.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        self._sweep()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # -- connections -------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            con = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise WorkspaceError(f"Cannot open the catalogue {self.db_path}: {exc}.") from exc
        try:
            con.execute("PRAGMA busy_timeout=30000")
            con.execute("PRAGMA foreign_keys=ON")
            yield con
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise WorkspaceError("The workspace is busy; try again in a moment.") from exc
            raise
        finally:
            con.close()

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An inter-process lock (``flock``) on ``.<name>.lock`` in the workspace."""
        with open(self.root / f".{name}.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def scratch(self, what: str) -> Iterator[Path]:
        """A job's scratch folder in ``.tmp/``, held with the same ``flock`` a build holds for as
        long as the job runs, so another process opening the workspace (whose sweep removes
        unheld folders) never deletes it under the job (#26). Removed when the job ends."""
        folder = self.root / ".tmp" / f"job-{clean_name(what).replace('/', '-')}-{uuid.uuid4().hex[:12]}"
        folder.mkdir(parents=True)
        held = _try_lock(folder)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            if held is not None:
                os.close(held)

    def _sweep(self) -> None:
        """Remove what a killed process left behind.

        - Build folders in ``.tmp/`` that no process holds: a build holds an ``flock`` on its
          folder for as long as it runs, and the kernel drops it when the process dies. (A
          folder younger than a few seconds is left alone: between its ``mkdir`` and its
          ``flock`` a build's folder is not yet held.)
        - Artefact folders with no catalogue row (a kill between the rename and the commit).
          This runs inside a write transaction: a build renames its folder inside its own
          write transaction, so none is half-way while we look.
        """
        now = time.time()
        for child in (self.root / ".tmp").iterdir():
            with contextlib.suppress(OSError):
                if now - child.stat().st_mtime < _NEW_BUILD_SECONDS:
                    continue
            fd = _try_lock(child) if child.is_dir() else None
            if fd is not None:
                try:
                    shutil.rmtree(child, ignore_errors=True)
                finally:
                    os.close(fd)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                known = {(k, i) for i, k in con.execute("SELECT id, kind FROM artefacts")}
                for kind in KINDS:
                    for child in (self.root / kind).iterdir():
                        if (kind, child.name) not in known:
                            trash = self.root / ".tmp" / f"orphan-{kind}-{child.name}-{uuid.uuid4().hex[:6]}"
                            with contextlib.suppress(OSError):
                                os.rename(child, trash)
                                shutil.rmtree(trash, ignore_errors=True)
            finally:
                con.execute("COMMIT")

    # -- catalogue ---------------------------------------------------------------
    def _row_to_artefact(self, row: tuple) -> Artefact:
        id_, kind, name, created_at, parent, params, summary = row
        return Artefact(
            id=id_,
            kind=kind,
            name=name,
            created_at=created_at,
            path=self.root / kind / id_,
            parent=parent,
            params=json.loads(params),
            summary=json.loads(summary),
        )

    _COLUMNS = "id, kind, name, created_at, parent, params, summary"

    def list(self, kind: str) -> list[Artefact]:
        """Artefacts of one kind, oldest first. Rows whose folder is gone are skipped."""
        _check_kind(kind)
        with self._connect() as con:
            rows = con.execute(
                f"SELECT {self._COLUMNS} FROM artefacts WHERE kind=? ORDER BY created_at, rowid", (kind,)
            ).fetchall()
        arts = [self._row_to_artefact(r) for r in rows]
        return [a for a in arts if a.path.is_dir()]

    def get(self, kind: str, name_or_id: str, *, fuzzy: bool = False) -> Artefact:
        """Look an artefact up by id, or by name.

        Ids win: names can never have an id's shape (see :func:`clean_name`), and a row
        written before that rule cannot take over another artefact's id.

        With ``fuzzy`` (for reading, never for deleting), a name that matches no
        artefact exactly may be a unique prefix (``glove`` for ``glove-50d``) or a unique
        part of one name, with the usual abbreviations (``w2v`` for ``word2vec``).
        """
        _check_kind(kind)
        if fuzzy:
            match = self._fuzzy(kind, name_or_id)
            if match is not None:
                return match
        with self._connect() as con:
            row = con.execute(
                f"SELECT {self._COLUMNS} FROM artefacts WHERE kind=? AND (name=? OR id=?) "
                "ORDER BY (id=?) DESC LIMIT 1",
                (kind, name_or_id, name_or_id, name_or_id),
            ).fetchone()
        if row is None or not (art := self._row_to_artefact(row)).path.is_dir():
            names = [a.name for a in self.list(kind)]
            hint = f" Known: {', '.join(names[:10])}." if names else f" The workspace has no {kind} yet."
            raise NotFoundError(f"No {kind} named {name_or_id!r}.{hint}")
        return art

    _ABBREVIATIONS = {"w2v": "word2vec", "ft": "fasttext", "st": "minilm"}

    def _fuzzy(self, kind: str, query: str) -> Artefact | None:
        arts = self.list(kind)
        if any(a.name == query or a.id == query for a in arts):
            return None  # the exact lookup takes it
        q = query.lower()
        for test in (lambda n: n.startswith(q),
                     lambda n: q in n,
                     lambda n: self._ABBREVIATIONS.get(q, "\0") in n):
            hits = [a for a in arts if test(a.name.lower())]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise NotFoundError(f"{query!r} matches several {kind} names: "
                                    f"{', '.join(a.name for a in hits[:6])}; give the full name.")
        return None

    def exists(self, kind: str, name: str) -> bool:
        _check_kind(kind)
        with self._connect() as con:
            return con.execute("SELECT 1 FROM artefacts WHERE kind=? AND name=?", (kind, name)).fetchone() is not None

    def check_new_name(self, kind: str, name: str) -> str:
        """Return the cleaned name, or raise if it is invalid or taken."""
        _check_kind(kind)
        name = clean_name(name)
        if self.exists(kind, name):
            raise DuplicateNameError(f"A {kind} named {name!r} already exists; pick another name or delete it first.")
        return name

    def create(
        self,
        kind: str,
        name: str,
        build: Callable[[Path], dict],
        *,
        params: dict | None = None,
        parent: str | None = None,
    ) -> Artefact:
        """Build a new artefact atomically.

        ``build(folder)`` writes the artefact's files into an empty temporary folder and
        returns its summary (a JSON-able dict kept in the catalogue). If it raises,
        nothing is saved. The name is checked before ``build`` runs (to fail fast) and
        again, under SQLite's write lock, when the row is inserted.
        """
        name = self.check_new_name(kind, name)
        art_id = uuid.uuid4().hex[:12]
        tmp = self.root / ".tmp" / f"{kind}-{art_id}"
        tmp.mkdir(parents=True)
        held = _try_lock(tmp)  # tells another process's sweep that this build is alive
        try:
            summary = build(tmp) or {}
            final = self.root / kind / art_id
            created_at = utc_now()
            with self._connect() as con:
                con.execute("BEGIN IMMEDIATE")
                try:
                    con.execute(
                        f"INSERT INTO artefacts ({self._COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                        (art_id, kind, name, created_at, parent,
                         json.dumps(params or {}), json.dumps(summary)),
                    )
                    os.rename(tmp, final)
                except sqlite3.IntegrityError as exc:
                    con.execute("ROLLBACK")
                    raise DuplicateNameError(
                        f"A {kind} named {name!r} already exists; pick another name or delete it first."
                    ) from exc
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            if held is not None:
                os.close(held)
        return self.get(kind, art_id)

    def cached(self, kind: str, key: str, load: Callable[[Artefact], T], make: Callable[[], T],
               save: Callable[[Path, T], dict] | None, *, params: dict | None = None, parent: str | None = None,
               damaged: tuple[type[Exception], ...] = ()) -> tuple[T, bool]:
        """A derived artefact under ``key``: ``(load(it), True)`` if saved (``load`` raising one of
        ``damaged`` counts as absent), else ``(make(), False)``, saved by ``save(folder, value)``
        unless None. Another session saving the key first is no error: its value is as good."""
        try:
            return load(self.get(kind, key)), True
        except (NotFoundError, *damaged):
            pass
        value = make()
        if save is not None:
            with contextlib.suppress(DuplicateNameError):
                self.create(kind, key, lambda folder: save(folder, value), params=params, parent=parent)
        return value, False

    def rename(self, kind: str, name_or_id: str, new_name: str) -> Artefact:
        art = self.get(kind, name_or_id)
        new_name = clean_name(new_name)
        if new_name == art.name:
            return art
        with self._connect() as con:
            try:
                con.execute("UPDATE artefacts SET name=? WHERE id=?", (new_name, art.id))
            except sqlite3.IntegrityError as exc:
                raise DuplicateNameError(f"A {kind} named {new_name!r} already exists.") from exc
        return self.get(kind, art.id)

    def delete(self, kind: str, name_or_id: str) -> None:
        """Remove the catalogue row, then the folder (moved aside first, so a reader
        never sees half a folder). Projections cached for the artefact go with it."""
        art = self.get(kind, name_or_id)
        with self._connect() as con:
            cached = con.execute("SELECT id, kind FROM artefacts WHERE parent=? AND kind='projection'",
                                 (art.id,)).fetchall()
            con.execute("DELETE FROM artefacts WHERE id=? OR (parent=? AND kind='projection')", (art.id, art.id))
        for id_, k in [(art.id, kind), *cached]:  # the artefact and the projections cached for it
            trash = self.root / ".tmp" / f"deleted-{id_}-{uuid.uuid4().hex[:6]}"
            with contextlib.suppress(FileNotFoundError):
                os.rename(self.root / k / id_, trash)
                shutil.rmtree(trash, ignore_errors=True)

    # -- settings ----------------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        with self._connect() as con:
            row = con.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self._connect() as con:
            con.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def counts(self) -> dict[str, int]:
        """How many artefacts of each kind the workspace holds."""
        return {kind: len(self.list(kind)) for kind in KINDS}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown artefact kind {kind!r}; expected one of {KINDS}")
