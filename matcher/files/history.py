"""History files and avoid lists (docs/formats.md)."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from matcher.files.people import People
from matcher.files.tables import parse_yes_no, read_table, shown
from solvers.model import PastRound, pair_key

# -- history -------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryFile:
    """A history file: past rounds oldest first, with their labels.

    ``rounds[i]`` is the round labelled ``labels[i]``; groups and sit-outs hold
    only people in the people file (when one was given). ``former`` holds the
    ids of everyone else: former participants, ignored for matching.
    """

    file: str
    rounds: tuple[PastRound, ...]
    labels: tuple[str, ...]
    former: frozenset[str]


def _parse_date(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)  # dates alone too, since Python 3.11
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@dataclass
class _RoundSoFar:
    first: int
    date: datetime | None = None
    groups: dict[str, list[str]] = field(default_factory=dict)
    sitting_out: list[str] = field(default_factory=list)


def read_history(
    path: str | os.PathLike[str],
    known_ids: Collection[str] | None = None,
    *,
    group_columns: Sequence[str] = ("group", "table"),
) -> HistoryFile:
    """Read and check a history file; docs/formats.md.

    Columns ``round``, ``group`` (or ``table``: a café plan is history too) and
    ``person_id``; optional ``date`` (ISO 8601) and ``met`` (``yes``, ``no`` or
    empty). Rows with one round and group form a group; a member whose ``met``
    is ``no`` did not meet the others. An empty group means the person sat out.
    Rounds are ordered by date where given (a round without a date comes after
    every dated round before it in the file), else by first appearance. Ids not
    in ``known_ids`` are former participants: left out of the rounds and listed
    in ``former``.
    """
    table = read_table(path)
    group_key = next((k for k in group_columns if k in table.columns), group_columns[0])
    table.require("round", group_key, "person_id")

    rounds: dict[str, _RoundSoFar] = {}
    former: set[str] = set()
    for record in table.records:
        label = record.get("round")
        if not label:
            raise table.error("round is empty", record, "round")
        person = record.get("person_id")
        if not person:
            raise table.error("person_id is empty", record, "person_id")
        met = parse_yes_no(record.get("met"))
        if met is None:
            raise table.error(
                f"{shown(record.get('met'))} is not yes, no or empty", record, "met"
            )
        moment = None
        if date_text := record.get("date"):
            moment = _parse_date(date_text)
            if moment is None:
                raise table.error(
                    f"{shown(date_text)} is not an ISO 8601 date (like 2024-05-31)",
                    record, "date",
                )

        this = rounds.setdefault(label, _RoundSoFar(len(rounds)))
        if moment is not None and (this.date is None or moment < this.date):
            this.date = moment
        if known_ids is not None and person not in known_ids:
            former.add(person)
            continue
        group = record.get(group_key)
        if not group:
            if person not in this.sitting_out:
                this.sitting_out.append(person)
            continue
        members = this.groups.setdefault(group, [])
        if met and person not in members:
            members.append(person)

    # An undated round (e.g. appended by matcher.pair, which writes no dates) comes
    # after every dated round before it in the file.
    order = []
    current = datetime.min
    for label, this in rounds.items():
        if this.date is not None:
            current = max(current, this.date)
        order.append((this.date or current, this.first, label))
    order.sort()
    labels = tuple(label for _, _, label in order)
    past = tuple(
        PastRound(
            groups=tuple(tuple(m) for m in rounds[label].groups.values() if len(m) > 1),
            sitting_out=tuple(rounds[label].sitting_out),
        )
        for label in labels
    )
    return HistoryFile(table.file, past, labels, frozenset(former))


# -- avoid list ----------------------------------------------------------------


def read_avoid(path: str | os.PathLike[str], people: People) -> frozenset[tuple[str, str]]:
    """Read and check an avoid list (``person_a,person_b``); docs/formats.md.

    Each value is an id of the people file (an email of someone in it is
    accepted too). An unknown id is an error, not a silent no-op: someone relies
    on the rule. Returns the pairs as :func:`solvers.model.pair_key` tuples.
    """
    table = read_table(path)
    table.require("person_a", "person_b")
    pairs = set()
    for record in table.records:
        ids = []
        for key in ("person_a", "person_b"):
            text = record.get(key)
            if not text:
                raise table.error(f"{key} is empty", record, key)
            row = people.find(text)
            if row is None:
                raise table.error(f"no one in {people.file} has the id {shown(text)}", record, key)
            ids.append(row.id)
        if ids[0] == ids[1]:
            raise table.error(
                f"{shown(ids[0])} is person_a too: a person cannot avoid themselves",
                record, "person_b",
            )
        pairs.add(pair_key(ids[0], ids[1]))
    return frozenset(pairs)
