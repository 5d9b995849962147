"""A user's model folder, read as data (#26, item 5).

Every model folder a user names goes through :func:`check_folder` before anything loads or
copies it: regular files only (no FIFOs, devices or sockets), no symbolic link that leaves
the folder, at most :data:`MAX_FILES` files, and each file and the whole under its limit.
Weights may be large; the files a loader reads whole into memory (configs, vocabularies,
``tokenizer.json``) have a tighter limit, since a 200 MB ``tokenizer.json`` took 5.7 GB.
:func:`copy_folder` copies only what the check saw. :func:`confine` applies the optional
allow-list ``EMBEDDINGS_MODEL_DIRS`` to paths typed in the browser.

The limits live here, each with an environment override in MB.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from embeddings.errors import InputError

_MB = 1 << 20
#: limit name -> (environment variable, default in MB)
LIMITS = {"file": ("EMBEDDINGS_MODEL_MAX_FILE_MB", 4096),     # one weights file (a 1B-parameter fp32 model)
          "total": ("EMBEDDINGS_MODEL_MAX_TOTAL_MB", 8192),   # the whole folder
          "text": ("EMBEDDINGS_MODEL_MAX_TEXT_MB", 64)}       # a file read whole: configs, vocabularies
#: files whose size the weights limit governs; every other file is read whole and gets the text limit
WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5", ".msgpack", ".npy", ".npz", ".ckpt")
MAX_FILES = 2000
#: the browser's allow-list: folders (separated by ``os.pathsep``) a typed path must lie in
ALLOW_ENV = "EMBEDDINGS_MODEL_DIRS"
NOT_ALLOWED = "is not a model folder this server offers (EMBEDDINGS_MODEL_DIRS names the folders it does)."


def limit(name: str) -> int:
    """The limit ``name`` of :data:`LIMITS` in bytes, its environment override read now."""
    env, default = LIMITS[name]
    raw = os.environ.get(env, "").strip()
    try:
        mb = float(raw) if raw else default
    except ValueError:
        raise InputError(f"{env} must be a number of MB; got {raw!r}.") from None
    if mb <= 0:
        raise InputError(f"{env} must be a positive number of MB; got {raw!r}.")
    return int(mb * _MB)


def check_folder(path: str | Path) -> dict[str, Path]:
    """The files of the model folder ``path`` as ``{relative path: real file}``, after the
    checks of this module; an :class:`InputError` naming the first file that fails one."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise InputError(f"{path}: no such model folder.")
    real_root = root.resolve()
    per_file, total_limit, text_limit = limit("file"), limit("total"), limit("text")
    files: dict[str, Path] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(real_root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(filenames) + [d for d in dirnames if (here / d).is_symlink()]:
            entry = here / name
            rel = entry.relative_to(real_root).as_posix()
            real = entry.resolve()
            if entry.is_symlink() and not real.is_relative_to(real_root):
                raise InputError(f"{root}: {rel} is a link to outside the folder; model folders are read as "
                                 "data only (copy the folder with its links followed: cp -rL).")
            info = os.stat(real)
            if stat.S_ISDIR(info.st_mode):
                continue          # a link to a folder inside: os.walk reaches that folder itself
            if not stat.S_ISREG(info.st_mode):
                raise InputError(f"{root}: {rel} is not a regular file (a FIFO, device or socket); refused.")
            size = info.st_size
            cap = per_file if name.lower().endswith(WEIGHTS) else text_limit
            if size > cap:
                raise InputError(f"{root}: {rel} is {size / _MB:,.0f} MB, over the {cap / _MB:,.0f} MB limit for "
                                 f"{'a weights file' if cap == per_file else 'a file read whole'} "
                                 f"({LIMITS['file' if cap == per_file else 'text'][0]} raises it).")
            total += size
            if total > total_limit:
                raise InputError(f"{root}: the folder holds over {total_limit / _MB:,.0f} MB "
                                 f"({LIMITS['total'][0]} raises the limit).")
            files[rel] = real
            if len(files) > MAX_FILES:
                raise InputError(f"{root}: more than {MAX_FILES:,} files; not a model folder.")
    return files


def copy_folder(source: str | Path, target: Path) -> None:
    """Copy the model folder ``source`` to ``target`` (which must not exist): only the
    regular files :func:`check_folder` accepts, each read as a file, never a link followed out."""
    files = check_folder(source)
    target.mkdir(parents=True)
    for rel, real in files.items():
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as src:
            if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):   # swapped since the check
                raise InputError(f"{source}: {rel} is no longer a regular file; refused.")
            with open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def allowed_roots() -> list[Path]:
    """The folders of ``EMBEDDINGS_MODEL_DIRS`` (empty: no allow-list)."""
    raw = os.environ.get(ALLOW_ENV, "")
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]


def confine(typed: str) -> str:
    """A model folder typed in the browser, checked against the allow-list before anything
    looks at the path: outside it, one message whether or not the path exists."""
    roots = allowed_roots()
    if roots and typed:
        real = Path(typed).expanduser().resolve()
        if not any(real.is_relative_to(r) for r in roots):
            raise InputError(f"{typed} {NOT_ALLOWED}")
    return typed
