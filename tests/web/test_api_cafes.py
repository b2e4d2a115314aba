"""The knowledge-café API (docs/api.md) and its live events (docs/events.md): ``seat`` to each
participant only, ``cafe_state`` to everyone at the café, ``cafe_screen`` to the
big screen."""

import csv
import io
import json
from itertools import combinations

import pytest
from sqlalchemy import select

from matcher.accounts import create_organiser
from matcher.files import read_plan
from matcher.rotate import main as rotate

HEADER = ["round", "table", "person_id", "name", "department", "table_role"]
DEPARTMENTS = ["Nursing", "IT", "HR", "Estates", "Pharmacy"]


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def quick_planning(app):
    """Small cafés are planned well within half a second."""
    app.config["CAFE_TIME_LIMIT"] = 0.5


@pytest.fixture
def other_organiser(app):
    with app.extensions["matcher.sessions"]() as db:
        _, token = create_organiser(db, "other@example.org", "Other")
        db.commit()
    return token


def new_cafe(client, token, **fields):
    body = {"name": "Friday café", "tables": 3, "rounds": 3,
            "questions": ["What surprised you?", "What would you change?"]} | fields
    reply = client.post("/api/v1/cafes", json=body, headers=auth(token))
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


@pytest.fixture
def cafe(client, organiser_token):
    return new_cafe(client, organiser_token)


def join(client, cafe, k, **extra):
    body = {"name": f"Person {k}", "department": DEPARTMENTS[k % len(DEPARTMENTS)],
            "email": f"p{k}@example.org"} | extra
    return client.post(f"/api/v1/cafes/{cafe['code']}/participants", json=body)


def joined(client, cafe, k, **extra):
    reply = join(client, cafe, k, **extra)
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def next_round(client, cafe, token, seed=1):
    return client.post(f"/api/v1/cafes/{cafe['code']}/rounds/next", json={"seed": seed},
                       headers=auth(token))


def events(socket, name):
    """The payloads of the ``name`` events received since the last call (others dropped)."""
    return [e["args"][0] for e in socket.get_received() if e["name"] == name]


def received(socket):
    """Every event received since the last call, as (name, payload)."""
    return [(e["name"], e["args"][0]) for e in socket.get_received()]


def error_of(reply):
    return reply.status_code, reply.get_json()["error"].get("field")


def check_plan(tables, present, count):
    seated = [p for t in tables for p in t["members"]]
    assert sorted(seated) == sorted(present)
    assert [t["table"] for t in tables] == list(range(1, count + 1))
    sizes = [len(t["members"]) for t in tables]
    assert max(sizes) - min(sizes) <= 1


# -- create and see -------------------------------------------------------------------


def test_create_cafe(client, organiser_token):
    body = new_cafe(client, organiser_token)
    assert set(body) == {"id", "join_code", "code", "join_url", "screen_url"}
    # One word for a join code, as a trial's; "code" kept for clients written before it.
    assert body["join_code"] == body["code"] and body["join_code"] in body["join_url"]
    assert "/screen/" in body["screen_url"] and body["code"] not in body["screen_url"]
    details = client.get(f"/api/v1/cafes/{body['code']}", headers=auth(organiser_token))
    assert details.status_code == 200
    got = details.get_json()
    assert (got["status"], got["round"], got["rounds"], got["present"]) == ("lobby", 0, 3, 0)
    assert got["tables"] == 3 and got["questions"][0] == "What surprised you?"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"tables": 3, "table_size": 4}, "tables"),
        ({"rounds": 0}, "rounds"),
        ({"rounds": 21}, "rounds"),
        ({"rounds": "3"}, "rounds"),
        ({"rounds": 1, "questions": ["one", "two"]}, "questions"),
        ({"name": ""}, "name"),
    ],
)
def test_create_cafe_names_the_bad_field(client, organiser_token, fields, field):
    body = {"name": "Café", "tables": 3, "rounds": 3} | fields
    reply = client.post("/api/v1/cafes", json=body,
                        headers=auth(organiser_token))
    assert error_of(reply) == (400, field)


