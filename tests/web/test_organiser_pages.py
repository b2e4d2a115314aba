"""Organiser pages: sign in, create a trial, preview, publish, export."""

import functools

import pytest

from matcher.accounts import create_organiser, set_password
from matcher.models import Organiser


@functools.cache
def _password_hashes() -> tuple[str, str]:
    """The Argon2id hashes of Ann's and Bob's passwords, made once for the module
    (each is a tenth of a second of work on purpose); signing in checks one."""
    ann, bob = Organiser(), Organiser()
    set_password(ann, "correct horse")
    set_password(bob, "battery staple")
    return ann.password_hash, bob.password_hash


@pytest.fixture
def signed_in(app, client):
    ann_hash, bob_hash = _password_hashes()
    with app.extensions["matcher.sessions"]() as db:
        create_organiser(db, "ann@example.org", "Ann")[0].password_hash = ann_hash
        create_organiser(db, "bob@example.org", "Bob")[0].password_hash = bob_hash
        db.commit()
    reply = client.post("/organiser/login", data={"email": "ann@example.org",
                                                  "password": "correct horse"})
    assert reply.status_code == 303
    return client


def test_pages_need_a_signed_in_organiser(client):
    reply = client.get("/organiser/")
    assert reply.status_code == 302 and "/organiser/login" in reply.headers["Location"]
    bad = client.post("/organiser/login", data={"email": "x@example.org", "password": "nope"})
    assert bad.status_code == 401 and "do not match" in bad.get_data(as_text=True)


def test_create_preview_publish_export(signed_in, app):
    client = signed_in
    reply = client.post("/organiser/trials", data={"name": "Spring coffee", "group_size": "2"})
    assert reply.status_code == 303
    page_url = reply.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    join = page.split("Join link for staff: <a href=\"")[1].split('"')[0]
    join_path = "/join/" + join.rsplit("/", 1)[-1]
    for k in range(6):
        client.post(join_path, data={"name": f"Person {k}", "email": f"p{k}@example.org",
                                     "department": ["Nursing", "IT", "HR"][k % 3]})
    preview = " ".join(client.get(page_url + "?preview=1").get_data(as_text=True).split())
    assert "Preview: 6 people, 3 groups, 0 repeats" in preview and "Person 0" in preview
    assert client.post(page_url + "/publish").status_code == 303
    page = client.get(page_url).get_data(as_text=True)
    assert "Round 1: 3 groups, 0 repeats" in page
    csv = client.get(page_url + "/history.csv")
    assert csv.status_code == 200 and csv.data.count(b"\n") == 7
    assert client.get(page_url + "/history.graphml").status_code == 200
    dashboard = client.get("/organiser/").get_data(as_text=True)
    assert "Spring coffee" in dashboard


def test_another_organisers_trial_is_forbidden(signed_in, app):
    client = signed_in
    page_url = client.post("/organiser/trials", data={"name": "Mine"}).headers["Location"]
    client.post("/organiser/logout")
    client.post("/organiser/login", data={"email": "bob@example.org",
                                          "password": "battery staple"})
    assert client.get(page_url).status_code == 403
    assert client.post(page_url + "/publish").status_code == 403
    assert client.get("/organiser/trials/999").status_code == 404


def test_bad_trial_form_shows_the_error(signed_in):
    reply = signed_in.post("/organiser/trials", data={"name": "", "group_size": "2"})
    assert reply.status_code == 400 and "name is required" in reply.get_data(as_text=True)


def test_settings_can_be_changed_from_the_page(signed_in):
    client = signed_in
    page_url = client.post("/organiser/trials", data={"name": "Mine"}).headers["Location"]
    form = {"name": "Renamed", "description": "", "group_size": "3", "odd": "sitout",
            "weight_department": "5", "weight_organisation": "2", "weight_site": "0",
            "weight_role": "1"}
    reply = client.post(page_url + "/settings", data=form)
    assert reply.status_code == 303 and reply.headers["Location"] == page_url + "/settings"
    page = client.get(page_url + "/settings").get_data(as_text=True)
    assert "<h1>Renamed</h1>" in page and 'value="5"' in page
    assert "The settings are saved" in page
    bad = client.post(page_url + "/settings", data=form | {"group_size": "1"})
    assert bad.status_code == 400 and "group_size" in bad.get_data(as_text=True)


