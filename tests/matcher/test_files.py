"""Reading and checking people, history and avoid files; writing rounds."""

from __future__ import annotations

import json
import os

import pytest

from matcher.files import (
    InputError,
    check_append_target,
    pair_csv,
    pair_json,
    read_avoid,
    read_history,
    read_people,
    write_text,
)
from solvers.model import Participant, PastRound, RoundMetrics, RoundPlan

PEOPLE = (
    "id,name,email,department,site,mode,active,host,shoe size\n"
    "a,Ann,ann@example.org,Finance,York,,yes,,38\n"
    "b,Bob,BOB@example.org,IT,York,In-Person,,2,44\n"
    "c,Cat,,Finance,,virtual,no,,\n"
    ",Dan,dan@example.org,HR,,either,YES,,41\n"
)


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


@pytest.fixture
def people(tmp_path):
    return read_people(write(tmp_path, "people.csv", PEOPLE))


# -- people ---------------------------------------------------------------------


def test_people_rows_in_file_order_with_original_values(people):
    assert [row.id for row in people.rows] == ["a", "b", "c", "dan@example.org"]
    assert [row.row for row in people.rows] == [2, 3, 4, 5]
    bob = people.rows[1]
    assert (bob.mode, bob.host, bob.active, bob.email) == ("in-person", 2, True, "BOB@example.org")
    assert people.rows[2].active is False
    assert bob.values["shoe size"] == "44"
    assert list(people.columns.values())[-1] == "shoe size"


def test_people_persons_are_the_active_participants(people):
    assert people.persons == (
        Participant("a", "finance", site="york"),
        Participant("b", "it", site="york", mode="in-person"),
        Participant("dan@example.org", "hr"),
    )


def test_extra_columns_leave_out_written_and_history_columns(tmp_path):
    path = write(tmp_path, "p.csv", "ID ,Name,Department,Email,date,Group,Team\nx,X,D,,,,t\n")
    assert list(read_people(path).extra_columns().values()) == ["Email", "Team"]


def test_headers_are_case_insensitive_and_stripped(tmp_path):
    path = write(tmp_path, "p.csv", " NAME , Department ,E-Mail,Email\nAnn,Fin,,ann@x.org\n")
    assert read_people(path).rows[0].id == "ann@x.org"


def test_bom_is_accepted(tmp_path):
    path = write(tmp_path, "p.csv", "id,name,department\nx,Zoë,Fin\n", encoding="utf-8-sig")
    assert read_people(path).rows[0].name == "Zoë"


def test_semicolon_separated_file_is_read(tmp_path):
    path = write(tmp_path, "p.csv", "id;name;department\nx;Ann;Fin\n")
    assert read_people(path).rows[0].department == "Fin"


@pytest.mark.parametrize("name", ["people.json", "people.txt"])
def test_json_people(tmp_path, name):
    data = [
        {"id": 7, "Name": "Ann", "department": "Fin", "active": True, "extra": 1.5},
        {"email": "bob@x.org", "name": "Bob", "department": "IT", "active": False, "site": None},
    ]
    people = read_people(write(tmp_path, name, json.dumps(data)))
    assert [row.id for row in people.rows] == ["7", "bob@x.org"]
    assert [row.active for row in people.rows] == [True, False]
    assert people.rows[0].values["extra"] == "1.5"
    assert list(people.columns.values()) == ["id", "Name", "department", "active", "extra",
                                             "email", "site"]


def test_json_errors_name_item_and_key(tmp_path):
    path = write(tmp_path, "people.json", '[{"name": "Ann", "department": "Fin", "id": [1]}]')
    with pytest.raises(InputError) as caught:
        read_people(path)
    assert (caught.value.row, caught.value.column) == (1, "id")
    assert str(caught.value).startswith(f"{path}: item 1, key id: ")


