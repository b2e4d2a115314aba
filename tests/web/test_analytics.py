"""Mixing analytics: the figures of a small trial and a small café
checked by hand, the pages and downloads for the demo data, the JSON API
against its OpenAPI description, and privacy, ownership and escaping."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import xml.etree.ElementTree as ET

import pytest

from matcher.accounts import create_organiser, hash_token
from matcher.analytics import (
    CHARTS,
    DRAWN,
    Coverage,
    Heatmap,
    NotYetMixed,
    Participation,
    RoundParticipation,
    RoundTies,
    analytics_csv,
    cafe_analytics,
    trial_analytics,
    trial_figures,
)
from matcher.cafes import create_cafe, next_round
from matcher.demo import DEMO_EMAIL, DEMO_PASSWORD, load_demo
from matcher.models import Attendee, Cafe, Group, GroupMember, Membership, Person, Round, Trial
from matcher.team import make_owner
from tests.support.app import CAFE_STEPS, app_on_copy, build_once
from tests.support.openapi import check_response
from web.charts import HEAT, chart_view, contrast

SVG = "{http://www.w3.org/2000/svg}"
PASSWORD = "owner pass 1"

# -- a small trial, by hand ---------------------------------------------------------------

#: Who takes part: key → (name, department as typed, paused).
TRIAL_PEOPLE = {
    "ann": ("Ann", "Nursing", False),
    "amy": ("Amy", "  nursing ", False),  # the same department, typed differently
    "bob": ("Bob", "IT", False),
    "ben": ("Ben", "IT", False),
    "zoe": ("Zoe", "IT", False),
    "cat": ("Cat", "HR", False),
    "dan": ("Dan", "Finance", True),
    "eve": ("Eve", "Finance", False),
    "hal": ("Hal", "Research", False),  # joined after the rounds
}
#: Rounds: groups of (person, met) (None: not yet said); then who sat out.
TRIAL_ROUNDS = [
    ([[("ann", True), ("bob", True)],
      [("amy", False), ("ben", None)],  # Amy says it did not happen: nobody met
      [("cat", None), ("eve", None), ("dan", None)]], []),
    ([[("ann", True), ("amy", True)],
      [("bob", True), ("cat", False), ("zoe", True)],  # Cat did not come: Bob met Zoe
      [("ben", None), ("eve", None)]], ["dan"]),
    ([[("ann", None), ("bob", None)],  # a repeat: no new tie
      [("cat", True), ("eve", True)],  # a repeat
      [("ben", True), ("amy", True)]], ["dan", "zoe"]),  # their first real meeting
]


def _organiser(db, email="owner@example.org"):
    organiser, token = create_organiser(db, email, "Owner", password=PASSWORD)
    return organiser, token


def _person(key: str, name: str, department: str) -> Person:
    return Person(public_id=f"id{key}", email=f"{key}@example.org", name=name,
                  department=department)


def build_trial(db, organiser, people=TRIAL_PEOPLE, rounds=TRIAL_ROUNDS,
                name="Hand-checked trial") -> tuple[Trial, dict[str, str]]:
    """The trial of ``people`` and ``rounds``; and each person's secret token."""
    trial = Trial(organiser=organiser, name=name, join_code=secrets.token_urlsafe(9),
                  weights={})
    db.add(trial)
    make_owner(db, trial, organiser)
    persons, tokens = {}, {}
    for key, (name_, department, paused) in people.items():
        persons[key] = _person(key, name_, department)
        tokens[key] = secrets.token_urlsafe(32)
        db.add(Membership(trial=trial, person=persons[key], paused=paused,
                          token_hash=hash_token(tokens[key])))
    for number, (groups, sitting_out) in enumerate(rounds, 1):
        stored = Round(trial=trial, number=number)
        db.add(stored)
        for g, members in enumerate(groups, 1):
            group = Group(round=stored, number=g)
            for key, met in members:
                db.add(GroupMember(round=stored, group=group, person=persons[key], met=met))
        for key in sitting_out:
            db.add(GroupMember(round=stored, group=None, person=persons[key]))
    db.flush()
    db.refresh(trial)
    return trial, tokens


@pytest.fixture
def db(app):
    with app.extensions["matcher.sessions"]() as session:
        yield session


