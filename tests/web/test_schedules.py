"""Trials that run themselves: a schedule set through the API, its next slot
shown, and the round of each slot published exactly once, by the clock the
test controls: on time, after slots missed while no server ran, by two
processes at the same moment, not while paused, not after the last round."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from matcher.models import Round
from tests.support.app import new_app
from web.push import publish_due

SCHEDULE = {"first_round_at": "2026-10-19T10:00", "time_zone": "Europe/London",
            "every": "P1W", "rounds": 3}
FIRST = datetime(2026, 10, 19, 9, 0, tzinfo=UTC)  # 10:00 in London (summer time)


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def trial(app, client, organiser_token):
    reply = client.post("/api/v1/trials", json={"name": "Weekly coffee", "confirm_email": False},
                        headers=auth(organiser_token))
    trial = reply.get_json()
    for k in range(6):
        assert client.post(f"/api/v1/trials/{trial['id']}/signups", json={
            "join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
            "department": "ABC"[k % 3]}).status_code == 201
    return trial


def _schedule(client, token, trial, schedule=SCHEDULE, now=None):
    reply = client.patch(f"/api/v1/trials/{trial['id']}", json={"schedule": schedule},
                         headers=auth(token))
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def _rounds(app, trial):
    with app.extensions["matcher.sessions"]() as session:
        return [(r.number, r.slot_at) for r in session.scalars(
            select(Round).where(Round.trial_id == trial["id"]).order_by(Round.number))]


def test_a_schedule_is_shown_with_its_next_slot(app, client, organiser_token, trial):
    future = SCHEDULE | {"first_round_at": "2036-10-20T10:00"}
    body = _schedule(client, organiser_token, trial, future)
    assert body["schedule"] == future
    assert (body["paused"], body["next_round_at"]) == (False, "2036-10-20T09:00:00Z")
    body = client.patch(f"/api/v1/trials/{trial['id']}", json={"paused": True},
                        headers=auth(organiser_token)).get_json()
    assert (body["paused"], body["next_round_at"]) == (True, None)
    body = client.patch(f"/api/v1/trials/{trial['id']}", json={"paused": False},
                        headers=auth(organiser_token)).get_json()
    assert body["next_round_at"] == "2036-10-20T09:00:00Z"
    body = client.patch(f"/api/v1/trials/{trial['id']}", json={"schedule": None},
                        headers=auth(organiser_token)).get_json()
    assert (body["schedule"], body["next_round_at"]) == (None, None)


@pytest.mark.parametrize("schedule, field", [
    (SCHEDULE | {"time_zone": "Mars/Olympus"}, "schedule.time_zone"),
    (SCHEDULE | {"every": "PT1H"}, "schedule.every"),
    (SCHEDULE | {"rounds": 0}, "schedule.rounds"),
    ({"every": "P1W"}, "schedule.first_round_at"),
])
def test_a_bad_schedule_is_refused_naming_its_field(client, organiser_token, trial, schedule,
                                                    field):
    reply = client.patch(f"/api/v1/trials/{trial['id']}", json={"schedule": schedule},
                         headers=auth(organiser_token))
    assert reply.status_code == 400
    assert reply.get_json()["error"]["field"] == field
    assert client.get(f"/api/v1/trials/{trial['id']}",
                      headers=auth(organiser_token)).get_json()["schedule"] is None


def _set_in_the_past(app, client, token, trial):
    """The schedule as if set before its first slot (the API sets it at now)."""
    with app.extensions["matcher.sessions"]() as session:
        from matcher.models import Trial
        from matcher.trials import update_trial

        update_trial(session, session.get(Trial, trial["id"]), {"schedule": SCHEDULE},
                     now=FIRST - timedelta(days=1))
        session.commit()


def test_each_slot_is_published_once_on_time(app, client, organiser_token, trial):
    _set_in_the_past(app, client, organiser_token, trial)
    assert publish_due(app, FIRST - timedelta(minutes=1)) == []
    assert len(publish_due(app, FIRST)) == 1
    assert publish_due(app, FIRST + timedelta(seconds=30)) == []  # that slot is done
    assert _rounds(app, trial) == [(1, FIRST)]
    body = client.get(f"/api/v1/trials/{trial['id']}", headers=auth(organiser_token)).get_json()
    assert body["next_round_at"] == "2026-10-26T10:00:00Z"  # 10:00 in London, winter time
    assert [r["round"] for r in body["rounds"]] == [1]


def test_slots_missed_while_down_are_one_round_and_the_cadence_holds(app, client,
                                                                    organiser_token, trial):
    _set_in_the_past(app, client, organiser_token, trial)
    # No server ran from before the first slot until after the second.
    assert len(publish_due(app, datetime(2026, 10, 28, 12, tzinfo=UTC))) == 1
    assert _rounds(app, trial) == [(1, datetime(2026, 10, 26, 10, tzinfo=UTC))]
    assert publish_due(app, datetime(2026, 11, 1, tzinfo=UTC)) == []
    assert len(publish_due(app, datetime(2026, 11, 2, 10, tzinfo=UTC))) == 1
    # Three rounds planned, the last slot published: the schedule has ended.
    assert publish_due(app, datetime(2027, 1, 1, tzinfo=UTC)) == []
    body = client.get(f"/api/v1/trials/{trial['id']}", headers=auth(organiser_token)).get_json()
    assert body["next_round_at"] is None and len(body["rounds"]) == 2


def test_a_paused_schedule_publishes_nothing(app, client, organiser_token, trial):
    _set_in_the_past(app, client, organiser_token, trial)
    client.patch(f"/api/v1/trials/{trial['id']}", json={"paused": True},
                 headers=auth(organiser_token))
    assert publish_due(app, FIRST + timedelta(days=1)) == []
    assert _rounds(app, trial) == []


def test_two_processes_at_one_slot_publish_one_round(app, client, organiser_token, trial,
                                                     databases, tmp_path):
    """Two apps on one database (as two server processes) at the same moment."""
    _set_in_the_past(app, client, organiser_token, trial)
    other = new_app(app.config["DATABASE_URL"], tmp_path / "other-outbox")
    published: list = []
    start = threading.Barrier(2)

    def tick(one):
        start.wait()
        published.extend(publish_due(one, FIRST))

    threads = [threading.Thread(target=tick, args=(one,)) for one in (app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.extensions["matcher.engine"].dispose()
    assert len(published) == 1
    with app.extensions["matcher.sessions"]() as session:
        assert session.scalar(select(func.count()).select_from(Round)) == 1
    assert _rounds(app, trial) == [(1, FIRST)]


def test_a_manual_round_between_slots_still_works(app, client, organiser_token, trial):
    _set_in_the_past(app, client, organiser_token, trial)
    publish_due(app, FIRST)
    reply = client.post(f"/api/v1/trials/{trial['id']}/rounds", json={"publish": True},
                        headers=auth(organiser_token))
    assert reply.status_code == 201 and reply.get_json()["round"] == 2
    assert _rounds(app, trial) == [(1, FIRST), (2, None)]
    publish_due(app, datetime(2026, 10, 26, 10, tzinfo=UTC))
    assert [number for number, _ in _rounds(app, trial)] == [1, 2, 3]
