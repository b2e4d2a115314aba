"""The databases the suite runs on, and a fresh database for every test.

Every test that touches a database asks for one through :func:`databases` (the
``app``, ``server`` and ``site`` fixtures do), and that fixture depends on
:func:`backend`, which is parametrised by ``MATCHER_TEST_DATABASE``:

- unset, or ``sqlite,postgresql``: each such test runs twice, ``[sqlite]`` and
  ``[postgresql]`` (``make test``);
- ``sqlite`` or ``postgresql``: once, on that database (``make test-quick`` is
  SQLite only).

Tests that never touch a database are not parametrised, so they run once.

- SQLite: a copy of one migrated file per worker, in the test's ``tmp_path``.
- PostgreSQL: ``CREATE DATABASE matcher_t_… TEMPLATE`` one migrated database
  per worker, on the server of ``MATCHER_TEST_POSTGRES`` (default the machine's,
  database ``test``). After the test a thread of its own (no test waits for
  it) empties the database for the next test if it comes back as the
  template left it (:class:`_Recycler`), or drops it ``WITH (FORCE)``. If that
  server cannot be reached the run stops at once with the reason: it never
  skips.

A few tests are about SQLite itself (its pragmas, its files on disk) and are
marked ``sqlite_only`` with the reason, as are the browser tests (their pages do
not depend on the database) and the cells of the access matrix (decided in the
app, before any query that differs); their ``[postgresql]`` runs are
deselected (pytest says how many). Likewise ``postgresql_only`` tests are deselected on SQLite.
"""

from __future__ import annotations

import os
import queue
import secrets
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

#: The databases a test can run on, in the order the suite runs them.
KNOWN = ("sqlite", "postgresql")
_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "both": "sqlite,postgresql",
            "all": "sqlite,postgresql"}


def _chosen() -> tuple[str, ...]:
    text = (os.environ.get("MATCHER_TEST_DATABASE") or "sqlite,postgresql").strip().lower()
    text = _ALIASES.get(text, text)
    chosen = []
    for part in text.split(","):
        part = _ALIASES.get(part.strip(), part.strip())
        if part not in KNOWN:
            raise pytest.UsageError(
                f"MATCHER_TEST_DATABASE: {part!r} is not one of sqlite, postgresql "
                "(or both, comma-separated)")
        if part not in chosen:
            chosen.append(part)
    return tuple(name for name in KNOWN if name in chosen)


#: The PostgreSQL server (and the database to connect to for CREATE/DROP DATABASE).
POSTGRES_URL = (os.environ.get("MATCHER_TEST_POSTGRES")
                or "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: Test databases are named ``matcher_t_<unix time>_<random>`` (the time lets a
#: later run drop what a killed run left behind, without touching a running one's).
PREFIX = "matcher_t_"
#: Leftover test databases older than this (seconds) are dropped at the start.
STALE_AFTER = 6 * 3600


# --- PostgreSQL administration -----------------------------------------------------

def _libpq(url: str) -> str:
    """A SQLAlchemy URL as psycopg's connection string."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin():
    """An autocommit connection to the admin database (CREATE/DROP DATABASE)."""
    import psycopg

    return psycopg.connect(_libpq(POSTGRES_URL), autocommit=True, connect_timeout=5)


def postgres_url(name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the test server.

    Its sessions commit without waiting for the write-ahead log to reach the
    disk (``synchronous_commit=off``): a commit is as atomic and as visible to
    every other connection as ever, and only a crash of the PostgreSQL server
    itself, which no test causes, could lose the last few. Waiting for the
    disk on each of the suite's thousands of commits was most of the time of
    the tests that sign up hundreds of people."""
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL).set(database=name)
    url = url.update_query_dict({"options": "-csynchronous_commit=off"})
    return url.render_as_string(hide_password=False)


