"""Writing rounds and café plans (CSV, JSON, text; docs/formats.md), and
writing or appending output files in one step."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from matcher.files.history import read_history
from matcher.files.people import People
from matcher.files.tables import (
    NOT_PASSED_THROUGH_CAFE,
    PAIR_COLUMNS,
    ROTATE_COLUMNS,
    WHOLE_NUMBER,
    InputError,
    normalise,
    read_table,
)
from solvers.model import RoundPlan

if TYPE_CHECKING:
    from solvers.rotation import CafePlan




# -- writing rounds ------------------------------------------------------------


def pair_columns(people: People) -> tuple[list[str], list[str]]:
    """The header of ``matcher.pair``'s CSV output, and the normalised names of
    the people columns passed through (in the same order)."""
    extra = people.extra_columns()
    return [*PAIR_COLUMNS, *extra.values()], list(extra)


def _label_value(label: str) -> int | str:
    return int(label) if WHOLE_NUMBER.fullmatch(label) and str(int(label)) == label else label


def pair_csv(
    labels: Sequence[str],
    rounds: Sequence[RoundPlan],
    people: People,
    *,
    header: bool = True,
    order: Sequence[str] | None = None,
) -> str:
    """Rounds as CSV: one row per person placed (history format, docs/formats.md).

    Groups are numbered from 1 in each round; people sitting out have an empty
    ``group``; the people file's other columns follow, as written. ``order``
    (an existing history file's header) writes the columns in that order instead.
    """
    columns, extra = pair_columns(people)
    by_id = people.by_id
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(columns)
    keys = [normalise(c) for c in columns]
    place = None if order is None else [
        keys.index(normalise(c)) if normalise(c) in keys else None for c in order
    ]

    def row(label: str, group: str, person_id: str) -> list[str]:
        person = by_id[person_id]
        values = [label, group, person_id, person.name, person.department,
                  *(person.values.get(key, "") for key in extra)]
        if place is None:
            return values
        return [values[k] if k is not None else "" for k in place]

    for label, planned in zip(labels, rounds, strict=True):
        for number, members in enumerate(planned.groups, 1):
            writer.writerows(row(label, str(number), pid) for pid in members)
        writer.writerows(row(label, "", pid) for pid in planned.sitting_out)
    return out.getvalue()


def pair_json(labels: Sequence[str], rounds: Sequence[RoundPlan]) -> str:
    """Rounds as JSON (docs/formats.md). An integer label is written as a number."""
    document = {
        "rounds": [
            {
                "round": _label_value(label),
                "groups": [
                    {"group": number, "members": list(members), "score": score}
                    for number, (members, score) in enumerate(
                        zip(planned.groups, planned.group_scores, strict=True), 1
                    )
                ],
                "sitting_out": list(planned.sitting_out),
                "metrics": planned.metrics.as_dict(),
            }
            for label, planned in zip(labels, rounds, strict=True)
        ]
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def rotate_columns(people: People) -> tuple[list[str], list[str]]:
    """The header of ``matcher.rotate``'s CSV output, and the normalised names of
    the people columns passed through (in the same order)."""
    extra = people.extra_columns(NOT_PASSED_THROUGH_CAFE)
    return [*ROTATE_COLUMNS, *extra.values()], list(extra)


def _host_first(members: Sequence[str], host: str | None) -> list[str]:
    if host is None or host not in members:
        return list(members)
    return [host, *(pid for pid in members if pid != host)]


def cafe_csv(
    labels: Sequence[str],
    rounds: Sequence[Sequence[Sequence[str]]],
    hosts: Sequence[Mapping[int, str]],
    people: People,
    *,
    header: bool = True,
    order: Sequence[str] | None = None,
    delimiter: str = ",",
    newline: str = "\n",
) -> str:
    """Café rounds as CSV (docs/formats.md): one row per person per round.

    ``rounds[k][t - 1]`` lists who sits at table ``t`` in round ``labels[k]``
    and ``hosts[k]`` maps a table to its host (written first, ``table_role``
    host). The people file's other columns follow, as written. ``order`` (a
    plan file's header) writes the columns in that order instead; ``delimiter``
    and ``newline`` continue a file in its own dialect.
    """
    columns, extra = rotate_columns(people)
    by_id = people.by_id
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    keys = [normalise(c) for c in columns]
    place = None if order is None else [
        keys.index(normalise(c)) if normalise(c) in keys else None for c in order
    ]
    if header:
        writer.writerow(columns if order is None else order)

    def row(label: str, table: int, person_id: str, host: bool) -> list[str]:
        person = by_id[person_id]
        values = [label, str(table), person_id, person.name, person.department,
                  "host" if host else "guest", *(person.values.get(key, "") for key in extra)]
        if place is None:
            return values
        return [values[k] if k is not None else "" for k in place]

    for label, tables, table_hosts in zip(labels, rounds, hosts, strict=True):
        for number, members in enumerate(tables, 1):
            host = table_hosts.get(number)
            writer.writerows(row(label, number, pid, pid == host)
                             for pid in _host_first(members, host))
    return out.getvalue()


def cafe_json(labels: Sequence[str], plan: CafePlan, hosts: Sequence[Mapping[int, str]]) -> str:
    """A café plan as JSON (docs/formats.md): tables with members (host first) and host,
    metrics per round and for the whole café. Empty tables are left out."""
    document = {
        "rounds": [
            {
                "round": _label_value(label),
                "tables": [
                    {
                        "table": number,
                        "members": _host_first(members, table_hosts.get(number)),
                        "host": table_hosts.get(number),
                    }
                    for number, members in enumerate(planned.tables, 1)
                    if members
                ],
                "metrics": {
                    "repeats": planned.repeats,
                    "departments_min": planned.departments_min,
                    "departments_mean": round(planned.departments_mean, 3),
                    "score": planned.score,
                },
            }
            for label, planned, table_hosts in zip(labels, plan.rounds, hosts, strict=True)
        ],
        "metrics": plan.as_dict(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def cafe_text(
    labels: Sequence[str],
    rounds: Sequence[Sequence[Sequence[str]]],
    hosts: Sequence[Mapping[int, str]],
    names: Mapping[str, str],
) -> str:
    """A café plan to print, for a café without phones: a section per table
    (who sits there, round by round, host first), then a line per person, by
    name, with their table in each round ("–" where they were not there).

    ``names`` maps ids to names (an id stands in for a missing name; two people
    with one name are told apart by their ids).
    """
    everyone = sorted({pid for tables in rounds for members in tables for pid in members})
    shown = {pid: names.get(pid) or pid for pid in everyone}
    seen: dict[str, int] = {}
    for name in shown.values():
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
    shown = {pid: f"{name} ({pid})" if seen[name.casefold()] > 1 and name != pid else name
             for pid, name in shown.items()}

    lines: list[str] = []
    count = max((len(tables) for tables in rounds), default=0)
    for number in range(1, count + 1):
        if lines:
            lines.append("")
        lines.append(f"Table {number}")
        for label, tables, table_hosts in zip(labels, rounds, hosts, strict=True):
            members = tables[number - 1] if number <= len(tables) else ()
            host = table_hosts.get(number)
            seated = [shown[pid] + (" (host)" if pid == host else "")
                      for pid in _host_first(members, host)]
            lines.append(f"  Round {label}: {', '.join(seated) if seated else '(nobody)'}")

    seat: dict[str, list[str]] = {pid: ["–"] * len(rounds) for pid in everyone}
    for k, (tables, table_hosts) in enumerate(zip(rounds, hosts, strict=True)):
        for number, members in enumerate(tables, 1):
            for pid in members:
                seat[pid][k] = f"{number} (host)" if table_hosts.get(number) == pid else str(number)
    if lines:
        lines.append("")
    lines.append(f"Tables by person (rounds {', '.join(labels)})")
    for pid in sorted(everyone, key=lambda p: (shown[p].casefold(), p)):
        word = "table" if len(rounds) == 1 else "tables"
        lines.append(f"  {shown[pid]} — {word} {', '.join(seat[pid])}")
    return "\n".join(lines) + "\n"


# -- output files ----------------------------------------------------------------


@dataclass(frozen=True)
class AppendTarget:
    """What appending to an existing CSV file needs: a header (new or empty
    file), a newline first (last line unterminated), and the round labels
    already in it."""

    needs_header: bool
    needs_newline: bool
    labels: frozenset[str]
    #: The file's own header where it differs from ours: rows are then written
    #: in its column order (ours it lacks are left out, its own left empty).
    columns: tuple[str, ...] | None = None


def check_append_target(path: str | os.PathLike[str], columns: Sequence[str]) -> AppendTarget:
    """Check that rows with header ``columns`` can be appended to ``path``.

    A missing or empty file is fine (the header will be written). An existing
    file must be readable history whose header is ``columns`` (compared like all
    headers: case and surrounding spaces ignored).
    """
    label = os.fspath(path)
    target = Path(path)
    if target.is_dir():
        raise InputError(label, "is a directory, not a file")
    if not target.exists():
        return AppendTarget(True, False, frozenset())
    try:
        data = target.read_bytes()
    except OSError as exc:
        raise InputError(label, f"cannot be read: {exc.strerror or exc}") from None
    if not data.strip():
        return AppendTarget(True, False, frozenset())
    table = read_table(path)
    have = list(table.columns)
    want = [normalise(c) for c in columns]
    history = read_history(path)  # refuses a file that is not history
    own = None if have == want else tuple(table.columns.values())
    return AppendTarget(False, not data.endswith(b"\n"), frozenset(history.labels), own)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one step: never a half-written file."""
    target = Path(path)
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def append_text(path: str | os.PathLike[str], text: str) -> None:
    """Append ``text`` (UTF-8) to ``path`` in one write."""
    with open(path, "a", encoding="utf-8", newline="") as stream:
        stream.write(text)
