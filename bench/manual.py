"""Issue #25's figures on a corpus nobody tuned for: Debian's python3.11-doc HTML manual
(530 pages; its folders are the labels). Prints JSON.

1. **Reading**: the manual zipped as a user would, read with trafilatura's main content and
   the boilerplate rule (:mod:`embeddings.text.boilerplate`); the same pages' visible text (the
   fallback) and what the rule drops from it; navigation phrases among the top 50 phrases.
2. **Choose**: GloVe SIF, TF-IDF + LSA, MiniLM and the sparse TF-IDF on the folders with at
   least 5 pages (classification), the leaderboard with C tuned (the default) and with MTEB's
   C = 1 side by side, the C chosen per space and fold, the ranking changes and the paired
   verdicts under each; and the sparse TF-IDF's macro-F1 against nested cross-validation
   written directly with scikit-learn. The sparse TF-IDF of the whole manual has about 500,000
   word 1–2-grams: its tuned classification takes minutes.

    python bench/manual.py [--no-minilm] [--no-direct] [--reuse WORKSPACE]
"""

import argparse
import io
import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from tests.data.debian_manual import manual_html  # noqa: E402  (after sys.path gains the checkout)

NAVIGATION = {"previous", "next", "topic", "bug", "donate", "prev", "up", "home"}


def _zip() -> tuple[bytes, list[Path]]:
    html = manual_html()
    pages = sorted(html.rglob("*.html"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in pages:
            z.write(p, "html/" + p.relative_to(html).as_posix())
    return buf.getvalue(), pages


def reading(ws, data: bytes, pages: list[Path]) -> tuple[dict, object]:
    from embeddings.readers import Document, Source
    from embeddings.readers.text import _visible_text
    from embeddings.text.boilerplate import strip_boilerplate
    from embeddings.text.corpus import add_corpus
    from embeddings.text.preprocess import RECOMMENDED

    t = time.perf_counter()
    corpus = add_corpus(ws, "manual", sources=[Source("python-manual.zip", data)], preprocessing=RECOMMENDED)
    seconds = time.perf_counter() - t
    top = corpus.phrases().head(50)["phrase"].tolist()
    from embeddings.analysis.audit import mine_terms

    mined = mine_terms(corpus, 50)["term"].tolist()
    visible = [Document(_visible_text(p.read_text(errors="replace")), p.name) for p in pages]
    _, report = strip_boilerplate(visible)
    return {"pages": len(pages), "documents": corpus.stats["documents"], "tokens": corpus.stats["tokens"],
            "add_seconds": round(seconds, 1), "main_content_boilerplate": corpus.stats.get("boilerplate"),
            "navigation_phrases_in_top_50": [p for p in top if set(p.split("_")) & NAVIGATION],
            "navigation_terms_in_the_audits_50_mined": [t for t in mined if set(t.split("_")) & NAVIGATION],
            "top_10_phrases": top[:10], "visible_text_boilerplate": report.to_dict(),
            "labels": corpus.documents()["meta.folder"].fillna("").value_counts().to_dict()}, corpus


def choose(ws, corpus, minilm: bool, direct: bool) -> dict:
    """One benchmark (C tuned; both protocols run on every fold, so MTEB's C = 1 reading, its
    ranking and its paired verdicts come from the same folds), then the sparse TF-IDF against
    nested cross-validation written directly with scikit-learn (``direct``)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

    from embeddings.evaluate.benchmark import TFIDF_SPARSE, benchmark
    from embeddings.evaluate.classify import C_GRID, INNER_FOLDS, TUNED_MAX_ITER, TUNED_SOLVER, TUNED_TOL
    from embeddings.evaluate.tasks import TaskScore, compare
    from embeddings.models import add_baseline, add_pooled, add_pretrained
    from embeddings.models.docspaces import sparse_tfidf
    from embeddings.store.space_store import load_space

    def made(name, make):          # a space of a reused workspace (--reuse) is not made again
        return load_space(ws, name) if ws.exists("space", name) else make()

    made("glove", lambda: add_pretrained(ws, "glove-6b-50d", "glove"))
    spaces = [made("manual-glove-sif", lambda: add_pooled(ws, "glove", "manual", "sif", "manual-glove-sif")),
              made("manual-tfidf-lsa", lambda: add_baseline(ws, "manual", "manual-tfidf-lsa"))]
    out: dict = {}
    if minilm:
        t = time.perf_counter()
        spaces.append(made("manual-minilm", lambda: add_pretrained(ws, "minilm", "manual-minilm", corpus="manual",
                                                                    unit="document")))
        out["minilm_seconds"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    b = benchmark(corpus, "folder", spaces, tasks=("classification",), tfidf=True)
    out["seconds"] = round(time.perf_counter() - t, 1)
    mteb = [TaskScore(s.space, s.task, "macro-F1", s.values, s.unit, s.n, s.total, s.split)
            for s in b.scores if s.metric == "macro-F1 (C = 1)"]
    out.update({"documents": int(len(b.labels.y)), "classes": len(b.labels.classes), "dropped": b.labels.dropped,
                "readings": b.classification_readings().round(4).to_dict("records"),
                "verdicts_tuned": [d.row()["verdict"] for d in b.pairs],
                "verdicts_mteb": [d.row()["verdict"] for d in compare(mteb)],
                "ranking_changes": [c["sentence"] + " Paired test, tuned: " + c["verdict"]
                                    for c in b.ranking_changes()]})
    print(json.dumps(out, default=str), file=sys.stderr, flush=True)
    if direct:
        X = sparse_tfidf(corpus)[0][b.labels.rows]
        search = GridSearchCV(LogisticRegression(max_iter=TUNED_MAX_ITER, solver=TUNED_SOLVER, tol=TUNED_TOL),
                              {"C": list(C_GRID)},
                              scoring="f1_macro", cv=StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=0))
        value = cross_val_score(search, X, b.labels.y, scoring="f1_macro",
                                cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean()
        ours = b.main_scores("classification")[TFIDF_SPARSE].score
        out["sparse_tfidf_vs_direct_nested_sklearn"] = {"ours": round(ours, 4), "direct": round(float(value), 4),
                                                        "gap": round(abs(ours - float(value)), 4), "target": 0.03}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-minilm", action="store_true", help="leave MiniLM out (its encoding takes minutes)")
    parser.add_argument("--no-direct", action="store_true", help="skip the direct scikit-learn run")
    parser.add_argument("--reuse", metavar="WORKSPACE", help="a workspace of an earlier run: its corpus and "
                        "spaces are used again (the reading is measured anew in a scratch workspace)")
    args = parser.parse_args()
    from embeddings.store.workspace import Workspace
    from embeddings.text.corpus import get_corpus

    data, pages = _zip()
    ws = Workspace(tempfile.mkdtemp(prefix="bench-manual-"))
    read, corpus = reading(ws, data, pages)
    if args.reuse:
        ws = Workspace(args.reuse)
        corpus = get_corpus(ws, "manual")
    print(json.dumps(read, default=str), file=sys.stderr, flush=True)     # each part as it lands
    print(json.dumps({"reading": read, "choose": choose(ws, corpus, not args.no_minilm, not args.no_direct)},
                     indent=1, default=str))


if __name__ == "__main__":
    main()
