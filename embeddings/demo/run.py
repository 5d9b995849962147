"""Building the demo's :data:`~embeddings.demo.STAGES`: in a worker process beside the app
(``python -m embeddings seed --worker``, started by ``make run`` and by the app), or in the
foreground (``seed``, the tests).

- **Resumable**: a stage already built is skipped; each is one artefact saved atomically, so
  Ctrl-C or ``kill -9`` leaves no half stage and the next start resumes at the first missing one.
- **Single**: the builder holds the workspace's ``seed`` lock (``flock``, released by the
  kernel when the process dies); a worker that finds it held leaves, ``seed`` waits for it.
- **A failed stage** is reported (status file, terminal) with its error; the stages that need
  it are skipped, the others still run, and the demo is not marked seeded, so the next start
  tries again.
- **Truthful progress**: :class:`Tracker` writes the status file the app's panel reads
  (:func:`read_status`) and prints one line per stage with its time, and a line at least every
  :data:`HEARTBEAT` seconds while one runs; the percentage never goes back and the time left
  comes from the stages' measured seconds, scaled by this machine's pace so far.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from embeddings.demo import BY_KEY, SEEDED_KEY, STAGES, STARTED_KEY, Stage, wanted
from embeddings.progress import Progress, duration
from embeddings.store.files import atomic_write_json, read_json, utc_now
from embeddings.store.workspace import Workspace

log = logging.getLogger(__name__)

STATUS_FILE = ".demo-status.json"
LOCK = "seed"
#: seconds between terminal lines while a stage runs (never silent for more than 10 s)
HEARTBEAT = 5.0
#: a status not rewritten for this long belongs to a worker that died
STALE_SECONDS = 30.0
#: the time left scales the measured seconds by this machine's pace once this many have run
PACE_AFTER, PACE_BOUNDS = 60.0, (0.5, 4.0)
#: ``$EMBEDDINGS_DEMO``: ``background`` (default) builds the demo in a worker beside the app;
#: ``off`` never starts one (the suite's own workspaces)
MODE_ENV, MODES = "EMBEDDINGS_DEMO", ("background", "off")
STATES = ("waiting", "running", "done", "failed", "skipped")


@dataclass
class StageStatus:
    key: str
    title: str
    state: str = "waiting"
    fraction: float = 0.0
    message: str = ""
    seconds: float | None = None
    error: str | None = None


@dataclass
class Status:
    """What the status file says, and whether its writer still runs (``alive``)."""

    stages: list[StageStatus]
    fraction: float = 0.0
    eta: float | None = None
    finished: bool = False
    alive: bool = False
    pid: int | None = None
    updated: float = 0.0
    by_key: dict[str, StageStatus] = field(init=False, repr=False)

    def __post_init__(self):
        self.by_key = {s.key: s for s in self.stages}

    @property
    def current(self) -> StageStatus | None:
        return next((s for s in self.stages if s.state == "running"), None)


def status_path(ws: Workspace):
    return ws.root / STATUS_FILE


def read_status(ws: Workspace) -> Status | None:
    """The last run's status, or None if the demo was never started here."""
    try:
        raw = read_json(status_path(ws))
        stages = [StageStatus(**s) for s in raw["stages"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    status = Status(stages, raw.get("fraction", 0.0), raw.get("eta"), raw.get("finished", False),
                    pid=raw.get("pid"), updated=raw.get("updated", 0.0))
    status.alive = not status.finished and _running(status.pid) and time.time() - status.updated < STALE_SECONDS
    return status


def _running(pid: int | None) -> bool:
    try:
        os.kill(int(pid), 0)
        return True
    except (OSError, TypeError, ValueError):
        return False


class Tracker:
    """One run's account: the status file (rewritten at most twice a second and at every
    change of stage) and the terminal lines (``out``; None: silent)."""

    def __init__(self, ws: Workspace, stages: tuple[Stage, ...], out=sys.stderr, progress: Progress | None = None):
        self.ws, self.stages, self.out, self.progress = ws, stages, out, progress
        self.rows = [StageStatus(s.key, s.title) for s in stages]
        self.total = sum(s.seconds for s in stages) or 1.0
        self.high, self.started, self.stage_started = 0.0, time.time(), None
        self.measured = self.expected = 0.0         # this machine's seconds and the table's, stages run so far
        self.current: int | None = None
        self.lock, self.written, self.printed = threading.Lock(), 0.0, 0.0
        self.stop = threading.Event()

    # -- time left ---------------------------------------------------------------------
    @property
    def pace(self) -> float:
        """This machine's time per measured second, from the stages run so far: 1 until they
        add up to :data:`PACE_AFTER` measured seconds (a few quick stages say little), and
        within :data:`PACE_BOUNDS`."""
        if self.expected < PACE_AFTER:
            return 1.0
        return min(max(self.measured / self.expected, PACE_BOUNDS[0]), PACE_BOUNDS[1])

    def stage_left(self) -> float | None:
        if self.current is None:
            return None
        stage, row = self.stages[self.current], self.rows[self.current]
        spent = time.time() - self.stage_started
        if row.fraction >= 0.05 and spent >= 2:
            return spent * (1 - row.fraction) / row.fraction
        return max(stage.seconds * self.pace - spent, 0.0)

    def eta(self) -> float | None:
        left = self.stage_left() or 0.0
        later = sum(s.seconds for s, r in zip(self.stages, self.rows) if r.state == "waiting")
        return left + later * self.pace

    def fraction(self) -> float:
        finished = sum(s.seconds for s, r in zip(self.stages, self.rows) if r.state in ("done", "failed", "skipped"))
        running = self.stages[self.current].seconds * self.rows[self.current].fraction if self.current is not None else 0
        self.high = max(self.high, min((finished + running) / self.total, 1.0))
        return self.high

    # -- events --------------------------------------------------------------------------
    def begin(self, i: int) -> None:
        with self.lock:
            self.current, self.stage_started = i, time.time()
            self.rows[i].state = "running"
        self._line(f"{self.stages[i].title}: started")
        self.write(force=True)

    def update(self, fraction: float, message: str) -> None:
        row = self.rows[self.current]
        row.fraction, row.message = max(row.fraction, min(max(float(fraction), 0.0), 1.0)), message
        if self.progress is not None:
            self.progress(self.fraction(), f"{self.stages[self.current].title}: {message}")
        self.write()

    def end(self, i: int, state: str, error: str | None = None, seconds: float | None = None) -> None:
        with self.lock:
            row = self.rows[i]
            row.state, row.error, row.fraction = state, error, 1.0 if state == "done" else row.fraction
            if seconds is not None:
                row.seconds = round(seconds, 1)
                self.measured += seconds
                self.expected += self.stages[i].seconds
            self.current = None
        word = {"done": f"done in {duration(seconds)}" if seconds is not None else "already built",
                "failed": f"FAILED: {error}", "skipped": f"skipped: {error}"}[state]
        if seconds is not None or state != "done":
            self._line(f"{self.stages[i].title}: {word}")
        self.write(force=True)

    def finish(self, seeded: bool) -> None:
        self.stop.set()
        failed = [r.title for r in self.rows if r.state in ("failed", "skipped")]
        self._line("demo ready" if seeded else f"demo incomplete ({len(failed)} stages not built: "
                   f"{'; '.join(failed)}); the next start tries them again", final=True)
        self.write(force=True, finished=True)

    # -- output --------------------------------------------------------------------------
    def write(self, force: bool = False, finished: bool = False) -> None:
        now = time.time()
        if not force and now - self.written < 0.5:
            return
        with self.lock:
            self.written = now
            eta = self.eta()
            atomic_write_json(status_path(self.ws), {
                "pid": os.getpid(), "updated": now, "started": self.started, "finished": finished,
                "fraction": round(self.fraction(), 4), "eta": None if eta is None else round(eta, 1),
                "stages": [r.__dict__ for r in self.rows]})

    def _line(self, text: str, final: bool = False) -> None:
        self.printed = time.time()
        if self.out is None:
            return
        eta = self.eta()
        tail = "" if final or not eta else f" · demo ready in about {duration(eta)}"
        print(f"[demo {self.fraction():4.0%}] {text}{tail}", file=self.out, flush=True)

    def heartbeat(self) -> None:
        """A line every :data:`HEARTBEAT` seconds while a stage runs, with its own time left."""
        while not self.stop.wait(1.0):
            self.write(force=time.time() - self.written > HEARTBEAT)
            if self.current is not None and time.time() - self.printed >= HEARTBEAT:
                i, left = self.current, self.stage_left()
                row = self.rows[i]
                more = f" · stage about {duration(left)} left" if left is not None else ""
                self._line(f"{self.stages[i].title}: {row.message or 'working'} ({row.fraction:.0%} of the stage){more}")


def _try_lock(ws: Workspace):
    fh = open(ws.root / f".{LOCK}.lock", "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fh
    except OSError:
        fh.close()
        return None


def run_stages(ws: Workspace, *, wait: bool = True, until: str | None = None, out=None,
               progress: Progress | None = None) -> list[str]:
    """Build the missing stages (up to ``until`` included) under the workspace's lock; the keys
    built. ``wait=False`` (the worker): leave at once if another process holds the lock."""
    stages = STAGES if until is None else STAGES[:[s.key for s in STAGES].index(until) + 1]
    held = _try_lock(ws)
    if held is None:
        if not wait:
            if out is not None:
                print("[demo] another process is building the demo in this workspace", file=out, flush=True)
            return []
        if out is not None:
            print("[demo] waiting for the process that is building the demo here", file=out, flush=True)
        held = open(ws.root / f".{LOCK}.lock", "a+")
        fcntl.flock(held, fcntl.LOCK_EX)
    try:
        if not wanted(ws):
            return []
        if not ws.get_setting(STARTED_KEY):
            ws.set_setting(STARTED_KEY, utc_now())
        return _build(ws, stages, Tracker(ws, stages, out, progress), complete=until is None)
    finally:
        held.close()


def _build(ws: Workspace, stages: tuple[Stage, ...], tracker: Tracker, complete: bool) -> list[str]:
    built, broken = [], set()
    ticker = threading.Thread(target=tracker.heartbeat, daemon=True, name="demo-heartbeat")
    ticker.start()
    if tracker.out is not None:
        print(f"[demo] building the demo in {ws.root}: {len(stages)} stages, about "
              f"{duration(tracker.eta() or 0)} on two cores; the app is usable meanwhile", file=tracker.out, flush=True)
    for i, stage in enumerate(stages):
        if stage.done(ws):
            tracker.end(i, "done")
            continue
        missing = [n for n in stage.needs if n in broken or (n in BY_KEY and not BY_KEY[n].done(ws))]
        if missing:
            broken.add(stage.key)
            tracker.end(i, "skipped", f"needs {', '.join(BY_KEY[n].title if n in BY_KEY else n for n in missing)}")
            continue
        tracker.begin(i)
        began = time.time()
        try:
            stage.build(ws, tracker.update)
        except Exception as exc:   # one stage must not stop the others: reported, and retried next start
            log.exception("demo stage %s failed", stage.key)
            broken.add(stage.key)
            tracker.end(i, "failed", f"{type(exc).__name__}: {exc}"[:300])
            continue
        built.append(stage.key)
        tracker.end(i, "done", seconds=time.time() - began)
    seeded = complete and not broken
    if seeded:
        ws.set_setting(SEEDED_KEY, utc_now())
    tracker.finish(seeded)
    return built


# -- the worker process ------------------------------------------------------------------
def demo_mode() -> str:
    mode = os.environ.get(MODE_ENV, MODES[0])
    return mode if mode in MODES else MODES[0]


_spawned: dict[str, float] = {}


def start_worker(ws: Workspace, parent: int | None = None) -> bool:
    """Start the worker for ``ws`` unless the demo is off, done, or already being built (by a
    live worker, or by one this process started in the last :data:`STALE_SECONDS`). It ends
    with ``parent`` (default: this process). True if one was started."""
    if demo_mode() == "off" or not wanted(ws):
        return False
    status = read_status(ws)
    if (status and status.alive) or time.time() - _spawned.get(str(ws.root), -1e9) < STALE_SECONDS:
        return False
    _spawned[str(ws.root)] = time.time()
    cmd = [sys.executable, "-m", "embeddings", "--workspace", str(ws.root), "seed", "--worker",
           "--parent", str(parent or os.getpid())]
    subprocess.Popen(cmd, stdin=subprocess.DEVNULL, close_fds=True)
    return True


def watch_parent(parent: int) -> None:
    """End this worker when ``parent`` (the app's server) ends: ``kill -9`` semantics, which the
    workspace survives (the half-built folder is swept on the next start)."""
    def watch():
        while True:
            if os.getppid() != parent:
                print("[demo] the app stopped; the demo resumes on its next start", file=sys.stderr, flush=True)
                os._exit(3)
            time.sleep(0.5)
    threading.Thread(target=watch, daemon=True, name="demo-parent").start()
