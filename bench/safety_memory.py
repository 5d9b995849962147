"""Peak memory of the hostile and the large inputs of issue #10, as JSON.

Each case runs ``python -m embeddings ...`` in a child process under an address-space cap
(so a regression fails fast instead of swapping) and reports the child's peak RSS:

- ``baseline``: ``corpus add`` on a 5 KB text file (the interpreter with everything ingest imports);
- ``ingest_50mb``: ``corpus add`` on a 50 MB one-line text file (Lee news stories repeated);
  the target is at most 4x the file size above the baseline; ``ingest_50mb_no_sentences``
  the same without sentence splitting (one unit per document);
- ``raw_tokenize``: the raw library for comparison: read the same file and count gensim's
  ``simple_tokenize`` tokens, holding nothing else;
- ``w2v_binary_claim``: a 260-byte binary word2vec file whose header claims 2,000,000,000 rows;
- ``w2v_text_claim``: a 1,100-line text file whose header claims 300,000,000 rows;
- ``docx_bomb``: a 3.6 MB .docx whose word/document.xml unpacks to 1.5 GB;
- ``ingest_csv_150mb`` and ``ingest_jsonl_150mb`` (#26, item 8): 150 MB of Lee sentences as
  rows ``id, label, text`` and as JSON lines, with ``ingest_txt_150mb`` (the same sentences,
  one per line) beside them; the target is at most 4x the file above the baseline.

``--only NAME...`` runs those cases (and the baseline).

``--repo DIR`` runs the cases against another checkout (e.g. an older commit in a git
worktree) with this checkout's interpreter, for before/after figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAP_BYTES = 8 * 1024 ** 3

_CHILD = """
import resource, subprocess, sys, json, time
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({{"code": proc.returncode, "peak_kb": peak, "seconds": time.perf_counter() - start,
                   "message": (proc.stderr.strip().splitlines() or [""])[-1][:160]}}))
"""


def measure(cmd: list[str], cwd: Path) -> dict:
    """Run ``cmd`` in a wrapper that caps its address space and reads its peak RSS."""
    out = subprocess.run([sys.executable, "-c", _CHILD.format(cap=CAP_BYTES), *cmd], cwd=cwd,
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    hit_cap = r["code"] != 0 and ("MemoryError" in r["message"] or r["code"] < 0)
    return {"exit_code": r["code"], "peak_mb": round(r["peak_kb"] / 1024, 1), "seconds": round(r["seconds"], 2),
            "stopped_by_cap": hit_cap, "message": r["message"]}


def make_inputs(folder: Path) -> dict[str, Path]:
    from gensim.test.utils import datapath

    text = Path(datapath("lee_background.cor")).read_text(encoding="utf-8").replace("\n", " ")
    size = 50 * 1024 * 1024
    big = folder / "big.txt"
    big.write_text((text * (size // len(text) + 1))[:size] + "\n", encoding="utf-8")
    tiny = folder / "tiny.txt"
    tiny.write_text(text[:5000] + "\n", encoding="utf-8")
    claim_bin = folder / "claim.bin"
    claim_bin.write_bytes(b"2000000000 300\n" + b"a " + b"\0" * 243)
    claim_txt = folder / "claim.txt"
    claim_txt.write_text("300000000 3\n" + "".join(f"w{i} 0.1 0.2 0.3\n" for i in range(1100)))
    bomb = folder / "bomb.docx"
    import io

    import docx

    template = io.BytesIO()
    docx.Document().save(template)  # a real package (relationships, styles), then a huge body
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                z.writestr(item, src.read(item))
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
                     b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            chunk = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 30_000
            for _ in range(1_500_000_000 // len(chunk)):
                fh.write(chunk)
            fh.write(b"</w:body></w:document>")
    sentences = [s.strip() for s in text.replace("?", ".").split(". ") if len(s.strip()) > 20]
    rows = folder / "rows.csv"
    lines = folder / "rows.jsonl"
    plain = folder / "rows.txt"
    size = 150 * 1024 * 1024
    with open(rows, "w", encoding="utf-8", newline="") as c, open(lines, "w", encoding="utf-8") as j, \
            open(plain, "w", encoding="utf-8") as t:
        import csv

        w = csv.writer(c)
        w.writerow(["id", "label", "text"])
        i = 0
        while c.tell() < size:
            s = sentences[i % len(sentences)]
            w.writerow([i, f"topic{i % 7}", s])
            j.write(json.dumps({"id": i, "label": f"topic{i % 7}", "text": s}) + "\n")
            t.write(s + "\n")
            i += 1
    return {"big": big, "tiny": tiny, "claim_bin": claim_bin, "claim_txt": claim_txt, "bomb": bomb,
            "csv": rows, "jsonl": lines, "txt": plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout to measure (default: this one)")
    parser.add_argument("--only", nargs="*", help="only these cases (and the baseline)")
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = make_inputs(tmp)
        ws = str(tmp / "ws")
        cli = [py, "-m", "embeddings", "--workspace", ws]
        cases = {
            "baseline": cli + ["corpus", "add", str(files["tiny"]), "--name", "tiny"],
            "ingest_50mb": cli + ["corpus", "add", str(files["big"]), "--name", "big"],
            "ingest_50mb_no_sentences": cli + ["corpus", "add", str(files["big"]), "--name", "big-lines",
                                               "--no-sentences"],
            "raw_tokenize": [py, "-c", "import sys; from gensim.utils import simple_tokenize; "
                                       "print(sum(1 for _ in simple_tokenize(open(sys.argv[1]).read())))",
                             str(files["big"])],
            "w2v_binary_claim": cli + ["space", "import", str(files["claim_bin"]), "--format", "word2vec-binary",
                                       "--name", "claim-bin"],
            "w2v_text_claim": cli + ["space", "import", str(files["claim_txt"]), "--format", "word2vec",
                                     "--name", "claim-txt"],
            "docx_bomb": cli + ["corpus", "add", str(files["bomb"]), "--name", "bomb"],
            "ingest_csv_150mb": cli + ["corpus", "add", str(files["csv"]), "--name", "rows-csv"],
            "ingest_jsonl_150mb": cli + ["corpus", "add", str(files["jsonl"]), "--name", "rows-jsonl"],
            "ingest_txt_150mb": cli + ["corpus", "add", str(files["txt"]), "--name", "rows-txt", "--lines"],
        }
        cases = {k: v for k, v in cases.items() if not args.only or k in args.only or k == "baseline"}
        results = {name: measure(cmd, args.repo) for name, cmd in cases.items()}
        sizes = {name: files[key].stat().st_size / 1024 ** 2 for name, key in
                 (("ingest_50mb", "big"), ("ingest_csv_150mb", "csv"), ("ingest_jsonl_150mb", "jsonl"),
                  ("ingest_txt_150mb", "txt"))}
    base = results["baseline"]["peak_mb"]
    ratios = {name: {"file_mb": round(sizes[name], 1), "peak_above_baseline_mb": round(results[name]["peak_mb"] - base, 1),
                     "x_file": round((results[name]["peak_mb"] - base) / sizes[name], 2)}
              for name in sizes if name in results}
    print(json.dumps({
        "bench": "safety_memory",
        "repo": str(args.repo),
        "address_space_cap_gb": CAP_BYTES / 1024 ** 3,
        "cases": results,
        "ingest": ratios,
        "ingest_target_x_file": 4.0,
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }, indent=1))


if __name__ == "__main__":
    main()
