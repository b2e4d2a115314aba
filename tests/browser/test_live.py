"""Real Chromium against the real server: a person signs up from the join link,
keeps their personal page open, and the match appears there without a reload
when the organiser publishes a round. Chromium comes from Debian
(`apt-get install chromium`, done by .ci/run); the test fails, not skips,
when it is missing. One Chromium serves the module (tests/support/browser.py);
every page's accessibility and phone layout are checked in test_pages.py,
the whole trial journey in test_journeys.py."""

import os

from tests.support.browser import assert_good_page
from tests.support.servers import call


def test_match_appears_live_after_signing_up(site, contexts):
    base, organiser = site.base, site.token
    status, trial = call(base, "POST", "/api/v1/trials", {"name": "Live coffee",
                                                          "confirm_email": False}, organiser)
    assert status == 201
    for k in range(3):  # colleagues to be matched with
        call(base, "POST", f"/api/v1/trials/{trial['id']}/signups", {
            "join_code": trial["join_code"], "name": f"Colleague {k}",
            "email": f"c{k}@example.org", "department": "Estates"})
    page = contexts(viewport={"width": 375, "height": 800}).new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.goto(trial["join_url"])
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Work email").fill("ada@example.org")
    page.get_by_label("Department").fill("Research")
    page.get_by_role("button", name="Join").click()
    page.wait_for_url("**/me/**")
    assert "No round yet" in page.inner_text("#match-body")
    page.wait_for_function("() => window.io !== undefined")
    status, _ = call(base, "POST", f"/api/v1/trials/{trial['id']}/rounds",
                     {"publish": True}, organiser)
    assert status == 201
    page.wait_for_function(
        "() => document.querySelector('#match-body').innerText.includes('Round 1: meet')",
        timeout=5000)
    text = page.inner_text("#match-body")
    assert "Colleague" in text and "@example.org" in text
    assert errors == []


