"""Output escaping: people named ``<script>alert(1)</script>`` and
``{{7*7}}`` (departments, organisations, trial and café names, questions
likewise) are shown as text everywhere: the sign-up and personal pages, the
organiser's trial page and dashboard, the café's join and participant pages,
the host console, the printable plans, the big screen, the Socket.IO payloads
(raw text: the scripts put it in with ``textContent``), and the exports (the
literal text: CSV, JSON, GraphML). Never markup, never a template evaluated:
``49`` is nowhere where ``{{7*7}}`` was given.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import networkx as nx
import pytest
from markupsafe import escape

from matcher.accounts import create_organiser

API = "/api/v1"
STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"

XSS = "<script>alert(1)</script>"
XSS_DEPARTMENT = "<img src=x onerror=alert(2)>"
XSS_ORGANISATION = '"><svg onload=alert(3)>'
SSTI = "{{7*7}}"
SSTI_DEPARTMENT = "{{7*'7'}}"
SSTI_ORGANISATION = "{{ config }}"
TRIAL_NAME = "<i>Coffee</i> {% if 1 %}yes{% endif %} {{7*7}}"
CAFE_NAME = "<i>Café</i> {{7*7}} <script>alert(5)</script>"
QUESTIONS = ["<script>alert(6)</script>?", "{{7*7}} or {{7*'7'}}?"]
HOSTILE = [XSS, XSS_DEPARTMENT, XSS_ORGANISATION, SSTI, SSTI_DEPARTMENT, SSTI_ORGANISATION,
           TRIAL_NAME, CAFE_NAME, *QUESTIONS]
#: What a template would make of the template-like texts, were it to evaluate them.
EVALUATED = re.compile(r"(?<![\w.:,/#%-])(49|7777777)(?![\w.:,/%-])|<Config|&lt;Config")


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def assert_text_only(html: str, *shown: str) -> None:
    """``html`` shows each of ``shown`` as escaped text, carries none of the
    hostile texts as markup, and evaluated none of them."""
    for text in shown:
        assert str(escape(text)) in html, f"{text!r} is not shown (escaped) on the page"
    for text in HOSTILE:
        if "<" in text or '"' in text:
            assert text not in html, f"{text!r} is in the page as markup"
    for marker in ("<script>alert", "<img src=x", "<svg onload", "<i>Coffee", "<i>Café"):
        assert marker not in html
    # The QR codes' SVG paths are numbers; nothing of the people's text is in them.
    visible = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    found = EVALUATED.search(visible)
    assert found is None, (
        f"a template was evaluated: …{visible[found.start() - 80:found.end() + 80]}…")


@pytest.fixture
def setup(app, client):
    """An organiser (signed in on ``client``), a trial with ``<script>`` and
    ``{{7*7}}`` who met twice, and a café with them and two more, in round 1."""
    app.config["ROUND_TIME_LIMIT"] = 2.0
    app.config["CAFE_TIME_LIMIT"] = 0.5
    with app.extensions["matcher.sessions"]() as db:
        _, token = create_organiser(db, "ann@example.org", "Ann", password="correct horse")
        db.commit()
    signed_in = client.post("/organiser/login", data={"email": "ann@example.org",
                                                      "password": "correct horse"})
    assert signed_in.status_code == 303
    org = auth(token)

    def ok(reply, status=201):
        assert reply.status_code == status, reply.get_data(as_text=True)
        return reply.get_json()

    trial = ok(client.post(f"{API}/trials", json={"name": TRIAL_NAME,
                                                  "confirm_email": False}, headers=org))
    people = {}
    for key, name, department in (("xss", XSS, XSS_DEPARTMENT),
                                  ("ssti", SSTI, SSTI_DEPARTMENT)):
        people[key] = ok(client.post(f"{API}/trials/{trial['id']}/signups", json={
            "join_code": trial["join_code"], "name": name, "department": department,
            "email": f"{key}@example.org", "organisation": XSS_ORGANISATION,
            "site": SSTI_ORGANISATION, "role": XSS}))
    for seed in (1, 2):
        ok(client.post(f"{API}/trials/{trial['id']}/rounds", json={"publish": True,
                                                                  "seed": seed}, headers=org))

    cafe = ok(client.post(f"{API}/cafes", headers=org, json={
        "name": CAFE_NAME, "tables": 2, "rounds": 2, "questions": QUESTIONS, "hosts": [SSTI]}))
    attendees = {}
    for key, name, department, organisation in (
            ("xss", XSS, XSS_DEPARTMENT, XSS_ORGANISATION),
            ("ssti", SSTI, SSTI_DEPARTMENT, SSTI_ORGANISATION),
            ("zed", "Plain Zed", "IT", ""), ("wyn", "Plain Wyn", "HR", "")):
        attendees[key] = ok(client.post(f"{API}/cafes/{cafe['code']}/participants", json={
            "name": name, "department": department, "organisation": organisation}))
    return {"token": token, "trial": trial, "people": people, "cafe": cafe,
            "attendees": attendees}


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_trial_pages_show_the_text(client, setup):
    trial, people = setup["trial"], setup["people"]
    page = client.get(f"/join/{trial['join_code']}").get_data(as_text=True)
    assert_text_only(page, TRIAL_NAME)
    # A form sent back with a problem shows what was typed, as text.
    again = client.post(f"/join/{trial['join_code']}", data={
        "name": XSS, "email": "not an email", "department": SSTI_DEPARTMENT,
        "organisation": SSTI, "site": XSS_ORGANISATION})
    assert again.status_code == 400
    assert_text_only(again.get_data(as_text=True), XSS, SSTI_DEPARTMENT, SSTI, XSS_ORGANISATION)

    mine = client.get(_path(people["xss"]["me_url"])).get_data(as_text=True)
    assert_text_only(mine, TRIAL_NAME, XSS, SSTI, SSTI_DEPARTMENT)
    theirs = client.get(_path(people["ssti"]["me_url"])).get_data(as_text=True)
    assert_text_only(theirs, TRIAL_NAME, SSTI, XSS, XSS_DEPARTMENT)

    organiser = f"/organiser/trials/{trial['id']}"
    with_people = (organiser + "?preview=1", organiser + "/participants")
    for url in (organiser, *with_people, organiser + "/rounds", organiser + "/settings",
                "/organiser/"):
        reply = client.get(url)
        assert reply.status_code == 200
        assert_text_only(reply.get_data(as_text=True), TRIAL_NAME,
                         *((XSS, SSTI) if url in with_people else ()))
    # An import's problems quote the file's cells: as text.
    bad = f"name,email,department\n{SSTI},{XSS},{XSS_DEPARTMENT}\n".encode()
    reply = client.post(organiser + "/participants",
                        data={"file": (io.BytesIO(bad), "people.csv")},
                        content_type="multipart/form-data")
    assert reply.status_code == 400
    assert_text_only(reply.get_data(as_text=True), XSS)


def test_cafe_pages_show_the_text(client, setup):
    cafe, attendees, org = setup["cafe"], setup["attendees"], auth(setup["token"])
    assert_text_only(client.get(f"/cafe/{cafe['code']}").get_data(as_text=True), CAFE_NAME)
    again = client.post(f"/cafe/{cafe['code']}", data={
        "name": XSS, "department": SSTI_DEPARTMENT, "organisation": SSTI, "email": "nope"})
    assert again.status_code == 400
    assert_text_only(again.get_data(as_text=True), XSS, SSTI_DEPARTMENT, SSTI)
    wrong = client.get("/cafe", query_string={"code": XSS})
    assert wrong.status_code == 404
    assert_text_only(wrong.get_data(as_text=True), XSS)

    screen = _path(cafe["screen_url"])
    console = f"/organiser/cafes/{cafe['id']}"
    assert_text_only(client.get(screen).get_data(as_text=True), CAFE_NAME)
    assert_text_only(client.get(console).get_data(as_text=True), CAFE_NAME, XSS, SSTI,
                     XSS_DEPARTMENT, SSTI_DEPARTMENT)
    reply = client.post(f"{API}/cafes/{cafe['code']}/rounds/next", json={"seed": 3},
                        headers=org)
    assert reply.status_code == 200

    everyone = (XSS, SSTI, XSS_DEPARTMENT, SSTI_DEPARTMENT)
    assert_text_only(client.get(screen).get_data(as_text=True), CAFE_NAME, QUESTIONS[0],
                     *everyone)
    assert_text_only(client.get(console).get_data(as_text=True), CAFE_NAME, QUESTIONS[0],
                     QUESTIONS[1], *everyone)
    printed = client.get(console + "/print")
    assert printed.status_code == 200
    assert_text_only(printed.get_data(as_text=True), CAFE_NAME, *everyone)
    details = client.get(f"{API}/cafes/{cafe['code']}", headers=org).get_json()
    names = {a["participant_id"]: (a["name"], a["department"]) for a in details["attendees"]}
    for key, one in attendees.items():
        page = client.get(_path(one["me_url"])).get_data(as_text=True)
        mates = [m for t in details["plan"]["rounds"][0]["tables"] if one["participant_id"]
                 in t["members"] for m in t["members"] if m != one["participant_id"]]
        assert mates, key
        assert_text_only(page, CAFE_NAME, QUESTIONS[0],
                         *(text for m in mates for text in names[m]))


def test_harvest_pages_show_notes_and_pledges_as_text(client, setup):
    """Notes and pledges of hostile text, on the phones, the screen, the console,
    the harvest page and in the record's documents."""
    cafe, attendees, org = setup["cafe"], setup["attendees"], auth(setup["token"])
    for _ in range(cafe_rounds(client, cafe, org)):
        assert client.post(f"{API}/cafes/{cafe['code']}/rounds/next", json={"seed": 3},
                           headers=org).status_code == 200
    one = next(iter(attendees.values()))
    bearer = auth(one["token"])
    for text in (XSS, SSTI, XSS_DEPARTMENT):
        reply = client.post(f"{API}/cafes/{cafe['code']}/notes", json={"text": text},
                            headers=bearer)
        assert reply.status_code == 201, reply.get_json()
    assert client.post(f"{API}/cafes/{cafe['code']}/pledges", json={"text": SSTI_ORGANISATION},
                       headers=bearer).status_code == 201
    notes = (XSS, SSTI, XSS_DEPARTMENT)
    assert_text_only(client.get(_path(one["me_url"])).get_data(as_text=True), *notes)
    assert_text_only(client.get(_path(cafe["screen_url"])).get_data(as_text=True), *notes)
    console = f"/organiser/cafes/{cafe['id']}"
    assert_text_only(client.get(console).get_data(as_text=True), *notes)
    assert client.post(f"{API}/cafes/{cafe['code']}/end", headers=org).status_code == 200
    assert_text_only(client.get(_path(one["me_url"])).get_data(as_text=True), *notes,
                     SSTI_ORGANISATION)
    assert_text_only(client.get(console + "/harvest").get_data(as_text=True), *notes,
                     SSTI_ORGANISATION)
    markdown = client.get(f"{API}/cafes/{cafe['code']}/harvest.md", headers=org).get_data(
        as_text=True)
    # Markdown keeps HTML as HTML unless each bracket is escaped: none is left bare.
    assert re.search(r"(?<!\\)[<>]", markdown) is None
    assert "\\<script\\>alert\\(1\\)" in markdown
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"{API}/cafes/{cafe['code']}/harvest.csv", headers=org).get_data(as_text=True))))
    assert {r["text"] for r in rows} == {*notes, SSTI_ORGANISATION}


