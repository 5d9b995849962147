"""Embedding Explorer's core library: corpora, embedding spaces and what is computed on them.

It never imports streamlit; the pages in ``pages/`` and the CLI (``python -m embeddings``)
are thin layers over it.
"""

import os

# The process environment every entry point (the app, the CLI, the tests, bench/) gets on
# its first ``import embeddings``, before any library that reads it is imported:
# - privacy: no model hub and no telemetry, whatever a library tries;
# - memory: Arrow allocates through the C library's malloc, which gives freed memory back
#   to the system, rather than mimalloc, which keeps it; the server runs for days and
#   ingests uploads of up to 200 MB;
# - quiet: our own progress (bar, ETA, cancel) replaces the libraries' bars and load reports.
for _key, _value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                     "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                     "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false", "TQDM_DISABLE": "1",
                     "ARROW_DEFAULT_MEMORY_POOL": "system"}.items():
    os.environ.setdefault(_key, _value)

__version__ = "0.1.0"

#: the notebook API (:mod:`embeddings.notebook`), imported on first use so that ``import
#: embeddings`` stays light for the CLI and the app
_NOTEBOOK = ("Workspace", "Space", "compare", "benchmark")
__all__ = ["__version__", *_NOTEBOOK]


def __getattr__(name: str):
    if name in _NOTEBOOK:
        from embeddings import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'embeddings' has no attribute {name!r}")
