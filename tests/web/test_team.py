"""Co-organisers (docs/security.md, "Co-organisers"): an owner invites a
colleague by email; the invitation arrives by mail (the outbox, or a real SMTP
server); it is accepted by the account with that email, signed in or made from
the link, once, within 14 days; the colleague then runs the trial or café
(their dashboard, publishing, the console's Socket.IO) but may not delete it
or manage its team; the last owner stays; every change is in the log; an
owner deletes a trial or a café (page and API) and everything of it goes, but
not a café that is running. Also: the migration that gives each creator the
owner role, the login's ``next`` kept on this site, and two owners demoting
each other at once."""

from __future__ import annotations

import html
import re
import threading
import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from alembic import command
from sqlalchemy import func, select, text

from matcher import db as database
from matcher.accounts import create_organiser
from matcher.models import (
    Cafe,
    Invitation,
    Message,
    Organiser,
    Person,
    TeamEvent,
    TeamRole,
    Trial,
)
from matcher.team import INVITATION_LIFETIME, TeamError, change_role, invite
from matcher.times import utc_now
from matcher.trials import create_trial
from tests.support.app import app_on_copy, build_once
from tests.support.mail import mailed
from tests.support.openapi import check_response
from tests.support.world import QUICK_ROUNDS, auth, invite_to, join_team

PASSWORDS = {"ann@example.org": "ann pass 1", "bob@example.org": "bob pass 1",
             "eve@example.org": "eve pass 1"}


def build(app, client):
    """Ann's trial (a published round, feedback), her café in its lobby and her
    café running its last round (a note, a pledge to mail back); Bob and Eve,
    organisers with accounts but no role on any of them."""
    tokens = {}
    with app.extensions["matcher.sessions"]() as db:
        for email, password in PASSWORDS.items():
            _, tokens[email] = create_organiser(db, email, email.split("@")[0].title(),
                                                password=password)
        db.commit()
    ann = auth(tokens["ann@example.org"])

    def ok(reply, status=201):
        assert reply.status_code == status, reply.get_data(as_text=True)
        return reply.get_json()

    trial = ok(client.post("/api/v1/trials", json={"name": "Spring coffee",
                                                    "confirm_email": False}, headers=ann))
    members = [ok(client.post(f"/api/v1/trials/{trial['id']}/signups", json={
        "join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
        "department": "AB"[k % 2]})) for k in range(4)]
    ok(client.post(f"/api/v1/trials/{trial['id']}/rounds", json={"publish": True, "seed": 1},
                   headers=ann))
    ok(client.post("/api/v1/me/feedback", json={"round": 1, "met": True, "useful": 4},
                   headers=auth(members[0]["token"])), 200)
    lobby = ok(client.post("/api/v1/cafes", json={"name": "Lobby café", "rounds": 2},
                           headers=ann))
    for k in range(2):
        ok(client.post(f"/api/v1/cafes/{lobby['code']}/participants",
                       json={"name": f"L{k}", "department": "AB"[k]}))
    running = ok(client.post("/api/v1/cafes", headers=ann, json={
        "name": "Running café", "rounds": 1, "tables": 1, "pledge_reminder_days": 7}))
    guests = [ok(client.post(f"/api/v1/cafes/{running['code']}/participants", json={
        "name": f"G{k}", "department": "AB"[k], "email": f"g{k}@example.org"}))
        for k in range(2)]
    ok(client.post(f"/api/v1/cafes/{running['code']}/rounds/next", json={"seed": 1},
                   headers=ann), 200)
    guest = auth(guests[0]["token"])
    note = ok(client.post(f"/api/v1/cafes/{running['code']}/notes", json={"text": "Tea"},
                          headers=guest))
    ok(client.post(f"/api/v1/cafes/{running['code']}/pledges", json={"text": "Call Bo"},
                   headers=guest))
    running |= {"note": note["note_id"], "guests": [g["token"] for g in guests]}
    return {"tokens": tokens, "trial": trial, "members": members, "lobby": lobby,
            "running": running}


@pytest.fixture(scope="module")
def built(module_databases, tmp_path_factory):
    return build_once(module_databases, tmp_path_factory.mktemp("team"), build, **QUICK_ROUNDS)


