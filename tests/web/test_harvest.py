"""A café's harvest (docs/harvest.md, docs/api.md "Harvest"): formats, notes at
the table and their ``note`` pushes, ``earlier_notes`` for the next group,
pledges (mailed back through the outbox, to a real SMTP server), votes,
hiding and merging, the record and its documents; anonymous cafés keep no
author anywhere."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy import select

from matcher.accounts import create_organiser
from matcher.models import Message, Note, NoteVote, Pledge
from matcher.times import utc_now
from tests.support.app import new_app

DEPARTMENTS = ["Nursing", "IT", "HR", "Estates", "Pharmacy"]


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def quick_planning(app):
    app.config["CAFE_TIME_LIMIT"] = 0.5


@pytest.fixture
def other_organiser(app):
    with app.extensions["matcher.sessions"]() as db:
        _, token = create_organiser(db, "other@example.org", "Other")
        db.commit()
    return token


def new_cafe(client, token, **fields):
    body = {"name": "Lessons café", "tables": 3, "rounds": 2,
            "questions": ["What worked?", "What next?"]} | fields
    body = {key: value for key, value in body.items() if value is not None}  # None: left out
    reply = client.post("/api/v1/cafes", json=body, headers=auth(token))
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def join(client, cafe, k, email=True):
    body = {"name": f"Person {k}", "department": DEPARTMENTS[k % len(DEPARTMENTS)]}
    if email:
        body["email"] = f"p{k}@example.org"
    reply = client.post(f"/api/v1/cafes/{cafe['code']}/participants", json=body)
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def next_round(client, cafe, token):
    reply = client.post(f"/api/v1/cafes/{cafe['code']}/rounds/next", json={"seed": 1},
                        headers=auth(token))
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def end(client, cafe, token):
    assert client.post(f"/api/v1/cafes/{cafe['code']}/end",
                       headers=auth(token)).status_code == 200


def post_note(client, cafe, person, text):
    return client.post(f"/api/v1/cafes/{cafe['code']}/notes", json={"text": text},
                       headers=auth(person["token"]))


def events(socket, name):
    return [e["args"][0] for e in socket.get_received() if e["name"] == name]


def error_of(reply):
    return reply.status_code, reply.get_json()["error"].get("field")


def table_of(body):
    return {m: t["table"] for t in body["tables"] for m in t["members"]}


def record(client, cafe, token):
    reply = client.get(f"/api/v1/cafes/{cafe['code']}/harvest", headers=auth(token))
    assert reply.status_code == 200
    return reply.get_json()


# -- formats -------------------------------------------------------------------------------


def test_a_review_format_brings_its_questions_and_a_round_for_each(client, organiser_token):
    aar = new_cafe(client, organiser_token, format="after-action-review", rounds=None,
                   questions=None)
    got = client.get(f"/api/v1/cafes/{aar['code']}", headers=auth(organiser_token)).get_json()
    assert (got["format"], got["rounds"], got["anonymous_notes"]) == (
        "after-action-review", 4, False)
    assert got["questions"] == ["What was supposed to happen?", "What actually happened?",
                                "Why were there differences?", "What will we do next time?"]
    krs = new_cafe(client, organiser_token, format="keep-revert-stop", rounds=None,
                   questions=["Keep what?", "Revert what?", "Stop what?"],
                   anonymous_notes=True, pledge_reminder_days=30)
    got = client.get(f"/api/v1/cafes/{krs['code']}", headers=auth(organiser_token)).get_json()
    assert (got["rounds"], got["questions"][0], got["anonymous_notes"],
            got["pledge_reminder_days"]) == (3, "Keep what?", True, 30)
    plain = client.get(f"/api/v1/cafes/{new_cafe(client, organiser_token)['code']}",
                       headers=auth(organiser_token)).get_json()
    assert (plain["format"], plain["anonymous_notes"], plain["pledge_reminder_days"]) == (
        "cafe", False, None)


@pytest.mark.parametrize("fields, field", [
    ({"format": "retro"}, "format"),
    ({"format": 3}, "format"),
    ({"anonymous_notes": "yes"}, "anonymous_notes"),
    ({"pledge_reminder_days": 0}, "pledge_reminder_days"),
    ({"pledge_reminder_days": 400}, "pledge_reminder_days"),
    ({"format": "after-action-review", "rounds": 2, "questions": None}, "rounds"),
    ({"format": "cafe", "rounds": None}, "rounds"),
])
def test_bad_harvest_settings_name_their_field(client, organiser_token, fields, field):
    body = {"name": "Café", "tables": 2, "rounds": 2} | fields
    reply = client.post("/api/v1/cafes", json={k: v for k, v in body.items() if v is not None},
                        headers=auth(organiser_token))
    assert error_of(reply) == (400, field)


# -- notes -------------------------------------------------------------------------------


def test_a_note_reaches_its_table_the_console_and_the_screen_and_no_other_table(
        client, organiser_token, socket_client):
    cafe = new_cafe(client, organiser_token)
    people = [join(client, cafe, k) for k in range(9)]
    phones = {p["participant_id"]: socket_client({"token": p["token"]}) for p in people}
    screen = socket_client({"screen": cafe["screen_url"].rsplit("/", 1)[1]})
    console = socket_client({"token": organiser_token})
    body = next_round(client, cafe, organiser_token)
    tables = table_of(body)
    for socket in [*phones.values(), screen, console]:
        socket.get_received()
    author = people[0]
    reply = post_note(client, cafe, author, "  Share the rota early.\n\nIt helps.  ")
    assert reply.status_code == 201
    made = reply.get_json()
    assert made == {"note_id": made["note_id"], "round": 1,
                    "table": tables[author["participant_id"]]}
    expected = {"cafe": cafe["code"], "round": 1, "table": made["table"],
                "note_id": made["note_id"], "text": "Share the rota early.\n\nIt helps.",
                "author": "Person 0"}
    for public_id, socket in phones.items():
        got = events(socket, "note")
        assert got == ([expected] if tables[public_id] == made["table"] else []), public_id
    # The screen shows no names with the notes (its link is often on show).
    assert events(screen, "note") == [{k: v for k, v in expected.items() if k != "author"}]
    assert events(console, "note") == [expected]
    # The screen's harvest wall has it too, as the page loads it.
    with client.application.app_context():
        pass
    # The next group at that table sees it, without the author's name (not their tablemate).
    second = next_round(client, cafe, organiser_token)
    at_table = [m for m, t in table_of(second).items() if t == made["table"]]
    for public_id in at_table:
        seats = events(phones[public_id], "seat")
        assert seats[-1]["earlier_notes"] == [{"note_id": made["note_id"], "round": 1,
                                               "text": expected["text"]}]
        assert seats[-1]["notes"] == []
    others = [m for m, t in table_of(second).items() if t != made["table"]]
    for public_id in others:
        assert events(phones[public_id], "seat")[-1]["earlier_notes"] == []


def test_a_phone_reconnecting_gets_its_tables_notes(client, organiser_token, socket_client):
    cafe = new_cafe(client, organiser_token)
    people = [join(client, cafe, k) for k in range(6)]
    tables = table_of(next_round(client, cafe, organiser_token))
    one, = [p for p in people if p is people[0]]
    assert post_note(client, cafe, one, "First note").status_code == 201
    mate = next(p for p in people[1:]
                if tables[p["participant_id"]] == tables[one["participant_id"]])
    phone = socket_client({"token": mate["token"]})
    [seat] = events(phone, "seat")
    assert [n["text"] for n in seat["notes"]] == ["First note"]
    assert seat["notes"][0]["author"] == "Person 0"


def test_note_errors(client, organiser_token, other_organiser):
    cafe = new_cafe(client, organiser_token)
    people = [join(client, cafe, k) for k in range(6)]
    url = f"/api/v1/cafes/{cafe['code']}/notes"
    assert client.post(url, json={"text": "x"}).status_code == 401
    assert client.post(url, json={"text": "x"}, headers=auth("nope")).status_code == 401
    other = new_cafe(client, other_organiser)
    stranger = join(client, other, 1)
    assert client.post(url, json={"text": "x"},
                       headers=auth(stranger["token"])).status_code == 403
    assert client.post("/api/v1/cafes/ZZZZZZ/notes", json={"text": "x"},
                       headers=auth(people[0]["token"])).status_code == 404
    assert error_of(post_note(client, cafe, people[0], "too soon"))[0] == 409  # the lobby
    next_round(client, cafe, organiser_token)
    for text in ("", "   ", "x" * 501, "bell\x07", "odd \ufffe", None, 5):
        assert error_of(post_note(client, cafe, people[0], text)) == (400, "text"), text
    assert post_note(client, cafe, people[0], "x" * 500).status_code == 201
    late = join(client, cafe, 99)  # seated from the next round
    assert error_of(post_note(client, cafe, late, "hello"))[0] == 409
    assert client.post(f"/api/v1/cafes/{cafe['code']}/leave",
                       headers=auth(people[1]["token"])).status_code == 200
    assert error_of(post_note(client, cafe, people[1], "gone"))[0] == 409
    end(client, cafe, organiser_token)
    assert error_of(post_note(client, cafe, people[0], "after"))[0] == 409
    with client.application.extensions["matcher.sessions"]() as db:
        assert [len(n.text) for n in db.scalars(select(Note))] == [500]


@pytest.mark.sqlite_only(reason="rate limits: counted in memory, whatever the database")
def test_notes_are_limited_per_person_but_a_table_types_freely(databases, tmp_path):
    app = new_app(databases.new("app", migrated=True), tmp_path / "outbox",
                  RATELIMIT_ENABLED=True, CAFE_TIME_LIMIT=0.5)
    with app.extensions["matcher.sessions"]() as db:
        _, token = create_organiser(db, "org@example.org", "Org")
        db.commit()
    client = app.test_client()
    cafe = new_cafe(client, token)
    people = [join(client, cafe, k) for k in range(6)]
    next_round(client, cafe, token)
    # Everyone at once, ten notes each: all taken.
    for k in range(10):
        for person in people:
            assert post_note(client, cafe, person, f"note {k}").status_code == 201
    # One person with a script: refused after 30 in a minute, the others not.
    replies = [post_note(client, cafe, people[0], "spam").status_code for _ in range(25)]
    assert replies.count(201) == 20 and replies[-1] == 429
    assert post_note(client, cafe, people[1], "still fine").status_code == 201
    app.extensions["matcher.engine"].dispose()


def test_an_anonymous_cafe_keeps_no_author_anywhere(client, organiser_token, socket_client):
    cafe = new_cafe(client, organiser_token, anonymous_notes=True, rounds=1,
                    questions=["What helped?"])
    people = [join(client, cafe, k) for k in range(6)]
    phones = [socket_client({"token": p["token"]}) for p in people]
    screen = socket_client({"screen": cafe["screen_url"].rsplit("/", 1)[1]})
    console = socket_client({"token": organiser_token})
    next_round(client, cafe, organiser_token)
    for socket in [*phones, screen, console]:
        socket.get_received()
    assert post_note(client, cafe, people[0], "Quiet hours helped").status_code == 201
    pledge = client.post(f"/api/v1/cafes/{cafe['code']}/pledges", json={"text": "Try it"},
                         headers=auth(people[0]["token"]))
    assert pledge.status_code == 201
    pushed = [e for s in [*phones, screen, console] for e in s.get_received()]
    assert pushed and all("author" not in json.dumps(e) for e in pushed)
    assert not any("Person 0" in json.dumps(e) for e in pushed)
    end(client, cafe, organiser_token)
    got = record(client, cafe, organiser_token)
    assert got["anonymous_notes"] is True
    assert "Person 0" not in json.dumps(got) and "author" not in json.dumps(got)
    for kind in ("md", "csv", "docx"):
        reply = client.get(f"/api/v1/cafes/{cafe['code']}/harvest.{kind}",
                           headers=auth(organiser_token))
        assert reply.status_code == 200
        text = (docx_text(reply.data) if kind == "docx" else reply.get_data(as_text=True))
        assert "Quiet hours helped" in text and "Person 0" not in text
    with client.application.extensions["matcher.sessions"]() as db:
        assert [n.author_id for n in db.scalars(select(Note))] == [None]


# -- pledges -------------------------------------------------------------------------------


def test_pledges_open_in_the_last_round_and_replace_each_other(client, organiser_token):
    cafe = new_cafe(client, organiser_token)
    people = [join(client, cafe, k) for k in range(6)]
    url = f"/api/v1/cafes/{cafe['code']}/pledges"
    mine = auth(people[0]["token"])
    assert error_of(client.post(url, json={"text": "x"}, headers=mine))[0] == 409
    next_round(client, cafe, organiser_token)
    assert error_of(client.post(url, json={"text": "x"}, headers=mine))[0] == 409  # round 1 of 2
    next_round(client, cafe, organiser_token)
    assert error_of(client.post(url, json={"text": ""}, headers=mine)) == (400, "text")
    first = client.post(url, json={"text": "Ask a pharmacist"}, headers=mine)
    assert first.status_code == 201
    assert first.get_json()["mailed_back_at"] is None  # the café does not mail them back
    end(client, cafe, organiser_token)
    again = client.post(url, json={"text": "Visit the pharmacy"}, headers=mine)
    assert again.status_code == 201 and again.get_json()["text"] == "Visit the pharmacy"
    assert record(client, cafe, organiser_token)["pledges"] == [
        {"text": "Visit the pharmacy", "author": "Person 0"}]


def test_a_pledge_is_mailed_back_once_after_the_chosen_days(databases, tmp_path, smtp_server):
    app = new_app(databases.new("app", migrated=True), tmp_path / "outbox",
                  MAIL_URL=smtp_server.url, CAFE_TIME_LIMIT=0.5)
    with app.extensions["matcher.sessions"]() as db:
        _, token = create_organiser(db, "org@example.org", "Org")
        db.commit()
    client = app.test_client()
    cafe = new_cafe(client, token, rounds=1, questions=None, pledge_reminder_days=30)
    people = [join(client, cafe, k, email=k != 1) for k in range(4)]
    next_round(client, cafe, token)
    url = f"/api/v1/cafes/{cafe['code']}/pledges"
    before = utc_now()
    reply = client.post(url, json={"text": "Thank the porters"}, headers=auth(people[0]["token"]))
    due = reply.get_json()["mailed_back_at"]
    assert due is not None and due.startswith((before + timedelta(days=30)).date().isoformat())
    nobody = client.post(url, json={"text": "No email"}, headers=auth(people[1]["token"]))
    assert nobody.get_json()["mailed_back_at"] is None  # no email given
    client.post(url, json={"text": "Thank the porters <b>and</b> cleaners"},
                headers=auth(people[0]["token"]))
    jobs = app.extensions["matcher.jobs"]
    assert jobs.sweep() == 0 and smtp_server.messages == []  # not due yet
    with app.extensions["matcher.sessions"]() as db:
        [row] = db.scalars(select(Message).where(Message.kind == "pledge"))
        row.due_at = utc_now() - timedelta(seconds=1)  # a month later
        db.commit()
    assert jobs.sweep() == 1
    [(recipients, message)] = smtp_server.messages
    assert recipients == ("p0@example.org",)
    text = message.get_content()
    assert "Thank the porters <b>and</b> cleaners" in text and "Lessons café" in text
    assert "30 days ago" in text or "1 month ago" in text
    assert "Subject" in message and "did you" in message["Subject"]
    assert jobs.sweep() == 0 and len(smtp_server.messages) == 1  # once
    # A pledge changed after it was mailed back is not mailed again.
    client.post(url, json={"text": "Changed"}, headers=auth(people[0]["token"]))
    with app.extensions["matcher.sessions"]() as db:
        assert db.scalar(select(Pledge.text).where(Pledge.text == "Changed")) == "Changed"
        assert len(db.scalars(select(Message).where(Message.kind == "pledge")).all()) == 1
    assert jobs.sweep() == 0
    app.extensions["matcher.engine"].dispose()


# -- votes, hiding, merging --------------------------------------------------------------


def _played(client, organiser_token, **fields):
    """A café of two rounds, notes at every table in each, ended."""
    cafe = new_cafe(client, organiser_token, **fields)
    people = [join(client, cafe, k) for k in range(9)]
    notes = []
    for number in (1, 2):
        tables = table_of(next_round(client, cafe, organiser_token))
        writers = {}
        for person in people:
            writers.setdefault(tables[person["participant_id"]], person)
        for table, person in sorted(writers.items()):
            reply = post_note(client, cafe, person, f"Round {number}, table {table}")
            assert reply.status_code == 201
            notes.append(reply.get_json()["note_id"])
    return cafe, people, notes


def test_votes_open_after_the_last_round_one_per_note_per_person(client, organiser_token):
    cafe, people, notes = _played(client, organiser_token)
    url = f"/api/v1/cafes/{cafe['code']}/notes"
    vote = f"{url}/{notes[0]}/vote"
    assert error_of(client.post(vote, headers=auth(people[0]["token"])))[0] == 409
    listed = client.get(url, headers=auth(people[0]["token"])).get_json()
    assert listed == {"votes_open": False, "notes": []}
    end(client, cafe, organiser_token)
    listed = client.get(url, headers=auth(people[0]["token"])).get_json()
    assert listed["votes_open"] and len(listed["notes"]) == 6
    assert all("author" not in n for n in listed["notes"])
    assert listed["notes"][0]["question"] == "What worked?"
    for _ in range(2):  # a second vote changes nothing
        reply = client.post(vote, headers=auth(people[0]["token"]))
        assert reply.status_code == 200 and reply.get_json() == {
            "note_id": notes[0], "votes": 1, "voted": True}
    assert client.post(vote, headers=auth(people[1]["token"])).get_json()["votes"] == 2
    back = client.delete(vote, headers=auth(people[1]["token"]))
    assert back.get_json() == {"note_id": notes[0], "votes": 1, "voted": False}
    for missing in (999999, 2**40):  # a number beyond any id is no note either
        assert client.post(f"{url}/{missing}/vote",
                           headers=auth(people[0]["token"])).status_code == 404
    assert client.post(vote).status_code == 401
    with client.application.extensions["matcher.sessions"]() as db:
        assert len(db.scalars(select(NoteVote)).all()) == 1


def test_hidden_and_merged_notes_leave_the_record(client, organiser_token, other_organiser,
                                                  socket_client):
    cafe, people, notes = _played(client, organiser_token)
    end(client, cafe, organiser_token)
    base = f"/api/v1/cafes/{cafe['code']}/notes"
    for person in people[:3]:
        client.post(f"{base}/{notes[1]}/vote", headers=auth(person["token"]))
    client.post(f"{base}/{notes[2]}/vote", headers=auth(people[0]["token"]))
    client.post(f"{base}/{notes[2]}/vote", headers=auth(people[5]["token"]))
    hide = f"{base}/{notes[0]}/hide"
    assert client.post(hide, json={"hidden": True}).status_code == 401
    assert client.post(hide, json={"hidden": True},
                       headers=auth(other_organiser)).status_code == 403
    assert error_of(client.post(hide, json={"hidden": "yes"},
                                headers=auth(organiser_token))) == (400, "hidden")
    assert client.post(f"{base}/999999/hide", json={"hidden": True},
                       headers=auth(organiser_token)).status_code == 404
    reply = client.post(hide, json={"hidden": True}, headers=auth(organiser_token))
    assert reply.status_code == 200 and reply.get_json()["hidden"] is True
    merge = f"{base}/{notes[2]}/merge"
    assert error_of(client.post(merge, json={"into": notes[2]},
                                headers=auth(organiser_token))) == (400, "into")
    assert client.post(merge, json={"into": 2**40},
                       headers=auth(organiser_token)).status_code == 404
    assert error_of(client.post(merge, json={"into": notes[0]},
                                headers=auth(organiser_token))) == (400, "into")  # hidden
    phone = socket_client({"token": people[3]["token"]})
    phone.get_received()
    reply = client.post(merge, json={"into": notes[1]}, headers=auth(organiser_token))
    assert reply.get_json()["merged_into"] == notes[1]
    assert events(phone, "note_removed") == [{"cafe": cafe["code"], "note_id": notes[2]}]
    # Merging the target back into its duplicate would make a loop: refused.
    assert error_of(client.post(f"{base}/{notes[1]}/merge", json={"into": notes[2]},
                                headers=auth(organiser_token))) == (400, "into")
    got = record(client, cafe, organiser_token)
    kept = {n["note_id"]: n for r in got["rounds"] for t in r["tables"] for n in t["notes"]}
    # Person 0 voted for both: one vote; person 5's vote moved.
    assert kept[notes[1]]["votes"] == 4
    assert kept[notes[0]]["hidden"] and kept[notes[2]]["merged_into"] == notes[1]
    # Voters cannot see or vote for what was hidden or merged.
    listed = client.get(base, headers=auth(people[0]["token"])).get_json()["notes"]
    assert {n["note_id"] for n in listed} == set(notes) - {notes[0], notes[2]}
    # A phone whose list is older than the hide: 409, not a guess (404).
    assert error_of(client.post(f"{base}/{notes[0]}/vote",
                                headers=auth(people[0]["token"])))[0] == 409
    markdown = client.get(f"/api/v1/cafes/{cafe['code']}/harvest.md",
                          headers=auth(organiser_token)).get_data(as_text=True)
    assert "Round 1, table 1" not in markdown.replace("\\", "")
    assert "Round 1, table 2 (4 votes" in markdown.replace("\\", "")
    # Taken back: in the record again.
    client.post(hide, json={"hidden": False}, headers=auth(organiser_token))
    client.post(merge, json={"into": None}, headers=auth(organiser_token))
    assert len(client.get(base, headers=auth(people[0]["token"])).get_json()["notes"]) == 6


def test_the_screen_shows_the_questions_notes_live_and_the_top_voted_at_the_end(
        client, organiser_token, socket_client):
    cafe, people, notes = _played(client, organiser_token)
    key = cafe["screen_url"].rsplit("/", 1)[1]
    screen = socket_client({"screen": key})
    [view] = events(screen, "cafe_screen")
    assert [n["text"] for n in view["notes"]] == [f"Round 2, table {t}" for t in (3, 2, 1)]
    end(client, cafe, organiser_token)
    for person in people[:2]:
        client.post(f"/api/v1/cafes/{cafe['code']}/notes/{notes[4]}/vote",
                    headers=auth(person["token"]))
    views = events(screen, "cafe_screen")
    assert views[-1]["notes"] == [] and views[-1]["top_notes"][0]["note_id"] == notes[4]
    assert views[-1]["top_notes"][0]["votes"] == 2


# -- the record ----------------------------------------------------------------------------


def docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_the_record_and_its_documents(client, organiser_token, other_organiser):
    cafe, people, notes = _played(client, organiser_token, format="keep-revert-stop",
                                  rounds=2, questions=["Keep?", "Revert?"])
    url = f"/api/v1/cafes/{cafe['code']}/harvest"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth(other_organiser)).status_code == 403
    assert post_note(client, cafe, people[0], "<script>alert(1)</script> =SUM(A1)").status_code \
        == 201
    client.post(f"{url[:-8]}/pledges", json={"text": "Keep the huddles"},
                headers=auth(people[0]["token"]))
    end(client, cafe, organiser_token)
    got = record(client, cafe, organiser_token)
    assert (got["cafe"], got["name"], got["format"], got["format_name"]) == (
        cafe["code"], "Lessons café", "keep-revert-stop", "Keep, revert, stop")
    assert [r["round"] for r in got["rounds"]] == [1, 2]
    assert [t["table"] for t in got["rounds"][0]["tables"]] == [1, 2, 3]
    # A column per round played: two rounds of keep / revert / stop, two columns.
    assert [c["heading"] for c in got["grid"]] == ["Keep", "Revert"]
    assert len(got["grid"][0]["notes"]) == 3 and len(got["grid"][1]["notes"]) == 4
    assert got["pledges"] == [{"text": "Keep the huddles", "author": "Person 0"}]
    assert got["rounds"][0]["tables"][0]["notes"][0]["author"].startswith("Person")
    documents = {kind: client.get(f"{url}.{kind}", headers=auth(organiser_token))
                 for kind in ("md", "csv", "docx", "pdf")}
    assert all(r.status_code == 200 for r in documents.values())
    assert documents["pdf"].data.startswith(b"%PDF")
    assert "attachment" in documents["pdf"].headers["Content-Disposition"]
    markdown = documents["md"].get_data(as_text=True)
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    assert "## The grid" in markdown and "### Keep: Keep?" in markdown
    rows = list(csv.DictReader(io.StringIO(documents["csv"].get_data(as_text=True))))
    assert len([r for r in rows if r["kind"] == "note"]) == 7
    assert [r["text"] for r in rows if r["kind"] == "pledge"] == ["Keep the huddles"]
    risky = next(r for r in rows if "script" in r["text"])
    assert risky["text"] == "<script>alert(1)</script> =SUM(A1)"  # not a formula: starts with <
    text = docx_text(documents["docx"].data)
    assert "Keep the huddles" in text and "<script>alert(1)</script>" in text
    pdf = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(documents["pdf"].data))
                    .pages)
    assert "Keep the huddles" in pdf and "<script>alert(1)</script>" in pdf
    assert client.get(f"{url}.xlsx", headers=auth(organiser_token)).status_code == 404


def test_the_organisers_harvest_page_hides_and_merges(client, app, organiser_token):
    cafe, people, notes = _played(client, organiser_token)
    end(client, cafe, organiser_token)
    with app.extensions["matcher.sessions"]() as db:
        from matcher.accounts import set_password
        from matcher.models import Organiser

        owner = db.scalar(select(Organiser).where(Organiser.email == "org@example.org"))
        set_password(owner, "a long passphrase")
        db.commit()
    signed = client.post("/organiser/login", data={"email": "org@example.org",
                                                   "password": "a long passphrase"})
    assert signed.status_code == 303
    page = f"/organiser/cafes/{cafe['id']}"
    shown = client.get(page + "/harvest").get_data(as_text=True)
    assert f'id="note-{notes[0]}"' in shown and "Round 1, table 1" in shown
    hidden = client.post(f"{page}/notes/{notes[0]}/hide", data={"hidden": "yes"})
    assert hidden.status_code == 303 and hidden.headers["Location"].endswith(f"#note-{notes[0]}")
    for bad in ("²", "9" * 5000, "abc", str(notes[1])):  # the last: itself
        reply = client.post(f"{page}/notes/{notes[1]}/merge", data={"into": bad})
        assert reply.status_code == 400, bad
        assert "into" in reply.get_data(as_text=True)
    merged = client.post(f"{page}/notes/{notes[2]}/merge", data={"into": f"#{notes[1]}"})
    assert merged.status_code == 303
    record = client.get(page + "/harvest.md").get_data(as_text=True).replace("\\", "")
    assert "Round 1, table 1" not in record and "Round 1, table 3" not in record
    assert "Round 1, table 2" in record
    state = client.get(page + "/harvest").get_data(as_text=True)
    assert f"merged into note {notes[1]}" in state and "hidden" in state
