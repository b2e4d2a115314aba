"""``python -m matcher.rotate``: exit codes, messages and outputs (docs/commands.md)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from matcher.rotate import main
from solvers.rotation import table_sizes

# Twelve active people in four departments, hosts at tables 1 and 2, one inactive.
PEOPLE = (
    "id,name,email,department,site,host,active,team colour\n"
    "a,Ann Smith,ann@example.org,Finance,York,1,yes,red\n"
    "b,Bob Jones,bob@example.org,IT,York,2,,blue\n"
    "c,Cat Lee,cat@example.org,HR,Leeds,,yes,green\n"
    "d,Dan Moss,dan@example.org,Estates,Leeds,,yes,red\n"
    "e,Eve Park,eve@example.org,Finance,York,,yes,blue\n"
    "f,Fay Quinn,fay@example.org,IT,Leeds,,yes,green\n"
    "g,Gus Reid,gus@example.org,HR,York,,yes,grey\n"
    "h,Hal Shaw,hal@example.org,Estates,York,,yes,red\n"
    "i,Ivy Todd,ivy@example.org,Finance,Leeds,,yes,blue\n"
    "j,Jo Underwood,jo@example.org,IT,York,,yes,green\n"
    "k,Kim Vale,kim@example.org,HR,Leeds,,yes,grey\n"
    "l,Lou Ward,lou@example.org,Estates,York,,yes,red\n"
    "m,Max Young,max@example.org,Finance,York,,no,blue\n"
)
ACTIVE = set("abcdefghijkl")
HOSTS = {"a": "1", "b": "2"}
HEADER = ("round,table,person_id,name,department,table_role,email,site,host,active,"
          "team colour")
#: A search bounded by work, not by the clock: quick, and the same plan however
#: busy the machine is (the time limit stays the default, a safety net).
FAST = ["--steps", "20000", "--seed", "1"]
CAFE = ["--tables", "3", "--rounds", "3", *FAST]


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


@pytest.fixture
def people(tmp_path):
    return write(tmp_path, "people.csv", PEOPLE)


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def by_round(placed):
    rounds: dict[str, list[dict[str, str]]] = {}
    for row in placed:
        rounds.setdefault(row["round"], []).append(row)
    return rounds


# -- happy paths ----------------------------------------------------------------


def test_csv_seats_every_active_person_once_per_round_hosts_at_their_table(capsys, people):
    status, out, err = run(capsys, people, *CAFE)
    assert status == 0, err
    assert out.splitlines()[0] == HEADER
    assert "\r" not in out
    rounds = by_round(rows(out))
    assert list(rounds) == ["1", "2", "3"]
    for placed in rounds.values():
        assert sorted(r["person_id"] for r in placed) == sorted(ACTIVE)
        assert sorted(Counter(r["table"] for r in placed).values()) == [4, 4, 4]
        assert {r["table"] for r in placed} == {"1", "2", "3"}
        for row in placed:
            if row["person_id"] in HOSTS:
                assert (row["table"], row["table_role"]) == (HOSTS[row["person_id"]], "host")
            else:
                assert row["table_role"] == "guest"
        assert {r["person_id"]: r["team colour"] for r in placed}["c"] == "green"
    lines = err.splitlines()
    assert "note: 1 inactive person left out" in lines
    round_lines = [line for line in lines if line.startswith("round ")]
    assert len(round_lines) == 3
    assert round_lines[0].startswith("round 1: 3 tables, ")
    assert " repeat" in round_lines[0] and ", departments per table min " in round_lines[0]
    assert " mean " in round_lines[0]
    assert lines[-1].startswith("café: 3 rounds, ")
    assert "(lower bound " in lines[-1] and ", score " in lines[-1] and " s, " in lines[-1]


def test_table_size_gives_tables_as_equal_as_possible(capsys, tmp_path):
    people = write(tmp_path, "p.csv", "id,name,department\n" + "".join(
        f"p{i},Person {i},{'ABCD'[i % 4]}\n" for i in range(11)))
    status, out, err = run(capsys, people, "--table-size", "4", "--rounds", "2", *FAST)
    assert status == 0, err
    for placed in by_round(rows(out)).values():
        sizes = Counter(r["table"] for r in placed)
        assert set(sizes) == {"1", "2", "3"}  # ceil(11 / 4) tables
        assert sorted(sizes.values(), reverse=True) == table_sizes(11, 3) == [4, 4, 3]


def test_json_output_shape(capsys, people):
    status, out, err = run(capsys, people, *CAFE, "--format", "json")
    assert status == 0, err
    document = json.loads(out)
    assert set(document) == {"rounds", "metrics"}
    assert [r["round"] for r in document["rounds"]] == [1, 2, 3]
    for planned in document["rounds"]:
        assert set(planned) == {"round", "tables", "metrics"}
        assert [t["table"] for t in planned["tables"]] == [1, 2, 3]
        assert [t["host"] for t in planned["tables"]] == ["a", "b", None]
        for table in planned["tables"]:
            assert set(table) == {"table", "members", "host"}
            if table["host"] is not None:
                assert table["members"][0] == table["host"]
        members = [m for t in planned["tables"] for m in t["members"]]
        assert sorted(members) == sorted(ACTIVE)
        assert set(planned["metrics"]) == {"repeats", "departments_min", "departments_mean",
                                           "score"}
    assert {"repeats", "repeats_bound", "departments_min", "departments_mean", "score",
            "seconds", "method"} <= set(document["metrics"])


def test_text_format_has_a_section_per_table_and_a_line_per_person(capsys, people):
    status, out, err = run(capsys, people, *CAFE, "--format", "text")
    assert status == 0, err
    lines = out.splitlines()
    for number in (1, 2, 3):
        start = lines.index(f"Table {number}")
        assert [line.split(":")[0].strip() for line in lines[start + 1:start + 4]] == [
            "Round 1", "Round 2", "Round 3"]
    assert lines[lines.index("Table 1") + 1].startswith("  Round 1: Ann Smith (host), ")
    person_lines = [line.strip() for line in lines if " — tables " in line]
    assert len(person_lines) == len(ACTIVE)
    names = [line.split(" — ")[0] for line in person_lines]
    assert names == sorted(names)
    assert "Ann Smith — tables 1 (host), 1 (host), 1 (host)" in person_lines
    assert "Max Young" not in out  # inactive
    seats = next(line for line in person_lines if line.startswith("Cat Lee — "))
    assert all(seat in {"1", "2", "3"} for seat in seats.split(" — tables ")[1].split(", "))


def test_fixed_keeps_played_rounds_byte_for_byte(capsys, tmp_path, people):
    full = tmp_path / "plan.csv"
    status, _, err = run(capsys, people, *CAFE, "--out", full)
    assert status == 0, err
    lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    played = [lines[0], *(line for line in lines[1:] if line.split(",")[0] in ("1", "2"))]
    plan = write(tmp_path, "played.csv", "".join(played))

    # Cat leaves; Nia arrives late.
    changed = "".join(line for line in PEOPLE.splitlines(keepends=True)
                      if not line.startswith("c,"))
    changed += "n,Nia Owen,nia@example.org,HR,York,,yes,gold\n"
    later = write(tmp_path, "later.csv", changed)
    status, out, err = run(capsys, later, "--tables", "3", "--rounds", "4", "--fixed", plan,
                           *FAST)
    assert status == 0, err
    assert out.startswith("".join(played))
    assert out.splitlines(keepends=True)[:len(played)] == played
    rounds = by_round(rows(out))
    assert list(rounds) == ["1", "2", "3", "4"]
    present = (ACTIVE - {"c"}) | {"n"}
    for label in ("3", "4"):
        placed = rounds[label]
        assert sorted(r["person_id"] for r in placed) == sorted(present)
        assert {r["person_id"]: r["table"] for r in placed if r["table_role"] == "host"} == {
            "a": "1", "b": "2"}
    assert "c" in {r["person_id"] for r in rounds["1"]}
    assert "round 1 (played): 3 tables" in err
    assert "café: 2 new rounds (2 played), " in err
    assert "1 late arrival joins from round 3" in err and "kept in the played rounds" in err

    # The printable plan still names the leaver in the played rounds.
    status, out, err = run(capsys, later, "--tables", "3", "--rounds", "4", "--fixed", plan,
                           "--format", "text", *FAST)
    assert status == 0, err
    cat = next(line.strip() for line in out.splitlines() if "Cat Lee — " in line)
    assert cat.endswith(", –, –")
    nia = next(line.strip() for line in out.splitlines() if "Nia Owen — " in line)
    assert nia.startswith("Nia Owen — tables –, –, ")


def test_fixed_plan_may_be_replaced_by_the_longer_plan(capsys, tmp_path, people):
    plan = tmp_path / "plan.csv"
    status, _, err = run(capsys, people, "--tables", "3", "--rounds", "1", *FAST,
                         "--out", plan)
    assert status == 0, err
    before = plan.read_bytes()
    status, _, err = run(capsys, people, "--tables", "3", "--rounds", "2", *FAST,
                         "--fixed", plan, "--out", plan)
    assert status == 0, err
    after = plan.read_bytes()
    assert after.startswith(before) and len(after) > len(before)
    assert {r["round"] for r in rows(after.decode())} == {"1", "2"}
    status, out, err = run(capsys, people, "--tables", "3", "--rounds", "2", *FAST,
                           "--fixed", plan)
    assert status == 0 and out.encode() == after
    assert err.splitlines()[-1] == "café: all 2 rounds played already; nothing to plan"
    status, _, err = run(capsys, people, "--tables", "3", "--rounds", "3", *FAST,
                         "--fixed", plan, "--out", plan, "--format", "json")
    assert status == 2 and "input file" in err
    assert plan.read_bytes() == after


def test_fixed_plan_in_another_dialect_is_continued_in_it(capsys, tmp_path, people):
    plan = write(tmp_path, "plan.csv", HEADER.replace(",", ";") + "\r\n" + "".join(
        f"1;{1 + i % 3};{pid};N;D;{'host' if pid in HOSTS else 'guest'};;;;;\r\n"
        for i, pid in enumerate(sorted(ACTIVE))))
    status, out, err = run(capsys, people, "--tables", "3", "--rounds", "2", "--fixed", plan,
                           *FAST)
    assert status == 0, err
    assert out.startswith(plan.read_bytes().decode())
    assert out.count("\r\n") == out.count("\n") == 1 + 2 * len(ACTIVE)
    assert all(line.startswith("2;") for line in out.splitlines()[1 + len(ACTIVE):])


def test_seed_makes_output_reproducible(tmp_path, people):
    outputs = set()
    for hash_seed in ("1", "2"):  # separate processes: nothing may hang on hash order
        done = subprocess.run(
            [sys.executable, "-m", "matcher.rotate", str(people), "--tables", "3",
             "--rounds", "3", "--seed", "42", "--steps", "20000"],
            capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_history_and_avoid_are_used(capsys, tmp_path, people):
    history = write(tmp_path, "h.csv", "round,group,person_id\n1,1,c\n1,1,d\n")
    avoid = write(tmp_path, "avoid.csv", "person_a,person_b\ne,f\n")
    status, out, err = run(capsys, people, "--tables", "3", "--rounds", "1", "--history",
                           history, "--avoid", avoid, *FAST)
    assert status == 0, err
    table_of = {r["person_id"]: r["table"] for r in rows(out)}
    assert table_of["e"] != table_of["f"]
    assert table_of["c"] != table_of["d"]  # avoidable repeat


def test_out_file_is_written_and_inputs_are_never_overwritten(capsys, tmp_path, people):
    out = tmp_path / "plan.csv"
    status, stdout, _ = run(capsys, people, *CAFE, "--out", out)
    assert status == 0 and stdout == ""
    assert len(rows(out.read_text())) == 3 * len(ACTIVE)
    status, _, err = run(capsys, people, *CAFE, "--out", people)
    assert status == 2 and "input file" in err
    assert people.read_text() == PEOPLE


def test_help_documents_every_option(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for option in ("PEOPLE", "--tables", "--table-size", "--rounds", "--history", "--avoid",
                   "--weights", "--seed", "--time-limit", "--steps", "--fixed", "--format",
                   "--out", "csv", "json", "text"):
        assert option in out


# -- infeasible -----------------------------------------------------------------


def test_avoid_pair_at_the_only_table_exits_1(capsys, tmp_path):
    people = write(tmp_path, "p.csv", "id,name,department\na,Ann,Fin\nb,Bob,IT\nc,Cat,HR\n")
    avoid = write(tmp_path, "avoid.csv", "person_a,person_b\na,b\n")
    out = tmp_path / "plan.csv"
    status, stdout, err = run(capsys, people, "--tables", "1", "--rounds", "2", "--avoid",
                              avoid, "--out", out, *FAST)
    assert status == 1 and stdout == ""
    assert err.startswith("error: cannot plan the café: ")
    assert "avoid rule" in err and "a (Ann)" in err and "b (Bob)" in err
    assert not out.exists()


# -- bad input and usage ----------------------------------------------------------

BAD_PEOPLE = [
    # (people file, options, row, column, part of the message)
    (PEOPLE.replace("York,1,yes", "York,one,yes"), CAFE, 2, "host", "'one' is not a table number"),
    (PEOPLE.replace("York,1,yes", "York,0,yes"), CAFE, 2, "host", "not a table number"),
    (PEOPLE.replace("York,2,,blue", "York,4,,blue"), CAFE, 3, "host",
     "there is no table 4: the café has 3 tables"),
    (PEOPLE.replace("York,2,,blue", "York,5,,blue"), ["--table-size", "3", "--rounds", "1"],
     3, "host", "the café has 4 tables"),
    (PEOPLE.replace("Estates,Leeds,,yes", "Estates,Leeds,1,yes"), CAFE, 5, "host",
     "table 1 has two hosts: rows 2 and 5"),
    # c and k host table 3, e (row 6) and the inactive m table 2: five active hosts.
    (PEOPLE.replace("HR,Leeds,,", "HR,Leeds,3,").replace("Finance,York,,", "Finance,York,2,"),
     CAFE, 6, "host", "5 people host a table, but there are only 3 tables"),
    ("id,name,department\nx,Ann,Fin\nx,Bob,IT\n", CAFE, 3, "id", "also the id of row 2"),
    ("id,name,department,email\nx,Ann,Fin,bob@\n", CAFE, 2, "email", "not an email address"),
    ("id,name\nx,Ann\n", CAFE, 1, "department", "no 'department' column"),
]


@pytest.mark.parametrize(("content", "options", "row", "column", "message"), BAD_PEOPLE)
def test_bad_people_exits_2_naming_file_row_and_column(
    capsys, tmp_path, content, options, row, column, message
):
    path = write(tmp_path, "people.csv", content)
    status, out, err = run(capsys, path, *options)
    assert status == 2 and out == ""
    assert err.startswith(f"error: {path}: row {row}, column {column}: "), err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_fewer_active_people_than_tables_exits_2(capsys, people):
    status, out, err = run(capsys, people, "--tables", "13", "--rounds", "1")
    assert status == 2 and out == ""
    assert err == f"error: {people}: has 12 active people, too few for 13 tables\n"


BAD_FILES = [
    # (option, content, row, column, part of the message)
    ("--history", "round,group,person_id,met\n1,1,a,sort of\n", 2, "met", "'sort of' is not"),
    ("--history", "round,group\n1,1\n", 1, "person_id", "no 'person_id' column"),
    ("--avoid", "person_a,person_b\na,b\nc,zed\n", 3, "person_b", "has the id 'zed'"),
    ("--avoid", "person_a,person_b\nb,b\n", 2, "person_b", "cannot avoid themselves"),
    ("--fixed", HEADER + "\n1,1,a,A,F,host,,,,,\n1,4,c,C,H,guest,,,,,\n", 3, "table",
     "there is no table 4: the café has 3 tables"),
    ("--fixed", HEADER + "\n1,x,a,A,F,host,,,,,\n", 2, "table", "'x' is not a table number"),
    ("--fixed", HEADER + "\n1,1,a,A,F,host,,,,,\n1,1,c,C,H,guest,,,,,\n1,2,c,C,H,guest,,,,,\n",
     4, "person_id", "'c' is at two tables: 1 and 2 in round 1 (rows 3 and 4)"),
    ("--fixed", HEADER + "\n1,1,a,A,F,host,,,,,\n2,1,a,A,F,host,,,,,\n3,1,a,A,F,host,,,,,\n"
     "4,1,a,A,F,host,,,,,\n", 5, "round", "--rounds is 3 (it counts the played rounds too)"),
    ("--fixed", "round,table,person_id\n1,1,a\n", 1, None, "lacks name, department"),
    ("--fixed", "round,person_id\n1,a\n", 1, "table", "no 'table' column"),
]


@pytest.mark.parametrize(("option", "content", "row", "column", "message"), BAD_FILES)
def test_bad_file_exits_2_naming_file_row_and_column(
    capsys, tmp_path, people, option, content, row, column, message
):
    path = write(tmp_path, f"{option[2:]}.csv", content)
    status, out, err = run(capsys, people, *CAFE, option, path)
    assert status == 2 and out == ""
    where = f"row {row}" + (f", column {column}" if column else "")
    assert err.startswith(f"error: {path}: {where}: "), err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--rounds", "2"], "--tables"),
        (["--tables", "3", "--table-size", "4", "--rounds", "2"], "--table-size"),
        (["--tables", "0", "--rounds", "2"], "--tables"),
        (["--table-size", "0", "--rounds", "2"], "--table-size"),
        (["--tables", "3"], "--rounds"),
        (["--tables", "3", "--rounds", "0"], "--rounds"),
        (["--tables", "3", "--rounds", "2", "--format", "xml"], "--format"),
        (["--tables", "3", "--rounds", "2", "--weights", "colour=1"], "--weights"),
        (["--tables", "3", "--rounds", "2", "--time-limit", "0"], "--time-limit"),
        (["--tables", "3", "--rounds", "2", "--steps", "0"], "--steps"),
        (["--tables", "3", "--rounds", "2", "--steps", "many"], "--steps"),
        (["--tables", "3", "--rounds", "2", "--seed", "-1"], "--seed"),
    ],
)
def test_bad_usage_exits_2_naming_the_option(capsys, people, argv, option):
    status, out, err = run(capsys, people, *argv)
    assert status == 2 and out == ""
    assert option in err and "Traceback" not in err


# -- as a real command ----------------------------------------------------------------


def test_command_line_as_a_process(tmp_path, people):
    out = tmp_path / "plan.txt"
    done = subprocess.run(
        [sys.executable, "-m", "matcher.rotate", str(people), *CAFE, "--format", "text",
         "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "round 1: 3 tables" in done.stderr
    assert "Ann Smith — tables 1 (host)" in out.read_text(encoding="utf-8")

    bad = write(tmp_path, "bad.csv", PEOPLE.replace("York,2,,blue", "York,9,,blue"))
    done = subprocess.run([sys.executable, "-m", "matcher.rotate", str(bad), *CAFE],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == (f"error: {bad}: row 3, column host: there is no table 9: "
                           "the café has 3 tables\n")
