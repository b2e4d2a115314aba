"""Organiser accounts: the services, and ``python -m matcher organiser create``
(docs/commands.md)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from matcher import db
from matcher.__main__ import main
from matcher.accounts import (
    AccountError,
    check_password,
    create_organiser,
    organiser_for_token,
    set_password,
)
from matcher.models import ApiToken, Base, Organiser


@pytest.fixture
def url(database_url):
    """A fresh database (SQLite or PostgreSQL: tests/conftest.py)."""
    return database_url


@pytest.fixture
def engine(url):
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with db.make_session_factory(engine)() as session:
        yield session


def run(url, *arguments, stdin=None, process=False):
    """``python -m matcher ...`` on the database at ``url``: its exit status and
    what it printed. In this process (its ``main``, with its own environment,
    standard input and outputs): a new Python would spend seconds importing
    before each; with ``process``, as a process of its own (one test does)."""
    if process:
        return subprocess.run(
            [sys.executable, "-m", "matcher", *arguments],
            input=stdin, capture_output=True, text=True, check=False,
            env={**os.environ, "MATCHER_DATABASE_URL": url},
        )
    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get(db.DATABASE_URL_VARIABLE), sys.stdin
    os.environ[db.DATABASE_URL_VARIABLE] = url
    sys.stdin = io.StringIO(stdin or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(arguments))
    finally:
        if saved[0] is None:
            os.environ.pop(db.DATABASE_URL_VARIABLE, None)
        else:
            os.environ[db.DATABASE_URL_VARIABLE] = saved[0]
        sys.stdin = saved[1]
    return subprocess.CompletedProcess(arguments, status, out.getvalue(), err.getvalue())


def every_value(engine) -> list[str]:
    """Every value in every table, as text."""
    values = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                values.extend(str(value) for value in row)
    return values


def stored_bytes(url) -> bytes:
    """The SQLite database file and its write-ahead log, as they are on disk."""
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


# --- services ----------------------------------------------------------------

def test_create_organiser_returns_a_token_that_authenticates(session):
    organiser, token = create_organiser(session, "  Ann@Example.ORG ", name=" Ann  Lee ")
    session.commit()
    assert (organiser.email, organiser.name) == ("ann@example.org", "Ann Lee")
    assert organiser.password_hash is None
    assert len(token) >= 43  # 32 random bytes
    assert organiser_for_token(session, token) is organiser
    assert organiser_for_token(session, token + "x") is None
    assert organiser_for_token(session, token[:-1]) is None
    assert organiser_for_token(session, "") is None
    assert organiser_for_token(session, None) is None
    assert organiser_for_token(session, "\udc80") is None


def test_each_organiser_gets_their_own_token(session):
    ann, ann_token = create_organiser(session, "ann@example.org")
    bob, bob_token = create_organiser(session, "bob@example.org")
    session.commit()
    assert ann_token != bob_token
    assert organiser_for_token(session, ann_token) is ann
    assert organiser_for_token(session, bob_token) is bob


@pytest.mark.parametrize("email", ["", "   ", "ann", "ann@", "@example.org", "ann@example",
                                   "a b@example.org", "ann@@example.org", 42, None,
                                   "a" * 320 + "@example.org"])
def test_bad_emails_are_refused(session, email):
    with pytest.raises(AccountError) as caught:
        create_organiser(session, email)
    assert (caught.value.status, caught.value.field) == (400, "email")
    assert session.scalars(select(Organiser)).all() == []


def test_a_taken_email_is_refused_whatever_its_case(session):
    create_organiser(session, "ann@example.org")
    session.commit()
    with pytest.raises(AccountError, match="exists already") as caught:
        create_organiser(session, "ANN@example.org")
    assert (caught.value.status, caught.value.code, caught.value.field) == (
        409, "conflict", "email")


@pytest.mark.parametrize("password", ["", "short", "1234567", "x" * 1025])
def test_bad_passwords_are_refused(session, password):
    with pytest.raises(AccountError) as caught:
        create_organiser(session, "ann@example.org", password=password)
    assert (caught.value.status, caught.value.field) == (400, "password")


def test_passwords_are_checked_against_an_argon2_hash(session):
    organiser, _ = create_organiser(session, "ann@example.org", password="correct horse")
    session.commit()
    assert organiser.password_hash.startswith("$argon2id$")
    assert "correct horse" not in organiser.password_hash
    assert check_password(organiser, "correct horse")
    assert not check_password(organiser, "correct horse ")
    assert not check_password(organiser, "wrong password")
    assert not check_password(organiser, "")
    assert not check_password(organiser, None)
    set_password(organiser, "battery staple")
    assert check_password(organiser, "battery staple")
    assert not check_password(organiser, "correct horse")


def test_no_password_no_organiser_or_a_broken_hash_never_signs_in(session):
    organiser, _ = create_organiser(session, "ann@example.org")
    assert not check_password(organiser, "")
    assert not check_password(organiser, "anything at all")
    assert not check_password(None, "anything at all")
    organiser.password_hash = "not a hash"
    assert not check_password(organiser, "not a hash")


# --- python -m matcher organiser create --------------------------------------

def test_organiser_create_prints_the_token_last_and_it_authenticates(url):
    done = run(url, "organiser", "create", "Ann@Example.org", "--name", "Ann Lee",
               process=True)
    assert done.returncode == 0, done.stderr
    token = done.stdout.splitlines()[-1]
    assert "ann@example.org" in done.stderr
    assert "Traceback" not in done.stderr

    engine = db.make_engine(url)  # the command migrated the database
    assert db.current_revision(engine) is not None
    with db.make_session_factory(engine)() as session:
        organiser = organiser_for_token(session, token)
        assert organiser is not None
        assert (organiser.email, organiser.name) == ("ann@example.org", "Ann Lee")
        assert organiser.password_hash is None
    engine.dispose()


def test_the_database_stores_no_token_and_no_password(url):
    password = "a long secret passphrase"
    done = run(url, "organiser", "create", "ann@example.org", "--password-stdin",
               stdin=password + "\n")
    assert done.returncode == 0, done.stderr
    token = done.stdout.splitlines()[-1]

    engine = db.make_engine(url)
    values = every_value(engine)
    assert "ann@example.org" in values  # the search does see the data
    assert not any(token in value or password in value for value in values)
    with engine.connect() as connection:
        hashes = connection.execute(select(ApiToken.token_hash)).scalars().all()
    assert len(hashes) == 1 and len(hashes[0]) == 64
    engine.dispose()
    if not url.startswith("sqlite"):
        return  # PostgreSQL's files are the server's: the values above are what it stores
    on_disk = stored_bytes(url)
    assert b"ann@example.org" in on_disk
    assert token.encode() not in on_disk
    assert password.encode() not in on_disk


def test_a_duplicate_email_exits_2_with_one_line(url):
    assert run(url, "organiser", "create", "ann@example.org").returncode == 0
    done = run(url, "organiser", "create", "ANN@example.org")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: an organiser with email ann@example.org exists already"]


@pytest.mark.parametrize("email", ["ann", "ann@example", ""])
def test_a_bad_email_exits_2_with_one_line(url, email):
    done = run(url, "organiser", "create", email)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: ") and "email" in done.stderr


def test_password_stdin_sets_the_password(url):
    done = run(url, "organiser", "create", "ann@example.org", "--password-stdin",
               stdin="  spaces kept  \r\n")
    assert done.returncode == 0, done.stderr
    engine = db.make_engine(url)
    with db.make_session_factory(engine)() as session:
        organiser = organiser_for_token(session, done.stdout.splitlines()[-1])
        assert check_password(organiser, "  spaces kept  ")
        assert not check_password(organiser, "spaces kept")
        assert not check_password(organiser, "another password")
    engine.dispose()


@pytest.mark.parametrize("stdin", ["", "\n", "1234567\n"])
def test_password_stdin_refuses_short_passwords_before_touching_the_database(tmp_path, stdin):
    url = f"sqlite:///{tmp_path / 'never.sqlite3'}"
    done = run(url, "organiser", "create", "ann@example.org", "--password-stdin", stdin=stdin)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "password" in done.stderr
    assert not (tmp_path / "never.sqlite3").exists()


def test_usage_errors_exit_2():
    assert run("sqlite://", "organiser").returncode == 2
    assert run("sqlite://", "organiser", "create").returncode == 2
    assert run("sqlite://").returncode == 2
    done = run("sqlite://", "organiser", "create", "--help")
    assert done.returncode == 0
    assert "--password-stdin" in done.stdout


def test_an_unusable_database_url_exits_with_one_line(tmp_path):
    done = run("not a url", "organiser", "create", "ann@example.org")
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "MATCHER_DATABASE_URL" in done.stderr
    done = run(f"sqlite:///{tmp_path / 'missing' / 'folder.sqlite3'}",
               "organiser", "create", "ann@example.org")
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
