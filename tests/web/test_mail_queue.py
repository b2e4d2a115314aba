"""Mail leaves after the answer, never inside a request: sign-ups, imports and
new links queue their mail in the outbox with what caused it, and the mail
worker sends it, to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from sqlalchemy import select

from matcher.accounts import create_organiser
from matcher.models import Message
from tests.support.app import new_app


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def _app(databases, tmp_path, server):
    app = new_app(databases.new("app", migrated=True), tmp_path / "outbox",
                  MAIL_URL=server.url)
    with app.extensions["matcher.sessions"]() as session:
        _, token = create_organiser(session, "org@example.org", "Org")
        session.commit()
    return app, token


def _messages(app):
    with app.extensions["matcher.sessions"]() as session:
        return [(m.kind, m.status, m.person.email if m.person else None)
                for m in session.scalars(select(Message).order_by(Message.id))]


def test_an_import_answers_before_any_mail_is_sent(databases, tmp_path, smtp_server):
    app, token = _app(databases, tmp_path, smtp_server)
    client = app.test_client()
    trial = client.post("/api/v1/trials", json={"name": "T", "confirm_email": False},
                        headers=auth(token)).get_json()
    people = "name,email,department\n" + "".join(
        f"P{k},p{k}@example.org,{'AB'[k % 2]}\n" for k in range(40))
    reply = client.post(f"/api/v1/trials/{trial['id']}/participants", data=people,
                        content_type="text/csv", headers=auth(token))
    assert reply.status_code == 201 and reply.get_json()["mailed"] == 40
    # Answered: queued, none sent yet (no SMTP connection was opened in the request).
    assert smtp_server.messages == []
    assert {(kind, status) for kind, status, _ in _messages(app)} == {("link", "queued")}
    assert app.extensions["matcher.jobs"].sweep() == 40
    received = sorted(recipients for recipients, _ in smtp_server.messages)
    assert received == sorted((f"p{k}@example.org",) for k in range(40))
    # Each got their own link, and only theirs.
    links = {recipients[0]: message.get_content() for recipients, message in
             smtp_server.messages}
    assert len({text.split("/me/")[1].split()[0] for text in links.values()}) == 40
    assert app.extensions["matcher.jobs"].sweep() == 0  # nothing twice


def test_a_signup_whose_mail_server_is_down_is_mailed_when_it_is_back(
        databases, tmp_path, smtp_server):
    app, token = _app(databases, tmp_path, smtp_server)
    client = app.test_client()
    trial = client.post("/api/v1/trials", json={"name": "T", "confirm_email": False},
                        headers=auth(token)).get_json()
    smtp_server.stop()
    reply = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
        "join_code": trial["join_code"], "name": "Ann", "email": "ann@example.org",
        "department": "IT"})
    assert reply.status_code == 201  # the sign-up does not wait on the mail server
    assert app.extensions["matcher.jobs"].sweep() == 1
    [(kind, status, email)] = _messages(app)
    assert (kind, status, email) == ("link", "queued", "ann@example.org")
    smtp_server.start()
    with app.extensions["matcher.sessions"]() as session:  # its retry comes due
        message = session.scalar(select(Message))
        message.due_at = message.created_at
        session.commit()
    assert app.extensions["matcher.jobs"].sweep() == 1
    [(recipients, received)] = smtp_server.messages
    assert recipients == ("ann@example.org",)
    assert reply.get_json()["me_url"] in received.get_content()


def test_a_new_link_is_queued_with_the_change_and_the_old_link_is_never_mailed(
        databases, tmp_path, smtp_server):
    app, token = _app(databases, tmp_path, smtp_server)
    client = app.test_client()
    trial = client.post("/api/v1/trials", json={"name": "T", "confirm_email": False},
                        headers=auth(token)).get_json()
    first = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
        "join_code": trial["join_code"], "name": "Ann", "email": "ann@example.org",
        "department": "IT"}).get_json()
    reply = client.post(f"/api/v1/trials/{trial['id']}/participants/"
                        f"{first['participant_id']}/link", headers=auth(token))
    assert reply.status_code == 202
    assert app.extensions["matcher.jobs"].sweep() == 2
    texts = [message.get_content() for _, message in smtp_server.messages]
    assert first["me_url"] in texts[0] and first["me_url"] not in texts[1]
    assert "/me/" in texts[1]


def test_a_published_round_introduces_each_member_with_an_invite(  # noqa: PLR0914
        databases, tmp_path, smtp_server):
    from icalendar import Calendar

    app, token = _app(databases, tmp_path, smtp_server)
    client = app.test_client()
    trial = client.post("/api/v1/trials", json={"name": "Coffee",
                                                "confirm_email": False, "odd": "sitout"},
                        headers=auth(token)).get_json()
    people = {}
    for k in range(5):
        joined = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
            "join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
            "department": "ABC"[k % 3], "site": "York"}).get_json()
        people[f"p{k}@example.org"] = joined
    app.extensions["matcher.jobs"].sweep()  # the sign-up links
    signups = len(smtp_server.messages)
    round_ = client.post(f"/api/v1/trials/{trial['id']}/rounds", json={"publish": True,
                                                                       "seed": 3},
                         headers=auth(token)).get_json()
    assert app.extensions["matcher.jobs"].sweep() == 5
    mail = smtp_server.messages[signups:]
    by_id = {joined["participant_id"]: email for email, joined in people.items()}
    uids = {}
    for group in round_["groups"]:
        emails = {by_id[pid] for pid in group["members"]}
        for email in emails:
            [message] = [m for (to,), m in mail if to == email]
            text = message.get_body(("plain",)).get_content()
            assert people[email]["me_url"] in text  # their own page
            for other, joined in people.items():  # and nobody else's
                if other != email:
                    assert joined["me_url"] not in message.as_string()
            for partner in emails - {email}:
                assert partner in text
            assert message.get_body(("html",)) is not None
            [invite] = [part for part in message.iter_attachments()
                        if part.get_content_type() == "text/calendar"]
            event = Calendar.from_ical(invite.get_content()).walk("VEVENT")[0]
            attendees = {str(a).removeprefix("mailto:") for a in event.get("attendee")}
            assert attendees == emails
            uids.setdefault(group["group"], set()).add(str(event["uid"]))
    assert all(len(one) == 1 for one in uids.values())  # one event per group
    assert len({next(iter(one)) for one in uids.values()}) == len(round_["groups"])
    [out] = round_["sitting_out"]
    [(_, note)] = [(to, m) for (to,), m in mail if to == by_id[out]]
    assert "sit out" in note["Subject"]
    assert app.extensions["matcher.jobs"].sweep() == 0  # each once


def test_a_link_mail_can_be_unsubscribed_with_one_click(databases, tmp_path, smtp_server):
    """RFC 8058: the mail client's own "unsubscribe" pauses the participant."""
    app, token = _app(databases, tmp_path, smtp_server)
    client = app.test_client()
    trial = client.post("/api/v1/trials", json={"name": "T", "confirm_email": False},
                        headers=auth(token)).get_json()
    joined = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
        "join_code": trial["join_code"], "name": "Ann", "email": "ann@example.org",
        "department": "IT"}).get_json()
    app.extensions["matcher.jobs"].sweep()
    [(_, message)] = smtp_server.messages
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    address = message["List-Unsubscribe"].strip().strip("<>")
    reply = app.test_client().post(address.removeprefix("http://localhost"),
                                   data={"List-Unsubscribe": "One-Click"})
    assert reply.status_code == 204
    me = client.get("/api/v1/me", headers=auth(joined["token"])).get_json()
    assert me["paused"] is True
