"""The coffee-trial API (docs/api.md) and the live ``match`` push (docs/events.md)."""

import csv
import io

import pytest


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def trial(client, organiser_token):
    reply = client.post("/api/v1/trials", json={"name": "Spring coffee", "confirm_email": False},
                        headers=auth(organiser_token))
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def sign_up(client, trial, k, **extra):
    body = {"join_code": trial["join_code"], "name": f"Person {k}",
            "email": f"p{k}@example.org", "department": ["Nursing", "IT", "HR"][k % 3]}
    return client.post(f"/api/v1/trials/{trial['id']}/signups", json=body | extra)


def test_create_trial_needs_an_organiser(client):
    assert client.post("/api/v1/trials", json={"name": "x"}).status_code == 401
    reply = client.post("/api/v1/trials", json={"name": "x"}, headers=auth("nope"))
    assert reply.status_code == 401
    assert reply.get_json()["error"]["code"] == "unauthorised"


def test_create_trial_names_the_bad_field(client, organiser_token):
    reply = client.post("/api/v1/trials", json={"name": "x", "group_size": 1},
                        headers=auth(organiser_token))
    assert reply.status_code == 400
    assert reply.get_json()["error"]["field"] == "group_size"
    reply = client.post("/api/v1/trials", data="not json", headers=auth(organiser_token))
    assert reply.status_code == 400


def test_signup_and_me(client, trial):
    reply = sign_up(client, trial, 1)
    assert reply.status_code == 201
    body = reply.get_json()
    assert set(body) == {"participant_id", "token", "me_url"}
    me = client.get("/api/v1/me", headers=auth(body["token"])).get_json()
    assert me["email"] == "p1@example.org" and me["match"] is None
    assert "token" not in me
    assert client.get("/api/v1/me").status_code == 401


def test_signup_errors(client, trial):
    assert sign_up(client, trial, 1).status_code == 201
    duplicate = sign_up(client, trial, 1, name="Another")
    assert duplicate.status_code == 409
    assert "Person 1" not in duplicate.get_data(as_text=True)
    assert sign_up(client, trial, 2, join_code="wrong").status_code == 403
    reply = sign_up(client, trial, 3, email="bad")
    assert reply.status_code == 400 and reply.get_json()["error"]["field"] == "email"
    valid = {"join_code": trial["join_code"], "name": "A", "email": "a@example.org",
             "department": "IT"}
    assert client.post("/api/v1/trials/999/signups", json=valid).status_code == 404
    # The body is checked before the trial is looked for: a bad one is a 400 anywhere.
    assert client.post("/api/v1/trials/999/signups", json={}).status_code == 400


def test_rounds_are_for_the_trials_organiser_only(client, app, trial, organiser_token):
    from matcher.accounts import create_organiser

    with app.extensions["matcher.sessions"]() as db:
        _, other = create_organiser(db, "other@example.org")
        db.commit()
    for k in range(4):
        sign_up(client, trial, k)
    url = f"/api/v1/trials/{trial['id']}/rounds"
    assert client.post(url, json={"publish": True}).status_code == 401
    assert client.post(url, json={"publish": True}, headers=auth(other)).status_code == 403
    assert client.post("/api/v1/trials/999/rounds", json={},
                       headers=auth(organiser_token)).status_code == 404
    assert client.post(url, json={"publish": "yes"},
                       headers=auth(organiser_token)).status_code == 400


def test_preview_publish_history(client, trial, organiser_token):
    tokens = [sign_up(client, trial, k).get_json()["token"] for k in range(6)]
    url = f"/api/v1/trials/{trial['id']}/rounds"
    preview = client.post(url, json={"publish": False, "seed": 1}, headers=auth(organiser_token))
    assert preview.status_code == 200 and preview.get_json()["round"] is None
    published = client.post(url, json={"publish": True, "seed": 1},
                            headers=auth(organiser_token))
    assert published.status_code == 201
    body = published.get_json()
    assert body["round"] == 1 and len(body["groups"]) == 3
    assert body["groups"] == preview.get_json()["groups"]
    me = client.get("/api/v1/me", headers=auth(tokens[0])).get_json()
    assert me["match"]["round"] == 1 and len(me["match"]["partners"]) == 1
    assert client.post("/api/v1/me/met", json={"met": False},
                       headers=auth(tokens[0])).status_code == 200
    history = client.get(f"/api/v1/trials/{trial['id']}/history.csv",
                         headers=auth(organiser_token))
    rows = list(csv.DictReader(io.StringIO(history.get_data(as_text=True))))
    assert len(rows) == 6 and {r["round"] for r in rows} == {"1"}
    assert sorted(r["met"] for r in rows).count("no") == 1


