"""Image corpora and image-text spaces at size, against the raw libraries in the same run. Prints JSON.

- ingest: :func:`add_image_corpus` (zip guards, header checks, one PNG and one thumbnail per
  image, the caption corpus) against a plain Pillow loop that decodes, thumbnails and saves the
  same images;
- encode: our image and text encoding against a plain ``transformers`` loop
  (``processor`` → ``get_image_features``, ``tokenizer`` → ``get_text_features``) on the same
  inputs, with a CLIP built from a ViT-B/32-shaped config (random weights: no download; the
  cost is the architecture's);
- the adapter: training time on the corpus's pairs at the model's dimension; with ``--finetune``,
  a one-epoch fine-tune of the encoder itself on the same pairs, for the cost comparison.

    python bench/images.py [--images 1000] [--size b32|tiny] [--finetune]
"""

import argparse
import io
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def digits_zip(n: int) -> bytes:
    from PIL import Image
    from sklearn.datasets import load_digits

    d = load_digits()
    names = "zero one two three four five six seven eight nine".split()
    buf, lines = io.BytesIO(), ["file,caption,label"]
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(n):
            j = i % len(d.images)
            im = Image.fromarray((d.images[j] * 255 / 16).astype(np.uint8)).resize((96, 96), Image.BILINEAR)
            out = io.BytesIO()
            im.rotate(i // len(d.images) * 7).save(out, "PNG")
            z.writestr(f"d{i:05d}.png", out.getvalue())
            lines.append(f"d{i:05d}.png,a handwritten {names[d.target[j]]} number {i},{names[d.target[j]]}")
        z.writestr("captions.csv", "\n".join(lines))
    return buf.getvalue()


def b32_clip(folder: Path) -> Path:
    """A CLIP with ViT-B/32's shape (random weights) and the tiny word-level tokenizer."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    from tests.tiny_clip import build_tiny_clip

    build_tiny_clip(folder)
    vocab = json.loads((folder / "tokenizer.json").read_text())["model"]["vocab"]
    config = CLIPConfig(text_config=dict(vocab_size=len(vocab), hidden_size=512, intermediate_size=2048,
                                         num_hidden_layers=12, num_attention_heads=8, max_position_embeddings=16,
                                         pad_token_id=0, bos_token_id=2, eos_token_id=vocab["[EOS]"]),
                        vision_config=dict(image_size=224, patch_size=32, hidden_size=768, intermediate_size=3072,
                                           num_hidden_layers=12, num_attention_heads=12), projection_dim=512)
    torch.manual_seed(0)
    CLIPModel(config).eval().save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}).save_pretrained(folder)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--size", choices=("b32", "tiny"), default="b32")
    ap.add_argument("--finetune", action="store_true", help="also time a one-epoch fine-tune of the encoder")
    args = ap.parse_args()
    import torch
    from PIL import Image

    from embeddings.images.adapter import adapt_space
    from embeddings.images.clip import encode_images, encode_texts, load_clip
    from embeddings.images.corpus import add_image_corpus, image_table, load_image
    from embeddings.store.workspace import Workspace
    from tests.tiny_clip import build_tiny_clip

    tmp = Path(tempfile.mkdtemp())
    data = digits_zip(args.images)
    ws = Workspace(tmp / "ws")
    t = time.perf_counter()
    corpus, _ = add_image_corpus(ws, "digits", "digits.zip", data)
    ours_ingest = time.perf_counter() - t
    t = time.perf_counter()                       # the raw loop: decode, keep, thumbnail, save
    out = tmp / "plain"
    out.mkdir()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for i, m in enumerate(x for x in z.infolist() if x.filename.endswith(".png")):
            im = Image.open(io.BytesIO(z.read(m))).convert("RGB")
            im.save(out / f"{i}.png")
            im.thumbnail((128, 128))
            im.save(out / f"{i}-t.png")
    plain_ingest = time.perf_counter() - t

    model_dir = b32_clip(tmp / "model") if args.size == "b32" else build_tiny_clip(tmp / "model")
    clip = load_clip(model_dir)
    table = image_table(corpus)
    sample = table.head(min(256, len(table)))
    images = [load_image(corpus, d) for d in sample["doc"]]
    texts = sample["caption"].tolist()
    encode_images(clip, images[:8])                                 # warm-up
    t = time.perf_counter()
    ours_images = encode_images(clip, images)
    ours_img_s = time.perf_counter() - t
    t = time.perf_counter()
    plain = []
    with torch.inference_mode():
        for s in range(0, len(images), 32):
            o = clip.model.get_image_features(**clip.processor(images=images[s:s + 32], return_tensors="pt"))
            plain.append((o if torch.is_tensor(o) else o.pooler_output).numpy())
    plain_img_s = time.perf_counter() - t
    plain = np.concatenate(plain)
    plain /= np.linalg.norm(plain, axis=1, keepdims=True)
    t = time.perf_counter()
    encode_texts(clip, texts)
    ours_txt_s = time.perf_counter() - t
    t = time.perf_counter()
    with torch.inference_mode():
        for s in range(0, len(texts), 64):
            clip.model.get_text_features(**clip.tokenizer(texts[s:s + 64], padding=True, return_tensors="pt"))
    plain_txt_s = time.perf_counter() - t

    from embeddings.images.spaces import add_image_space

    t = time.perf_counter()
    add_image_space(ws, "digits", str(model_dir), "space")
    space_s = time.perf_counter() - t
    t = time.perf_counter()
    adapted = adapt_space(ws, "space", "adapted")
    adapter_s = time.perf_counter() - t
    tuned = {}
    if args.finetune:
        from embeddings.images.finetune import finetune_clip

        t = time.perf_counter()
        run = finetune_clip(ws, "space", "tuned", epochs=1).provenance["customised"]
        tuned = {"finetune_seconds_all": round(time.perf_counter() - t, 1), "finetune_train_seconds": run["seconds"],
                 "finetune_steps": run["steps"], "finetune_train_pairs": run["train_pairs"],
                 "adapter_to_finetune_time": round(adapter_s / run["seconds"], 4)}
    print(json.dumps({
        "benchmark": "images",
        "images": len(table), "model": args.size, "parameters": int(sum(p.numel() for p in clip.model.parameters())),
        "ingest_seconds": round(ours_ingest, 2), "plain_pillow_seconds": round(plain_ingest, 2),
        "ingest_ratio_ours_to_plain": round(ours_ingest / plain_ingest, 2),
        "encode_sample": len(images),
        "ours_images_per_second": round(len(images) / ours_img_s, 1),
        "plain_transformers_images_per_second": round(len(images) / plain_img_s, 1),
        "image_time_ratio_ours_to_plain": round(ours_img_s / plain_img_s, 3),
        "image_vectors_min_cosine_to_plain": round(float(np.min(np.sum(ours_images * plain, axis=1))), 6),
        "text_time_ratio_ours_to_plain": round(ours_txt_s / plain_txt_s, 3),
        "whole_space_seconds": round(space_s, 1),
        "adapter_seconds": round(adapter_s, 1), "adapter_train_pairs": adapted.provenance["customised"]["train_pairs"],
        "adapter_dim": adapted.dim, **tuned,
        "cpus": os.cpu_count(),
    }, indent=1))


if __name__ == "__main__":
    main()
