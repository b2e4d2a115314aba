"""Schedules read and computed: slots in local time across the clocks' changes,
monthly slots on short months, missed slots, the end of a schedule, the
suggested meeting, and every bad field named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from matcher.schedules import ScheduleError, read_schedule

LONDON = {"first_round_at": "2026-10-19T10:00", "time_zone": "Europe/London", "every": "P1W"}


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_local_time_stays_the_same_across_the_clocks_change():
    schedule = read_schedule(LONDON | {"rounds": 3})
    # British Summer Time ends on 25 October 2026: 10:00 is 09:00 UTC, then 10:00 UTC.
    assert [schedule.slot(k) for k in range(3)] == [
        at(2026, 10, 19, 9), at(2026, 10, 26, 10), at(2026, 11, 2, 10)]
    spring = read_schedule(LONDON | {"first_round_at": "2026-03-23T10:00"})
    assert [spring.slot(k) for k in range(2)] == [at(2026, 3, 23, 10), at(2026, 3, 30, 9)]


def test_monthly_slots_keep_to_the_day_of_the_first():
    schedule = read_schedule(LONDON | {"first_round_at": "2026-01-31T09:00", "every": "P1M"})
    assert [schedule.slot(k).date().isoformat() for k in range(4)] == [
        "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]


def test_the_latest_due_slot_and_the_next():
    schedule = read_schedule(LONDON | {"rounds": 3})
    assert schedule.latest_due(at(2026, 10, 19, 8, 59)) is None
    assert schedule.next_after(at(2026, 10, 19, 8, 59)) == at(2026, 10, 19, 9)
    assert schedule.latest_due(at(2026, 10, 19, 9)) == 0
    assert schedule.latest_due(at(2026, 10, 30)) == 1  # missed while down: one slot, the latest
    assert schedule.next_after(at(2026, 10, 30)) == at(2026, 11, 2, 10)
    assert schedule.latest_due(at(2027, 6, 1)) == 2
    assert schedule.next_after(at(2027, 6, 1)) is None  # three rounds, all planned
    endless = read_schedule(LONDON)
    assert endless.latest_due(at(2036, 10, 20, 12)) == 522  # ten years of weeks


def test_an_offset_is_read_as_that_moment():
    schedule = read_schedule(LONDON | {"first_round_at": "2026-12-07T10:00+01:00"})
    assert schedule.slot(0) == at(2026, 12, 7, 9)


def test_the_suggested_meeting():
    schedule = read_schedule(LONDON)
    # Published on a Friday: the next working day is Monday, 12:30 in London.
    assert schedule.meeting_time(at(2026, 10, 23, 9)) == (at(2026, 10, 26, 12, 30),
                                                          at(2026, 10, 26, 13))
    chosen = read_schedule(LONDON | {"meeting": {"after": "P2D", "time": "15:00",
                                                 "minutes": 45}})
    assert chosen.meeting_time(at(2026, 10, 23, 9)) == (at(2026, 10, 25, 15),
                                                        at(2026, 10, 25, 15, 45))


@pytest.mark.parametrize("change, field", [
    ({"time_zone": "Mars/Olympus"}, "schedule.time_zone"),
    ({"time_zone": "CET1"}, "schedule.time_zone"),
    ({"first_round_at": "next Monday"}, "schedule.first_round_at"),
    ({"every": "PT1H"}, "schedule.every"),
    ({"every": "2 weeks"}, "schedule.every"),
    ({"rounds": 0}, "schedule.rounds"),
    ({"rounds": True}, "schedule.rounds"),
    ({"reminder_before": "PT10S"}, "schedule.reminder_before"),
    ({"check_in_after": 7}, "schedule.check_in_after"),
    ({"meeting": {"time": "25:00"}}, "schedule.meeting.time"),
    ({"meeting": {"after": "P1M"}}, "schedule.meeting.after"),
    ({"colour": "blue"}, "schedule.colour"),
])
def test_a_bad_field_is_named(change, field):
    with pytest.raises(ScheduleError) as refused:
        read_schedule(LONDON | change)
    assert (refused.value.status, refused.value.field) == (400, field)
