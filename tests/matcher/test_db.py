"""The database: URLs, SQLite settings, and Alembic migrations against a real database
(a SQLite file, or PostgreSQL: tests/conftest.py). The tests of SQLite's own settings
(pragmas, the default file) are ``sqlite_only``: PostgreSQL has no such settings."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import delete, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from matcher import db
from matcher.models import ApiToken, Base, Organiser

REPO = Path(__file__).resolve().parents[2]


SQLITE_SETTINGS = pytest.mark.sqlite_only("about SQLite's own settings (pragmas, files)")


@pytest.fixture
def url(database_url):
    return database_url


@pytest.fixture
def engine(url):
    engine = db.make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated(engine):
    db.upgrade(engine)
    return engine


def head() -> str:
    return ScriptDirectory.from_config(db.alembic_config()).get_current_head()


def schema(engine) -> list:
    """Every table, column, key and index, as the database describes them."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT name, sql FROM sqlite_master ORDER BY name")).all()
    inspector = inspect(engine)
    return [(table,
             [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
             inspector.get_pk_constraint(table),
             sorted(str(k) for k in inspector.get_foreign_keys(table)),
             sorted(str(k) for k in inspector.get_unique_constraints(table)),
             sorted(str(k) for k in inspector.get_indexes(table)))
            for table in sorted(inspector.get_table_names())]


# --- where the database is ---------------------------------------------------

def test_database_url_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHER_DATABASE_URL", "postgresql+psycopg://u@db.example.org/matcher")
    assert db.database_url(tmp_path / "unused") == "postgresql+psycopg://u@db.example.org/matcher"
    assert not (tmp_path / "unused").exists()


def test_database_url_defaults_to_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("MATCHER_DATABASE_URL", raising=False)
    folder = tmp_path / "deep" / "instance"
    assert db.database_url(folder) == f"sqlite:///{folder / 'matcher.sqlite3'}"
    assert folder.is_dir()


@SQLITE_SETTINGS
def test_default_instance_folder_is_instance_in_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("MATCHER_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    url = db.database_url()
    assert url == f"sqlite:///{tmp_path.resolve() / 'instance' / 'matcher.sqlite3'}"
    assert (tmp_path / "instance").is_dir()
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    assert (tmp_path / "instance" / "matcher.sqlite3").is_file()


# --- SQLite settings ---------------------------------------------------------

@SQLITE_SETTINGS
def test_sqlite_uses_wal_and_waits_for_a_busy_database(engine):
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


@SQLITE_SETTINGS
def test_a_timeout_in_the_url_is_kept(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}?timeout=2")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2_000
    engine.dispose()


@SQLITE_SETTINGS
def test_sqlite_enforces_foreign_keys_on_every_connection(migrated):
    for _ in range(3):  # new connections as well as pooled ones
        with migrated.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), migrated.begin() as connection:
        connection.execute(insert(ApiToken).values(
            organiser_id=999, token_hash="0" * 64, created_at=datetime.now(UTC)))


def test_deleting_an_organiser_deletes_their_tokens(migrated):
    factory = db.make_session_factory(migrated)
    with factory() as session, session.begin():
        session.add(Organiser(email="a@example.org", tokens=[ApiToken(token_hash="0" * 64)]))
    with migrated.begin() as connection:  # ON DELETE CASCADE, done by the database itself
        connection.execute(delete(Organiser))
        assert connection.execute(select(ApiToken)).all() == []


def test_sessions_keep_objects_readable_after_commit(migrated):
    with db.make_session_factory(migrated)() as session:
        organiser = Organiser(email="a@example.org", name="Ann")
        session.add(organiser)
        session.commit()
        session.close()
        assert organiser.name == "Ann"  # no reload needed: expire_on_commit=False


def test_other_databases_ping_their_connections():
    """The machine's PostgreSQL (CI has one): a real connection, checked before use.
    Fails, rather than skips, when the server is missing."""
    engine = db.make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    assert engine.pool._pre_ping
    try:
        with engine.connect() as connection:
            assert connection.execute(text("select 1")).scalar() == 1
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {exc}")
    finally:
        engine.dispose()


# --- migrations --------------------------------------------------------------

def test_upgrade_creates_every_table_of_the_models(engine):
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    assert db.current_revision(engine) == head()
    tables = set(inspect(engine).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_upgrade_twice_is_a_no_op(migrated):
    before = schema(migrated)
    db.upgrade(migrated)
    assert schema(migrated) == before
    assert db.current_revision(migrated) == head()


def test_upgrade_keeps_data(migrated):
    with db.make_session_factory(migrated)() as session, session.begin():
        session.add(Organiser(email="a@example.org"))
    db.upgrade(migrated)
    with db.make_session_factory(migrated)() as session:
        assert session.scalars(select(Organiser.email)).all() == ["a@example.org"]


def test_the_migrations_match_the_models(migrated):
    """Fails when a model changes without a migration: make one (README)."""
    with migrated.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(migrated):
    with migrated.connect() as connection, db.foreign_keys_off(connection):
        command.downgrade(db.alembic_config(connection), "base")
    assert set(inspect(migrated).get_table_names()) == {"alembic_version"}
    db.upgrade(migrated)
    assert set(inspect(migrated).get_table_names()) == set(Base.metadata.tables) | {
        "alembic_version"}


@SQLITE_SETTINGS
def test_foreign_keys_are_back_on_after_a_migration(engine):
    # A single pooled connection, so the one that migrated is the one checked.
    db.upgrade(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_alembic_ini_works_for_developers(url):
    """``alembic -c alembic.ini`` (README) migrates MATCHER_DATABASE_URL and finds no drift."""
    env = {**os.environ, "MATCHER_DATABASE_URL": url}
    for arguments in (["upgrade", "head"], ["check"], ["current"]):
        done = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), *arguments],
            capture_output=True, text=True, check=False, env=env, cwd=REPO,
        )
        assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [head(), "(head)"]
