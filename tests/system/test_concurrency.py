"""Requests that race, against the real server (`python -m matcher serve`) on the
suite's database (tests/conftest.py): two "next round" requests on a café, or two
"publish" requests on a trial, at the same moment advance exactly one round (the
other is told 409, and leaves nothing behind); two sign-ups with one email at the
same moment give one participant and one 409.

"At the same moment" is made certain rather than left to chance: the test holds
the database's write lock (tests/support/database.py) while both requests arrive,
waits until both have read what they need and are waiting to write, and lets go.
Each race runs against one server process and against two processes sharing the
database (the two requests going to different processes).

One process on SQLite is left out of the round races: a gevent process makes
SQLite's calls one at a time, never switching requests in the middle of one, so
two requests to one such process never overlap: the second sees the round the
first stored, and (without an ``after`` round in the request: see
tests/test_reliability.py) is another "next round"."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request

import pytest

from tests.support.database import Database
from tests.support.servers import Servers, call, new_organiser, server_environment

ONE_SQLITE_PROCESS_IS_SERIAL = pytest.mark.postgresql_only(
    "one gevent process runs SQLite calls one at a time: two requests to it never overlap")
#: Races against one server process and against two (module-wide servers, one
#: database: each race has a café or trial of its own).
ROUND_RACES = pytest.mark.parametrize("cluster", [
    pytest.param(1, id="one process", marks=ONE_SQLITE_PROCESS_IS_SERIAL),
    pytest.param(2, id="two processes")], indirect=True, scope="module")
SIGN_UP_RACES = pytest.mark.parametrize("cluster", [
    pytest.param(1, id="one process"),
    pytest.param(2, id="two processes")], indirect=True, scope="module")


@pytest.fixture(scope="module")
def shared(module_databases, tmp_path_factory):
    """One database for the module's races (each race has its own café or trial),
    with an organiser: its URL, the servers' environment and the token."""
    url = module_databases.new("live", migrated=True)
    folder = tmp_path_factory.mktemp("races")
    return url, server_environment(url, folder), new_organiser(url), folder


@pytest.fixture(scope="module")
def cluster(request, shared):
    """``request.param`` server processes on the module's database: the servers,
    the organiser's token and the database."""
    url, env, organiser, folder = shared
    logs = folder / f"{request.param}-processes"
    logs.mkdir()
    servers = Servers(logs)
    started = servers(env, count=request.param)
    yield (started if isinstance(started, list) else [started]), organiser, Database(url)
    servers.stop_all()


def send(base, method, path, body, token=None):
    """One request on its own connection: (status, body)."""
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=90) as reply:
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def race(servers, database: Database, tables, method, path, body, token=None):
    """The same request twice at the same moment (to two processes if there are
    two): both read, both wait to write, then the lock is let go. Their replies."""
    targets = [servers[0], servers[-1]]
    results: list = [None, None]

    def one(k):
        results[k] = send(targets[k].base, method, path, body, token)

    threads = [threading.Thread(target=one, args=(k,), daemon=True) for k in range(2)]
    # One process makes SQLite's calls one at a time: no lock is needed (or
    # possible) to have both requests in flight together.
    locking = not (database.sqlite and len(servers) == 1)
    with database.writes_held(*tables) if locking else contextlib.nullcontext():
        for thread in threads:
            thread.start()
        if locking:
            database.wait_for_waiting_writers(2, [s.pid for s in servers])
            assert results == [None, None], "a request finished while writing was locked"
    for thread in threads:
        thread.join(timeout=120)
    assert None not in results, f"a request got no answer: {results}"
    return results


def seated(database, owner, owner_id):
    """Group members (seats, places) in the rounds of one café or trial."""
    return database.scalar(
        "SELECT count(*) FROM group_member JOIN round ON group_member.round_id = round.id "
        f"WHERE round.{owner} = ?", owner_id)


def statuses(results):
    return sorted(status for status, _ in results)


def loser(results):
    return next(body for status, body in results if status == 409)