def create_postgres_database(template: str | None = None) -> str:
    """A new, empty (or ``template``'s copy) database; its name."""
    name = f"{PREFIX}{int(time.time())}_{secrets.token_hex(5)}"
    with _admin() as admin:
        if template is None:
            admin.execute(f'CREATE DATABASE "{name}"')
        else:
            # WAL_LOG (PostgreSQL 15's default) copies a small template without
            # the checkpoint FILE_COPY needs: tens of milliseconds.
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def drop_postgres_database(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: What a database's schema and state look like, in one row: a database handed
#: out migrated is reused only if it comes back looking as the template does
#: (no table, column, constraint, trigger or function added or dropped, no
#: setting of its own, nobody still connected, at the same revision).
FINGERPRINT = """
SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace),
       (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0
           AND NOT a.attisdropped),
       (SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
       (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal),
       (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace),
       (SELECT count(*) FROM pg_namespace),
       (SELECT count(*) FROM pg_db_role_setting WHERE setdatabase =
         (SELECT oid FROM pg_database WHERE datname = current_database())),
       (SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()),
       (SELECT string_agg(version_num, ',') FROM alembic_version)
"""


def _connect(name: str):
    import psycopg

    return psycopg.connect(_libpq(postgres_url(name)), autocommit=True, connect_timeout=5)


def fingerprint(name: str) -> tuple:
    with _connect(name) as connection:
        return tuple(connection.execute(FINGERPRINT).fetchone())


class _Recycler:
    """Finished tests' PostgreSQL databases, dealt with in a thread of its own
    (no test waits for it). One that was migrated and comes back as the
    template left it (:data:`FINGERPRINT`) is emptied (every row deleted, every
    sequence restarted: as new) and handed to the next test that wants a
    migrated database: far cheaper than DROP and CREATE, which write and unlink
    every file. Any other is dropped. :meth:`finish` drops them all."""

    def __init__(self) -> None:
        self.jobs: queue.Queue[tuple[str, bool] | None] = queue.Queue()
        self.clean: queue.Queue[str] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.expected: tuple | None = None
        self.failures: list[str] = []

    def give_back(self, name: str, reusable: bool) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="recycle-databases",
                                           daemon=True)
            self.thread.start()
        self.jobs.put((name, reusable))

    def take(self) -> str | None:
        """An emptied migrated database, if one is ready."""
        try:
            return self.clean.get_nowait()
        except queue.Empty:
            return None

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            name, reusable = job
            try:
                if reusable and self._empty(name):
                    self.clean.put(name)
                    continue
            except Exception:  # noqa: BLE001 - not reusable after all: dropped below
                pass
            self._drop(name)

    def _empty(self, name: str) -> bool:
        if self.expected is None or fingerprint(name) != self.expected:
            return False
        from matcher.models import Base

        with _connect(name) as connection:
            connection.execute("SET lock_timeout = '2s'")
            with connection.transaction():
                for table in reversed(Base.metadata.sorted_tables):
                    connection.execute(f'DELETE FROM "{table.name}"')
                sequences = connection.execute(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
                for (sequence,) in sequences.fetchall():
                    connection.execute(f'ALTER SEQUENCE "{sequence}" RESTART')
        return True

    def _drop(self, name: str) -> None:
        try:
            drop_postgres_database(name)
        except Exception as exc:  # noqa: BLE001 - reported at the end of the run
            self.failures.append(f"{name}: {exc}")

    def finish(self) -> None:
        if self.thread is not None:
            self.jobs.put(None)
            self.thread.join(timeout=120)
            self.thread = None
        while (name := self.take()) is not None:
            self._drop(name)


_recycler = _Recycler()


def _drop_stale_postgres_databases() -> None:
    with _admin() as admin:
        names = [row[0] for row in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'matcher\\_t\\_%'")]
        for name in names:
            stamp = name[len(PREFIX):].split("_", 1)[0]
            if stamp.isdigit() and time.time() - int(stamp) > STALE_AFTER:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- hooks --------------------------------------------------------------------------

def pytest_configure(config):
    config.backends = _chosen()
    if "postgresql" in config.backends:
        try:
            with _admin() as admin:
                admin.execute("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - any reason: say it and stop
            pytest.exit(
                f"the suite runs on PostgreSQL but it is not usable at {POSTGRES_URL}: {exc}\n"
                "Start it (CI has one), or run SQLite only: MATCHER_TEST_DATABASE=sqlite "
                "(make test-quick).", returncode=3)
        if not hasattr(config, "workerinput"):  # once per run, not per xdist worker
            _drop_stale_postgres_databases()


def pytest_report_header(config):
    where = {"sqlite": "sqlite (a SQLite file per test)",
             "postgresql": f"postgresql (a database per test at {POSTGRES_URL})"}
    return "matcher test databases: " + ", ".join(where[name] for name in config.backends)


def pytest_collection_modifyitems(config, items):
    """Deselect the runs a test does not want: ``sqlite_only`` on PostgreSQL,
    ``postgresql_only`` on SQLite."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on = callspec.params.get("backend") if callspec is not None else None
        other = ((on == "postgresql" and item.get_closest_marker("sqlite_only"))
                 or (on == "sqlite" and item.get_closest_marker("postgresql_only")))
        (dropped if other else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        backends = metafunc.config.backends
        metafunc.parametrize("backend", backends, ids=backends, indirect=True, scope="session")


def pytest_sessionfinish(session, exitstatus):
    _recycler.finish()
    _templates.drop()


# --- databases ----------------------------------------------------------------------

class _Templates:
    """One migrated database per worker process, copied for each test that
    wants one migrated already (Alembic's upgrade then finds nothing to do)."""

    def __init__(self) -> None:
        self.sqlite: Path | None = None
        self.postgres: str | None = None

    def sqlite_file(self, tmp_path_factory) -> Path:
        if self.sqlite is None:
            from matcher import db

            path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
            engine = db.make_engine(f"sqlite:///{path}")
            try:
                db.upgrade(engine)
            finally:
                engine.dispose()
            self.sqlite = path
        return self.sqlite

    def postgres_database(self) -> str:
        if self.postgres is None:
            from matcher import db

            name = create_postgres_database()
            engine = db.make_engine(postgres_url(name))
            try:
                db.upgrade(engine)
            finally:
                engine.dispose()
            _recycler.expected = fingerprint(name)
            self.postgres = name
        return self.postgres

    def drop(self) -> None:
        if self.postgres is not None:
            drop_postgres_database(self.postgres)
            self.postgres = None


_templates = _Templates()


class Databases:
    """Fresh databases for one test (or module) on ``backend``: all dropped
    (PostgreSQL) or left in the folder (SQLite) at the end."""

    def __init__(self, backend: str, folder: Path, tmp_path_factory):
        self.backend, self.folder, self.factory = backend, folder, tmp_path_factory
        #: PostgreSQL databases made for the test, and whether each may be reused.
        self.created: list[tuple[str, bool]] = []
        self.names: set[str] = set()

    def new(self, name: str = "test", *, migrated: bool = False) -> str:
        """The URL of a new database (``migrated``: at the latest revision already)."""
        name = self._unique(name)
        if self.backend == "postgresql":
            template = _templates.postgres_database() if migrated else None
            database = (migrated and _recycler.take()) or create_postgres_database(template)
            self.created.append((database, migrated))
            return postgres_url(database)
        path = self.folder / f"{name}.sqlite3"
        if migrated:
            shutil.copyfile(_templates.sqlite_file(self.factory), path)
        return f"sqlite:///{path}"

    def _unique(self, name: str) -> str:
        stem, k = name, 1
        while name in self.names:
            k += 1
            name = f"{stem}{k}"
        self.names.add(name)
        return name

    def copy(self, url: str, name: str = "copy") -> str:
        """The URL of a new database holding what the database at ``url`` holds
        (one built once per module, say, then copied for each test). On
        PostgreSQL nobody may be connected to the original while it is copied."""
        from sqlalchemy.engine import make_url

        name = self._unique(name)
        if self.backend == "postgresql":
            database = create_postgres_database(make_url(url).database)
            # Not kept: no test wants an empty database more than a CREATE costs.
            self.created.append((database, False))
            return postgres_url(database)
        path = self.folder / f"{name}.sqlite3"
        source = sqlite3.connect(make_url(url).database)
        target = sqlite3.connect(path)
        try:
            source.backup(target)  # consistent, whatever the write-ahead log holds
        finally:
            target.close()
            source.close()
        return f"sqlite:///{path}"

    def drop_all(self) -> None:
        while self.created:
            _recycler.give_back(*self.created.pop())


@pytest.fixture(scope="session")
def backend(request) -> str:
    """``sqlite`` or ``postgresql``: the database this run of the test is on
    (parametrised by :func:`pytest_generate_tests`)."""
    return request.param


@pytest.fixture
def databases(backend, tmp_path, tmp_path_factory):
    """Make fresh databases for this test: ``databases.new(name, migrated=...)``."""
    made = Databases(backend, tmp_path, tmp_path_factory)
    yield made
    made.drop_all()


@pytest.fixture
def database_url(databases) -> str:
    """A fresh, empty database for this test (SQLite file or PostgreSQL database)."""
    return databases.new("test")


@pytest.fixture(scope="module")
def module_databases(backend, tmp_path_factory):
    """Like :func:`databases`, for fixtures shared by a module's tests."""
    made = Databases(backend, tmp_path_factory.mktemp("module"), tmp_path_factory)
    yield made
    made.drop_all()
