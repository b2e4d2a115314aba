"""The access matrix of docs/security.md, cell by cell: every refusing cell is
checked with a real request from that caller, and every allowed cell is not
refused. The table is read from the document, so the two cannot drift apart.
The callers include an owner and a co-organiser (the ``organiser`` role) of the
trial and the café ("Co-organisers")."""

import fnmatch
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from matcher.accounts import create_organiser
from matcher.actions import action_token
from matcher.models import Membership, Person, Trial
from matcher.times import utc_now
from matcher.trials import signup as confirm_later
from tests.support.app import app_on_copy, build_once
from tests.support.database import Database
from tests.support.world import invite_to, join_team

MATRIX = Path(__file__).resolve().parents[2] / "docs" / "security.md"
CALLERS = ("anonymous", "participant", "other participant", "other organiser", "owner",
           "co-organiser")
#: How each organiser caller signs in to the pages: email and password.
LOGINS = {"owner": ("owner@example.org", "owner pass 1"),
          "other organiser": ("other@example.org", "other pass 1"),
          "co-organiser": ("co@example.org", "co pass 1")}


def _rows():
    rows = []
    section = ""
    for line in MATRIX.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            section = line
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        found = re.fullmatch(r"`(GET|POST|PATCH|DELETE) ([^`]+)`(.*)", cells[0])
        if not found or section not in ("### JSON API (`/api/v1`)", "### Pages"):
            continue
        # A row without a cell for every caller would go unchecked: refused here.
        assert len(cells) == len(CALLERS) + 1, f"docs/security.md: {line!r} needs a cell " \
                                               f"for each of {', '.join(CALLERS)}"
        method, path, note = found.groups()
        for caller, expected in zip(CALLERS, cells[1:], strict=True):
            if expected != "—":
                api = "JSON API" in section
                rows.append(pytest.param(api, method, path, note.strip(), caller, expected,
                                         id=f"{'API ' if api else ''}{method} {path}{note} "
                                            f"as {caller}"))
    return rows


ROWS = _rows()


