"""Tables: a CSV or JSON file read as records of text, and the error that
names a file, row and column (docs/formats.md)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: The first columns of ``python -m matcher.pair``'s CSV output (a history file).
PAIR_COLUMNS = ("round", "group", "person_id", "name", "department")
# People columns not copied to a history file: written already, or they would
# mean something else when the output is read back as history.
NOT_PASSED_THROUGH = frozenset({"id", "name", "department", "round", "group", "person_id",
                                 "date", "met"})
#: The first columns of ``python -m matcher.rotate``'s CSV output (a café plan).
ROTATE_COLUMNS = ("round", "table", "person_id", "name", "department", "table_role")
NOT_PASSED_THROUGH_CAFE = NOT_PASSED_THROUGH | {"table", "table_role"}
#: Values of ``table_role``.
TABLE_ROLES = ("host", "guest")

WHOLE_NUMBER = re.compile(r"[0-9]+")


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


def normalise(name: str) -> str:
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
                    key = normalise(written)
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
            key = normalise(written)
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


def shown(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def parse_yes_no(text: str) -> bool | None:
    value = text.strip().lower()
    if value in ("", "yes"):
        return True
    if value == "no":
        return False
    return None