def test_create_cafe_needs_an_organiser(client, cafe):
    body = {"name": "Café", "rounds": 2}
    assert client.post("/api/v1/cafes", json=body).status_code == 401
    assert client.post("/api/v1/cafes", json=body, headers=auth("nope")).status_code == 401
    participant = joined(client, cafe, 1)["token"]
    reply = client.post("/api/v1/cafes", json=body, headers=auth(participant))
    assert reply.status_code == 401
    assert reply.get_json()["error"]["code"] == "unauthorised"


def test_create_cafe_needs_a_json_object(client, organiser_token):
    reply = client.post("/api/v1/cafes", data="not json", headers=auth(organiser_token))
    assert reply.status_code == 400
    reply = client.post("/api/v1/cafes", json=[1, 2], headers=auth(organiser_token))
    assert reply.status_code == 400


def test_cafe_details_are_the_organisers_only(client, cafe, organiser_token, other_organiser):
    joined(client, cafe, 1)
    url = f"/api/v1/cafes/{cafe['code']}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth(other_organiser)).status_code == 403
    assert client.get("/api/v1/cafes/NOSUCH", headers=auth(organiser_token)).status_code == 404
    details = client.get(url.lower(), headers=auth(organiser_token))
    assert details.status_code == 200
    text = details.get_data(as_text=True)
    assert "p1@example.org" not in text and "token" not in details.get_json()["attendees"][0]


# -- join -------------------------------------------------------------------------------


def test_join(client, cafe):
    reply = join(client, cafe, 1)
    assert reply.status_code == 201
    body = reply.get_json()
    assert set(body) == {"participant_id", "token", "me_url"}
    assert body["token"] in body["me_url"]
    # the code may be typed in lower case
    lower = client.post(f"/api/v1/cafes/{cafe['code'].lower()}/participants",
                        json={"name": "Lower", "department": "IT"})
    assert lower.status_code == 201


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": None}, "name"),
        ({"name": " "}, "name"),
        ({"department": None}, "department"),
        ({"email": "not-an-email"}, "email"),
        ({"host": "yes"}, "host"),
    ],
)
def test_join_names_the_bad_field(client, cafe, change, field):
    body = {"name": "Ann", "department": "IT", "email": "ann@example.org"} | change
    reply = client.post(f"/api/v1/cafes/{cafe['code']}/participants",
                        json={k: v for k, v in body.items() if v is not None})
    assert error_of(reply) == (400, field)


def test_join_errors(client, cafe, organiser_token):
    reply = client.post("/api/v1/cafes/NOSUCH/participants", json={"name": "A",
                                                                   "department": "IT"})
    assert reply.status_code == 404
    reply = client.post(f"/api/v1/cafes/{cafe['code']}/participants", data="x")
    assert reply.status_code == 400
    assert client.post(f"/api/v1/cafes/{cafe['code']}/end",
                       headers=auth(organiser_token)).status_code == 200
    late = join(client, cafe, 1)
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "finished"


def test_the_lobby_count_reaches_connected_participants(client, cafe, socket_client):
    first = joined(client, cafe, 0)
    socket = socket_client({"token": first["token"]})
    assert socket.is_connected()
    states = events(socket, "cafe_state")
    assert len(states) == 1
    assert states[0] == {"join_code": cafe["code"], "cafe": cafe["code"], "round": 0,
                         "rounds": 3, "status": "lobby", "ends_at": None, "present": 1}
    for k in (1, 2):
        joined(client, cafe, k)
    assert [s["present"] for s in events(socket, "cafe_state")] == [2, 3]


# -- hosts ------------------------------------------------------------------------------


