"""Every page of the app, in real Chromium at 375 px wide (a small phone): no
console errors, no sideways scrolling, and no problem axe-core finds (WCAG 2.0
and 2.1 A and AA, and axe's best practices): see tests/support/browser.py. Each
page is checked in the states people see it in (empty, with data, with an
error, paused, running, finished). Also: the host runs a café from the console
with the keyboard only.

One server and one browser serve the whole module; the data every page needs
is made once over the API (:func:`world`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from tests.support.browser import PHONE, assert_good_page, sign_in, tab_to, watch
from tests.support.mail import mailed_confirmation
from tests.support.servers import call

pytestmark = pytest.mark.sqlite_only(
    reason="browser tests: the pages and their scripts do not depend on the database")

#: A long unbroken address and department, as real ones can be: they must wrap
#: on a phone, not push the page sideways.
LONG_EMAIL = "christopher.featherstonehaugh@radiology.northerncare.example.org"
LONG_DEPARTMENT = "Neurorehabilitation-and-interdisciplinary-outpatient-services"


@dataclass
class World:
    """The data the pages show, and a signed-in organiser's browser context."""

    trial: dict
    people: list[dict]          # sign-ups to the trial (me_url, token...)
    confirming: dict            # a trial whose sign-ups confirm their email
    lobby: dict                 # a café waiting to start
    lobby_people: list[dict]
    running: dict               # a café in round 1 of 2
    running_people: list[dict]
    late: dict                  # joined the running café after it started
    finished: dict
    finished_people: list[dict]
    organiser: object = None    # the signed-in browser context
    phone: object = None        # a participant's browser context
    trial_name: str = "Coffee across the trust"


def _ok(reply, status=201):
    assert reply[0] == status, reply
    return reply[1]


def _cafe(site, name, people, *, start=False, end=False, **settings):
    cafe = _ok(call(site.base, "POST", "/api/v1/cafes",
                    {"name": name, **settings}, site.token))
    joined = [_ok(call(site.base, "POST", f"/api/v1/cafes/{cafe['code']}/participants",
                       person)) for person in people]
    if start:
        _ok(call(site.base, "POST", f"/api/v1/cafes/{cafe['code']}/rounds/next", None,
                 site.token), 200)
    if end:
        _ok(call(site.base, "POST", f"/api/v1/cafes/{cafe['code']}/end", None, site.token), 200)
    return cafe, joined


@pytest.fixture(scope="module")
def world(site, browser):
    base, token = site.base, site.token
    trial = _ok(call(base, "POST", "/api/v1/trials",
                     {"name": World.trial_name, "confirm_email": False}, token))
    confirming = _ok(call(base, "POST", "/api/v1/trials", {"name": "Confirmed coffee"}, token))
    people = []
    for k, (name, email, department) in enumerate([
            ("Ada Lovelace", "ada@example.org", "Research"),
            ("Bo Chen", "bo@example.org", "Pharmacy"),
            ("Alexandra Featherstonehaugh-Montgomery", LONG_EMAIL, LONG_DEPARTMENT),
            ("Cy Okafor", "cy@example.org", "Estates"),
            ("Dee Patel", "dee@example.org", "Finance"),
            ("Eve Novak", "eve@example.org", "Nursing")]):
        people.append(_ok(call(base, "POST", f"/api/v1/trials/{trial['id']}/signups", {
            "join_code": trial["join_code"], "name": name, "email": email,
            "department": department, "site": "North" if k % 2 else "South"})))
    for _ in range(2):  # two rounds: a current match and an earlier one
        _ok(call(base, "POST", f"/api/v1/trials/{trial['id']}/rounds", {"publish": True}, token))
    # A schedule: pages show the next round's date, and its mail can be previewed.
    _ok(call(base, "PATCH", f"/api/v1/trials/{trial['id']}", {"schedule": {
        "first_round_at": "2036-03-03T10:00", "time_zone": "Europe/London", "every": "P2W",
        "reminder_before": "P1D", "check_in_after": "P7D"}}, token), 200)

    guests = [{"name": name, "department": department} for name, department in [
        ("Fay Ito", "Radiology"), ("Gus Adeyemi", "Surgery"), ("Hal Berg", "Finance"),
        ("Ivy Mensah", LONG_DEPARTMENT), ("Jo Silva", "Nursing"), ("Kit Rossi", "IT")]]
    lobby, lobby_people = _cafe(site, "Ward café", guests[:3], rounds=3, table_size=4)
    running, running_people = _cafe(
        site, "Research café", guests, start=True, rounds=2, tables=2, round_minutes=10,
        questions=["What slows your work down, and what would you change first?",
                   "Who could help?"])
    late = _ok(call(base, "POST", f"/api/v1/cafes/{running['code']}/participants",
                    {"name": "Lou Late", "department": "Pharmacy"}))
    finished, finished_people = _cafe(site, "Finished café", guests[:4], start=True, end=True,
                                      rounds=1, table_size=4)

    organiser = browser.new_context(viewport=PHONE)
    organiser.set_default_timeout(10_000)
    sign_in(organiser.new_page(), base)
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.set_default_timeout(10_000)
    made = World(trial, people, confirming, lobby, lobby_people, running, running_people, late,
                 finished, finished_people, organiser, phone)
    yield made
    organiser.close()
    phone.close()


