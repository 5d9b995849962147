"""Bundled sample corpora: nothing is downloaded, everything is on the machine already.

``lee``
    gensim's ``lee_background.cor``: 300 short Australian news stories (about 60k
    tokens), one per line. Shipped in gensim's wheel (LGPL-2.1); the texts come from
    Lee, Pincombe & Welsh (2005), "An empirical evaluation of models of text
    document similarity".
``python-docs``
    The docstrings of a fixed list of Python standard-library modules, read from
    the running interpreter with :func:`inspect.getdoc`: a software-jargon corpus
    (``iterable``, ``subprocess``, ``utf``, ``kwargs``...) to set against the news,
    for the vocabulary audit. Labelled: each document's ``area`` is its module's
    chapter of the Library Reference (:data:`AREAS`), so the task benchmarks can run on
    it. Python Software Foundation License.
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from embeddings.readers import Document


@dataclass(frozen=True)
class Sample:
    """A bundled corpus: its title, description, licence and a loader of its documents."""

    key: str
    title: str
    description: str
    licence: str
    load: Callable[[], list[Document]]


def _load_lee() -> list[Document]:
    from gensim.test.utils import datapath

    path = datapath("lee_background.cor")
    with open(path, encoding="utf-8") as fh:
        return [Document(line.strip(), "lee_background.cor", {"story": str(i + 1)})
                for i, line in enumerate(fh) if line.strip()]


# Modules chosen for rich docstrings and no import side effects (no GUI, no network).
STDLIB_MODULES = (
    "abc", "argparse", "array", "ast", "asyncio", "base64", "bisect", "calendar", "collections",
    "concurrent.futures", "configparser", "contextlib", "copy", "csv", "dataclasses", "datetime",
    "decimal", "difflib", "email.message", "enum", "fractions", "functools", "gettext", "glob",
    "gzip", "hashlib", "heapq", "hmac", "html.parser", "http.client", "http.server", "imaplib",
    "inspect", "io", "ipaddress", "itertools", "json", "logging", "logging.handlers", "lzma",
    "mailbox", "mimetypes", "multiprocessing", "numbers", "operator", "optparse", "os",
    "pathlib", "pickle", "pickletools", "platform", "poplib", "pprint", "queue", "random", "re",
    "sched", "secrets", "selectors", "shelve", "shlex", "shutil", "smtplib", "socket",
    "socketserver", "sqlite3", "ssl", "statistics", "string", "struct", "subprocess", "tarfile",
    "tempfile", "textwrap", "threading", "timeit", "tokenize", "trace", "traceback", "typing",
    "unittest", "unittest.mock", "urllib.parse", "urllib.request", "uuid", "warnings", "weakref",
    "xml.dom.minidom", "xml.etree.ElementTree", "zipfile", "zoneinfo",
)


#: each module's area, after the chapters of the Python Library Reference: the honest
#: label of the labelled sample (column ``area``), for the task benchmarks
AREAS = {
    "text": ("difflib", "gettext", "re", "shlex", "string", "textwrap", "tokenize"),
    "numbers and dates": ("calendar", "datetime", "decimal", "fractions", "numbers", "random", "statistics",
                          "timeit", "zoneinfo"),
    "files and archives": ("glob", "gzip", "io", "lzma", "os", "pathlib", "shutil", "tarfile", "tempfile",
                           "zipfile"),
    "data formats and storage": ("base64", "configparser", "csv", "html.parser", "json", "pickle", "pickletools",
                                 "shelve", "sqlite3", "struct", "xml.dom.minidom", "xml.etree.ElementTree"),
    "networking and internet": ("email.message", "http.client", "http.server", "imaplib", "ipaddress", "mailbox",
                                "mimetypes", "poplib", "selectors", "smtplib", "socket", "socketserver",
                                "urllib.parse", "urllib.request"),
    "security": ("hashlib", "hmac", "secrets", "ssl"),
    "concurrency": ("asyncio", "concurrent.futures", "multiprocessing", "queue", "sched", "subprocess",
                    "threading"),
    "data structures": ("array", "bisect", "collections", "copy", "enum", "functools", "heapq", "itertools",
                        "operator", "pprint", "uuid", "weakref"),
    "language and tooling": ("abc", "argparse", "ast", "contextlib", "dataclasses", "inspect", "logging",
                             "logging.handlers", "optparse", "platform", "trace", "traceback", "typing", "unittest",
                             "unittest.mock", "warnings"),
}
AREA_OF = {module: area for area, modules in AREAS.items() for module in modules}


def _docstrings(module_name: str) -> list[Document]:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return []
    seen: set[int] = set()
    docs: list[Document] = []

    def add(obj, qualname: str) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        doc = inspect.getdoc(obj)
        if doc and len(doc.split()) >= 5:
            docs.append(Document(doc, f"{module_name}", {"module": module_name, "object": qualname,
                                                         "area": AREA_OF[module_name]}))

    add(module, module_name)
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj):
            add(obj, f"{module_name}.{name}")
            for meth_name, meth in sorted(vars(obj).items()):
                if not meth_name.startswith("_") and callable(meth):
                    add(meth, f"{module_name}.{name}.{meth_name}")
        elif inspect.isfunction(obj):
            add(obj, f"{module_name}.{name}")
    return docs


def _load_python_docs() -> list[Document]:
    docs: list[Document] = []
    with warnings.catch_warnings():  # e.g. typing.io's deprecation notice on attribute access
        warnings.simplefilter("ignore")
        for name in STDLIB_MODULES:
            docs.extend(_docstrings(name))
    return docs


SAMPLES: dict[str, Sample] = {
    "lee": Sample(
        "lee",
        "Lee news corpus",
        "300 Australian news stories (gensim's lee_background.cor), about 60k tokens.",
        "Distributed with gensim (LGPL-2.1); texts from Lee, Pincombe & Welsh (2005).",
        _load_lee,
    ),
    "python-docs": Sample(
        "python-docs",
        "Python standard-library docstrings",
        "Docstrings of ~90 standard-library modules, read from this Python: software jargon, "
        "labelled by area (networking, concurrency, text...).",
        "Python Software Foundation License.",
        _load_python_docs,
    ),
}