@pytest.mark.parametrize("document, message", [
    ('{"name": "Ann"}', "must be a JSON list of objects"),
    ('[{"name": "Ann", "department": "Fin"}, "Bob"]', "item 2: is not an object"),
])
def test_json_that_is_not_a_list_of_objects_names_the_item(tmp_path, document, message):
    path = write(tmp_path, "people.json", document)
    with pytest.raises(InputError) as caught:
        read_people(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_invalid_json(tmp_path):
    with pytest.raises(InputError, match="not valid JSON"):
        read_people(write(tmp_path, "people.json", '[{"name": }]'))


BAD_PEOPLE = [
    # (content, row, column, part of the message)
    ("id,department\nx,Fin\n", 1, "name", "no 'name' column"),
    ("id,Name\nx,Ann\n", 1, "department", "no 'department' column"),
    ("name,department\nAnn,Fin\n", 1, "id", "neither an 'id' nor an 'email' column"),
    ("id,name,department\nx,Ann,Fin\ny,  ,Fin\n", 3, "name", "name is empty"),
    ("id,name,department\nx," + "N" * 201 + ",Fin\n", 2, "name", "201 characters"),
    ("id,name,Department\nx,Ann,\n", 2, "Department", "department is empty"),
    ("id,name,department\nx,Ann,Fin\nx,Bob,IT\n", 3, "id", "'x' is also the id of row 2"),
    ("id,name,department,Email\nx,Ann,Fin,a@x.org\ny,Bob,IT,A@X.org\n", 3, "Email",
     "also the email of row 2"),
    ("id,name,department,email\nx,Ann,Fin,bob@\n", 2, "email", "'bob@' is not an email address"),
    ("id,name,department,mode\nx,Ann,Fin,walking\n", 2, "mode", "'walking' is not a mode"),
    ("id,name,department,active\nx,Ann,Fin,maybe\n", 2, "active", "'maybe' is not yes or no"),
    ("id,name,department,email\n,Ann,Fin,\n", 2, "id", "neither an id nor an email"),
    ("name,department,email\nAnn,Fin,\n", 2, "email", "neither an id nor an email"),
    ("id,name,department,host\nx,Ann,Fin,0\n", 2, "host", "not a table number"),
    ("id,name,department\nx,Ann,Fin,,surplus\n", 2, None, "has 5 values"),
    ("id,name,department,ID\nx,Ann,Fin,y\n", 1, "ID", "appears twice"),
]


@pytest.mark.parametrize(("content", "row", "column", "message"), BAD_PEOPLE)
def test_bad_people_file_names_row_and_column(tmp_path, content, row, column, message):
    path = write(tmp_path, "people.csv", content)
    with pytest.raises(InputError) as caught:
        read_people(path)
    error = caught.value
    assert (error.file, error.row, error.column) == (str(path), row, column)
    assert message in error.message
    where = f"row {row}, column {column}" if column else f"row {row}"
    assert str(error) == f"{path}: {where}: {error.message}"


def test_error_line_format(tmp_path):
    path = write(tmp_path, "people.csv", "id,name,department,email\nx,A,F,a@x.org\n"
                 "y,B,F,b@x.org\nz,C,F,c@x.org\nw,D,F,d@x.org\nv,E,F,e@x.org\nu,F,F,bob@\n")
    with pytest.raises(InputError) as caught:
        read_people(path)
    assert str(caught.value) == f"{path}: row 7, column email: 'bob@' is not an email address"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d / "absent.csv", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: write(d, "p.csv", "id,name,department\nx,Andr\xe9,Fin\n", "latin-1"),
         "not UTF-8"),
        (lambda d: write(d, "p.csv", ""), "is empty"),
        (lambda d: write(d, "p.csv", "\n  \n"), "is empty"),
        (lambda d: write(d, "p.csv", "id,name,department\n"), "no people"),
        (lambda d: write(d, "p.csv", "id,name,department\n\n\n"), "no people"),
    ],
    ids=["missing", "directory", "not-utf8", "empty", "blank", "header-only", "blank-rows"],
)
def test_unreadable_people_file(tmp_path, setup, message):
    path = setup(tmp_path)
    with pytest.raises(InputError) as caught:
        read_people(path)
    assert caught.value.file == str(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}: ")


# -- history --------------------------------------------------------------------


def test_history_groups_sit_outs_and_met(tmp_path):
    path = write(tmp_path, "history.csv",
                 "round,group,person_id,met,note\n"
                 "1,1,a,yes,\n1,1,b,,\n1,2,c,no,ill\n1,2,d,no,\n1,,e,,\n"
                 "2,1,a,,\n2,1,c,,\n2,1,d,no,\n2,2,b,,\n2,2,e,,\n")
    history = read_history(path, {"a", "b", "c", "d", "e"})
    assert history.labels == ("1", "2")
    assert history.rounds == (
        PastRound(groups=(("a", "b"),), sitting_out=("e",)),
        PastRound(groups=(("a", "c"), ("b", "e"))),
    )
    assert history.former == frozenset()


def test_history_rounds_ordered_by_date_else_first_appearance(tmp_path):
    path = write(tmp_path, "history.csv",
                 "round,group,person_id,date\n"
                 "late,1,a,2024-03-01\nlate,1,b,2024-03-01\n"
                 "early,1,a,2024-01-01T09:00+01:00\nearly,1,c,\n"
                 "undated,1,b,\nundated,1,c,\n"
                 "middle,1,c,20240201\n")
    assert read_history(path).labels == ("early", "middle", "late", "undated")


def test_history_without_dates_keeps_first_appearance(tmp_path):
    path = write(tmp_path, "h.csv", "Round,Group,Person_ID\n10,1,a\n9,1,b\n10,1,c\n2,1,a\n")
    assert read_history(path).labels == ("10", "9", "2")


def test_history_former_participants_are_listed_and_left_out(tmp_path):
    path = write(tmp_path, "h.csv", "round,group,person_id\n1,1,a\n1,1,gone\n1,2,b\n1,2,c\n"
                 "1,,left\n")
    history = read_history(path, {"a", "b", "c"})
    assert history.former == {"gone", "left"}
    assert history.rounds == (PastRound(groups=(("b", "c"),)),)


def test_cafe_plan_is_history(tmp_path):
    path = write(tmp_path, "plan.csv",
                 "round,table,person_id,table_role\n1,1,a,host\n1,1,b,guest\n")
    assert read_history(path).rounds == (PastRound(groups=(("a", "b"),)),)


