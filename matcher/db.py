"""The database: where it is, engines and sessions, and migrations to the latest schema.

SQLite in the instance folder by default, so nothing needs installing; PostgreSQL
(or any SQLAlchemy URL) through ``MATCHER_DATABASE_URL``. The schema is
Alembic's (``matcher/migrations``), never ``create_all``: :func:`upgrade` brings
a database to the latest revision and is a no-op when it is there already.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "DATABASE_URL_VARIABLE",
    "MIGRATIONS",
    "SQLITE_TIMEOUT",
    "alembic_config",
    "check_foreign_keys",
    "current_revision",
    "database_url",
    "foreign_keys_off",
    "make_engine",
    "make_session_factory",
    "upgrade",
]

#: The environment variable that names the database.
DATABASE_URL_VARIABLE = "MATCHER_DATABASE_URL"
#: The Alembic scripts (``env.py``, ``script.py.mako``, ``versions/``).
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Seconds a SQLite connection waits for another writer before "database is locked".
SQLITE_TIMEOUT = 30.0
#: Connections a server process keeps open to a database server (PostgreSQL).
POOL_SIZE = 15


def database_url(instance_path: str | os.PathLike[str] | None = None) -> str:
    """The database URL: ``MATCHER_DATABASE_URL``, else SQLite in the instance folder.

    The instance folder (default ``./instance``) is created if it is missing, and
    only when the SQLite default is used.
    """
    url = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if url:
        return url
    folder = Path("instance" if instance_path is None else instance_path).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'matcher.sqlite3'}"


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``.

    SQLite gets WAL journal mode (readers never block the writer) with
    ``synchronous=NORMAL``, the setting SQLite recommends for WAL: every commit
    stays atomic and survives the app's process being killed, and only a power
    cut or an operating-system crash may lose the last commits (not corrupt the
    file), where waiting for the disk on every commit cost a fifth of the time
    of a sign-up (https://www.sqlite.org/pragma.html#pragma_synchronous). Foreign keys
    are enforced on every connection (SQLite leaves them off by default) and a busy
    timeout of :data:`SQLITE_TIMEOUT` seconds unless the URL gives ``timeout``.
    Other databases get connections checked before use (``pool_pre_ping``) so a
    restarted server costs no failed request, and a pool sized for a gevent
    server's many requests at once (:data:`POOL_SIZE` kept open, as many again
    at a busy moment): SQLAlchemy's default of 5 kept open made requests wait
    for a connection, and opened and closed the extra ones again and again.
    """
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE,
                             max_overflow=POOL_SIZE)

    connect_args = {} if "timeout" in url.query else {"timeout": SQLITE_TIMEOUT}
    engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine``; objects stay readable after commit (no reload)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the package's migrations, with no ``alembic.ini``.

    With ``connection``, migrations run on it; otherwise on :func:`database_url`.
    """
    config = Config()
    # Config values are %-interpolated: a literal % in the path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Migrate the database of ``engine`` to the latest revision (a no-op if it is there)."""
    with engine.connect() as connection, foreign_keys_off(connection):
        command.upgrade(alembic_config(connection), "head")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` before any migration."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def foreign_keys_off(connection: Connection) -> Iterator[Connection]:
    """Turn SQLite's foreign keys off on ``connection`` while migrating.

    Alembic alters SQLite tables by copying them and dropping the original; with
    foreign keys on, dropping a table deletes (``ON DELETE CASCADE``) the rows
    that refer to it. Migrations check the keys themselves before committing
    (:func:`check_foreign_keys`). Other databases are left alone.
    """
    if connection.dialect.name != "sqlite":
        yield connection
        return
    # The pragma is ignored inside a transaction: set it, then end the one
    # SQLAlchemy began for it.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        yield connection
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def check_foreign_keys(connection: Connection) -> None:
    """Raise :class:`RuntimeError` if any row of a SQLite database breaks a foreign key."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(
            f"migration left {len(broken)} rows with a broken foreign key in: {', '.join(tables)}"
        )
