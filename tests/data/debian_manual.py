"""The second real corpus of the suite: Debian's ``python3.11-doc`` HTML manual (PSF
licence), fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into a cache
outside the clone (``$EMBEDDINGS_TEST_CACHE``, default ``~/.cache/embedding-explorer``).
Its top folders (library, c-api, howto, tutorial...) are labels. Nothing of it is committed.

    python tests/data/debian_manual.py     # fetch it once (CI's .ci/run does)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PACKAGE = "python3.11-doc"
CACHE = Path(os.environ.get("EMBEDDINGS_TEST_CACHE", Path.home() / ".cache" / "embedding-explorer"))
#: the HTML root inside the unpacked package
HTML = Path("usr/share/doc/python3.11/html")


def manual_html() -> Path:
    """The manual's HTML folder, fetched on first use; raises with the command to run if the
    package cannot be had (no ``apt-get``, no package lists)."""
    root = CACHE / PACKAGE
    html = root / HTML
    if (html / "library" / "os.html").is_file():
        return html
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run(["apt-get", "download", PACKAGE], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob(f"{PACKAGE}_*.deb"))
        if got.returncode or not debs:
            raise RuntimeError(f"apt-get download {PACKAGE} failed ({got.stderr.strip()[-300:]}); run "
                               "'apt-get update' first, or set EMBEDDINGS_TEST_CACHE to a folder holding the "
                               f"unpacked package ({PACKAGE}/{HTML}).")
        unpacked = Path(tmp) / "x"
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], check=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)
        shutil.move(str(unpacked), str(root))
    return html


def pages(folders: dict[str, int]) -> list[Path]:
    """The first ``n`` pages (by name) of each named folder, e.g. ``{"howto": 10}``."""
    html = manual_html()
    return [p for folder, n in folders.items() for p in sorted((html / folder).glob("*.html"))[:n]]


if __name__ == "__main__":
    print(manual_html())
