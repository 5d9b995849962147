"""Customising an image-text space on the corpus's own (image, caption) pairs.

What is trained is an **adapter on frozen vectors**, stated as such everywhere it shows: two
linear maps, one for image vectors and one for text vectors, initialised to the identity and
trained with CLIP's symmetric contrastive loss (InfoNCE over the batch, captions shared by
several images counted as positives of each), plus a pull towards the identity so that a small
corpus cannot move the space far. The encoder's weights do not change, so it trains in seconds
on a CPU whatever the model's size, and a new text or image goes through the model and then its map.

The pairs are split **by caption**: every image sharing a caption goes to the same side, so no
held-out image *and* no held-out caption text is ever trained on. *Before and after* scores the
base and the adapted space on the held-out pairs only, both directions, paired over queries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from embeddings.errors import InputError
from embeddings.progress import Progress, no_progress, stage
from embeddings.space import EmbeddingSpace
from embeddings.store.workspace import Workspace

from .spaces import ADAPTER_FILES, CUSTOMISED, adapt, clip_embedder, is_image_space, with_embedder

HOLD_OUT = 0.3
EPOCHS = 60
BATCH = 128
LEARNING_RATE = 2e-3
TEMPERATURE = 0.05
#: weight of ‖W − I‖² in the loss (keeps the maps near the identity on a small corpus)
ANCHOR = 0.1


def split_pairs(pairs: pd.DataFrame, space: EmbeddingSpace, *, hold_out: float = HOLD_OUT, seed: int = 0
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, held out) pairs, grouped by caption so a caption never crosses the split."""
    from sklearn.model_selection import GroupShuffleSplit

    groups = pairs["caption_row"].to_numpy()
    if len(np.unique(groups)) < 3:
        raise InputError(f"Adapting needs at least 3 distinct captions (this corpus has {len(np.unique(groups))}): "
                         "a held-out caption must never be trained on.")
    train, test = next(GroupShuffleSplit(1, test_size=hold_out, random_state=seed).split(pairs, groups=groups))
    return pairs.iloc[train].reset_index(drop=True), pairs.iloc[test].reset_index(drop=True)


