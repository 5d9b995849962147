"""A tiny CLIP built from a config, with random weights and a word-level tokenizer made here:
no download. Used by the image tests (and by hand: ``python -m tests.tiny_clip FOLDER``)."""

from __future__ import annotations

import sys
from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[BOS]", "[UNUSED]", "[EOS]"]     # EOS is not id 2 (CLIP's legacy argmax rule)
WORDS = ("a an the of photo picture handwritten digit zero one two three four five six seven eight nine "
         "temple flower chinese cat dog red blue image").split()


def build_tiny_clip(folder: Path | str, *, seed: int = 0, words: list[str] | None = None) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, PreTrainedTokenizerFast

    folder = Path(folder)
    vocab = {t: i for i, t in enumerate(SPECIAL + sorted(set(words or WORDS)))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[BOS] $A [EOS]", special_tokens=[("[BOS]", vocab["[BOS]"]), ("[EOS]", vocab["[EOS]"])])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", bos_token="[BOS]",
                                   eos_token="[EOS]", model_max_length=16, do_lower_case=True)
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=16, pad_token_id=0, bos_token_id=2,
                         eos_token_id=vocab["[EOS]"]),
        vision_config=dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                           num_attention_heads=4),
        projection_dim=24)
    torch.manual_seed(seed)
    model = CLIPModel(config).eval()
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


if __name__ == "__main__":
    print(build_tiny_clip(sys.argv[1], seed=int(sys.argv[2]) if len(sys.argv) > 2 else 0))
