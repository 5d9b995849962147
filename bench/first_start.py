"""First start (issue #27): ``make run`` on a fresh workspace, as a user types it, timed. Prints JSON.

Measures, from the moment ``make run`` is typed: the Home page rendered in Chromium (its
script's run over), the news corpus with Word2Vec and GloVe usable (the demo's first stages),
and the whole demo built. Also the terminal as the user sees it: the longest silence between
two lines once the server is up, and whether the demo's percentage ever went back.

Targets on a quiet 2-core machine: Home in at most 30 s, the first stages in at most 60 s, the
whole demo in at most 6 minutes.

``--clone`` runs it on a fresh clone of this repository instead (a new ``.venv``: the
install's time is then measured too, as ``install_seconds``); ``--sample-docs N`` sets the
demo's budget of labelled documents (default: the whole sample, as ``make run``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TARGETS = {"home_seconds": 30, "first_stages_seconds": 60, "demo_seconds": 360}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _home_rendered(port: int, deadline: float) -> float:
    """Seconds (monotonic clock) at which Home's run is over in Chromium; loopback only."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).hostname in
                      ("127.0.0.1", "localhost", None, "") else r.abort())
        pg = context.new_page()
        while True:
            try:
                pg.goto(f"http://127.0.0.1:{port}/", timeout=5000)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        pg.get_by_text("Embedding Explorer").first.wait_for(timeout=120_000)
        pg.wait_for_function("() => document.querySelector('[data-test-script-state]')?.getAttribute("
                             "'data-test-script-state') === 'notRunning'", timeout=120_000, polling=50)
        at = time.monotonic()
        browser.close()
        return at


def main() -> None:
    from embeddings.demo import BY_KEY, FIRST_STAGES, SAMPLE_DOCS_ENV
    from embeddings.demo.run import read_status
    from embeddings.store.workspace import Workspace

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clone", action="store_true", help="on a fresh clone (install included)")
    parser.add_argument("--sample-docs", type=int, help="the demo's labelled documents (default: all)")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="first-start-"))
    repo = ROOT
    if args.clone:
        repo = tmp / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    root, port = tmp / "ws", _free_port()
    env = {**os.environ, "EMBEDDINGS_WORKSPACE": str(root), "EMBEDDINGS_DEMO": "background",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "PYTHONUNBUFFERED": "1"}
    env.pop(SAMPLE_DOCS_ENV, None)
    if args.sample_docs:
        env[SAMPLE_DOCS_ENV] = str(args.sample_docs)
    lines: list[tuple[float, str]] = []
    t0, wall0 = time.monotonic(), time.time()
    make = subprocess.Popen(["make", "-s", "run", f"PORT={port}"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def read():
        for line in make.stdout:
            lines.append((time.monotonic(), line.rstrip()))
    threading.Thread(target=read, daemon=True).start()
    out: dict = {"sample_docs": args.sample_docs or "all", "fresh_clone": args.clone}
    try:
        # the server answers once the install (if any) is done: the install ends at its first line
        while not any("URL:" in text for _, text in lines):
            if make.poll() is not None or time.monotonic() - t0 > args.timeout:
                raise RuntimeError("make run did not serve:\n" + "\n".join(t for _, t in lines[-30:]))
            time.sleep(0.1)
        served = next(t for t, text in lines if "URL:" in text)
        base = t0     # with the dependencies installed, the clock starts when make run is typed
        if args.clone:  # else when the install ends (make touches .venv/.installed)
            base = t0 + (os.path.getmtime(repo / ".venv" / ".installed") - wall0)
            out["install_seconds"] = round(base - t0, 1)
        home = _home_rendered(port, time.monotonic() + 120)
        ws = Workspace(root)
        first_stages = None
        while True:
            now = time.monotonic()
            if first_stages is None and all(BY_KEY[k].done(ws) for k in FIRST_STAGES):
                first_stages = now
            status = read_status(ws)
            if status is not None and status.finished:
                break
            if now - t0 > args.timeout or make.poll() is not None:
                raise RuntimeError("the demo did not finish:\n" + "\n".join(t for _, t in lines[-30:]))
            time.sleep(0.25)
        done = time.monotonic()
        out.update({
            "server_up_seconds": round(served - base, 1),
            "home_seconds": round(home - base, 1),
            "first_stages_seconds": round(first_stages - base, 1),
            "demo_seconds": round(done - base, 1),
            "stages_failed": [s.title for s in status.stages if s.state != "done"],
            "stage_seconds": {s.key: s.seconds for s in status.stages},
        })
        after = [(t, text) for t, text in lines if t >= served]
        gaps = [b[0] - a[0] for a, b in zip(after, after[1:])]
        out["longest_silence_seconds"] = round(max(gaps, default=0.0), 1)
        percents = [int(m.group(1)) for _, text in after if (m := re.match(r"\[demo\s+(\d+)%\]", text))]
        out["percent_never_went_back"] = all(b >= a for a, b in zip(percents, percents[1:]))
        out["targets"] = TARGETS
        out["met"] = {k: out[k] <= v for k, v in TARGETS.items()}
    finally:
        os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