@ROUND_RACES
def test_two_next_round_requests_at_once_advance_one_round(cluster):
    servers, organiser, database = cluster
    base = servers[0].base
    status, cafe = call(base, "POST", "/api/v1/cafes",
                        {"name": "Race café", "tables": 3, "rounds": 4}, organiser)
    assert status == 201, cafe
    code = cafe["code"]
    for k in range(9):
        status, body = call(base, "POST", f"/api/v1/cafes/{code}/participants", {
            "name": f"Person {k}", "department": ["A", "B", "C"][k % 3]})
        assert status == 201, body
    path = f"/api/v1/cafes/{code}/rounds/next"
    # Starting the café (planning every round), then the next round (from the plan).
    for number in (1, 2):
        results = race(servers, database, ["round"], "POST", path, {"seed": number}, organiser)
        assert statuses(results) == [200, 409], results
        assert next(body for status, body in results if status == 200)["round"] == number
        assert loser(results)["error"]["code"] == "conflict"
        status, details = call(base, "GET", f"/api/v1/cafes/{code}", None, organiser)
        assert details["round"] == number
        assert sum(r["played"] for r in details["plan"]["rounds"]) == number
        assert database.scalar("SELECT count(*) FROM round WHERE cafe_id = ?",
                               cafe["id"]) == number
        assert seated(database, "cafe_id", cafe["id"]) == 9 * number
    status, body = call(servers[-1].base, "POST", path, {}, organiser)
    assert status == 200 and body["round"] == 3


@ROUND_RACES
def test_two_publish_requests_at_once_publish_one_round(cluster):
    servers, organiser, database = cluster
    base = servers[0].base
    status, trial = call(base, "POST", "/api/v1/trials", {"name": "Race",
                                                          "confirm_email": False}, organiser)
    assert status == 201
    for k in range(12):
        status, body = call(base, "POST", f"/api/v1/trials/{trial['id']}/signups", {
            "join_code": trial["join_code"], "name": f"Person {k}",
            "email": f"p{k}@example.org", "department": ["A", "B", "C"][k % 3]})
        assert status == 201, body
    path = f"/api/v1/trials/{trial['id']}/rounds"
    for number in (1, 2):
        results = race(servers, database, ["round"], "POST", path,
                       {"publish": True, "seed": number}, organiser)
        assert statuses(results) == [201, 409], results
        assert loser(results)["error"]["code"] == "conflict"
        status, details = call(base, "GET", f"/api/v1/trials/{trial['id']}", None, organiser)
        assert [r["round"] for r in details["rounds"]] == list(range(1, number + 1))
        assert seated(database, "trial_id", trial["id"]) == 12 * number


@SIGN_UP_RACES
def test_sign_ups_with_one_email_at_once_give_one_participant(cluster):
    servers, organiser, database = cluster
    status, trial = call(servers[0].base, "POST", "/api/v1/trials",
                         {"name": "Race", "confirm_email": False}, organiser)
    assert status == 201
    path = f"/api/v1/trials/{trial['id']}/signups"
    emails = [f"ann.{len(servers)}@example.org", f"bob.{len(servers)}@example.org"]
    for k, email in enumerate(emails):
        body = {"join_code": trial["join_code"], "name": email[:3].title(), "email": email,
                "department": "IT"}
        results = race(servers, database, ["person", "membership"], "POST", path, body)
        assert statuses(results) == [201, 409], results
        assert loser(results)["error"]["code"] in ("conflict", "already_signed_up")
        assert "token" not in loser(results)
        status, details = call(servers[-1].base, "GET", f"/api/v1/trials/{trial['id']}", None,
                               organiser)
        assert sorted(p["email"] for p in details["participants"]) == emails[:k + 1]
        assert database.scalar("SELECT count(*) FROM person WHERE email = ?", email) == 1
        assert database.scalar("SELECT count(*) FROM membership WHERE trial_id = ?",
                               trial["id"]) == k + 1
