"""#26, item 4: no model folder runs code. A folder that asks for its own Python is refused in
one line, by the page's loader and by the CLI (distil, encode), before anything is imported."""

import json
import subprocess
import sys

import pytest

from embeddings.errors import InputError
from embeddings.models.hf_folder import LOAD_AS_DATA
from embeddings.models.sentence import load_encoder, refuse_custom_code
from tests.conftest import ROOT, copy_workspace


def _hostile_folder(tmp_path, marker, how: str):
    """A BERT-shaped folder whose configuration points at a module in the folder that, if
    imported, writes ``marker``."""
    folder = tmp_path / f"evil-{how}"
    folder.mkdir()
    (folder / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nclass Evil: pass\n")
    config = {"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1,
              "intermediate_size": 8, "vocab_size": 10}
    if how == "auto_map":
        config["auto_map"] = {"AutoConfig": "evil.Evil", "AutoModel": "evil.Evil"}
        (folder / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "",
                                                          "type": "sentence_transformers.models.Transformer"}]))
    else:
        (folder / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "", "type": "evil.Evil"}]))
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("how", ["auto_map", "custom module"])
def test_a_folder_asking_for_its_own_code_is_refused_and_nothing_runs(tmp_path, how):
    marker = tmp_path / "ran"
    folder = _hostile_folder(tmp_path, marker, how)
    with pytest.raises(InputError, match="asks to run its own code"):
        load_encoder(str(folder))
    assert not marker.exists()
    assert LOAD_AS_DATA == {"local_files_only": True, "trust_remote_code": False}
    refuse_custom_code(ROOT / "tests")          # a folder with no configuration: nothing to refuse


@pytest.mark.parametrize("command", [["space", "distil", "--name", "evil"],
                                     ["encode", "--corpus", "lee", "--name", "evil", "--model"]])
