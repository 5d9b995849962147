"""Turning uploaded bytes into documents.

One entry point, :func:`read_source`, takes a file's name and bytes and returns the
documents in it, or raises :class:`~embeddings.errors.InputError` with a message
that names the file and says what is wrong. Formats are chosen by extension:

=============  ==============================================================
``.txt .md``   one document per paragraph (blank lines between), or per line, or per file
``.csv .tsv``  one document per row; ``text_field`` picks the text column, the
               other columns become per-document metadata
``.jsonl``     one document per line; ``text_field`` picks the field
``.html .htm`` visible text only (BeautifulSoup; scripts, styles, head dropped)
``.pdf``       pypdf text extraction, one document per file
``.docx``      python-docx paragraphs and table cells, one document per file
``.zip``       any of the above inside; unsafe paths and zip bombs refused
=============  ==============================================================

Text is decoded as UTF-8 when it is valid UTF-8, and otherwise with
charset-normalizer. Nothing is ever unpickled or executed.

>>> docs, (info,) = read_source(Source("note.txt", "Hello, world.".encode()))
>>> docs[0].text, info.encoding
('Hello, world.', 'utf_8')
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

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


@dataclass(frozen=True)
class Limits:
    """Size caps for what is read. The defaults follow Streamlit's 200 MB upload limit."""

    max_file_bytes: int = 200 * MB
    #: total uncompressed size of a zip's members
    max_unzipped_bytes: int = 1024 * MB
    #: total uncompressed / compressed size of a zip, checked once it is over 1 MB
    max_zip_ratio: float = 100.0
    max_zip_members: int = 10_000

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
    #: for .csv/.tsv: the first row names the columns; without one they are "column 1", "column 2"...
    header: bool = True


@dataclass
class Document:
    """One document: its text, the file it came from and its metadata (other CSV columns, JSON
    fields, paragraph number)."""

    text: str
    source: str
    meta: dict[str, str] = field(default_factory=dict)


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


def _read_text(src: Source, info: FileInfo) -> list[Document]:
    text, info.encoding = decode(src.name, src.data)
    _require_text(src.name, text)
    if src.lines_as_documents:
        return [Document(line, src.name) for line in text.splitlines() if line.strip()]
    if src.whole_file:
        return [Document(text, src.name)]
    parts = [p for p in paragraphs(text) if p.strip()]
    if len(parts) < 2:
        return [Document(text, src.name)]
    return [Document(p, src.name, {"paragraph": str(i)}) for i, p in enumerate(parts, 1)]