def _new_trial(client) -> str:
    reply = client.post("/organiser/trials", data={"name": "Spring coffee"})
    assert reply.status_code == 303
    return reply.headers["Location"]


def test_import_from_the_trial_page_lists_problems_per_row(signed_in, outbox):
    import io

    from tests.support.mail import mailed_links

    client = signed_in
    page_url = _new_trial(client)
    bad = b"name,email,department\nAnn Lee,ann@example.org,Nursing\n,bob@,IT\n"
    reply = client.post(page_url + "/participants", content_type="multipart/form-data",
                        data={"file": (io.BytesIO(bad), "staff.csv")})
    assert reply.status_code == 400
    page = " ".join(reply.get_data(as_text=True).split())
    assert "2 problems in 1 row; nothing was imported" in page
    assert "<td>3</td><td>name</td><td>name is empty</td>" in page
    assert "<td>3</td><td>email</td><td>&#39;bob@&#39; is not an email address</td>" in page
    assert "Nobody has joined yet" in page

    good = b"name,email,department\nAnn Lee,ann@example.org,Nursing\nBob Roy,bob@example.org,IT\n"
    reply = client.post(page_url + "/participants", content_type="multipart/form-data",
                        data={"file": (io.BytesIO(good), "staff.csv")})
    assert reply.status_code == 303
    page = " ".join(client.get(reply.headers["Location"]).get_data(as_text=True).split())
    assert "Imported 2 people; each is being mailed their personal link." in page
    assert "Ann Lee" in page and "bob@example.org" in page
    assert "/me/" not in page  # the organiser never sees a participant's link
    assert set(mailed_links(outbox)) == {"ann@example.org", "bob@example.org"}

    missing = client.post(page_url + "/participants", content_type="multipart/form-data",
                          data={})
    assert missing.status_code == 400 and "Choose a people file" in missing.get_data(True)


def test_mail_a_participant_a_new_link_from_the_trial_page(signed_in, app, outbox):
    import io

    from tests.support.mail import mailed_links

    client = signed_in
    page_url = _new_trial(client)
    client.post(page_url + "/participants", content_type="multipart/form-data",
                data={"file": (io.BytesIO(b"name,email,department\nAnn,ann@example.org,IT\n"),
                               "staff.csv")})
    old = mailed_links(outbox)["ann@example.org"]
    page = client.get(page_url + "/participants").get_data(as_text=True)
    action = page.split('action="')[1:]
    link_action = next(a.split('"')[0] for a in action if a.split('"')[0].endswith("/link"))
    reply = client.post(link_action)
    assert reply.status_code == 303
    assert "A new link is being mailed to Ann" in client.get(
        reply.headers["Location"]).get_data(True)
    assert mailed_links(outbox)["ann@example.org"] != old
    assert client.get(old).status_code == 404


def test_the_dashboard_shows_each_trials_headline_figures(signed_in, app):
    client = signed_in
    page_url = _new_trial(client)
    page = client.get(page_url).get_data(as_text=True)
    join_path = "/join/" + page.split("Join link for staff: <a href=\"")[1].split('"')[0].rsplit(
        "/", 1)[-1]
    for k in range(5):
        client.post(join_path, data={"name": f"Person {k}", "email": f"p{k}@example.org",
                                     "department": ["Nursing", "IT"][k % 2]})
    assert client.post(page_url + "/publish").status_code == 303
    dashboard = " ".join(client.get("/organiser/").get_data(as_text=True).split())
    assert "<strong>5</strong> participants" in dashboard
    assert "<strong>2</strong> departments" in dashboard
    assert "<strong>1</strong> rounds, the latest on" in dashboard
    # 5 people in groups of 2 with a triad: 2 introductions, both across departments.
    assert "<strong>2</strong> introductions, 100% across departments" in dashboard
    assert "<strong>5</strong> of 5 have met someone from another department" in dashboard
    assert "5 yet to say" in dashboard
    assert "<strong>0</strong> repeats in the latest round" in dashboard


def _hidden_after(page: str, form_action: str) -> str:
    form = page.split(f'action="{form_action}"', 1)[1].split("</form>", 1)[0]
    return form.split('name="after"', 1)[1].split('value="', 1)[1].split('"', 1)[0]


