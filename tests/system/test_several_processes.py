"""Two real server processes (`python -m matcher serve`) sharing one database and
Redis (``MATCHER_MESSAGE_QUEUE``): what one process publishes reaches participants
connected to the other, a trial's match and a café's seat alike.

The database is the suite's (tests/support/backends.py): PostgreSQL in PostgreSQL mode,
one SQLite file shared by both processes otherwise. Redis must be running (CI has
one): the tests fail, never skip, without it."""

from __future__ import annotations

import json
import time

import pytest
import redis

from tests.support.live import Listener, wait_all
from tests.support.servers import call
from web import queue_channel


@pytest.fixture(scope="module")
def two_servers(module_servers, redis_url):
    """Processes A and B on one database and one Redis, for the module's tests
    (each has its own trial or café); the organiser's token."""
    env = dict(module_servers.env, MATCHER_MESSAGE_QUEUE=redis_url)
    a, b = module_servers.servers(env, count=2)
    return a.base, b.base, module_servers.organiser


@pytest.fixture
def announcements(module_servers, redis_url):
    """Publish on the channel where the processes announce café rounds (web.fanout)."""
    client = redis.Redis.from_url(redis_url)
    channel = queue_channel(module_servers.database_url) + ":cafe-rounds"
    yield lambda message: client.publish(channel, message)
    client.close()


def test_a_round_published_through_one_process_reaches_participants_on_the_other(two_servers):
    a, b, organiser = two_servers
    status, trial = call(a, "POST", "/api/v1/trials", {"name": "Two processes",
                                                       "confirm_email": False}, organiser)
    assert status == 201, trial
    people = []
    for k in range(8):  # signing up through either process
        status, body = call(a if k % 2 else b, "POST", f"/api/v1/trials/{trial['id']}/signups", {
            "join_code": trial["join_code"], "name": f"Person {k}",
            "email": f"p{k}@example.org", "department": ["A", "B", "C", "D"][k % 4]})
        assert status == 201, body
        people.append(body)
    names = {p["participant_id"]: f"Person {k}" for k, p in enumerate(people)}
    # Six pages open on process B, two on A.
    pages = {p["participant_id"]: Listener(b if k < 6 else a, p["token"]).connect()
             for k, p in enumerate(people)}
    try:
        for number, through in ((1, a), (2, b)):
            status, published = call(through, "POST", f"/api/v1/trials/{trial['id']}/rounds",
                                     {"publish": True, "seed": number}, organiser)
            assert status == 201, published
            assert published["round"] == number
            wait_all(pages.values(), lambda page, n=number: any(
                m["round"] == n for m in page.of("match")), f"every match of round {number}")
            for group in published["groups"]:
                for member in group["members"]:
                    mine = [m for m in pages[member].of("match") if m["round"] == number]
                    assert len(mine) == 1, "a page missed its match or got it twice"
                    assert sorted(p["name"] for p in mine[0]["partners"]) == sorted(
                        names[m] for m in group["members"] if m != member)
        time.sleep(0.3)  # anything sent twice, or to the wrong page, would be here by now
        for page in pages.values():
            assert [m["round"] for m in page.of("match")] == [1, 2]
    finally:
        for page in pages.values():
            page.close()


def test_a_cafe_round_started_on_one_process_seats_phones_on_the_other(two_servers,
                                                                       announcements):
    """A round's seats cross between processes as one announcement (web.fanout);
    stray or stale announcements on that channel change nothing."""
    a, b, organiser = two_servers
    status, cafe = call(a, "POST", "/api/v1/cafes", {
        "name": "Two processes", "tables": 3, "rounds": 3,
        "questions": ["One?", "Two?", "Three?"]}, organiser)
    assert status == 201, cafe
    code = cafe["code"]
    people = []
    for k in range(9):
        status, body = call(b, "POST", f"/api/v1/cafes/{code}/participants", {
            "name": f"Person {k}", "department": ["A", "B", "C"][k % 3]})
        assert status == 201, body
        people.append(body)
    names = {p["participant_id"]: f"Person {k}" for k, p in enumerate(people)}
    # Seven phones on process B (over WebSocket and long-polling), two on A.
    phones = {p["participant_id"]: Listener(
        b if k < 7 else a, p["token"],
        transports=["websocket"] if k % 2 else ["polling"]).connect()
        for k, p in enumerate(people)}
    try:
        for number, through in ((1, a), (2, b)):
            if number == 2:
                for stray in (b"not json", b'{"origin": "x"}', b'{"origin": "x", "cafe": '
                              b'"one", "round": 1}', b'{"origin": "x", "cafe": 999999, '
                              b'"round": 1}'):
                    assert announcements(stray) == 2  # both processes are listening
                stale = {"origin": "x", "cafe": cafe["id"], "round": 7}
                announcements(json.dumps(stale))
            status, body = call(through, "POST", f"/api/v1/cafes/{code}/rounds/next",
                                {"seed": number}, organiser)
            assert status == 200, body
            assert body["round"] == number
            wait_all(phones.values(), lambda phone, n=number: any(
                s["round"] == n for s in phone.of("seat")), f"every seat of round {number}")
            wait_all(phones.values(), lambda phone, n=number: any(
                s["round"] == n and s["status"] == "running" for s in phone.of("cafe_state")),
                f"the state of round {number}")
            for table in body["tables"]:
                for member in table["members"]:
                    mine = [s for s in phones[member].of("seat") if s["round"] == number]
                    assert len(mine) == 1, "a phone missed its seat or got it twice"
                    assert mine[0]["table"] == table["table"]
                    assert mine[0]["question"] == ["One?", "Two?", "Three?"][number - 1]
                    assert sorted(c["name"] for c in mine[0]["companions"]) == sorted(
                        names[m] for m in table["members"] if m != member)
    finally:
        for phone in phones.values():
            phone.close()