def test_a_small_trial_by_hand(db):
    organiser, _ = _organiser(db)
    trial, _ = build_trial(db, organiser)
    db.commit()
    a = trial_analytics(trial)
    assert a.kind == "trial" and a.name == "Hand-checked trial"

    # Most participants first, then by name; "  nursing " is Nursing.
    h = a.heatmap
    assert [(d.label, d.participants) for d in h.departments] == [
        ("IT", 3), ("Finance", 2), ("Nursing", 2), ("HR", 1), ("Research", 1)]
    assert h.meetings == (
        # IT Fin Nur HR Res
        (1, 1, 3, 0, 0),  # IT: Bob–Zoe; Ben–Eve; Ann–Bob twice and Amy–Ben
        (1, 1, 0, 3, 0),  # Finance: Dan–Eve; Cat–Eve twice and Cat–Dan
        (3, 0, 1, 0, 0),  # Nursing: Ann–Amy
        (0, 3, 0, 0, 0),
        (0, 0, 0, 0, 0),
    )
    assert (h.total, h.cross_department, h.largest) == (10, 7, 3)

    # A tie is new the first time a cross-department pair meets (Amy–Ben: round
    # 3, since round 1's meeting did not happen); repeats add none.
    assert a.ties == (RoundTies(1, meetings=4, cross_department=3, new_ties=3, ties=3),
                      RoundTies(2, meetings=3, cross_department=1, new_ties=1, ties=4),
                      RoundTies(3, meetings=3, cross_department=3, new_ties=1, ties=5))

    assert a.coverage == Coverage(participants=9, met_outside=7, departments=5,
                                  department_pairs=10, department_pairs_met=3)
    assert a.coverage.met_outside_share == pytest.approx(7 / 9)
    assert a.coverage.department_pairs_share == pytest.approx(0.3)

    # Zoe met only Bob (IT, as she is); Hal has met nobody. By department, then name.
    assert a.not_yet_mixed == (NotYetMixed("Zoe", "IT", 1), NotYetMixed("Hal", "Research", 0))

    assert a.participation == Participation(
        participants=9, active=8, paused=1, left=0, groups=9,
        met_yes=10, met_no=2, met_unanswered=8,
        rounds=(RoundParticipation(1, groups=3, in_groups=7, sitting_out=0,
                                   met_yes=2, met_no=1, met_unanswered=4),
                RoundParticipation(2, groups=3, in_groups=7, sitting_out=1,
                                   met_yes=4, met_no=1, met_unanswered=2),
                RoundParticipation(3, groups=3, in_groups=6, sitting_out=2,
                                   met_yes=4, met_no=0, met_unanswered=2)))
    # The totals are the dashboard's (one count, one place).
    figures = trial_figures(trial)
    assert (figures.participants, figures.active, figures.paused, figures.introductions,
            figures.met_yes, figures.met_no, figures.met_unanswered) == (9, 8, 1, 9, 10, 2, 8)


def test_the_csv_of_each_chart(db):
    organiser, _ = _organiser(db)
    trial, _ = build_trial(db, organiser)
    a = trial_analytics(trial)

    def rows(chart):
        return list(csv.reader(io.StringIO(analytics_csv(a, chart))))

    assert rows("heatmap") == [
        ["department", "IT", "Finance", "Nursing", "HR", "Research"],
        ["IT", "1", "1", "3", "0", "0"], ["Finance", "1", "1", "0", "3", "0"],
        ["Nursing", "3", "0", "1", "0", "0"], ["HR", "0", "3", "0", "0", "0"],
        ["Research", "0", "0", "0", "0", "0"]]
    assert rows("ties") == [["round", "meetings", "cross_department", "new_ties", "ties"],
                            ["1", "4", "3", "3", "3"], ["2", "3", "1", "1", "4"],
                            ["3", "3", "3", "1", "5"]]
    assert rows("coverage") == [["measure", "count", "of", "share"],
                                ["participants_met_outside_department", "7", "9", "0.7778"],
                                ["department_pairs_met", "3", "10", "0.3000"]]
    participation = rows("participation")
    assert participation[:9] == [["round", "measure", "value"], ["", "participants", "9"],
                                 ["", "active", "8"], ["", "paused", "1"], ["", "left", "0"],
                                 ["", "groups", "9"], ["", "met_yes", "10"],
                                 ["", "met_no", "2"], ["", "met_unanswered", "8"]]
    assert ["2", "sitting_out", "1"] in participation and ["3", "in_groups", "6"] in participation
    assert rows("not_yet_mixed") == [["name", "department", "met"], ["Zoe", "IT", "1"],
                                     ["Hal", "Research", "0"]]
    with pytest.raises(KeyError):
        analytics_csv(a, "pie")


