"""The project as a package (#28, item 5): the wheel builds, installs without its
dependencies into a scratch venv that sees this venv's packages, gives the
``embedding-explorer`` command, and carries the app inside the package (no top-level
``app`` or ``pages``), which then opens from the installed copy."""

import subprocess
import sys
import sysconfig
import textwrap
import zipfile

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("package")
    # the build backend is a test extra (requirements-dev.txt): no download while the suite runs
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(ROOT),
                    "-w", str(tmp / "dist")], check=True, timeout=600)
    wheel = next((tmp / "dist").glob("embedding_explorer-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # this venv's packages come after the scratch venv's own (a .pth line is appended to sys.path)
    (tmp / "venv" / site.split(str(venv) + "/", 1)[1] / "_test_venv.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, timeout=300)
    return wheel, venv, tmp


def run(venv, tmp, *args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, cwd=tmp, timeout=300,
                          env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp), "EMBEDDINGS_DEMO": "off"},
                          **kwargs)


def test_the_wheel_holds_the_package_alone(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"embeddings", "embedding_explorer-0.1.0.dist-info"}
    assert {"embeddings/app/app.py", "embeddings/app/pages/bias.py", "embeddings/app/pages/ui/options.py",
            "embeddings/app/.streamlit/config.toml",
            "embeddings/app/data/wordsets/weat_caliskan2017.json", "embeddings/notebook.py"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.startswith("embeddings/app/tests")]
    metadata = zipfile.ZipFile(wheel).read("embedding_explorer-0.1.0.dist-info/METADATA").decode()
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    for pin in filter(None, pins):          # the one home of the pins, carried over whole
        name = pin.split("==")[0].split("[")[0]
        assert any(line.lower().replace("_", "-").startswith(f"requires-dist: {name.lower().replace('_', '-')}")
                   for line in metadata.splitlines()), pin
    assert "Requires-Python: >=3.11" in metadata


def test_the_console_command_runs_from_the_installed_package(installed):
    _, venv, tmp = installed
    out = run(venv, tmp, str(venv / "bin" / "embedding-explorer"), "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: embedding-explorer") and " app " in out.stdout
    where = run(venv, tmp, str(venv / "bin" / "python"), "-c",
                "import embeddings, embeddings.resources as r; print(embeddings.__file__); print(r.app_dir())")
    package, app = where.stdout.split()
    assert package.startswith(str(venv)) and app == package.rsplit("/", 1)[0] + "/app"
    # the built-in WEAT tests read their published word sets from inside the package
    tests = run(venv, tmp, str(venv / "bin" / "embedding-explorer"), "bias", "tests", "--json")
    assert tests.returncode == 0 and '"weat1"' in tests.stdout, tests.stderr


def test_the_installed_app_opens_its_pages(installed):
    """AppTest on the installed copy of app.py: Home and a page that reads the word sets."""
    _, venv, tmp = installed
    script = textwrap.dedent(f"""
        from streamlit.testing.v1 import AppTest
        from embeddings.resources import app_dir
        import os
        os.environ["EMBEDDINGS_WORKSPACE"] = {str(tmp / "ws")!r}
        at = AppTest.from_file(str(app_dir() / "app.py"), default_timeout=120).run()
        assert not at.exception, at.exception
        at.switch_page("pages/bias.py").run()
        assert not at.exception, at.exception
        print("titles:", [t.value for t in at.title])
    """)
    out = run(venv, tmp, str(venv / "bin" / "python"), "-c", script)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Bias" in out.stdout


def test_the_installed_command_serves_the_app_with_its_privacy_settings(installed):
    """``embedding-explorer app`` from anywhere: the checkout's .streamlit/config.toml travels in
    the wheel and is applied (no usage statistics, loopback), and the app answers."""
    import socket
    import time
    import urllib.request

    _, venv, tmp = installed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen([str(venv / "bin" / "embedding-explorer"), "--workspace", str(tmp / "ws2"), "app",
                               "--port", str(port)], cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
                              env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp), "EMBEDDINGS_DEMO": "off"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp / "server.log").read_text()
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert b"<!doctype html>" in r.read().lower()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    text = (tmp / "server.log").read_text()
    assert "usage statistics" not in text.lower()            # gatherUsageStats = false came along
    assert "127.0.0.1" in text or "localhost" in text
    assert "0.0.0.0" not in text and "External URL" not in text    # loopback only
