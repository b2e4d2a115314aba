"""The app in the test process: on a fresh migrated database, with Flask's test
client, an organiser, and Socket.IO test clients."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from matcher.accounts import create_organiser
from tests.support.mail import register_outbox
from web import create_app
from web.extensions import socketio

#: Steps of the café search in the tests' apps and services: far more than a
#: small café needs (it stops sooner once the plan meets its bounds).
CAFE_STEPS = 20_000


def new_app(database_url: str, outbox, **config):
    """The app on ``database_url`` (migrated), mail to ``outbox`` (its job queue
    beside it), as tests use it."""
    made = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        "ROUND_TIME_LIMIT": 5.0,
        # Café rounds bounded by work: quick, and the same on a busy machine.
        "CAFE_TIME_LIMIT": 30.0,
        "CAFE_STEPS": CAFE_STEPS,
        "MAIL_URL": outbox.as_uri(),
        "QUEUE_FOLDER": str(Path(outbox).parent / "queue"),
        # Links in mail composed by the worker, as the test client's requests make them.
        "BASE_URL": "http://localhost",
        **config,
    })
    register_outbox(outbox, made.extensions["matcher.jobs"])
    return made


def build_once(databases, folder, build, **config):
    """Data that a module's tests all start from, built once: a new migrated
    database from ``databases``, the app on it (mail to ``folder``), and
    ``build(app, client)``. Returns the database's URL (each test works on
    ``databases.copy`` of it) and what ``build`` returned."""
    url = databases.new("world", migrated=True)
    app = new_app(url, folder / "outbox", **config)
    try:
        return url, build(app, app.test_client())
    finally:
        app.extensions["matcher.engine"].dispose()


@contextmanager
def app_on_copy(databases, url, outbox, **config):
    """The app on a fresh copy (``databases.copy``) of the database at ``url``
    (one :func:`build_once` made); its engine disposed at the end."""
    made = new_app(databases.copy(url, "app"), outbox, **config)
    try:
        yield made
    finally:
        made.extensions["matcher.engine"].dispose()


@pytest.fixture
def outbox(tmp_path):
    """Where the ``app`` fixture's mail goes (see :mod:`tests.support.mail`)."""
    return tmp_path / "outbox"


@pytest.fixture
def app(databases, outbox):
    made = new_app(databases.new("app", migrated=True), outbox)
    yield made
    made.extensions["matcher.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def organiser_token(app):
    """An organiser of the ``app`` fixture; their API token."""
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
