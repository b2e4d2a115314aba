"""Read and check the files of docs/formats.md; write planned rounds as CSV or JSON.

Pure input and output, no matching. Every mistake a user can make in a file
becomes an :class:`InputError` that names the file, the row (the header is row
1) and the column as the user wrote it, so a command line can print one line
and exit 2. Readers return plain data: :class:`People` (the rows as written plus
:class:`solvers.model.Person` objects for the active people), :class:`HistoryFile`
(:class:`solvers.model.PastRound` objects, oldest first) and avoid pairs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Collection, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from matcher.validation import MAX_NAME_LENGTH, looks_like_email
from solvers.model import MODES, PastRound, Person, Round, pair_key

if TYPE_CHECKING:
    from solvers.rotation import CafePlan

__all__ = [
    "PAIR_COLUMNS",
    "ROTATE_COLUMNS",
    "AppendTarget",
    "HistoryFile",
    "InputError",
    "People",
    "PersonRow",
    "PlanFile",
    "Record",
    "Table",
    "append_text",
    "attribute_key",
    "cafe_csv",
    "cafe_hosts",
    "cafe_json",
    "cafe_text",
    "check_append_target",
    "check_people",
    "pair_columns",
    "pair_csv",
    "pair_json",
    "parse_table",
    "plan_order",
    "read_avoid",
    "read_history",
    "read_people",
    "read_plan",
    "read_table",
    "rotate_columns",
    "write_text",
]

#: The first columns of ``python -m matcher.pair``'s CSV output (a history file).
PAIR_COLUMNS = ("round", "group", "person_id", "name", "department")
# People columns not copied to a history file: written already, or they would
# mean something else when the output is read back as history.
_NOT_PASSED_THROUGH = frozenset({"id", "name", "department", "round", "group", "person_id",
                                 "date", "met"})
#: The first columns of ``python -m matcher.rotate``'s CSV output (a café plan).
ROTATE_COLUMNS = ("round", "table", "person_id", "name", "department", "table_role")
_NOT_PASSED_THROUGH_CAFE = _NOT_PASSED_THROUGH | {"table", "table_role"}
#: Values of ``table_role``.
TABLE_ROLES = ("host", "guest")

# Loose on purpose: it catches slips ("bob@", "bob.example.org"), not every RFC case.
_INTEGER = re.compile(r"[0-9]+")


class InputError(Exception):
    """A mistake in an input file, located for the user.

    ``str()`` is one line, e.g.
    ``people.csv: row 7, column email: 'bob@' is not an email address``. ``row``
    counts the header as row 1 (for a JSON file it is the item number, and the
    line says "item" and "key"); ``row`` and ``column`` are ``None`` where they do
    not apply (a missing file, a file that is not UTF-8).
    """

    def __init__(
        self,
        file: str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        json_items: bool = False,
    ):
        super().__init__(message)
        self.file = file
        self.row = row
        self.column = column
        self.message = message
        self.json_items = json_items

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"{'item' if self.json_items else 'row'} {self.row}")
        if self.column is not None:
            where.append(f"{'key' if self.json_items else 'column'} {self.column}")
        place = f"{self.file}: {', '.join(where)}" if where else self.file
        return f"{place}: {self.message}"


# -- tables: CSV or JSON, as records of text ----------------------------------


@dataclass(frozen=True)
class Record:
    """One row of a file: its number (header = row 1; JSON: item number) and its
    values by normalised column name, as written (not stripped)."""

    number: int
    values: Mapping[str, str]
    #: The row exactly as written in a CSV file, line ending included ("" for JSON).
    text: str = field(default="", compare=False, repr=False)

    def get(self, key: str) -> str:
        """The value of column ``key``, stripped ("" where absent)."""
        return self.values.get(key, "").strip()


@dataclass(frozen=True)
class Table:
    """A file read as records.

    ``columns`` maps each normalised column name (lower case, no surrounding
    spaces) to the name as the user wrote it, in file order.
    """

    file: str
    columns: Mapping[str, str]
    records: tuple[Record, ...]
    is_json: bool = False
    #: CSV only: the header row exactly as written (line ending included), the
    #: delimiter and the line ending, so a file can be continued in its own dialect.
    header_text: str = field(default="", compare=False, repr=False)
    delimiter: str = ","
    newline: str = "\n"

    def error(self, message: str, record: Record | int | None = None,
              key: str | None = None) -> InputError:
        """An :class:`InputError` at ``record`` (or a row number) and column ``key``."""
        row = record.number if isinstance(record, Record) else record
        column = self.columns.get(key, key) if key is not None else None
        return InputError(self.file, message, row=row, column=column, json_items=self.is_json)

    def require(self, *keys: str) -> None:
        """Fail unless every column in ``keys`` is present."""
        for key in keys:
            if key not in self.columns:
                raise self.missing(key)

    def missing(self, key: str, message: str | None = None) -> InputError:
        """The error for a required column ``key`` that the file lacks."""
        if self.is_json:
            message = message or f"no item has a {key!r} key"
            return InputError(self.file, message, column=key, json_items=True)
        message = message or f"there is no {key!r} column"
        hint = ""
        if len(self.columns) == 1 and "," not in next(iter(self.columns.values()), ""):
            hint = " (is the file comma-separated?)"
        return InputError(self.file, message + hint, row=1, column=key)


def _read_text(path: str | os.PathLike[str]) -> str:
    """The file's text, decoded as UTF-8 (a BOM is dropped)."""
    label = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(label, "no such file") from None
    except IsADirectoryError:
        raise InputError(label, "is a directory, not a file") from None
    except PermissionError:
        raise InputError(label, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise InputError(label, f"cannot be read: {exc.strerror or exc}") from None
    return _decode(label, data)


def _decode(label: str, data: bytes) -> str:
    """A file's bytes as UTF-8 text (a BOM is dropped); an error names ``label``."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(label, "is UTF-16 text; save it as UTF-8 (\"CSV UTF-8\")")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            label,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as UTF-8 (\"CSV UTF-8\")",
        ) from None
    if not text.strip():
        raise InputError(label, "is empty: expected a header row")
    return text


def _normalise(name: str) -> str:
    return name.strip().lower()


def _parse_csv(label: str, text: str) -> Table:
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        # Spreadsheets in some locales save with ';'; tab-separated text is common too.
        delimiter = next((d for d in (";", "\t") if d in first_line), ",")
    consumed: list[str] = []

    def lines():
        # csv.reader pulls exactly the lines of one row before returning it, so
        # what was pulled since the last row is that row's text as written.
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    header_text = ""
    number = 0
    header: list[tuple[int, str]] | None = None  # (position, key) of named columns
    columns: dict[str, str] = {}
    records: list[Record] = []
    try:
        for fields in reader:
            number += 1  # blank lines count, so numbers match the spreadsheet's rows
            raw = "".join(consumed)
            consumed.clear()
            if header is None:
                if not any(f.strip() for f in fields):
                    continue
                header_text = raw
                header = []
                for position, written in enumerate(fields):
                    written = written.strip()
                    key = _normalise(written)
                    if not key:
                        continue  # an unnamed column (e.g. a trailing comma)
                    if key in columns:
                        raise InputError(label, "this column appears twice in the header",
                                         row=number, column=written)
                    columns[key] = written
                    header.append((position, key))
                width = len(fields)
                continue
            if not any(f.strip() for f in fields):
                continue
            if len(fields) > width and any(f.strip() for f in fields[width:]):
                raise InputError(
                    label,
                    f"has {len(fields)} values but the header has {width} columns "
                    "(is a value with a comma missing its quotes?)",
                    row=number,
                )
            values = {key: fields[pos] if pos < len(fields) else "" for pos, key in header}
            records.append(Record(number, values, raw))
    except csv.Error as exc:
        raise InputError(label, f"is not valid CSV: {exc}", row=number + 1) from None
    if header is None:
        raise InputError(label, "is empty: expected a header row")
    newline = "\r\n" if header_text.endswith("\r\n") else "\n"
    return Table(label, columns, tuple(records), header_text=header_text, delimiter=delimiter,
                 newline=newline)


def _json_text(value: object) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    return None


def _parse_json(label: str, text: str) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            label, f"is not valid JSON (line {exc.lineno}, character {exc.colno}): {exc.msg}"
        ) from None
    if not isinstance(data, list):
        raise InputError(label, "must be a JSON list of objects, one per person")
    columns: dict[str, str] = {}
    records = []
    for number, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise InputError(label, "is not an object", row=number, json_items=True)
        values: dict[str, str] = {}
        for raw_key, raw_value in item.items():
            written = str(raw_key).strip()
            key = _normalise(written)
            if not key:
                continue
            if key in values:
                raise InputError(label, "this key appears twice", row=number, column=written,
                                 json_items=True)
            value = _json_text(raw_value)
            if value is None:
                raise InputError(label, f"must be text or a number, not {type(raw_value).__name__}",
                                 row=number, column=written, json_items=True)
            values[key] = value
            columns.setdefault(key, written)
        records.append(Record(number, values))
    return Table(label, columns, tuple(records), is_json=True)


def read_table(path: str | os.PathLike[str], *, allow_json: bool = False) -> Table:
    """Read a CSV file (or, with ``allow_json``, a JSON list of objects) as records.

    A file is JSON if its name ends in ``.json`` or its text starts with ``[``.
    Raises :class:`InputError` for a missing, unreadable, non-UTF-8 or empty file
    and for malformed CSV or JSON.
    """
    return parse_table(os.fspath(path), _read_text(path), allow_json=allow_json)


def parse_table(label: str, data: str | bytes, *, allow_json: bool = False) -> Table:
    """:func:`read_table` for a file's contents (an upload), named ``label`` in errors."""
    text = _decode(label, data) if isinstance(data, bytes) else data
    if not text.strip():
        raise InputError(label, "is empty: expected a header row")
    if allow_json and (label.lower().endswith(".json") or text.lstrip().startswith("[")):
        return _parse_json(label, text)
    return _parse_csv(label, text)


# -- people --------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    """One row of a people file, checked.

    Text fields are stripped; ``values`` keeps every column as written (by
    normalised column name) so unknown columns can be passed through.
    """

    row: int
    id: str
    name: str
    email: str
    department: str
    organisation: str
    site: str
    role: str
    mode: str
    host: int | None
    active: bool
    values: Mapping[str, str]

    def person(self) -> Person:
        """This participant as the solvers see them.

        Attributes are compared case-insensitively and with runs of spaces
        collapsed, so "Finance" and "finance " count as one department.
        """
        return Person(
            self.id,
            attribute_key(self.department),
            attribute_key(self.organisation),
            attribute_key(self.site),
            attribute_key(self.role),
            self.mode,
        )


def attribute_key(value: str) -> str:
    """How a mixing attribute is compared: case-insensitive, runs of spaces as one."""
    return " ".join(value.split()).casefold()


@dataclass(frozen=True)
class People:
    """A people file: every row in file order, and the active participants."""

    file: str
    columns: Mapping[str, str]
    rows: tuple[PersonRow, ...]
    is_json: bool = False

    @property
    def active_rows(self) -> tuple[PersonRow, ...]:
        return tuple(row for row in self.rows if row.active)

    @property
    def persons(self) -> tuple[Person, ...]:
        """The active participants, in file order."""
        return tuple(row.person() for row in self.rows if row.active)

    @cached_property
    def by_id(self) -> Mapping[str, PersonRow]:
        """Every row (active or not) by id."""
        return {row.id: row for row in self.rows}

    @cached_property
    def _by_email(self) -> Mapping[str, PersonRow]:
        return {row.email.casefold(): row for row in self.rows if row.email}

    def find(self, text: str) -> PersonRow | None:
        """The row whose id is ``text``, else whose email is ``text`` (any case)."""
        return self.by_id.get(text) or self._by_email.get(text.casefold())

    def extra_columns(self, exclude: Collection[str] = _NOT_PASSED_THROUGH) -> dict[str, str]:
        """Columns to pass through to output (normalised name → as written), in
        file order, leaving out the normalised names in ``exclude``."""
        return {key: written for key, written in self.columns.items() if key not in exclude}


def _parse_mode(text: str) -> str | None:
    mode = text.strip().lower().replace("_", "-").replace(" ", "-")
    if not mode:
        return "either"
    if mode == "inperson":
        mode = "in-person"
    return mode if mode in MODES else None


def _parse_yes_no(text: str) -> bool | None:
    value = text.strip().lower()
    if value in ("", "yes"):
        return True
    if value == "no":
        return False
    return None


def _show(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def read_people(path: str | os.PathLike[str]) -> People:
    """Read and check a people file (CSV, or JSON list of objects); docs/formats.md.

    Raises :class:`InputError` at the first problem: a missing column, an empty
    or over-long name, an empty department, a malformed or duplicate email, a
    duplicate id, a row with neither id nor email, an unknown ``mode``, a bad
    ``active`` or ``host`` value, or a file with no people.
    """
    people, errors = check_people(read_table(path, allow_json=True))
    if errors:
        raise errors[0]
    return people


def check_people(table: Table) -> tuple[People, list[InputError]]:
    """Check every row of a people table (docs/formats.md); for an import that lists
    all the problems at once.

    Returns the rows without problems and every problem found, in file order
    (within a row, in column order). A problem with the whole file (no people,
    a missing column) is raised as :class:`InputError`.
    """
    if not table.records:
        raise InputError(table.file, "is an empty list: no people" if table.is_json
                         else "has a header but no people")
    table.require("name", "department")
    if "id" not in table.columns and "email" not in table.columns:
        what = "key" if table.is_json else "column"
        raise table.missing("id", f"there is neither an 'id' nor an 'email' {what}")

    rows: list[PersonRow] = []
    errors: list[InputError] = []
    row_of_id: dict[str, int] = {}
    row_of_email: dict[str, int] = {}
    for record in table.records:
        problems: list[InputError] = []
        row = _person_row(table, record, row_of_id, row_of_email, problems)
        if problems:
            errors.extend(problems)
        else:
            rows.append(row)
    return People(table.file, table.columns, tuple(rows), table.is_json), errors


def _person_row(table: Table, record: Record, row_of_id: dict[str, int],
                row_of_email: dict[str, int], problems: list[InputError]) -> PersonRow:
    """One checked row; each problem is added to ``problems``."""
    unit = "item" if table.is_json else "row"

    def problem(message: str, key: str) -> None:
        problems.append(table.error(message, record, key))

    name = record.get("name")
    if not name:
        problem("name is empty", "name")
    elif len(name) > MAX_NAME_LENGTH:
        problem(f"name has {len(name)} characters; at most {MAX_NAME_LENGTH} are allowed",
                "name")
    department = record.get("department")
    if not department:
        problem("department is empty", "department")

    email = record.get("email")
    if email:
        folded = email.casefold()
        if not looks_like_email(email):
            problem(f"{_show(email)} is not an email address", "email")
        elif folded in row_of_email:
            problem(f"{_show(email)} is also the email of {unit} {row_of_email[folded]}",
                    "email")
        else:
            row_of_email[folded] = record.number

    person_id = record.get("id")
    id_key = "id"
    if not person_id and email:
        person_id, id_key = email, "email"
    if not person_id:
        problem("this person has neither an id nor an email",
                "id" if "id" in table.columns else "email")
    elif person_id in row_of_id:
        if id_key == "id" or not problems:
            problem(f"{_show(person_id)} is also the id of {unit} {row_of_id[person_id]}",
                    id_key)
    else:
        row_of_id[person_id] = record.number

    mode = _parse_mode(record.get("mode"))
    if mode is None:
        problem(f"{_show(record.get('mode'))} is not a mode: use {', '.join(MODES)} "
                "(empty means either)", "mode")
    active = _parse_yes_no(record.get("active"))
    if active is None:
        problem(f"{_show(record.get('active'))} is not yes or no (empty means yes)", "active")
    host = None
    host_text = record.get("host")
    if host_text:
        if not _INTEGER.fullmatch(host_text) or int(host_text) < 1:
            problem(f"{_show(host_text)} is not a table number (1, 2, 3, …)", "host")
        else:
            host = int(host_text)

    return PersonRow(
        row=record.number,
        id=person_id,
        name=name,
        email=email,
        department=department,
        organisation=record.get("organisation"),
        site=record.get("site"),
        role=record.get("role"),
        mode=mode or "either",
        host=host,
        active=bool(active),
        values=record.values,
    )


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
        met = _parse_yes_no(record.get("met"))
        if met is None:
            raise table.error(
                f"{_show(record.get('met'))} is not yes, no or empty", record, "met"
            )
        moment = None
        if date_text := record.get("date"):
            moment = _parse_date(date_text)
            if moment is None:
                raise table.error(
                    f"{_show(date_text)} is not an ISO 8601 date (like 2024-05-31)",
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
                raise table.error(f"no one in {people.file} has the id {_show(text)}", record, key)
            ids.append(row.id)
        if ids[0] == ids[1]:
            raise table.error(
                f"{_show(ids[0])} is person_a too: a person cannot avoid themselves",
                record, "person_b",
            )
        pairs.add(pair_key(ids[0], ids[1]))
    return frozenset(pairs)


# -- writing rounds ------------------------------------------------------------


def pair_columns(people: People) -> tuple[list[str], list[str]]:
    """The header of ``matcher.pair``'s CSV output, and the normalised names of
    the people columns passed through (in the same order)."""
    extra = people.extra_columns()
    return [*PAIR_COLUMNS, *extra.values()], list(extra)


def _label_value(label: str) -> int | str:
    return int(label) if _INTEGER.fullmatch(label) and str(int(label)) == label else label


def pair_csv(
    labels: Sequence[str],
    rounds: Sequence[Round],
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
    keys = [_normalise(c) for c in columns]
    place = None if order is None else [
        keys.index(_normalise(c)) if _normalise(c) in keys else None for c in order
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


def pair_json(labels: Sequence[str], rounds: Sequence[Round]) -> str:
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


# -- cafés: hosts, played rounds, plans --------------------------------------------


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
        if not _INTEGER.fullmatch(text) or int(text) < 1:
            raise table.error(f"{_show(text)} is not a table number (1, 2, 3, …)", record,
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
            raise table.error(f"{_show(record.get('table_role'))} is not host or guest",
                              record, "table_role")

        this = rounds.setdefault(label, _PlayedSoFar())
        if person in this.where:
            seated, row = this.where[person]
            where = f"table {number} twice" if seated == number else (
                f"two tables: {seated} and {number}")
            raise table.error(
                f"{_show(person)} is at {where} in round {label} (rows {row} and "
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


def rotate_columns(people: People) -> tuple[list[str], list[str]]:
    """The header of ``matcher.rotate``'s CSV output, and the normalised names of
    the people columns passed through (in the same order)."""
    extra = people.extra_columns(_NOT_PASSED_THROUGH_CAFE)
    return [*ROTATE_COLUMNS, *extra.values()], list(extra)


def plan_order(plan: PlanFile, columns: Sequence[str]) -> tuple[str, ...]:
    """The plan file's columns (as written), provided they are ``columns`` in some
    order (case and surrounding spaces ignored), so new rows can follow them."""
    have = list(plan.table.columns)
    want = [_normalise(c) for c in columns]
    if sorted(have) != sorted(want):
        missing = [c for c in columns if _normalise(c) not in have]
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
    keys = [_normalise(c) for c in columns]
    place = None if order is None else [
        keys.index(_normalise(c)) if _normalise(c) in keys else None for c in order
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
    want = [_normalise(c) for c in columns]
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
