"""Fine-tuning a CLIP-family encoder on the corpus's own (image, caption) pairs.

sentence-transformers (6.x) reads a CLIP or SigLIP folder natively (one ``Transformer`` module
with an image and a text modality), so its trainer does the work: the pairs as a dataset of
PIL images and captions, **MultipleNegativesSymmetricRankingLoss** (CLIP's own objective: each
image against the batch's captions and each caption against its images), a batch sampler that
never puts one caption twice in a batch (a shared caption would be a false negative), full
batches only (a last batch of one pair has nothing to be contrasted with, and a loss of 0), progress
at every step and Cancel between steps. The encoder's weights change: every row of the space is
encoded again with the tuned model, which is kept in the space's folder.

The split is :func:`embeddings.images.adapter.split_pairs`'s (by caption), so *Before and after*
(:func:`embeddings.images.adapter.adapter_before_after`) reads a fine-tune as it reads an adapter.
At most :data:`MAX_PAIRS` training pairs are used (sampled, stated in the run), each image
reduced to twice the model's input size first: memory is bounded whatever the corpus.
"""

from __future__ import annotations

import time

import numpy as np

from embeddings.errors import InputError
from embeddings.progress import Progress, no_progress, stage
from embeddings.space import EmbeddingSpace
from embeddings.store.workspace import Workspace

from .adapter import HOLD_OUT, split_pairs
from .spaces import CUSTOMISED, clip_embedder, is_image_space, with_embedder

EPOCHS = 2
BATCH = 32
LEARNING_RATE = 1e-5
MAX_PAIRS = 2000


def finetune_clip(ws: Workspace, base: str, name: str, *, epochs: int = EPOCHS, batch: int = BATCH,
                  learning_rate: float = LEARNING_RATE, hold_out: float = HOLD_OUT, seed: int = 0,
                  progress: Progress = no_progress) -> EmbeddingSpace:
    """Fine-tune ``base``'s model on its corpus's training pairs and save the re-encoded space."""
    from datasets import Dataset
    from PIL import Image
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesSymmetricRankingLoss
    from transformers.trainer_callback import PrinterCallback

    from embeddings.models.finetune import _Reporter
    from embeddings.models.hf_folder import LOAD_AS_DATA
    from embeddings.store.space_store import load_space, save_space
    from embeddings.text.corpus import get_corpus

    from .bench import pairs_of
    from .clip import encode_texts, forget_clip, load_clip
    from .corpus import load_image
    from .spaces import images_in_batches, model_folder

    name = ws.check_new_name("space", name)
    space = load_space(ws, base)
    if not is_image_space(space) or space.provenance.get(CUSTOMISED):
        raise InputError(f"{space.name} is not an image-text space made by a model (fine-tune the space the model made).")
    corpus = get_corpus(ws, space.provenance["corpus_id"])
    train, held = split_pairs(pairs_of(space, corpus), space, hold_out=hold_out, seed=seed)
    available = len(train)
    if available > MAX_PAIRS:
        train = train.sample(MAX_PAIRS, random_state=seed).reset_index(drop=True)
    distinct = int(train["caption_row"].nunique())
    asked = batch
    batch = min(batch, distinct)            # a batch never holds one caption twice (a false negative)
    if batch < 2 or len(train) < 2 * batch:
        raise InputError(f"{len(train)} training pairs with {distinct} distinct captions; fine-tuning needs at least "
                         "two batches of two or more different captions.")
    base_model = model_folder(ws.get("space", space.id).path, space.provenance)
    side = 2 * (load_clip(base_model).image_size or 224)
    progress(0.0, "Reading the training images")
    images = []
    for doc in train["doc"]:
        im = load_image(corpus, int(doc))
        im.thumbnail((side, side), Image.Resampling.BICUBIC)
        images.append(im)
    captions = [space.labels[r] for r in train["caption_row"]]
    dataset = Dataset.from_dict({"image": images, "caption": captions})
    started = time.perf_counter()
    with ws.scratch("clip-finetune") as work:
        model = SentenceTransformer(base_model, device="cpu", **LOAD_AS_DATA)
        args = SentenceTransformerTrainingArguments(
            output_dir=str(work / "trainer"), num_train_epochs=epochs, per_device_train_batch_size=batch,
            learning_rate=learning_rate, warmup_steps=0.1, seed=seed, data_seed=seed, logging_steps=1,
            save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=True, dataloader_num_workers=0,
            batch_sampler=BatchSamplers.NO_DUPLICATES, dataloader_drop_last=True)   # in-batch negatives: full batches
        reporter = _Reporter(stage(progress, 0.02, 0.7, "Training: "))
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset,
                                             loss=MultipleNegativesSymmetricRankingLoss(model),
                                             callbacks=[reporter.callback])
        trainer.remove_callback(PrinterCallback)      # it prints every log to stdout (--json owns stdout)
        state = trainer.train()
        seconds = time.perf_counter() - started
        if not state.global_step or not reporter.losses:
            raise InputError(f"No batch of {batch} pairs with distinct images and captions could be formed from the "
                             f"{len(train):,} training pairs (many are repeated); lower the batch size.")
        tuned_dir = work / "model"
        model.save_pretrained(str(tuned_dir))
        del model, trainer
        tuned = load_clip(tuned_dir)
        try:
            is_image = (space.meta["modality"] == "image").to_numpy()
            vectors = np.empty((len(space), tuned.dim), dtype=np.float32)
            docs = space.meta.loc[is_image, "doc"].astype(int).tolist()
            vectors[is_image] = images_in_batches(tuned, corpus, docs, stage(progress, 0.7, 0.93, "Encoding: "))
            vectors[~is_image] = encode_texts(tuned, [space.labels[i] for i in np.flatnonzero(~is_image)],
                                              progress=stage(progress, 0.93, 0.97, "Encoding texts: "))
        finally:
            forget_clip(tuned_dir)
        run = {"base": space.name, "base_id": space.id, "method": "finetune",
               "kind": "fine-tuned encoder (sentence-transformers trainer, symmetric MNRL)", "split": "by caption",
               "train_pairs": len(train), "train_pairs_available": available, "held_out_pairs": len(held),
               "held_out_docs": sorted(int(d) for d in held["doc"]),
               "train_docs": sorted(int(d) for d in train["doc"]), "epochs": epochs, "batch_size": batch,
               "batch_size_asked": asked,
               "steps": int(state.global_step), "learning_rate": learning_rate, "seed": seed,
               "loss_curve": [[s, round(v, 6)] for s, v in reporter.losses], "seconds": round(seconds, 3)}
        provenance = {**{k: v for k, v in space.provenance.items() if k != "created_at"},
                      CUSTOMISED: run, "parent": space.id, "model_path": base_model}
        tuned_space = EmbeddingSpace.from_arrays(name, space.labels, vectors, normalised=True, meta=space.meta,
                                                 provenance=provenance,
                                                 embedder=clip_embedder(work, provenance))
        progress(0.98, "Saving")
        saved = save_space(ws, tuned_space, name, extra_dirs={"model": tuned_dir})
    progress(1.0, "Saved")
    return with_embedder(ws, saved)