def test_hosts(client, cafe, organiser_token, other_organiser):
    people = [joined(client, cafe, k) for k in range(4)]
    base = f"/api/v1/cafes/{cafe['code']}/participants"
    url = f"{base}/{people[0]['participant_id']}/host"
    assert client.post(url, json={}).status_code == 401
    assert client.post(url, json={}, headers=auth(people[0]["token"])).status_code == 401
    assert client.post(url, json={}, headers=auth(other_organiser)).status_code == 403
    reply = client.post(f"{base}/nobody/host", json={}, headers=auth(organiser_token))
    assert reply.status_code == 404
    reply = client.post(url, json={"host": "yes"}, headers=auth(organiser_token))
    assert error_of(reply) == (400, "host")
    reply = client.post(url, json={"table": "2"}, headers=auth(organiser_token))
    assert error_of(reply) == (400, "table")
    reply = client.post(url, json={"table": 4}, headers=auth(organiser_token))
    assert reply.status_code == 400  # 3 tables
    reply = client.post(url, json={}, headers=auth(organiser_token))
    assert reply.status_code == 200
    assert reply.get_json() == {"participant_id": people[0]["participant_id"], "host_table": 1}
    taken = client.post(f"{base}/{people[1]['participant_id']}/host", json={"table": 1},
                        headers=auth(organiser_token))
    assert taken.status_code == 409
    host = joined(client, cafe, 9, host=True)  # the lowest free table
    details = client.get(f"/api/v1/cafes/{cafe['code']}", headers=auth(organiser_token))
    tables = {a["participant_id"]: a["host_table"] for a in details.get_json()["attendees"]}
    assert tables[host["participant_id"]] == 2
    assert join(client, cafe, 10, host=2).status_code == 409
    reply = client.post(url, json={"host": False}, headers=auth(organiser_token))
    assert reply.get_json()["host_table"] is None


def test_hosts_stay_at_their_tables(client, cafe, organiser_token, socket_client):
    people = [joined(client, cafe, k) for k in range(9)]
    host = joined(client, cafe, 9, host=3)
    socket = socket_client({"token": host["token"]})
    socket.get_received()
    for number in (1, 2, 3):
        body = next_round(client, cafe, organiser_token, seed=number).get_json()
        check_plan(body["tables"], [p["participant_id"] for p in people + [host]], 3)
        assert host["participant_id"] in body["tables"][2]["members"]
        [seat] = events(socket, "seat")
        assert (seat["round"], seat["table"], seat["table_role"]) == (number, 3, "host")


# -- rounds -----------------------------------------------------------------------------


def test_each_participant_receives_only_their_own_seat(client, cafe, organiser_token,
                                                       socket_client):
    people = [joined(client, cafe, k) for k in range(9)]
    sockets = [socket_client({"token": p["token"]}) for p in people]
    for socket in sockets:
        assert socket.is_connected()
        assert events(socket, "seat") == []  # not seated before the start
    reply = next_round(client, cafe, organiser_token)
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["round"] == 1 and body["ends_at"].endswith("Z")
    ids = [p["participant_id"] for p in people]
    check_plan(body["tables"], ids, 3)
    names = {p["participant_id"]: f"Person {k}" for k, p in enumerate(people)}
    table_of = {m: t for t in body["tables"] for m in t["members"]}
    secrets = [p["token"] for p in people] + [f"p{k}@example.org" for k in range(9)]
    for person, socket in zip(people, sockets, strict=True):
        got = received(socket)
        assert "@" not in json.dumps(got)
        assert not any(secret in json.dumps(got) for secret in secrets)
        seats = [payload for name, payload in got if name == "seat"]
        assert len(seats) == 1
        seat = seats[0]
        assert set(seat) == {"join_code", "cafe", "round", "table", "table_role",
                             "companions", "question", "ends_at", "earlier_notes", "notes"}
        table = table_of[person["participant_id"]]
        assert (seat["join_code"], seat["round"], seat["table"]) == (
            cafe["join_code"], 1, table["table"])
        assert (seat["table_role"], seat["question"]) == ("guest", "What surprised you?")
        assert seat["ends_at"] == body["ends_at"]
        assert sorted(c["name"] for c in seat["companions"]) == sorted(
            names[m] for m in table["members"] if m != person["participant_id"])
        assert all(set(c) == {"name", "department"} for c in seat["companions"])
        states = [payload for name, payload in got if name == "cafe_state"]
        assert states and states[-1]["status"] == "running" and states[-1]["round"] == 1


