"""The real server (`python -m matcher serve`) in a subprocess, one for the
module, driven over HTTP and WebSocket (and long-polling) by python-socketio's
client:

- a coffee trial: 20 participants each receive their own match;
- a live café: 30 people join over HTTP and follow it (half over WebSocket, half
  long-polling); the host runs three rounds and every phone gets its own seat in
  each, at once again after a reconnect; a note at every table in every round
  reaches that table's phones only, the next group sees it, and the harvest
  holds each exactly once."""

import csv
import io
import threading
import time
import urllib.request

import pytest
import socketio

from tests.support.servers import call


def test_twenty_participants_each_receive_their_own_match(module_server):
    base, organiser = module_server
    status, trial = call(base, "POST", "/api/v1/trials", {"name": "Live",
                                                          "confirm_email": False}, organiser)
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


# --- a live café ---------------------------------------------------------------------

PEOPLE = 30
ROUNDS = 3
TABLES = 6
WAIT = 15  # seconds: generous limits on waiting, never a fixed sleep


class Phone:
    """One participant's Socket.IO connection and what it received."""

    def __init__(self, base, person, transports, log):
        self.base, self.person, self.transports, self.log = base, person, transports, log
        self.seats = []
        self.states = []
        self.notes = []
        self.client = None

    def connect(self):
        client = socketio.Client(reconnection=False)
        client.on("seat", self._seat)
        client.on("cafe_state", self._state)
        client.on("note", self._note)
        client.connect(self.base, auth={"token": self.person["token"]},
                       transports=self.transports, wait_timeout=10)
        self.client = client

    def _seat(self, data):
        with self.log.changed:
            self.seats.append(data)
            self.log.changed.notify_all()

    def _state(self, data):
        with self.log.changed:
            self.states.append(data)
            self.log.changed.notify_all()

    def _note(self, data):
        with self.log.changed:
            self.notes.append(data)
            self.log.changed.notify_all()

    def seats_of(self, number):
        return [s for s in self.seats if s["round"] == number]


class Log:
    """Lets the test wait until the phones have received something."""

    def __init__(self):
        self.changed = threading.Condition()

    def wait(self, ready, what):
        with self.changed:
            assert self.changed.wait_for(ready, timeout=WAIT), f"timed out waiting for {what}"


def check_round(body, ids, number):
    assert body["round"] == number
    assert [t["table"] for t in body["tables"]] == list(range(1, TABLES + 1))
    seated = [p for t in body["tables"] for p in t["members"]]
    assert sorted(seated) == sorted(ids), "not everyone exactly once"
    sizes = [len(t["members"]) for t in body["tables"]]
    assert max(sizes) - min(sizes) <= 1


