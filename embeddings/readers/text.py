"""Running text: plain text and Markdown (paragraphs, lines or the whole file), HTML
(visible text only), PDF (pypdf) and Word .docx (python-docx, behind the zip guards)."""

from __future__ import annotations

import io
import zipfile

from ..errors import InputError
from .archive import open_archive
from .base import Document, FileInfo, Limits, Source, _first_line, _require_text, decode, paragraphs
from .sections import drop_permalinks, html_sections, markdown_sections


def _sectioned(src: Source, sections: list[tuple[str, str]]) -> list[Document]:
    return [Document(body, src.name, {"heading": heading, "section": str(i)})
            for i, (heading, body) in enumerate(sections, 1)]


def _read_text(src: Source, info: FileInfo) -> list[Document]:
    text, info.encoding = decode(src.name, src.data)
    _require_text(src.name, text)
    if src.lines_as_documents:
        return [Document(line, src.name) for line in text.splitlines() if line.strip()]
    if src.sections and src.name.lower().endswith((".md", ".markdown")):
        return _sectioned(src, markdown_sections(text)) or [Document(text, src.name)]
    if src.whole_file:
        return [Document(text, src.name)]
    parts = [p for p in paragraphs(text) if p.strip()]
    if len(parts) < 2:
        return [Document(text, src.name)]
    return [Document(p, src.name, {"paragraph": str(i)}) for i, p in enumerate(parts, 1)]


def _read_html(src: Source, info: FileInfo) -> list[Document]:
    """The page's main content, found by trafilatura (menus, sidebars, headers and footers
    left out; no network: it is given the text, never a URL); a page where it finds no main
    content falls back to all visible text (BeautifulSoup), and the file's note says so. With
    ``sections``, each section under an h1–h3 heading is a document (:mod:`.sections`)."""
    import trafilatura

    text, info.encoding = decode(src.name, src.data)
    _require_text(src.name, text)
    if src.sections:
        sections = html_sections(text)
        if sections:
            return _sectioned(src, sections)
    main = trafilatura.extract(text, include_comments=False, include_tables=True, include_links=False,
                               include_images=False, favor_recall=True, with_metadata=False, deduplicate=False)
    if main and main.strip():
        return [Document(drop_permalinks(main), src.name)]
    info.note = "no main content found: all visible text kept"
    return [Document(_visible_text(text), src.name)]


def _visible_text(text: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head", "svg"]):
        tag.decompose()
    visible = soup.get_text("\n")
    lines = [" ".join(line.split()) for line in visible.splitlines()]
    return "\n".join(line for line in lines if line)


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