def test_rounds_are_for_the_cafes_organiser_only(client, cafe, organiser_token,
                                                 other_organiser):
    people = [joined(client, cafe, k) for k in range(6)]
    code = cafe["code"]
    participant = people[0]["token"]
    for path, body in ((f"/api/v1/cafes/{code}/rounds/next", {"seed": 1}),
                       (f"/api/v1/cafes/{code}/time", {"minutes": 5}),
                       (f"/api/v1/cafes/{code}/end", {}),
                       (f"/api/v1/cafes/{code}/plan.csv", None)):
        send = client.get if body is None else client.post
        assert send(path, json=body).status_code == 401
        assert send(path, json=body, headers=auth(participant)).status_code == 401
        assert send(path, json=body, headers=auth("nope")).status_code == 401
        assert send(path, json=body, headers=auth(other_organiser)).status_code == 403
        missing = path.replace(code, "NOSUCH")
        assert send(missing, json=body, headers=auth(organiser_token)).status_code == 404
    details = client.get(f"/api/v1/cafes/{code}", headers=auth(organiser_token)).get_json()
    assert (details["status"], details["round"]) == ("lobby", 0)  # nothing was changed


def test_round_errors(client, organiser_token):
    cafe = new_cafe(client, organiser_token, rounds=2)
    url = f"/api/v1/cafes/{cafe['code']}/rounds/next"
    joined(client, cafe, 0)
    joined(client, cafe, 1)
    too_few = client.post(url, json={}, headers=auth(organiser_token))  # 2 people, 3 tables
    assert too_few.status_code == 409
    for k in range(2, 7):
        joined(client, cafe, k)
    for bad in ({"seed": -1}, {"seed": "1"}, {"seed": True}):
        assert error_of(client.post(url, json=bad, headers=auth(organiser_token))) == (
            400, "seed")
    assert client.post(url, headers=auth(organiser_token)).status_code == 200  # no body
    assert next_round(client, cafe, organiser_token).get_json()["round"] == 2
    after = next_round(client, cafe, organiser_token)
    assert after.status_code == 409
    assert after.get_json()["error"]["code"] == "no_more_rounds"


def test_a_late_arrival_is_seated_from_the_next_round(client, cafe, organiser_token,
                                                      socket_client):
    people = [joined(client, cafe, k) for k in range(9)]
    first = next_round(client, cafe, organiser_token).get_json()
    late = joined(client, cafe, 9)
    socket = socket_client({"token": late["token"]})
    got = received(socket)
    assert [name for name, _ in got] == ["cafe_state"]  # no seat in round 1
    assert (got[0][1]["status"], got[0][1]["round"], got[0][1]["present"]) == ("running", 1, 10)
    second = next_round(client, cafe, organiser_token).get_json()
    check_plan(second["tables"], [p["participant_id"] for p in people + [late]], 3)
    [seat] = events(socket, "seat")
    assert seat["round"] == 2
    assert late["participant_id"] in second["tables"][seat["table"] - 1]["members"]
    details = client.get(f"/api/v1/cafes/{cafe['code']}", headers=auth(organiser_token))
    played = details.get_json()["plan"]["rounds"][0]
    assert played["played"] and played["tables"] == first["tables"]  # round 1 unchanged


def test_leave(client, organiser_token, socket_client):
    cafe = new_cafe(client, organiser_token)
    other = new_cafe(client, organiser_token, name="Another café")
    people = [joined(client, cafe, k) for k in range(10)]
    stranger = joined(client, other, 20)
    url = f"/api/v1/cafes/{cafe['code']}/leave"
    leaver = people[4]
    watcher = socket_client({"token": people[0]["token"]})
    leaving = socket_client({"token": leaver["token"]})
    first = next_round(client, cafe, organiser_token).get_json()
    assert any(leaver["participant_id"] in t["members"] for t in first["tables"])
    watcher.get_received()
    leaving.get_received()
    assert client.post(url).status_code == 401
    assert client.post(url, headers=auth("nope")).status_code == 401
    assert client.post(url, headers=auth(organiser_token)).status_code == 401
    assert client.post(url, headers=auth(stranger["token"])).status_code == 403
    assert client.post("/api/v1/cafes/NOSUCH/leave",
                       headers=auth(leaver["token"])).status_code == 404
    reply = client.post(url, headers=auth(leaver["token"]))
    assert reply.status_code == 200
    assert [s["present"] for s in events(watcher, "cafe_state")] == [9]
    leaving.get_received()
    for _ in (2, 3):
        body = next_round(client, cafe, organiser_token).get_json()
        check_plan(body["tables"], [p["participant_id"] for p in people if p is not leaver], 3)
        assert events(leaving, "seat") == []
    details = client.get(f"/api/v1/cafes/{cafe['code']}", headers=auth(organiser_token))
    rounds = details.get_json()["plan"]["rounds"]
    assert rounds[0]["tables"] == first["tables"]


