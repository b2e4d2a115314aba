"""Shared fixtures: the app on a fresh database, its test client, an organiser,
and the real server in a subprocess.

Which database the tests use is ``MATCHER_TEST_DATABASE``:

- ``sqlite`` (the default): a fresh SQLite file per test, in its ``tmp_path``;
- ``postgresql``: a fresh PostgreSQL database per test (``CREATE DATABASE
  matcher_t_…``, dropped ``WITH (FORCE)`` afterwards) on the server of
  ``MATCHER_TEST_POSTGRES`` (default the machine's, database ``test``). If that
  server cannot be reached the run stops at once with the reason: it never
  skips.

Every test that needs a database asks :func:`databases` for one (the ``app``
and ``server`` fixtures do), so the whole suite runs on either. A few tests are
about SQLite itself (its pragmas, its files on disk) and are marked
``sqlite_only`` with the reason; in PostgreSQL mode they are deselected (pytest
reports how many), as are the browser tests (see ``SQLITE_ONLY_MODULES``).
Likewise the few ``postgresql_only`` tests (each says why) are deselected in
SQLite mode.
"""

import email
import email.policy
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from matcher.accounts import create_organiser
from web import create_app
from web.extensions import socketio

#: ``sqlite`` or ``postgresql``: the database every test runs on.
TEST_DATABASE = (os.environ.get("MATCHER_TEST_DATABASE") or "sqlite").strip().lower()
if TEST_DATABASE in ("postgres", "pg"):
    TEST_DATABASE = "postgresql"