@pytest.fixture
def world(built):
    return built[1]


@pytest.fixture
def app(built, databases, outbox):
    """The app on a fresh copy of the module's world."""
    with app_on_copy(databases, built[0], outbox, **QUICK_ROUNDS) as made:
        yield made


def signed_in(app, email):
    client = app.test_client()
    reply = client.post("/organiser/login", data={"email": email, "password": PASSWORDS[email]})
    assert reply.status_code == 303
    return client


def page_text(reply) -> str:
    """The words of a page, as read (no tags)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", reply.get_data(as_text=True)))
                    .replace(" .", ".").replace(" ,", ",").split())


def invitation_link(message) -> str:
    """The path of the invitation's link in a mail."""
    body = message.get_body(("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(/organiser/invitations/\S+)", body).group(1)


def count(app, model, *where) -> int:
    with app.extensions["matcher.sessions"]() as db:
        return db.scalar(select(func.count()).select_from(model).where(*where))


def test_an_invited_account_accepts_and_helps_run_the_trial_but_not_own_it(app, world, outbox):
    trial_id = world["trial"]["id"]
    team_url = f"/organiser/trials/{trial_id}/team"
    ann = signed_in(app, "ann@example.org")
    page = page_text(ann.get(team_url))
    assert "You are an owner of this trial" in page and "created the trial, as its owner" in page

    reply = ann.post(team_url + "/invitations", data={"email": " Bob@Example.org ",
                                                       "role": "organiser"})
    assert reply.status_code == 303 and reply.headers["Location"] == team_url
    page = page_text(ann.get(team_url))
    assert "An invitation is being mailed to bob@example.org, as organiser" in page
    assert "bob@example.org, as organiser, invited by Ann" in page

    [message] = [m for m in mailed(outbox) if m["To"] == "bob@example.org"]
    assert message["Subject"] == "Ann invites you to help run Spring coffee"
    link = invitation_link(message)
    token = link.rsplit("/", 1)[1]
    with app.extensions["matcher.sessions"]() as db:  # the token is in the mail only
        stored = db.scalar(select(Invitation))
        assert stored.token_hash != token and len(stored.token_hash) == 64
        assert token not in str(db.execute(text("SELECT * FROM invitation")).all())

    bob = app.test_client()
    page = bob.get(link)
    assert page.status_code == 200
    assert "Ann (ann@example.org) invites bob@example.org to be an organiser" in page_text(page)
    sign_in = f"/organiser/login?next={quote(link, safe='')}"
    assert sign_in.replace("%2F", "/") in page.get_data(as_text=True).replace("%2F", "/")
    reply = bob.post(f"/organiser/login?next={quote(link)}",
                     data={"email": "bob@example.org", "password": "bob pass 1"})
    assert reply.status_code == 303 and reply.headers["Location"] == link
    assert ">Accept</button>" in bob.get(link).get_data(as_text=True)
    reply = bob.post(link)
    assert reply.status_code == 303
    assert reply.headers["Location"] == f"/organiser/trials/{trial_id}"

    dashboard = page_text(bob.get("/organiser/"))
    assert "Spring coffee" in dashboard and "Your role: organiser" in dashboard
    assert "Running café" not in dashboard
    assert bob.get(f"/organiser/trials/{trial_id}").status_code == 200
    assert bob.post(f"/organiser/trials/{trial_id}/publish",
                    data={"after": "1"}).status_code == 303
    assert count(app, Message, Message.round_number == 2) > 0  # the round's introductions
    refused = bob.post(f"/organiser/trials/{trial_id}/delete", data={"name": "Spring coffee"})
    assert refused.status_code == 403
    assert "only an owner can delete this trial" in page_text(refused)
    refused = bob.post(team_url + "/invitations", data={"email": "cy@example.org",
                                                        "role": "organiser"})
    assert refused.status_code == 403 and "only an owner can invite people" in page_text(refused)
    api = app.test_client()
    bob_token = auth(world["tokens"]["bob@example.org"])
    refused = api.delete(f"/api/v1/trials/{trial_id}", headers=bob_token)
    check_response("DELETE", f"/api/v1/trials/{trial_id}", refused)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["message"] == "only an owner can delete this trial"
    assert api.get(f"/api/v1/trials/{trial_id}", headers=bob_token).status_code == 200
    assert count(app, Trial) == 1

    # The link works once.
    assert bob.post(link).status_code == 410
    used = bob.get(link)
    assert used.status_code == 410 and "accepted already" in page_text(used)
    # The log, newest first.
    page = page_text(ann.get(team_url))
    joined = page.index("Bob (bob@example.org) accepted the invitation and joined as an organiser")
    invited = page.index("Ann (ann@example.org) invited bob@example.org as an organiser")
    created = page.index("Ann (ann@example.org) created the trial, as its owner")
    assert joined < invited < created
    assert "No invitation is waiting for an answer" in page


def test_a_colleague_with_no_account_makes_one_from_the_mail_of_a_real_smtp_server(
        built, databases, outbox, smtp_server, world):
    code = world["lobby"]["code"]
    with app_on_copy(databases, built[0], outbox, MAIL_URL=smtp_server.url,
                     **QUICK_ROUNDS) as app:
        api = app.test_client()
        ann = auth(world["tokens"]["ann@example.org"])
        reply = api.post(f"/api/v1/cafes/{code}/team/invitations",
                         json={"email": "cy@example.org", "role": "owner"}, headers=ann)
        check_response("POST", f"/api/v1/cafes/{code}/team/invitations", reply)
        assert reply.status_code == 201 and reply.get_json()["mailed"] is True
        app.extensions["matcher.jobs"].sweep()
        [message] = [m for to, m in smtp_server.messages if to == ("cy@example.org",)]
        assert message["Subject"] == "Ann invites you to help run Lobby café"
        link = invitation_link(message)

        cy = app.test_client()
        page = page_text(cy.get(link))
        assert "Make your organiser account" in page and "cy@example.org" in page
        for form, field, words in (({"name": " ", "password": "a long password"}, "name",
                                    "name is required"),
                                   ({"name": "Cy", "password": "short"}, "password",
                                    "password is shorter than")):
            refused = cy.post(link, data=form)
            assert refused.status_code == 400 and words in page_text(refused)
            assert f'id="{field}" ' in refused.get_data(as_text=True)
            assert 'aria-invalid="true"' in refused.get_data(as_text=True)
        assert count(app, Organiser, Organiser.email == "cy@example.org") == 0
        reply = cy.post(link, data={"name": "Cy Okafor", "password": "a long password"})
        assert reply.status_code == 303
        cafe_id = world["lobby"]["id"]
        assert reply.headers["Location"] == f"/organiser/cafes/{cafe_id}"
        dashboard = page_text(cy.get("/organiser/"))  # signed in as the new account
        assert "Lobby café" in dashboard and "your role: owner" in dashboard
        assert cy.get(f"/organiser/cafes/{cafe_id}").status_code == 200

        team = api.get(f"/api/v1/cafes/{code}/team", headers=ann)
        check_response("GET", f"/api/v1/cafes/{code}/team", team)
        answer = team.get_json()
        assert [(m["email"], m["role"]) for m in answer["members"]] == [
            ("ann@example.org", "owner"), ("cy@example.org", "owner")]
        assert [e["action"] for e in answer["log"]] == ["joined", "invited", "created"]
        assert answer["log"][0]["text"] == ("Cy Okafor (cy@example.org) accepted the "
                                            "invitation and joined as an owner")
        assert answer["invitations"] == []


def test_an_invitation_is_for_its_address_only(app, world):
    trial_id = world["trial"]["id"]
    _, token = invite_to(app, "ann@example.org", "bob@example.org", trial_id=trial_id)
    link = f"/organiser/invitations/{token}"
    eve = signed_in(app, "eve@example.org")
    page = eve.get(link)
    assert page.status_code == 403
    assert ("This invitation is for bob@example.org, and you are signed in as eve@example.org"
            in page_text(page))
    refused = eve.post(link)
    assert refused.status_code == 403 and "this invitation is for bob@example.org" in \
        page_text(refused)
    assert count(app, TeamRole, TeamRole.trial_id == trial_id) == 1
    assert count(app, Invitation, Invitation.status == "pending") == 1
    assert eve.get(f"/organiser/trials/{trial_id}").status_code == 403
    # A wrong token is nothing there.
    assert app.test_client().get("/organiser/invitations/not-a-token").status_code == 404


def test_an_invitation_expires_after_14_days_and_the_address_may_be_invited_again(app, world):
    trial_id = world["trial"]["id"]
    sessions = app.extensions["matcher.sessions"]
    with sessions() as db:
        ann = db.scalar(select(Organiser).where(Organiser.email == "ann@example.org"))
        invited = invite(db, db.get(Trial, trial_id), ann, "dan@example.org", "organiser",
                         seal=app.extensions["matcher.seal"], sender="matcher <m@localhost>",
                         link_for=lambda token: f"http://localhost/organiser/invitations/{token}",
                         now=utc_now() - INVITATION_LIFETIME - timedelta(minutes=1))
        db.commit()
    page = app.test_client().get(f"/organiser/invitations/{invited.token}")
    assert page.status_code == 410 and "this invitation expired on" in page_text(page).lower()
    assert "ask Ann (ann@example.org) for a new one" in page_text(page)
    team = page_text(signed_in(app, "ann@example.org").get(f"/organiser/trials/{trial_id}/team"))
    assert "dan@example.org, as organiser" in team and "expired on" in team

    api = app.test_client()
    ann_token = auth(world["tokens"]["ann@example.org"])
    path = f"/api/v1/trials/{trial_id}/team/invitations"
    again = api.post(path, json={"email": "dan@example.org", "role": "organiser"},
                     headers=ann_token)
    check_response("POST", path, again)
    assert again.status_code == 201
    with sessions() as db:
        assert sorted(db.scalars(select(Invitation.status))) == ["expired", "pending"]
    twice = api.post(path, json={"email": "dan@example.org", "role": "owner"}, headers=ann_token)
    check_response("POST", path, twice)
    assert twice.status_code == 409 and twice.get_json()["error"]["field"] == "email"
    assert "withdraw that invitation" in twice.get_json()["error"]["message"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"email": "not an address", "role": "organiser"}, 400, "email"),
    ({"email": "x@example.org", "role": "boss"}, 400, "role"),
    ({"role": "owner"}, 400, "email"),
    ({"email": "ANN@example.org", "role": "owner"}, 409, "email"),
])
def test_bad_invitations_are_refused_naming_the_field_and_nothing_is_saved(
        app, world, body, status, field):
    code = world["running"]["code"]
    path = f"/api/v1/cafes/{code}/team/invitations"
    before = [count(app, model) for model in (Invitation, TeamEvent, Message)]
    reply = app.test_client().post(path, json=body,
                                   headers=auth(world["tokens"]["ann@example.org"]))
    check_response("POST", path, reply)
    assert reply.status_code == status and reply.get_json()["error"]["field"] == field
    page = signed_in(app, "ann@example.org").post(
        f"/organiser/cafes/{world['running']['id']}/team/invitations", data=body)
    assert page.status_code == status and 'role="alert"' in page.get_data(as_text=True)
    assert [count(app, model) for model in (Invitation, TeamEvent, Message)] == before