def test_add_time(client, cafe, organiser_token, socket_client):
    people = [joined(client, cafe, k) for k in range(6)]
    url = f"/api/v1/cafes/{cafe['code']}/time"
    reply = client.post(url, json={"minutes": 5}, headers=auth(organiser_token))
    assert reply.status_code == 409  # not running yet
    socket = socket_client({"token": people[0]["token"]})
    started = next_round(client, cafe, organiser_token).get_json()
    socket.get_received()
    for bad in ({"minutes": "5"}, {"minutes": 2.5}, {}, {"minutes": 100_000}):
        reply = client.post(url, json=bad, headers=auth(organiser_token))
        assert error_of(reply) == (400, "minutes")
    reply = client.post(url, json={"minutes": 5}, headers=auth(organiser_token))
    assert reply.status_code == 200
    state = reply.get_json()
    assert state["status"] == "running" and state["ends_at"] > started["ends_at"]
    from datetime import datetime

    def moment(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    assert (moment(state["ends_at"]) - moment(started["ends_at"])).total_seconds() == 300
    assert [s["ends_at"] for s in events(socket, "cafe_state")] == [state["ends_at"]]


def test_finish(client, cafe, organiser_token, socket_client):
    people = [joined(client, cafe, k) for k in range(6)]
    sockets = [socket_client({"token": p["token"]}) for p in people]
    next_round(client, cafe, organiser_token)
    for socket in sockets:
        socket.get_received()
    url = f"/api/v1/cafes/{cafe['code']}/end"
    reply = client.post(url, headers=auth(organiser_token))
    assert reply.status_code == 200
    assert (reply.get_json()["status"], reply.get_json()["ends_at"]) == ("finished", None)
    for socket in sockets:
        states = events(socket, "cafe_state")
        assert len(states) == 1 and states[0]["status"] == "finished"
    assert client.post(url, headers=auth(organiser_token)).status_code == 409
    assert next_round(client, cafe, organiser_token).status_code == 409
    assert client.post(f"/api/v1/cafes/{cafe['code']}/time", json={"minutes": 1},
                       headers=auth(organiser_token)).status_code == 409
    assert join(client, cafe, 50).status_code == 409
    # a phone that comes back sees the end, not a seat
    back = socket_client({"token": people[0]["token"]})
    got = received(back)
    assert [name for name, _ in got] == ["cafe_state"] and got[0][1]["status"] == "finished"


# -- connections ------------------------------------------------------------------------


def test_bad_or_missing_credentials_are_refused_at_connect(client, cafe, socket_client):
    joined(client, cafe, 1)
    assert not socket_client().is_connected()
    assert not socket_client({}).is_connected()
    assert not socket_client({"token": "nope"}).is_connected()
    assert not socket_client({"token": ""}).is_connected()
    assert not socket_client({"token": 42}).is_connected()
    assert not socket_client({"screen": "nope"}).is_connected()
    assert not socket_client({"cafe": cafe["code"]}).is_connected()


def test_a_reconnecting_participant_gets_their_seat_at_once(client, cafe, organiser_token,
                                                           socket_client):
    people = [joined(client, cafe, k) for k in range(7)]
    first = socket_client({"token": people[3]["token"]})
    next_round(client, cafe, organiser_token)
    [seat] = events(first, "seat")
    first.disconnect()
    again = socket_client({"token": people[3]["token"]})
    got = received(again)
    assert [name for name, _ in got] == ["cafe_state", "seat"]
    assert got[1][1] == seat
    next_round(client, cafe, organiser_token, seed=2)
    [later] = events(again, "seat")
    third = socket_client({"token": people[3]["token"]})
    assert events(third, "seat") == [later] and later["round"] == 2


def test_the_big_screen_gets_every_table(client, cafe, organiser_token, socket_client):
    people = [joined(client, cafe, k) for k in range(8)]
    host = joined(client, cafe, 8, host=2)
    screen_key = cafe["screen_url"].rstrip("/").rsplit("/", 1)[-1]
    screen = socket_client({"screen": screen_key})
    assert screen.is_connected()
    [lobby] = events(screen, "cafe_screen")
    assert lobby["tables"] == [] and lobby["present"] == 9 and lobby["status"] == "lobby"
    body = next_round(client, cafe, organiser_token).get_json()
    views = events(screen, "cafe_screen")
    assert views and views[-1]["round"] == 1
    view = views[-1]
    assert view["question"] == "What surprised you?"
    assert [t["table"] for t in view["tables"]] == [1, 2, 3]
    names = {p["participant_id"]: f"Person {k}" for k, p in enumerate(people + [host])}
    for shown, planned in zip(view["tables"], body["tables"], strict=True):
        assert sorted(m["name"] for m in shown["members"]) == sorted(
            names[m] for m in planned["members"])
    assert view["tables"][1]["members"][0] == {"name": "Person 8",
                                               "department": DEPARTMENTS[8 % 5], "host": True}
    assert "@" not in json.dumps(views)
    assert not any(p["token"] in json.dumps(views) for p in people)
    assert events(screen, "seat") == []
    late_screen = socket_client({"screen": screen_key})
    assert events(late_screen, "cafe_screen") == [view]


def test_the_organisers_console_follows_its_own_cafes(client, cafe, organiser_token,
                                                      other_organiser, socket_client):
    console = socket_client({"token": organiser_token})
    stranger = socket_client({"token": other_organiser})
    assert console.is_connected() and stranger.is_connected()
    joined(client, cafe, 1)
    got = received(console)
    assert {name for name, _ in got} == {"cafe_state", "cafe_screen"}
    assert received(stranger) == []


def test_a_seat_at_another_cafe_does_not_reach_this_cafes_page(client, organiser_token,
                                                               socket_client):
    """One person (one email) at two cafés: each café's page gets that café's seat."""
    here = new_cafe(client, organiser_token, name="Here")
    there = new_cafe(client, organiser_token, name="There")
    me_here = joined(client, here, 1)
    me_there = joined(client, there, 1)
    assert me_here["participant_id"] == me_there["participant_id"]  # one person
    for k in range(2, 7):
        joined(client, here, k)
        joined(client, there, k + 10)
    page = socket_client({"token": me_here["token"]})
    page.get_received()
    next_round(client, there, organiser_token)
    assert [s["join_code"] for s in events(page, "seat")] == []
    next_round(client, here, organiser_token)
    assert [s["join_code"] for s in events(page, "seat")] == [here["code"]]


# -- the plan ---------------------------------------------------------------------------


def test_plan_csv(client, cafe, organiser_token, other_organiser, tmp_path):
    people = [joined(client, cafe, k, organisation=["NHS", "Council"][k % 2]) for k in range(10)]
    url = f"/api/v1/cafes/{cafe['code']}/plan.csv"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth(other_organiser)).status_code == 403
    assert client.get(url.replace(cafe["code"], "NOSUCH"),
                      headers=auth(organiser_token)).status_code == 404
    first = next_round(client, cafe, organiser_token).get_json()
    reply = client.get(url, headers=auth(organiser_token))
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    text = reply.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert next(csv.reader(io.StringIO(text)))[:6] == HEADER
    assert "@" not in text
    assert {r["round"] for r in rows} == {"1", "2", "3"}  # played and to come
    ids = sorted(p["participant_id"] for p in people)
    for number in ("1", "2", "3"):
        assert sorted(r["person_id"] for r in rows if r["round"] == number) == ids
    played = {}
    for row in rows:
        if row["round"] == "1":
            played.setdefault(int(row["table"]), []).append(row["person_id"])
    assert [sorted(played[t["table"]]) for t in first["tables"]] == [
        sorted(t["members"]) for t in first["tables"]]
    assert {r["table_role"] for r in rows} == {"guest"}
    path = tmp_path / "plan.csv"
    path.write_text(text)
    plan = read_plan(path, 3)
    assert plan.labels == ("1", "2", "3")
    assert all(sorted(p for t in r for p in t) == ids for r in plan.rounds)

    # matcher.rotate --fixed continues the played round for the same people
    people_file = tmp_path / "people.csv"
    with people_file.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "department", "organisation"])
        for row in rows:
            if row["round"] == "1":
                writer.writerow([row["person_id"], row["name"], row["department"],
                                 row["organisation"]])
    fixed = tmp_path / "played.csv"
    lines = text.splitlines(keepends=True)
    fixed.write_text(lines[0] + "".join(line for line in lines[1:] if line.startswith("1,")))
    out = tmp_path / "rest.csv"
    status = rotate([str(people_file), "--tables", "3", "--rounds", "3", "--fixed", str(fixed),
                     "--seed", "1", "--time-limit", "1", "--out", str(out)])
    assert status == 0
    assert out.read_text().startswith(fixed.read_text())  # the played round kept as it was
    assert len(read_plan(out, 3).rounds) == 3


