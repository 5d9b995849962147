"""#26, item 4: no model folder runs code. A folder that asks for its own Python is refused in
one line, by the page's loader and by the CLI (distil, encode), before anything is imported."""

import json
import subprocess
import sys

import pytest

from embeddings.errors import InputError
from embeddings.models.sentence import LOAD_AS_DATA, load_encoder, refuse_custom_code
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