def test_the_last_owner_can_be_neither_removed_nor_demoted(app, world):
    trial_id = world["trial"]["id"]
    team_url = f"/organiser/trials/{trial_id}/team"
    with app.extensions["matcher.sessions"]() as db:
        ann_id, bob_id = (db.scalar(select(Organiser.id).where(Organiser.email == email))
                          for email in ("ann@example.org", "bob@example.org"))
    ann = signed_in(app, "ann@example.org")
    refused = ann.post(f"{team_url}/{ann_id}/role", data={"role": "organiser"})
    assert refused.status_code == 409
    assert "Ann (ann@example.org) is the last owner of this trial" in page_text(refused)
    refused = ann.post(f"{team_url}/{ann_id}/remove")
    assert refused.status_code == 409 and "cannot be removed" in page_text(refused)
    assert count(app, TeamRole, TeamRole.role == "owner", TeamRole.trial_id == trial_id) == 1

    join_team(app, "ann@example.org", "bob@example.org", trial_id=trial_id)
    assert ann.post(f"{team_url}/{bob_id}/role", data={"role": "owner"}).status_code == 303
    assert ann.post(f"{team_url}/{ann_id}/role", data={"role": "organiser"}).status_code == 303
    refused = ann.post(f"/organiser/trials/{trial_id}/delete", data={"name": "Spring coffee"})
    assert refused.status_code == 403
    bob = signed_in(app, "bob@example.org")
    refused = bob.post(f"{team_url}/{bob_id}/remove")  # the last owner now
    assert refused.status_code == 409
    left = bob.post(f"{team_url}/{ann_id}/remove")
    assert left.status_code == 303 and left.headers["Location"] == team_url
    assert "Spring coffee" not in page_text(ann.get("/organiser/"))
    assert ann.get(team_url).status_code == 403
    log = page_text(bob.get(team_url))
    assert log.index("Bob (bob@example.org) removed Ann (ann@example.org) (organiser)") < \
        log.index("Ann (ann@example.org) changed the role of Ann (ann@example.org) from owner "
                  "to organiser") < \
        log.index("Ann (ann@example.org) changed the role of Bob (bob@example.org) from "
                  "organiser to owner")


