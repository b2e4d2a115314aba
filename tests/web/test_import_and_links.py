"""Importing participants from a people file, and how people get their links
(mailed: at sign-up, at import, and again on request), never shown to organisers."""

import io
import json

import pytest

from matcher.accounts import create_organiser
from tests.support.mail import mailed, mailed_links

PEOPLE = """\
id,name,email,department,site,mode,active
1,Ann Lee,ann@example.org,Nursing,North,in-person,
2,Bob Roy,bob@example.org,Finance,South,,no
3,Cy Dee,cy@example.org,IT,,virtual,yes
"""


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def trial(client, organiser_token):
    reply = client.post("/api/v1/trials", json={"name": "Spring coffee", "confirm_email": False},
                        headers=auth(organiser_token))
    assert reply.status_code == 201
    return reply.get_json()


def import_csv(client, trial, token, text, *, as_file=False):
    url = f"/api/v1/trials/{trial['id']}/participants"
    if as_file:
        return client.post(url, headers=auth(token), content_type="multipart/form-data",
                           data={"file": (io.BytesIO(text.encode()), "staff.csv")})
    return client.post(url, headers=auth(token), data=text.encode(), content_type="text/csv")


def participants(client, trial, token):
    return client.get(f"/api/v1/trials/{trial['id']}", headers=auth(token)).get_json()[
        "participants"]


def test_import_adds_everyone_and_mails_each_their_own_link(client, trial, organiser_token,
                                                            outbox):
    reply = import_csv(client, trial, organiser_token, PEOPLE, as_file=True)
    assert reply.status_code == 201, reply.get_json()
    body = reply.get_json()
    assert [a["email"] for a in body["added"]] == [
        "ann@example.org", "bob@example.org", "cy@example.org"]
    assert body["mailed"] == 3 and body["not_mailed"] == [] and body["already_in"] == []
    assert "token" not in json.dumps(body) and "/me/" not in json.dumps(body)
    people = {p["email"]: p for p in participants(client, trial, organiser_token)}
    assert people["bob@example.org"]["paused"] is True  # active = no
    assert people["ann@example.org"]["paused"] is False

    links = mailed_links(outbox)
    assert set(links) == set(people)
    for address, link in links.items():
        token = link.rsplit("/", 1)[1]
        me = client.get("/api/v1/me", headers=auth(token)).get_json()
        assert me["email"] == address
    message = mailed(outbox)[0]
    assert message["Subject"] == "Your link for Spring coffee"
    assert "Ann Lee" in message.get_content()


def test_import_lists_every_problem_per_row_and_adds_nobody(client, trial, organiser_token,
                                                            outbox):
    bad = ("name,email,department,mode\n"
           "Ann Lee,ann@example.org,Nursing,\n"
           ",bob@,Finance,\n"           # row 3: no name, bad email
           "Cy Dee,,IT,bicycle\n"        # row 4: no email, bad mode
           "Di Eve,ANN@example.org,HR,\n")  # row 5: duplicate email
    reply = import_csv(client, trial, organiser_token, bad)
    assert reply.status_code == 400
    error = reply.get_json()["error"]
    assert error["code"] == "invalid_file" and error["field"] == "file"
    assert "nothing was imported" in error["message"]
    found = [(p["row"], p["column"]) for p in error["problems"]]
    assert found == [(3, "name"), (3, "email"), (4, "email"), (4, "mode"), (5, "email")]
    assert "also the email of row 2" in error["problems"][-1]["message"]
    assert participants(client, trial, organiser_token) == []
    assert mailed(outbox) == []


@pytest.mark.parametrize("text, message", [
    ("", "send the people file"),
    ("name,department\n", "has a header but no people"),
    ("name,email\nAnn,ann@example.org\n", "no 'department' column"),
    ("\xff\xfe", "UTF"),
])
def test_import_refuses_a_file_that_is_not_a_people_file(client, trial, organiser_token,
                                                         text, message):
    url = f"/api/v1/trials/{trial['id']}/participants"
    data = text.encode("latin-1") if text.startswith("\xff") else text.encode()
    reply = client.post(url, headers=auth(organiser_token), data=data, content_type="text/csv")
    assert reply.status_code == 400
    assert message in reply.get_json()["error"]["message"]


def test_import_accepts_json_and_skips_people_already_in(client, trial, organiser_token):
    signed = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
        "join_code": trial["join_code"], "name": "Ann Lee", "email": "ann@example.org",
        "department": "Nursing"})
    assert signed.status_code == 201
    people = [{"name": "Ann Lee", "email": "ANN@example.org", "department": "Nursing"},
              {"name": "Eve Fox", "email": "eve@example.org", "department": "Estates"}]
    url = f"/api/v1/trials/{trial['id']}/participants"
    reply = client.post(url, headers=auth(organiser_token), json=people)
    assert reply.status_code == 201, reply.get_json()
    body = reply.get_json()
    assert body["already_in"] == ["ann@example.org"]
    assert [a["email"] for a in body["added"]] == ["eve@example.org"]
    assert len(participants(client, trial, organiser_token)) == 2