def test_pause_and_leave(client, trial, organiser_token):
    tokens = [sign_up(client, trial, k).get_json()["token"] for k in range(5)]
    assert client.post("/api/v1/me/pause", headers=auth(tokens[4])).get_json()["paused"]
    url = f"/api/v1/trials/{trial['id']}/rounds"
    body = client.post(url, json={"publish": True}, headers=auth(organiser_token)).get_json()
    assert sum(len(g["members"]) for g in body["groups"]) == 4
    assert client.delete("/api/v1/me", headers=auth(tokens[3])).status_code == 200
    assert client.get("/api/v1/me", headers=auth(tokens[3])).status_code == 401


def test_each_participant_receives_only_their_own_match(client, trial, organiser_token,
                                                        socket_client):
    signups = [sign_up(client, trial, k).get_json() for k in range(6)]
    sockets = [socket_client({"token": s["token"]}) for s in signups]
    for one in sockets:
        assert one.is_connected()
        assert one.get_received() == []  # no match yet
    url = f"/api/v1/trials/{trial['id']}/rounds"
    body = client.post(url, json={"publish": True, "seed": 3},
                       headers=auth(organiser_token)).get_json()
    partner_of = {}
    for group in body["groups"]:
        for member in group["members"]:
            partner_of[member] = [m for m in group["members"] if m != member]
    names = {s["participant_id"]: f"Person {k}" for k, s in enumerate(signups)}
    for signed, one in zip(signups, sockets, strict=True):
        events = [e for e in one.get_received() if e["name"] == "match"]
        assert len(events) == 1
        match = events[0]["args"][0]
        assert match["round"] == 1
        assert [p["name"] for p in match["partners"]] == [
            names[p] for p in partner_of[signed["participant_id"]]]


def test_bad_tokens_are_refused_and_reconnects_get_the_current_match(
        client, trial, organiser_token, socket_client):
    assert not socket_client().is_connected()
    assert not socket_client({"token": "nope"}).is_connected()
    signups = [sign_up(client, trial, k).get_json() for k in range(4)]
    client.post(f"/api/v1/trials/{trial['id']}/rounds", json={"publish": True},
                headers=auth(organiser_token))
    late = socket_client({"token": signups[0]["token"]})
    events = [e for e in late.get_received() if e["name"] == "match"]
    assert len(events) == 1 and events[0]["args"][0]["round"] == 1


def test_history_exports(client, trial, organiser_token, tmp_path):
    import json as jsonlib
    import xml.etree.ElementTree as ET

    import networkx as nx

    for k in range(6):
        sign_up(client, trial, k)
    url = f"/api/v1/trials/{trial['id']}/rounds"
    for seed in (1, 2):
        client.post(url, json={"publish": True, "seed": seed}, headers=auth(organiser_token))
    base = f"/api/v1/trials/{trial['id']}/history"
    as_json = client.get(base + ".json", headers=auth(organiser_token)).get_json()
    assert [r["round"] for r in as_json["rounds"]] == [1, 2]
    assert all(len(r["groups"]) == 3 for r in as_json["rounds"])
    graphml = client.get(base + ".graphml", headers=auth(organiser_token))
    ET.fromstring(graphml.data)  # well-formed XML
    path = tmp_path / "h.graphml"
    path.write_bytes(graphml.data)
    graph = nx.read_graphml(path)
    assert graph.number_of_nodes() == 6 and graph.number_of_edges() == 6
    history = client.get(base + ".csv", headers=auth(organiser_token)).get_data(as_text=True)
    csv_path = tmp_path / "history.csv"
    csv_path.write_text(history)
    from matcher.files import read_history

    assert len(read_history(csv_path, set()).rounds) == 2  # re-importable
    assert client.get(base + ".xml", headers=auth(organiser_token)).status_code == 404
    assert client.get(base + ".json").status_code == 401
    assert jsonlib.dumps(as_json)  # plain data


