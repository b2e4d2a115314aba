"""Real Chromium against the real server: a person signs up from the join link,
keeps their personal page open, and the match appears there without a reload
when the organiser publishes a round. Chromium comes from Debian
(`apt-get install chromium`, done by .ci/run); the test fails, not skips,
when it is missing."""

import os

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import call

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )
        yield launched
        launched.close()


def test_match_appears_live_after_signing_up(server, browser):
    base, organiser = server
    status, trial = call(base, "POST", "/api/v1/trials", {"name": "Live coffee"}, organiser)
    assert status == 201
    for k in range(3):  # colleagues to be matched with
        call(base, "POST", f"/api/v1/trials/{trial['id']}/signups", {
            "join_code": trial["join_code"], "name": f"Colleague {k}",
            "email": f"c{k}@example.org", "department": "Estates"})
    page = browser.new_page(viewport={"width": 375, "height": 800})
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
    page.wait_for_function("window.io !== undefined")
    status, _ = call(base, "POST", f"/api/v1/trials/{trial['id']}/rounds",
                     {"publish": True}, organiser)
    assert status == 201
    page.wait_for_function(
        "document.querySelector('#match-body').innerText.includes('Round 1: meet')",
        timeout=5000)
    text = page.inner_text("#match-body")
    assert "Colleague" in text and "@example.org" in text
    assert errors == []
