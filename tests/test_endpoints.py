"""Endpoints (#30): ``serve`` answers in OpenAI's format, and the endpoint client, run against
it on loopback, gets the in-process vectors back; remote hosts need the user's confirmation,
the key is never written, 429s are retried, a killed run resumes and Cancel is heard."""

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest

from embeddings.errors import Cancelled, InputError
from embeddings.models.endpoint import EndpointSpec, add_endpoint, cache_folder, check, embed_texts, estimate
from embeddings.serve import LIMITS, create_app, servable
from embeddings.store.space_store import load_space
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import add_corpus, get_corpus
from embeddings.text.samples import SAMPLES
from tests.conftest import ROOT, _free_port

#: one worker runs the module: its served model loads once
pytestmark = pytest.mark.xdist_group("endpoints")

KEY = "sk-test-0f1e2d3c4b5a69788796a5b4"


class Gate:
    """A wrapper around the served app: counts requests, records their key, answers 429 the
    first ``refuse`` times, and waits ``delay`` seconds before each answer."""

    def __init__(self, app):
        self.app, self.requests, self.keys, self.refuse, self.delay, self.retry_after = app, 0, [], 0, 0.0, "0"

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/v1/embeddings":
            self.requests += 1
            self.keys.append(dict(scope["headers"]).get(b"authorization", b"").decode())
            if self.refuse > 0:
                self.refuse -= 1
                await send({"type": "http.response.start", "status": 429,
                            "headers": [(b"retry-after", self.retry_after.encode()), (b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": b'{"error": {"message": "slow down"}}'})
                return
            if self.delay:
                import asyncio

                await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A workspace with 30 of Lee's documents and MiniLM over its terms (it embeds any text),
    served on a free loopback port for the module."""
    import uvicorn

    from embeddings.models import add_pretrained

    ws = Workspace(tmp_path_factory.mktemp("endpoints") / "ws")
    add_corpus(ws, "lee30", documents=SAMPLES["lee"].load()[:30])
    add_pretrained(ws, "minilm", "mini", corpus="lee30", unit="term", top=50)
    space, embed = servable(ws, "mini")
    gate = Gate(create_app(space, embed))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(gate, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield ws, gate, f"http://127.0.0.1:{port}/v1", embed
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def gate(served):
    g = served[1]
    g.requests, g.keys, g.refuse, g.delay, g.retry_after = 0, [], 0, 0.0, "0"
    return g


def test_the_client_gets_the_in_process_vectors_back_from_serve(served, gate, monkeypatch, no_network):
    ws, _, url, embed = served
    monkeypatch.setenv("EE_TEST_KEY", KEY)
    spec = EndpointSpec(url=url, model="mini", key_env="EE_TEST_KEY", batch_size=8, price_per_million=0.02)
    assert estimate(ws, spec, "lee30")["batches"] == 4
    space = add_endpoint(ws, spec, "via-endpoint", corpus="lee30")
    texts = get_corpus(ws, "lee30").documents()["text"].tolist()
    direct = np.asarray(embed(texts), dtype=np.float64)
    got = np.asarray(space.vectors, dtype=np.float64)
    cos = np.sum(got * direct, axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(direct, axis=1)
    assert cos.min() >= 0.9999
    assert gate.requests == 4 and set(gate.keys) == {f"Bearer {KEY}"}
    p = load_space(ws, "via-endpoint").provenance["endpoint"]
    assert p["host"] == "127.0.0.1" and p["remote"] is False and p["key_env"] == "EE_TEST_KEY"
    assert p["tokens_estimated"] == -(-sum(len(t) for t in texts) // 4)
    # the key is in no file the workspace wrote
    for path in ws.root.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    # a query goes through the same endpoint
    reloaded = load_space(ws, "via-endpoint")
    assert reloaded.can_embed and np.allclose(reloaded.embed(["bushfires near Sydney"]),
                                              embed(["bushfires near Sydney"]), atol=1e-5)
    models = httpx.get(f"{url}/models").json()
    assert models["data"][0]["id"] == "mini" and models["data"][0]["dimensions"] == 384


def test_serve_refuses_oversize_and_malformed_requests_with_one_message(served, gate):
    ws, _, url, _ = served
    post = lambda body: httpx.post(f"{url}/embeddings", content=body, headers={"Content-Type": "application/json"})
    import json

    too_many = post(json.dumps({"input": ["a"] * (LIMITS.inputs + 1)}))
    assert too_many.status_code == 413 and f"the limit is {LIMITS.inputs:,}" in too_many.json()["error"]["message"]
    too_long = post(json.dumps({"input": "x" * (LIMITS.characters + 1)}))
    assert too_long.status_code == 413 and "characters" in too_long.json()["error"]["message"]
    assert post(b"{not json").status_code == 400
    assert post(json.dumps({"input": [1, 2]})).status_code == 400
    assert post(json.dumps({"input": "a", "model": "other"})).status_code == 404
    assert httpx.get(f"{url}/nothing").status_code == 404
    from embeddings.models import train_space

    train_space(ws, "lee30", "word2vec", "w2v", dim=8, epochs=1, min_count=1)
    with pytest.raises(InputError, match="cannot be served"):
        servable(ws, "w2v")


def test_a_remote_host_needs_its_name_confirmed_and_a_url_holds_no_secret():
    with pytest.raises(InputError, match="api.example.com is not this machine.*--confirm-host api.example.com"):
        check(EndpointSpec(url="https://api.example.com/v1", model="m"))
    check(EndpointSpec(url="https://api.example.com/v1", model="m", confirmed_host="api.example.com"))
    with pytest.raises(InputError, match="not this machine"):
        check(EndpointSpec(url="https://api.example.com/v1", model="m", confirmed_host="other.example.com"))
    with pytest.raises(InputError, match="no credentials"):
        check(EndpointSpec(url="http://user:pw@127.0.0.1:9/v1", model="m"))
    with pytest.raises(InputError, match="EE_MISSING is not set"):
        check(EndpointSpec(url="http://127.0.0.1:9/v1", model="m", key_env="EE_MISSING"))
    public = EndpointSpec(url="http://127.0.0.1:9/v1/", model="m", key_env="K").public()
    assert public["url"] == "http://127.0.0.1:9/v1/" and "K" == public["key_env"]


def test_429s_are_retried_and_cancel_is_heard_during_a_wait(served, gate):
    ws, _, url, _ = served
    spec = EndpointSpec(url=url, model="mini", batch_size=16)
    gate.refuse = 2
    vectors, stats = embed_texts(spec, ["one text", "another text"])
    assert vectors.shape == (2, 384) and gate.requests == 3          # two 429s, then the answer
    gate.refuse, gate.retry_after = 5, "20"
    start = time.monotonic()

    def progress(fraction, message):
        if time.monotonic() - start > 0.5:
            raise Cancelled("stopped")

    with pytest.raises(Cancelled):
        embed_texts(spec, ["a text"], progress=progress)
    assert time.monotonic() - start < 2.0                              # heard within the 20 s wait


def test_a_killed_run_resumes_sending_only_what_was_not_answered(served, gate):
    ws, _, url, _ = served
    gate.delay = 0.4
    spec = EndpointSpec(url=url, model="mini", batch_size=3)
    folder = cache_folder(ws, spec, get_corpus(ws, "lee30").id, "document")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "embeddings", "--workspace", str(ws.root), "space", "add-endpoint",
                             "--url", url, "--model", "mini", "--corpus", "lee30", "--batch-size", "3", "--name",
                             "resumed", "--quiet"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(folder.glob("0*.npy"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    kept = len([f for f in folder.glob("0*.npy") if not f.name.endswith(".part.npy")])
    assert 3 <= kept < 10
    gate.requests, gate.delay = 0, 0.0
    space = add_endpoint(ws, spec, "resumed", corpus="lee30")
    assert gate.requests == 10 - kept and len(space) == 30             # only the batches not yet answered
    assert not folder.exists()                                          # the space holds the vectors now


def test_the_models_page_adds_a_space_from_an_endpoint_and_asks_before_a_remote_host(served, gate, monkeypatch):
    from streamlit.testing.v1 import AppTest

    ws, _, url, _ = served
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(ws.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("pages/models.py").run()
    assert not at.exception, at.exception
    at.text_input(key="ep_url").input("https://api.example.com/v1").run()
    at.text_input(key="ep_model").input("m").run()
    assert any("api.example.com" in w.value and "would be sent there" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "ep_btn"]                # nothing to press before confirming
    at.checkbox(key="ep_confirm_api.example.com").check().run()
    assert any("batches to api.example.com" in c.value for c in at.caption)
    assert gate.requests == 0                                              # an estimate sends nothing
    at.text_input(key="ep_url").input(url).run()
    at.text_input(key="ep_model").input("mini").run()
    at.text_input(key="ep_name").input("from-page").run()
    at.button(key="ep_btn").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert load_space(ws, "from-page").provenance["endpoint"]["host"] == "127.0.0.1" and gate.requests > 0


def test_the_serve_command_listens_on_loopback_and_warns_for_another_host(served, monkeypatch, capsys):
    import uvicorn

    from tests.conftest import run_cli

    ws = served[0]
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    code, out, err = run_cli(capsys, "--workspace", ws.root, "serve", "mini")
    assert code == 0 and calls[-1]["host"] == "127.0.0.1" and "WARNING" not in err
    assert "Serving mini (384 dimensions) at http://127.0.0.1:8765/v1/embeddings" in err
    code, out, err = run_cli(capsys, "--workspace", ws.root, "serve", "mini", "--host", "0.0.0.0", "--port", "9001")
    assert code == 0 and calls[-1]["host"] == "0.0.0.0" and calls[-1]["port"] == 9001
    assert "WARNING: serving mini on 0.0.0.0: other machines can send it text" in err
    code, out, err = run_cli(capsys, "--workspace", ws.root, "space", "add-endpoint", "--url", "https://api.example.com",
                             "--model", "m", "--corpus", "lee30", "--name", "x", "--estimate")
    assert code == 2 and "--confirm-host api.example.com" in err
    code, out, err = run_cli(capsys, "--workspace", ws.root, "space", "add-endpoint", "--url", "https://api.example.com",
                             "--model", "m", "--corpus", "lee30", "--name", "x", "--estimate", "--confirm-host",
                             "api.example.com", "--price", "0.02", "--json")
    import json

    e = json.loads(out)
    assert code == 0 and e["texts"] == 30 and e["host"] == "api.example.com" and e["cost_estimated_usd"] is not None