#: The PostgreSQL server (and the database to connect to for CREATE/DROP DATABASE).
POSTGRES_URL = (os.environ.get("MATCHER_TEST_POSTGRES")
                or "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: Test databases are named ``matcher_t_<unix time>_<random>`` (the time lets a
#: later run drop what a killed run left behind, without touching a running one's).
PREFIX = "matcher_t_"
#: Leftover test databases older than this (seconds) are dropped at the start.
STALE_AFTER = 6 * 3600
#: Modules that run on SQLite only, and why. The browser tests drive Chromium
#: against the real server: what they test is the pages and their scripts, the
#: same on either database; the server's database work under them is covered on
#: PostgreSQL without a browser (tests/test_real_server*.py, test_several_processes.py,
#: test_faults.py, test_concurrency.py). Running them twice would add two minutes.
_BROWSER = ("browser tests: the pages and their scripts do not depend on the database; "
            "the real server on PostgreSQL is tested without a browser")
SQLITE_ONLY_MODULES = {
    "test_browser.py": _BROWSER,
    "test_browser_journey.py": _BROWSER,
    "test_browser_pages.py": _BROWSER,
}


def _validate_mode() -> None:
    if TEST_DATABASE not in ("sqlite", "postgresql"):
        pytest.exit(f"MATCHER_TEST_DATABASE must be sqlite or postgresql, not {TEST_DATABASE!r}",
                    returncode=4)


# --- PostgreSQL administration -----------------------------------------------------

def _libpq(url: str) -> str:
    """A SQLAlchemy URL as psycopg's connection string."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _admin():
    """An autocommit connection to the admin database (CREATE/DROP DATABASE)."""
    import psycopg

    return psycopg.connect(_libpq(POSTGRES_URL), autocommit=True, connect_timeout=5)


def postgres_url(name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the test server."""
    from sqlalchemy.engine import make_url

    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def create_postgres_database(template: str | None = None) -> str:
    """A new, empty (or ``template``'s copy) database; its name."""
    name = f"{PREFIX}{int(time.time())}_{secrets.token_hex(5)}"
    with _admin() as admin:
        if template is None:
            admin.execute(f'CREATE DATABASE "{name}"')
        else:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def drop_postgres_database(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _drop_stale_postgres_databases() -> None:
    with _admin() as admin:
        names = [row[0] for row in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'matcher\\_t\\_%'")]
        for name in names:
            stamp = name[len(PREFIX):].split("_", 1)[0]
            if stamp.isdigit() and time.time() - int(stamp) > STALE_AFTER:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only(reason): a test about SQLite itself (its files, its pragmas): "
                   "not run in PostgreSQL mode")
    config.addinivalue_line(
        "markers", "postgresql_only(reason): a test of something SQLite cannot do (say "
                   "why): not run in SQLite mode")
    _validate_mode()
    if TEST_DATABASE == "postgresql":
        try:
            with _admin() as admin:
                admin.execute("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - any reason: say it and stop
            pytest.exit(
                f"MATCHER_TEST_DATABASE=postgresql but PostgreSQL is not usable at "
                f"{POSTGRES_URL}: {exc}\nStart it (CI has one) or run the SQLite suite.",
                returncode=3)
        _drop_stale_postgres_databases()


def pytest_report_header(config):
    if TEST_DATABASE == "sqlite":
        return "matcher test database: sqlite (a SQLite file per test)"
    return [f"matcher test database: postgresql (a database per test at {POSTGRES_URL})"] + [
        f"  on SQLite only: {module}: {why}" for module, why in SQLITE_ONLY_MODULES.items()]


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        if TEST_DATABASE == "postgresql":
            other = (item.get_closest_marker("sqlite_only")
                     or item.path.name in SQLITE_ONLY_MODULES)
        else:
            other = item.get_closest_marker("postgresql_only")
        (dropped if other else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# --- databases ----------------------------------------------------------------------

class _Templates:
    """One migrated database per session, copied for each test that wants one
    migrated already (Alembic's upgrade then finds nothing to do)."""

    sqlite: Path | None = None
    postgres: str | None = None


_templates = _Templates()


def _migrated_sqlite(tmp_path_factory) -> Path:
    if _templates.sqlite is None:
        from matcher import db

        path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        engine.dispose()
        _templates.sqlite = path
    return _templates.sqlite


def _migrated_postgres() -> str:
    if _templates.postgres is None:
        from matcher import db

        name = create_postgres_database()
        engine = db.make_engine(postgres_url(name))
        try:
            db.upgrade(engine)
        finally:
            engine.dispose()
        _templates.postgres = name
    return _templates.postgres


def pytest_sessionfinish(session, exitstatus):
    if _templates.postgres is not None:
        drop_postgres_database(_templates.postgres)
        _templates.postgres = None


class Databases:
    """Fresh databases for one test, of the kind MATCHER_TEST_DATABASE says;
    all dropped (PostgreSQL) or left in ``tmp_path`` (SQLite) at the end."""

    def __init__(self, tmp_path: Path, tmp_path_factory):
        self.tmp_path, self.factory = tmp_path, tmp_path_factory
        self.backend = TEST_DATABASE
        self.created: list[str] = []
        self.names: set[str] = set()

    def new(self, name: str = "test", *, migrated: bool = False) -> str:
        """The URL of a new database (``migrated``: at the latest revision already)."""
        stem, k = name, 1
        while name in self.names:
            k += 1
            name = f"{stem}{k}"
        self.names.add(name)
        if self.backend == "postgresql":
            database = create_postgres_database(_migrated_postgres() if migrated else None)
            self.created.append(database)
            return postgres_url(database)
        path = self.tmp_path / f"{name}.sqlite3"
        if migrated:
            shutil.copyfile(_migrated_sqlite(self.factory), path)
        return f"sqlite:///{path}"

    def drop_all(self) -> None:
        while self.created:
            drop_postgres_database(self.created.pop())


@pytest.fixture
def databases(tmp_path, tmp_path_factory):
    """Make fresh databases for this test: ``databases.new(name, migrated=...)``."""
    made = Databases(tmp_path, tmp_path_factory)
    yield made
    made.drop_all()


@pytest.fixture
def database_url(databases):
    """A fresh, empty database for this test (SQLite file or PostgreSQL database)."""
    return databases.new("test")


@pytest.fixture
def app(databases, tmp_path):
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": databases.new("app", migrated=True),
        "SECRET_KEY": "test",
        "ROUND_TIME_LIMIT": 5.0,
        "MAIL_URL": (tmp_path / "outbox").as_uri(),
    })
    yield app
    app.extensions["matcher.engine"].dispose()


def mailed(outbox) -> list:
    """The messages in a file outbox (oldest first), parsed."""
    if not outbox.exists():
        return []
    files = sorted(outbox.glob("*.eml"))
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in files]


def mailed_links(outbox) -> dict[str, str]:
    """The latest personal link mailed to each address."""
    links = {}
    for message in mailed(outbox):
        found = re.search(r"https?://\S+/me/\S+", message.get_content())
        if found:
            links[message["To"]] = found.group(0)
    return links


@pytest.fixture
def outbox(tmp_path):
    return tmp_path / "outbox"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def organiser_token(app):
    with app.app_context():
        sessions = app.extensions["matcher.sessions"]
        with sessions() as db:
            _, token = create_organiser(db, "org@example.org", "Org")
            db.commit()
    return token


@pytest.fixture
def socket_client(app, client):
    """Make a Socket.IO test client that connects with ``auth``."""
    made = []

    def connect(auth=None):
        one = socketio.test_client(app, flask_test_client=client, auth=auth)
        made.append(one)
        return one

    yield connect
    for one in made:
        if one.is_connected():
            one.disconnect()


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

    def start(self, timeout: float = 30) -> "Server":
        return self.launch().wait_ready(timeout)

    def launch(self) -> "Server":
        """Start the process (:meth:`wait_ready` waits until it listens)."""
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "matcher", "serve", "--port", str(self.port)],
                env=self.env, stdout=output, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 30) -> "Server":
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


def server_environment(database_url: str, folder: Path) -> dict[str, str]:
    """The environment of ``python -m matcher`` on ``database_url``, mail to ``folder``."""
    return dict(os.environ, MATCHER_DATABASE_URL=database_url, MATCHER_SECRET_KEY="test",
                MATCHER_MAIL_URL=(folder / "outbox").as_uri())


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


@pytest.fixture(scope="module")
def module_databases(tmp_path_factory):
    """Like :func:`databases`, for fixtures shared by a module's tests."""
    made = Databases(tmp_path_factory.mktemp("module"), tmp_path_factory)
    yield made
    made.drop_all()


#: Redis for the tests with several processes (CI has one).
REDIS_URL = os.environ.get("MATCHER_TEST_REDIS") or "redis://127.0.0.1:6379/9"


@pytest.fixture
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