def test_a_withdrawn_invitation_no_longer_works_and_its_mail_is_not_sent(app, world, outbox):
    cafe_id = world["lobby"]["id"]
    team_url = f"/organiser/cafes/{cafe_id}/team"
    ann = signed_in(app, "ann@example.org")
    assert ann.post(team_url + "/invitations", data={"email": "dan@example.org",
                                                      "role": "owner"}).status_code == 303
    with app.extensions["matcher.sessions"]() as db:
        invitation = db.scalar(select(Invitation))
    assert ann.post(f"{team_url}/invitations/{invitation.id}/withdraw").status_code == 303
    assert [m for m in mailed(outbox) if m["To"] == "dan@example.org"] == []
    with app.extensions["matcher.sessions"]() as db:
        assert db.scalar(select(Message.status).where(Message.kind == "invitation")) == \
            "cancelled"
    page = page_text(ann.get(team_url))
    assert "Ann (ann@example.org) withdrew the invitation of dan@example.org" in page
    assert ann.post(f"{team_url}/invitations/{invitation.id}/withdraw").status_code == 409
    other = f"/organiser/trials/{world['trial']['id']}/team/invitations/{invitation.id}/withdraw"
    assert ann.post(other).status_code == 404  # not the trial's


def _of_trial(app, trial_id) -> dict[str, int]:
    counts = {}
    with app.extensions["matcher.sessions"]() as db:
        for table in ("membership", "round", "feedback", "message", "team_role", "invitation",
                      "team_event"):
            counts[table] = db.scalar(text(f'SELECT count(*) FROM "{table}" WHERE trial_id = '
                                           ":id"), {"id": trial_id})
        counts["group"] = db.scalar(text('SELECT count(*) FROM "group" g JOIN round r ON '
                                         "r.id = g.round_id WHERE r.trial_id = :id"),
                                    {"id": trial_id})
    return counts