def test_a_double_click_on_publish_publishes_one_round(signed_in, app):
    """The publish form says which round the page showed: the second of two
    submissions of the same page is told someone published already."""
    client = signed_in
    page_url = client.post("/organiser/trials", data={"name": "Twice"}).headers["Location"]
    join = client.get(page_url).get_data(as_text=True).split(
        "Join link for staff: <a href=\"")[1].split('"')[0]
    for k in range(4):
        client.post("/join/" + join.rsplit("/", 1)[-1], data={
            "name": f"Person {k}", "email": f"p{k}@example.org", "department": "IT"})
    after = _hidden_after(client.get(page_url).get_data(as_text=True), page_url + "/publish")
    assert after == "0"
    assert client.post(page_url + "/publish", data={"after": after}).status_code == 303
    again = client.post(page_url + "/publish", data={"after": after})
    assert again.status_code == 409
    assert "someone published a round already" in again.get_data(as_text=True)
    page = client.get(page_url).get_data(as_text=True)
    assert "Round 1:" in page and "Round 2:" not in page
    assert _hidden_after(page, page_url + "/publish") == "1"
    bad = client.post(page_url + "/publish", data={"after": "one"})
    assert bad.status_code == 400 and "after must be a whole number" in bad.get_data(as_text=True)
    assert client.post(page_url + "/publish", data={"after": "1"}).status_code == 303


def test_a_double_click_on_next_round_starts_one_round(signed_in, app):
    client = signed_in
    app.config["CAFE_TIME_LIMIT"] = 0.5
    console = client.post("/organiser/cafes", data={
        "name": "Twice café", "by": "tables", "table_count": "2", "rounds": "3",
        "round_minutes": "10"}).headers["Location"]
    code = client.get(console).get_data(as_text=True).split('data-code="', 1)[1].split('"')[0]
    for k in range(6):
        assert client.post(f"/api/v1/cafes/{code}/participants", json={
            "name": f"P{k}", "department": ["IT", "HR"][k % 2]}).status_code == 201
    after = _hidden_after(client.get(console).get_data(as_text=True), console + "/next")
    assert after == "0"
    assert client.post(console + "/next", data={"after": after}).status_code == 303
    again = client.post(console + "/next", data={"after": after})
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "someone went to the next round already" in page
    assert 'id="console-status">Round 1 of 3<' in page
    assert _hidden_after(page, console + "/next") == "1"
    assert client.post(console + "/next", data={"after": "1"}).status_code == 303
    assert 'Round 2 of 3' in client.get(console).get_data(as_text=True)


def _new_trial_with_people(client, people=4):
    reply = client.post("/organiser/trials", data={"name": "Weekly coffee", "group_size": "2"})
    page_url = reply.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    join_path = "/join/" + page.split("Join link for staff: <a href=\"")[1].split('"')[0] \
        .rsplit("/", 1)[-1]
    links = []
    for k in range(people):
        joined = client.post(join_path, data={"name": f"Person {k}",
                                              "email": f"p{k}@example.org",
                                              "department": ["Nursing", "IT"][k % 2]})
        links.append(joined.headers["Location"])
    return page_url, links


SCHEDULE_FORM = {"action": "save", "first_round_at": "2036-03-02T10:00",
                 "time_zone": "Europe/London", "every": "P2W", "rounds": "",
                 "reminder_before": "P1D", "check_in_after": "P7D",
                 "meeting_after_days": "2", "meeting_time": "13:00", "meeting_minutes": "45",
                 "icebreakers": "What are you reading?\n\nBest lunch spot nearby?\n"}


def test_the_schedule_form_sets_the_schedule_and_every_page_shows_the_next_round(signed_in):
    client = signed_in
    page_url, links = _new_trial_with_people(client)
    reply = client.post(page_url + "/schedule", data=SCHEDULE_FORM)
    assert reply.status_code == 303
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "The schedule is saved." in page
    when = "Sunday 2 March 2036 at 10:00 (Europe/London)"
    assert when in page
    assert "What are you reading?\nBest lunch spot nearby?</textarea>" in page
    assert 'value="45"' in page and 'value="13:00"' in page and 'value="2"' in page
    assert "Next round: <time" in client.get("/organiser/").get_data(as_text=True)
    assert when in client.get("/organiser/").get_data(as_text=True)
    personal = client.get(links[0]).get_data(as_text=True)
    assert when in personal and "You will be matched then." in personal
    # Paused: no date promised anywhere.
    client.post(page_url + "/schedule", data={"action": "pause"})
    assert "The schedule is paused." in client.get(page_url).get_data(as_text=True)
    assert when not in client.get(links[0]).get_data(as_text=True)


