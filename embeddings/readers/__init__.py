"""Turning uploaded bytes into documents.

One entry point, :func:`read_source`, takes a file's name and bytes and returns the
documents in it, or raises :class:`~embeddings.errors.InputError` with a message
that names the file and says what is wrong. Formats are chosen by extension:

=============  ==============================================================
``.txt .md``   one document per paragraph (blank lines between), or per line, per file, or
               per section (``.md``: at ``#`` to ``###`` headings)
``.csv .tsv``  one document per row; ``text_field`` picks the text column, the
               other columns become per-document metadata
``.jsonl``     one document per line; ``text_field`` picks the field
``.html .htm`` the main content (trafilatura; menus and footers left out), all visible text
               when it finds none; one document per page or per h1–h3 section
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

from ..errors import InputError
from .archive import open_archive, read_zip
from .base import (
    FORMATS,
    REFUSED,
    SPLIT_HELP,
    SPLITS,
    UPLOAD_TYPES,
    Document,
    FileInfo,
    Limits,
    Source,
    check_size,
    decode,
    format_of,
    paragraphs,
    read_small_text,
)
from .records import _read_jsonl, _read_table, guess_text_field, inspect_fields
from .text import _read_docx, _read_html, _read_pdf, _read_text

__all__ = ["Document", "FileInfo", "Limits", "Source", "FORMATS", "REFUSED", "SPLIT_HELP", "SPLITS", "UPLOAD_TYPES",
           "check_size", "decode",
           "format_of", "guess_text_field", "inspect_fields", "open_archive", "paragraphs", "read_small_text",
           "read_source"]


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
        return read_zip(src, info, limits, read_source)
    docs = _read_docx(src, info, limits) if fmt == "docx" else _READERS[fmt](src, info)
    docs = [d for d in docs if d.text and not d.text.isspace()]  # isspace: no copy of a long text
    if not docs:
        raise InputError(f"{src.name} contains no text.")
    info.documents = len(docs)
    return docs, [info]
