"""Feedback and the evaluation report (docs/evaluation.md), hand-checked on a
small trial built here: every share, mean and network measure below is worked
out from the answers chosen, including a round nobody answered, an answer
changed, a "did you meet?" given alone, a meeting that did not happen and a
participant who left."""

import csv
import io
from datetime import UTC, datetime

import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy import select

from matcher.accounts import create_organiser, set_password
from matcher.meetings import store_round
from matcher.models import Feedback, Organiser, Person, Round, Trial
from tests.support.app import app_on_copy, build_once

NAMES = [f"Person {k}" for k in range(6)]
DEPARTMENTS = ["Nursing", "IT", "HR", "Nursing", "IT", "HR"]
EMAILS = [f"p{k}@example.org" for k in range(6)]


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def _store(app, trial_id, groups, sitting_out, when, *, number):
    with app.extensions["matcher.sessions"]() as db:
        person = {p.email: p for p in db.scalars(select(Person))}
        trial = db.get(Trial, trial_id)
        people = len(sitting_out) + sum(len(g) for g in groups)
        store_round(db, Round(trial=trial, number=number, published_at=when,
                              metrics={"people": people, "sitting_out": len(sitting_out)}),
                    [[person[EMAILS[k]] for k in g] for g in groups],
                    [person[EMAILS[k]] for k in sitting_out])
        db.commit()


def _build(app, client):
    """The trial of the module's docstring; its id, everyone's token, and the
    organiser's credentials."""
    with app.extensions["matcher.sessions"]() as db:
        _, organiser_token = create_organiser(db, "org@example.org", "Org")
        db.commit()
    org = auth(organiser_token)
    trial = client.post("/api/v1/trials", json={"name": "Spring coffee",
                                                "confirm_email": False}, headers=org).get_json()
    earlier = client.post("/api/v1/trials", json={"name": "Last year",
                                                  "confirm_email": False}, headers=org).get_json()
    tokens = []
    for k in range(6):
        reply = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
            "join_code": trial["join_code"], "name": NAMES[k], "email": EMAILS[k],
            "department": DEPARTMENTS[k]})
        assert reply.status_code == 201, reply.get_json()
        tokens.append(reply.get_json()["token"])
    # Before the period: persons 0 and 1 met in another programme.
    _store(app, earlier["id"], [[0, 1]], [], datetime(2026, 1, 5, 9, tzinfo=UTC), number=1)

    def answer(k, **body):
        reply = client.post("/api/v1/me/feedback", json=body, headers=auth(tokens[k]))
        assert reply.status_code == 200, reply.get_json()
        return reply.get_json()

    _store(app, trial["id"], [[0, 1], [2, 3], [4, 5]], [], datetime(2026, 2, 2, 9, tzinfo=UTC),
           number=1)
    answer(0, round=1, met=True, knew_before=True, useful=4, again=True,
           learnt="Ask pharmacy first.", share=True)
    answer(1, round=1, met=True, knew_before=True, useful=5, again=True,
           learnt="A private note.", share=False)
    answer(2, round=1, met=True, knew_before=False, useful=3, again=True)
    changed = answer(2, round=1, met=True, knew_before=False, useful=5, again=True)
    assert changed["useful"] == 5
    assert client.post("/api/v1/me/met", json={"met": True},
                       headers=auth(tokens[4])).status_code == 200
    answer(5, round=1, met=True, knew_before=False, useful=1, again=False,
           learnt="The leaver's quote.", share=True)

    _store(app, trial["id"], [[0, 2], [1, 3]], [4, 5], datetime(2026, 2, 16, 9, tzinfo=UTC),
           number=2)
    answer(1, round=2, met=False)
    answer(0, round=2, met=True, knew_before=False, useful=4, again=True)

    _store(app, trial["id"], [[0, 4], [1, 5], [2, 3]], [], datetime(2026, 3, 2, 9, tzinfo=UTC),
           number=3)
    assert client.delete("/api/v1/me", headers=auth(tokens[5])).status_code == 200
    return {"id": trial["id"], "tokens": tokens[:5], "org": org}


@pytest.fixture(scope="module")
def built_once(module_databases, tmp_path_factory):
    """The trial, built once per module (each test works on a copy)."""
    return build_once(module_databases, tmp_path_factory.mktemp("evaluation"), _build)


@pytest.fixture
def app(built_once, databases, outbox):
    """The app on a fresh copy of the module's trial."""
    with app_on_copy(databases, built_once[0], outbox) as made:
        yield made


