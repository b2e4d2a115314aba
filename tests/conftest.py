"""Shared fixtures: the app on a fresh SQLite file, its test client, an organiser."""

import email
import email.policy
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

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


@pytest.fixture
def server(tmp_path):
    env = dict(os.environ, MATCHER_DATABASE_URL=f"sqlite:///{tmp_path / 'live.sqlite3'}",
               MATCHER_SECRET_KEY="test", MATCHER_MAIL_URL=(tmp_path / "outbox").as_uri())
    created = subprocess.run(
        [sys.executable, "-m", "matcher", "organiser", "create", "org@example.org"],
        env=env, capture_output=True, text=True, check=True)
    token = created.stdout.strip().splitlines()[-1]
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "matcher", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"server exited: {process.stderr.read().decode()}")
            time.sleep(0.2)
    else:
        pytest.fail("server did not start within 30 s")
    yield base, token
    process.terminate()
    process.wait(timeout=10)