def test_thirty_phones_follow_a_live_cafe(module_server):
    base, organiser = module_server
    status, cafe = call(base, "POST", "/api/v1/cafes", {
        "name": "Live café", "tables": TABLES, "rounds": ROUNDS,
        "questions": ["One?", "Two?", "Three?"]}, organiser)
    assert status == 201, cafe
    code = cafe["code"]
    people = []
    for k in range(PEOPLE):
        status, body = call(base, "POST", f"/api/v1/cafes/{code}/participants", {
            "name": f"Person {k}", "department": ["A", "B", "C", "D", "E"][k % 5]})
        assert status == 201, body
        people.append(body)
    ids = [p["participant_id"] for p in people]
    names = {p["participant_id"]: f"Person {k}" for k, p in enumerate(people)}
    log = Log()
    phones = [Phone(base, person, ["websocket"] if k % 2 else ["polling"], log)
              for k, person in enumerate(people)]
    written = {}  # note id: (round, table)
    try:
        for phone in phones:
            phone.connect()
        # Each phone is told the state on connect: everyone is here, in the lobby.
        log.wait(lambda: all(p.states for p in phones), "the state on connect")
        assert all(p.states[0]["status"] == "lobby" for p in phones)
        assert all(p.seats == [] for p in phones)

        for number in range(1, ROUNDS + 1):
            status, body = call(base, "POST", f"/api/v1/cafes/{code}/rounds/next",
                                {"seed": number}, organiser)
            assert status == 200, body
            check_round(body, ids, number)
            log.wait(lambda n=number: all(p.seats_of(n) for p in phones),
                     f"every seat of round {number}")
            table_of = {m: t for t in body["tables"] for m in t["members"]}
            for phone in phones:
                mine = phone.seats_of(number)
                assert len(mine) == 1, "a phone got someone else's seat, or its own twice"
                seat, me = mine[0], phone.person["participant_id"]
                table = table_of[me]
                assert (seat["join_code"], seat["table"]) == (code, table["table"])
                assert seat["question"] == ["One?", "Two?", "Three?"][number - 1]
                assert sorted(c["name"] for c in seat["companions"]) == sorted(
                    names[m] for m in table["members"] if m != me)
                assert all(set(c) == {"name", "department"} for c in seat["companions"])

            # The group at each table sees the notes written there before.
            for phone in phones:
                seat, me = phone.seats_of(number)[0], phone.person["participant_id"]
                assert sorted(n["note_id"] for n in seat["earlier_notes"]) == sorted(
                    n for n, (_, t) in written.items() if t == table_of[me]["table"])
            # A note at every table, from one of its people: it reaches that table's
            # phones, and no other table's.
            round_notes = {}
            for table in body["tables"]:
                writer = next(p for p in phones
                              if p.person["participant_id"] == table["members"][0])
                status, made = call(base, "POST", f"/api/v1/cafes/{code}/notes",
                                    {"text": f"Round {number}, table {table['table']}"},
                                    writer.person["token"])
                assert status == 201, made
                round_notes[made["note_id"]] = (number, table["table"])
            written.update(round_notes)
            log.wait(lambda n=number: all(
                len([x for x in p.notes if x["round"] == n]) >= 1 for p in phones),
                f"the notes of round {number}")
            for phone in phones:
                got = [x for x in phone.notes if x["round"] == number]
                mine = table_of[phone.person["participant_id"]]["table"]
                assert [(x["round"], x["table"]) for x in got] == [(number, mine)], \
                    "a note reached another table, or twice"

            if number == 2:
                # Two phones (one of each transport) drop out mid-round and come back.
                for phone in phones[:2]:
                    before = phone.seats_of(2)[0]
                    phone.client.disconnect()
                    phone.seats.clear()
                    phone.connect()
                    log.wait(lambda p=phone: p.seats, "the seat after a reconnect")
                    [again] = phone.seats
                    # The same seat, now with the notes its table wrote this round.
                    assert {k: v for k, v in again.items() if k != "notes"} == {
                        k: v for k, v in before.items() if k != "notes"}
                    assert [n["text"] for n in again["notes"]] == [
                        f"Round 2, table {before['table']}"]

        status, details = call(base, "GET", f"/api/v1/cafes/{code}", None, organiser)
        assert status == 200
        assert (details["status"], details["round"]) == ("running", ROUNDS)
        status, _ = call(base, "POST", f"/api/v1/cafes/{code}/rounds/next", {}, organiser)
        assert status == 409  # after the last round
        status, state = call(base, "POST", f"/api/v1/cafes/{code}/end", {}, organiser)
        assert status == 200 and state["status"] == "finished"
        log.wait(lambda: all(p.states[-1]["status"] == "finished" for p in phones),
                 "the end on every phone")
        # The harvest: every note exactly once, at its round and table.
        status, record = call(base, "GET", f"/api/v1/cafes/{code}/harvest", None, organiser)
        assert status == 200
        kept = [(n["note_id"], r["round"], t["table"], n["text"]) for r in record["rounds"]
                for t in r["tables"] for n in t["notes"]]
        assert sorted(kept) == sorted((i, r, t, f"Round {r}, table {t}")
                                      for i, (r, t) in written.items())
        assert len(kept) == ROUNDS * TABLES
        request = urllib.request.Request(f"{base}/api/v1/cafes/{code}/harvest.csv",
                                         headers={"Authorization": f"Bearer {organiser}"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            rows = list(csv.DictReader(io.StringIO(reply.read().decode())))
        assert sorted((int(r["round"]), int(r["table"]), r["text"]) for r in rows) == sorted(
            (r, t, f"Round {r}, table {t}") for r, t in written.values())
    finally:
        for phone in phones:
            if phone.client is not None and phone.client.connected:
                phone.client.disconnect()
