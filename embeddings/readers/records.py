"""Tables and records: CSV/TSV rows and JSON lines, one document per row, the other
columns kept as metadata; and the guess of which column holds the text."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator

from ..errors import InputError
from .base import _TEXT_FIELD_GUESSES, MB, Document, FileInfo, Row, Shared, Source, decode, format_of, text_stream


def _table_rows(src: Source, stream, fmt: str) -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` of each non-blank row of a CSV/TSV stream (``line`` is where the row starts)."""
    reader = csv.reader(stream, delimiter="\t" if fmt == "tsv" else ",", strict=True)
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


#: the rows or records the text column is guessed from (the rest stream past)
GUESS_ROWS = 200


def table_rows(src: Source, stream, fmt: str) -> tuple[list[str], Iterator[list[str]]]:
    """The column names of a CSV/TSV stream and its rows, streamed. A row with more or fewer
    fields than the header is refused with its line: guessing which field moved would silently
    misread the text."""
    rows = _table_rows(src, stream, fmt)
    first = next(rows, None)
    if first is None:
        raise InputError(f"{src.name} contains no rows.")
    columns = _columns(src, first[1], fmt)

    def checked():
        for line, row in itertools.chain([] if src.header else [first], rows):
            if len(row) != len(columns):
                raise InputError(f"{src.name}, line {line}: {len(row)} fields where the "
                                 f"{'header has' if src.header else 'first row has'} {len(columns)}; "
                                 "quote fields that contain the separator.")
            yield row

    return columns, checked()


def _read_table(src: Source, info: FileInfo) -> list[Document]:
    """Rows of a CSV/TSV file, read as a stream (the file's text is never held whole, nor its
    rows beside its documents: #26)."""
    stream, info.encoding = text_stream(src.name, src.data)
    columns, body = table_rows(src, stream, info.format)
    head = list(itertools.islice(body, GUESS_ROWS))
    if not head:
        raise InputError(f"{src.name} has a header but no rows.")
    column = src.text_field or guess_text_field([dict(zip(columns, r)) for r in head], columns)
    if column not in columns:
        raise InputError(f"{src.name} has no column {column!r}; its columns are: {', '.join(columns)}.")
    at = columns.index(column)
    others = [i for i in range(len(columns)) if i != at]
    names = {columns[i]: n for n, i in enumerate(others)}
    shared = [Shared() for _ in others]
    docs = []
    for row in itertools.chain(head, body):
        if not row[at].strip():
            info.skipped += 1
            continue
        docs.append(Document(row[at], src.name, Row(names, tuple(s(row[i]) for s, i in zip(shared, others)))))
    info.note = f"text column: {column}"
    return docs


def _records(src: Source, stream) -> Iterator[dict]:
    """The JSON objects of a JSON-lines stream, one per non-blank line."""
    for lineno, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{src.name}, line {lineno}: not valid JSON ({exc.msg}).") from exc
        if not isinstance(obj, dict):
            raise InputError(f"{src.name}, line {lineno}: expected a JSON object, got {type(obj).__name__}.")
        yield obj


def _read_jsonl(src: Source, info: FileInfo) -> list[Document]:
    """One document per JSON line, read as a stream; the text field is guessed from the first
    :data:`GUESS_ROWS` records."""
    stream, info.encoding = text_stream(src.name, src.data)
    records = _records(src, stream)
    head = list(itertools.islice(records, GUESS_ROWS))
    if not head:
        raise InputError(f"{src.name} holds no JSON records.")
    fields = dict.fromkeys(k for r in head for k in r)
    key = src.text_field or guess_text_field(head, list(fields))
    docs, found, shapes, shared = [], False, {}, Shared()
    for r in itertools.chain(head, records):
        value = r.get(key)
        found = found or key in r
        if not isinstance(value, str) or not value.strip():
            info.skipped += 1
            if len(fields) < 100:
                fields.update(dict.fromkeys(r))
            continue
        keys = tuple(k for k in r if k != key)
        names = shapes.get(keys)
        if names is None and len(shapes) < 64:     # records share a few shapes: one name table each
            names = shapes[keys] = {k: i for i, k in enumerate(keys)}
        values = tuple(shared(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in r.items()
                       if k != key)
        docs.append(Document(value, src.name, Row(names, values) if names is not None else dict(zip(keys, values))))
    if not found:
        raise InputError(f"{src.name} has no field {key!r}; its fields are: {', '.join(fields)}.")
    info.note = f"text field: {key}"
    return docs


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