def test_an_owner_deletes_a_trial_and_everything_of_it_goes(app, world):
    trial_id = world["trial"]["id"]
    invite_to(app, "ann@example.org", "dan@example.org", trial_id=trial_id)
    assert all(_of_trial(app, trial_id).values())
    people = count(app, Person)
    ann = signed_in(app, "ann@example.org")
    refused = ann.post(f"/organiser/trials/{trial_id}/delete", data={"name": "Autumn coffee"})
    assert refused.status_code == 400
    assert "the name typed is not the trial's name: type “Spring coffee” to delete it" in \
        page_text(refused)
    assert count(app, Trial) == 1
    reply = ann.post(f"/organiser/trials/{trial_id}/delete", data={"name": " spring  COFFEE "})
    assert reply.status_code == 303 and reply.headers["Location"] == "/organiser/"
    assert "Spring coffee is deleted, with everything in it" in page_text(ann.get("/organiser/"))
    assert count(app, Trial) == 0
    assert set(_of_trial(app, trial_id).values()) == {0}
    assert count(app, Message, Message.kind == "invitation") == 0
    assert count(app, Person) == people  # people may stay
    client = app.test_client()
    assert client.get(world["members"][0]["me_url"].split("localhost", 1)[1]).status_code == 404
    assert client.get(f"/api/v1/trials/{trial_id}",
                      headers=auth(world["tokens"]["ann@example.org"])).status_code == 404


