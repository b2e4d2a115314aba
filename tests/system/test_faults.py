"""Faults, against the real server (`python -m matcher serve`) on the suite's
database (tests/conftest.py: SQLite or PostgreSQL):

- the server killed (SIGKILL) mid-café and started again carries on with the same
  round and the same seats, and phones that reconnect by themselves get theirs;
- a round is stored whole or not at all: the database fails in the middle of
  writing one (a trigger raises on the Nth group member, as a full disk would), or
  the server is killed while it is writing one; either way no part of the round
  is left, nobody is told of it, and publishing again works.

The faults come from the database and the operating system: nothing of matcher's
own is replaced or mocked (tests/support/database.py)."""

from __future__ import annotations

import time

import pytest

from tests.support.database import Database
from tests.support.live import Listener, wait_all
from tests.support.servers import call

PEOPLE = 9


def test_a_cafe_carries_on_after_the_server_is_killed(server_env, start_server, organiser):
    server = start_server(server_env)
    base = server.base
    status, cafe = call(base, "POST", "/api/v1/cafes", {
        "name": "Crash café", "tables": 3, "rounds": 3, "round_minutes": 20,
        "questions": ["One?", "Two?", "Three?"]}, organiser)
    assert status == 201, cafe
    code = cafe["code"]
    people = []
    for k in range(PEOPLE):
        status, body = call(base, "POST", f"/api/v1/cafes/{code}/participants", {
            "name": f"Person {k}", "department": ["A", "B", "C"][k % 3]})
        assert status == 201, body
        people.append(body)
    # Phones that reconnect by themselves (as the page's Socket.IO client does),
    # over WebSocket and long-polling.
    phones = {p["participant_id"]: Listener(
        base, p["token"], transports=["websocket"] if k % 2 else ["polling"],
        reconnect=True).connect() for k, p in enumerate(people)}
    try:
        for number in (1, 2):
            status, body = call(base, "POST", f"/api/v1/cafes/{code}/rounds/next",
                                {"seed": number}, organiser)
            assert status == 200, body
        wait_all(phones.values(), lambda phone: any(s["round"] == 2 for s in phone.of("seat")),
                 "every seat of round 2")
        status, before = call(base, "GET", f"/api/v1/cafes/{code}", None, organiser)
        assert (before["status"], before["round"]) == ("running", 2)
        seats = {member: [s for s in phone.of("seat") if s["round"] == 2][-1]
                 for member, phone in phones.items()}
        connects = {member: phone.connects for member, phone in phones.items()}

        server.kill()
        server.start()  # the same port: the phones come back to it by themselves

        for member, phone in phones.items():
            phone.wait_for(lambda p=phone, m=member: p.connects > connects[m],
                           "every phone to reconnect")
        wait_all(phones.values(), lambda phone: len(
            [s for s in phone.of("seat") if s["round"] == 2]) >= 2,
            "every seat again after reconnecting")
        for member, phone in phones.items():
            again = [s for s in phone.of("seat") if s["round"] == 2][-1]
            assert again == seats[member], "a phone got another seat after the restart"
        status, after = call(base, "GET", f"/api/v1/cafes/{code}", None, organiser)
        assert status == 200
        for key in ("status", "round", "ends_at", "present", "table_count"):
            assert after[key] == before[key], key
        assert after["plan"]["rounds"][:2] == before["plan"]["rounds"][:2]

        # And the café goes on: the next round from the plan made before the crash.
        status, body = call(base, "POST", f"/api/v1/cafes/{code}/rounds/next",
                            {"seed": 3}, organiser)
        assert status == 200, body
        assert body["round"] == 3
        planned = before["plan"]["rounds"][2]["tables"]
        assert [t["members"] for t in body["tables"]] == [t["members"] for t in planned]
        wait_all(phones.values(), lambda phone: any(s["round"] == 3 for s in phone.of("seat")),
                 "every seat of round 3")
    finally:
        for phone in phones.values():
            phone.close()


def a_trial(base, organiser, people=PEOPLE):
    status, trial = call(base, "POST", "/api/v1/trials", {"name": "Fault trial",
                                                          "confirm_email": False}, organiser)
    assert status == 201, trial
    signed = []
    for k in range(people):
        status, body = call(base, "POST", f"/api/v1/trials/{trial['id']}/signups", {
            "join_code": trial["join_code"], "name": f"Person {k}",
            "email": f"p{k}@example.org", "department": ["A", "B", "C"][k % 3]})
        assert status == 201, body
        signed.append(body)
    return trial, signed


