"""Retrieval at the size issue #29 names, against a plain numpy + bm25s script in the same run.
Prints JSON.

**100,000 documents and 1,000 queries** (encoding excluded: the dense vectors are random unit
vectors of MiniLM's 384 dimensions, the query vectors too, so the figure is the search):

- ours: :func:`embeddings.evaluate.retrieval.evaluate` with BM25, one dense space and their
  hybrid, the metrics and the paired comparisons included (target: under 60 s);
- plain: ``bm25s`` indexing the same tokens and retrieving the top 100, plus one numpy matrix
  product and ``argpartition`` for the dense top 100, nothing else;
- approximate: the same dense space with the HNSW index the app attaches above
  :data:`embeddings.analysis.ann.THRESHOLD` documents (usearch), its build time apart, its
  search through the app against usearch's own batch search, and its recall@10 against the
  exact top 10 over every query. Random 384-d vectors are a hard case for graph search:
  real embeddings cluster, and recall on them is higher.

The documents are the Debian python3.11-doc manual's paragraphs (a real vocabulary, with
navigation and code), repeated to the size; each query is the opening words of a paragraph.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from tests.data.debian_manual import manual_html


def paragraphs(n: int) -> list[str]:
    """``n`` paragraphs of the manual's visible text, repeated in order as needed."""
    import re

    from bs4 import BeautifulSoup

    out: list[str] = []
    for page in sorted(manual_html().rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8", errors="replace"), "lxml")
        out += [" ".join(p.get_text(" ").split()) for p in soup.find_all("p")]
        out = [p for p in out if len(re.findall(r"\w+", p)) >= 8]
        if len(out) >= n:
            break
    return [out[i % len(out)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    args = parser.parse_args()

    from embeddings.evaluate.qrels import RetrievalSet
    from embeddings.evaluate.retrieval import evaluate
    from embeddings.evaluate.search import BM25
    from embeddings.readers import Document
    from embeddings.space import EmbeddingSpace
    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import add_corpus
    from embeddings.text.preprocess import Preprocessing, tokenize

    texts = paragraphs(args.docs)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        prep = Preprocessing(sentences=False, boilerplate=False)
        start = time.perf_counter()
        corpus = add_corpus(ws, "manual", documents=[Document(t, f"p{i}") for i, t in enumerate(texts)],
                            preprocessing=prep)
        ingest = time.perf_counter() - start
        picked = rng.choice(args.docs, args.queries, replace=False)
        queries = {f"q{i}": " ".join(texts[d].split()[:8]) for i, d in enumerate(picked)}
        import pandas as pd

        qset = RetrievalSet("openings", corpus.id,
                            pd.DataFrame({"qid": list(queries), "text": list(queries.values()), "split": "eval"}),
                            pd.DataFrame({"qid": list(queries), "doc": picked.astype(int), "relevance": 1}))
        vectors = rng.normal(size=(args.docs, 384)).astype(np.float32)
        qvec = {t: v for t, v in zip(queries.values(), rng.normal(size=(args.queries, 384)).astype(np.float32))}
        docs = corpus.documents()
        space = EmbeddingSpace.from_arrays(
            "dense", [f"#{d}" for d in docs["doc"]], vectors, meta=pd.DataFrame({"doc": docs["doc"]}),
            provenance={"unit": "document", "corpus_id": corpus.id, "corpus": corpus.name},
            embedder=lambda batch: np.stack([qvec.get(t, np.ones(384, np.float32)) for t in batch]))

        start = time.perf_counter()
        result = evaluate(corpus, qset, [space], hybrid=["dense"])
        ours = time.perf_counter() - start

        # the plain script: the same tokens, bm25s's own retrieve, and one numpy product
        import bm25s

        start = time.perf_counter()
        tokens = [tokenize(t, prep) for t in docs["text"]]
        retriever = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        retriever.index(tokens, show_progress=False)
        q_tokens = [[w for w in tokenize(q, prep) if w in retriever.vocab_dict] or [""] for q in queries.values()]
        retriever.retrieve(q_tokens, k=100, show_progress=False)
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        q = np.stack(list(qvec.values()))
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        for s in range(0, len(q), 256):
            scores = q[s:s + 256] @ unit.T
            np.argpartition(-scores, 100, axis=1)[:, :100]
        plain = time.perf_counter() - start

        import dataclasses

        from embeddings.analysis import ann

        start = time.perf_counter()
        index = ann.build(np.asarray(space.vectors))
        build = time.perf_counter() - start
        from embeddings.evaluate import search

        search.ANN_ABOVE = 0            # the path a collection above the app's bound takes, measured here at 100k
        start = time.perf_counter()
        approx = evaluate(corpus, qset, [dataclasses.replace(space, ann=index)], bm25=False)
        approx_seconds = time.perf_counter() - start
        start = time.perf_counter()
        index.search(q, 200, threads=1)
        usearch_seconds = time.perf_counter() - start
        exact_runs, approx_runs = result.runs["dense"], approx.runs["dense"]
        recall = float(np.mean([len(set(approx_runs[k][:10]) & set(exact_runs[k][:10])) / 10 for k in exact_runs]))

    board = result.leaderboard().set_index("system")
    print(json.dumps({
        "documents": args.docs, "queries": args.queries, "ingest_seconds": round(ingest, 2),
        "ours_seconds": round(ours, 2), "plain_numpy_bm25s_seconds": round(plain, 2),
        "ours_over_plain": round(ours / plain, 2),
        "ours_includes": "BM25, dense, their RRF hybrid, five metrics per query, three paired bootstraps",
        "seconds_by_system": {k: round(v, 2) for k, v in result.seconds.items()},
        "bm25_ndcg10": round(float(board.loc[BM25, "nDCG@10"]), 4),
        "target_seconds": 60,
        "approximate": {"index_build_seconds": round(build, 2), "ours_seconds": round(approx_seconds, 2),
                        "usearch_batch_search_seconds": round(usearch_seconds, 2),
                        "recall_at_10_vs_exact": round(recall, 4), "notes": approx.notes[1:]},
    }, indent=2))


if __name__ == "__main__":
    main()