def train_adapter(images: np.ndarray, texts: np.ndarray, caption_ids: np.ndarray, *, epochs: int = EPOCHS,
                  seed: int = 0, progress: Progress = no_progress) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The two maps (d × d) and the mean loss of each epoch, from paired rows."""
    import torch

    torch.manual_seed(seed)
    d = images.shape[1]
    wi = torch.nn.Parameter(torch.eye(d))
    wt = torch.nn.Parameter(torch.eye(d))
    opt = torch.optim.Adam([wi, wt], lr=LEARNING_RATE)
    X, T = torch.from_numpy(images), torch.from_numpy(texts)
    ids = torch.from_numpy(caption_ids.astype(np.int64))
    eye = torch.eye(d)
    rng = np.random.default_rng(seed)
    curve: list[float] = []
    for epoch in range(epochs):
        order = rng.permutation(len(X))
        total, batches = 0.0, 0
        for start in range(0, len(order), BATCH):
            b = torch.from_numpy(order[start:start + BATCH])
            if len(b) < 2:
                continue
            xi = torch.nn.functional.normalize(X[b] @ wi, dim=1)
            xt = torch.nn.functional.normalize(T[b] @ wt, dim=1)
            logits = xi @ xt.T / TEMPERATURE
            same = (ids[b][:, None] == ids[b][None, :]).float()
            target = same / same.sum(dim=1, keepdim=True)
            loss = 0.5 * (torch.sum(-target * torch.log_softmax(logits, dim=1), dim=1).mean()
                          + torch.sum(-target * torch.log_softmax(logits.T, dim=1), dim=1).mean())
            loss = loss + ANCHOR * (((wi - eye) ** 2).sum() + ((wt - eye) ** 2).sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, batches = total + loss.item(), batches + 1
        curve.append(total / max(1, batches))
        progress((epoch + 1) / epochs, f"Epoch {epoch + 1} of {epochs}, loss {curve[-1]:.4f}")
    return wi.detach().numpy().astype(np.float32), wt.detach().numpy().astype(np.float32), curve


def adapt_space(ws: Workspace, base: str, name: str, *, epochs: int = EPOCHS, hold_out: float = HOLD_OUT,
                seed: int = 0, progress: Progress = no_progress) -> EmbeddingSpace:
    """Train an adapter on the pairs of ``base``'s image corpus and save the adapted space."""
    from embeddings.store.space_store import load_space, save_space
    from embeddings.text.corpus import get_corpus

    from .bench import pairs_of

    name = ws.check_new_name("space", name)
    space = load_space(ws, base)
    if not is_image_space(space) or space.provenance.get(CUSTOMISED):
        raise InputError(f"{space.name} is not an image-text space made by a model (adapt the space the model made).")
    corpus = get_corpus(ws, space.provenance["corpus_id"])
    pairs = pairs_of(space, corpus)
    train, held = split_pairs(pairs, space, hold_out=hold_out, seed=seed)
    started = time.perf_counter()
    v = np.asarray(space.vectors)
    wi, wt, curve = train_adapter(v[train["image_row"]], v[train["caption_row"]], train["caption_row"].to_numpy(),
                                  epochs=epochs, seed=seed, progress=stage(progress, 0.0, 0.95, "Training: "))
    is_image = (space.meta["modality"] == "image").to_numpy()
    vectors = np.empty_like(v)
    vectors[is_image], vectors[~is_image] = adapt(v[is_image], wi), adapt(v[~is_image], wt)
    run = {"base": space.name, "base_id": space.id, "method": "adapter", "kind": "linear adapter on frozen vectors",
           "split": "by caption", "train_pairs": len(train), "held_out_pairs": len(held),
           "held_out_docs": sorted(int(d) for d in held["doc"]), "train_docs": sorted(int(d) for d in train["doc"]),
           "epochs": epochs, "learning_rate": LEARNING_RATE, "temperature": TEMPERATURE, "anchor": ANCHOR,
           "seed": seed, "loss_curve": [[i + 1, round(x, 6)] for i, x in enumerate(curve)],
           "seconds": round(time.perf_counter() - started, 3)}
    provenance = {**{k: v_ for k, v_ in space.provenance.items() if k not in ("created_at",)},
                  CUSTOMISED: run, "parent": space.id}
    adapted = EmbeddingSpace.from_arrays(name, space.labels, vectors, normalised=True, meta=space.meta,
                                         provenance=provenance, embedder=clip_embedder(None, provenance, (wi, wt)))
    progress(0.97, "Saving")
    saved = save_space(ws, adapted, name, extra_files=dict(zip(ADAPTER_FILES, (wi, wt))))
    progress(1.0, "Saved")
    return with_embedder(ws, saved)


@dataclass
class AdapterBeforeAfter:
    adapted: str
    base: str
    per_space: dict                  #: {space: {direction: per-query frame}} on the held-out pairs
    differences: list                #: adapted − base per direction (Difference)
    run: dict

    def to_dict(self) -> dict:
        return {"adapted": self.adapted, "base": self.base, "run": {k: v for k, v in self.run.items()
                                                                    if not k.endswith("_docs")},
                "scores": {s: {d: f[["Recall@1", "Recall@5", "Recall@10", "nDCG@10"]].mean().to_dict()
                               for d, f in frames.items()} for s, frames in self.per_space.items()},
                "differences": [d.row() for d in self.differences]}


def adapter_before_after(ws: Workspace, adapted: str) -> AdapterBeforeAfter:
    """Base against a customised space (adapted, or fine-tuned by :mod:`.finetune`) on the
    held-out pairs (never trained on), both directions."""
    from embeddings.store.space_store import load_space
    from embeddings.text.corpus import get_corpus

    from .bench import cross_modal, differences

    space = load_space(ws, adapted)
    run = space.provenance.get(CUSTOMISED)
    if not run:
        raise InputError(f"{space.name} is not an image-text space customised on its pairs.")
    base = load_space(ws, run["base_id"])
    corpus = get_corpus(ws, space.provenance["corpus_id"])
    held = run["held_out_docs"]
    per_space = {space.name: cross_modal(space, corpus, held), base.name: cross_modal(base, corpus, held)}
    return AdapterBeforeAfter(space.name, base.name, per_space, differences(per_space), run)

