"""Confirmed sign-ups (docs/api.md): with a trial's ``confirm_email`` a sign-up
waits until the link mailed to its address is followed; until then nobody is
matched with it or shown a page, it expires, and its link works once. Nobody
learns from the answer whether an address is signed up already."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from matcher.models import Organiser, PendingSignup, Trial
from matcher.times import utc_now
from matcher.trials import CONFIRM_LIFETIME, TrialError, confirm_signup, signup
from tests.support.mail import mailed, mailed_links
from web.app import forget_unconfirmed

ANN = {"name": "Ann Lee", "email": "ann@example.org", "department": "Nursing"}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def trial(client, organiser_token):
    reply = client.post("/api/v1/trials", json={"name": "Spring coffee"},
                        headers=auth(organiser_token))
    assert reply.status_code == 201
    return reply.get_json()


def sign_up(client, trial, **fields):
    return client.post(f"/api/v1/trials/{trial['id']}/signups",
                       json={"join_code": trial["join_code"], **ANN, **fields})


def confirm_links(outbox) -> dict[str, str]:
    """The latest confirmation link mailed to each address."""
    links = {}
    for message in mailed(outbox):
        found = re.search(r"https?://\S+/confirm/\S+", message.get_content())
        if found:
            links[message["To"]] = found.group(0)
    return links


def path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_a_new_trial_confirms_sign_ups_and_a_sign_up_waits_for_its_email(
        client, trial, organiser_token, outbox):
    details = client.get(f"/api/v1/trials/{trial['id']}", headers=auth(organiser_token))
    assert details.get_json()["confirm_email"] is True
    reply = sign_up(client, trial)
    assert reply.status_code == 202
    assert reply.get_json() == {"status": "pending",
                                "expires_in_days": CONFIRM_LIFETIME.days}
    # Not a participant yet: the organiser sees nobody, and no personal link went out.
    details = client.get(f"/api/v1/trials/{trial['id']}", headers=auth(organiser_token))
    assert details.get_json()["participants"] == []
    assert mailed_links(outbox) == {}
    message = mailed(outbox)[0]
    assert message["To"] == "ann@example.org"
    assert message["Subject"] == "Please confirm your sign-up to Spring coffee"
    link = confirm_links(outbox)["ann@example.org"]

    # Opening the link (as a mail scanner does) confirms nothing; the button does.
    for _ in range(2):
        page = client.get(path(link))
        assert page.status_code == 200
        assert "Ann Lee" in page.text and "Nursing" in page.text
        assert "Confirm and open my page" in page.text
    assert client.get(f"/api/v1/trials/{trial['id']}",
                      headers=auth(organiser_token)).get_json()["participants"] == []
    confirmed = client.post(path(link))
    assert confirmed.status_code == 303
    me = client.get(confirmed.headers["Location"])
    assert me.status_code == 200 and "Ann Lee" in me.text
    token = confirmed.headers["Location"].rsplit("/", 1)[1]
    assert client.get("/api/v1/me", headers=auth(token)).get_json()["email"] == ANN["email"]
    # Their personal link is mailed too, and it is the page they were sent to.
    assert mailed_links(outbox)["ann@example.org"].endswith(f"/me/{token}")

    # The link works once.
    assert client.post(path(link)).status_code == 404
    gone = client.get(path(link))
    assert gone.status_code == 404 and "no longer works" in gone.text
    people = client.get(f"/api/v1/trials/{trial['id']}",
                        headers=auth(organiser_token)).get_json()["participants"]
    assert [p["email"] for p in people] == ["ann@example.org"]


def test_the_answer_is_the_same_for_a_new_a_pending_and_a_member_address(
        client, trial, outbox):
    answers = [sign_up(client, trial)]
    first = confirm_links(outbox)["ann@example.org"]
    # Again while pending: the same answer, a new link, the details as now given.
    answers.append(sign_up(client, trial, department="Pharmacy"))
    second = confirm_links(outbox)["ann@example.org"]
    assert second != first
    assert client.get(path(first)).status_code == 404
    assert "Pharmacy" in client.get(path(second)).text
    me = client.post(path(second)).headers["Location"]
    # Again as a member: the same answer; the member is mailed their own link, as
    # it was, and nothing of theirs changes on the word of whoever typed it.
    answers.append(sign_up(client, trial, name="Mallory", department="Finance"))
    assert [(a.status_code, a.get_json()) for a in answers] == [
        (202, {"status": "pending", "expires_in_days": CONFIRM_LIFETIME.days})] * 3
    last = mailed(outbox)[-1]
    assert last["To"] == "ann@example.org"
    assert "You are in already" in last.get_content()
    assert mailed_links(outbox)["ann@example.org"].endswith(me)
    page = client.get(me)
    assert page.status_code == 200 and "Ann Lee" in page.text and "Pharmacy" in page.text
    assert "Mallory" not in page.text


def test_the_sign_up_form_says_to_look_for_the_mail_whoever_signs_up(client, trial, outbox):
    join = f"/join/{trial['join_code']}"
    client.get(join)  # a session, for the form's CSRF token (off in tests)
    pages = [client.post(join, data={**ANN, "department": department})
             for department in ("Nursing", "Nursing")]
    for page in pages:
        assert page.status_code == 200
        assert "Check your email" in page.text and "ann@example.org" in page.text
    assert pages[0].text == pages[1].text
    # Asking for a lost link while pending mails no personal link.
    lost = client.post(f"{join}/link", data={"email": "ann@example.org"})
    assert lost.status_code == 200 and "Check your email" in lost.text
    assert mailed_links(outbox) == {}


def test_pending_sign_ups_are_never_matched(client, trial, organiser_token, outbox):
    # An organiser's import needs no confirmation: these four are in at once.
    people = "name,email,department\n" + "".join(
        f"P{k},p{k}@example.org,{dept}\n" for k, dept in enumerate("ABAB"))
    imported = client.post(f"/api/v1/trials/{trial['id']}/participants",
                           headers=auth(organiser_token), data=people.encode(),
                           content_type="text/csv")
    assert imported.status_code == 201 and len(imported.get_json()["added"]) == 4
    for k in range(2):
        assert sign_up(client, trial, email=f"pending{k}@example.org").status_code == 202
    published = client.post(f"/api/v1/trials/{trial['id']}/rounds",
                            headers=auth(organiser_token), json={"seed": 1, "publish": True})
    assert published.status_code == 201, published.get_json()
    matched = {member for group in published.get_json()["groups"]
               for member in group["members"]}
    assert matched == {added["participant_id"] for added in imported.get_json()["added"]}


def test_pending_sign_ups_expire(app, client, trial):
    assert sign_up(client, trial).status_code == 202
    with app.app_context():
        db = app.extensions["matcher.sessions"]()
        pending = signup(db, db.get(Trial, trial["id"]), trial["join_code"],
                         {**ANN, "email": "bo@example.org"})
        db.commit()
        # Past its lifetime the link confirms nothing (a clock the test sets)...
        later = utc_now() + CONFIRM_LIFETIME + timedelta(seconds=1)
        with pytest.raises(TrialError) as refused:
            confirm_signup(db, pending.token, now=later)
        assert refused.value.status == 404
        db.rollback()
        # ...and the sweep forgets it once that time has come, not before.
        assert forget_unconfirmed(app) == 0
        for row in db.scalars(select(PendingSignup)):
            row.created_at = utc_now() - CONFIRM_LIFETIME - timedelta(minutes=1)
        db.commit()
        assert forget_unconfirmed(app) == 2
        assert db.scalars(select(PendingSignup)).all() == []
        db.close()
    # An expired address signs up afresh.
    assert sign_up(client, trial).status_code == 202


def test_the_api_confirms_with_the_token_once(client, trial, outbox):
    sign_up(client, trial)
    token = confirm_links(outbox)["ann@example.org"].rsplit("/", 1)[1]
    joined = client.post("/api/v1/confirmations", json={"token": token})
    assert joined.status_code == 201
    body = joined.get_json()
    assert set(body) == {"participant_id", "token", "me_url"}
    assert client.get("/api/v1/me", headers=auth(body["token"])).status_code == 200
    again = client.post("/api/v1/confirmations", json={"token": token})
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/confirmations", json={}).status_code == 400


def test_with_confirmation_off_a_sign_up_joins_at_once(client, trial, organiser_token):
    bad = client.patch(f"/api/v1/trials/{trial['id']}", headers=auth(organiser_token),
                       json={"confirm_email": "no"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "confirm_email"
    off = client.patch(f"/api/v1/trials/{trial['id']}", headers=auth(organiser_token),
                       json={"confirm_email": False})
    assert off.status_code == 200 and off.get_json()["confirm_email"] is False
    reply = sign_up(client, trial)
    assert reply.status_code == 201 and reply.get_json()["token"]
    assert sign_up(client, trial).status_code == 409


def test_the_organiser_turns_confirmation_on_and_off_in_the_settings(
        client, trial, organiser_token, app):
    with app.app_context():
        db = app.extensions["matcher.sessions"]()
        organiser_id = db.query(Organiser).one().id
        db.close()
    with client.session_transaction() as cookie:
        cookie["organiser_id"] = organiser_id
    page = client.get(f"/organiser/trials/{trial['id']}/settings")
    assert 'id="confirm_email" name="confirm_email" type="checkbox" value="yes" checked' \
        in page.text
    form = {"name": "Spring coffee", "group_size": "2", "odd": "triad"}
    assert client.post(f"/organiser/trials/{trial['id']}/settings",
                       data=form).status_code == 303
    with app.app_context():
        db = app.extensions["matcher.sessions"]()
        assert db.get(Trial, trial["id"]).confirm_email is False
        db.close()
    created = client.post("/organiser/trials", data={"name": "New", "confirm_email": "yes"})
    assert created.status_code == 303
    with app.app_context():
        db = app.extensions["matcher.sessions"]()
        assert db.query(Trial).filter_by(name="New").one().confirm_email is True
        db.close()
