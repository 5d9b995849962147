"""The readers' shared ground: formats, limits, the source and document types, decoding.

Everything here is used by every reader; see :mod:`embeddings.readers` for the entry point.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

MB = 1024 * 1024
TEXT_FORMATS = {".txt": "text", ".md": "markdown", ".markdown": "markdown"}
TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv"}
FORMATS = {
    **TEXT_FORMATS,
    **TABLE_FORMATS,
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".zip": "zip",
}
#: Extensions the uploader accepts (without the dot).
UPLOAD_TYPES = sorted(ext.lstrip(".") for ext in FORMATS)
#: Extensions that can never be read: pickles and the like (see the models import).
REFUSED = {".pkl", ".pickle", ".model", ".kv", ".npy", ".npz", ".joblib"}

_TEXT_FIELD_GUESSES = ("text", "body", "content", "abstract", "document", "sentence", "review", "description")


#: the image types an image corpus reads (:mod:`embeddings.images.corpus`), by extension, with the
#: Pillow decoder offered for each; a text upload holding only these points there
IMAGE_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".gif": "GIF"}


@dataclass(frozen=True)
class Limits:
    """Size caps for what is read. The defaults follow Streamlit's 200 MB upload limit."""

    max_file_bytes: int = 200 * MB
    #: total uncompressed size of a zip's members
    max_unzipped_bytes: int = 1024 * MB
    #: total uncompressed / compressed size of a zip, checked once it is over 1 MB
    max_zip_ratio: float = 100.0
    max_zip_members: int = 10_000
    #: pixels of one image (width × height), checked from its header before it is decoded; Pillow's
    #: decompression-bomb guard is set to it while an image corpus is read (:mod:`embeddings.images.corpus`)
    max_image_pixels: int = 40_000_000

    #: total uncompressed size of the parts of a container format (a .docx is a zip of XML)
    max_container_bytes: int = 100 * MB

    @classmethod
    def from_env(cls, max_mb: float | str | None = None) -> "Limits":
        """The limits in force: ``max_mb`` if given (the CLI's ``--max-mb``), else
        ``$EMBEDDINGS_MAX_UPLOAD_MB``, else 200 MB per file.

        >>> Limits.from_env("abc")
        Traceback (most recent call last):
        ...
        embeddings.errors.InputError: The size limit must be a positive number of MB, not 'abc'.
        """
        where = "The size limit"
        if max_mb is None:
            max_mb, where = os.environ.get("EMBEDDINGS_MAX_UPLOAD_MB") or None, "EMBEDDINGS_MAX_UPLOAD_MB"
            if max_mb is None:
                return cls()
        try:
            value = float(max_mb)
        except (TypeError, ValueError):
            value = float("nan")
        if not (0 < value < 1e9):  # also refuses NaN and infinity
            raise InputError(f"{where} must be a positive number of MB, not {max_mb!r}.")
        return cls(max_file_bytes=max(1, int(value * MB)))


#: How a running-text file is cut into documents (the Source flags below; "paragraphs" is none set).
SPLITS = {"paragraphs": "one per paragraph", "lines": "one per line", "file": "the whole file",
          "sections": "one per section"}
SPLIT_HELP = ("Paragraphs are separated by blank lines; a file without blank lines is one document. An HTML page is "
              "one document unless read by section. By section: each part under an h1–h3 (Markdown # to ###) heading "
              "is a document; its heading is kept as metadata, not in the text (for heading → section queries).")


@dataclass(frozen=True)
class Source:
    """One file to read: its name (used for the format and in messages) and bytes."""

    name: str
    data: bytes
    #: column (csv/tsv) or field (jsonl) holding the text; guessed when None
    text_field: str | None = None
    #: for .txt/.md: every non-empty line is a document (as in gensim's .cor files)
    lines_as_documents: bool = False
    #: for .txt/.md: the whole file is one document (by default each paragraph, between blank lines, is one)
    whole_file: bool = False
    #: for .md/.html: each section under an h1–h3 (``#``–``###``) heading is a document, its heading in
    #: the metadata (``heading``) and not in the text; overrides the two above for Markdown
    sections: bool = False
    #: for .csv/.tsv: the first row names the columns; without one they are "column 1", "column 2"...
    header: bool = True


@dataclass(slots=True)
class Document:
    """One document: its text, the file it came from and its metadata (other CSV columns, JSON
    fields, paragraph number). Slotted: a corpus of a million rows holds a million of these."""

    text: str
    source: str
    meta: Mapping[str, str] = field(default_factory=dict)


class Row(tuple):
    """A table row's metadata, a read-only mapping: its first item is the file's column names
    (``{name: position}``, shared by every row), the rest this row's values. A dict per row
    took 184 bytes for two columns, a small object holding a tuple 104; one tuple takes 64
    (#26: a 150 MB CSV of short rows is a million of them)."""

    __slots__ = ()

    def __new__(cls, names: dict[str, int], values: tuple[str, ...]):
        return super().__new__(cls, (names, *values))

    def __getitem__(self, key: str) -> str:
        return tuple.__getitem__(self, tuple.__getitem__(self, 0)[key] + 1)

    def get(self, key: str, default=None):
        names = tuple.__getitem__(self, 0)
        return tuple.__getitem__(self, names[key] + 1) if key in names else default

    def __contains__(self, key: object) -> bool:
        return key in tuple.__getitem__(self, 0)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple.__getitem__(self, 0))

    def __len__(self) -> int:
        return tuple.__len__(self) - 1

    def keys(self):
        return tuple.__getitem__(self, 0).keys()

    def items(self):
        return zip(self.keys(), self.values())      # the names are in position order

    def values(self):
        return list(tuple.__iter__(self))[1:]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    __hash__ = None       # a mapping

    def __repr__(self) -> str:
        return repr(dict(self.items()))


