"""The one progress protocol of the core: ``progress(fraction, message)``.

``fraction`` runs from 0 to 1 over the whole job and ``message`` names the stage
("Training w2v: epoch 3/10"). A callback may raise :class:`~embeddings.errors.Cancelled`
to stop the job; the job then saves nothing. Pages draw it as a bar with an ETA
(``pages.common.progress_reporter``), the CLI as a line on stderr.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .errors import Cancelled

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """The default callback: report nothing."""


def stage(progress: Progress, start: float, end: float, prefix: str = "") -> Progress:
    """``progress`` for one stage of a job: its 0–1 mapped onto ``start``–``end`` of the whole.

    >>> seen = []
    >>> stage(lambda f, m: seen.append((f, m)), 0.5, 1.0, "Encoding: ")(0.5, "half")
    >>> seen
    [(0.75, 'Encoding: half')]
    """
    def report(fraction: float, message: str) -> None:
        progress(start + (end - start) * min(max(fraction, 0.0), 1.0), prefix + message)

    return report


def stages(progress: Progress, weights: dict[str, float]) -> dict[str, Progress]:
    """One job's stages: ``weights`` maps each stage's name, in order, to its expected share
    of the time (measured; any positive scale). Returns name -> that stage's ``progress``, its
    span of the bar in proportion to its weight and its messages prefixed "name: ".

    >>> seen = []
    >>> parts = stages(lambda f, m: seen.append((round(f, 2), m)), {"Training": 1, "Encoding": 3})
    >>> parts["Encoding"](0.5, "chunk 2 of 4")
    >>> seen
    [(0.62, 'Encoding: chunk 2 of 4')]
    """
    total = sum(weights.values())
    if not weights or total <= 0 or min(weights.values()) < 0:
        raise ValueError(f"stage weights must be positive: {weights}")
    out, start = {}, 0.0
    for name, weight in weights.items():
        end = start + weight / total
        out[name] = stage(progress, start, end, f"{name}: ")
        start = end
    return out


def duration(seconds: float) -> str:
    """``"42 s"`` or ``"3 min 05 s"``."""
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class Clock:
    """What a progress display shows, the same on a page and in the CLI: the fraction, which
    never goes back, and the time left, estimated from the current stage's own pace (the
    message's text before its first ": " names the stage), so a quick stage followed by a slow
    one does not promise the quick one's pace. Before a stage has run 2 s and 2 % of the job,
    the whole job's pace stands in. ``seconds`` is the whole time so far."""

    MIN_SECONDS, MIN_FRACTION = 2.0, 0.02

    def __init__(self, now: Callable[[], float] | None = None):
        import time

        self.now = now or time.perf_counter
        self.start = self.now()
        self.high, self.stage, self.stage_start, self.stage_from = 0.0, None, self.start, 0.0

    @property
    def seconds(self) -> float:
        return self.now() - self.start

    def update(self, fraction: float, message: str) -> tuple[float, float | None]:
        """``(fraction to show, seconds left or None)``."""
        now = self.now()
        self.high = max(self.high, min(max(float(fraction), 0.0), 1.0))
        name = message.split(": ", 1)[0] if ": " in message else ""
        if name != self.stage:
            self.stage, self.stage_start, self.stage_from = name, now, self.high
        if self.high >= 1:
            return 1.0, None
        for began, start in ((self.stage_start, self.stage_from), (self.start, 0.0)):
            done, spent = self.high - start, now - began
            if done >= self.MIN_FRACTION - 1e-9 and spent >= self.MIN_SECONDS:
                return self.high, spent * (1 - self.high) / done
        return self.high, None


#: seconds between two reports of a step that has no progress of its own (a kNN graph, trust scores)
HEARTBEAT = 1.0


def heartbeat(work: Callable[[Progress], object], progress: Progress, fraction: float, message: str,
              every: float = HEARTBEAT):
    """Run ``work(report)`` in a worker thread while this thread reports for it: what the work
    reports through ``report`` (UMAP's epochs, t-SNE's iterations) is passed on as it comes, and
    a step that reports nothing (pynndescent's graph, UMAP's spectral initialisation, scikit-learn's
    trustworthiness) is reported as ``message`` with the seconds elapsed, every ``every`` seconds.
    Progress (a Streamlit bar) is thus only ever drawn from the caller's thread. A Cancel raised
    by ``progress`` stops the wait at once and makes the work's next ``report`` raise, which
    stops UMAP's and openTSNE's loops; nothing is returned or cached. (The projection's harness:
    :func:`embeddings.layout.projection.project`.)"""
    box: dict = {}
    latest: list[tuple[float, str]] = []
    stop = threading.Event()

    def report(f: float, m: str) -> None:
        if stop.is_set():
            raise Cancelled("Cancelled.")
        latest.append((f, m))

    def run() -> None:
        try:
            box["value"] = work(report)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run, name="projection-step", daemon=True)
    start = last = time.perf_counter()
    current = (fraction, message)
    try:
        progress(*current)
        thread.start()
        while thread.is_alive():
            thread.join(0.2)
            now = time.perf_counter()
            if latest:  # every report, in order (a test, or a log, may count the epochs)
                taken = len(latest)
                for current in latest[:taken]:
                    progress(*current)
                del latest[:taken]
                last = now
            elif now - last >= every and thread.is_alive():
                progress(current[0], f"{current[1]} · {now - start:.0f} s")
                last = now
    except BaseException:
        stop.set()
        raise
    if "error" in box:
        raise box["error"]
    for report_ in latest:
        progress(*report_)
    return box["value"]
