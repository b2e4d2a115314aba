"""The real server (`python -m matcher serve`) in a subprocess, driven over HTTP and
WebSocket by python-socketio's client: 20 participants each receive their own match."""

import threading
import time

import pytest
import socketio

from tests.conftest import call


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