def nothing_of_a_round(database: Database, base, trial, organiser) -> None:
    assert database.rows_of_rounds() == {"round": 0, "group": 0, "group_member": 0}
    status, details = call(base, "GET", f"/api/v1/trials/{trial['id']}", None, organiser)
    assert status == 200 and details["rounds"] == []


@pytest.mark.parametrize("kind", ["trial", "cafe"])
def test_a_round_the_database_fails_to_store_is_not_stored_at_all(
        kind, server, live_database):
    base, organiser = server
    database = Database(live_database)
    if kind == "trial":
        trial, people = a_trial(base, organiser)
        path, ok = f"/api/v1/trials/{trial['id']}/rounds", 201
        body = {"publish": True, "seed": 1}
        listeners = [Listener(base, p["token"]).connect() for p in people]
        check_empty = lambda: nothing_of_a_round(database, base, trial, organiser)  # noqa: E731
    else:
        status, cafe = call(base, "POST", "/api/v1/cafes",
                            {"name": "Fault café", "tables": 3, "rounds": 2}, organiser)
        assert status == 201
        people = [call(base, "POST", f"/api/v1/cafes/{cafe['code']}/participants", {
            "name": f"Person {k}", "department": ["A", "B", "C"][k % 3]})[1]
            for k in range(PEOPLE)]
        path, ok = f"/api/v1/cafes/{cafe['code']}/rounds/next", 200
        body = {"seed": 1}
        listeners = [Listener(base, p["token"]).connect() for p in people]

        def check_empty():
            assert database.rows_of_rounds() == {"round": 0, "group": 0, "group_member": 0}
            status, details = call(base, "GET", f"/api/v1/cafes/{cafe['code']}", None,
                                   organiser)
            assert (details["status"], details["round"], details["table_count"]) == (
                "lobby", 0, None)
            assert not any(r["played"] for r in details["plan"]["rounds"])
    try:
        # The 5th of 9 group members fails: the round and its groups are written
        # by then, in the same transaction.
        database.fail_on_insert("group_member", 5)
        for _attempt in range(2):  # the same fault again: still nothing half-stored
            status, reply = call(base, "POST", path, body, organiser)
            assert status >= 400, reply
            check_empty()
        time.sleep(0.3)  # a push of the failed round would have arrived by now
        assert all(not one.of("match") and not one.of("seat") for one in listeners)

        database.remove_faults()
        status, reply = call(base, "POST", path, body, organiser)
        assert status == ok, reply
        assert reply["round"] == 1
        assert database.rows_of_rounds()["group_member"] == PEOPLE
        event = "match" if kind == "trial" else "seat"
        wait_all(listeners, lambda one: one.of(event), f"every {event} of the retried round")
    finally:
        for one in listeners:
            one.close()


def test_a_round_being_written_when_the_server_is_killed_is_not_stored_at_all(
        server_env, start_server, organiser, live_database):
    database = Database(live_database)
    # PostgreSQL notices a dead client within 0.1 s (for the server's connections).
    database.notice_dead_clients()
    server = start_server(server_env)
    base = server.base
    trial, people = a_trial(base, organiser)
    database.hang_on_insert("group_member", 5)
    publishing = _in_background(lambda: call(base, "POST", f"/api/v1/trials/{trial['id']}/rounds",
                                             {"publish": True, "seed": 1}, organiser))
    database.wait_until_hanging()
    server.kill()  # in the middle of writing the round
    publishing.join(timeout=30)
    database.wait_until_no_hanging_transaction()
    database.remove_faults()
    if database.sqlite:  # the file and its write-ahead log came through the crash intact
        assert database.scalar("PRAGMA integrity_check") == "ok"
    server.start()
    nothing_of_a_round(database, base, trial, organiser)

    listeners = [Listener(base, p["token"]).connect() for p in people]
    try:
        status, reply = call(base, "POST", f"/api/v1/trials/{trial['id']}/rounds",
                             {"publish": True, "seed": 1}, organiser)
        assert status == 201, reply
        assert reply["round"] == 1
        assert database.rows_of_rounds()["group_member"] == PEOPLE
        wait_all(listeners, lambda one: one.of("match"), "every match of the round")
    finally:
        for one in listeners:
            one.close()


def _in_background(work):
    import threading

    def run():
        try:
            work()
        except OSError:
            pass  # the server died under the request: expected

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