def test_a_trial_with_no_rounds_and_nobody(db):
    organiser, _ = _organiser(db)
    trial, _ = build_trial(db, organiser, people={}, rounds=[], name="Empty")
    a = trial_analytics(trial)
    assert a.heatmap.departments == () and a.ties == () and a.not_yet_mixed == ()
    assert a.coverage.met_outside_share is None and a.coverage.department_pairs_share is None
    for chart in CHARTS:
        assert analytics_csv(a, chart).count("\n") >= 1


# -- a small café, by hand ---------------------------------------------------------------

def build_cafe(db, organiser) -> Cafe:
    """Six at two tables for two rounds (departments A, A, B, B, C, C), and a
    seventh who came late and left before sitting down."""
    cafe = create_cafe(db, organiser, {"name": "Hand-checked café", "tables": 2, "rounds": 2})
    people = {}
    for key, department in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B"), ("c1", "C"),
                            ("c2", "C"), ("a3", "A")):
        # A person's details elsewhere differ from what they gave at the café.
        people[key] = _person(key, f"Someone {key}", "Elsewhere")
        db.add(Attendee(cafe=cafe, person=people[key], name=key.upper(), department=department,
                        present=key != "a3", token_hash=hash_token(secrets.token_urlsafe(32))))
    for number, tables in enumerate(([["a1", "b1", "c1"], ["a2", "b2", "c2"]],
                                     [["a1", "a2", "b1"], ["b2", "c1", "c2"]]), 1):
        stored = Round(cafe=cafe, number=number)
        db.add(stored)
        for t, keys in enumerate(tables, 1):
            table = Group(round=stored, number=t)
            for key in keys:
                db.add(GroupMember(round=stored, group=table, person=people[key]))
    cafe.status, cafe.current_round = "running", 2
    db.flush()
    db.refresh(cafe)
    return cafe


def test_a_small_cafe_by_hand(db):
    organiser, _ = _organiser(db)
    cafe = build_cafe(db, organiser)
    db.commit()
    a = cafe_analytics(cafe)
    assert a.kind == "cafe"
    assert [(d.label, d.participants) for d in a.heatmap.departments] == [
        ("A", 3), ("B", 2), ("C", 2)]
    # Round 1: every table has one of each; round 2: A1 A2 B1 | B2 C1 C2.
    assert a.heatmap.meetings == ((1, 4, 2), (4, 0, 4), (2, 4, 1))
    assert a.ties == (RoundTies(1, 6, 6, 6, 6), RoundTies(2, 6, 4, 2, 8))
    assert a.coverage == Coverage(participants=7, met_outside=6, departments=3,
                                  department_pairs=3, department_pairs_met=3)
    # Names and departments as given at the café.
    assert a.not_yet_mixed == (NotYetMixed("A3", "A", 0),)
    assert a.participation == Participation(
        participants=7, active=6, paused=0, left=1, groups=4, met_yes=0, met_no=0,
        met_unanswered=12,
        rounds=(RoundParticipation(1, 2, 6, 0, 0, 0, 6), RoundParticipation(2, 2, 6, 0, 0, 0, 6)))


def test_a_cafe_run_by_the_service_agrees_with_its_tables(db):
    """Three rounds planned and played by matcher.cafes: every pair at a table met."""
    demo = load_demo(db)
    cafe = demo.cafe
    for _ in range(3):
        next_round(db, cafe, seed=1, steps=CAFE_STEPS)
    db.commit()
    db.refresh(cafe)
    a = cafe_analytics(cafe)
    department = {at.person_id: at.department for at in cafe.attendees}
    pairs = [(x, y) for stored in cafe.played for table in stored.groups
             for k, x in enumerate(table.members) for y in table.members[k + 1:]]
    assert a.heatmap.total == len(pairs) == sum(t.meetings for t in a.ties)
    assert a.heatmap.cross_department == sum(
        department[x.person_id] != department[y.person_id] for x, y in pairs)
    first = {frozenset((x.person_id, y.person_id)) for x, y in pairs
             if department[x.person_id] != department[y.person_id]}
    assert a.ties[-1].ties == len(first)
    assert a.participation.participants == 22 and len(a.participation.rounds) == 3