def test_the_api_deletes_a_trial_for_an_owner_only(app, world):
    trial_id = world["trial"]["id"]
    join_team(app, "ann@example.org", "bob@example.org", trial_id=trial_id)
    api = app.test_client()
    path = f"/api/v1/trials/{trial_id}"
    for email, status in (("eve@example.org", 403), ("bob@example.org", 403),
                          ("ann@example.org", 204), ("ann@example.org", 404)):
        reply = api.delete(path, headers=auth(world["tokens"][email]))
        check_response("DELETE", path, reply)
        assert reply.status_code == status, email
    assert count(app, Trial) == 0 and count(app, TeamRole, TeamRole.trial_id == trial_id) == 0


def test_a_running_cafe_is_not_deleted_and_an_ended_one_goes_whole(app, world):
    running = world["running"]
    api = app.test_client()
    ann_token = auth(world["tokens"]["ann@example.org"])
    path = f"/api/v1/cafes/{running['code']}"
    refused = api.delete(path, headers=ann_token)
    check_response("DELETE", path, refused)
    assert refused.status_code == 409 and "end it first" in refused.get_json()["error"]["message"]
    ann = signed_in(app, "ann@example.org")
    page = ann.post(f"/organiser/cafes/{running['id']}/delete", data={"name": "Running café"})
    assert page.status_code == 409 and "this café is running: end it first" in page_text(page)
    assert "A running café cannot be deleted" in page_text(
        ann.get(f"/organiser/cafes/{running['id']}/team"))

    assert api.post(f"{path}/end", headers=ann_token).status_code == 200
    assert api.post(f"{path}/notes/{running['note']}/vote",
                    headers=auth(running["guests"][1])).status_code == 200
    assert count(app, Message, Message.reason.like(f"pledge:{running['id']}:%")) == 1
    reply = api.delete(path, headers=ann_token)
    check_response("DELETE", path, reply)
    assert reply.status_code == 204 and reply.get_data() == b""
    assert count(app, Cafe, Cafe.id == running["id"]) == 0
    with app.extensions["matcher.sessions"]() as db:
        for table in ("attendee", "note", "pledge", "round", "team_role", "team_event"):
            assert db.scalar(text(f'SELECT count(*) FROM "{table}" WHERE cafe_id = :id'),
                             {"id": running["id"]}) == 0, table
        assert db.scalar(text("SELECT count(*) FROM note_vote")) == 0
    assert count(app, Message, Message.reason.like(f"pledge:{running['id']}:%")) == 0
    assert api.delete(path, headers=ann_token).status_code == 404

    lobby = world["lobby"]
    reply = ann.post(f"/organiser/cafes/{lobby['id']}/delete", data={"name": "Lobby café"})
    assert reply.status_code == 303 and count(app, Cafe) == 0


def test_a_co_organiser_runs_the_cafe_and_its_console_hears_it(app, world, socket_client):
    running = world["running"]
    join_team(app, "ann@example.org", "bob@example.org", cafe_code=running["code"])
    bob = world["tokens"]["bob@example.org"]
    console = socket_client({"token": bob})
    assert console.is_connected()
    console.get_received()
    reply = app.test_client().post(f"/api/v1/cafes/{running['code']}/time",
                                   json={"minutes": 2}, headers=auth(bob))
    assert reply.status_code == 200
    assert "cafe_state" in [event["name"] for event in console.get_received()]
    stranger = socket_client({"token": world["tokens"]["eve@example.org"]})
    stranger.get_received()
    app.test_client().post(f"/api/v1/cafes/{running['code']}/time", json={"minutes": 1},
                           headers=auth(bob))
    assert "cafe_state" not in [event["name"] for event in stranger.get_received()]