def cafe_rounds(client, cafe, org):
    """How many rounds the café has: the tests go to its last (pledges open)."""
    return client.get(f"{API}/cafes/{cafe['code']}", headers=org).get_json()["rounds"]


def test_socket_payloads_carry_the_raw_text(client, setup, socket_client):
    """Pushes carry the text as it was typed (the pages' scripts insert it with
    textContent), neither escaped nor evaluated."""
    people, cafe, attendees = setup["people"], setup["cafe"], setup["attendees"]
    for key, partner in (("xss", (SSTI, SSTI_DEPARTMENT)), ("ssti", (XSS, XSS_DEPARTMENT))):
        socket = socket_client({"token": people[key]["token"]})
        matches = [e["args"][0] for e in socket.get_received() if e["name"] == "match"]
        assert [(p["name"], p["department"]) for p in matches[-1]["partners"]] == [partner]

    screen = socket_client({"screen": cafe["screen_url"].rsplit("/", 1)[1]})
    console = socket_client({"token": setup["token"]})
    phones = {key: socket_client({"token": one["token"]}) for key, one in attendees.items()}
    for one in (screen, console, *phones.values()):
        one.get_received()
    reply = client.post(f"{API}/cafes/{cafe['code']}/rounds/next", json={"seed": 3},
                        headers=auth(setup["token"]))
    assert reply.status_code == 200

    typed = {"xss": (XSS, XSS_DEPARTMENT), "ssti": (SSTI, SSTI_DEPARTMENT),
             "zed": ("Plain Zed", "IT"), "wyn": ("Plain Wyn", "HR")}
    seen = set()
    for key, phone in phones.items():
        seats = [e["args"][0] for e in phone.get_received() if e["name"] == "seat"]
        assert seats, key
        assert seats[-1]["question"] == QUESTIONS[0]
        for mate in seats[-1]["companions"]:
            assert (mate["name"], mate["department"]) in typed.values()
            seen.add(mate["name"])
    assert {XSS, SSTI} <= seen
    for one in (screen, console):
        views = [e["args"][0] for e in one.get_received() if e["name"] == "cafe_screen"]
        assert views, "no cafe_screen"
        view = views[-1]
        assert view["name"] == CAFE_NAME and view["question"] == QUESTIONS[0]
        members = {(m["name"], m["department"]) for t in view["tables"] for m in t["members"]}
        assert members == set(typed.values())
        assert json.dumps(view).count("&lt;") == 0


