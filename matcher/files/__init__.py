"""Read and check the files of docs/formats.md; write planned rounds as CSV or JSON.

By file: :mod:`~matcher.files.tables` (CSV or JSON as records, and
:class:`InputError`), :mod:`~matcher.files.people`, :mod:`~matcher.files.history`
(and avoid lists), :mod:`~matcher.files.plans` (played café rounds, hosts) and
:mod:`~matcher.files.output` (writing rounds, plans and files).

Pure input and output, no matching. Every mistake a user can make in a file
becomes an :class:`InputError` that names the file, the row (the header is row
1) and the column as the user wrote it, so a command line can print one line
and exit 2. Readers return plain data: :class:`People` (the rows as written plus
:class:`solvers.model.Person` objects for the active people), :class:`HistoryFile`
(:class:`solvers.model.PastRound` objects, oldest first) and avoid pairs.
"""

from __future__ import annotations

from matcher.files.history import (
    HistoryFile,
    read_avoid,
    read_history,
)
from matcher.files.output import (
    AppendTarget,
    append_text,
    cafe_csv,
    cafe_json,
    cafe_text,
    check_append_target,
    pair_columns,
    pair_csv,
    pair_json,
    rotate_columns,
    write_text,
)
from matcher.files.people import (
    People,
    PersonRow,
    attribute_key,
    check_people,
    read_people,
)
from matcher.files.plans import (
    PlanFile,
    cafe_hosts,
    plan_order,
    read_plan,
)
from matcher.files.tables import (
    PAIR_COLUMNS,
    ROTATE_COLUMNS,
    InputError,
    Record,
    Table,
    parse_table,
    read_table,
)

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
