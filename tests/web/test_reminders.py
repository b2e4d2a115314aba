"""A scheduled trial's reminders and check-ins, by the clock the test controls,
to a real SMTP server (aiosmtpd), and the action links they carry: a GET
changes nothing, the page's POST (with its CSRF token) works once, a forged,
expired or reused link, or one of someone who left, gets a clear page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from matcher.accounts import create_organiser
from matcher.models import Feedback, GroupMember, Membership, Person, Round, Trial
from matcher.trials import update_trial
from tests.support.app import new_app
from web.push import mail_due, publish_due

#: The first slot: a fortnight ahead (the links' expiry is checked against the
#: real time), at 10:00 in London.
LOCAL_FIRST = datetime.combine((datetime.now(UTC) + timedelta(days=14)).date(), time(10))
LONDON = ZoneInfo("Europe/London")
FIRST = LOCAL_FIRST.replace(tzinfo=LONDON).astimezone(UTC)
SCHEDULE = {"first_round_at": LOCAL_FIRST.isoformat(timespec="minutes"),
            "time_zone": "Europe/London", "every": "P1W", "reminder_before": "P1D",
            "check_in_after": "P3D"}
PEOPLE = 6


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(databases, tmp_path, smtp_server):
    """A trial of six with a schedule set before its first slot; CSRF checked as
    on a real server."""
    app = new_app(databases.new("app", migrated=True), tmp_path / "outbox",
                  MAIL_URL=smtp_server.url, WTF_CSRF_ENABLED=True)
    with app.extensions["matcher.sessions"]() as session:
        _, token = create_organiser(session, "org@example.org", "Org")
        session.commit()
    client = app.test_client()
    trial = client.post("/api/v1/trials", json={"name": "Weekly coffee", "confirm_email": False},
                        headers=auth(token)).get_json()
    trial["people"] = []
    for k in range(PEOPLE):
        joined = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
            "join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
            "department": "ABC"[k % 3]})
        assert joined.status_code == 201
        trial["people"].append(joined.get_json())
    with app.extensions["matcher.sessions"]() as session:
        update_trial(session, session.get(Trial, trial["id"]), {"schedule": SCHEDULE},
                     now=FIRST - timedelta(days=3))
        session.commit()
    app.extensions["matcher.jobs"].sweep()  # the sign-up links
    smtp_server.collector.messages.clear()
    yield app, client, trial, smtp_server
    app.extensions["matcher.engine"].dispose()


def _received(app, server, kind_subject):
    app.extensions["matcher.jobs"].sweep()
    return {to: message for (to,), message in server.messages
            if kind_subject in str(message["Subject"])}


def _links(message, action):
    text = message.get_body(("plain",)).get_content()
    return re.findall(rf"https?://\S+/a/{action}/\S+", text)


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _path(link: str) -> str:
    return link.removeprefix("http://localhost")


def _membership(app, email):
    with app.extensions["matcher.sessions"]() as session:
        membership = session.scalar(select(Membership).join(Person).where(
            Person.email == email))
        return None if membership is None else (membership.paused, membership.skip_slot_at)


def test_the_reminder_goes_once_a_day_before_with_each_ones_links(world):
    app, client, trial, server = world
    assert mail_due(app, FIRST - timedelta(days=1, minutes=1)) == 0
    assert mail_due(app, FIRST - timedelta(hours=23)) == PEOPLE
    assert mail_due(app, FIRST - timedelta(hours=22)) == 0  # once per slot
    reminders = _received(app, server, "next round")
    assert sorted(reminders) == [f"p{k}@example.org" for k in range(PEOPLE)]
    tokens = set()
    for message in reminders.values():
        text = message.get_body(("plain",)).get_content()
        assert f"{LOCAL_FIRST.strftime('%A %-d %B')} at 10:00 (Europe/London)" in text
        [skip], [pause] = _links(message, "skip"), _links(message, "pause")
        assert message["List-Unsubscribe"].strip() == f"<{pause}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert skip in message.get_body(("html",)).get_content()
        tokens |= {skip, pause}
    assert len(tokens) == 2 * PEOPLE  # nobody holds another's link
    assert len(server.messages) == PEOPLE


def test_skip_leaves_one_out_of_that_round_only(world):
    app, client, trial, server = world
    mail_due(app, FIRST - timedelta(hours=23))
    reminder = _received(app, server, "next round")["p0@example.org"]
    [skip] = _links(reminder, "skip")
    for _ in range(2):  # opening it (a mail scanner, twice) changes nothing
        page = client.get(_path(skip))
        assert page.status_code == 200
        assert f"Skip the round of {LOCAL_FIRST.strftime('%A %-d %B')}" in page.text
    assert _membership(app, "p0@example.org") == (False, None)
    done = client.post(_path(skip), data={"csrf_token": _csrf(page.text)})
    assert done.status_code == 200 and "Done" in done.text
    assert _membership(app, "p0@example.org") == (False, FIRST)
    me = client.get("/api/v1/me", headers=auth(trial["people"][0]["token"])).get_json()
    assert me["skipping_next"] is True
    assert me["next_round_at"] == FIRST.isoformat().replace("+00:00", "Z")
    assert "You are skipping it" in client.get(trial["people"][0]["me_url"].removeprefix(
        "http://localhost")).text
    again = client.post(_path(skip), data={"csrf_token": _csrf(page.text)})
    assert again.status_code == 409 and "used already" in again.text
    [stored] = publish_due(app, FIRST)
    with app.extensions["matcher.sessions"]() as session:
        in_round = set(session.scalars(select(Person.email).join(GroupMember).where(
            GroupMember.round_id == stored.id)))
    assert "p0@example.org" not in in_round and len(in_round) == PEOPLE - 1
    # The next slot includes them again.
    [later] = publish_due(app, FIRST + timedelta(days=7))
    with app.extensions["matcher.sessions"]() as session:
        assert "p0@example.org" in set(session.scalars(
            select(Person.email).join(GroupMember).where(GroupMember.round_id == later.id)))


def test_an_action_needs_the_pages_csrf_token(world):
    app, client, trial, server = world
    mail_due(app, FIRST - timedelta(hours=23))
    [pause] = _links(_received(app, server, "next round")["p1@example.org"], "pause")
    refused = client.post(_path(pause), data={})
    assert refused.status_code == 400 and "Please try again" in refused.text
    assert _membership(app, "p1@example.org") == (False, None)


def test_list_unsubscribe_one_click_pauses_without_a_page(world):
    app, client, trial, server = world
    mail_due(app, FIRST - timedelta(hours=23))
    message = _received(app, server, "next round")["p2@example.org"]
    address = message["List-Unsubscribe"].strip().strip("<>")
    fresh = app.test_client()  # the mail provider: no cookie, no page
    reply = fresh.post(_path(address), data={"List-Unsubscribe": "One-Click"})
    assert reply.status_code == 204
    assert _membership(app, "p2@example.org")[0] is True
    # Paused: the round leaves them out, and no check-in goes to them.
    [stored] = publish_due(app, FIRST)
    assert all(m.person.email != "p2@example.org" for m in stored.members)


def test_the_check_in_goes_to_those_who_have_not_answered_and_counts_once(world):
    app, client, trial, server = world
    [stored] = publish_due(app, FIRST)
    _received(app, server, "meet")  # the introductions
    server.collector.messages.clear()
    with app.extensions["matcher.sessions"]() as session:  # one answered on their page
        member = session.scalar(select(GroupMember).join(Person).where(
            Person.email == "p3@example.org", GroupMember.round_id == stored.id))
        member.met = True
        session.commit()
    assert mail_due(app, FIRST + timedelta(days=2)) == 0
    assert mail_due(app, FIRST + timedelta(days=3)) == PEOPLE - 1
    assert mail_due(app, FIRST + timedelta(days=3, hours=1)) == 0
    check_ins = _received(app, server, "did you meet")
    assert "p3@example.org" not in check_ins and len(check_ins) == PEOPLE - 1
    to, message = sorted(check_ins.items())[0]
    [yes], [no] = _links(message, "met-yes"), _links(message, "met-no")
    page = client.get(_path(yes))
    assert page.status_code == 200 and "Yes, we met" in page.text
    with app.extensions["matcher.sessions"]() as session:
        assert session.scalar(select(GroupMember.met).join(Person).where(
            Person.email == to, GroupMember.round_id == stored.id)) is None
    assert client.post(_path(yes), data={"csrf_token": _csrf(page.text)}).status_code == 200
    # Its "no" is the same question, answered.
    other = client.post(_path(no), data={"csrf_token": _csrf(page.text)})
    assert other.status_code == 409 and "You said: we met" in other.text
    with app.extensions["matcher.sessions"]() as session:
        assert session.scalar(select(GroupMember.met).join(Person).where(
            Person.email == to, GroupMember.round_id == stored.id)) is True
        # One fact: the answer is the round's feedback too.
        assert session.scalar(select(Feedback.met).join(Person).where(
            Person.email == to, Feedback.round_id == stored.id)) is True
    # The check-in leads to the feedback form, in both parts.
    text = message.get_body(("plain",)).get_content()
    [form] = re.findall(r"https?://\S+/me/\S+#feedback", text)
    assert f'<a href="{form}">' in message.get_body(("html",)).get_content()
    page = client.get(_path(form).removesuffix("#feedback"))
    assert page.status_code == 200 and 'id="feedback"' in page.text
    assert 'value="yes" checked' in page.text  # "Yes, we met", as answered


def test_bad_links_get_a_clear_page_never_a_500(world):
    app, client, trial, server = world
    mail_due(app, FIRST - timedelta(hours=23))
    reminders = _received(app, server, "next round")
    [skip] = _links(reminders["p4@example.org"], "skip")
    token = skip.rsplit("/", 1)[1]
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for path in (f"/a/skip/{forged}", f"/a/pause/{token}", "/a/skip/x", "/a/launch/" + token):
        reply = client.get(path)
        assert reply.status_code == 404, path
        assert "not one of ours" in reply.text or "Not found" in reply.text
    # After its slot, the skip link has expired.
    with app.extensions["matcher.sessions"]() as session:
        from matcher.actions import ActionError, read_action

        with pytest.raises(ActionError) as expired:
            read_action(session, "test", "skip", token, now=FIRST)
        assert expired.value.status == 410
    # After the participant left, their links say so.
    [pause] = _links(reminders["p5@example.org"], "pause")
    with app.extensions["matcher.sessions"]() as session:
        from matcher.trials import leave

        leave(session, session.scalar(select(Membership).join(Person).where(
            Person.email == "p5@example.org")))
        session.commit()
    gone = client.get(_path(pause))
    assert gone.status_code == 410 and "left the trial" in gone.text


def test_a_trial_without_reminders_sends_none(world):
    app, client, trial, server = world
    with app.extensions["matcher.sessions"]() as session:
        update_trial(session, session.get(Trial, trial["id"]),
                     {"schedule": SCHEDULE | {"reminder_before": None, "check_in_after": None}},
                     now=FIRST - timedelta(days=3))
        session.commit()
    assert mail_due(app, FIRST - timedelta(hours=1)) == 0
    publish_due(app, FIRST)
    assert mail_due(app, FIRST + timedelta(days=5)) == 0
    with app.extensions["matcher.sessions"]() as session:
        assert session.scalar(select(Round.checked_in)) is False


def test_a_skip_can_be_undone_from_the_personal_page(world):
    app, client, trial, server = world
    mail_due(app, FIRST - timedelta(hours=23))
    [skip] = _links(_received(app, server, "next round")["p1@example.org"], "skip")
    page = client.get(_path(skip))
    client.post(_path(skip), data={"csrf_token": _csrf(page.text)})
    me_path = trial["people"][1]["me_url"].removeprefix("http://localhost")
    personal = client.get(me_path).text
    assert "You are skipping it" in personal
    reply = client.post(f"{me_path}/take-part", data={"csrf_token": _csrf(personal)})
    assert reply.status_code == 303
    assert "You will be matched then." in client.get(me_path).text
    [stored] = publish_due(app, FIRST)
    assert any(m.person.email == "p1@example.org" for m in stored.members)