def test_exports_carry_the_literal_text(client, setup):
    org, trial, cafe = auth(setup["token"]), setup["trial"], setup["cafe"]
    base = f"{API}/trials/{trial['id']}/history"
    typed = {(XSS, XSS_DEPARTMENT), (SSTI, SSTI_DEPARTMENT)}

    text = client.get(base + ".csv", headers=org).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(r["name"], r["department"]) for r in rows} == typed and len(rows) == 4
    assert "&lt;" not in text and not EVALUATED.search(text)

    body = json.loads(client.get(base + ".json", headers=org).get_data(as_text=True))
    assert body["name"] == TRIAL_NAME
    assert {(m["name"], m["department"]) for r in body["rounds"] for g in r["groups"]
            for m in g["members"]} == typed

    graphml = client.get(base + ".graphml", headers=org).get_data(as_text=True)
    graph = nx.read_graphml(io.StringIO(graphml))
    assert {(d["name"], d["department"]) for _, d in graph.nodes(data=True)} == typed
    assert XSS not in graphml  # XML-escaped in the file, the literal text once read

    # The organiser's own download links give the same files.
    page = f"/organiser/trials/{trial['id']}/history"
    assert client.get(page + ".csv").get_data(as_text=True) == text

    reply = client.post(f"{API}/cafes/{cafe['code']}/rounds/next", json={"seed": 3},
                        headers=org)
    assert reply.status_code == 200
    plan = client.get(f"{API}/cafes/{cafe['code']}/plan.csv", headers=org).get_data(
        as_text=True)
    rows = list(csv.DictReader(io.StringIO(plan)))
    assert {(r["name"], r["department"], r["organisation"]) for r in rows} >= {
        (XSS, XSS_DEPARTMENT, XSS_ORGANISATION), (SSTI, SSTI_DEPARTMENT, SSTI_ORGANISATION)}
    assert not EVALUATED.search(plan)


def test_scripts_insert_text_never_html():
    """The pages' own scripts build the DOM from text: no innerHTML or its kin."""
    scripts = sorted(STATIC.glob("*.js"))
    assert scripts, "no scripts found"
    sinks = re.compile(r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write"
                       r"|\beval\s*\(|new\s+Function\s*\(|\.setAttribute\(\s*['\"]on"
                       r"|\.html\s*\(")
    for path in scripts:
        source = path.read_text()
        found = sinks.search(source)
        assert found is None, f"{path.name} uses {found.group(0)}"
    assert any("textContent" in p.read_text() for p in scripts)


def test_templates_mark_nothing_safe_but_the_qr_codes():
    """Autoescaping is never switched off, and the only text a template marks
    safe is the QR code's SVG (made by segno from the join link)."""
    for path in TEMPLATES.rglob("*.html"):
        source = path.read_text()
        assert "autoescape false" not in source.replace(" ", " ").lower(), path
        for found in re.finditer(r"\{\{([^}]*)\|\s*safe\s*\}\}", source):
            assert found.group(1).strip() == "qr", f"{path.name}: {found.group(0)}"