def test_the_matrix_covers_every_route(app):
    documented = {(method, ("/api/v1" if api else "") + re.sub(r"\{\w+\}", "X", path))
                  for api, method, path, *_ in (row.values for row in ROWS)}
    public_forms = {"/cafe", "/organiser/login", "/organiser/logout", "/organiser/trials",
                    "/organiser/cafes", "/join/<join_code>", "/join/<join_code>/link",
                    "/cafe/<code>", "/me/<token>/resume", "/me/<token>/met"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule in public_forms:
            continue
        pattern = re.sub(r"<[^>]+>", "*", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert any(m == method and fnmatch.fnmatchcase(path, pattern)
                       for m, path in documented), \
                f"{method} {rule.rule} is not in docs/security.md"


@pytest.fixture(scope="module")
def built(module_databases, tmp_path_factory):
    """The world of these tests, built once per module on a database of its own:
    that database's URL and the world (each test works on a copy of it)."""
    return build_once(module_databases, tmp_path_factory.mktemp("world"), build_world)


@pytest.fixture
def app(built, databases, outbox):
    """The app on a fresh copy of the module's world."""
    with app_on_copy(databases, built[0], outbox) as made:
        yield made


@pytest.fixture(scope="module")
def unchanging(built, module_databases, tmp_path_factory):
    """One app on one copy of the world for every request that must change
    nothing (each test checks that it did not): reads, and refused requests."""
    with app_on_copy(module_databases, built[0], tmp_path_factory.mktemp("outbox")) as made:
        yield made


@pytest.fixture
def world(built):
    return built[1]


@pytest.fixture(scope="module")
def signed_in(unchanging):
    """Each organiser caller's session cookie, from one real sign-in each: every
    app of the module has the same secret key and the same accounts (copies of
    one world), so the cookie is as good in each, and the password's slow hash
    is checked once per caller rather than once per cell."""
    cookies = {}
    for caller, (email, password) in LOGINS.items():
        client = unchanging.test_client()
        signed = client.post("/organiser/login", data={"email": email, "password": password})
        assert signed.status_code == 303
        cookies[caller] = client.get_cookie("session").value
    return cookies


def build_world(app, client):
    """A trial and a café of one organiser (their owner) with a co-organiser,
    another organiser, and a participant of each (plus participants of another
    trial and café); an invitation of each still open."""
    sessions = app.extensions["matcher.sessions"]
    with sessions() as db:
        _, owner = create_organiser(db, "owner@example.org", "Owner", password="owner pass 1")
        _, other = create_organiser(db, "other@example.org", "Other", password="other pass 1")
        co, co_token = create_organiser(db, "co@example.org", "Co", password="co pass 1")
        db.commit()
        co_id = co.id
    headers = {"Authorization": f"Bearer {owner}"}
    # Sign-ups join at once (no confirmation mail): the world needs its members.
    trial = client.post("/api/v1/trials", json={"name": "T", "confirm_email": False},
                        headers=headers).get_json()
    spare = client.post("/api/v1/trials", json={"name": "Other", "confirm_email": False},
                        headers=headers).get_json()
    cafe = client.post("/api/v1/cafes", json={"name": "C", "rounds": 2, "tables": 1},
                       headers=headers).get_json()
    spare_cafe = client.post("/api/v1/cafes", json={"name": "D", "rounds": 2},
                             headers=headers).get_json()

    def signup(one, k):
        return client.post(f"/api/v1/trials/{one['id']}/signups", json={
            "join_code": one["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
            "department": "IT"}).get_json()

    def join(one, k):
        return client.post(f"/api/v1/cafes/{one['code']}/participants",
                           json={"name": f"Q{k}", "department": "HR"}).get_json()

    member, spare_member = signup(trial, 1), signup(spare, 2)
    signup(trial, 3)
    # A published round (the round's own page).
    assert client.post(f"/api/v1/trials/{trial['id']}/rounds", json={"publish": True},
                       headers=headers).status_code == 201
    with sessions() as db:  # the pause link a mail to the member carries
        membership = db.scalar(select(Membership).join(Person).where(
            Person.public_id == member["participant_id"]))
        member["action_token"] = action_token(
            app.config["SECRET_KEY"], "pause", membership,
            expires_at=utc_now() + timedelta(days=30))
    # A sign-up waiting for its email, to a trial that confirms them: its link.
    confirming = client.post("/api/v1/trials", json={"name": "Confirmed"},
                             headers=headers).get_json()
    with sessions() as db:
        pending = confirm_later(db, db.get(Trial, confirming["id"]), confirming["join_code"],
                                {"name": "Pat", "email": "pat@example.org",
                                 "department": "IT"})
        db.commit()
    attendee, spare_attendee = join(cafe, 1), join(spare_cafe, 2)
    join(cafe, 3)
    # The café under way, with a note of its one table (the harvest's routes).
    assert client.post(f"/api/v1/cafes/{cafe['code']}/rounds/next", json={"seed": 1},
                       headers=headers).status_code == 200
    note = client.post(f"/api/v1/cafes/{cafe['code']}/notes", json={"text": "A note"},
                       headers={"Authorization": f"Bearer {attendee['token']}"}).get_json()
    # The co-organiser: the organiser role on the trial and the café; and an
    # invitation of each still open, to an address with no account.
    join_team(app, "owner@example.org", "co@example.org", trial_id=trial["id"])
    join_team(app, "owner@example.org", "co@example.org", cafe_code=cafe["code"])
    trial_invitation, invitation_token = invite_to(app, "owner@example.org",
                                                   "invitee@example.org", trial_id=trial["id"])
    cafe_invitation, _ = invite_to(app, "owner@example.org", "invitee@example.org",
                                   cafe_code=cafe["code"])
    return {"note": note["note_id"],
        "owner": owner, "other": other, "co": co_token, "co_id": co_id,
        "trial": trial, "cafe": cafe,
        "member": member, "spare_member": spare_member,
        "attendee": attendee, "spare_attendee": spare_attendee,
        "trial_invitation": trial_invitation, "cafe_invitation": cafe_invitation,
        "invitation_token": invitation_token, "confirmation": pending.token,
    }


def _fill(path: str, world) -> str:
    values = {
        "trial": world["trial"]["id"], "pid": world["member"]["participant_id"],
        "code": world["cafe"]["code"], "wrong_code": "ZZZZZZ",
        "cafe_pid": world["attendee"]["participant_id"], "join_code": world["trial"]["join_code"],
        "token": world["member"]["token"], "kind": "reminder",
        "action_token": world["member"]["action_token"],
        "cafe_token": world["attendee"]["token"],
        "screen_key": world["cafe"]["screen_url"].rsplit("/", 1)[1],
        "cafe": world["cafe"]["id"], "note": world["note"], "number": 1,
        "organiser": world["co_id"], "invitation_token": world["invitation_token"],
        "confirmation": world["confirmation"],
        "invitation": world["cafe_invitation" if "/cafes/" in path else "trial_invitation"],
    }
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def _body(path: str, note: str, world) -> dict | None:
    if path.endswith("/signups"):
        code = world["trial"]["join_code"] if "the join code" in note else "wrong"
        return {"join_code": code, "name": "New", "email": "new@example.org",
                "department": "IT"}
    if path.endswith("/links"):
        return {"join_code": world["trial"]["join_code"], "email": "p1@example.org"}
    if path.endswith("/participants") and "/cafes/" in path:
        return {"name": "New", "department": "IT"}
    if path.endswith("/time"):
        return {"minutes": 5}
    if path.endswith(("/notes", "/pledges", "/pledge")):
        return {"text": "A note"}
    if path.endswith("/hide"):
        return {"hidden": True}
    if path.endswith("/merge"):
        return {"into": None}
    if path.endswith("/confirmations"):
        return {"token": world["confirmation"]}
    if path.endswith("/team/invitations"):
        return {"email": "colleague@example.org", "role": "organiser"}
    if path.endswith("/role"):
        return {"role": "owner"}
    if path.endswith("/delete"):  # the name typed to confirm
        return {"name": "C" if "/cafes/" in path else "T"}
    return {}


@pytest.mark.sqlite_only(
    reason="who may do what is decided in the app, by the same queries on either "
           "database; each route's own work on PostgreSQL is tested in its own module")
@pytest.mark.parametrize("is_api, method, path, note, caller, expected", ROWS)
def test_access(request, world, signed_in, is_api, method, path, note, caller, expected):
    changes = method != "GET" and expected == "✓"
    app = request.getfixturevalue("app" if changes else "unchanging")
    client = app.test_client()
    database = Database(app.config["DATABASE_URL"])
    before = None if changes else database.contents()
    url = ("/api/v1" if is_api else "") + _fill(path, world)
    cafe_row = "/cafes/" in path or path.startswith("/cafe")
    credential = {
        "anonymous": None,
        "participant": world["attendee" if cafe_row else "member"]["token"],
        "other participant": world["spare_attendee" if cafe_row else "spare_member"]["token"],
        "other organiser": world["other"],
        "owner": world["owner"],
        "co-organiser": world["co"],
    }[caller]
    headers = {}
    if is_api and credential:
        headers["Authorization"] = f"Bearer {credential}"
    if not is_api and caller in LOGINS:
        client.set_cookie("session", signed_in[caller])
    if not is_api and caller == "anonymous":
        # A wrong secret in the URL.
        url = url.replace(world["member"]["action_token"], "not-a-token").replace(
            world["member"]["token"], "not-a-token").replace(
            world["attendee"]["token"], "not-a-token").replace(
            world["cafe"]["screen_url"].rsplit("/", 1)[1], "not-a-key").replace(
            world["invitation_token"], "not-a-token").replace(
            world["confirmation"], "not-a-token")
    body = _body(path, note, world)
    if is_api:
        reply = client.open(url, method=method, headers=headers,
                            json=body if method in ("POST", "PATCH") else None)
    else:
        reply = client.open(url, method=method, data=body if method == "POST" else None)
    if expected == "login":
        assert reply.status_code == 302 and "/organiser/login" in reply.headers["Location"]
    elif expected == "✓":
        assert reply.status_code not in (401, 403, 404), reply.get_data(as_text=True)[:300]
        if reply.status_code == 302:
            assert "/organiser/login" not in reply.headers["Location"]
    else:
        assert reply.status_code == int(expected), reply.get_data(as_text=True)[:300]
    if before is not None:
        assert database.contents() == before, f"{method} {url} changed the database"