@pytest.mark.parametrize("change, message", [
    ({"time_zone": "Mars/Olympus"}, "time_zone must be an IANA time zone"),
    ({"first_round_at": ""}, "first_round_at must be a date and time"),
    ({"meeting_minutes": "2"}, "meeting.minutes must be a whole number from 5 to 480"),
    ({"icebreakers": "x" * 301}, "icebreakers[0] is longer than 300 characters"),
])
def test_a_bad_schedule_form_says_what_is_wrong_and_keeps_nothing(signed_in, change, message):
    client = signed_in
    page_url, _ = _new_trial_with_people(client, 0)
    reply = client.post(page_url + "/schedule", data=SCHEDULE_FORM | change)
    assert reply.status_code == 400 and message in reply.get_data(as_text=True)
    assert "publishes itself" not in client.get(page_url).get_data(as_text=True)


@pytest.mark.parametrize("kind, words", [
    ("introduction", ["Sam Sample (Estates)", "invite.ics", "BEGIN:VEVENT",
                      "What are you reading?"]),
    ("sitting_out", ["you sit out"]),
    ("reminder", ["Skip this round only", "/a/skip/", "Sunday 2 March at 10:00"]),
    ("check_in", ["Did you meet Sam Sample", "/a/met-yes/", "/a/met-no/"]),
])
def test_the_mail_preview_shows_what_a_participant_receives(signed_in, kind, words):
    client = signed_in
    page_url, _ = _new_trial_with_people(client)
    client.post(page_url + "/schedule", data=SCHEDULE_FORM)
    assert f'/mail/{kind}"' in client.get(page_url).get_data(as_text=True)
    reply = client.get(f"{page_url}/mail/{kind}")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    for word in words:
        assert word in page, word
    assert "Alex Example" in page and "List-Unsubscribe" in page
    # An example, not anyone's real data or links.
    assert "p0@example.org" not in page and "Person 0" not in page and "/me/" not in \
        page.replace("/me/(the participant", "")
    assert client.get(f"{page_url}/mail/nonsense").status_code == 404
    # The HTML part, framed by the preview: its own policy, nothing runs in it.
    assert 'src="/organiser/trials/' in page and f'/mail/{kind}/html"' in page
    framed = client.get(f"{page_url}/mail/{kind}/html")
    assert framed.status_code == 200 and "Alex Example" in framed.get_data(as_text=True)
    policy = framed.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "frame-ancestors 'self'" in policy and "script" not in policy
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get(f"{page_url}/mail/nonsense/html").status_code == 404


def test_a_schedule_set_through_the_api_keeps_its_values_in_the_form(signed_in, app):
    """Delays the form's lists do not offer (set through the API, or the demo's) are
    shown and kept when the form is saved again."""
    client = signed_in
    page_url, _ = _new_trial_with_people(client, 0)
    form = SCHEDULE_FORM | {"reminder_before": "PT1M", "check_in_after": "PT2M",
                            "every": "P3W"}
    assert client.post(page_url + "/schedule", data=form).status_code == 303
    page = client.get(page_url + "/settings").get_data(as_text=True)
    for value in ("PT1M", "PT2M", "P3W"):
        assert f'<option value="{value}" selected>' in page


