"""Maps of any size: a density overview of every point, individual points where they fit.

A browser draws tens of thousands of WebGL points smoothly, not millions: with software
rendering (a VM, a laptop without a suitable GPU) a million-point scatter stalls. So a
panel with more than :data:`LARGE_MAP` points is drawn in two layers (datashader's idea,
with numpy):

- **density**: a 2-D histogram of *all* the points in the current view, log-scaled and
  coloured into one PNG (:func:`density_png`), placed under the axes as a layout image
  (a ``data:`` URL: nothing is fetched);
- **points**: at most :data:`MAX_DRAWN` of the points in the view, the most frequent
  first (rows come in frequency order), plus every searched or selected point wherever
  it is, drawn as ordinary points with hovers and selection.

Zooming in (a box selection, then *Zoom to selection*) narrows the view: the density is
recomputed over it at full resolution, and once the view holds at most ``MAX_DRAWN``
points every one of them is drawn. See :class:`MapView`.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np

#: above this many points a panel is a density overview plus individual points
LARGE_MAP = 50_000
#: the most individual points drawn in one panel
MAX_DRAWN = 10_000
#: the density image's resolution (pixels on its longer side)
DENSITY_PIXELS = 480


@dataclass(frozen=True)
class MapView:
    """What one large panel shows: the view's extent, the rows drawn as points, how many
    points the view holds, and the density image under them."""

    extent: tuple[float, float, float, float]  # x0, x1, y0, y1
    rows: np.ndarray
    in_view: int
    total: int
    png: bytes

    @property
    def complete(self) -> bool:
        """True when every point in the view is drawn individually."""
        return self.in_view <= MAX_DRAWN

    def caption(self) -> str:
        if self.complete:
            return f"all {self.in_view:,} points in this view are drawn (of {self.total:,})"
        return (f"{self.in_view:,} of {self.total:,} points in this view: their density, and the {MAX_DRAWN:,} most "
                "frequent as points; zoom in to see every point")

    def data_url(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def full_extent(coords: np.ndarray, pad: float = 0.02) -> tuple[float, float, float, float]:
    x0, y0 = coords.min(axis=0)
    x1, y1 = coords.max(axis=0)
    dx, dy = (x1 - x0) * pad or 1.0, (y1 - y0) * pad or 1.0
    return float(x0 - dx), float(x1 + dx), float(y0 - dy), float(y1 + dy)


def in_extent(coords: np.ndarray, extent: tuple[float, float, float, float]) -> np.ndarray:
    x0, x1, y0, y1 = extent
    return (coords[:, 0] >= x0) & (coords[:, 0] <= x1) & (coords[:, 1] >= y0) & (coords[:, 1] <= y1)


def pixel_counts(coords: np.ndarray, extent: tuple[float, float, float, float], h: int, w: int) -> np.ndarray:
    """Points per pixel of an ``h`` × ``w`` grid over ``extent`` (row 0 at the bottom): what
    ``np.histogram2d(y, x, bins=(h, w), range=...)`` counts, by arithmetic and one
    ``bincount`` instead of a binary search per point (0.08 s against 0.18 s at 1M points here).

    >>> xy = np.array([[0.0, 0.0], [0.99, 0.2], [1.0, 1.0], [2.0, 0.5]])
    >>> pixel_counts(xy, (0.0, 1.0, 0.0, 1.0), 2, 2).tolist()
    [[1, 1], [0, 1]]
    """
    x0, x1, y0, y1 = extent
    x, y = np.asarray(coords[:, 0], np.float64), np.asarray(coords[:, 1], np.float64)
    keep = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    col = np.minimum(((x[keep] - x0) * (w / max(x1 - x0, 1e-300))).astype(np.int64), w - 1)
    row = np.minimum(((y[keep] - y0) * (h / max(y1 - y0, 1e-300))).astype(np.int64), h - 1)
    return np.bincount(row * w + col, minlength=h * w).reshape(h, w)


def density_png(coords: np.ndarray, extent: tuple[float, float, float, float],
                pixels: int = DENSITY_PIXELS) -> bytes:
    """All the points in ``extent`` as a PNG: counts per pixel, log-scaled, white (none) to
    dark blue (most), transparent where empty. Row 0 of the image is the top of the view."""
    from PIL import Image

    x0, x1, y0, y1 = extent
    ratio = (y1 - y0) / max(x1 - x0, 1e-12)
    w, h = (pixels, max(8, int(pixels * ratio))) if ratio <= 1 else (max(8, int(pixels / ratio)), pixels)
    counts = pixel_counts(coords, extent, h, w)[::-1]  # image rows run top to bottom
    level = np.log1p(counts) / max(np.log1p(counts.max()), 1e-12)
    # a light-to-dark blue ramp; alpha follows the level so the page's background shows through
    low, high = np.array([198, 219, 239], float), np.array([8, 48, 107], float)
    rgb = low + (high - low) * level[..., None]
    alpha = np.where(counts > 0, 90 + 165 * level, 0)
    image = np.dstack([rgb, alpha]).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image, "RGBA").save(buffer, format="PNG", optimize=False, compress_level=3)
    return buffer.getvalue()


def map_view(coords: np.ndarray, extent: tuple[float, float, float, float] | None = None, *,
             always: np.ndarray | None = None, max_drawn: int = MAX_DRAWN) -> MapView:
    """The view of a large layout: ``coords`` are in frequency order (most frequent first),
    ``always`` are rows drawn wherever they are (a searched label, the selection)."""
    extent = extent or full_extent(coords)
    inside = np.flatnonzero(in_extent(coords, extent))
    rows = inside[:max_drawn]
    if always is not None and len(always):
        rows = np.union1d(rows, np.asarray(always, dtype=np.int64))
    return MapView(extent, rows, len(inside), len(coords), density_png(coords[inside], extent))


def selection_extent(selection: dict | None) -> tuple[float, float, float, float] | None:
    """The extent of a plotly box selection (Streamlit's ``selection["box"]``), or None."""
    boxes = (selection or {}).get("box") or []
    if not boxes:
        return None
    xs, ys = boxes[-1].get("x") or [], boxes[-1].get("y") or []
    if len(xs) < 2 or len(ys) < 2:
        return None
    return float(min(xs)), float(max(xs)), float(min(ys)), float(max(ys))
