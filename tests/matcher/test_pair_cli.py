"""``python -m matcher.pair``: exit codes, messages and outputs (docs/commands.md)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from matcher.files import read_history, read_people
from matcher.pair import main

PEOPLE = (
    "id,name,email,department,site,mode,active,team colour\n"
    "a,Ann,ann@example.org,Finance,York,either,yes,red\n"
    "b,Bob,bob@example.org,IT,York,either,,blue\n"
    "c,Cat,cat@example.org,HR,Leeds,either,yes,green\n"
    "d,Dan,dan@example.org,Finance,Leeds,virtual,yes,red\n"
    "e,Eve,eve@example.org,IT,York,either,yes,blue\n"
    "f,Fay,fay@example.org,HR,Leeds,either,yes,green\n"
    "g,Gus,gus@example.org,Estates,York,either,no,grey\n"
)
ACTIVE = {"a", "b", "c", "d", "e", "f"}
FAST = ["--time-limit", "5", "--seed", "1"]


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


# -- happy paths ----------------------------------------------------------------


def test_csv_output_places_every_active_person_once(capsys, people):
    status, out, err = run(capsys, people, *FAST)
    assert status == 0, err
    assert out.splitlines()[0] == (
        "round,group,person_id,name,department,email,site,mode,active,team colour"
    )
    placed = rows(out)
    assert sorted(r["person_id"] for r in placed) == sorted(ACTIVE)
    assert {r["round"] for r in placed} == {"1"}
    groups = {r["group"] for r in placed}
    assert groups == {"1", "2", "3"}
    assert {r["person_id"]: r["team colour"] for r in placed}["c"] == "green"
    assert "\r" not in out
    assert "round 1: 6 people, 3 groups, 0 sitting out, 0 repeats," in err
    assert "% cross-department, score " in err and ", bound " in err and ", gap " in err
    assert "note: 1 inactive person left out" in err


def test_json_output_shape(capsys, people):
    status, out, err = run(capsys, people, "--format", "json", "--rounds", "2", *FAST)
    assert status == 0, err
    document = json.loads(out)
    assert [r["round"] for r in document["rounds"]] == [1, 2]
    for planned in document["rounds"]:
        assert set(planned) == {"round", "groups", "sitting_out", "metrics"}
        assert [g["group"] for g in planned["groups"]] == [1, 2, 3]
        members = [m for g in planned["groups"] for m in g["members"]]
        assert sorted(members + planned["sitting_out"]) == sorted(ACTIVE)
        assert all(isinstance(g["score"], int) for g in planned["groups"])
        assert {"people", "repeats", "score", "bound", "gap"} <= set(planned["metrics"])
    assert err.count("\nround ") + err.startswith("round ") == 2


def test_odd_sitout_and_group_size(capsys, tmp_path):
    people = write(tmp_path, "p.csv", PEOPLE.replace(",no,grey", ",yes,grey"))
    status, out, err = run(capsys, people, "--odd", "sitout", *FAST)
    assert status == 0, err
    sitting = [r["person_id"] for r in rows(out) if r["group"] == ""]
    assert len(sitting) == 1 and "1 sitting out" in err
    status, out, err = run(capsys, people, "--group-size", "3", *FAST)
    assert status == 0, err
    sizes = sorted([r["group"] for r in rows(out)].count(g) for g in ("1", "2"))
    assert sizes == [3, 4]


def test_a_long_programme_of_groups_meets_nobody_twice(capsys, tmp_path):
    """64 people in groups of 4 for 21 rounds: everyone meets everyone else
    exactly once (the rounds are planned together, as a café's rotation)."""
    from itertools import combinations

    people = write(tmp_path, "p.csv", "id,name,email,department\n" + "".join(
        f"p{k},P{k},p{k}@example.org,D{k % 8}\n" for k in range(64)))
    status, out, err = run(capsys, people, "--group-size", "4", "--rounds", "21", *FAST)
    assert status == 0, err
    groups: dict[tuple[str, str], list[str]] = {}
    for row in rows(out):
        groups.setdefault((row["round"], row["group"]), []).append(row["person_id"])
    assert len(groups) == 21 * 16 and all(len(g) == 4 for g in groups.values())
    pairs = [pair for g in groups.values() for pair in combinations(sorted(g), 2)]
    assert len(pairs) == len(set(pairs)) == 64 * 63 // 2
    assert err.count(" 0 repeats") == 21


def test_append_twice_builds_history_that_reads_back(capsys, tmp_path, people):
    history = tmp_path / "history.csv"
    status, _, err = run(capsys, people, "--out", history, "--append", *FAST)
    assert status == 0, err
    status, _, err = run(capsys, people, "--history", history, "--out", history, "--append",
                         *FAST)
    assert status == 0, err
    text = history.read_text(encoding="utf-8")
    assert text.count("round,group,person_id") == 1
    past = read_history(history, set(read_people(people).by_id))
    assert past.labels == ("1", "2")
    pairs = [frozenset(g) for r in past.rounds for g in r.groups]
    assert len(pairs) == len(set(pairs)) == 6  # no repeats between the two rounds


def test_append_follows_the_existing_files_columns(capsys, tmp_path, people):
    out = write(tmp_path, "out.csv", "round,group,person_id,met\n1,1,a\n1,1,b\n")
    status, stdout, err = run(capsys, people, "--history", out, "--out", out, "--append",
                              *FAST)
    assert status == 0, err
    assert "has no column name, department" in err
    lines = out.read_text().splitlines()
    assert lines[:3] == ["round,group,person_id,met", "1,1,a", "1,1,b"]
    assert all(line.startswith("2,") and line.count(",") == 3 for line in lines[3:])
    assert len(read_history(out, set(read_people(people).by_id)).labels) == 2


def test_append_refuses_a_file_that_is_not_history(capsys, tmp_path, people):
    out = write(tmp_path, "out.csv", "name,score\nAnn,3\n")
    status, stdout, err = run(capsys, people, "--out", out, "--append", *FAST)
    assert status == 2
    assert err.startswith(f"error: {out}: ")
    assert out.read_text() == "name,score\nAnn,3\n"


def test_append_refuses_json(capsys, tmp_path, people):
    status, _, err = run(capsys, people, "--out", tmp_path / "o", "--append", "--format", "json")
    assert status == 2 and "--append" in err


def test_rounds_labels_follow_history_and_option(capsys, tmp_path, people):
    history = write(tmp_path, "h.csv", "round,group,person_id\n3,1,a\n3,1,b\nx9,1,c\nx9,1,d\n")
    status, out, _ = run(capsys, people, "--history", history, "--rounds", "2", *FAST)
    assert status == 0
    assert {r["round"] for r in rows(out)} == {"4", "5"}
    status, out, _ = run(capsys, people, "--round", "spring", "--rounds", "2", *FAST)
    assert [r["round"] for r in rows(out)][::6] == ["spring-1", "spring-2"]
    status, _, err = run(capsys, people, "--history", history, "--round", "3", *FAST)
    assert status == 2 and "already has round 3" in err


def test_history_avoids_repeats(capsys, tmp_path, people):
    history = write(tmp_path, "h.csv", "round,group,person_id\n1,1,a\n1,1,b\n")
    status, out, _ = run(capsys, people, "--history", history, *FAST)
    assert status == 0
    group_of = {r["person_id"]: r["group"] for r in rows(out)}
    assert group_of["a"] != group_of["b"]


def test_unknown_columns_and_bom_pass_through(capsys, tmp_path):
    people = write(tmp_path, "p.csv", "\ufeffName,Department,Email,Favourite Biscuit\n"
                   "Ann,Fin,ann@x.org,hobnob\nBob,IT,bob@x.org,bourbon\n")
    status, out, err = run(capsys, people, *FAST)
    assert status == 0, err
    assert out.splitlines()[0] == "round,group,person_id,name,department,Email,Favourite Biscuit"
    assert {r["person_id"]: r["Favourite Biscuit"] for r in rows(out)} == {
        "ann@x.org": "hobnob", "bob@x.org": "bourbon"}


def test_json_people_file(capsys, tmp_path):
    people = write(tmp_path, "people.json", json.dumps([
        {"id": 1, "name": "Ann", "department": "Fin"},
        {"id": 2, "name": "Bob", "department": "IT", "active": True},
    ]))
    status, out, err = run(capsys, people, *FAST)
    assert status == 0, err
    assert sorted(r["person_id"] for r in rows(out)) == ["1", "2"]


def test_seed_makes_output_reproducible(tmp_path):
    people = write(tmp_path, "p.csv", "id,name,department\n" + "".join(
        f"p{i},Person {i},{'ABCD'[i % 4]}\n" for i in range(20)))
    outputs = set()
    for hash_seed in ("1", "2"):  # separate processes: nothing may hang on hash order
        done = subprocess.run(
            [sys.executable, "-m", "matcher.pair", str(people), "--seed", "42", "--rounds", "3"],
            capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_out_file_is_written_and_inputs_are_never_overwritten(capsys, tmp_path, people):
    out = tmp_path / "round.csv"
    status, stdout, _ = run(capsys, people, "--out", out, *FAST)
    assert status == 0 and stdout == ""
    assert len(rows(out.read_text())) == 6
    status, _, err = run(capsys, people, "--out", people, *FAST)
    assert status == 2 and "input file" in err
    assert people.read_text() == PEOPLE


def test_former_participants_in_history_are_noted(capsys, tmp_path, people):
    history = write(tmp_path, "h.csv", "round,group,person_id\n1,1,a\n1,1,zoe\n1,2,b\n1,2,yan\n")
    status, _, err = run(capsys, people, "--history", history, *FAST)
    assert status == 0, err
    assert f"note: {history} names 2 former participants" in err


def test_progress_only_on_a_terminal(capsys, monkeypatch, people):
    _, _, quiet = run(capsys, people, "--rounds", "2", *FAST)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    _, _, chatty = run(capsys, people, "--rounds", "2", *FAST)
    assert len(chatty.splitlines()) > len(quiet.splitlines())


def test_help_documents_every_option(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for option in ("PEOPLE", "--history", "--avoid", "--rounds", "--round", "--group-size",
                   "--odd", "--weights", "--seed", "--time-limit", "--format", "--out",
                   "--append"):
        assert option in out


# -- infeasible -----------------------------------------------------------------


def test_modes_that_cannot_meet_exit_1(capsys, tmp_path):
    people = write(tmp_path, "p.csv", "id,name,department,site,mode\n"
                   "a,Ann,Fin,York,in-person\nb,Bob,IT,Leeds,in-person\n")
    out = tmp_path / "out.csv"
    status, stdout, err = run(capsys, people, "--out", out, *FAST)
    assert status == 1
    assert err.startswith("error: cannot make round: ")
    assert "a (Ann)" in err and "b (Bob)" in err
    assert not out.exists()


def test_avoid_pair_alone_exit_1(capsys, tmp_path):
    people = write(tmp_path, "p.csv", "id,name,department\na,Ann,Fin\nb,Bob,IT\n")
    avoid = write(tmp_path, "avoid.csv", "person_a,person_b\na,b\n")
    status, stdout, err = run(capsys, people, "--avoid", avoid, *FAST)
    assert status == 1 and stdout == ""
    assert "cannot make round" in err and "a (Ann)" in err and "b (Bob)" in err


# -- bad input and usage ----------------------------------------------------------

BAD_INPUTS = [
    # (file, content, row, column, part of the message)
    ("people", "id,department\nx,Fin\n", 1, "name", "no 'name' column"),
    ("people", "id,name\nx,Ann\n", 1, "department", "no 'department' column"),
    ("people", "name,department\nAnn,Fin\n", 1, "id", "neither an 'id' nor an 'email'"),
    ("people", "id,name,department\nx,Ann,Fin\ny,,IT\n", 3, "name", "name is empty"),
    ("people", "id,name,department\nx," + "n" * 201 + ",Fin\n", 2, "name", "at most 200"),
    ("people", "id,name,department\nx,Ann,\n", 2, "department", "department is empty"),
    ("people", "id,name,department\nx,Ann,Fin\nx,Bob,IT\n", 3, "id", "also the id of row 2"),
    ("people", "name,department,EMAIL\nAnn,Fin,a@x.org\nBob,IT,A@x.ORG\n", 3, "EMAIL",
     "also the email of row 2"),
    ("people", "id,name,department,email\nx,Ann,Fin,bob@\n", 2, "email",
     "'bob@' is not an email address"),
    ("people", "id,name,department,mode\nx,Ann,Fin,hybrid\n", 2, "mode", "is not a mode"),
    ("people", "id,name,department,active\nx,Ann,Fin,y\n", 2, "active", "is not yes or no"),
    ("people", "id,name,department,email\n,Ann,Fin,\n", 2, "id", "neither an id nor an email"),
    ("history", "round,group,person_id,date\n1,1,a,yesterday\n", 2, "date", "ISO 8601"),
    ("history", "round,group,person_id,met\n1,1,a,sort of\n", 2, "met", "'sort of' is not"),
    ("history", "round,group\n1,1\n", 1, "person_id", "no 'person_id' column"),
    ("avoid", "person_a,person_b\na,b\nc,zed\n", 3, "person_b", "has the id 'zed'"),
    ("avoid", "person_a,person_b\nb,b\n", 2, "person_b", "cannot avoid themselves"),
]


@pytest.mark.parametrize(("which", "content", "row", "column", "message"), BAD_INPUTS)
def test_bad_input_exits_2_naming_file_row_and_column(
    capsys, tmp_path, people, which, content, row, column, message
):
    path = write(tmp_path, f"{which}.csv", content)
    argv = [path] if which == "people" else [people, f"--{which}", path]
    status, out, err = run(capsys, *argv, *FAST)
    assert status == 2
    assert out == ""
    assert err.startswith(f"error: {path}: row {row}, column {column}: ")
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.csv", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: write(d, "p.csv", "id,name,department\nx,J\xfcrgen,IT\n", "latin-1"),
         "not UTF-8"),
        (lambda d: write(d, "p.csv", ""), "is empty"),
        (lambda d: write(d, "p.csv", "id,name,department\n"), "no people"),
        (lambda d: write(d, "p.csv", "id,name,department,active\nx,Ann,IT,no\n"),
         "no one is active"),
    ],
    ids=["missing", "directory", "not-utf8", "empty", "header-only", "none-active"],
)
def test_unusable_people_file_exits_2(capsys, tmp_path, make, message):
    path = make(tmp_path)
    status, out, err = run(capsys, path)
    assert status == 2 and out == ""
    assert err.startswith(f"error: {path}: ") and message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--rounds", "0"], "--rounds"),
        (["--group-size", "1"], "--group-size"),
        (["--weights", "department=lots"], "--weights"),
        (["--weights", "colour=1"], "--weights"),
        (["--time-limit", "0"], "--time-limit"),
        (["--odd", "evens"], "--odd"),
        (["--format", "xml"], "--format"),
        (["--seed", "x"], "--seed"),
        (["--seed", "-1"], "--seed"),
        (["--append"], "--append"),
    ],
)
def test_bad_usage_exits_2_naming_the_option(capsys, people, argv, option):
    status, out, err = run(capsys, people, *argv)
    assert status == 2 and out == ""
    assert option in err and "Traceback" not in err


