"""Café plans already played (``matcher.rotate --fixed``) and table hosts
(docs/formats.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from matcher.files.people import People, PersonRow
from matcher.files.tables import (
    TABLE_ROLES,
    WHOLE_NUMBER,
    InputError,
    Table,
    normalise,
    read_table,
    shown,
)


def cafe_hosts(people: People, tables: int) -> dict[str, int]:
    """The hosts of a café of ``tables`` tables: active person id → table hosted.

    Fails (at the row and the ``host`` column) when more people host than there
    are tables, a table number is above ``tables``, or two people host one table.
    Inactive people host nothing.
    """
    hosting = [row for row in people.active_rows if row.host is not None]
    column = people.columns.get("host", "host")
    unit = "item" if people.is_json else "row"

    def error(row: PersonRow, message: str) -> InputError:
        return InputError(people.file, message, row=row.row, column=column,
                          json_items=people.is_json)

    if len(hosting) > tables:
        raise error(
            hosting[tables],
            f"{len(hosting)} people host a table, but there {_are(tables, 'table', 'tables')}",
        )
    hosts: dict[str, int] = {}
    row_of_table: dict[int, PersonRow] = {}
    for row in hosting:
        if row.host > tables:
            raise error(row, f"there is no table {row.host}: "
                        f"the café has {_count(tables, 'table', 'tables')}")
        if row.host in row_of_table:
            raise error(row, f"table {row.host} has two hosts: "
                        f"{unit}s {row_of_table[row.host].row} and {row.row}")
        row_of_table[row.host] = row
        hosts[row.id] = row.host
    return hosts


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _are(number: int, one: str, many: str) -> str:
    return f"{'is' if number == 1 else 'are'} only {_count(number, one, many)}"


@dataclass(frozen=True)
class PlanFile:
    """A café plan (``python -m matcher.rotate``'s CSV output) read back as the
    rounds already played.

    ``rounds[k][t - 1]`` lists who sat at table ``t`` in the round labelled
    ``labels[k]`` (rounds in file order; a table nobody sat at is empty);
    ``hosts[k]`` maps a table to whoever had ``table_role`` host there;
    ``names`` holds the names as written, for people who have since left.
    ``table`` is the file as read, to copy its rows unchanged.
    """

    table: Table
    labels: tuple[str, ...]
    rounds: tuple[tuple[tuple[str, ...], ...], ...]
    hosts: tuple[Mapping[int, str], ...]
    names: Mapping[str, str]

    @property
    def file(self) -> str:
        return self.table.file

    @cached_property
    def people(self) -> frozenset[str]:
        """Everyone who sat at a table in a played round."""
        return frozenset(pid for tables in self.rounds for members in tables for pid in members)

    def text(self) -> str:
        """The header and every row, exactly as written (blank lines left out),
        ending with a line break."""
        text = self.table.header_text + "".join(r.text for r in self.table.records)
        return text if text.endswith(("\n", "\r")) else text + self.table.newline


@dataclass
class _PlayedSoFar:
    tables: dict[int, list[str]] = field(default_factory=dict)
    where: dict[str, tuple[int, int]] = field(default_factory=dict)  # id → (table, row)
    hosts: dict[int, int] = field(default_factory=dict)  # table → row of its host
    host_ids: dict[int, str] = field(default_factory=dict)


def read_plan(path: str | os.PathLike[str], tables: int) -> PlanFile:
    """Read and check a café plan of rounds already played (``--fixed``; docs/formats.md).

    Columns ``round``, ``table`` and ``person_id`` (optional ``table_role``,
    ``host`` or ``guest``; ``name``). Fails at the row and column for an empty
    round or person, a table that is not a number from 1 to ``tables``, a
    person at two tables (or twice at one) in a round, or two hosts at a table.
    """
    table = read_table(path)
    table.require("round", "table", "person_id")
    rounds: dict[str, _PlayedSoFar] = {}
    names: dict[str, str] = {}
    for record in table.records:
        label = record.get("round")
        if not label:
            raise table.error("round is empty", record, "round")
        text = record.get("table")
        if not text:
            raise table.error("table is empty: everyone sits at a table in a café", record,
                              "table")
        if not WHOLE_NUMBER.fullmatch(text) or int(text) < 1:
            raise table.error(f"{shown(text)} is not a table number (1, 2, 3, …)", record,
                              "table")
        number = int(text)
        if number > tables:
            raise table.error(
                f"there is no table {number}: the café has {_count(tables, 'table', 'tables')}",
                record, "table",
            )
        person = record.get("person_id")
        if not person:
            raise table.error("person_id is empty", record, "person_id")
        role = record.get("table_role").lower()
        if role not in ("", *TABLE_ROLES):
            raise table.error(f"{shown(record.get('table_role'))} is not host or guest",
                              record, "table_role")

        this = rounds.setdefault(label, _PlayedSoFar())
        if person in this.where:
            seated, row = this.where[person]
            where = f"table {number} twice" if seated == number else (
                f"two tables: {seated} and {number}")
            raise table.error(
                f"{shown(person)} is at {where} in round {label} (rows {row} and "
                f"{record.number})",
                record, "person_id",
            )
        this.where[person] = (number, record.number)
        this.tables.setdefault(number, []).append(person)
        if role == "host":
            if number in this.hosts:
                raise table.error(
                    f"table {number} has two hosts in round {label}: rows "
                    f"{this.hosts[number]} and {record.number}",
                    record, "table_role",
                )
            this.hosts[number] = record.number
            this.host_ids[number] = person
        if name := record.get("name"):
            names.setdefault(person, name)

    played = tuple(
        tuple(tuple(this.tables.get(t, ())) for t in range(1, max(this.tables) + 1))
        for this in rounds.values()
    )
    return PlanFile(table, tuple(rounds), played,
                    tuple(dict(this.host_ids) for this in rounds.values()), names)


def plan_order(plan: PlanFile, columns: Sequence[str]) -> tuple[str, ...]:
    """The plan file's columns (as written), provided they are ``columns`` in some
    order (case and surrounding spaces ignored), so new rows can follow them."""
    have = list(plan.table.columns)
    want = [normalise(c) for c in columns]
    if sorted(have) != sorted(want):
        missing = [c for c in columns if normalise(c) not in have]
        extra = [plan.table.columns[k] for k in have if k not in want]
        parts = []
        if missing:
            parts.append(f"it lacks {', '.join(missing)}")
        if extra:
            parts.append(f"it has {', '.join(extra)} too")
        raise InputError(
            plan.file,
            "its columns are not those of this plan's output (" + "; ".join(parts)
            + "): it must come from matcher.rotate with the same people file columns",
            row=1,
        )
    return tuple(plan.table.columns.values())
