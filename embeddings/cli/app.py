"""``app``: serve the app (what ``make run`` does, for an installed package)."""

from __future__ import annotations

import os
import sys

from embeddings.resources import app_dir
from embeddings.store.workspace import ENV_VAR, default_root

PORT = 8501


def config_flags(folder) -> list[str]:
    """The app's ``.streamlit/config.toml`` as command-line flags. ``make run`` serves from the
    checkout, where Streamlit reads the file itself; an installed package runs from anywhere,
    so its copy is passed here: no usage statistics, loopback, the upload limit, no traceback."""
    import tomllib

    path = folder / ".streamlit" / "config.toml"
    config = tomllib.loads(path.read_text()) if path.is_file() else {}
    return [f"--{section}.{key}={str(value).lower() if isinstance(value, bool) else value}"
            for section, values in config.items() for key, value in values.items()]


def app_command(args) -> list[str]:
    """The ``streamlit run`` command line that serves the app."""
    command = [sys.executable, "-m", "streamlit", "run", str(app_dir() / "app.py"), *config_flags(app_dir()),
               "--server.port", str(args.port)]
    if args.host:
        command += ["--server.address", args.host]
    return command


def cmd_app(ws, args) -> None:
    """Replace this process with Streamlit's server; the app starts the demo's builder itself
    when the workspace has no demo yet."""
    env = {**os.environ, ENV_VAR: os.path.abspath(args.workspace or default_root())}
    env.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")       # as make run: see embeddings/__init__.py
    os.execve(sys.executable, app_command(args), env)


cmd_app.needs_workspace = False     # the app opens (and creates) the workspace itself


def register(sub) -> None:
    p = sub.add_parser("app", help="serve the app in the browser (as make run does)")
    p.add_argument("--port", type=int, default=PORT)
    p.add_argument("--host", help="the address to listen on (default: Streamlit's)")
    p.set_defaults(func=cmd_app)
