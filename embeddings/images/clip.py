"""Local CLIP-family encoders: image and text features in one space, read with ``transformers``.

A folder qualifies when its ``config.json`` has both a ``text_config`` and a ``vision_config``
and its model class offers ``get_image_features`` and ``get_text_features`` (CLIP, SigLIP,
SigLIP 2, MetaCLIP 2, AltCLIP, Chinese-CLIP...). It is read as data, as every model folder is
(:func:`embeddings.store.model_folders.check_folder`, no ``auto_map``, ``trust_remote_code=False``,
local files only). Vectors are the model's own projected features, L2-normalised: the same
numbers as ``model.get_image_features(**processor(images=...))`` and
``model.get_text_features(**tokenizer(texts))``, which the tests check.

No CLIP model ships inside a PyPI package, so none is offered until the user brings a folder
(``save_pretrained`` of any CLIP or SigLIP checkpoint; the README says how).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from embeddings.errors import InputError
from embeddings.models.hf_folder import is_image_text_folder
from embeddings.progress import Progress, no_progress
from embeddings.space import normalise

IMAGE_BATCH = 32
TEXT_BATCH = 64
_lock = threading.Lock()
_loaded: dict[str, "Clip"] = {}


class Clip:
    """A loaded CLIP-family model with its tokenizer and image processor (CPU, eval mode)."""

    def __init__(self, path: Path):
        from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

        from embeddings.models.hf_folder import LOAD_AS_DATA

        self.path = path
        self.model = AutoModel.from_pretrained(str(path), **LOAD_AS_DATA).eval()
        if not (hasattr(self.model, "get_image_features") and hasattr(self.model, "get_text_features")):
            raise InputError(f"{path}: {type(self.model).__name__} has no image and text features; "
                             "choose a CLIP or SigLIP folder.")
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), **LOAD_AS_DATA)
        self.processor = AutoImageProcessor.from_pretrained(str(path), **LOAD_AS_DATA)
        config = self.model.config
        self.model_type = str(config.model_type)
        window = getattr(config.text_config, "max_position_embeddings", None) or 77
        self.window = int(min(window, getattr(self.tokenizer, "model_max_length", window) or window))
        # SigLIP was trained on texts padded to its full window; CLIP pads to the batch's longest
        self.padding = "max_length" if self.model_type.startswith("siglip") else True

    @property
    def dim(self) -> int:
        c = self.model.config
        return int(getattr(c, "projection_dim", None) or c.text_config.hidden_size)

    @property
    def image_size(self) -> int | None:
        """The side of the square the image tower reads, in pixels."""
        return int(getattr(self.model.config.vision_config, "image_size", 0) or 0) or None

    def weight_bytes(self) -> int:
        """The size of the folder's weights files (the model's size on disk)."""
        from embeddings.store.model_folders import WEIGHTS, check_folder

        return sum(f.stat().st_size for rel, f in check_folder(self.path).items() if rel.lower().endswith(WEIGHTS))

    def card(self) -> dict:
        from embeddings.models.hf_folder import model_card

        card = model_card(self.path)
        card.pop("pooling", None)              # a text encoder's reading: CLIP has its own projections
        card.pop("normalised", None)
        card.update({"folder_kind": "image-text (transformers)", "parameters":
                     int(sum(p.numel() for p in self.model.parameters())), "dim": self.dim,
                     "max_length": self.window, "image_size": self.image_size})
        return card


def _features(out) -> "np.ndarray":
    """The projected features, whichever shape this version of ``transformers`` returns."""
    tensor = out if hasattr(out, "detach") else out.pooler_output
    return tensor.detach().float().numpy()


def _inner(folder: Path) -> Path:
    """Where the model's own files are: the folder, or for a sentence-transformers CLIP folder
    (``modules.json`` naming a ``0_CLIPModel/``), the module's sub-folder."""
    import json

    if is_image_text_folder(folder) or not (folder / "modules.json").is_file():
        return folder
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return folder
    for m in modules if isinstance(modules, list) else []:
        sub = folder / str(m.get("path", "")) if isinstance(m, dict) else folder
        if sub.resolve().is_relative_to(folder.resolve()) and is_image_text_folder(sub):
            return sub
    return folder


def resolve_clip(path: str | Path) -> Path:
    """A CLIP-family folder (or a sentence-transformers folder holding one), checked and read as
    data; an InputError otherwise. Returns the folder with the model's own files."""
    from embeddings.models.sentence import refuse_custom_code
    from embeddings.store.model_folders import check_folder

    folder = Path(path).expanduser()
    check_folder(folder)
    refuse_custom_code(folder)
    inner = _inner(folder)
    if not is_image_text_folder(inner):
        raise InputError(f"{path} is not an image-text model folder (its config.json needs a text_config and a "
                         "vision_config, as CLIP's and SigLIP's have).")
    refuse_custom_code(inner)
    return inner.resolve()


def load_clip(path: str | Path) -> Clip:
    """The model of a CLIP-family folder, loaded once per process."""
    folder = resolve_clip(path)
    with _lock:
        if str(folder) not in _loaded:
            _loaded[str(folder)] = Clip(folder)
        return _loaded[str(folder)]


def forget_clip(path: str | Path) -> None:
    with _lock:
        _loaded.pop(str(Path(path).resolve()), None)


def encode_images(clip: Clip, images: list, *, batch: int = IMAGE_BATCH, progress: Progress = no_progress
                  ) -> np.ndarray:
    """Normalised image vectors of PIL images, batch by batch (progress after each)."""
    import torch

    out = np.empty((len(images), clip.dim), dtype=np.float32)
    for start in range(0, len(images), batch):
        inputs = clip.processor(images=images[start:start + batch], return_tensors="pt")
        with torch.inference_mode():
            out[start:start + batch] = normalise(_features(clip.model.get_image_features(**inputs)))
        progress(min(1.0, (start + batch) / max(1, len(images))), f"Images: {min(start + batch, len(images)):,} "
                 f"of {len(images):,}")
    return out


def encode_texts(clip: Clip, texts: list[str], *, batch: int = TEXT_BATCH, progress: Progress = no_progress
                 ) -> np.ndarray:
    """Normalised text vectors (truncated at the text tower's window), batch by batch."""
    import torch

    out = np.empty((len(texts), clip.dim), dtype=np.float32)
    for start in range(0, len(texts), batch):
        inputs = clip.tokenizer(list(texts[start:start + batch]), padding=clip.padding, truncation=True,
                                max_length=clip.window, return_tensors="pt")
        inputs.pop("token_type_ids", None)
        with torch.inference_mode():
            out[start:start + batch] = normalise(_features(clip.model.get_text_features(**inputs)))
        progress(min(1.0, (start + batch) / max(1, len(texts))), f"Texts: {min(start + batch, len(texts)):,} "
                 f"of {len(texts):,}")
    return out