def test_plan_csv_marks_hosts(client, cafe, organiser_token):
    for k in range(6):
        joined(client, cafe, k)
    host = joined(client, cafe, 6, host=True)
    next_round(client, cafe, organiser_token)
    text = client.get(f"/api/v1/cafes/{cafe['code']}/plan.csv",
                      headers=auth(organiser_token)).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    hosts = [r for r in rows if r["table_role"] == "host"]
    assert {(r["person_id"], r["table"]) for r in hosts} == {(host["participant_id"], "1")}
    assert {r["round"] for r in hosts} == {"1", "2", "3"}


def test_next_round_after_a_stale_round_is_refused(client, cafe, organiser_token):
    for k in range(6):
        joined(client, cafe, k)
    url = f"/api/v1/cafes/{cafe['code']}/rounds/next"
    first = client.post(url, json={"after": 0}, headers=auth(organiser_token))
    assert first.status_code == 200 and first.get_json()["round"] == 1
    again = client.post(url, json={"after": 0}, headers=auth(organiser_token))
    assert error_of(again) == (409, "after")
    assert again.get_json()["error"]["code"] == "moved_on"
    bad = client.post(url, json={"after": "one"}, headers=auth(organiser_token))
    assert error_of(bad) == (400, "after")
    details = client.get(f"/api/v1/cafes/{cafe['code']}", headers=auth(organiser_token))
    assert details.get_json()["round"] == 1
    second = client.post(url, json={"after": 1}, headers=auth(organiser_token))
    assert second.status_code == 200 and second.get_json()["round"] == 2


