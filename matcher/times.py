"""Times as matcher gives them out: UTC, ISO 8601 with ``Z`` (docs/glossary.md)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso", "utc", "utc_now"]


def utc_now() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def utc(moment: datetime | None) -> datetime | None:
    """A stored time as UTC (SQLite gives back naive datetimes, which are UTC)."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """A time as ISO 8601 in UTC with ``Z``, as the API, the pushes and the
    exports give it.

    >>> iso(datetime(2026, 12, 1, 9, 30))
    '2026-12-01T09:30:00Z'
    """
    moment = utc(moment)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None