# --- the pages, each in the state it is checked in -------------------------------------
# A page function opens its page (`page` belongs to the phone's context, or the
# organiser's if its name starts with "organiser"), and returns the HTTP status it
# expects when that is not 200 (Chromium logs "Failed to load resource" for it).

def signup(w, page, site):
    page.goto(w.trial["join_url"])
    page.get_by_role("button", name="Join").wait_for()


def signup_with_errors(w, page, site):
    page.goto(w.trial["join_url"])
    page.get_by_label("Your name").fill("Someone")
    page.get_by_role("button", name="Join").click()
    page.get_by_role("alert").wait_for()
    assert page.get_by_label("Work email").get_attribute("aria-invalid") == "true"
    return 400


def lost_link_sent(w, page, site):
    page.goto(w.trial["join_url"])
    page.get_by_label("Your email").fill("nobody@example.org")
    page.get_by_role("button", name="Email me a new link").click()
    page.get_by_role("heading", name="Check your email").wait_for()


def personal_page(w, page, site):
    page.goto(w.people[0]["me_url"])
    page.wait_for_function("() => window.io !== undefined")
    assert page.get_by_role("heading", name="How did it go?").is_visible()
    assert page.get_by_role("heading", name="Earlier matches").is_visible()


def personal_page_with_the_next_round(w, page, site):
    page.goto(w.people[3]["me_url"])
    assert page.get_by_role("heading", name="Next round").is_visible()
    assert "Monday 3 March 2036 at 10:00 (Europe/London)" in page.inner_text("main")


def _action_url(site, person, action, **details):
    """The link a mail to ``person`` carries to ``action`` (signed with the server's key)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from matcher import db
    from matcher.actions import action_token
    from matcher.models import Membership, Person

    engine = db.make_engine(site.database_url)
    try:
        with db.make_session_factory(engine)() as session:
            membership = session.scalar(select(Membership).join(Person).where(
                Person.public_id == person["participant_id"]))
            token = action_token("test", action, membership,
                                 expires_at=datetime.now(UTC) + timedelta(days=5), **details)
    finally:
        engine.dispose()
    return f"{site.base}/a/{action}/{token}"


def action_link(w, page, site):
    """What a mail's "skip this round" link opens: what it will do, and a button."""
    page.goto(_action_url(site, w.people[4], "skip",
                          slot_at=datetime_of("2036-03-03T10:00Z")))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Skip the round of")
    page.get_by_role("button", name="Skip this round").wait_for()