def test_a_big_cafe_starts_at_once_and_plans_its_later_rounds_while_round_1_runs(
        client, organiser_token, app):
    """From QUICK_START people, round 1 is planned alone; the rounds after it are
    planned in the background and kept, so the next round takes them as they are."""
    import time

    from matcher.cafes import QUICK_START
    from matcher.models import Cafe

    reply = client.post("/api/v1/cafes", json={"name": "Big café", "table_size": 8,
                                               "rounds": 3}, headers=auth(organiser_token))
    assert reply.status_code == 201
    cafe = reply.get_json()
    for k in range(QUICK_START):
        joined(client, cafe, k)
    first = next_round(client, cafe, organiser_token)
    assert first.status_code == 200 and first.get_json()["round"] == 1
    sessions = app.extensions["matcher.sessions"]
    waited = time.monotonic()
    while time.monotonic() - waited < 60:
        with sessions() as db:
            planned = db.scalar(select(Cafe).where(Cafe.code == cafe["code"])).plan
        if planned.get("rounds"):
            break
        time.sleep(0.2)
    assert len(planned["rounds"]) == 2, "the later rounds were not planned ahead"
    second = next_round(client, cafe, organiser_token).get_json()
    assert sorted(sorted(t["members"]) for t in second["tables"]) == sorted(
        sorted(t) for t in planned["rounds"][0])
    met = {frozenset(p) for t in first.get_json()["tables"]
           for p in combinations(t["members"], 2)}
    assert not met & {frozenset(p) for t in second["tables"]
                      for p in combinations(t["members"], 2)}