def test_the_migration_makes_every_creator_the_owner(databases):
    engine = database.make_engine(databases.new("migration"))
    try:
        with engine.connect() as connection, database.foreign_keys_off(connection):
            command.upgrade(database.alembic_config(connection), "0008")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO organiser (id, email, name, created_at) VALUES "
                "(7, 'old@example.org', 'Old', '2026-01-02 03:04:05')"))
            connection.execute(text(
                "INSERT INTO trial (id, organiser_id, name, description, group_size, odd, "
                "weights, join_code, created_at, schedule_paused, icebreakers, confirm_email) "
                "VALUES (3, 7, 'Old trial', '', 2, 'triad', '{}', 'code', "
                "'2026-01-02 03:04:05', false, '[]', false)"))
            connection.execute(text(
                "INSERT INTO cafe (id, organiser_id, name, code, screen_key, rounds, "
                "round_minutes, questions, host_names, weights, status, current_round, plan, "
                "created_at) VALUES (5, 7, 'Old café', 'ABCDEF', 'key', 2, 20, '[]', '[]', "
                "'{}', 'lobby', 0, '{}', '2026-01-03 03:04:05')"))
        database.upgrade(engine)
        with engine.connect() as connection:
            roles = connection.execute(text(
                "SELECT organiser_id, trial_id, cafe_id, role FROM team_role ORDER BY id")).all()
            log = connection.execute(text(
                "SELECT trial_id, cafe_id, actor_id, email, action, role FROM team_event "
                "ORDER BY id")).all()
        assert [tuple(row) for row in roles] == [(7, 3, None, "owner"), (7, None, 5, "owner")]
        assert [tuple(row) for row in log] == [
            (3, None, 7, "old@example.org", "created", "owner"),
            (None, 5, 7, "old@example.org", "created", "owner")]
        with database.make_session_factory(engine)() as session:
            event = session.scalar(select(TeamEvent).where(TeamEvent.trial_id == 3))
            assert event.at.year == 2026 and event.at.tzinfo is not None
    finally:
        engine.dispose()


@pytest.mark.parametrize("target", ["//evil.example.org/", "https://evil.example.org/",
                                    "/\\evil.example.org", "javascript:alert(1)"])
def test_the_login_goes_back_to_organiser_pages_of_this_site_only(app, target):
    reply = app.test_client().post(f"/organiser/login?next={quote(target)}",
                                   data={"email": "ann@example.org", "password": "ann pass 1"})
    assert reply.status_code == 303 and reply.headers["Location"] == "/organiser/"


def test_two_owners_demoting_each_other_at_once_leave_one_owner(databases):
    """Each checks, then commits a little later: the owners' rows are held
    until the commit, so the second sees the first's change and is refused."""
    engine = database.make_engine(databases.new("race", migrated=True))
    sessions = database.make_session_factory(engine)
    try:
        with sessions() as db:
            ann, _ = create_organiser(db, "ann@example.org")
            bob, _ = create_organiser(db, "bob@example.org")
            trial = create_trial(db, ann, "Two owners")
            db.add(TeamRole(organiser=bob, trial=trial, role="owner"))
            db.commit()
            ids = ann.id, bob.id, trial.id
        start, answers = threading.Barrier(2), []

        def demote_oneself(me: int) -> None:
            with sessions() as db:
                place, by = db.get(Trial, ids[2]), db.get(Organiser, me)
                start.wait()
                try:
                    change_role(db, place, by, me, "organiser")
                    time.sleep(0.3)
                    db.commit()
                    answers.append("demoted")
                except TeamError as exc:
                    db.rollback()
                    answers.append(exc.code)

        threads = [threading.Thread(target=demote_oneself, args=(me,)) for me in ids[:2]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answers) == ["demoted", "last_owner"]
        with sessions() as db:
            assert sorted(db.scalars(select(TeamRole.role))) == ["organiser", "owner"]
    finally:
        engine.dispose()