def test_see_and_edit_a_trial(client, trial, organiser_token):
    sign_up(client, trial, 1)
    url = f"/api/v1/trials/{trial['id']}"
    details = client.get(url, headers=auth(organiser_token)).get_json()
    assert details["name"] == "Spring coffee" and len(details["participants"]) == 1
    changed = client.patch(url, json={"name": "Summer coffee", "group_size": 3,
                                      "weights": {"department": 6}},
                           headers=auth(organiser_token))
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["name"], body["group_size"], body["weights"]["department"]) == (
        "Summer coffee", 3, 6)
    for bad, field in (({"odd": "drop"}, "odd"), ({"colour": "red"}, "colour"),
                       ({"group_size": 3, "name": ""}, "name")):
        reply = client.patch(url, json=bad, headers=auth(organiser_token))
        assert reply.status_code == 400 and reply.get_json()["error"]["field"] == field
    # a refused change changes nothing
    assert client.get(url, headers=auth(organiser_token)).get_json()["group_size"] == 3
    assert client.patch(url, json={"name": "x"}).status_code == 401



def test_publish_after_a_stale_round_is_refused(client, trial, organiser_token):
    """A publish that says which round its caller saw (a double click, a second
    organiser) publishes at most once."""
    for k in range(4):
        sign_up(client, trial, k)
    url = f"/api/v1/trials/{trial['id']}/rounds"
    first = client.post(url, json={"publish": True, "after": 0}, headers=auth(organiser_token))
    assert first.status_code == 201 and first.get_json()["round"] == 1
    again = client.post(url, json={"publish": True, "after": 0}, headers=auth(organiser_token))
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "moved_on"
    assert again.get_json()["error"]["field"] == "after"
    for bad in ("1", -1, True, 1.5):
        reply = client.post(url, json={"publish": True, "after": bad},
                            headers=auth(organiser_token))
        assert reply.status_code == 400 and reply.get_json()["error"]["field"] == "after"
    history = client.get(f"/api/v1/trials/{trial['id']}/history.json",
                         headers=auth(organiser_token)).get_json()
    assert {r["round"] for r in history["rounds"]} == {1}
    second = client.post(url, json={"publish": True, "after": 1}, headers=auth(organiser_token))
    assert second.status_code == 201 and second.get_json()["round"] == 2


def test_a_participant_changes_some_details_and_keeps_the_rest(client, trial):
    token = sign_up(client, trial, 1, site="South").get_json()["token"]
    reply = client.patch("/api/v1/me", json={"department": "Pharmacy"}, headers=auth(token))
    assert reply.status_code == 200
    me = reply.get_json()
    assert (me["department"], me["site"], me["name"]) == ("Pharmacy", "South", "Person 1")
    assert "token" not in me


@pytest.mark.parametrize(("change", "field"), [
    ({"email": "new@example.org"}, "email"), ({"department": ""}, "department"),
    ({"mode": "telepathy"}, "mode"), ({"colour": "blue"}, "colour"),
])
def test_bad_detail_changes_name_the_field_and_change_nothing(client, trial, change, field):
    token = sign_up(client, trial, 1).get_json()["token"]
    reply = client.patch("/api/v1/me", json=change, headers=auth(token))
    assert reply.status_code == 400
    assert field in str(reply.get_json()["error"])
    me = client.get("/api/v1/me", headers=auth(token)).get_json()
    assert (me["email"], me["department"], me["mode"]) == ("p1@example.org", "IT", "either")
    assert client.patch("/api/v1/me", json={"department": "X"}).status_code == 401
