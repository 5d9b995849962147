"""Where the app's files are: the repository's, or the copy inside an installed wheel.

A checkout has ``app.py``, ``pages/`` and ``data/`` beside the ``embeddings`` package (the
layout ``make run`` serves); the wheel carries them inside the package, under
``embeddings/app/`` (``pyproject.toml``, ``force-include``), so nothing named ``app`` or
``pages`` lands at the top of ``site-packages``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def app_dir() -> Path:
    """The folder holding ``app.py``, ``pages/`` and ``data/``."""
    checkout = PACKAGE.parent
    return checkout if (checkout / "app.py").is_file() and (checkout / "pages").is_dir() else PACKAGE / "app"


def data_dir() -> Path:
    """The published word sets and the app's own files (``data/``)."""
    return app_dir() / "data"
