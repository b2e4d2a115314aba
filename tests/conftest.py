"""Shared fixtures: the app on a fresh SQLite file, its test client, an organiser."""

import pytest

from matcher.accounts import create_organiser
from web import create_app
from web.extensions import socketio


@pytest.fixture
def app(tmp_path):
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "SECRET_KEY": "test",
        "ROUND_TIME_LIMIT": 5.0,
    })
    yield app
    app.extensions["matcher.engine"].dispose()


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
