"""The package as someone installs it: a wheel built from the checkout,
installed into a folder of its own, then ``python -m matcher serve --demo``
run from another folder with only that install on the path (the checkout out
of reach): the pages, their scripts and the demo data all come with it, and
the ``matcher`` console script runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


#: What a source distribution holds: all the wheel is built from.
SOURCES = ("pyproject.toml", "README.md", "matcher", "solvers", "web", "seeds")

# One build for the module: its tests run on one worker.
pytestmark = pytest.mark.xdist_group("packaging")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The folder the wheel was installed into (``pip install --target``),
    built from a copy of the sources (a build in the checkout would leave
    ``build/`` there)."""
    folder = tmp_path_factory.mktemp("package")
    source = folder / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--wheel-dir", str(folder / "wheel"), str(source)],
        capture_output=True, text=True, timeout=300, cwd=folder)
    assert built.returncode == 0, built.stderr
    (wheel,) = (folder / "wheel").glob("matcher-*.whl")
    target = folder / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300, cwd=folder)
    assert done.returncode == 0, done.stderr
    return target


def _environment(installed: Path, folder: Path) -> dict[str, str]:
    # The installed copy first on the path; the checkout's own copy (the
    # editable install) is found only after it, and the working folder is not
    # the checkout.
    return dict(os.environ, PYTHONPATH=str(installed),
                MATCHER_DATABASE_URL=f"sqlite:///{folder / 'demo.sqlite3'}",
                MATCHER_MAIL_URL=(folder / "outbox").as_uri())


def test_the_installed_package_is_the_one_imported(installed, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import matcher, seeds, solvers, web; "
         "print(matcher.__file__, seeds.__file__, solvers.__file__, web.__file__)"],
        env=_environment(installed, tmp_path), cwd=tmp_path, capture_output=True, text=True,
        timeout=60)
    assert done.returncode == 0, done.stderr
    assert all(path.startswith(str(installed)) for path in done.stdout.split())


def test_the_console_script_runs(installed, tmp_path):
    done = subprocess.run([str(installed / "bin" / "matcher"), "--help"],
                          env=_environment(installed, tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "organiser" in done.stdout and "serve" in done.stdout


def test_the_demo_runs_from_the_installed_package(installed, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "matcher", "serve", "--demo", "--port", str(port)],
            env=_environment(installed, tmp_path), cwd=tmp_path, stdout=output,
            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180  # a wait, not a measure (see Server.READY_WITHIN)
        while "sign-up page:" not in log.read_text() and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            time.sleep(0.1)
        printed = log.read_text()
        # It starts with the front door, which answers (not a 404).
        door = re.match(r"matcher: open (\S+) ", printed)
        assert door, printed
        assert "Join a café" in _get(door.group(1), server, deadline)
        join = re.search(r"sign-up page: (\S+)", printed)
        me = re.search(r"personal page of \S+: (\S+)", printed)
        assert join and me, printed
        page = _get(join.group(1), server, deadline)
        assert "Northfield" in page and "<form" in page
        personal = _get(me.group(1), server, deadline)
        assets = (re.findall(r'<link[^>]+href="(/static/[^"]+)"', page)
                  + re.findall(r'<script[^>]+src="(/static/[^"]+)"', personal))
        assert any(a.endswith(".css") for a in assets)
        assert any("socket.io" in a for a in assets)
        # The API's document (generated from the installed code) and its docs page.
        assert '"openapi": "3.1' in _get(f"http://127.0.0.1:{port}/api/v1/openapi.json",
                                         server, deadline).replace('":"', '": "')
        docs = _get(f"http://127.0.0.1:{port}/api/v1/docs", server, deadline)
        assets += re.findall(r'(?:href|src)="(/static/[^"]+)"', docs)
        assert any("swagger-ui" in a for a in assets)
        for path in assets:
            assert _get(f"http://127.0.0.1:{port}{path}", server, deadline)
    finally:
        server.terminate()
        server.wait(timeout=20)


def _get(url: str, server: subprocess.Popen, deadline: float) -> str:
    """The body at ``url`` (200), waiting for the server to listen."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                assert reply.status == 200
                return reply.read().decode()
        except urllib.error.HTTPError:
            raise
        except urllib.error.URLError:  # not listening yet
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