def action_link_done_then_used(w, page, site):
    url = _action_url(site, w.people[5], "met-no", round_number=2)
    page.goto(url)
    page.get_by_role("button", name="No, it did not happen").click()
    page.get_by_role("heading", name="Done").wait_for()
    page.goto(url)  # once only
    page.get_by_role("heading", name="Already done").wait_for()
    return 409


def action_link_forged(w, page, site):
    page.goto(f"{site.base}/a/pause/not-a-link-of-ours")
    page.get_by_role("heading", name="Link not valid").wait_for()
    return 404


def organiser_mail_preview_introduction(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}/mail/introduction")
    page.get_by_role("heading", name="The calendar invite").wait_for()


def organiser_mail_preview_reminder(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}/mail/reminder")
    assert "Skip this round only" in page.inner_text("pre")


def personal_page_long_partner(w, page, site):
    """The page of whoever is matched with the long address and department."""
    for person in w.people:
        _, me = call(site.base, "GET", "/api/v1/me", None, person["token"])
        if any(p["email"] == LONG_EMAIL for p in me["match"]["partners"]):
            break
    else:
        pytest.fail("nobody is matched with the long address")
    page.goto(person["me_url"])
    assert page.get_by_role("link", name=LONG_EMAIL).is_visible()
    assert LONG_DEPARTMENT in page.inner_text("#match-body")


def personal_page_before_any_round(w, page, site):
    other = _ok(call(site.base, "POST", "/api/v1/trials",
                     {"name": "A new trial", "confirm_email": False}, site.token))
    joined = _ok(call(site.base, "POST", f"/api/v1/trials/{other['id']}/signups", {
        "join_code": other["join_code"], "name": "New Person", "email": LONG_EMAIL,
        "department": LONG_DEPARTMENT}))
    page.goto(joined["me_url"])
    assert "No round yet" in page.inner_text("#match-body")


def personal_page_paused(w, page, site):
    page.goto(w.people[3]["me_url"])
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Resume").wait_for()


def left_the_trial(w, page, site):
    page.goto(w.people[4]["me_url"])
    page.get_by_role("button", name="Leave and delete my data").click()
    page.get_by_role("heading", name="You have left").wait_for()


def front_door(w, page, site):
    page.goto(site.base + "/")
    page.get_by_role("heading", name="Join a café").wait_for()


def _wrong_cafe_code(page, url, button):
    page.goto(url)
    page.get_by_label("Café code").fill("ZZZZZZ")
    page.get_by_role("button", name=button).click()
    page.get_by_role("alert").wait_for()
    return 404


def front_door_join(w, page, site):
    """The code box on the front door leads to the café's own pages."""
    return _wrong_cafe_code(page, site.base + "/", "Join")


def organiser_front_door(w, page, site):
    page.goto(site.base + "/")
    page.get_by_role("link", name="Your trials and cafés").wait_for()


def cafe_enter(w, page, site):
    page.goto(site.base + "/cafe")


def cafe_enter_wrong_code(w, page, site):
    return _wrong_cafe_code(page, site.base + "/cafe", "Continue")


def cafe_join(w, page, site):
    page.goto(w.lobby["join_url"])
    page.get_by_role("button", name="Join the café").wait_for()


def cafe_join_with_errors(w, page, site):
    page.goto(w.lobby["join_url"])
    page.get_by_role("button", name="Join the café").click()
    page.get_by_role("alert").wait_for()
    return 400


def cafe_join_finished(w, page, site):
    page.goto(w.finished["join_url"])
    assert "has finished" in page.inner_text("main")


def cafe_me_waiting(w, page, site):
    page.goto(w.lobby_people[0]["me_url"])
    page.wait_for_function("() => window.io !== undefined")
    assert "Waiting for the café to start" in page.inner_text("#seat-body")


def cafe_me_seated(w, page, site):
    page.goto(w.running_people[3]["me_url"])  # Ivy, of the long department, or her tablemates
    page.wait_for_function("() => document.getElementById('timer').textContent.includes('left')")
    assert "Table" in page.inner_text("#seat-body")