# -- pages and downloads for the demo ------------------------------------------------------

def _load_demo(app, client) -> dict:
    """The demo data with two café rounds played: the ids the tests need."""
    with app.extensions["matcher.sessions"]() as session:
        loaded = load_demo(session)
        for _ in range(2):
            next_round(session, loaded.cafe, seed=1, steps=CAFE_STEPS)
        session.commit()
        return {"trial": loaded.trial.id, "cafe": loaded.cafe.id, "code": loaded.cafe.code,
                "token": loaded.organiser_token, "tokens": loaded.participant_tokens,
                "emails": [m.person.email for m in loaded.trial.memberships],
                "public_ids": [m.person.public_id for m in loaded.trial.memberships]}


@pytest.fixture(scope="module")
def built_demo(module_databases, tmp_path_factory):
    """The demo, loaded once per module (each test works on a copy)."""
    return build_once(module_databases, tmp_path_factory.mktemp("demo"), _load_demo)


@pytest.fixture
def demo_app(built_demo, databases, outbox):
    """The app on a fresh copy of the demo."""
    with app_on_copy(databases, built_demo[0], outbox) as made:
        yield made


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def demo(built_demo, demo_client):
    """The demo's ids, and its organiser signed in (in ``demo_client``)."""
    reply = demo_client.post("/organiser/login", data={"email": DEMO_EMAIL,
                                                       "password": DEMO_PASSWORD})
    assert reply.status_code == 303
    return built_demo[1]


def _svg(data: bytes) -> ET.Element:
    """A downloaded chart: well-formed XML, an accessible SVG image."""
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text and desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return root


