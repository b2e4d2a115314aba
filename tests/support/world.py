"""A small world of trials and cafés that API tests start from, built once per
module on a database of its own (each test gets a fresh copy): two organisers
and a co-organiser (the ``organiser`` role on the first one's trial and
running café); a trial with a published round and another's trial; a running
café, a café in its lobby and another's café; their people."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from matcher.accounts import create_organiser
from matcher.cafes import cafe_by_code
from matcher.models import Organiser, Trial
from matcher.team import accept, invitation_for_token, invite
from tests.support.app import app_on_copy, build_once

__all__ = ["QUICK_ROUNDS", "World", "auth", "build_world", "built_world", "invite_to",
           "join_team", "world", "world_app", "world_client"]

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
    #: The API token of a co-organiser: the ``organiser`` role on ``trial`` and on
    #: the running café (the first of ``cafes``).
    co_organiser: str = ""


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

    trial = ok(client.post(f"{PREFIX}/trials", json={"name": "T", "confirm_email": False},
                           headers=auth(organiser_token)))
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
    with app.extensions["matcher.sessions"]() as db:
        _, co_organiser = create_organiser(db, "co@example.org", "Co")
        db.commit()
    running = next(iter(cafes))
    join_team(app, "org@example.org", "co@example.org", trial_id=trial["id"])
    join_team(app, "org@example.org", "co@example.org", cafe_code=running)
    return World(organiser_token, other, trial, other_trial, trial_people, cafes, co_organiser)


def invite_to(app, owner_email: str, email: str, role: str = "organiser", *,
              trial_id: int | None = None, cafe_code: str | None = None) -> tuple[int, str]:
    """``owner_email``'s invitation of ``email`` to ``role`` on a trial or a café
    (matcher.team, its mail queued as the app queues it): its id and token."""
    with app.extensions["matcher.sessions"]() as db:
        owner = db.query(Organiser).filter_by(email=owner_email).one()
        place = db.get(Trial, trial_id) if trial_id is not None else cafe_by_code(db, cafe_code)
        invited = invite(db, place, owner, email, role,
                         seal=app.extensions["matcher.seal"],
                         sender=app.extensions["matcher.mailer"].sender,
                         link_for=lambda token: f"http://localhost/organiser/invitations/{token}")
        db.commit()
        return invited.invitation.id, invited.token


def join_team(app, owner_email: str, email: str, role: str = "organiser", *,
              trial_id: int | None = None, cafe_code: str | None = None) -> None:
    """The account ``email`` joins a team: invited by ``owner_email``, and accepted."""
    _, token = invite_to(app, owner_email, email, role, trial_id=trial_id, cafe_code=cafe_code)
    with app.extensions["matcher.sessions"]() as db:
        accept(db, invitation_for_token(db, token),
               db.query(Organiser).filter_by(email=email).one())
        db.commit()