def _table_rows(src: Source, text: str, fmt: str) -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` of each non-blank row of a CSV/TSV text (``line`` is where the row starts)."""
    reader = csv.reader(io.StringIO(text), delimiter="\t" if fmt == "tsv" else ",", strict=True)
    line = 1
    try:
        for row in reader:
            if row:
                yield line, row
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"{src.name}, line {reader.line_num}: not valid {fmt.upper()} ({exc}).") from exc


def _columns(src: Source, first: list[str], fmt: str) -> list[str]:
    """The column names: the header row, or "column 1"... when the file has none."""
    if not src.header:
        return [f"column {i + 1}" for i in range(len(first))]
    names = [c.strip() for c in first]
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise InputError(f"{src.name}, line 1: the header repeats the column name(s) {', '.join(map(repr, repeated))}"
                         f"; if the file has no header, say so.")
    return names


def _read_table(src: Source, info: FileInfo) -> list[Document]:
    """Rows of a CSV/TSV file. A row with more or fewer fields than the header is refused
    with its line: guessing which field moved would silently misread the text."""
    text, info.encoding = decode(src.name, src.data)
    _require_text(src.name, text)
    rows = _table_rows(src, text, info.format)
    first = next(rows, None)
    if first is None:
        raise InputError(f"{src.name} contains no rows.")
    columns = _columns(src, first[1], info.format)
    records = []
    for line, row in itertools.chain([] if src.header else [first], rows):
        if len(row) != len(columns):
            raise InputError(f"{src.name}, line {line}: {len(row)} fields where the "
                             f"{'header has' if src.header else 'first row has'} {len(columns)}; "
                             "quote fields that contain the separator.")
        records.append(row)
    if not records:
        raise InputError(f"{src.name} has a header but no rows.")
    column = src.text_field or guess_text_field([dict(zip(columns, r)) for r in records[:200]], columns)
    if column not in columns:
        raise InputError(f"{src.name} has no column {column!r}; its columns are: {', '.join(columns)}.")
    at = columns.index(column)
    docs = []
    for row in records:
        if not row[at].strip():
            info.skipped += 1
            continue
        docs.append(Document(row[at], src.name, {c: v for i, (c, v) in enumerate(zip(columns, row)) if i != at}))
    info.note = f"text column: {column}"
    return docs


def _read_jsonl(src: Source, info: FileInfo) -> list[Document]:
    text, info.encoding = decode(src.name, src.data)
    _require_text(src.name, text)
    records = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{src.name}, line {lineno}: not valid JSON ({exc.msg}).") from exc
        if not isinstance(obj, dict):
            raise InputError(f"{src.name}, line {lineno}: expected a JSON object, got {type(obj).__name__}.")
        records.append(obj)
    if not records:
        raise InputError(f"{src.name} holds no JSON records.")
    fields = list(dict.fromkeys(k for r in records for k in r))
    key = src.text_field or guess_text_field(records, fields)
    if not any(key in r for r in records):
        raise InputError(f"{src.name} has no field {key!r}; its fields are: {', '.join(fields)}.")
    docs = []
    for r in records:
        value = r.get(key)
        if not isinstance(value, str) or not value.strip():
            info.skipped += 1
            continue
        meta = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in r.items() if k != key}
        docs.append(Document(value, src.name, meta))
    info.note = f"text field: {key}"
    return docs


def _read_html(src: Source, info: FileInfo) -> list[Document]:
    from bs4 import BeautifulSoup

    text, info.encoding = decode(src.name, src.data)
    _require_text(src.name, text)
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head", "svg"]):
        tag.decompose()
    visible = soup.get_text("\n")
    lines = [" ".join(line.split()) for line in visible.splitlines()]
    return [Document("\n".join(line for line in lines if line), src.name)]


def _read_pdf(src: Source, info: FileInfo) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(src.data))
        if reader.is_encrypted:
            raise InputError(f"{src.name} is an encrypted PDF; remove the password and upload it again.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise InputError(f"{src.name} is not a readable PDF ({_first_line(exc)}).") from exc
    info.note = f"{len(pages)} pages"
    return [Document("\n\n".join(pages), src.name, {"pages": str(len(pages))})]


def _read_docx(src: Source, info: FileInfo, limits: Limits) -> list[Document]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    # A .docx is a zip of XML parts: the zip guards apply before python-docx unpacks it, with a
    # tighter total, since parsed XML takes several times its size in memory.
    open_archive(src.name, src.data, limits, max_total=limits.max_container_bytes, what="Word (.docx) document")
    try:
        document = docx.Document(io.BytesIO(src.data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"{src.name} is not a readable Word (.docx) document ({_first_line(exc)}).") from exc
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return [Document("\n".join(parts), src.name)]


def _first_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return msg[0] if msg else type(exc).__name__


def guess_text_field(records: list[dict], fields: list[str]) -> str:
    """The field most likely to hold the text: a conventional name, else the longest on average."""
    if not fields:
        raise InputError("The file has no columns or fields.")
    lowered = {str(f).lower(): f for f in fields}
    for guess in _TEXT_FIELD_GUESSES:
        if guess in lowered:
            return lowered[guess]
    sample = records[:200]

    def mean_len(f: str) -> float:
        return sum(len(r[f]) if isinstance(r.get(f), str) else 0 for r in sample) / max(len(sample), 1)

    return max(fields, key=mean_len)


def inspect_fields(src: Source) -> list[str]:
    """Column names (csv/tsv) or field names (jsonl) of a file, best guess first.

    Used by the corpus page to offer a choice before reading the whole file.
    """
    fmt = format_of(src.name)
    if fmt not in ("csv", "tsv", "jsonl"):
        return []
    if not src.data:
        return []
    head = src.data[: 2 * MB]
    text, _ = decode(src.name, head if len(src.data) <= 2 * MB else head[: head.rfind(b"\n") + 1] or head)
    if fmt == "jsonl":
        records = []
        for line in text.splitlines()[:200]:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                records.append(obj)
        fields = list(dict.fromkeys(k for r in records for k in r))
    else:
        reader = csv.reader(io.StringIO(text), delimiter="\t" if fmt == "tsv" else ",")
        try:
            rows = [row for _, row in zip(range(201), reader) if row]
        except csv.Error:
            return []
        if not rows:
            return []
        fields = [c.strip() for c in rows[0]] if src.header else [f"column {i + 1}" for i in range(len(rows[0]))]
        records = [dict(zip(fields, r)) for r in (rows[1:] if src.header else rows)]
    if not fields:
        return []
    best = guess_text_field(records, fields)
    return [best] + [f for f in fields if f != best]


# -- zip ------------------------------------------------------------------------
def open_archive(name: str, data: bytes, limits: Limits, *, max_total: int, what: str = "zip archive"
                 ) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open a zip container (a ``.zip`` upload, a ``.docx``...) and apply the zip guards
    before anything is unpacked: the entry count, unsafe paths, the declared total size
    against ``max_total`` and the compression ratio.

    Declared sizes can be trusted as upper bounds: Python's zipfile never returns more of
    a member than its declared size (and checks the CRC), so a member that lies about its
    size fails instead of growing.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise InputError(f"{name} is not a readable {what} ({_first_line(exc)}).") from exc
    if len(members) > limits.max_zip_members:
        raise InputError(f"{name} holds {len(members):,} entries, over the {limits.max_zip_members:,} limit.")
    for m in members:
        member = m.filename
        parts = member.replace("\\", "/").split("/")
        if member.startswith(("/", "\\")) or posixpath.isabs(member) or ".." in parts or \
                (len(member) > 1 and member[1] == ":"):
            raise InputError(f"{name} contains an unsafe path ({member!r}); nothing was read from it.")
    declared = sum(m.file_size for m in members if not m.is_dir())
    compressed = sum(m.compress_size for m in members if not m.is_dir()) or 1
    if declared > max_total:
        raise InputError(f"{name} would unpack to {_size(declared)}, over the {_size(max_total)} limit.")
    if declared > MB and declared / compressed > limits.max_zip_ratio:
        raise InputError(
            f"{name} expands {declared / compressed:,.0f}-fold when unpacked, which looks like a zip bomb "
            f"(limit {limits.max_zip_ratio:.0f}-fold)."
        )
    return archive, members


def _read_zip(src: Source, info: FileInfo, limits: Limits) -> tuple[list[Document], list[FileInfo]]:
    archive, members = open_archive(src.name, src.data, limits, max_total=limits.max_unzipped_bytes)
    files = [m for m in members if not m.is_dir() and not _is_junk(m.filename)]
    docs: list[Document] = []
    infos: list[FileInfo] = []
    skipped: list[str] = []
    budget = limits.max_unzipped_bytes
    for m in files:
        inner = f"{src.name}/{m.filename}"
        ext = os.path.splitext(m.filename.lower())[1]
        if ext == ".zip":
            skipped.append(f"{m.filename} (nested zip)")
            continue
        if ext not in FORMATS:
            skipped.append(f"{m.filename} (unsupported type)")
            continue
        if m.file_size > limits.max_file_bytes:
            raise InputError(f"{inner} is {_size(m.file_size)}, over the {_size(limits.max_file_bytes)} limit.")
        try:
            with archive.open(m) as fh:  # read no more than declared: headers can lie
                data = fh.read(min(m.file_size, budget) + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
            raise InputError(f"{inner} could not be unpacked ({_first_line(exc)}).") from exc
        if len(data) > m.file_size or len(data) > budget:
            raise InputError(f"{src.name} unpacks to more than it declares; refusing it as a zip bomb.")
        budget -= len(data)
        inner = Source(inner, data, src.text_field, lines_as_documents=src.lines_as_documents,
                       whole_file=src.whole_file, header=src.header)
        inner_docs, inner_infos = read_source(inner, limits)
        docs.extend(inner_docs)
        infos.extend(inner_infos)
    if not docs:
        why = f" (skipped: {', '.join(skipped[:5])})" if skipped else ""
        raise InputError(f"{src.name} holds no readable text files{why}.")
    info.documents = len(docs)
    info.note = f"{len(infos)} files" + (f"; skipped {', '.join(skipped[:5])}" if skipped else "")
    return docs, [info, *infos]


def _is_junk(name: str) -> bool:
    base = posixpath.basename(name.rstrip("/"))
    return name.startswith("__MACOSX/") or base.startswith(".") or base in ("Thumbs.db", "desktop.ini")


_READERS = {
    "text": _read_text,
    "markdown": _read_text,
    "csv": _read_table,
    "tsv": _read_table,
    "jsonl": _read_jsonl,
    "html": _read_html,
    "pdf": _read_pdf,
}


def read_source(src: Source, limits: Limits | None = None) -> tuple[list[Document], list[FileInfo]]:
    """Read one file into documents.

    Returns the documents and one :class:`FileInfo` per file read (a zip gives one for
    itself and one per member). Raises :class:`InputError` for anything unusable.
    """
    limits = limits or Limits()
    fmt = format_of(src.name)
    check_size(src.name, len(src.data), limits)
    info = FileInfo(file=src.name, format=fmt, bytes=len(src.data))
    if fmt == "zip":
        return _read_zip(src, info, limits)
    docs = _read_docx(src, info, limits) if fmt == "docx" else _READERS[fmt](src, info)
    docs = [d for d in docs if d.text and not d.text.isspace()]  # isspace: no copy of a long text
    if not docs:
        raise InputError(f"{src.name} contains no text.")
    info.documents = len(docs)
    return docs, [info]