Mapping.register(Row)


class Shared:
    """One copy of each repeated short value (a label column repeats a few values a million
    times), up to ``limit`` distinct values; beyond that, values pass through as they are."""

    __slots__ = ("_seen", "_limit")

    def __init__(self, limit: int = 4096):
        self._seen: dict[str, str] = {}
        self._limit = limit

    def __call__(self, value: str) -> str:
        kept = self._seen.get(value)
        if kept is not None:
            return kept
        if len(self._seen) < self._limit and len(value) <= 64:
            self._seen[value] = value
        return value


@dataclass
class FileInfo:
    """Per-file summary, shown in the corpus statistics."""

    file: str
    format: str
    bytes: int
    encoding: str | None = None
    documents: int = 0
    skipped: int = 0
    note: str = ""


def format_of(name: str) -> str:
    ext = os.path.splitext(name.lower())[1]
    if ext in REFUSED:
        raise InputError(
            f"{name}: {ext} files are not read, because loading them would mean unpickling or "
            "executing code from the file. Export the text (or vectors) to a plain format instead."
        )
    try:
        return FORMATS[ext]
    except KeyError:
        supported = ", ".join(sorted(FORMATS))
        raise InputError(f"{name}: unsupported file type {ext or '(none)'}; supported: {supported}.") from None


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB / 10 else f"{n:,} bytes"


def check_size(name: str, size: int, limits: Limits) -> None:
    if size > limits.max_file_bytes:
        raise InputError(f"{name} is {_size(size)}, over the {_size(limits.max_file_bytes)} limit.")
    if size == 0:
        raise InputError(f"{name} is empty.")


def read_small_text(path: Path | str, *, max_bytes: int, what: str) -> str:
    """A small text file given by path (a word list, a benchmark), decoded like an upload.

    ``what`` finishes the too-large message, e.g. "a word list should be a few KB"."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    if path.stat().st_size > max_bytes:
        raise InputError(f"{path.name} is larger than {max_bytes // MB} MB; {what}.")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(f"{path.name} is empty.")
    return decode(path.name, data)[0]


# -- decoding -------------------------------------------------------------------
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_CONTROL_BYTES = frozenset(range(0, 9)) | frozenset(range(14, 32)) | {127}


def _looks_binary(data: bytes) -> bool:
    """Git's test (a NUL byte) plus a share of control bytes, unless a BOM says UTF-16/32."""
    head = data[:8192]
    if head.startswith(_BOMS):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b in _CONTROL_BYTES)
    return controls > 0.05 * len(head)


def decode(name: str, data: bytes) -> tuple[str, str]:
    """Decode bytes to text; return ``(text, encoding)``.

    Valid UTF-8 is taken as UTF-8. Otherwise charset-normalizer picks the encoding;
    where it finds Windows-1252 about as plausible as its first choice, Windows-1252
    wins (the WHATWG default for unlabelled Western text; charset-normalizer is
    unreliable between the Latin code pages on short texts).
    """
    if _looks_binary(data):
        raise InputError(f"{name} looks like a binary file, not text.")
    try:
        return data.decode("utf-8-sig"), "utf_8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise InputError(f"{name} could not be decoded as text in any known encoding.")
    chosen = best
    for m in matches:
        if m.encoding == "cp1252" and m.chaos <= best.chaos + 0.25:
            chosen = m
            break
    return str(chosen), chosen.encoding


def text_stream(name: str, data: bytes) -> tuple[io.TextIOBase, str]:
    """The text of ``data`` as a stream, and its encoding, decoded as :func:`decode` would
    but without a second copy of the file in memory: valid UTF-8 (checked a megabyte at a
    time) is read lazily; any other encoding is decoded whole, as before. The stream keeps
    line ends as they are (``newline=""``, as the csv module needs)."""
    import codecs

    if _looks_binary(data):
        raise InputError(f"{name} looks like a binary file, not text.")
    check = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), 1 << 20):
            check.decode(view[start:start + (1 << 20)], final=start + (1 << 20) >= len(data))
        check.decode(b"", final=True)
    except UnicodeDecodeError:
        text, encoding = decode(name, data)
        return io.StringIO(text, newline=""), encoding
    head = data[:20000].decode("utf-8-sig", errors="ignore")
    _require_text(name, head if head.strip() or len(data) <= 20000 else data.decode("utf-8-sig"))
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""), "utf_8"


def _require_text(name: str, text: str) -> str:
    if not text or text.isspace():
        raise InputError(f"{name} contains no text.")
    bad = sum(1 for c in text[:20000] if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v")
    if bad > 0.01 * min(len(text), 20000):
        raise InputError(f"{name} decodes to control characters, not text; is it a binary file?")
    return text


# -- formats --------------------------------------------------------------------
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def paragraphs(text: str) -> Iterator[str]:
    r"""The paragraphs of a text (split at blank lines), one at a time.

    >>> list(paragraphs("One.\n\nTwo,\nstill two.\n  \nThree."))
    ['One.', 'Two,\nstill two.', 'Three.']
    """
    start = 0
    for match in PARAGRAPH_BREAK.finditer(text):
        yield text[start:match.start()]
        start = match.end()
    yield text[start:] if start else text


def _first_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return msg[0] if msg else type(exc).__name__
