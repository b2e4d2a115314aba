"""The same behaviour on SQLite and PostgreSQL (tests/conftest.py runs this on
either), where the two differ underneath:

- times: SQLite keeps no time zone and PostgreSQL answers in its session's zone;
  every time the app gives out is UTC, with its zone, on both;
- a round per number: two sessions that both read a café (or trial) at round
  N and both store round N + 1 cannot both succeed; the database refuses the
  second whole, and the round it half-wrote is gone;
- ``after``: a "next round" or "publish" that says which round its caller saw
  is refused (409 ``moved_on``) once the café or trial has moved on, so a second
  click cannot skip a round even when the two requests do not overlap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from matcher import db
from matcher.cafes import CafeError, create_cafe, join_cafe, next_round
from matcher.models import Cafe, GroupMember, Organiser, Round, Trial
from matcher.trials import TrialError, create_trial, publish_round, signup
from tests.support.app import CAFE_STEPS
from tests.support.database import Database
from web import create_app


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def utc(text: str) -> datetime:
    """A time the app gave out: UTC, written with ``Z`` (docs/glossary.md)."""
    assert text.endswith("Z"), f"{text} is not in UTC written with Z"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- times ------------------------------------------------------------------------


@pytest.fixture
def app_far_from_utc(databases, tmp_path):
    """The app on a database whose sessions (PostgreSQL) are in Auckland's zone."""
    url = databases.new("app", migrated=True)
    database = Database(url)
    database.script("", f"ALTER DATABASE \"{database.url.database}\" "
                        "SET timezone TO 'Pacific/Auckland'")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test",
                      "ROUND_TIME_LIMIT": 2.0, "MAIL_URL": (tmp_path / "outbox").as_uri()})
    yield app
    app.extensions["matcher.engine"].dispose()


def test_every_time_given_out_is_utc_with_its_zone(app_far_from_utc):
    app = app_far_from_utc
    with app.extensions["matcher.sessions"]() as session:
        from matcher.accounts import create_organiser

        _, token = create_organiser(session, "org@example.org")
        session.commit()
    client = app.test_client()
    trial = client.post("/api/v1/trials", json={"name": "Times", "confirm_email": False},
                        headers=auth(token)).get_json()
    for k in range(4):
        reply = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
            "join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
            "department": "AB"[k % 2]})
        assert reply.status_code == 201
    before = datetime.now(UTC)
    assert client.post(f"/api/v1/trials/{trial['id']}/rounds", json={"publish": True},
                       headers=auth(token)).status_code == 201
    details = client.get(f"/api/v1/trials/{trial['id']}", headers=auth(token)).get_json()
    published = utc(details["rounds"][0]["published_at"])
    assert abs(published - before) < timedelta(minutes=1)
    history = client.get(f"/api/v1/trials/{trial['id']}/history.json",
                         headers=auth(token)).get_json()
    assert utc(history["rounds"][0]["published_at"]) == published

    cafe = client.post("/api/v1/cafes", json={"name": "Times", "tables": 2, "rounds": 2,
                                              "round_minutes": 10}, headers=auth(token))
    code = cafe.get_json()["code"]
    for k in range(4):
        client.post(f"/api/v1/cafes/{code}/participants", json={"name": f"C{k}",
                                                                  "department": "AB"[k % 2]})
    started = client.post(f"/api/v1/cafes/{code}/rounds/next", json={}, headers=auth(token))
    ends_at = utc(started.get_json()["ends_at"])
    assert timedelta(minutes=9) < ends_at - before < timedelta(minutes=11)
    again = client.get(f"/api/v1/cafes/{code}", headers=auth(token)).get_json()
    assert utc(again["ends_at"]) == ends_at  # read back from the database: the same moment

    with app.extensions["matcher.sessions"]() as session:  # and to Python code
        for moment in (session.scalar(select(Round.published_at)),
                       session.scalar(select(Cafe.ends_at)),
                       session.scalar(select(Trial.created_at))):
            assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


# --- one round per number -----------------------------------------------------------


@pytest.fixture
def sessions(databases):
    """Two separate sessions (two requests, or two processes) on one database."""
    engine = db.make_engine(databases.new("race", migrated=True))
    factory = db.make_session_factory(engine)
    first, second = factory(), factory()
    yield first, second
    first.close()
    second.close()
    engine.dispose()


