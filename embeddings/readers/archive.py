"""Zip containers: the guards every zip passes before anything is unpacked (a ``.zip``
upload, and a ``.docx``, which is a zip of XML parts), and reading a ``.zip`` of files."""

from __future__ import annotations

import dataclasses
import io
import os
import posixpath
import zipfile
from collections.abc import Callable

from ..errors import InputError
from .base import FORMATS, IMAGE_TYPES, MB, Document, FileInfo, Limits, Source, _first_line, _size

#: how a zip reads each of its members: :func:`embeddings.readers.read_source`
ReadSource = Callable[[Source, Limits], tuple[list[Document], list[FileInfo]]]


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


def read_zip(src: Source, info: FileInfo, limits: Limits, read_source: ReadSource
             ) -> tuple[list[Document], list[FileInfo]]:
    """The members of a ``.zip``, each read by ``read_source`` (nested zips and unknown types skipped)."""
    archive, members = open_archive(src.name, src.data, limits, max_total=limits.max_unzipped_bytes)
    files = [m for m in members if not m.is_dir() and not _is_junk(m.filename)]
    docs: list[Document] = []
    infos: list[FileInfo] = []
    skipped: list[str] = []
    budget = limits.max_unzipped_bytes
    folder_of = _folders([m.filename for m in files])
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
        inner = dataclasses.replace(src, name=inner, data=data)
        inner_docs, inner_infos = read_source(inner, limits)
        if folder_of:   # the member's folder is a label (library/, howto/...); top-level files have none
            for d in inner_docs:
                if "folder" not in d.meta:      # (a table row's metadata is read-only)
                    d.meta = {**d.meta, "folder": folder_of[m.filename]}
        docs.extend(inner_docs)
        infos.extend(inner_infos)
    if not docs:
        images = sum(os.path.splitext(f.split(" (")[0].lower())[1] in IMAGE_TYPES
                     for f in skipped)
        if images:
            raise InputError(f"{src.name} holds {images:,} image{'s' if images != 1 else ''} and no text: add it on the "
                             "Images page (or with `images add`), which reads images and their captions.")
        why = f" (skipped: {', '.join(skipped[:5])})" if skipped else ""
        raise InputError(f"{src.name} holds no readable text files{why}.")
    info.documents = len(docs)
    info.note = f"{len(infos)} files" + (f"; skipped {', '.join(skipped[:5])}" if skipped else "")
    return docs, [info, *infos]


def _folders(names: list[str]) -> dict[str, str]:
    """Each member's top folder below the folder all members share ("" for a file at that
    level); empty when no member sits in a sub-folder.

    >>> _folders(["html/index.html", "html/library/os.html", "html/howto/a/b.html"])
    {'html/index.html': '', 'html/library/os.html': 'library', 'html/howto/a/b.html': 'howto'}
    """
    parts = {n: n.replace("\\", "/").split("/")[:-1] for n in names}
    common = 0
    while parts and all(len(p) > common for p in parts.values()) and \
            len({p[common] for p in parts.values()}) == 1:
        common += 1
    out = {n: (p[common] if len(p) > common else "") for n, p in parts.items()}
    return out if any(out.values()) else {}


def _is_junk(name: str) -> bool:
    base = posixpath.basename(name.rstrip("/"))
    return name.startswith("__MACOSX/") or base.startswith(".") or base in ("Thumbs.db", "desktop.ini")
