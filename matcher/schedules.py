"""Schedules: when a trial's rounds publish themselves (docs/api.md, "Schedules").

A schedule is kept as the organiser gave it (local times in the trial's time
zone, ISO 8601 durations) and read into a :class:`Schedule`. Slot ``k`` is the
first round's local time plus ``k`` times the cadence, in local time, then
converted to UTC: a round at 10:00 in London stays at 10:00 across the
clocks' changes, and a monthly round on the 31st falls on the last day of
shorter months (calendar arithmetic from the first slot, so it never drifts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import isodate

from matcher.errors import ServiceError

__all__ = [
    "MAX_SCHEDULED_ROUNDS",
    "Meeting",
    "Schedule",
    "ScheduleError",
    "read_schedule",
    "suggested_meeting",
]

#: The most rounds a schedule may plan.
MAX_SCHEDULED_ROUNDS = 520
#: The shortest cadence, and the shortest reminder and check-in delays.
SHORTEST_CADENCE = timedelta(days=1)
SHORTEST_DELAY = timedelta(minutes=1)
_FIELDS = {"first_round_at", "time_zone", "every", "rounds", "reminder_before",
           "check_in_after", "meeting"}


class ScheduleError(ServiceError):
    """A schedule that cannot be used (400, naming its field)."""

    def __init__(self, message: str, field: str):
        super().__init__(400, "invalid", message, f"schedule.{field}" if field else "schedule")


@dataclass(frozen=True)
class Meeting:
    """The meeting suggested in each introduction: ``after`` publishing (rounded
    to the day), at ``at`` local time, for ``minutes``."""

    after: timedelta
    at: time
    minutes: int


@dataclass(frozen=True)
class Schedule:
    first_round_at: datetime  # local, naive
    zone: ZoneInfo
    every: timedelta | isodate.Duration
    rounds: int | None
    reminder_before: timedelta | None
    check_in_after: timedelta | None
    meeting: Meeting | None

    def slot(self, k: int) -> datetime:
        """Slot ``k`` (0 is the first round), in UTC."""
        local = self.first_round_at + self.every * k if k else self.first_round_at
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def latest_due(self, now: datetime) -> int | None:
        """The latest slot at or before ``now`` (``None``: the first is still to come)."""
        if self.slot(0) > now:
            return None
        low, high = 0, 1
        while self.slot(high) <= now and (self.rounds is None or high < self.rounds):
            low, high = high, high * 2
        if self.rounds is not None:
            high = min(high, self.rounds)
        while high - low > 1:  # slot(low) <= now < slot(high) (or high is past the end)
            middle = (low + high) // 2
            if self.slot(middle) <= now:
                low = middle
            else:
                high = middle
        return low

    def next_after(self, now: datetime) -> datetime | None:
        """The first slot after ``now``, or ``None`` once every round is planned."""
        latest = self.latest_due(now)
        k = 0 if latest is None else latest + 1
        if self.rounds is not None and k >= self.rounds:
            return None
        return self.slot(k)

    def meeting_time(self, published: datetime) -> tuple[datetime, datetime]:
        """When the introduction suggests meeting (see :func:`suggested_meeting`)."""
        return suggested_meeting(published, self.zone, self.meeting)


def suggested_meeting(published: datetime, zone: Any = UTC,
                      meeting: Meeting | None = None) -> tuple[datetime, datetime]:
    """When an introduction of a round published at ``published`` suggests meeting
    (UTC start and end): ``meeting``, else the next working day at 12:30 in
    ``zone``, for 30 minutes."""
    chosen = meeting or Meeting(timedelta(days=1), time(12, 30), 30)
    published = published if published.tzinfo else published.replace(tzinfo=UTC)
    day = (published.astimezone(zone) + chosen.after).date()
    if meeting is None:
        while day.weekday() >= 5:
            day += timedelta(days=1)
    start = datetime.combine(day, chosen.at, tzinfo=zone).astimezone(UTC)
    return start, start + timedelta(minutes=chosen.minutes)


def _duration(value: Any, field: str, least: timedelta) -> timedelta | isodate.Duration:
    if not isinstance(value, str):
        raise ScheduleError(f"{field} must be an ISO 8601 duration such as P2W or P1D", field)
    try:
        parsed = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError):
        raise ScheduleError(f"{field} must be an ISO 8601 duration such as P2W or P1D, "
                            f"not {value[:40]!r}", field) from None
    reference = datetime(2026, 1, 1)
    if reference + parsed - reference < least:
        raise ScheduleError(f"{field} must be at least {isodate.duration_isoformat(least)}",
                            field)
    return parsed


def read_schedule(data: Any) -> Schedule:
    """The schedule ``data`` gives (as the API and the form take it); raises
    :class:`ScheduleError` naming the field for anything unusable."""
    if not isinstance(data, dict):
        raise ScheduleError("schedule must be an object, or null to remove it", "")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ScheduleError(f"unknown field {unknown[0]!r}", unknown[0])
    zone_name = data.get("time_zone")
    try:
        if not isinstance(zone_name, str) or not zone_name or "/" not in zone_name \
                and zone_name != "UTC":
            raise ZoneInfoNotFoundError
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError("time_zone must be an IANA time zone such as Europe/London",
                            "time_zone") from None
    first = data.get("first_round_at")
    try:
        if not isinstance(first, str):
            raise ValueError
        start = datetime.fromisoformat(first)
    except ValueError:
        raise ScheduleError("first_round_at must be a date and time such as "
                            "2026-12-07T10:00", "first_round_at") from None
    if start.tzinfo is not None:  # given with an offset: that moment, read locally
        start = start.astimezone(zone).replace(tzinfo=None)
    rounds = data.get("rounds")
    if rounds is not None and (not isinstance(rounds, int) or isinstance(rounds, bool)
                               or not 1 <= rounds <= MAX_SCHEDULED_ROUNDS):
        raise ScheduleError(f"rounds must be a whole number from 1 to {MAX_SCHEDULED_ROUNDS}, "
                            "or null for no end", "rounds")
    delays = {}
    for name in ("reminder_before", "check_in_after"):
        value = data.get(name)
        delays[name] = None if value is None else _duration(value, name, SHORTEST_DELAY)
    return Schedule(start.replace(second=0, microsecond=0), zone,
                    _duration(data.get("every"), "every", SHORTEST_CADENCE), rounds,
                    delays["reminder_before"], delays["check_in_after"],
                    _meeting(data.get("meeting")))


def _meeting(data: Any) -> Meeting | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ScheduleError("meeting must be an object with after, time and minutes",
                            "meeting")
    after = data.get("after", "P1D")
    parsed = _duration(after, "meeting.after", timedelta(0))
    if isinstance(parsed, isodate.Duration):
        raise ScheduleError("meeting.after must be in days or weeks", "meeting.after")
    try:
        at = time.fromisoformat(data.get("time", "12:30"))
    except (TypeError, ValueError):
        raise ScheduleError("meeting.time must be a time such as 12:30",
                            "meeting.time") from None
    minutes = data.get("minutes", 30)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 5 <= minutes <= 480:
        raise ScheduleError("meeting.minutes must be a whole number from 5 to 480",
                            "meeting.minutes")
    return Meeting(parsed, at.replace(second=0, microsecond=0), minutes)
