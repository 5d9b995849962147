"""Embedding Explorer's core library: corpora, embedding spaces and what is computed on them.

It never imports streamlit; the pages in ``pages/`` and the CLI (``python -m embeddings``)
are thin layers over it.
"""

__version__ = "0.1.0"