def _cafe(session, people=6):
    organiser = Organiser(email="org@example.org", name="Org")
    session.add(organiser)
    cafe = create_cafe(session, organiser, {"name": "Race", "tables": 2, "rounds": 3})
    for k in range(people):
        join_cafe(session, cafe, {"name": f"P{k}", "department": "ABC"[k % 3]})
    session.commit()
    return cafe


def _trial(session, people=6):
    organiser = Organiser(email="org@example.org", name="Org")
    session.add(organiser)
    trial = create_trial(session, organiser, "Race", confirm_email=False)
    for k in range(people):
        signup(session, trial, trial.join_code, {"name": f"P{k}", "email": f"p{k}@example.org",
                                                 "department": "ABC"[k % 3]})
    session.commit()
    return trial


def test_two_sessions_cannot_both_store_the_next_round_of_a_cafe(sessions):
    first, second = sessions
    cafe_id = _cafe(first).id
    first.expunge_all()
    mine, theirs = first.get(Cafe, cafe_id), second.get(Cafe, cafe_id)
    _ = (mine.attendees, theirs.attendees, mine.played, theirs.played)  # both read round 0
    next_round(first, mine, seed=1, steps=CAFE_STEPS)
    first.commit()
    with pytest.raises(IntegrityError):
        next_round(second, theirs, seed=2, steps=CAFE_STEPS)
        second.commit()
    second.rollback()
    rounds = second.scalars(select(Round).where(Round.cafe_id == cafe_id)).all()
    assert [r.number for r in rounds] == [1]
    assert second.scalar(select(func.count()).select_from(GroupMember)) == 6
    second.expire_all()
    assert second.get(Cafe, cafe_id).current_round == 1


def test_two_sessions_cannot_both_publish_the_next_round_of_a_trial(sessions):
    first, second = sessions
    trial_id = _trial(first).id
    first.expunge_all()
    mine, theirs = first.get(Trial, trial_id), second.get(Trial, trial_id)
    publish_round(first, mine, seed=1, time_limit=1)
    # The second computed its round number before the first's was committed.
    planned_number = (second.scalar(select(func.max(Round.number))) or 0) + 1
    assert planned_number == 1
    first.commit()
    # Now it stores round 1 too: refused whole.
    stored = Round(trial=theirs, number=planned_number, metrics={})
    second.add(stored)
    with pytest.raises(IntegrityError):
        second.flush()
    second.rollback()
    assert second.scalar(select(func.count()).select_from(Round)) == 1
    assert second.scalar(select(func.count()).select_from(GroupMember)) == 6


# --- after: the round the caller saw ----------------------------------------------------


def test_next_round_after_a_round_that_is_no_longer_current_is_refused(sessions):
    session, _ = sessions
    cafe = _cafe(session)
    next_round(session, cafe, seed=1, steps=CAFE_STEPS, after=0)
    session.commit()
    for stale in (0, 2):
        with pytest.raises(CafeError) as caught:
            next_round(session, cafe, seed=1, steps=CAFE_STEPS, after=stale)
        assert (caught.value.status, caught.value.code, caught.value.field) == (
            409, "moved_on", "after")
    for bad in (-1, "1", True, 1.0):
        with pytest.raises(CafeError) as caught:
            next_round(session, cafe, seed=1, steps=CAFE_STEPS, after=bad)
        assert (caught.value.status, caught.value.field) == (400, "after")
    session.rollback()
    assert cafe.current_round == 1
    assert next_round(session, cafe, seed=1, steps=CAFE_STEPS, after=1).number == 2


def test_publish_after_a_round_that_is_no_longer_the_latest_is_refused(sessions):
    session, _ = sessions
    trial = _trial(session)
    assert publish_round(session, trial, seed=1, time_limit=1, after=0).number == 1
    session.commit()
    for stale in (0, 2):
        with pytest.raises(TrialError) as caught:
            publish_round(session, trial, seed=1, time_limit=1, after=stale)
        assert (caught.value.status, caught.value.code, caught.value.field) == (
            409, "moved_on", "after")
    for bad in (-1, "1", True, 1.5):
        with pytest.raises(TrialError) as caught:
            publish_round(session, trial, seed=1, time_limit=1, after=bad)
        assert (caught.value.status, caught.value.field) == (400, "after")
    assert session.scalar(select(func.count()).select_from(Round)) == 1
    assert publish_round(session, trial, seed=1, time_limit=1, after=1).number == 2