@pytest.fixture
def built(built_once):
    return built_once[1]


def test_feedback_is_one_fact_with_met_and_closes_with_the_next_round(app, client, built):
    token = built["tokens"][0]
    # Round 1 closed when round 2 was published; round 3 is open.
    late = client.post("/api/v1/me/feedback", json={"round": 1, "met": True},
                       headers=auth(token))
    assert late.status_code == 409 and late.get_json()["error"]["field"] == "round"
    assert client.get("/api/v1/me/feedback", headers=auth(token)).get_json()["met"] is None
    reply = client.post("/api/v1/me/feedback", json={"round": 3, "met": False, "useful": 2},
                        headers=auth(token))
    assert reply.status_code == 200
    assert client.get("/api/v1/me", headers=auth(token)).get_json()["match"]["met"] is False
    assert client.post("/api/v1/me/met", json={"met": True}, headers=auth(token)).status_code \
        == 200
    mine = client.get("/api/v1/me/feedback", headers=auth(token)).get_json()
    assert mine == {"round": 3, "met": True, "knew_before": None, "useful": 2, "again": None,
                    "learnt": "", "share": False}
    # Bad answers name their field and store nothing.
    for body, field in (({"round": 3, "met": True, "useful": 6}, "useful"),
                        ({"round": 3, "met": "yes"}, "met"),
                        ({"round": 3}, "met"),
                        ({"round": 9, "met": True}, "round"),
                        ({"round": 3, "met": True, "learnt": "x" * 2001}, "learnt")):
        bad = client.post("/api/v1/me/feedback", json=body, headers=auth(token))
        assert bad.status_code in (400, 404), (body, bad.get_json())
        assert bad.get_json()["error"]["field"] == field
    assert client.get("/api/v1/me/feedback", headers=auth(token)).get_json() == mine


def test_the_leavers_answers_count_but_are_nobodys(app, built):
    with app.extensions["matcher.sessions"]() as db:
        answers = db.scalars(select(Feedback)).all()
        assert len(answers) == 7
        assert sum(a.person_id is None for a in answers) == 1
        assert not db.scalar(select(Person).where(Person.email == EMAILS[5]))


def test_figures_match_the_answers(client, built):
    e = client.get(f"/api/v1/trials/{built['id']}/evaluation", headers=built["org"])
    assert e.status_code == 200
    e = e.get_json()
    assert (e["rounds"], e["participants"], e["introduced"], e["responses"]) == (3, 5, 16, 7)
    assert e["response_rate"] == 0.4375
    assert e["met_share"] == round(6 / 7, 4)
    assert e["knew_before_share"] == 0.4
    assert e["useful_mean"] == 3.8
    assert e["again_share"] == 0.8
    assert e["answers"] == {"met": 7, "knew_before": 5, "useful": 5, "again": 5}
    assert e["useful_counts"] == [1, 0, 0, 2, 2]
    assert e["cross_department_ties"] == 3
    assert e["departments_connected"] == 2
    assert e["quotes"] == ["Ask pharmacy first.", "The leaver's quote."]
    rounds = [(r["round"], r["groups"], r["introduced"], r["responses"], r["met_share"],
               r["useful_mean"], r["new_ties"]) for r in e["per_round"]]
    assert rounds == [(1, 3, 6, 5, 1.0, 3.75, 1), (2, 2, 4, 2, 0.5, 4.0, 1),
                      (3, 3, 6, 0, None, None, 1)]
    before, after = e["network"]["before"], e["network"]["after"]
    assert (before["people"], before["ties"], before["met_outside"],
            before["department_pairs_connected"], before["department_pairs"],
            before["largest_connected"]) == (5, 1, 2, 1, 3, 2)
    assert before["largest_connected_share"] == 0.4
    assert (after["ties"], after["cross_department_ties"], after["met_outside_share"],
            after["department_pairs_connected"], after["largest_connected_share"]) \
        == (4, 4, 1.0, 2, 1.0)
    assert sorted((sorted(link["departments"]), link["ties"]) for link in after["links"]) \
        == [(["HR", "Nursing"], 2), (["IT", "Nursing"], 2)]


