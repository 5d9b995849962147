"""Peak memory while loading GloVe 6B 50-d (400k x 50) into a space and saving it.

Two fresh processes, so neither measure disturbs the other:
- ``rss``: growth of the peak resident set (ru_maxrss) over the process after imports;
- ``heap``: the Python-heap peak seen by tracemalloc (numpy reports its buffers to it).
Each is given against the size of the float32 matrix. Target: peak <= 2x the matrix.
Prints JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATRIX_MB = 400_000 * 50 * 4 / 2**20

_CHILD = r"""
import json, os, resource, sys, tempfile, tracemalloc
import numpy as np, pandas as pd
from embeddings.models import add_pretrained
from embeddings.store.workspace import Workspace
with tempfile.TemporaryDirectory() as tmp:  # warm the parquet reader/writer: measure data, not imports
    pd.DataFrame({"a": ["x"]}).to_parquet(f"{tmp}/w.parquet"); pd.read_parquet(f"{tmp}/w.parquet")
mode = sys.argv[1]
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
before = rss()
if mode == "heap":
    tracemalloc.start()
with tempfile.TemporaryDirectory() as tmp:
    space = add_pretrained(Workspace(tmp), "glove-6b-50d", "glove")
    value = tracemalloc.get_traced_memory()[1] / 2**20 if mode == "heap" else rss() - before
print(json.dumps({"mb": value, "words": len(space)}))
"""


def run(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    rss, heap = run("rss"), run("heap")
    print(json.dumps({
        "benchmark": "glove-memory",
        "words": rss["words"],
        "matrix_mb": round(MATRIX_MB, 1),
        "rss_peak_growth_mb": round(rss["mb"], 1),
        "rss_peak_over_matrix": round(rss["mb"] / MATRIX_MB, 2),
        "heap_peak_mb": round(heap["mb"], 1),
        "heap_peak_over_matrix": round(heap["mb"] / MATRIX_MB, 2),
    }, indent=1))


if __name__ == "__main__":
    main()