def test_the_cli_refuses_it_in_one_json_line_and_never_prompts(tmp_path, lee_ws, command):
    marker = tmp_path / "ran"
    folder = _hostile_folder(tmp_path, marker, "auto_map")
    ws = copy_workspace(lee_ws.root, tmp_path / "ws")
    done = subprocess.run([sys.executable, "-m", "embeddings", "--workspace", str(ws), *command, str(folder), "--json"],
                          cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert done.returncode == 2, (done.stdout, done.stderr)
    error = json.loads(done.stdout)
    assert error["kind"] == "input" and "asks to run its own code" in error["error"]
    assert "[y/N]" not in done.stdout + done.stderr and not marker.exists()


# -- #26, item 5: model folders are read as data, with limits ------------------------------------
def _bert_folder(tmp_path, name="plain"):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    return folder


@pytest.mark.parametrize("odd", ["link to /dev/zero", "link out", "fifo"])
def test_a_folder_with_a_device_a_fifo_or_a_link_out_is_refused_before_anything_is_read(tmp_path, odd):
    import os

    folder = _bert_folder(tmp_path)
    (folder / "config.json").unlink()
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    target = folder / "config.json"
    if odd == "fifo":
        os.mkfifo(target)             # a reader would wait for ever
    else:
        target.symlink_to("/dev/zero" if "zero" in odd else secret)   # read whole: memory runs out
    with pytest.raises(InputError, match="config.json") as exc:
        load_encoder(str(folder))
    assert ("regular file" if odd == "fifo" else "outside the folder") in str(exc.value)
    from embeddings.models.encode import resolve
    from embeddings.store.workspace import Workspace

    with pytest.raises(InputError, match="config.json"):      # encode's static-model probe reads config.json
        resolve(Workspace(tmp_path / "ws"), str(folder))


def test_size_limits_have_one_home_and_an_environment_override(tmp_path, monkeypatch):
    from embeddings.store.model_folders import LIMITS, check_folder

    folder = _bert_folder(tmp_path)
    (folder / "tokenizer.json").write_bytes(b"{" + b" " * (3 << 20) + b"}")    # 3 MB read whole
    (folder / "model.safetensors").write_bytes(b"\0" * (3 << 20))               # 3 MB of weights
    assert set(check_folder(folder)) == {"config.json", "tokenizer.json", "model.safetensors"}
    monkeypatch.setenv(LIMITS["text"][0], "2")
    with pytest.raises(InputError, match=r"tokenizer.json is 3 MB, over the 2 MB limit.*EMBEDDINGS_MODEL_MAX_TEXT_MB"):
        check_folder(folder)
    monkeypatch.setenv(LIMITS["text"][0], "4")
    monkeypatch.setenv(LIMITS["file"][0], "2")                                   # weights get their own limit
    with pytest.raises(InputError, match="model.safetensors is 3 MB.*weights file"):
        check_folder(folder)
    monkeypatch.setenv(LIMITS["file"][0], "4")
    monkeypatch.setenv(LIMITS["total"][0], "5")
    with pytest.raises(InputError, match="over 5 MB"):
        check_folder(folder)
    monkeypatch.setenv(LIMITS["total"][0], "lots")
    with pytest.raises(InputError, match="must be a number of MB"):
        check_folder(folder)


def test_a_copy_takes_regular_files_and_links_inside_and_refuses_a_link_out(tmp_path):
    from embeddings.store.model_folders import copy_folder

    folder = _bert_folder(tmp_path)
    (folder / "sub").mkdir()
    (folder / "sub" / "vocab.txt").write_text("a\nb\n")
    (folder / "vocab-link.txt").symlink_to(folder / "sub" / "vocab.txt")       # inside: copied as a file
    copy_folder(folder, tmp_path / "copy")
    copied = {p.relative_to(tmp_path / "copy").as_posix(): p for p in (tmp_path / "copy").rglob("*") if p.is_file()}
    assert set(copied) == {"config.json", "sub/vocab.txt", "vocab-link.txt"}
    assert not copied["vocab-link.txt"].is_symlink() and copied["vocab-link.txt"].read_text() == "a\nb\n"
    (folder / "shadow").symlink_to("/etc/passwd")
    with pytest.raises(InputError, match="shadow is a link to outside"):
        copy_folder(folder, tmp_path / "copy2")
    assert not (tmp_path / "copy2").exists()                                      # checked before a byte is copied


def test_the_allow_list_answers_alike_for_a_path_that_exists_and_one_that_does_not(tmp_path, monkeypatch):
    from embeddings.store.model_folders import ALLOW_ENV, NOT_ALLOWED, confine

    allowed = _bert_folder(tmp_path, "offered")
    assert confine("/etc") == "/etc"                                              # no list: the path is checked later
    monkeypatch.setenv(ALLOW_ENV, str(tmp_path / "offered"))
    assert confine(str(allowed)) == str(allowed)
    for path in ("/etc", "/no/such/folder", str(allowed / ".." / ".." )):
        with pytest.raises(InputError) as exc:
            confine(path)
        assert str(exc.value) == f"{path} {NOT_ALLOWED}"


def test_encode_takes_the_apps_own_distilled_folder_by_path_as_by_name(demo_ws):
    """#26, break 10: the folder of a distilled space (model2vec writes a modules.json beside
    its config) was loaded as a sentence encoder and failed with an OverflowError."""
    import numpy as np

    from embeddings.store.space_store import load_space

    static = next(a for a in demo_ws.list("space") if a.params.get("family") == "model2vec")
    out = {}
    for how, model in (("path", str(static.path / "model")), ("name", static.name)):
        done = subprocess.run([sys.executable, "-m", "embeddings", "--workspace", str(demo_ws.root), "encode",
                               "--corpus", "lee", "--name", f"by-{how}", "--model", model, "--unit", "document",
                               "--limit", "20", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (done.stdout, done.stderr)
        out[how] = load_space(demo_ws, f"by-{how}")
        assert out[how].family == "model2vec"
    np.testing.assert_allclose(out["path"].vectors, out["name"].vectors, atol=1e-6)
