"""A coffee trial from start to end in real Chromium, as its two kinds of user
do it: the organiser (their own browser context, a laptop) creates a trial,
imports a people file with mistakes (every problem shown by row; nothing
imported), then a correct one, publishes rounds and downloads the history; a
participant (another context, a 375 px phone) signs up with the keyboard,
confirms the address from the mailed link, pauses, resumes, sees their match
arrive live, says whether they met, and leaves, after which their data is
gone. Every page on the way passes the checks of tests/support/browser.py
(axe-core, no sideways scrolling, no console errors)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.support.browser import assert_good_page, sign_in, tab_to, watch
from tests.support.mail import mailed_confirmation, mailed_links

pytestmark = pytest.mark.sqlite_only(
    reason="browser tests: the pages and their scripts do not depend on the database")

BAD_PEOPLE = (b"name,email,department\n"
              b"Ida Good,ida@example.org,Research\n"
              b",nameless@example.org,Pharmacy\n"
              b"Cy Okafor,not-an-address,Estates\n"
              b"Dee Patel,dee@example.org,\n")
GOOD_PEOPLE = (b"name,email,department,site\n"
               b"Ida Good,ida@example.org,Research,North\n"
               b"Bo Chen,bo@example.org,Pharmacy,South\n"
               b"Cy Okafor,cy@example.org,Estates,North\n")
HISTORY_HEADER = ["round", "group", "person_id", "name", "department", "date", "met"]


def _upload(page, name: str, data: bytes) -> None:
    page.get_by_label("People file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": data})
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state()


def _download_history(page) -> list[dict]:
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV", exact=True).click()
    download = info.value
    assert re.fullmatch(r"trial-\d+-history\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as file:
        text = file.read()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HISTORY_HEADER
    return [dict(zip(HISTORY_HEADER, row, strict=True)) for row in rows[1:]]


def test_a_trial_from_import_to_leaving(site, contexts):
    errors: list[str] = []
    organiser = watch(contexts(viewport={"width": 1200, "height": 900}).new_page(), errors)
    phone = watch(contexts(is_mobile=True, has_touch=True).new_page(), errors)

    # The organiser creates a trial from the dashboard.
    sign_in(organiser, site.base)
    assert_good_page(organiser, errors)
    organiser.get_by_role("link", name="New trial", exact=True).click()
    organiser.locator("#name").fill("Coffee journey")
    organiser.get_by_role("button", name="Create trial").click()
    organiser.get_by_role("heading", level=1, name="Coffee journey").wait_for()
    trial_url = organiser.url
    join_url = organiser.locator("a[href*='/join/']").get_attribute("href")
    organiser.get_by_role("navigation", name="Coffee journey").get_by_role(
        "link", name="Participants").click()

    # A file with mistakes: each shown with its row and column; nothing imported.
    _upload(organiser, "people.csv", BAD_PEOPLE)
    alert = organiser.get_by_role("alert").inner_text()
    assert "3 problems in 3 rows" in alert and "nothing was imported" in alert
    problems = organiser.get_by_role("table", name="Problems in the file")
    shown = [[cell.strip() for cell in row.locator("td").all_inner_texts()]
             for row in problems.locator("tbody tr").all()]
    assert [(row, column) for row, column, _ in shown] == [
        ("3", "name"), ("4", "email"), ("5", "department")], shown
    assert all(message for *_, message in shown)
    assert "Nobody has joined yet" in organiser.inner_text("main")
    errors[:] = [e for e in errors if "status of 400" not in e]  # the page answered 400
    assert_good_page(organiser, errors)

    # The corrected file: everyone in, each mailed their personal link.
    _upload(organiser, "people.csv", GOOD_PEOPLE)
    assert "Imported 3 people; each is being mailed their personal link." in \
        organiser.locator(".notice[role=status]").inner_text()
    assert organiser.get_by_role("table", name="Problems in the file").count() == 0
    for name in ("Ida Good", "Bo Chen", "Cy Okafor"):
        assert organiser.get_by_role("cell", name=name, exact=True).count() == 1
    assert set(mailed_links(site.outbox, at_least=3)) == {"ida@example.org", "bo@example.org",
                                               "cy@example.org"}

    # A colleague signs up on their phone: fields typed, then Tab to Join and Enter;
    # a new trial confirms sign-ups, so they follow the mailed link and confirm.
    phone.goto(join_url)
    phone.get_by_label("Your name").fill("Ada Lovelace")
    phone.get_by_label("Work email").fill("ada@example.org")
    phone.get_by_label("Department").fill("Informatics")
    phone.get_by_label("Department").focus()
    tab_to(phone, "Join")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    phone.get_by_role("heading", name="Check your email").wait_for()
    assert_good_page(phone, errors)
    phone.goto(mailed_confirmation(site.outbox, "ada@example.org"))
    assert "Informatics" in phone.inner_text("main")
    assert_good_page(phone, errors)
    tab_to(phone, "Confirm and open my page")
    with phone.expect_navigation(url="**/me/**"):
        phone.keyboard.press("Enter")
    me_url = phone.url
    assert "You are in" in phone.get_by_role("status").inner_text()
    assert "No round yet" in phone.inner_text("#match-body")
    assert_good_page(phone, errors)

    # Paused, with the keyboard: the next round leaves them out.
    tab_to(phone, "Pause")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert "You are paused" in phone.inner_text("main")
    assert_good_page(phone, errors)
    phone.wait_for_function("() => window.io !== undefined")
    organiser.goto(trial_url + "/participants")
    assert organiser.get_by_role("row", name=re.compile("Ada Lovelace")).inner_text() \
        .count("paused") == 1
    organiser.goto(trial_url)
    organiser.get_by_role("button", name="Publish the next round").click()
    organiser.get_by_text("Round 1: 1 groups").wait_for()  # 3 active people: a triad
    organiser.wait_for_timeout(500)  # time enough for a (wrong) match to arrive
    assert "No round yet" in phone.inner_text("#match-body")

    # Resumed: the next round's match arrives on the open page, without a reload.
    tab_to(phone, "Resume")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    phone.get_by_role("button", name="Pause").wait_for()
    phone.wait_for_function("() => window.io !== undefined")
    organiser.get_by_role("button", name="Publish the next round").click()
    organiser.get_by_text("Round 2:").wait_for()
    phone.wait_for_function(
        "() => document.querySelector('#match-body').innerText.includes('Round 2: meet')")
    partners = phone.locator("#match-body li").all_inner_texts()
    assert partners and all("@example.org" in line for line in partners)
    assert_good_page(phone, errors)

    # How did it go? The form came with the live match (no reload), for round 2.
    phone.get_by_role("heading", name="How did it go?").wait_for(timeout=2000)
    assert phone.locator("#feedback-round").input_value() == "2"
    phone.get_by_label("Yes, we met").check()
    phone.get_by_label("4 — useful").check()
    phone.get_by_label("What did you learn").fill("Pharmacy rings before noon.")
    phone.get_by_role("button", name="Save my answers").click()
    phone.get_by_text("You said: we met.").wait_for()
    assert phone.get_by_label("4 — useful").is_checked()
    assert phone.get_by_label("What did you learn").input_value() == "Pharmacy rings before noon."
    assert_good_page(phone, errors)

    # The organiser sees it, and downloads the history from the Rounds tab.
    organiser.reload()
    figures = organiser.get_by_role("list", name="Headline figures of Coffee journey")
    assert "1 said they met" in " ".join(figures.inner_text().split())
    organiser.goto(trial_url + "/rounds")
    rows = _download_history(organiser)
    assert {row["round"] for row in rows} == {"1", "2"}
    assert {row["name"] for row in rows if row["round"] == "1"} == {
        "Ida Good", "Bo Chen", "Cy Okafor"}  # paused: not in round 1
    ada = [row for row in rows if row["name"] == "Ada Lovelace"]
    assert len(ada) == 1 and ada[0]["round"] == "2" and ada[0]["met"] == "yes"
    assert ada[0]["department"] == "Informatics" and ada[0]["group"]
    assert_good_page(organiser, errors, width=375)

    # Leaving deletes their data; the page says so, and the old link is dead.
    phone.get_by_role("button", name="Leave and delete my data").click()
    phone.get_by_role("heading", name="You have left").wait_for()
    assert "deleted" in phone.inner_text("main")
    assert_good_page(phone, errors)
    reply = phone.goto(me_url)
    assert reply.status == 404
    organiser.goto(trial_url + "/participants")
    assert "Ada Lovelace" not in organiser.inner_text("main")
    organiser.goto(trial_url + "/rounds")
    rows = _download_history(organiser)
    assert not [row for row in rows if row["name"] == "Ada Lovelace"]
    assert [row for row in rows if row["round"] == "2"]  # the others' places remain
    errors[:] = [e for e in errors if "status of 404" not in e]  # the dead link
    assert errors == []
