"""The real server (`python -m matcher serve`) in a subprocess, driven over HTTP and
WebSocket by python-socketio's client: 20 participants each receive their own match."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
import socketio


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
               MATCHER_SECRET_KEY="test")
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


def test_twenty_participants_each_receive_their_own_match(server):
    base, organiser = server
    status, trial = call(base, "POST", "/api/v1/trials", {"name": "Live"}, organiser)
    assert status == 201
    people = []
    for k in range(20):
        status, body = call(base, "POST", f"/api/v1/trials/{trial['id']}/signups", {
            "join_code": trial["join_code"], "name": f"Person {k}",
            "email": f"p{k}@example.org", "department": ["A", "B", "C", "D"][k % 4]})
        assert status == 201, body
        people.append(body)
    received = {p["participant_id"]: [] for p in people}
    arrived = threading.Event()
    clients = []
    for person in people:
        client = socketio.Client(reconnection=False)

        def on_match(data, who=person["participant_id"]):
            received[who].append(data)
            if all(received.values()):
                arrived.set()

        client.on("match", on_match)
        transports = ["websocket"] if len(clients) % 2 else ["polling", "websocket"]
        client.connect(base, auth={"token": person["token"]}, transports=transports,
                       wait_timeout=10)
        clients.append(client)
    try:
        status, published = call(base, "POST", f"/api/v1/trials/{trial['id']}/rounds",
                                 {"publish": True, "seed": 5}, organiser)
        assert status == 201, published
        assert arrived.wait(10), "not every participant received a match"
        time.sleep(0.5)  # anything extra would arrive now
        names = {p["participant_id"]: f"Person {k}" for k, p in enumerate(people)}
        for group in published["groups"]:
            for member in group["members"]:
                assert len(received[member]) == 1
                match = received[member][0]
                assert match["round"] == 1
                expected = sorted(names[m] for m in group["members"] if m != member)
                assert sorted(p["name"] for p in match["partners"]) == expected
        refused = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            refused.connect(base, auth={"token": "wrong"}, wait_timeout=5)
    finally:
        for client in clients:
            client.disconnect()
