"""The co-organisers' pages in real Chromium (docs/security.md, "Co-organisers"),
as tests/browser/test_pages.py checks every page: a trial's and a café's Team
page (with a pending invitation, the log, and an error) and an invitation's
page (the form that makes an account), each at 375 px (a small phone) and on a
desktop, accessible (axe-core), with no console errors; and with the keyboard
only, an owner invites a colleague, who makes their account from the mailed
link and accepts.

One server and one browser serve the whole module; its data is made once
over the API (:func:`world`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.support.browser import PHONE, assert_good_page, sign_in, tab_to, watch
from tests.support.mail import mailed
from tests.support.servers import call

pytestmark = pytest.mark.sqlite_only(
    reason="browser tests: the pages and their scripts do not depend on the database")

DESKTOP = 1280


@dataclass
class World:
    trial: dict
    cafe: dict
    #: The link of an invitation to an address with no account yet.
    invitation: str
    organiser: object = None    # the owner's browser context, signed in


def _ok(reply, status=201):
    assert reply[0] == status, reply
    return reply[1]


def _invitation_link(site, to: str) -> str:
    """The link of the latest invitation mailed to ``to`` (the server's worker sends it)."""
    for _ in range(3):
        found = [m for m in mailed(site.outbox, at_least=1) if m["To"] == to]
        if found:
            body = found[-1].get_body(("plain",)).get_content()
            return re.search(r"https?://\S+/organiser/invitations/\S+", body).group(0)
    pytest.fail(f"no invitation was mailed to {to}")


@pytest.fixture(scope="module")
def world(site, browser):
    base, token = site.base, site.token
    trial = _ok(call(base, "POST", "/api/v1/trials", {"name": "Coffee across the trust"}, token))
    cafe = _ok(call(base, "POST", "/api/v1/cafes", {"name": "Ward café", "rounds": 2}, token))
    for place in (f"/api/v1/trials/{trial['id']}", f"/api/v1/cafes/{cafe['code']}"):
        _ok(call(base, "POST", f"{place}/team/invitations",
                 {"email": "alexandra.featherstonehaugh@radiology.northerncare.example.org",
                  "role": "organiser"}, token))
    link = _invitation_link(site, "alexandra.featherstonehaugh@radiology.northerncare."
                                  "example.org")
    organiser = browser.new_context(viewport=PHONE)
    organiser.set_default_timeout(10_000)
    sign_in(organiser.new_page(), base)
    made = World(trial, cafe, link, organiser)
    yield made
    organiser.close()


def team_of_the_trial(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}/team")
    page.get_by_role("heading", name="Invite a colleague").wait_for()
    assert "invited alexandra" in page.inner_text("main")


def team_of_the_cafe(w, page, site):
    page.goto(f"{site.base}/organiser/cafes/{w.cafe['id']}/team")
    page.get_by_role("heading", name="Delete this café").wait_for()


def team_with_an_error(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}/team")
    page.get_by_label("To confirm, type its name").fill("Not its name")
    page.get_by_role("button", name="Delete Coffee across the trust").click()
    page.get_by_role("alert").wait_for()
    assert page.get_by_label("To confirm, type its name").get_attribute("aria-invalid") == "true"
    return 400


def invitation_for_a_new_account(w, page, site):
    page.goto(w.invitation)
    page.get_by_role("heading", name="Make your organiser account").wait_for()


PAGES = [team_of_the_trial, team_of_the_cafe, team_with_an_error, invitation_for_a_new_account]


@pytest.mark.parametrize("width", [PHONE["width"], DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("open_page", PAGES, ids=[spec.__name__ for spec in PAGES])
def test_page_is_accessible_fits_and_logs_no_errors(world, site, contexts, open_page, width):
    # The invitation is opened by someone not signed in; the Team pages by the owner.
    context = contexts() if open_page is invitation_for_a_new_account else world.organiser
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": PHONE["height"]})
    errors: list[str] = []
    watch(page, errors)
    try:
        status = open_page(world, page, site)
        if status is not None:  # Chromium logs the form sent back with its error
            errors[:] = [e for e in errors
                         if f"the server responded with a status of {status}" not in e]
        assert_good_page(page, errors, width)
    finally:
        page.close()


def test_an_owner_invites_and_the_colleague_accepts_with_the_keyboard(world, site, contexts):
    """Tab to the invitation form, type, Enter; the colleague opens the mailed
    link, makes an account with the keyboard, and lands on the café's console;
    the Team page's log says so."""
    errors: list[str] = []
    owner = watch(world.organiser.new_page(), errors)
    colleague = watch(contexts().new_page(), errors)
    try:
        owner.goto(f"{site.base}/organiser/cafes/{world.cafe['id']}/team")
        owner.get_by_label("Their email").focus()
        owner.keyboard.type("sam.sample@example.org")
        tab_to(owner, "Send the invitation")
        with owner.expect_navigation():
            owner.keyboard.press("Enter")
        assert "An invitation is being mailed to sam.sample@example.org" in owner.inner_text("main")
        assert_good_page(owner, errors)

        colleague.goto(_invitation_link(site, "sam.sample@example.org"))
        colleague.get_by_label("Your name").focus()
        colleague.keyboard.type("Sam Sample")
        colleague.keyboard.press("Tab")
        colleague.keyboard.type("a long passphrase")
        tab_to(colleague, "Make my account and accept")
        with colleague.expect_navigation():
            colleague.keyboard.press("Enter")
        colleague.get_by_role("heading", name="Ward café").wait_for()
        assert colleague.url.endswith(f"/organiser/cafes/{world.cafe['id']}")
        colleague.goto(f"{site.base}/organiser/cafes/{world.cafe['id']}/team")
        assert "Sam Sample (sam.sample@example.org) accepted the invitation" in \
            colleague.inner_text("main")
        assert_good_page(colleague, errors)
    finally:
        owner.close()
        colleague.close()
