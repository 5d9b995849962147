"""Explore-side figures in one run, as JSON:

- ``first_umap_10k``: a fresh process, as at app start: the background warm-up starts,
  then the user's first UMAP of 10k GloVe words (seconds from process start to layout);
  also the same without the warm-up;
- ``warm_umap_10k``: our path (kNN graph + UMAP with ``precomputed_knn``; and with the
  trust scores) against plain ``umap.UMAP(metric="cosine")`` on the same vectors and
  parameters (seed 1, 200 epochs), both warm; and ours unseeded on both cores;
- ``tsne_5k``: our t-SNE (openTSNE) against scikit-learn's on 5,000 GloVe words, seconds and
  trustworthiness;
- ``neighbour_query_glove_400k``: p50 / p95 of one query over all 400k GloVe words;
- ``neighbours_page_rerun``: server time of a Neighbours-page rerun for a new query
  (AppTest, four demo spaces), p50.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_FIRST = r"""
import sys, time, json
t0 = time.perf_counter()
from embeddings.models.glove import load_glove
from embeddings.layout.projection import project, select_rows, warm_up_in_background, _warm
if sys.argv[1] == "warm":
    warm_up_in_background()
g = load_glove("g", 10_000)
if sys.argv[1] == "warm":
    _warm.wait()
t1 = time.perf_counter()
p = project(g, select_rows(g, top=10_000), "umap", seed=None)  # the page's default: both cores
print(json.dumps({"since_start": time.perf_counter() - t0, "umap_call": time.perf_counter() - t1}))
"""


def first_umap(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _FIRST, mode], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return {k: round(v, 2) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def main() -> None:
    import umap

    from embeddings.analysis.neighbours import knn_graph, neighbours
    from embeddings.layout.methods import umap_layout as _umap
    from embeddings.layout.projection import project, select_rows, warm_up
    from embeddings.models.glove import load_glove

    result = {"benchmark": "explore", "cpus": os.cpu_count()}
    result["first_umap_10k"] = {"with_warm_up": first_umap("warm"), "without_warm_up": first_umap("cold")}

    glove = load_glove("glove", None)
    warm_up()
    rows = select_rows(glove, top=10_000)
    x = np.asarray(glove.vectors[rows])
    t = time.perf_counter()
    umap.UMAP(n_neighbors=15, min_dist=0.1, metric="cosine", n_epochs=200, random_state=1).fit_transform(x)
    plain = time.perf_counter() - t
    t = time.perf_counter()
    graph = knn_graph(x, 15)
    _umap(x, graph, {"n_neighbors": 15, "min_dist": 0.1, "n_epochs": 200}, 1)
    ours_layout = time.perf_counter() - t
    t = time.perf_counter()
    p = project(glove, rows, "umap", seed=1)
    ours_total = time.perf_counter() - t
    t = time.perf_counter()
    project(glove, rows, "umap", seed=None)
    ours_parallel = time.perf_counter() - t
    result["warm_umap_10k"] = {"plain_umap_seconds": round(plain, 2), "ours_layout_seconds": round(ours_layout, 2),
                               "ours_with_trust_scores_seconds": round(ours_total, 2),
                               "ours_unseeded_both_cores_seconds": round(ours_parallel, 2),
                               "ratio_layout": round(ours_layout / plain, 3),
                               "trustworthiness": round(p.trustworthiness, 4),
                               "knn_preservation": round(p.knn_preservation, 4)}

    # t-SNE: ours (openTSNE, FFT) against scikit-learn's Barnes-Hut, 5,000 words, same perplexity
    from sklearn.manifold import TSNE, trustworthiness

    from embeddings.layout.methods import tsne_layout as _tsne

    x5 = np.asarray(glove.vectors[select_rows(glove, top=5_000)])
    t = time.perf_counter()
    sk = TSNE(n_components=2, perplexity=30, metric="cosine", init="pca", random_state=1, n_jobs=2).fit_transform(x5)
    sk_seconds = time.perf_counter() - t
    t = time.perf_counter()
    ours = _tsne(x5, {"perplexity": 30.0}, 1)
    ours_seconds = time.perf_counter() - t
    result["tsne_5k"] = {"sklearn_seconds": round(sk_seconds, 2), "ours_opentsne_seconds": round(ours_seconds, 2),
                         "ratio": round(ours_seconds / sk_seconds, 3),
                         "sklearn_trustworthiness": round(float(trustworthiness(x5, sk, n_neighbors=10,
                                                                                metric="cosine")), 4),
                         "ours_trustworthiness": round(float(trustworthiness(x5, ours, n_neighbors=10,
                                                                             metric="cosine")), 4)}
    times = []
    for word in ["king", "paris", "computer", "river", "music", "science", "bank", "apple"] * 8:
        t = time.perf_counter()
        neighbours(glove, word, 10)
        times.append(time.perf_counter() - t)
    result["neighbour_query_glove_400k"] = {"p50_ms": round(1000 * float(np.median(times)), 2),
                                            "p95_ms": round(1000 * float(np.percentile(times, 95)), 2)}

    from streamlit.testing.v1 import AppTest

    from embeddings.demo.run import run_stages
    from embeddings.store.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        run_stages(Workspace(tmp))
        os.environ["EMBEDDINGS_WORKSPACE"] = tmp
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
        at.switch_page("pages/neighbours.py").run()
        reruns = []
        for q in ["king", "river", "sydney", "police", "fire", "water", "king - man + woman", "election"]:
            at.text_input(key="nb_query").input(q)
            t = time.perf_counter()
            at.run()
            reruns.append(time.perf_counter() - t)
    result["neighbours_page_rerun"] = {"p50_ms": round(1000 * float(np.median(reruns)), 1),
                                       "max_ms": round(1000 * max(reruns), 1), "spaces": 4}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
