"""Image corpora: a zip of images and an optional captions file, read under limits.

An image corpus is a corpus (:mod:`embeddings.text.corpus`) whose documents are the images'
captions, one per image and in image order, so its labels, vocabulary and every text feature
work on it. Its folder also holds::

    images.parquet   doc, file, width, height, format, bytes, caption_given
    images/          <doc>.png: each image in RGB, at most STORE_SIDE pixels a side
    thumbs/          <doc>.png: at most THUMB_SIDE pixels a side

Reading is bounded: the zip passes the zip guards (:func:`embeddings.readers.archive.open_archive`:
entries, total size, ratio, paths), each member is read no further than its declared size, an
image's size is checked from its header against ``Limits.max_image_pixels`` before it is decoded
(with Pillow's own decompression-bomb guard on as well), and only PNG, JPEG, WebP and GIF decoders
are offered. A broken, truncated or oversized image is skipped and named; nothing is saved unless
the whole corpus is.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from embeddings.errors import InputError
from embeddings.progress import Progress, no_progress
from embeddings.readers import Document, FileInfo, Limits
from embeddings.readers.archive import open_archive
from embeddings.readers.base import IMAGE_TYPES, check_size
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import KIND, Corpus, get_corpus
from embeddings.text.preprocess import Preprocessing

CAPTION_TYPES = (".csv", ".tsv", ".jsonl")
#: the columns a captions file may name its image and its caption with (first found wins)
FILE_COLUMNS = ("file", "file_name", "filename", "image", "path")
CAPTION_COLUMNS = ("caption", "text", "title", "description")
STORE_SIDE = 1024
THUMB_SIDE = 128
IMAGES, THUMBS, TABLE = "images", "thumbs", "images.parquet"


@dataclass
class Skipped:
    """What was left out of an image corpus, each with its name and why."""

    items: list[str] = field(default_factory=list)

    def add(self, name: str, why: str) -> None:
        self.items.append(f"{name}: {why}")


def _open_image(name: str, data: bytes, limits: Limits):
    """The first frame of ``data`` as an RGB image, or an InputError saying why not."""
    from PIL import Image, UnidentifiedImageError

    if Image.MAX_IMAGE_PIXELS is None:              # someone turned Pillow's guard off: on again
        Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    decoder = IMAGE_TYPES[os.path.splitext(name.lower())[1]]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[decoder])
            w, h = im.size
            if w * h > limits.max_image_pixels:
                raise InputError(f"{w:,} × {h:,} pixels, over the {limits.max_image_pixels:,}-pixel limit")
            im.seek(0)                              # a GIF's (or animated WebP's) first frame
            im.load()
            return flatten(im)
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"refused as a decompression bomb ({exc})") from None
    except UnidentifiedImageError:
        raise InputError(f"not a readable {decoder} image") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputError(f"could not be decoded ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") \
            from None


def flatten(im):
    """An image in RGB, transparent parts on white: a plain ``convert("RGB")`` drops the alpha
    channel, and an icon drawn in black on a transparent background (every one of Adwaita's
    symbolic icons) became a black square."""
    from PIL import Image

    if im.mode in ("RGBA", "LA", "PA") or (im.mode in ("P", "L", "RGB") and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def read_captions(name: str, data: bytes) -> pd.DataFrame:
    """A captions file (CSV, TSV or JSONL) as ``file, caption, <other columns>``, all text.
    A malformed line is an error naming it."""
    from embeddings.readers import Source
    from embeddings.readers.records import _records, table_rows

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (byte {exc.start:,}).") from None
    src, lines = Source(name, data), io.StringIO(text)
    if name.lower().endswith(".jsonl"):
        rows = [{str(k): "" if v is None else str(v) for k, v in obj.items()} for obj in _records(src, lines)]
    else:
        columns, body = table_rows(src, lines, "tsv" if name.lower().endswith(".tsv") else "csv")
        rows = [dict(zip(columns, row)) for row in body]
    frame = pd.DataFrame(rows).fillna("")
    found = {c.lower(): c for c in frame.columns}
    file_col = next((found[c] for c in FILE_COLUMNS if c in found), None)
    cap_col = next((found[c] for c in CAPTION_COLUMNS if c in found), None)
    if file_col is None or cap_col is None:
        raise InputError(f"{name} needs a column naming the image ({', '.join(FILE_COLUMNS)}) and one holding its "
                         f"caption ({', '.join(CAPTION_COLUMNS)}); it has {', '.join(map(str, frame.columns)) or 'none'}.")
    frame = frame.rename(columns={file_col: "file", cap_col: "caption"})
    frame["file"] = frame["file"].map(lambda f: posixpath.basename(str(f).replace("\\", "/")))
    return frame.drop_duplicates("file", keep="first")


def _from_name(file: str) -> str:
    """A file name as words: the text of an image that has no caption."""
    return re.sub(r"[_\-.]+", " ", os.path.splitext(posixpath.basename(file))[0]).strip() or file


def add_image_corpus(ws: Workspace, name: str, zip_name: str, zip_data: bytes, *,
                     captions: tuple[str, bytes] | None = None, limits: Limits | None = None,
                     progress: Progress = no_progress) -> tuple[Corpus, list[str]]:
    """Read a zip of images (and a captions file: ``captions``, or a CSV/TSV/JSONL inside the zip)
    and save it as an image corpus. Returns the corpus and what was skipped, each named."""
    from PIL import Image

    from embeddings.text.ingest import write_corpus

    limits = limits or Limits()
    name = ws.check_new_name(KIND, name)
    check_size(zip_name, len(zip_data), limits)
    archive, members = open_archive(zip_name, zip_data, limits, max_total=limits.max_unzipped_bytes)
    files = [m for m in members if not m.is_dir() and not posixpath.basename(m.filename).startswith((".", "__MACOSX"))
             and "__MACOSX/" not in m.filename]
    skipped = Skipped()
    if captions is None:
        inside = [m for m in files if os.path.splitext(m.filename.lower())[1] in CAPTION_TYPES]
        if len(inside) > 1:
            raise InputError(f"{zip_name} holds several captions files ({', '.join(m.filename for m in inside[:4])}); "
                             "keep one.")
        if inside:
            captions = (inside[0].filename, _read_member(archive, inside[0], limits))
    table = read_captions(*captions) if captions else None
    by_file = table.set_index("file") if table is not None else None
    images = [m for m in files if os.path.splitext(m.filename.lower())[1] in IMAGE_TYPES]
    for m in files:
        if m not in images and os.path.splitext(m.filename.lower())[1] not in CAPTION_TYPES:
            skipped.add(m.filename, "not an image (PNG, JPEG, WebP or GIF)")
    if not images:
        raise InputError(f"{zip_name} holds no PNG, JPEG, WebP or GIF image.")
    seen: set[str] = set()

    def build(folder: Path) -> dict:
        (folder / IMAGES).mkdir()
        (folder / THUMBS).mkdir()
        docs, rows = [], []
        for i, m in enumerate(images):
            base = posixpath.basename(m.filename)
            if base in seen:
                skipped.add(m.filename, f"a second image named {base}")
                continue
            try:
                im = _open_image(m.filename, _read_member(archive, m, limits), limits)
            except InputError as exc:
                skipped.add(m.filename, str(exc).rstrip("."))
                continue
            seen.add(base)
            doc = len(rows)
            size = im.size
            im.thumbnail((STORE_SIDE, STORE_SIDE), Image.Resampling.LANCZOS)
            im.save(folder / IMAGES / f"{doc}.png")
            im.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
            im.save(folder / THUMBS / f"{doc}.png")
            extra = {}
            given = by_file is not None and base in by_file.index and str(by_file.loc[base, "caption"]).strip() != ""
            if by_file is not None and base in by_file.index:
                extra = {k: str(v) for k, v in by_file.loc[base].items() if k != "caption"}
            caption = str(by_file.loc[base, "caption"]).strip() if given else _from_name(base)
            docs.append(Document(caption, base, {"file": base, **extra}))
            rows.append({"doc": doc, "file": base, "width": size[0], "height": size[1],
                         "format": IMAGE_TYPES[os.path.splitext(base.lower())[1]], "bytes": m.file_size,
                         "caption_given": bool(given)})
            progress(0.8 * (i + 1) / len(images), f"Reading images: {i + 1:,} of {len(images):,}")
        if not rows:
            raise InputError(f"No image of {zip_name} could be read: " + "; ".join(skipped.items[:5]))
        if by_file is not None:
            missing = sorted(set(by_file.index) - seen)
            for f in missing:
                skipped.add(f, "captioned, but not in the zip")
        prep = Preprocessing(boilerplate=False, sentences=False)     # captions repeat by design
        info = FileInfo(file=zip_name, format="zip", bytes=len(zip_data), documents=len(docs),
                        skipped=len(skipped.items))
        stats = write_corpus(folder, docs, [info], prep, lambda f, msg: progress(0.8 + 0.2 * f, msg))
        pd.DataFrame(rows).to_parquet(folder / TABLE, index=False)
        given = sum(r["caption_given"] for r in rows)
        stats.update({"images": len(rows), "captioned": given, "skipped": skipped.items[:200],
                      "skipped_count": len(skipped.items)})
        return stats

    art = ws.create(KIND, name, build, params={"source": zip_name, "images": True,
                                               "preprocessing": {"boilerplate": False, "sentences": False}})
    progress(1.0, "Saved")
    return Corpus(art), skipped.items


def _read_member(archive, member, limits: Limits) -> bytes:
    if member.file_size > limits.max_file_bytes:
        raise InputError(f"{member.filename} is over the per-file limit.")
    with archive.open(member) as fh:                # no more than declared: headers can lie
        return fh.read(member.file_size + 1)[:member.file_size]


def is_image_corpus(corpus: Corpus) -> bool:
    return (corpus.path / TABLE).is_file()


def image_table(corpus: Corpus) -> pd.DataFrame:
    """``doc, file, width, height, format, bytes, caption_given, caption`` and the corpus's
    metadata columns (``meta.<name>``), one row per image."""
    if not is_image_corpus(corpus):
        raise InputError(f"{corpus.name} is a text corpus, not an image corpus.")
    table = pd.read_parquet(corpus.path / TABLE)
    docs = corpus.documents()
    meta = [c for c in docs.columns if c.startswith("meta.") and c != "meta.file"]
    return table.assign(caption=docs["text"].to_numpy(), **{c: docs[c].to_numpy() for c in meta})


def image_path(corpus: Corpus, doc: int, *, thumb: bool = False) -> Path:
    return corpus.path / (THUMBS if thumb else IMAGES) / f"{int(doc)}.png"


def load_image(corpus: Corpus, doc: int):
    from PIL import Image

    with Image.open(image_path(corpus, doc), formats=["PNG"]) as im:
        return im.convert("RGB")


def image_stats(corpus: Corpus) -> dict:
    """The figures the corpus page shows for an image corpus."""
    t = image_table(corpus)
    s = corpus.stats
    return {"images": len(t), "captioned": int(t["caption_given"].sum()),
            "median size": f"{int(t['width'].median())} × {int(t['height'].median())}",
            "formats": ", ".join(f"{k} {v}" for k, v in t["format"].value_counts().items()),
            "skipped": s.get("skipped_count", 0)}


def image_corpora(ws: Workspace) -> list[Corpus]:
    from embeddings.text.corpus import list_corpora

    return [c for c in list_corpora(ws) if is_image_corpus(c)]


def open_image_corpus(ws: Workspace, name: str) -> Corpus:
    corpus = get_corpus(ws, name)
    if not is_image_corpus(corpus):
        raise InputError(f"{corpus.name} is a text corpus; choose an image corpus.")
    return corpus


def decode_upload(name: str, data: bytes, limits: Limits | None = None):
    """One uploaded image (a query), under the same limits and decoders as a corpus's."""
    limits = limits or Limits()
    if os.path.splitext(name.lower())[1] not in IMAGE_TYPES:
        raise InputError(f"{name}: choose a PNG, JPEG, WebP or GIF image.")
    check_size(name, len(data), limits)
    try:
        return _open_image(name, data, limits)
    except InputError as exc:
        raise InputError(f"{name}: {str(exc).rstrip('.')}.") from None
