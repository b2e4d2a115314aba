"""Real servers: ``python -m matcher serve`` in subprocesses on databases of
their own, and the JSON API called over HTTP.

``server`` is one server on a fresh database for one test; ``start_server``
starts any number (with a test's own environment) and stops them at the end;
tests whose servers may be shared start them in a module-scoped fixture
(``Servers`` with ``module_databases``). Each server's output goes to a log
file, shown when it fails to start."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from matcher.accounts import create_organiser
from tests.support.app import CAFE_STEPS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Server:
    """``python -m matcher serve`` in a subprocess, on a port of its own (kept
    across restarts); its output goes to a log file, shown when it fails."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None):
        self.env, self.log = env, log
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    #: How long a server may take to listen: generous, as it is a wait and not a
    #: measure (a fresh clone's servers all start at once, on a shared machine).
    READY_WITHIN = 120

    def start(self, timeout: float = READY_WITHIN) -> Server:
        return self.launch().wait_ready(timeout)

    def launch(self) -> Server:
        """Start the process (:meth:`wait_ready` waits until it listens)."""
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "matcher", "serve", "--port", str(self.port)],
                env=self.env, stdout=output, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = READY_WITHIN) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    pytest.fail(f"server exited {self.process.returncode}:\n{self.output()}")
                time.sleep(0.1)
        pytest.fail(f"server did not start within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:] if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a crash or an OOM kill."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Servers:
    """Servers started for a test (or a module): ``servers(env)`` starts one,
    ``servers(env, count=2)`` a list started side by side; all are stopped at the end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[Server] = []

    def __call__(self, env, port=None, *, count=1):
        made = [Server(env, self.folder / f"server-{len(self.started) + k + 1}.log", port)
                for k in range(count)]
        self.started.extend(made)
        for one in made:
            one.launch()
        for one in made:
            one.wait_ready()
        return made[0] if count == 1 else made

    def stop_all(self) -> None:
        for one in self.started:
            one.stop()


def server_environment(database_url: str, folder: Path, *, worker: bool = False
                       ) -> dict[str, str]:
    """The environment of ``python -m matcher`` on ``database_url``, mail to ``folder``
    (its job queue beside it). ``worker``: the server runs its mail worker (off
    unless a test reads the server's mail: a worker waiting to write would be
    taken for a request by the race tests, which count who waits on a lock)."""
    return dict(os.environ, MATCHER_DATABASE_URL=database_url, MATCHER_SECRET_KEY="test",
                MATCHER_MAIL_URL=(folder / "outbox").as_uri(),
                MATCHER_QUEUE_FOLDER=str(folder / "queue"),
                MATCHER_WORKER="1" if worker else "0",
                MATCHER_CAFE_STEPS=str(CAFE_STEPS))


def new_organiser(database_url: str) -> str:
    """A new organiser on the (migrated) database at ``database_url``; their API token."""
    from matcher import db

    engine = db.make_engine(database_url)
    try:
        with db.make_session_factory(engine)() as session:
            _, token = create_organiser(session, "org@example.org", "Org")
            session.commit()
    finally:
        engine.dispose()
    return token


@pytest.fixture
def live_database(databases):
    """The database of the ``server`` fixture's process (migrated)."""
    return databases.new("live", migrated=True)


@pytest.fixture
def server_env(live_database, tmp_path):
    """The environment ``python -m matcher`` runs in for the ``server`` fixture."""
    return server_environment(live_database, tmp_path)


@pytest.fixture
def start_server(tmp_path, databases):
    """Start servers (:class:`Servers`); all stopped at the end of the test (before
    its databases are dropped)."""
    servers = Servers(tmp_path)
    yield servers
    servers.stop_all()


@pytest.fixture
def organiser(live_database):
    """An organiser on the ``server`` fixture's database; their API token."""
    return new_organiser(live_database)


@pytest.fixture
def server(server_env, start_server, organiser):
    """The real server on a fresh database with an organiser: its address and
    the organiser's API token."""
    return start_server(server_env).base, organiser


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    """Compile the café search's kernels once, before the workers and servers
    start: numba caches them on disk, so each process then loads them instead
    of compiling them at the same moment as the others (a fresh clone has no
    cache)."""
    if not hasattr(session.config, "workerinput"):
        from web.serve import warm_up

        warm_up()


#: Module-scoped fixtures that start servers (or a browser): a module's tests
#: that use one run on one xdist worker (per database), so it starts once.
SHARED = {"module_servers", "cluster", "site", "browser"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Group the tests that share a module's servers (``--dist loadgroup``);
    first, before pytest-xdist reads the groups."""
    for item in items:
        if SHARED & set(getattr(item, "fixturenames", ())):
            callspec = getattr(item, "callspec", None)
            backend = callspec.params.get("backend", "") if callspec is not None else ""
            # No brackets: pytest-xdist takes a name after "@" as a group only when
            # no "]" follows it.
            item.add_marker(pytest.mark.xdist_group(f"{item.module.__name__}-{backend}"))


def pytest_collection_finish(session):
    """Stop at once if pytest-xdist did not take the groups (as with pytest 9.2):
    every worker would start every module's servers, and the run would take
    far longer than it should, silently."""
    if not session.config.getoption("loadgroup", default=False):
        return
    lost = [item.nodeid for item in session.items
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        pytest.exit(f"pytest-xdist ignored the test groups (e.g. {lost[0]}): use the "
                    "pytest and pytest-xdist versions pyproject.toml asks for", returncode=3)


@dataclass
class ModuleServers:
    """Servers shared by a module's tests: their database (migrated, with an
    organiser whose API token is ``organiser``), the folder of their logs and
    mail, and the :class:`Servers` that started them."""

    database_url: str
    folder: Path
    organiser: str
    servers: Servers

    @property
    def env(self) -> dict[str, str]:
        return server_environment(self.database_url, self.folder)


@pytest.fixture(scope="module")
def module_servers(module_databases, tmp_path_factory):
    """A database for a module's servers (``module_servers.servers(env)``
    starts them; all stopped at the end of the module). For tests that neither
    kill a server nor need a database of their own: each makes its own trial
    or café."""
    url = module_databases.new("live", migrated=True)
    folder = tmp_path_factory.mktemp("servers")
    shared = ModuleServers(url, folder, new_organiser(url), Servers(folder))
    yield shared
    shared.servers.stop_all()


@pytest.fixture(scope="module")
def module_server(module_servers):
    """One real server for all of a module's tests (see :func:`module_servers`):
    its address and the organiser's API token, as :func:`server` gives."""
    return module_servers.servers(module_servers.env).base, module_servers.organiser


#: Redis for the tests with several processes (CI has one).
REDIS_URL = os.environ.get("MATCHER_TEST_REDIS") or "redis://127.0.0.1:6379/9"


@pytest.fixture(scope="session")
def redis_url():
    """Redis for Socket.IO's message queue; fails (never skips) when it is missing."""
    try:
        import redis
    except ImportError as exc:
        pytest.fail(f"the redis package is missing ({exc}): pip install -e '.[dev]'")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}): start it (CI has one)")
    return REDIS_URL