def _console_errors(page, errors):
    page.on("console", lambda message: errors.append(f"{page.url}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))


def test_a_cafe_from_the_host_console_to_every_phone_and_the_big_screen(site, contexts):
    import subprocess
    import sys

    # The café's host is a new organiser, made with the command line on the
    # server's database while it runs.
    base = site.base
    env = dict(os.environ, MATCHER_DATABASE_URL=site.database_url)
    subprocess.run([sys.executable, "-m", "matcher", "organiser", "create", "console@example.org",
                    "--password-stdin"], input="a long passphrase\n", text=True, env=env,
                   check=True, capture_output=True)
    errors: list[str] = []
    host = contexts(viewport={"width": 1100, "height": 900}).new_page()
    _console_errors(host, errors)
    host.goto(base + "/organiser/login")
    host.get_by_label("Email").fill("console@example.org")
    host.get_by_label("Password").fill("a long passphrase")
    host.get_by_role("button", name="Sign in").click()
    host.get_by_role("link", name="New café", exact=True).click()
    host.get_by_label("Name", exact=True).fill("Ward café")
    host.get_by_label("Set the").select_option("table_size")
    host.get_by_label("Number", exact=True).fill("4")
    host.get_by_label("Rounds").fill("2")
    host.get_by_label("Questions, one per line (one per round)").fill(
        "What slows your work down?\nWhat would you change first?")
    host.get_by_role("button", name="Create café").click()
    host.wait_for_selector("#console")
    code = host.get_attribute("#console", "data-code")
    screen_url = host.get_by_role("link", name="Open the big screen").get_attribute("href")

    screen = contexts(viewport={"width": 1600, "height": 900}).new_page()
    _console_errors(screen, errors)
    screen.goto(screen_url)
    assert code in screen.inner_text(".join-code")
    assert screen.locator(".qr svg").count() == 1

    # Colleagues without the app in this test join over the API; three phones by code.
    departments = ["Nursing", "Pharmacy", "Estates", "Finance", "Radiology"]
    for k, department in enumerate(departments):
        status, _ = call(base, "POST", f"/api/v1/cafes/{code}/participants",
                         {"name": f"Colleague {k}", "department": department})
        assert status == 201
    phones = []
    for name, department in [("Ada", "IT"), ("Bo", "HR"), ("Cy", "Surgery")]:
        context = contexts(viewport={"width": 375, "height": 740}, is_mobile=True)
        phone = context.new_page()
        _console_errors(phone, errors)
        phone.goto(base + "/cafe")
        phone.get_by_label("Café code").fill(code.lower())
        phone.get_by_role("button", name="Continue").click()
        phone.get_by_label("Your name").fill(name)
        phone.get_by_label("Department").fill(department)
        phone.get_by_role("button", name="Join the café").click()
        phone.wait_for_url("**/cafe/me/**")
        assert "Waiting for the café to start" in phone.inner_text("#seat-body")
        phones.append((name, phone))
    screen.wait_for_function("() => document.getElementById('screen-present').textContent === '8'")
    host.wait_for_function("() => document.getElementById('console-present').textContent === '8'")
    # The list of people is as loaded: the console says the room has changed.
    assert host.inner_text("#people-changed") == (
        "8 here now, 0 in the list below: refresh the list.")
    host.locator("#people-changed a").click()
    host.wait_for_selector("#console")
    assert host.locator("#people-changed").is_hidden()
    assert "People here (8)" in host.inner_text("#people-heading")

    for number in (1, 2):
        host.locator("#next-round").click()
        host.wait_for_selector("#console")
        seen_tables = {}
        for name, phone in phones:
            phone.wait_for_function(
                "round => document.getElementById('seat-body').innerText.includes(round)",
                arg=f"Round {number} of 2",
                timeout=5000)
            text = phone.inner_text("#seat-body")
            table = int(text.split("Table ", 1)[1].split()[0])
            seen_tables[name] = (table, text)
            assert ("What slows" if number == 1 else "What would you change") in text
            assert name not in text.split("At your table", 1)[1]
            assert not phone.locator("#timer").is_hidden()
        screen.wait_for_function(
            f"() => document.getElementById('screen-round').textContent === 'Round {number} of 2'")
        cards = screen.locator(".table-card")
        assert cards.count() == 2
        by_table = {int(cards.nth(i).locator("h2").inner_text().split()[1]):
                    cards.nth(i).inner_text() for i in range(cards.count())}
        for name, (table, text) in seen_tables.items():
            assert name in by_table[table]  # the screen agrees with each phone
            for other, (other_table, _) in seen_tables.items():
                if other != name:
                    assert (other in text) == (other_table == table)
        # The harvest: a phone posts a note; its table, the console and the big
        # screen show it without a reload, as text (never as markup).
        name, phone = phones[0]
        note = f"<b>Round {number}</b>: {name} says share the rota"
        phone.get_by_label("Add a note for your table").fill(note)
        phone.get_by_role("button", name="Add the note").click()
        phone.wait_for_function(
            "text => document.getElementById('table-notes').innerText.includes(text)", arg=note)
        assert phone.get_by_label("Add a note for your table").input_value() == ""
        screen.wait_for_function(
            "text => document.getElementById('wall-notes').innerText.includes(text)", arg=note)
        host.wait_for_function(
            "text => document.getElementById('console-notes').innerText.includes(text)", arg=note)
        assert screen.locator("#wall-notes b").count() == 0
        for other, other_phone in phones[1:]:
            shown = other_phone.inner_text("#table-notes")
            assert (note in shown) == (seen_tables[other][0] == seen_tables[name][0])
        if number == 1:
            assert_good_page(phone, errors)
            assert_good_page(screen, errors, width=1600)
            # An empty note is refused on the page, and nothing is sent.
            phone.get_by_role("button", name="Add the note").click()
            assert phone.inner_text("#note-error") == "Write the note first."
    # The last round: the pledge; after the end, the votes and the screen's top notes.
    name, phone = phones[1]
    phone.get_by_label("One action you will take after today").fill("Visit the pharmacy")
    phone.get_by_role("button", name="Save my pledge").click()
    phone.wait_for_selector("text=Saved")
    host.get_by_role("button", name="End the café").click()
    host.wait_for_selector("#console")
    phone.wait_for_selector("#vote-notes button")
    phone.locator("#vote-notes li", has_text="Round 2").get_by_role("button").click()
    phone.wait_for_selector("#vote-notes button[aria-pressed=true]")
    screen.wait_for_function(
        "() => document.getElementById('wall-heading').textContent === 'What mattered most'")
    assert "1 vote" in screen.inner_text("#wall-notes li:first-child")
    assert_good_page(phone, errors)
    host.goto(host.url.split("#")[0] + "/harvest")
    assert "Visit the pharmacy" in host.inner_text("#record")
    assert_good_page(host, errors, width=1100)
    assert errors == []
