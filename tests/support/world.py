"""A small world of trials and cafés that API tests start from, built once per
module on a database of its own (each test gets a fresh copy): two organisers;
a trial with a published round and another's trial; a running café, a café in
its lobby and another's café; their people."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from matcher.accounts import create_organiser
from tests.support.app import app_on_copy, build_once

__all__ = ["QUICK_ROUNDS", "World", "auth", "build_world", "built_world", "world",
           "world_app", "world_client"]

PREFIX = "/api/v1"

#: Quick rounds: these tests are about inputs, not about the rounds' quality.
QUICK_ROUNDS = {"ROUND_TIME_LIMIT": 1.0, "CAFE_TIME_LIMIT": 0.3}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    organiser: str
    other: str
    trial: dict
    other_trial: dict
    #: The trial's people: (token, public id).
    trial_people: list[tuple[str, str]]
    #: Cafés by code (running, lobby, another organiser's) and their people.
    cafes: dict[str, list[tuple[str, str]]]


@pytest.fixture(scope="module")
def built_world(module_databases, tmp_path_factory):
    """The world, built once per module on a database of its own: its URL and
    the world (each test works on a copy)."""
    return build_once(module_databases, tmp_path_factory.mktemp("world"), build_world,
                      **QUICK_ROUNDS)


@pytest.fixture
def world(built_world) -> World:
    return built_world[1]


@pytest.fixture
def world_app(built_world, databases, outbox):
    """The app on a fresh copy of the world."""
    with app_on_copy(databases, built_world[0], outbox, **QUICK_ROUNDS) as app:
        yield app


@pytest.fixture
def world_client(world_app):
    """Flask's test client of the app on a fresh copy of the world."""
    return world_app.test_client()


def build_world(app, client) -> World:
    """Two organisers; a trial with a published round and another's trial; a
    running café, a café in its lobby and another's café; their people."""
    with app.extensions["matcher.sessions"]() as db:
        _, organiser_token = create_organiser(db, "org@example.org", "Org")
        _, other = create_organiser(db, "other@example.org", "Other")
        db.commit()

    def ok(reply, status=201):
        assert reply.status_code == status, reply.get_data(as_text=True)
        return reply.get_json()

    trial = ok(client.post(f"{PREFIX}/trials", json={"name": "T"}, headers=auth(organiser_token)))
    other_trial = ok(client.post(f"{PREFIX}/trials", json={"name": "U"}, headers=auth(other)))
    trial_people = []
    for k in range(5):
        joined = ok(client.post(f"{PREFIX}/trials/{trial['id']}/signups", json={
            "join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
            "department": "AB"[k % 2]}))
        trial_people.append((joined["token"], joined["participant_id"]))
    ok(client.post(f"{PREFIX}/trials/{trial['id']}/rounds", json={"publish": True, "seed": 1},
                   headers=auth(organiser_token)))
    cafes = {}
    for owner, people, start in ((organiser_token, 5, True), (organiser_token, 3, False),
                                 (other, 2, False)):
        code = ok(client.post(f"{PREFIX}/cafes", headers=auth(owner), json={
            "name": "C", "tables": 2, "rounds": 3, "questions": ["Why?"]}))["code"]
        cafes[code] = []
        for k in range(people):
            joined = ok(client.post(f"{PREFIX}/cafes/{code}/participants", json={
                "name": f"C{k}", "department": "AB"[k % 2], "email": f"c{k}@example.org"}))
            cafes[code].append((joined["token"], joined["participant_id"]))
        if start:
            ok(client.post(f"{PREFIX}/cafes/{code}/rounds/next", json={"seed": 1},
                           headers=auth(owner)), 200)
    return World(organiser_token, other, trial, other_trial, trial_people, cafes)
