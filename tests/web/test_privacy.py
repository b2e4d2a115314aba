"""Privacy: no response or push ever carries another participant's token, and a
participant sees other people's emails only for their own coffee partners;
leaving deletes one's data except anonymous counts."""

import json

from sqlalchemy import func, select

from matcher.models import Group, GroupMember, Person
from web.extensions import socketio


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_no_token_or_stranger_email_ever_reaches_a_participant(app, client, organiser_token):
    seen: list[tuple[str, str]] = []  # (who received it, text)
    trial = client.post("/api/v1/trials", json={"name": "T", "confirm_email": False},
                        headers=auth(organiser_token)).get_json()
    people = []
    for k in range(7):
        reply = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
            "join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
            "department": ["IT", "HR", "Nursing"][k % 3]})
        people.append(reply.get_json() | {"email": f"p{k}@example.org"})
        seen.append((f"p{k}", reply.get_data(as_text=True)))
    sockets = {p["participant_id"]: socketio.test_client(app, flask_test_client=client,
                                                         auth={"token": p["token"]})
               for p in people}
    cafe = client.post("/api/v1/cafes", json={"name": "C", "rounds": 2, "tables": 2},
                       headers=auth(organiser_token)).get_json()
    guests = []
    for k in range(6):
        reply = client.post(f"/api/v1/cafes/{cafe['code']}/participants", json={
            "name": f"G{k}", "department": ["IT", "HR"][k % 2],
            "email": f"p{k}@example.org" if k < 3 else None})
        guests.append(reply.get_json())
        seen.append((f"g{k}", reply.get_data(as_text=True)))
    cafe_sockets = {g["participant_id"]: socketio.test_client(
        app, flask_test_client=client, auth={"token": g["token"]}) for g in guests}
    # Organiser actions: rounds of both; participants' own views.
    assert client.post(f"/api/v1/trials/{trial['id']}/rounds", json={"publish": True},
                       headers=auth(organiser_token)).status_code == 201
    for _ in range(2):
        assert client.post(f"/api/v1/cafes/{cafe['code']}/rounds/next",
                           headers=auth(organiser_token)).status_code == 200
    for k, person in enumerate(people):
        seen.append((f"p{k}", client.get("/api/v1/me", headers=auth(person["token"]))
                     .get_data(as_text=True)))
        seen.append((f"p{k}", client.get(person["me_url"]).get_data(as_text=True)))
        for event in sockets[person["participant_id"]].get_received():
            seen.append((f"p{k}", json.dumps(event)))
    for k, guest in enumerate(guests):
        seen.append((f"g{k}", client.get(guest["me_url"]).get_data(as_text=True)))
        for event in cafe_sockets[guest["participant_id"]].get_received():
            seen.append((f"g{k}", json.dumps(event)))

    tokens = {f"p{k}": p["token"] for k, p in enumerate(people)} | {
        f"g{k}": g["token"] for k, g in enumerate(guests)}
    partners = {}
    for k, person in enumerate(people):
        match = client.get("/api/v1/me", headers=auth(person["token"])).get_json()["match"]
        partners[f"p{k}"] = {p["email"] for p in match["partners"]}
    for who, body in seen:
        for owner, token in tokens.items():
            assert owner == who or token not in body, f"{owner}'s token reached {who}"
        for k in range(7):
            email = f"p{k}@example.org"
            if email in body:
                own = who == f"p{k}" or (who == f"g{k}" and k < 3)
                assert own or email in partners.get(who, set()), f"{email} reached {who}"
    for one in list(sockets.values()) + list(cafe_sockets.values()):
        one.disconnect()


def test_leaving_deletes_the_person_but_keeps_anonymous_counts(app, client, organiser_token):
    trial = client.post("/api/v1/trials", json={"name": "T", "confirm_email": False},
                        headers=auth(organiser_token)).get_json()
    people = [client.post(f"/api/v1/trials/{trial['id']}/signups", json={
        "join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
        "department": "IT"}).get_json() for k in range(4)]
    client.post(f"/api/v1/trials/{trial['id']}/rounds", json={"publish": True},
                headers=auth(organiser_token))
    assert client.delete("/api/v1/me", headers=auth(people[0]["token"])).status_code == 200
    with app.extensions["matcher.sessions"]() as db:
        assert db.scalar(select(Person).where(Person.email == "p0@example.org")) is None
        assert db.scalar(select(func.count()).select_from(Group)) == 2  # the groups stay
        assert db.scalar(select(func.count()).select_from(GroupMember)) == 3
    history = client.get(f"/api/v1/trials/{trial['id']}/history.csv",
                         headers=auth(organiser_token)).get_data(as_text=True)
    assert "P0" not in history and people[0]["participant_id"] not in history