def test_import_is_for_the_trials_organiser_only(client, app, trial, organiser_token):
    assert import_csv(client, trial, None, PEOPLE).status_code == 401
    with app.app_context():
        with app.extensions["matcher.sessions"]() as db:
            _, other = create_organiser(db, "other@example.org", "Other")
            db.commit()
    assert import_csv(client, trial, other, PEOPLE).status_code == 403
    assert client.post("/api/v1/trials/999/participants", headers=auth(organiser_token),
                       data=PEOPLE, content_type="text/csv").status_code == 404


def test_signup_mails_the_link(client, trial, outbox):
    reply = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
        "join_code": trial["join_code"], "name": "Ann", "email": "ann@example.org",
        "department": "Nursing"})
    assert mailed_links(outbox) == {"ann@example.org": reply.get_json()["me_url"]}


def test_a_lost_link_is_mailed_again_without_revealing_who_signed_up(client, trial, outbox):
    first = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
        "join_code": trial["join_code"], "name": "Ann", "email": "ann@example.org",
        "department": "Nursing"}).get_json()
    url = f"/api/v1/trials/{trial['id']}/links"
    known = client.post(url, json={"join_code": trial["join_code"], "email": "ANN@example.org"})
    unknown = client.post(url, json={"join_code": trial["join_code"],
                                     "email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    new = mailed_links(outbox)["ann@example.org"]
    assert new != first["me_url"]
    assert client.get("/api/v1/me", headers=auth(first["token"])).status_code == 401
    assert client.get("/api/v1/me", headers=auth(new.rsplit("/", 1)[1])).status_code == 200
    assert len(mailed(outbox)) == 2  # sign-up and the new link; nothing to nobody@

    bad_code = client.post(url, json={"join_code": "guess", "email": "ann@example.org"})
    assert bad_code.status_code == 403
    bad_email = client.post(url, json={"join_code": trial["join_code"], "email": "ann@"})
    assert bad_email.status_code == 400 and bad_email.get_json()["error"]["field"] == "email"


def test_an_organiser_can_send_a_new_link_but_never_sees_it(client, trial, organiser_token,
                                                           outbox):
    import_csv(client, trial, organiser_token, PEOPLE)
    old = mailed_links(outbox)["cy@example.org"]
    cy = next(p for p in participants(client, trial, organiser_token)
              if p["email"] == "cy@example.org")
    url = f"/api/v1/trials/{trial['id']}/participants/{cy['participant_id']}/link"
    reply = client.post(url, headers=auth(organiser_token))
    assert reply.status_code == 202 and reply.get_json() == {"mailed": True}
    new = mailed_links(outbox)["cy@example.org"]
    assert new != old and old.rsplit("/", 1)[1] not in client.get(new).get_data(as_text=True)
    assert client.get(old).status_code == 404
    assert client.post(url.replace(cy["participant_id"], "nobody"),
                       headers=auth(organiser_token)).status_code == 404
    assert client.post(url).status_code == 401


@pytest.fixture
def signed_in(app, organiser_token):
    """A browser of the trial's organiser, signed in to the organiser pages."""
    from sqlalchemy import select

    from matcher.accounts import set_password
    from matcher.models import Organiser

    with app.extensions["matcher.sessions"]() as session:
        set_password(session.scalar(select(Organiser)), "correct horse")
        session.commit()
    browser = app.test_client()
    assert browser.post("/organiser/login", data={"email": "org@example.org",
                                                  "password": "correct horse"}).status_code == 303
    return browser


def test_a_mail_server_that_refuses_is_reported_not_fatal(app, client, trial, organiser_token,
                                                         outbox, signed_in):
    """The import lands whatever the mail server does; the trial's page shows the
    mail that failed, and why, and sends it again once the server is back."""
    from sqlalchemy import update

    from matcher.mail import mailer_for
    from matcher.models import Message
    from matcher.outbox import ATTEMPTS

    jobs = app.extensions["matcher.jobs"]
    working = jobs.outbox.mailer
    jobs.outbox.mailer = mailer_for("smtp://127.0.0.1:9", "m@example.org")  # nothing there
    reply = import_csv(client, trial, organiser_token, PEOPLE)
    assert reply.status_code == 201
    assert (reply.get_json()["mailed"], reply.get_json()["not_mailed"]) == (3, [])
    assert mailed(outbox) == []  # tried, refused: queued again for later
    with app.extensions["matcher.sessions"]() as session:  # every attempt but the last used
        session.execute(update(Message).values(attempts=ATTEMPTS - 1,
                                               due_at=Message.created_at))
        session.commit()
    assert mailed(outbox) == []
    page = signed_in.get(f"/organiser/trials/{trial['id']}").get_data(as_text=True)
    assert "Why 3 messages failed" in page and "refused" in page
    jobs.outbox.mailer = working  # the mail server is back
    reply = signed_in.post(f"/organiser/trials/{trial['id']}/mail/resend")
    assert reply.status_code == 303
    assert "3 messages are being sent again." in signed_in.get(
        reply.headers["Location"]).get_data(as_text=True)
    assert sorted(m["To"] for m in mailed(outbox)) == ["ann@example.org", "bob@example.org",
                                                       "cy@example.org"]