def test_output_to_missing_folder_exits_2(capsys, tmp_path, people):
    status, _, err = run(capsys, people, "--out", tmp_path / "nowhere" / "out.csv", *FAST)
    assert status == 2 and "no folder" in err


def test_failed_write_exits_2(capsys, monkeypatch, tmp_path, people):
    def refuse(path, text):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("matcher.pair.write_text", refuse)
    status, _, err = run(capsys, people, "--out", tmp_path / "out.csv", *FAST)
    assert status == 2
    assert err.splitlines()[-1] == f"error: cannot write {tmp_path / 'out.csv'}: Permission denied"


# -- as a real command ----------------------------------------------------------------


def test_command_line_as_a_process(tmp_path, people):
    out = tmp_path / "out.json"
    done = subprocess.run(
        [sys.executable, "-m", "matcher.pair", str(people), "--format", "json", "--out", str(out),
         *FAST],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "round 1: 6 people" in done.stderr
    assert len(json.loads(out.read_text())["rounds"]) == 1

    bad = write(tmp_path, "bad.csv", "id,name,department,email\nx,Ann,Fin,bob@\n")
    done = subprocess.run([sys.executable, "-m", "matcher.pair", str(bad)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == f"error: {bad}: row 2, column email: 'bob@' is not an email address\n"