def test_a_period(client, built):
    url = f"/api/v1/trials/{built['id']}/evaluation"
    e = client.get(url + "?to=2026-02-20", headers=built["org"]).get_json()
    assert (e["rounds"], e["introduced"], e["responses"], e["cross_department_ties"]) \
        == (2, 10, 7, 2)
    assert e["network"]["after"]["met_outside_share"] == 0.8
    assert e["period"] == {"from": None, "to": "2026-02-20"}
    empty = client.get(url + "?from=2026-03-03", headers=built["org"]).get_json()
    assert empty["rounds"] == 0 and empty["met_share"] is None
    assert empty["response_rate"] is None and empty["useful_mean"] is None
    for query, field in (("?from=2026-13-01", "from"), ("?to=soon", "to"),
                         ("?from=2026-03-01&to=2026-02-01", "from")):
        bad = client.get(url + query, headers=built["org"])
        assert bad.status_code == 400 and bad.get_json()["error"]["field"] == field


def _no_names(text):
    for name, email in zip(NAMES, EMAILS, strict=True):
        assert name not in text and email not in text
    assert "A private note" not in text


def test_every_document_has_the_figures_and_no_names(client, built):
    url = f"/api/v1/trials/{built['id']}/evaluation"
    md = client.get(url + ".md", headers=built["org"])
    assert md.status_code == 200 and md.mimetype == "text/markdown"
    text = md.get_data(as_text=True)
    assert "| Response rate | 44% | 16 |" in text and "| Met their match | 86% | 7 |" in text
    assert "> Ask pharmacy first." in text and "How the figures were computed" in text
    _no_names(text)

    rows = list(csv.DictReader(io.StringIO(client.get(url + ".csv", headers=built["org"])
                                           .get_data(as_text=True))))
    figures = {r["measure"]: (r["value"], r["answers"]) for r in rows if r["section"] == "figures"}
    assert figures["useful_mean"] == ("3.8", "5") and figures["again_share"] == ("0.8", "5")
    assert figures["cross_department_ties"] == ("3", "")
    assert any(r["section"] == "method" and r["value"].startswith("A pair met if")
               for r in rows)
    assert [r["value"] for r in rows if r["section"] == "per_round" and r["round"] == "3"
            and r["measure"] == "met_share"] == [""]
    _no_names(" ".join(" ".join(r.values()) for r in rows))

    pdf = client.get(url + ".pdf", headers=built["org"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    pages = " ".join(pages.split())
    assert "Evaluation: Spring coffee" in pages and "44%" in pages and "3.8" in pages
    assert "Ask pharmacy first." in pages and "How the figures were computed" in pages
    _no_names(pages)

    word = client.get(url + ".docx", headers=built["org"])
    assert word.status_code == 200
    document = Document(io.BytesIO(word.data))
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells)
    assert "Evaluation: Spring coffee" in text and "Response rate" in text
    assert "44%" in text and "3.8" in text and "The leaver's quote." in text
    assert len(document.inline_shapes) == 3  # how useful, the network before and after
    _no_names(text)


def test_the_organisers_page(app, client, built):
    with app.extensions["matcher.sessions"]() as db:
        owner = db.scalar(select(Organiser).where(Organiser.email == "org@example.org"))
        set_password(owner, "owner's passphrase")
        create_organiser(db, "other@example.org", "Other", password="correct horse")
        db.commit()
    url = f"/organiser/trials/{built['id']}/evaluation"
    client.post("/organiser/login", data={"email": "other@example.org",
                                          "password": "correct horse"})
    assert client.get(url).status_code == 403
    assert client.get(url + ".pdf").status_code == 403
    client.post("/organiser/logout")
    client.post("/organiser/login", data={"email": "org@example.org",
                                          "password": "owner's passphrase"})
    page = client.get(url)
    assert page.status_code == 200
    text = " ".join(page.get_data(as_text=True).split())
    assert "44%" in text and "answered (7 of 16)" in text
    # Everything written, without names: the unshared note marked as not to be quoted.
    assert "A private note. Round 1 · not to be quoted" in " ".join(
        text.replace("<footer>", " ").replace("</footer>", " ").split())
    for name, email in zip(NAMES, EMAILS, strict=True):
        assert name not in text and email not in text
    period = client.get(url + "?from=2026-03-01&to=2026-02-01")
    assert period.status_code == 400 and "from must not be after to" in period.get_data(
        as_text=True)
    download = client.get(url + ".md?to=2026-02-20")
    assert download.status_code == 200 and "2 rounds" in download.get_data(as_text=True)
    assert "attachment" in download.headers["Content-Disposition"]
    dashboard = " ".join(client.get("/organiser/").get_data(as_text=True).split())
    assert "<strong>86%</strong> met (7 answers)" in dashboard
    assert "<strong>3.8</strong> out of 5 useful (5 answers)" in dashboard
