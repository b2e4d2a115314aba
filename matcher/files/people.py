"""People files (docs/formats.md): rows as written, and the active people as
the solvers' :class:`solvers.model.Person`."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cached_property

from matcher.files.tables import (
    NOT_PASSED_THROUGH,
    WHOLE_NUMBER,
    InputError,
    Record,
    Table,
    parse_yes_no,
    read_table,
    shown,
)
from matcher.validation import MAX_NAME_LENGTH, looks_like_email
from solvers.model import MODES, Participant


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

    def person(self) -> Participant:
        """This participant as the solvers see them.

        Attributes are compared case-insensitively and with runs of spaces
        collapsed, so "Finance" and "finance " count as one department.
        """
        return Participant(
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
    def persons(self) -> tuple[Participant, ...]:
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

    def extra_columns(self, exclude: Collection[str] = NOT_PASSED_THROUGH) -> dict[str, str]:
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
            problem(f"{shown(email)} is not an email address", "email")
        elif folded in row_of_email:
            problem(f"{shown(email)} is also the email of {unit} {row_of_email[folded]}",
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
            problem(f"{shown(person_id)} is also the id of {unit} {row_of_id[person_id]}",
                    id_key)
    else:
        row_of_id[person_id] = record.number

    mode = _parse_mode(record.get("mode"))
    if mode is None:
        problem(f"{shown(record.get('mode'))} is not a mode: use {', '.join(MODES)} "
                "(empty means either)", "mode")
    active = parse_yes_no(record.get("active"))
    if active is None:
        problem(f"{shown(record.get('active'))} is not yes or no (empty means yes)", "active")
    host = None
    host_text = record.get("host")
    if host_text:
        if not WHOLE_NUMBER.fullmatch(host_text) or int(host_text) < 1:
            problem(f"{shown(host_text)} is not a table number (1, 2, 3, …)", "host")
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