@pytest.mark.parametrize(
    ("content", "row", "column", "message"),
    [
        ("round,person_id\n1,a\n", 1, "group", "no 'group' column"),
        ("round,group\n1,1\n", 1, "person_id", "no 'person_id' column"),
        ("round,group,person_id\n1,1,a\n,1,b\n", 3, "round", "round is empty"),
        ("round,group,person_id\n1,1,\n", 2, "person_id", "person_id is empty"),
        ("round,group,person_id,Date\n1,1,a,2024-13-01\n", 2, "Date", "not an ISO 8601 date"),
        ("round,group,person_id,met\n1,1,a,yes\n1,1,b,perhaps\n", 3, "met", "'perhaps' is not"),
    ],
)
def test_bad_history_names_row_and_column(tmp_path, content, row, column, message):
    path = write(tmp_path, "history.csv", content)
    with pytest.raises(InputError) as caught:
        read_history(path)
    assert (caught.value.row, caught.value.column) == (row, column)
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{path}: row {row}, column {column}: ")


# -- avoid ----------------------------------------------------------------------


def test_avoid_pairs_by_id_or_email(tmp_path, people):
    path = write(tmp_path, "avoid.csv", "person_a,person_b,reason\nb,a,\nDAN@example.org,c,x\n")
    assert read_avoid(path, people) == {("a", "b"), ("c", "dan@example.org")}


@pytest.mark.parametrize(
    ("content", "row", "column", "message"),
    [
        ("person_a\na\n", 1, "person_b", "no 'person_b' column"),
        ("person_a,person_b\na,b\nb,zed\n", 3, "person_b", "no one in"),
        ("Person_A,person_b\nzed,a\n", 2, "Person_A", "has the id 'zed'"),
        ("person_a,person_b\na,\n", 2, "person_b", "person_b is empty"),
        ("person_a,person_b\na,a\n", 2, "person_b", "cannot avoid themselves"),
    ],
)
def test_bad_avoid_names_row_and_column(tmp_path, people, content, row, column, message):
    path = write(tmp_path, "avoid.csv", content)
    with pytest.raises(InputError) as caught:
        read_avoid(path, people)
    assert (caught.value.row, caught.value.column) == (row, column)
    assert message in caught.value.message


# -- writing --------------------------------------------------------------------


def planned(groups, sitting_out=(), scores=None):
    metrics = RoundMetrics(people=5, groups=len(groups), sitting_out=len(sitting_out), repeats=0,
                           repeats_bound=0, cross_department_share=1.0, score=8, bound=8,
                           gap=0.0, seconds=0.01, method="exact")
    return RoundPlan(tuple(groups), tuple(scores or [4] * len(groups)), tuple(sitting_out), metrics)


def test_pair_csv(people):
    text = pair_csv(["7", "8"], [planned([("a", "b")], ["dan@example.org"]),
                                 planned([("dan@example.org", "a")], ["b"])], people)
    assert text.splitlines() == [
        "round,group,person_id,name,department,email,site,mode,active,host,shoe size",
        "7,1,a,Ann,Finance,ann@example.org,York,,yes,,38",
        "7,1,b,Bob,IT,BOB@example.org,York,In-Person,,2,44",
        "7,,dan@example.org,Dan,HR,dan@example.org,,either,YES,,41",
        "8,1,dan@example.org,Dan,HR,dan@example.org,,either,YES,,41",
        "8,1,a,Ann,Finance,ann@example.org,York,,yes,,38",
        "8,,b,Bob,IT,BOB@example.org,York,In-Person,,2,44",
    ]
    assert "\r" not in text


def test_pair_json():
    document = json.loads(pair_json(["3", "spring"], [planned([("a", "b")], ["c"], [6]),
                                                     planned([("a", "c")], ["b"])]))
    first = document["rounds"][0]
    assert first["round"] == 3 and document["rounds"][1]["round"] == "spring"
    assert first["groups"] == [{"group": 1, "members": ["a", "b"], "score": 6}]
    assert first["sitting_out"] == ["c"]
    assert first["metrics"]["score"] == 8


def test_check_append_target(tmp_path):
    columns = ["round", "group", "person_id", "name", "department"]
    new = check_append_target(tmp_path / "new.csv", columns)
    assert new.needs_header and not new.labels
    path = write(tmp_path, "h.csv", "Round,group,person_id,name,department\n4,1,a,A,F")
    existing = check_append_target(path, columns)
    assert (existing.needs_header, existing.needs_newline, existing.labels) == (False, True, {"4"})
    assert existing.columns is None
    # Another header: rows follow the file's own columns.
    assert check_append_target(path, [*columns, "email"]).columns == (
        "Round", "group", "person_id", "name", "department")
    other = write(tmp_path, "o.csv", "name,score\nAnn,3")
    with pytest.raises(InputError):
        check_append_target(other, columns)


def test_write_text_replaces_in_one_step(tmp_path):
    path = tmp_path / "out.csv"
    write_text(path, "one\n")
    write_text(path, "two\n")
    assert path.read_text() == "two\n"
    assert os.listdir(tmp_path) == ["out.csv"]
