"""Any local encoder folder (#30): a plain transformers checkpoint is wrapped with an explicit
pooling, and its vectors equal a direct computation written here."""

import json
import shutil

import numpy as np
import pytest

from embeddings.errors import InputError
from embeddings.models.hf_folder import build_encoder, default_pooling, model_card
from embeddings.models.sentence import encode, load_encoder, minilm_path

TEXTS = ["The cat sat on the mat.", "Embedding models map text to vectors.", "Python is a programming language.",
         "the cat and the dog"]


def _unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def plain_minilm(tmp_path_factory):
    """MiniLM's own weights and tokenizer, without any sentence-transformers file."""
    folder = tmp_path_factory.mktemp("plain") / "minilm-plain"
    folder.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "vocab.txt"):
        shutil.copy(minilm_path() / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def tiny_decoder(tmp_path_factory):
    """A two-layer GPT-2 with random weights and a word-level tokenizer made here (no download)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2Model, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("decoder") / "tiny-gpt2"
    words = sorted({w for t in TEXTS + ["search: find"] for w in t.lower().replace(".", " .").replace(":", " :").split()})
    vocab = {"[UNK]": 0, "<|endoftext|>": 1, **{w: i + 2 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="<|endoftext|>",
                                   model_max_length=64)
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    GPT2Model(GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=2, n_head=2,
                         bos_token_id=1, eos_token_id=1)).save_pretrained(folder)
    (folder / "LICENSE").write_text("MIT License\n\nCopyright (c) the tests\n")
    return folder


def test_a_plain_transformers_folder_with_mean_pooling_equals_sentence_transformers_minilm(plain_minilm):
    ours = encode(load_encoder(str(plain_minilm)), TEXTS)
    theirs = encode(load_encoder("minilm"), TEXTS)
    assert np.sum(_unit(ours) * _unit(theirs), axis=1).min() >= 0.9999
    card = model_card(plain_minilm, load_encoder(str(plain_minilm)))
    assert card["folder_kind"] == "transformers" and card["pooling"] == "mean" and card["dim"] == 384
    assert card["max_length"] == 512                 # its config's position embeddings (sentence-transformers' file says 256)


def test_a_decoder_only_model_pools_its_last_token_as_transformers_computes_it(tiny_decoder):
    import torch
    from transformers import AutoModel, AutoTokenizer

    assert default_pooling(json.loads((tiny_decoder / "config.json").read_text())) == "lasttoken"
    model = load_encoder(str(tiny_decoder))
    ours = encode(model, TEXTS)
    tokenizer = AutoTokenizer.from_pretrained(tiny_decoder, local_files_only=True)
    tokenizer.pad_token = tokenizer.eos_token
    net = AutoModel.from_pretrained(tiny_decoder, local_files_only=True).eval()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = net(**batch).last_hidden_state
    last = batch["attention_mask"].sum(dim=1) - 1                       # right padding: the last real token
    direct = hidden[torch.arange(len(TEXTS)), last].numpy()
    assert np.sum(_unit(ours) * _unit(direct), axis=1).min() >= 0.9999
    card = model_card(tiny_decoder, model)
    assert card["architecture"] == "GPT2Model" and card["pooling"] == "lasttoken" and card["max_length"] == 64
    assert card["parameters"] == sum(p.numel() for p in net.parameters())
    assert card["licence"] == {"file": "LICENSE", "first_line": "MIT License"}
    # a typed query prompt goes before queries only
    prompted = load_encoder(str(tiny_decoder), {"prompts": {"query": "search: "}})
    assert np.allclose(encode(prompted, ["find the cat"], role="query"), encode(model, ["search: find the cat"]),
                       atol=1e-5)
    assert np.allclose(encode(prompted, ["the cat"], role="document"), encode(model, ["the cat"]), atol=1e-5)
    assert np.allclose(encode(prompted, ["the cat"]), encode(model, ["the cat"]), atol=1e-5)
    # CLS pooling is the first token's vector, and normalisation can be turned off
    cls = build_encoder(tiny_decoder, "cls", normalise=False)
    raw = cls.encode(TEXTS, convert_to_numpy=True)
    assert np.allclose(raw, hidden[:, 0].numpy(), atol=1e-4)
    with pytest.raises(InputError, match="Unknown pooling"):
        build_encoder(tiny_decoder, "max")


def test_a_space_from_a_plain_folder_records_its_pooling_and_embeds_queries_alike(tiny_decoder, tmp_path, capsys):
    from embeddings.store.space_store import load_space
    from embeddings.store.workspace import Workspace
    from tests.conftest import run_cli

    ws = tmp_path / "ws"
    docs = tmp_path / "docs.txt"
    docs.write_text("\n".join(TEXTS))
    assert run_cli(capsys, "--workspace", ws, "corpus", "add", docs, "--lines", "--name", "d")[0] == 0
    code, out, err = run_cli(capsys, "--workspace", ws, "space", "add-pretrained", tiny_decoder, "--unit", "document",
                             "--corpus", "d", "--query-prompt", "search: ", "--name", "tiny", "--json")
    assert code == 0, err
    space = load_space(Workspace(ws), "tiny")
    p = space.provenance
    assert p["encoder"] == {"prompts": {"query": "search: "}} and p["card"]["pooling"] == "lasttoken"
    assert p["card"]["prompts"] == {"query": "search: "}
    assert np.allclose(space.embed(["the cat"]), encode(load_encoder(str(tiny_decoder)), ["the cat"]), atol=1e-5)