@pytest.mark.parametrize("kind", ["trials", "cafes"])
def test_an_organiser_sees_and_downloads_the_analytics_of_the_demo(demo_client, demo, kind):
    base = f"/organiser/{kind}/{demo['trial' if kind == 'trials' else 'cafe']}/analytics"
    page = demo_client.get(base)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    # Every chart is drawn in the page, with its title, description and downloads.
    assert len(re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" role="img"', html)) == 4
    for chart in DRAWN:
        assert f'id="{chart}-title"' in html and f'id="{chart}-desc"' in html
        assert f'href="{base}/{chart}.svg"' in html and f'href="{base}/{chart}.csv"' in html
    assert f'href="{base}/not_yet_mixed.csv"' in html
    assert "Nursing" in html and "<table>" in html  # the numbers as tables, too

    for chart in DRAWN:
        reply = demo_client.get(f"{base}/{chart}.svg")
        assert reply.status_code == 200 and reply.mimetype == "image/svg+xml"
        assert reply.headers["Content-Disposition"].startswith("attachment; filename=")
        assert reply.headers["Content-Disposition"].endswith(f'-{chart}.svg"')
        assert "default-src 'none'" in reply.headers["Content-Security-Policy"]
        assert reply.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        _svg(reply.data)
    for chart in CHARTS:
        reply = demo_client.get(f"{base}/{chart}.csv")
        assert reply.status_code == 200 and reply.mimetype == "text/csv"
        assert reply.headers["Content-Disposition"].endswith(f'-{chart}.csv"')
        assert list(csv.reader(io.StringIO(reply.get_data(as_text=True))))[0]


def test_the_demo_trials_figures_hold_together(demo_client, demo):
    base = f"/organiser/trials/{demo['trial']}/analytics"
    heatmap = list(csv.reader(io.StringIO(demo_client.get(f"{base}/heatmap.csv").get_data(
        as_text=True))))
    assert len(heatmap) == 13 and heatmap[0][1] == "Nursing"  # 12 departments, the largest first
    cells = [[int(v) for v in row[1:]] for row in heatmap[1:]]
    assert all(cells[i][j] == cells[j][i] for i in range(12) for j in range(12))
    ties = list(csv.DictReader(io.StringIO(demo_client.get(f"{base}/ties.csv").get_data(
        as_text=True))))
    assert [t["round"] for t in ties] == ["1", "2", "3", "4"]
    total = sum(cells[i][j] for i in range(12) for j in range(i, 12))
    assert total == sum(int(t["meetings"]) for t in ties)
    assert int(ties[-1]["ties"]) == sum(int(t["new_ties"]) for t in ties)
    svg = _svg(demo_client.get(f"{base}/heatmap.svg").data)
    cell_texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Nursing" in cell_texts and str(max(max(row) for row in cells)) in cell_texts


def test_links_to_the_analytics(demo_client, demo):
    trial_page = demo_client.get(f"/organiser/trials/{demo['trial']}").get_data(as_text=True)
    assert f'href="/organiser/trials/{demo["trial"]}/analytics"' in trial_page
    console = demo_client.get(f"/organiser/cafes/{demo['cafe']}").get_data(as_text=True)
    assert f'href="/organiser/cafes/{demo["cafe"]}/analytics"' in console
    dashboard = demo_client.get("/organiser/").get_data(as_text=True)
    assert f'href="/organiser/trials/{demo["trial"]}/analytics"' in dashboard


def test_the_api_gives_the_analytics_as_described(demo_client, demo):
    auth = {"Authorization": f"Bearer {demo['token']}"}
    for path in (f"/api/v1/trials/{demo['trial']}/analytics",
                 f"/api/v1/cafes/{demo['code']}/analytics"):
        reply = demo_client.get(path, headers=auth)
        assert reply.status_code == 200
        check_response("GET", path, reply)
        body = reply.get_json()
        assert body["heatmap"]["total"] == sum(t["meetings"] for t in body["ties"])
        for chart in CHARTS:
            one = demo_client.get(f"{path}/{chart}.csv", headers=auth)
            assert one.status_code == 200 and one.mimetype == "text/csv"
            check_response("GET", f"{path}/{chart}.csv", one)
        for status, url, headers in ((401, path, {}), (404, f"{path}/pie.csv", auth),
                                     (401, f"{path}/ties.csv", {})):
            refused = demo_client.get(url, headers=headers)
            assert refused.status_code == status
            check_response("GET", url, refused)
    body = demo_client.get(f"/api/v1/trials/{demo['trial']}/analytics", headers=auth).get_json()
    assert body["kind"] == "trial" and len(body["heatmap"]["departments"]) == 12
    assert body["participation"]["participants"] == 145
    assert len(body["ties"]) == 4
    assert demo_client.get("/api/v1/trials/999999/analytics", headers=auth).status_code == 404
    assert demo_client.get("/api/v1/cafes/NOCAFE/analytics", headers=auth).status_code == 404


def test_only_the_organiser_sees_them(demo_app, demo_client, demo):
    with demo_app.extensions["matcher.sessions"]() as session:
        _, other = create_organiser(session, "other@example.org", "Other", password=PASSWORD)
        session.commit()
    urls = [f"/organiser/trials/{demo['trial']}/analytics",
            f"/organiser/trials/{demo['trial']}/analytics/heatmap.svg",
            f"/organiser/cafes/{demo['cafe']}/analytics",
            f"/organiser/cafes/{demo['cafe']}/analytics/not_yet_mixed.csv",
            # Its earlier spelling, in links people saved.
            f"/organiser/cafes/{demo['cafe']}/analytics/not-yet-mixed.csv"]
    for url in urls:
        assert demo_client.get(url).status_code == 200
    base = f"/organiser/trials/{demo['trial']}/analytics"
    assert demo_client.get(f"{base}/pie.svg").status_code == 404
    # The list is a table, not a chart: no picture of it.
    assert demo_client.get(f"{base}/not_yet_mixed.svg").status_code == 404
    assert demo_client.get(f"{base}/ties.pdf").status_code == 404
    assert demo_client.get("/organiser/trials/999999/analytics").status_code == 404
    demo_client.post("/organiser/logout")
    for url in urls:
        reply = demo_client.get(url)
        assert reply.status_code == 302 and "/organiser/login" in reply.headers["Location"]
    demo_client.post("/organiser/login", data={"email": "other@example.org", "password": PASSWORD})
    for url in urls:
        assert demo_client.get(url).status_code == 403
    # A participant's token is no organiser's.
    participant = {"Authorization": f"Bearer {next(iter(demo['tokens'].values()))}"}
    assert demo_client.get(f"/api/v1/trials/{demo['trial']}/analytics",
                      headers=participant).status_code == 401
    assert demo_client.get(f"/api/v1/trials/{demo['trial']}/analytics",
                      headers={"Authorization": f"Bearer {other}"}).status_code == 403


def test_no_emails_tokens_or_ids_in_any_output(demo_client, demo):
    outputs = []
    for kind, key in (("trials", "trial"), ("cafes", "cafe")):
        base = f"/organiser/{kind}/{demo[key]}/analytics"
        outputs.append(demo_client.get(base).get_data(as_text=True))
        outputs += [demo_client.get(f"{base}/{c}.svg").get_data(as_text=True) for c in DRAWN]
        outputs += [demo_client.get(f"{base}/{c}.csv").get_data(as_text=True) for c in CHARTS]
    auth = {"Authorization": f"Bearer {demo['token']}"}
    for path in (f"/api/v1/trials/{demo['trial']}/analytics",
                 f"/api/v1/cafes/{demo['code']}/analytics"):
        outputs.append(demo_client.get(path, headers=auth).get_data(as_text=True))
        outputs += [demo_client.get(f"{path}/{c}.csv", headers=auth).get_data(as_text=True)
                    for c in CHARTS]
    text = "\n".join(outputs)
    assert "Nursing" in text and "@" not in text
    assert not any(email in text for email in demo["emails"])
    assert not any(token in text for token in demo["tokens"].values())
    assert demo["token"] not in text
    assert not any(re.search(rf"\b{re.escape(pid)}\b", text) for pid in demo["public_ids"])


def test_hostile_names_and_departments_are_escaped(app, client):
    people = {"x": ("=HYPERLINK(\"http://evil\")", "<script>alert(1)</script>", False),
              "y": ("Yan", "IT & \"Digital\"", False),
              "z": ("<b>Zed</b>", "<script>alert(1)</script>", False)}
    rounds = [([[("x", True), ("z", True)]], ["y"])]
    with app.extensions["matcher.sessions"]() as session:
        organiser, token = _organiser(session)
        trial, _ = build_trial(session, organiser, people, rounds, name="<i>Trial</i>")
        session.commit()
        trial_id = trial.id
    client.post("/organiser/login", data={"email": "owner@example.org", "password": PASSWORD})
    base = f"/organiser/trials/{trial_id}/analytics"
    html = client.get(base).get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Zed</b>" not in html and "<i>Trial</i>" not in html
    for chart in DRAWN:
        data = client.get(f"{base}/{chart}.svg").data
        assert b"<script" not in data
        _svg(data)  # well-formed: every name and department escaped
    heatmap = client.get(f"{base}/heatmap.svg").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in heatmap
    labels = {t.text for t in ET.fromstring(heatmap.encode()).iter(f"{SVG}text")}
    assert "<script>alert(1)</script>" in labels and 'IT & "Digital"' in labels
    # CSV: a name starting like a formula is quoted for spreadsheets.
    unmixed = list(csv.reader(io.StringIO(client.get(f"{base}/not_yet_mixed.csv").get_data(
        as_text=True))))
    assert ["'=HYPERLINK(\"http://evil\")", "<script>alert(1)</script>", "1"] in unmixed
    body = client.get(f"/api/v1/trials/{trial_id}/analytics",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    # JSON keeps names as they are (it is no spreadsheet).
    assert "=HYPERLINK(\"http://evil\")" in {p["name"] for p in body["not_yet_mixed"]}
    assert json.dumps(body)  # and valid


# -- the drawing ---------------------------------------------------------------------------

def test_every_heatmap_colour_keeps_its_text_readable():
    departments = tuple(_department(k) for k in range(4))
    counts = ((0, 1, 5, 9), (1, 13, 17, 20), (5, 17, 2, 0), (9, 20, 0, 3))
    from matcher.analytics import Analytics, Coverage

    a = Analytics("trial", "T", Heatmap(departments, counts), (), Coverage(0, 0, 4, 6, 5), (),
                  Participation(0, 0, 0, 0, 0, 0, 0, 0, ()))
    layout = chart_view(a, "heatmap")["layout"]
    fills = {cell["fill"] for cell in layout["cells"]}
    assert len(fills) == len(HEAT) + 1  # white for none, then each step
    for item in layout["cells"] + layout["legend"]:
        assert contrast(item["ink"], item["fill"]) >= 4.5, item
    assert [item["text"] for item in layout["legend"]] == ["0", "1–4", "5–8", "9–12", "13–16",
                                                           "17–20"]


def _department(k):
    from matcher.analytics import Department

    return Department(f"d{k}", f"Department {k}", 1)
