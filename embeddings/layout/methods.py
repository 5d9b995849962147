"""The three layout methods, raw: UMAP (umap-learn), t-SNE (openTSNE) and PCA (scikit-learn),
each taking vectors and returning 2-D coordinates, with umap-learn's and openTSNE's own progress
hooks. :func:`embeddings.layout.projection.project` adds the kNN graph, the trust scores, the
progress harness and the cache around them.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Callable

import numpy as np

# We never transform new points, so a precomputed graph without a search index is fine; and a
# seed makes UMAP single-threaded on purpose (reproducible layouts).
warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
warnings.filterwarnings("ignore", message=r"n_jobs value .* overridden")


class _TqdmProgress(io.TextIOBase):
    """A file for tqdm, umap-learn's one progress hook (``tqdm_kwds``): tqdm writes ``n/total``
    (our ``bar_format``) here after each epoch, and we report it. An exception raised by
    the report (the user cancelled) propagates out of umap-learn's epoch loop, once: the
    write tqdm makes as it closes is not reported."""

    def __init__(self, report: Callable[[int, int], None]):
        self.report = report
        self.raised = False

    def write(self, text: str) -> int:
        match = re.search(r"(\d+)/(\d+)", text)
        if match and not self.raised:
            try:
                self.report(int(match[1]), int(match[2]))
            except BaseException:
                self.raised = True
                raise
        return len(text)

    def flush(self) -> None:
        pass


_TQDM_PATCH = threading.Lock()


def _releasing_tqdm():
    """umap-learn's ``tqdm``, made safe to raise through. tqdm's ``refresh`` takes its
    process-wide write lock, writes to the file, and releases the lock with no ``finally``: a
    Cancel raised by the file left the lock held by the layout's (finished) thread, and the
    next tqdm bar anywhere in the server (sentence-transformers' encoding) waited for it
    forever. This subclass releases the lock when the write raises; umap.layouts, which
    imports ``tqdm`` by name, is given it once."""
    import umap.layouts

    with _TQDM_PATCH:
        base = umap.layouts.tqdm
        if getattr(base, "releases_on_error", False):
            return base

        class ReleasingTqdm(base):
            releases_on_error = True

            def refresh(self, nolock=False, lock_args=None):
                if self.disable or nolock:
                    return super().refresh(nolock, lock_args)
                if lock_args:
                    if not self._lock.acquire(*lock_args):
                        return False
                else:
                    self._lock.acquire()
                try:
                    return super().refresh(nolock=True)
                finally:
                    self._lock.release()

        umap.layouts.tqdm = ReleasingTqdm
        return ReleasingTqdm


def umap_layout(vectors, graph, params, seed, epoch: Callable[[int, int], None] | None = None):
    import umap

    n_epochs = params.get("n_epochs", 200)
    # a report every 2% of the epochs, however fast they run (a time interval would make
    # the number of reports, and a Cancel's reaction, depend on the machine)
    hook = {"disable": False, "file": _TqdmProgress(epoch), "bar_format": "{n}/{total}", "mininterval": 0,
            "miniters": max(1, n_epochs // 50)} if epoch else None
    if epoch:
        _releasing_tqdm()
    reducer = umap.UMAP(n_neighbors=params["n_neighbors"], min_dist=params["min_dist"], metric="cosine",
                        n_epochs=n_epochs, random_state=seed, precomputed_knn=graph,
                        n_components=2, tqdm_kwds=hook)
    return reducer.fit_transform(vectors)


#: openTSNE's schedule: early exaggeration, then the main phase (its defaults)
TSNE_ITERATIONS = (250, 500)
#: openTSNE's FFT interpolation grid: one box per this many units of the embedding's extent
#: (its default is 1). The extent grows to a few hundred units in the main phase, and with 1
#: the grid, not the points, dominates: 5,000 GloVe words took 37 s, against 13 s with 5 at
#: the same trustworthiness (0.964); 50,000 took 132 s against 89 s (bench/scale.py)
TSNE_INTS_IN_INTERVAL = 5
#: up to this many points t-SNE's kNN graph is exact (brute force is quick there, and both
#: faster and more faithful than Annoy: 0.963 against 0.961 at 5,000 words)
TSNE_EXACT_KNN = 10_000


def tsne_layout(vectors, params, seed, iteration: Callable[[int, int], None] = lambda done, total: None):
    """openTSNE (FFT-accelerated interpolation, Linderman et al. 2019, at every size: with a
    coarser grid it beats its own Barnes-Hut at 5,000 points too) is much faster than
    scikit-learn's Barnes-Hut, and its callbacks report progress."""
    import openTSNE

    total = sum(TSNE_ITERATIONS)
    done = [0]

    def callback(it, error, embedding):  # called every 25 iterations of each phase
        done[0] += 25
        iteration(min(done[0], total), total)
        return False

    perplexity = min(params["perplexity"], max(2.0, (len(vectors) - 1) / 3))
    tsne = openTSNE.TSNE(n_components=2, perplexity=perplexity, metric="cosine", initialization="pca",
                         early_exaggeration_iter=TSNE_ITERATIONS[0], n_iter=TSNE_ITERATIONS[1],
                         negative_gradient_method="fft", ints_in_interval=TSNE_INTS_IN_INTERVAL,
                         neighbors="exact" if len(vectors) <= TSNE_EXACT_KNN else "auto",
                         random_state=seed, n_jobs=2, callbacks=callback, callbacks_every_iters=25)
    return np.asarray(tsne.fit(vectors))


def pca_layout(vectors, seed):
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(vectors)
