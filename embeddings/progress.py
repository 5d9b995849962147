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
