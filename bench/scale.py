"""Scale figures (#15) in one run, as JSON; every ratio is measured in the same run.

    python bench/scale.py [section ...]     # default: all sections

Sections:

- ``tsne``: our t-SNE (openTSNE, FFT) against scikit-learn's Barnes-Hut at 5,000 and 50,000
  GloVe words: seconds and trustworthiness (on a 5,000-point sample at 50k);
- ``umap``: our ``project`` (kNN graph + UMAP) against plain ``umap.UMAP(metric="cosine")``
  with the same parameters at 50,000 and 100,000 GloVe words; the longest gap between
  two progress reports; both seeded (single-threaded, as our default is reproducible);
- ``memory``: peak RSS of a fresh process running the ``project`` command against a plain
  umap-learn script on the same 50,000 words;
- ``ann``: one neighbour query over all 400k GloVe words, exact and through the index:
  p50/p95 and recall@10 against exact search on 300 queries; the index's build time;
- ``place``: kNN preservation of 300 words placed into a 5,000-word layout, against the
  layout's own (UMAP and t-SNE);
- ``ray``: encoding 20,000 documents with MiniLM, in process and on a local Ray
  (``--engine ray``): seconds, ratio, and the smallest cosine between the two;
- ``map``: see ``bench/map_browser.py`` (a 1,000,000-point panel in Chromium).
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _glove():
    from embeddings.models.glove import load_glove

    return load_glove("glove", None)


def tsne(glove) -> dict:
    from sklearn.manifold import TSNE, trustworthiness

    from embeddings.layout.methods import tsne_layout as _tsne

    out = {}
    for n in (int(v) for v in os.environ.get("BENCH_TSNE_SIZES", "5000,50000").split(",")):
        x = np.asarray(glove.vectors[:n])
        t = time.perf_counter()
        sk = TSNE(n_components=2, perplexity=30, metric="cosine", init="pca", random_state=1, n_jobs=2).fit_transform(x)
        sk_s = time.perf_counter() - t
        t = time.perf_counter()
        ours = _tsne(x, {"perplexity": 30.0}, 1)
        ours_s = time.perf_counter() - t
        pick = np.random.default_rng(0).choice(n, min(n, 5_000), replace=False)
        tw = {k: round(float(trustworthiness(x[pick], c[pick], n_neighbors=10, metric="cosine")), 4)
              for k, c in (("sklearn", sk), ("ours", ours))}
        out[f"{n // 1000}k"] = {"sklearn_seconds": round(sk_s, 1), "ours_seconds": round(ours_s, 1),
                                "speed_up": round(sk_s / ours_s, 2), "trustworthiness": tw,
                                "trustworthiness_gap": round(tw["sklearn"] - tw["ours"], 4)}
    return out


def umap_(glove) -> dict:
    import umap

    from embeddings.layout.projection import project, warm_up

    warm_up()
    # numba compiles pynndescent on its first use (about 45 s): pay it here, for both sides,
    # or whichever runs first carries it (an earlier run's 50k ratio, 0.51, did)
    small = np.asarray(glove.vectors[:3_000])
    umap.UMAP(n_neighbors=15, metric="cosine", n_epochs=5, random_state=1,
              force_approximation_algorithm=True).fit_transform(small)
    out = {}
    for n in (50_000, 100_000):
        x = np.asarray(glove.vectors[:n])
        t = time.perf_counter()
        umap.UMAP(n_neighbors=15, min_dist=0.1, metric="cosine", n_epochs=200, random_state=1).fit_transform(x)
        plain = time.perf_counter() - t
        stamps = []
        t = time.perf_counter()
        p = project(glove, np.arange(n), "umap", seed=1, progress=lambda f, m: stamps.append(time.perf_counter()))
        ours = time.perf_counter() - t
        gaps = np.diff([t] + stamps)
        # ours also scores the layout (trustworthiness and kNN preservation on a sample, the
        # graph's recall): "layout" is the graph and UMAP alone, the work plain umap-learn does
        out[f"{n // 1000}k"] = {"plain_umap_learn_seconds": round(plain, 1), "ours_seconds": round(ours, 1),
                                "ratio": round(ours / plain, 3), "ours_layout_seconds": round(p.seconds, 1),
                                "layout_ratio": round(p.seconds / plain, 3), "progress_reports": len(stamps),
                                "longest_gap_between_reports_s": round(float(gaps.max()), 2),
                                "knn": p.knn, "knn_recall": p.knn_recall,
                                "trustworthiness": round(p.trustworthiness, 4)}
    return out


_OURS = """
import sys, resource, json
from embeddings.cli import main
main(["--workspace", sys.argv[1], "project", "glove", "--limit", "50000", "--json"])
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), file=sys.stderr)
"""
_PLAIN = """
import sys, resource, json
import numpy as np, umap
from embeddings.models.glove import load_glove
x = np.asarray(load_glove("g", 50000).vectors)
umap.UMAP(n_neighbors=15, min_dist=0.1, metric="cosine", n_epochs=200, random_state=1).fit_transform(x)
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), file=sys.stderr)
"""


def memory(_glove_unused) -> dict:
    with tempfile.TemporaryDirectory() as ws:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "embeddings", "--workspace", ws, "space", "add-pretrained",
                        "glove-6b-50d", "--name", "glove", "--json"], env=env, check=True, capture_output=True)
        peaks = {}
        for name, code, args in (("ours_project", _OURS, [ws]), ("plain_umap_learn", _PLAIN, [])):
            run = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                                 check=True, cwd=ROOT)
            peaks[name] = round(json.loads(run.stderr.strip().splitlines()[-1])["peak_mb"], 1)
            imported = subprocess.run([sys.executable, "-c", "import sys; from embeddings.cli import main; "
                                       "print('torch' in sys.modules)"], env=env, capture_output=True, text=True)
        peaks["ratio"] = round(peaks["ours_project"] / peaks["plain_umap_learn"], 3)
        peaks["cli_imports_torch"] = imported.stdout.strip() == "True"
        return peaks


def ann(glove) -> dict:
    from embeddings.analysis import ann as ann_module
    from embeddings.analysis.neighbours import top_k

    x = np.asarray(glove.vectors)
    t = time.perf_counter()
    index = ann_module.build(x)
    build = time.perf_counter() - t
    queries = np.random.default_rng(0).choice(len(x), 300, replace=False)
    exact_t, exact_top = [], {}
    for q in queries:
        t = time.perf_counter()
        exact_top[q] = set(top_k(x @ x[q], 10, np.array([q])).tolist())
        exact_t.append(time.perf_counter() - t)
    ms = lambda v, p: round(1000 * float(np.percentile(v, p)), 3)

    def run(expansion: int) -> dict:
        index.expansion_search = expansion
        approx_t, recall, full = [], [], 0
        for q in queries:
            t = time.perf_counter()
            rows, _ = ann_module.search(index, x, x[q], 10, np.array([q]))
            approx_t.append(time.perf_counter() - t)
            hit = len(set(rows.tolist()) & exact_top[q])
            recall.append(hit / 10)
            full += hit == 10
        return {"expansion_search": expansion, "p50_ms": ms(approx_t, 50), "p95_ms": ms(approx_t, 95),
                "speed_up_p50": round(np.median(exact_t) / np.median(approx_t), 1),
                "recall_at_10": round(float(np.mean(recall)), 4),
                "queries_with_exact_top10": round(full / len(queries), 4)}

    # the trade-off on the same index: the default beam, and narrower ones
    curve = [run(e) for e in sorted({ann_module.EXPANSION_SEARCH, 32, 48, 64, 96})]
    default = next(c for c in curve if c["expansion_search"] == ann_module.EXPANSION_SEARCH)
    met = [c for c in curve if c["recall_at_10"] >= 0.99 and c["p50_ms"] <= 1.0]
    return {"vectors": len(x), "build_seconds": round(build, 1),
            "exact": {"p50_ms": ms(exact_t, 50), "p95_ms": ms(exact_t, 95)},
            "index": default, "curve": curve, "target_p50_1ms_recall_099_met_by": met,
            "settings": {"connectivity": ann_module.CONNECTIVITY, "expansion_add": ann_module.EXPANSION_ADD,
                         "expansion_search": ann_module.EXPANSION_SEARCH, "candidates": ann_module.CANDIDATES}}


def place(glove) -> dict:
    from embeddings.layout.placement import place as place_points
    from embeddings.layout.projection import project

    out = {}
    for method in ("umap", "tsne"):
        layout = project(glove, np.arange(5_000), method, seed=1)
        placed = place_points(glove, layout, glove.labels[5_000:5_300], seed=1)
        out[method] = {"layout_knn_preservation": round(layout.knn_preservation, 4),
                       "placed_knn_preservation": round(placed.knn_preservation, 4),
                       "gap": round(layout.knn_preservation - placed.knn_preservation, 4),
                       "seconds": round(placed.seconds, 1)}
    return out


def bench_documents(n: int = 20_000) -> list:
    """20,000 real documents: docstring paragraphs of the installed standard library and
    scientific packages (what the python-docs sample reads, more widely)."""
    import importlib
    import inspect
    import pkgutil
    import warnings

    from embeddings.readers.base import Document

    seen, docs = set(), []
    warnings.simplefilter("ignore")
    for package in ("json", "email", "http", "xml", "logging", "asyncio", "unittest", "numpy", "scipy", "pandas",
                    "sklearn", "gensim", "pyarrow"):
        try:
            root = importlib.import_module(package)
        except Exception:
            continue
        # never a __main__ (numpy.f2py's runs its command line on import) nor a test module
        names = [package] + [m.name for m in pkgutil.walk_packages(getattr(root, "__path__", []), package + ".",
                                                                   onerror=lambda name: None)
                             if "test" not in m.name and not m.name.endswith("__main__")][:400]
        for name in names:
            try:
                module = importlib.import_module(name)
            except (Exception, SystemExit):
                continue
            for obj in [module, *vars(module).values()]:
                doc = inspect.getdoc(obj) if callable(obj) or inspect.ismodule(obj) else None
                for para in (doc or "").split("\n\n"):
                    para = " ".join(para.split())
                    if len(para.split()) >= 8 and para not in seen:
                        seen.add(para)
                        docs.append(Document(para, name, {"module": name}))
                        if len(docs) >= n:
                            return docs
    return docs


def ray(_glove_unused) -> dict:
    from embeddings.models.encode import encode_space
    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import add_corpus, get_corpus

    docs = bench_documents()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(tmp)
        add_corpus(ws, "bench", documents=docs, source_label="bench:docstrings")
        corpus = get_corpus(ws, "bench")
        encode_space(ws, corpus, "minilm", "warm", limit=64)  # model loaded once, as a server has it
        t = time.perf_counter()
        local = encode_space(ws, corpus, "minilm", "local")
        local_s = time.perf_counter() - t
        t = time.perf_counter()
        on_ray = encode_space(ws, corpus, "minilm", "ray", engine="ray")
        ray_s = time.perf_counter() - t
        cos = np.sum(np.asarray(local.vectors) * np.asarray(on_ray.vectors), axis=1)
        return {"documents": len(docs), "local_seconds": round(local_s, 1), "ray_seconds": round(ray_s, 1),
                "ratio": round(ray_s / local_s, 3), "min_cosine": round(float(cos.min()), 6),
                "ray": on_ray.provenance.get("ray"), "local_docs_per_second": round(len(docs) / local_s, 1)}


SECTIONS = {"tsne": tsne, "umap": umap_, "memory": memory, "ann": ann, "place": place, "ray": ray}


def main(argv: list[str]) -> None:
    wanted = argv or list(SECTIONS)
    sys.argv = sys.argv[:1]  # a library below reads sys.argv (numpy's f2py, through scipy): leave it ours alone
    glove = _glove() if set(wanted) & {"tsne", "umap", "ann", "place"} else None
    result = {"benchmark": "scale", "cpus": os.cpu_count()}
    for name in wanted:
        t = time.perf_counter()
        result[name] = SECTIONS[name](glove)
        result[name]["section_seconds"] = round(time.perf_counter() - t, 1)
        print(json.dumps({name: result[name]}), file=sys.stderr, flush=True)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