def cafe_me_late(w, page, site):
    page.goto(w.late["me_url"])
    assert "under way" in page.inner_text("#seat-body")


def cafe_me_finished(w, page, site):
    page.goto(w.finished_people[0]["me_url"])
    assert "finished" in page.inner_text("#seat-body")


def cafe_left(w, page, site):
    page.goto(w.lobby_people[2]["me_url"])
    page.get_by_role("button", name="Leave the café").click()
    page.get_by_role("heading", name="You have left the café").wait_for()


def screen_lobby(w, page, site):
    page.goto(w.lobby["screen_url"])
    page.wait_for_function("() => window.io !== undefined")


def screen_running(w, page, site):
    page.goto(w.running["screen_url"])
    page.locator(".table-card").first.wait_for()
    page.wait_for_function("() => document.getElementById('screen-timer').textContent !== ''")


def screen_finished(w, page, site):
    page.goto(w.finished["screen_url"])
    assert "Thank you" in page.inner_text("#screen-round")


def form_expired(w, page, site):
    page.goto(site.base + "/cafe")
    page.locator("input[name=csrf_token]").evaluate("node => { node.value = 'stale'; }")
    page.get_by_label("Café code").fill(w.lobby["code"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Please try again").wait_for()
    return 400


def organiser_login(w, page, site):
    page.goto(site.base + "/organiser/login")


def organiser_login_wrong_password(w, page, site):
    page.goto(site.base + "/organiser/login")
    page.get_by_label("Email").fill("host@example.org")
    page.get_by_label("Password").fill("not the passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()
    return 401


def organiser_dashboard(w, page, site):
    page.goto(site.base + "/organiser/")
    page.get_by_role("heading", name="Your knowledge cafés").wait_for()


def organiser_new_trial(w, page, site):
    page.goto(site.base + "/organiser/")
    page.get_by_role("link", name="New trial", exact=True).click()
    page.get_by_role("heading", name="New coffee trial").wait_for()


def organiser_dashboard_error(w, page, site):
    page.goto(site.base + "/organiser/cafes/new")
    # Past the browser's own checks (as an old browser would be): the server's answer.
    page.locator("form:has(#cafe-name)").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Create café").click()  # no name
    page.get_by_role("alert").wait_for()
    return 400


def organiser_trial(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}")
    page.get_by_role("heading", name="Next round").wait_for()


def organiser_trial_rounds(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}")
    page.get_by_role("navigation", name=w.trial_name).get_by_role("link", name="Rounds").click()
    page.get_by_role("table").wait_for()


def organiser_round(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}/rounds")
    page.get_by_role("link", name="Round 1", exact=True).click()
    page.get_by_role("heading", name="Who met whom").wait_for()


def organiser_participants(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}")
    page.get_by_role("navigation", name=w.trial_name).get_by_role(
        "link", name="Participants").click()
    page.get_by_label("Department").select_option(index=1)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("status").wait_for()


def organiser_trial_settings(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}/settings")
    page.get_by_label("Confirm sign-ups by email").wait_for()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("status").wait_for()  # "The settings are saved…"


def signup_to_confirm(w, page, site):
    """A trial that confirms sign-ups: the form's answer says to look for the mail."""
    page.goto(w.confirming["join_url"])
    page.get_by_label("Your name").fill("Nia Jones")
    page.get_by_label("Work email").fill("nia@example.org")
    page.get_by_label("Department").fill("Midwifery")
    page.get_by_role("button", name="Join").click()
    page.get_by_role("heading", name="Check your email").wait_for()


_SIGN_UPS = itertools.count()


def _pending_sign_up(w, site) -> str:
    """A new sign-up to the confirming trial; its mailed confirmation link."""
    email = f"oli{next(_SIGN_UPS)}@example.org"
    call(site.base, "POST", f"/api/v1/trials/{w.confirming['id']}/signups", {
        "join_code": w.confirming["join_code"], "name": "Oli Grant",
        "email": email, "department": LONG_DEPARTMENT})
    return mailed_confirmation(site.outbox, email)


def confirm_page(w, page, site):
    """The mailed link: what is about to be confirmed, and the button."""
    page.goto(_pending_sign_up(w, site))
    page.get_by_role("heading", name="Confirm your sign-up").wait_for()
    assert LONG_DEPARTMENT in page.inner_text("main")
    page.get_by_role("button", name="Confirm and open my page").wait_for()


def confirmed(w, page, site):
    """Confirming opens the personal page, with the welcome."""
    page.goto(_pending_sign_up(w, site))
    page.get_by_role("button", name="Confirm and open my page").click()
    page.get_by_role("heading", name="Your current match").wait_for()
    assert "You are in" in page.get_by_role("status").first.inner_text()


def confirm_link_used(w, page, site):
    call(site.base, "POST", f"/api/v1/trials/{w.confirming['id']}/signups", {
        "join_code": w.confirming["join_code"], "name": "Pip Hale",
        "email": "pip@example.org", "department": "Audiology"})
    link = mailed_confirmation(site.outbox, "pip@example.org")
    token = link.rsplit("/", 1)[1]
    assert call(site.base, "POST", "/api/v1/confirmations", {"token": token})[0] == 201
    page.goto(link)
    page.get_by_role("heading", name="This link no longer works").wait_for()
    return 404


def organiser_trial_preview(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}?preview=1")
    assert "Preview:" in page.inner_text("main")


def organiser_trial_import_problems(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}/participants")
    page.get_by_label("People file").set_input_files({
        "name": "people.csv", "mimeType": "text/csv",
        "buffer": b"name,email,department\n,nobody@example.org,Finance\n"
                  b"Zed,not-an-address,\n"})
    page.get_by_role("button", name="Import").click()
    page.get_by_role("table", name="Problems in the file").wait_for()
    return 400


def organiser_console_lobby(w, page, site):
    page.goto(f"{site.base}/organiser/cafes/{w.lobby['id']}")
    page.wait_for_function("() => window.io !== undefined")


def organiser_console_running(w, page, site):
    page.goto(f"{site.base}/organiser/cafes/{w.running['id']}")
    page.wait_for_function("() => document.getElementById('console-timer').textContent !== '–'")


def organiser_console_finished(w, page, site):
    page.goto(f"{site.base}/organiser/cafes/{w.finished['id']}")
    assert page.inner_text("#console-status") == "Finished"


def organiser_print(w, page, site):
    page.goto(f"{site.base}/organiser/cafes/{w.running['id']}/print")
    page.get_by_role("heading", name="Per person").wait_for()


def organiser_print_before_the_start(w, page, site):
    page.goto(f"{site.base}/organiser/cafes/{w.lobby['id']}/print")


def organiser_trial_analytics(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}/analytics")
    page.get_by_role("heading", level=1).wait_for()
    assert page.inner_text("h1").startswith("Mixing:")
    assert page.locator("svg[role=img]").count() >= 4


def organiser_cafe_analytics(w, page, site):
    page.goto(f"{site.base}/organiser/cafes/{w.running['id']}/analytics")
    assert page.locator("svg[role=img]").count() >= 4


def personal_page_feedback_saved(w, page, site):
    page.goto(w.people[1]["me_url"])
    page.get_by_label("Yes, we met").check()
    page.get_by_label("No, we had not met").check()
    page.get_by_label("5 — very useful").check()
    page.get_by_role("group", name="Would you do it again?").get_by_label("Yes").check()
    page.get_by_label("What did you learn").fill("Estates have a fault line.\nI will use it.")
    page.get_by_label("You may quote this").check()
    page.get_by_role("button", name="Save my answers").click()
    page.get_by_text("your feedback is saved").wait_for()
    assert page.get_by_label("5 — very useful").is_checked()


def personal_page_feedback_with_errors(w, page, site):
    page.goto(w.people[2]["me_url"])
    page.get_by_label("3 — quite").check()
    page.get_by_role("button", name="Save my answers").click()
    page.get_by_role("alert").wait_for()
    assert "met" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("3 — quite").is_checked()  # nothing lost
    return 400


def organiser_trial_evaluation(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}/evaluation")
    assert page.inner_text("h1").startswith("Evaluation:")
    assert page.locator("svg[role=img]").count() == 3
    page.get_by_role("link", name="PDF").wait_for()


def organiser_trial_evaluation_bad_period(w, page, site):
    page.goto(f"{site.base}/organiser/trials/{w.trial['id']}/evaluation?from=2036-03-01"
              "&to=2036-02-01")
    page.get_by_role("alert").wait_for()
    return 400


def not_found(w, page, site):
    page.goto(site.base + "/me/no-such-link")  # a mistyped or dead personal link
    return 404


def datetime_of(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


PAGES = [front_door, front_door_join, organiser_front_door,
         signup, signup_with_errors, lost_link_sent, personal_page, personal_page_long_partner,
         personal_page_with_the_next_round, action_link, action_link_done_then_used,
         action_link_forged, organiser_mail_preview_introduction,
         organiser_mail_preview_reminder,
         personal_page_before_any_round, personal_page_paused, left_the_trial,
         cafe_enter, cafe_enter_wrong_code, cafe_join, cafe_join_with_errors, cafe_join_finished,
         cafe_me_waiting, cafe_me_seated, cafe_me_late, cafe_me_finished, cafe_left,
         screen_lobby, screen_running, screen_finished, form_expired,
         organiser_login, organiser_login_wrong_password, organiser_dashboard,
         organiser_dashboard_error, organiser_new_trial, organiser_trial, organiser_round,
         organiser_participants, organiser_trial_preview, organiser_trial_rounds,
         organiser_trial_settings, signup_to_confirm, confirm_page, confirmed,
         confirm_link_used,
         organiser_trial_import_problems, organiser_console_lobby, organiser_console_running,
         organiser_console_finished, organiser_print, organiser_print_before_the_start,
         organiser_trial_analytics, organiser_cafe_analytics,
         personal_page_feedback_saved, personal_page_feedback_with_errors,
         organiser_trial_evaluation, organiser_trial_evaluation_bad_period,
         not_found]


def _expected_status_logged(errors: list[str], status: int | None) -> list[str]:
    """Chromium logs a page answered with an error status (a form sent back with
    its errors) as a failed resource: expected there, and only there."""
    if status is None:
        return errors
    logged = f"the server responded with a status of {status}"
    return [e for e in errors if logged not in e]


def _name(spec) -> str:
    return spec.__name__ if callable(spec) else spec.values[0].__name__


@pytest.mark.parametrize("open_page", PAGES, ids=[_name(spec) for spec in PAGES])
def test_page_is_accessible_fits_a_phone_and_logs_no_errors(world, site, open_page):
    _check(world, site, open_page, width=PHONE["width"])


def _check(world, site, open_page, *, width: int) -> None:
    """Open the page in the context its name says, ``width`` pixels wide, and check it."""
    context = world.organiser if open_page.__name__.startswith("organiser") else world.phone
    page = context.new_page()  # its context is a phone's
    if width != PHONE["width"]:
        page.set_viewport_size({"width": width, "height": 900})
    errors: list[str] = []
    watch(page, errors)
    try:
        status = open_page(world, page, site)
        errors[:] = _expected_status_logged(errors, status)
        assert_good_page(page, errors, width=width)
    finally:
        page.close()


#: The front door, the dashboard, a trial's tabs, the confirmation and the
#: personal page on a desktop too.
DESKTOP_PAGES = [front_door, organiser_front_door, organiser_dashboard, organiser_new_trial,
                 organiser_trial, organiser_trial_rounds, organiser_round,
                 organiser_participants, organiser_trial_settings, signup_to_confirm,
                 confirm_page, personal_page]


@pytest.mark.parametrize("open_page", DESKTOP_PAGES, ids=[p.__name__ for p in DESKTOP_PAGES])
def test_page_on_a_desktop(world, site, open_page):
    _check(world, site, open_page, width=1280)


def test_the_trial_tabs_work_with_the_keyboard(world, site):
    """Tab to a trial's "Rounds" tab, Enter: the rounds; the tab says it is current."""
    page = world.organiser.new_page()
    errors: list[str] = []
    watch(page, errors)
    try:
        page.goto(f"{site.base}/organiser/trials/{world.trial['id']}")
        tab_to(page, "Rounds")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        current = page.get_by_role("navigation", name=world.trial_name).locator(
            "[aria-current=page]")
        assert current.inner_text() == "Rounds"
        tab_to(page, "Settings")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.get_by_label("Confirm sign-ups by email").wait_for()
        assert errors == [], "\n".join(errors)
    finally:
        page.close()


@pytest.mark.parametrize("screen", ["lobby", "running"])
def test_big_screen_on_a_projector(world, site, screen):
    """The big screen is for a projector first: the same checks at 1600 × 900."""
    page = world.phone.new_page()
    page.set_viewport_size({"width": 1600, "height": 900})
    errors: list[str] = []
    watch(page, errors)
    try:
        page.goto(getattr(world, screen)["screen_url"])
        page.wait_for_function("() => window.io !== undefined")
        assert_good_page(page, errors, width=1600)
    finally:
        page.close()


def test_host_runs_the_cafe_with_the_keyboard(world, site):
    """Tab to "Start the café", Enter; Tab to "Next round", Enter: the console
    and a phone follow; the focus ring shows where the keyboard is."""
    cafe, joined = _cafe(site, "Keyboard café", [
        {"name": name, "department": department} for name, department in
        [("Ana", "IT"), ("Ben", "HR"), ("Cai", "Surgery"), ("Dov", "Estates")]],
        rounds=2, table_size=2)
    errors: list[str] = []
    phone = watch(world.phone.new_page(), errors)
    phone.goto(joined[0]["me_url"])
    host = watch(world.organiser.new_page(), errors)
    try:
        host.goto(f"{site.base}/organiser/cafes/{cafe['id']}")
        tab_to(host, "Start the café (round 1)")
        with host.expect_navigation():
            host.keyboard.press("Enter")
        assert host.inner_text("#console-status") == "Round 1 of 2"
        phone.wait_for_function(
            "() => document.getElementById('seat-body').innerText.includes('Round 1 of 2')")
        tab_to(host, "Next round (2 of 2)")
        with host.expect_navigation():
            host.keyboard.press("Enter")
        assert host.inner_text("#console-status") == "Round 2 of 2"
        phone.wait_for_function(
            "() => document.getElementById('seat-body').innerText.includes('Round 2 of 2')")
        assert_good_page(host, errors)
    finally:
        host.close()
        phone.close()


def test_the_api_docs_page_reads_the_document_and_loads_nothing_from_elsewhere(world, site):
    """/api/v1/docs: Swagger UI (vendored) lists every operation of the document,
    and every request the page makes is to this site."""
    page = world.phone.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    errors: list[str] = []
    requested: list[str] = []
    watch(page, errors)
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(f"{site.base}/api/v1/docs")
        page.locator(".opblock").first.wait_for()
        document = page.request.get(f"{site.base}/api/v1/openapi.json").json()
        operations = sum(len(item) for item in document["paths"].values())
        assert page.locator(".opblock").count() == operations
        assert page.get_by_text("createTrial").count() or page.get_by_text(
            "Create a coffee trial.").count()
        assert [url for url in requested
                if not url.startswith(site.base) and not url.startswith("data:")] == []
        assert errors == [], "\n".join(errors)
    finally:
        page.close()

