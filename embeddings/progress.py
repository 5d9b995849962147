"""The one progress protocol of the core: ``progress(fraction, message)``.

``fraction`` runs from 0 to 1 over the whole job and ``message`` names the stage
("Training w2v: epoch 3/10"). A callback may raise :class:`~embeddings.errors.Cancelled`
to stop the job; the job then saves nothing. Pages draw it as a bar with an ETA
(``pages.common.progress_reporter``), the CLI as a line on stderr.
"""

from __future__ import annotations

from collections.abc import Callable

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