def test_the_new_cafe_form_makes_a_review_with_its_questions(signed_in, app):
    client = signed_in
    assert 'href="/organiser/cafes/new">New café</a>' in client.get("/organiser/").get_data(
        as_text=True)
    page = client.get("/organiser/cafes/new").get_data(as_text=True)
    assert 'value="after-action-review"' in page and "Anonymous notes" in page
    # Rounds and questions left empty: the review's own, a round each.
    reply = client.post("/organiser/cafes", data={
        "name": "Winter review", "by": "tables", "table_count": "3", "rounds": "",
        "questions": "", "format": "keep-revert-stop", "anonymous_notes": "yes",
        "pledge_reminder_days": "30"})
    assert reply.status_code == 303
    console = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Keep, revert, stop · anonymous notes" in console
    code = console.split('data-code="', 1)[1].split('"')[0]
    from sqlalchemy import select

    from matcher.models import Cafe

    with app.extensions["matcher.sessions"]() as db:
        cafe = db.scalar(select(Cafe).where(Cafe.code == code))
        assert (cafe.rounds, cafe.anonymous_notes, cafe.pledge_reminder_days) == (3, True, 30)
        assert cafe.questions[0] == "What new practice should we keep?"
    harvest = client.get(reply.headers["Location"] + "/harvest")
    assert harvest.status_code == 200 and "No notes yet." in harvest.get_data(as_text=True)
    # A bad value is named, and the form keeps what was typed.
    bad = client.post("/organiser/cafes", data={
        "name": "Odd", "by": "tables", "table_count": "3", "rounds": "",
        "format": "cafe", "pledge_reminder_days": "999"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "pledge_reminder_days must be a whole number from 1 to 365" in text
    assert 'value="Odd"' in text


def test_the_front_door_says_what_this_is_and_where_to_go(client):
    reply = client.get("/")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "coffee trials and knowledge cafés" in page
    assert 'href="/organiser/login"' in page and ">Sign in<" in page
    # The café code box posts to the café entrance, with its CSRF token.
    assert 'action="/cafe"' in page and 'name="code"' in page and 'name="csrf_token"' in page
    assert "Lost your personal link?" in page and "Email me a new link" in page
    assert 'href="/api/v1/docs"' in page


def test_the_front_door_takes_a_cafe_code(client):
    """Its form is the café entrance's: a wrong code gets that page's error."""
    reply = client.post("/cafe", data={"code": "NOSUCH"})
    assert reply.status_code == 404 and "Café code" in reply.get_data(as_text=True)


def test_a_signed_in_organiser_is_sent_on_from_the_front_door(signed_in):
    page = signed_in.get("/").get_data(as_text=True)
    assert "signed in as Ann" in page and 'href="/organiser/"' in page
    assert ">Sign in<" not in page


def test_every_organiser_page_has_the_same_header(signed_in):
    dashboard = signed_in.get("/organiser/").get_data(as_text=True)
    assert '<nav aria-label="Organiser">' in dashboard
    assert 'href="/organiser/" aria-current="page">Trials and cafés</a>' in dashboard
    assert dashboard.count(">Sign out</button>") == 1 and "Ann" in dashboard
    page_url, _ = _new_trial_with_people(signed_in)
    trial = signed_in.get(page_url).get_data(as_text=True)
    assert '<nav aria-label="Organiser">' in trial and ">Sign out</button>" in trial
    assert 'aria-current="page">Trials and cafés' not in trial
    # The sign-in page has none (nobody is signed in there).
    signed_in.post("/organiser/logout")
    assert "Organiser" not in signed_in.get("/organiser/login").get_data(as_text=True).split(
        "<main")[0]


def test_each_round_has_a_page_of_who_met_whom(signed_in):
    """Groups with names and departments, repeats flagged, who sat out, and the
    "did you meet?" answers; linked from the trial's past rounds."""
    client = signed_in
    page_url, links = _new_trial_with_people(client, people=4)
    for after in range(4):  # 4 people meet all 3 others in 3 rounds: round 4 repeats
        assert client.post(page_url + "/publish", data={"after": after}).status_code == 303
    overview = client.get(page_url).get_data(as_text=True)
    assert f'href="{page_url}/rounds/4">Round 4: 2 groups' in overview  # the latest
    assert f'href="{page_url}/rounds">all 4 rounds</a>' in overview
    rounds = client.get(page_url + "/rounds").get_data(as_text=True)
    assert rounds.index(f'href="{page_url}/rounds/4">Round 4</a>') < rounds.index(
        f'href="{page_url}/rounds/1">Round 1</a>')  # newest first
    assert 'href="/organiser/trials/1/rounds" aria-current="page">Rounds</a>' in rounds
    first = client.get(page_url + "/rounds/1").get_data(as_text=True)
    assert "<h2>Round 1</h2>" in first and "Who met whom" in first
    assert 'href="/organiser/trials/1/rounds" aria-current="page">Rounds</a>' in first
    for k in range(4):
        assert f"Person {k} ({['Nursing', 'IT'][k % 2]})" in first
    assert "Repeat:" not in first and "Nobody sat out." in first
    assert f'href="{page_url}/rounds/2">Round 2 →</a>' in first
    fourth = client.get(page_url + "/rounds/4").get_data(as_text=True)
    assert fourth.count("Repeat:") == 2 and "2</strong> pairs who had met before" in fourth
    # "Did you meet?" from a personal page shows on the round's page.
    token = links[0].rsplit("/", 1)[1]
    assert client.post("/api/v1/me/met", json={"met": False},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 200
    fourth = client.get(page_url + "/rounds/4").get_data(as_text=True)
    assert "Person 0: no" in fourth and "that it did not happen" in fourth
    assert client.get(page_url + "/rounds/5").status_code == 404
    assert client.get(page_url + "/rounds/0").status_code == 404


def test_a_round_page_lists_who_sat_out(signed_in, app):
    client = signed_in
    page_url, _ = _new_trial_with_people(client, people=5)
    client.post(page_url + "/settings", data={"name": "Weekly coffee", "group_size": "2",
                                              "odd": "sitout"})
    assert client.post(page_url + "/publish", data={"after": 0}).status_code == 303
    page = client.get(page_url + "/rounds/1").get_data(as_text=True)
    sat_out = page.split("<h3>Sat out</h3>")[1]
    assert sat_out.count("<li>Person ") == 1


def test_the_join_link_has_a_qr_code_and_an_a4_poster(signed_in):
    import io

    from pypdf import PdfReader

    client = signed_in
    page_url, _ = _new_trial_with_people(client, people=0)
    page = client.get(page_url).get_data(as_text=True)
    join_url = page.split('Join link for staff: <a href="')[1].split('"')[0]
    assert '<figure class="join-qr"><svg' in page
    assert f'href="{page_url}/poster.pdf"' in page
    reply = client.get(page_url + "/poster.pdf")
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    assert 'filename="poster-' in reply.headers["Content-Disposition"]
    pdf = PdfReader(io.BytesIO(reply.data))
    assert len(pdf.pages) == 1
    box = pdf.pages[0].mediabox  # A4: 595 × 842 points
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = pdf.pages[0].extract_text()
    assert "Weekly coffee" in text and "Scan to join" in text
    assert join_url.rsplit("/", 1)[1] in text.replace("\n", "")


def test_participants_are_found_by_name_department_and_status_a_page_at_a_time(signed_in):
    client = signed_in
    page_url, links = _new_trial_with_people(client, people=62)
    token = links[7].rsplit("/", 1)[1]
    client.post("/api/v1/me/pause", headers={"Authorization": f"Bearer {token}"})
    overview = client.get(page_url).get_data(as_text=True)
    assert f'href="{page_url}/participants">Participants</a>' in overview  # its tab

    def find(**query):
        reply = client.get(page_url + "/participants", query_string=query)
        assert reply.status_code == 200
        return reply.get_data(as_text=True)

    first = find()
    assert "62 participants; page 1 of 2." in first and first.count("<tr><td>Person") == 50
    assert "Next page →" in first and "Previous page" not in first
    second = find(page=2)
    assert second.count("<tr><td>Person") == 12 and "← Previous page" in second
    assert find(page=99).count("<tr><td>Person") == 12  # past the last: the last
    assert "1 participant." in find(q="person 17")  # any case, name or email
    assert "1 participant." in find(q="P17@EXAMPLE")
    assert "Nobody matches." in find(q="%") and "Nobody matches." in find(q="_")
    nursing = find(department="Nursing")
    assert "31 participants" in nursing and "(IT)" not in nursing
    assert '<option value="Nursing" selected>' in nursing
    paused = find(status="paused")
    assert "1 participant." in paused and "Person 7" in paused
    active = find(status="active")
    assert "61 participants; page 1 of 2." in active
    # The filters are kept from page to page.
    assert "page=2" in active and "status=active" in active.split("Next page")[0][-200:]
    assert client.get(page_url + "/participants?status=gone").status_code == 400
    assert client.get(page_url + "/participants?page=x").status_code == 400
