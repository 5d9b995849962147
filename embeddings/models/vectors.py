"""Imported vector files (GloVe's own lives in :mod:`.glove`, export in :mod:`.export`).

Formats, all read with gensim's ``KeyedVectors.load_word2vec_format``:

==================  =====================================================
``word2vec``        text, header line "count dim"
``word2vec-binary`` binary, header line "count dim"
``glove``           text, no header
``fasttext-vec``    fastText's ``.vec``: word2vec text with a header
==================  =====================================================

When gensim rejects a file, the file is scanned to name the line (or binary entry)
at fault. Pickle-based files (``.model``, ``.pkl``, ``.kv``...) are refused unread:
loading them would run code from the file.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..readers import REFUSED, Limits, check_size
from ..space import EmbeddingSpace, nonfinite_rows, zero_rows

IMPORT_FORMATS = ("word2vec", "word2vec-binary", "glove", "fasttext-vec")
_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def check_vectors_file(filename: str, size: int, head: bytes, limits: Limits) -> None:
    """Refuse pickles (by extension or by content) and files over the size cap."""
    ext = os.path.splitext(filename.lower())[1]
    if ext in REFUSED or head.startswith(_PICKLE_MAGIC):
        raise InputError(
            f"{filename} is a pickle-based file (gensim .model/.kv, .pkl...). Loading it would run code "
            "from the file, so it is refused. Save the vectors with KeyedVectors.save_word2vec_format and "
            "import that instead."
        )
    check_size(filename, size, limits)


def _scan_text(fh: io.BufferedReader, has_header: bool, max_lines: int | None = None) -> str | None:
    """Find the first bad line of a text vectors file (of its first ``max_lines``);
    None if none is found."""
    dim = count = None
    n_vectors = 0
    for lineno, raw in enumerate(fh, 1):
        if max_lines is not None and lineno > max_lines:
            return None
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            return f"line {lineno} is not UTF-8 text"
        parts = line.rstrip("\r\n").rstrip(" ").split(" ")
        if lineno == 1 and has_header:
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                return f"line 1 should be the header 'count dim', found {line.strip()[:40]!r}"
            count, dim = int(parts[0]), int(parts[1])
            continue
        if not line.strip():
            return f"line {lineno} is empty"
        values = parts[1:]
        if dim is None:
            dim = len(values)
            if dim == 0:
                return f"line {lineno} has a word but no numbers"
        if len(values) != dim:
            hint = ""
            if lineno == 2 and not has_header and dim == 1:
                hint = " (the first line looks like a 'count dim' header: is this the word2vec format?)"
            return f"line {lineno} has {len(values)} numbers, expected {dim}{hint}"
        try:
            [float(v) for v in values]
        except ValueError:
            bad = next(v for v in values if not _is_float(v))
            return f"line {lineno}: {bad[:20]!r} is not a number"
        n_vectors += 1
    if count is not None and n_vectors != count:
        return f"the header announces {count:,} vectors but the file holds {n_vectors:,}"
    if n_vectors == 0:
        return "the file holds no vectors"
    return None


def _is_float(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def _scan_binary(fh: io.BufferedReader) -> str | None:
    header = fh.readline()
    parts = header.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return f"line 1 should be the header 'count dim', found {header[:40]!r}"
    count, dim = int(parts[0]), int(parts[1])
    for entry in range(1, count + 1):
        word = bytearray()
        while (ch := fh.read(1)) != b" ":
            if not ch:
                return f"the file ends in entry {entry} of {count:,} (the header announces {count:,})"
            if ch != b"\n":
                word += ch
        if len(fh.read(4 * dim)) != 4 * dim:
            return f"entry {entry} ({bytes(word)[:30]!r}) is cut short: expected {dim} float32 values"
    return None


#: a refused file up to this size is scanned to name the exact fault (streamed, no allocation)
_PRECISE_SCAN_BYTES = 8 * 1024 * 1024
#: the widest vectors an imported file may claim (a row of 65,536 float32 is 256 KB)
MAX_DIM = 65_536


def _read_header(path: Path) -> tuple[int, int] | None:
    """``(count, dim)`` from a word2vec header line, or None if the first line is not one."""
    with open(path, "rb") as fh:
        parts = fh.readline(256).split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def check_header_claim(filename: str, size: int, count: int, dim: int, binary: bool) -> None:
    """Refuse a header whose claim the file cannot hold, before anything is allocated from it.

    gensim allocates ``count × dim`` floats from the header alone, so a 260-byte file that
    claims two billion rows would take all the memory there is. A binary entry needs at
    least a one-byte word, a space and ``4 × dim`` bytes; a text row at least a one-character
    word and ``dim`` one-character numbers, each after a separator, and an end of line.
    """
    if dim < 1:
        raise InputError(f"{filename} is not a valid vectors file: the header announces {dim} dimensions.")
    if count < 1:
        raise InputError(f"{filename} holds no vectors (the header announces {count}).")
    if dim > MAX_DIM:
        raise InputError(f"{filename}: the header announces {dim:,} dimensions; at most {MAX_DIM:,} are read.")
    per_row = 4 * dim + 2 if binary else 2 * dim + 2
    if count * per_row > size:
        raise InputError(
            f"{filename} is not a valid vectors file: its header announces {count:,} vectors of {dim:,} "
            f"dimensions, but a file of {size:,} bytes can hold at most {size // per_row:,} of them."
        )


def _word_places(path: Path, binary: bool, has_header: bool) -> Iterator[tuple[str, int]]:
    """``(word, line)`` for every vector of a file (``line`` is the entry number in a binary file)."""
    with open(path, "rb") as fh:
        if binary:
            count, dim = _read_header(path) or (0, 0)
            fh.readline()
            for entry in range(1, count + 1):
                word = bytearray()
                while (ch := fh.read(1)) not in (b" ", b""):
                    if ch != b"\n":
                        word += ch
                yield word.decode("utf-8", "replace"), entry
                fh.seek(4 * dim, os.SEEK_CUR)
            return
        for lineno, raw in enumerate(fh, 1):
            if lineno == 1 and has_header:
                continue
            yield raw.split(b" ", 1)[0].decode("utf-8", "replace").strip(), lineno


def import_vectors(path: Path | str, fmt: str, name: str, *, limits: Limits | None = None,
                   display_name: str | None = None) -> EmbeddingSpace:
    """Read a vectors file (see the module docs for formats) into a space."""
    from gensim.models import KeyedVectors

    path = Path(path)
    filename = display_name or path.name
    if fmt not in IMPORT_FORMATS:
        raise InputError(f"Unknown format {fmt!r}; expected one of {', '.join(IMPORT_FORMATS)}.")
    if not path.is_file():
        raise InputError(f"{filename}: no such file.")
    with open(path, "rb") as fh:
        head = fh.read(16)
    check_vectors_file(filename, path.stat().st_size, head, limits or Limits())
    binary = fmt == "word2vec-binary"
    has_header = fmt != "glove"
    if has_header:
        claim = _read_header(path)
        if claim is not None:
            try:
                check_header_claim(filename, path.stat().st_size, *claim, binary=binary)
            except InputError:
                if path.stat().st_size <= _PRECISE_SCAN_BYTES:  # small: say exactly what is wrong
                    with open(path, "rb") as fh:
                        where = _scan_binary(fh) if binary else _scan_text(fh, has_header=True)
                    if where:
                        raise InputError(f"{filename} is not a valid {fmt} file: {where}.") from None
                raise
    if not binary:  # a cheap look at the first lines catches a wrong format before gensim guesses
        with open(path, "rb") as fh:
            early = _scan_text(fh, has_header=has_header, max_lines=1000)
        if early:
            raise InputError(f"{filename} is not a valid {fmt} file: {early}.")
    start = time.perf_counter()
    try:
        kv = KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=not has_header,
                                               unicode_errors="strict")
    except (ValueError, EOFError, UnicodeDecodeError, IndexError, OverflowError, MemoryError) as exc:
        with open(path, "rb") as fh:
            where = _scan_binary(fh) if binary else _scan_text(fh, has_header=has_header)
        detail = where or str(exc).splitlines()[0]
        raise InputError(f"{filename} is not a valid {fmt} file: {detail}.") from exc
    labels, vectors, warnings = _checked_rows(kv, path, filename, fmt, binary, has_header)
    provenance = {
        "family": "imported",
        "format": fmt,
        "source": filename,
        "params": {"format": fmt},
        "unit": "term",
        "seconds": round(time.perf_counter() - start, 3),
        "frequency_note": "imported files carry no counts; 'rank' is the file order",
    }
    if warnings:
        provenance["warnings"] = warnings
    meta = pd.DataFrame({"rank": np.arange(1, len(labels) + 1), "frequency": np.full(len(labels), np.nan)})
    return EmbeddingSpace.from_arrays(name, labels, vectors, meta=meta, provenance=provenance, keep_norms=True)


def _checked_rows(kv, path: Path, filename: str, fmt: str, binary: bool, has_header: bool
                  ) -> tuple[list[str], np.ndarray, list[str]]:
    """The rows gensim read, after the checks gensim does not make.

    - A repeated word: gensim keeps the first and leaves an empty slot (label None, a zero
      vector) at the end. The slots are dropped, and a warning names the repeats.
    - NaN or infinity: refused, naming the line.
    - All-zero vectors: kept (they are valid input), and a warning names them.
    """
    labels = list(kv.index_to_key)
    n = labels.index(None) if None in labels else len(labels)
    labels, vectors = labels[:n], kv.vectors[:n]
    if n == 0:
        raise InputError(f"{filename} holds no vectors.")
    where = "entry" if binary else "line"
    warnings = []
    first_line: dict[str, int] | None = None
    if n < len(kv.index_to_key) or len(nonfinite_rows(vectors)):
        first_line, repeats = {}, []
        for word, line in _word_places(path, binary, has_header):
            if word in first_line:
                repeats.append(f"{word!r} ({where} {line:,}, first at {first_line[word]:,})")
            else:
                first_line[word] = line
        if repeats:
            warnings.append(f"{len(repeats):,} repeated word{'s' if len(repeats) > 1 else ''} dropped, the first "
                            f"occurrence kept: {', '.join(repeats[:5])}{' …' if len(repeats) > 5 else ''}.")
    bad = nonfinite_rows(vectors)
    if len(bad):
        word = labels[bad[0]]
        line = first_line.get(word, bad[0] + 1 + has_header) if first_line else bad[0] + 1 + has_header
        raise InputError(f"{filename} is not a valid {fmt} file: {where} {line:,} ({word!r}) holds a NaN or "
                         f"infinite value ({len(bad):,} such vector{'s' if len(bad) > 1 else ''} in all).")
    zeros = zero_rows(vectors)
    if len(zeros):
        names = ", ".join(repr(labels[i]) for i in zeros[:5])
        warnings.append(f"{len(zeros):,} all-zero vector{'s' if len(zeros) > 1 else ''} (no direction: every "
                        f"cosine with {'them' if len(zeros) > 1 else 'it'} is 0): {names}"
                        f"{' …' if len(zeros) > 5 else ''}.")
    return labels, vectors, warnings


def import_bytes(data: bytes, filename: str, fmt: str, name: str, *, limits: Limits | None = None,
                 tmp_dir: Path | None = None) -> EmbeddingSpace:
    """Import an uploaded file: checked first, then spooled to a temporary file for gensim."""
    limits = limits or Limits()
    check_vectors_file(filename, len(data), data[:16], limits)
    with tempfile.NamedTemporaryFile(dir=tmp_dir, suffix=".vectors") as tmp:
        tmp.write(data)
        tmp.flush()
        return import_vectors(tmp.name, fmt, name, limits=limits, display_name=filename)
