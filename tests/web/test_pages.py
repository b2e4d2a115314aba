"""The sign-up page and the personal page (server-rendered; live updates are
covered by the Socket.IO tests)."""

import re

import pytest


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def trial(client, organiser_token):
    return client.post("/api/v1/trials", json={"name": "Spring coffee", "confirm_email": False},
                       headers=auth(organiser_token)).get_json()


def join_path(trial):
    return "/join/" + trial["join_url"].rsplit("/", 1)[-1]


def form(k, **extra):
    return {"name": f"Person {k}", "email": f"p{k}@example.org", "department": "Nursing",
            "mode": "either"} | extra


def test_the_join_page_labels_every_field(client, trial):
    page = client.get(join_path(trial))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for field in ("name", "email", "department", "organisation", "site", "role", "mode"):
        assert f'<label for="{field}"' in html and f'id="{field}"' in html
    assert client.get("/join/nope").status_code == 404


def test_signing_up_leads_to_the_personal_page(client, trial):
    reply = client.post(join_path(trial), data=form(1))
    assert reply.status_code == 303
    me = reply.headers["Location"]
    assert re.search(r"/me/[\w-]{20,}$", me)
    page = client.get(me).get_data(as_text=True)
    assert "Hello, Person 1" in page and "No round yet" in page
    assert "socket.io.min.js" in page
    assert client.get("/me/not-a-token").status_code == 404


def test_form_errors_name_the_field_and_keep_the_input(client, trial):
    reply = client.post(join_path(trial), data=form(1, email="nope"))
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "email does not look like an email address" in html
    assert 'value="Person 1"' in html and 'aria-invalid="true"' in html


def test_a_second_signup_with_one_email_is_refused_without_details(client, trial):
    client.post(join_path(trial), data=form(1))
    reply = client.post(join_path(trial), data=form(1, name="Mallory"))
    assert reply.status_code == 409
    assert "Person 1" not in reply.get_data(as_text=True)


def test_names_are_shown_as_text(client, trial):
    reply = client.post(join_path(trial), data=form(1, name="<script>alert(1)</script>"))
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_pause_met_and_leave_from_the_page(client, trial, organiser_token):
    pages = [client.post(join_path(trial), data=form(k)).headers["Location"] for k in range(4)]
    mine = pages[0]
    assert "Resume" in client.post(mine + "/pause", follow_redirects=True).get_data(as_text=True)
    assert "Pause" in client.post(mine + "/resume", follow_redirects=True).get_data(as_text=True)
    client.post(f"/api/v1/trials/{trial['id']}/rounds", json={"publish": True},
                headers=auth(organiser_token))
    page = client.get(mine).get_data(as_text=True)
    assert "Round 1: meet" in page and "mailto:" in page
    page = client.post(mine + "/met", data={"met": "no"}, follow_redirects=True)
    assert "it did not happen" in page.get_data(as_text=True)
    left = client.post(mine + "/leave")
    assert "have been deleted" in left.get_data(as_text=True)
    assert client.get(mine).status_code == 404


def test_the_socket_io_client_is_served_with_its_licence(client):
    script = client.get("/static/vendor/socket.io/socket.io.min.js")
    assert script.status_code == 200 and b"Socket.IO" in script.data[:200]
    assert client.get("/static/vendor/socket.io/LICENSE").status_code == 200


def test_a_lost_link_can_be_mailed_again_from_the_join_page(client, organiser_token, outbox):
    from tests.support.mail import mailed_links

    trial = client.post("/api/v1/trials", json={"name": "Spring coffee", "confirm_email": False},
                        headers={"Authorization": f"Bearer {organiser_token}"}).get_json()
    join = f"/join/{trial['join_code']}"
    signed = client.post(join, data={"name": "Ann", "email": "ann@example.org",
                                     "department": "IT"})
    assert signed.status_code == 303
    first = mailed_links(outbox)["ann@example.org"]
    assert first.endswith(signed.headers["Location"])
    welcome = client.get(signed.headers["Location"]).get_data(as_text=True)
    assert "We have also emailed you the link" in welcome

    page = client.get(join).get_data(as_text=True)
    assert "Email me a new link" in page and 'for="link-email"' in page
    known = client.post(join + "/link", data={"email": "ann@example.org"})
    unknown = client.post(join + "/link", data={"email": "zed@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert mailed_links(outbox)["ann@example.org"] != first
    bad = client.post(join + "/link", data={"email": "ann@"})
    assert bad.status_code == 400 and "does not look like an email" in bad.get_data(True)


def test_a_participant_changes_their_details_on_their_page(client, trial):
    me = client.post(join_path(trial), data=form(1)).headers["Location"]
    page = client.get(me).get_data(as_text=True)
    for field in ("name", "department", "organisation", "site", "role", "mode"):
        assert f'<label for="detail-{field}"' in page and f'id="detail-{field}"' in page
    assert 'value="Nursing"' in page and "p1@example.org" in page
    moved = form(1, department="Pharmacy", site="North", mode="virtual")
    reply = client.post(me + "/details", data=moved)
    assert reply.status_code == 303 and reply.headers["Location"].startswith(me)
    page = client.get(me).get_data(as_text=True)
    assert "Your details are saved" in page
    assert 'value="Pharmacy"' in page and 'value="North"' in page
    assert '<option value="virtual" selected>' in page
    token = me.rsplit("/", 1)[1]
    details = client.get("/api/v1/me", headers=auth(token)).get_json()
    assert (details["department"], details["site"], details["mode"]) == (
        "Pharmacy", "North", "virtual")


def test_bad_details_name_the_field_and_change_nothing(client, trial):
    me = client.post(join_path(trial), data=form(1)).headers["Location"]
    reply = client.post(me + "/details", data=form(1, department="", name="Changed"))
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "department" in html and 'id="detail-department"' in html
    assert 'aria-invalid="true" aria-describedby="details-error"' in html
    assert 'value="Changed"' in html  # the input is kept to correct
    token = me.rsplit("/", 1)[1]
    assert client.get("/api/v1/me", headers=auth(token)).get_json()["name"] == "Person 1"
    assert client.post("/me/not-a-token/details", data=form(1)).status_code == 404


def test_a_participant_in_several_trials_sees_them_all(client, organiser_token, trial):
    other = client.post("/api/v1/trials", json={"name": "Autumn coffee", "confirm_email": False},
                        headers=auth(organiser_token)).get_json()
    first = client.post(join_path(trial), data=form(1)).headers["Location"]
    second = client.post(join_path(other), data=form(1)).headers["Location"]
    stranger = client.post(join_path(other), data=form(2)).headers["Location"]
    page = client.get(first).get_data(as_text=True)
    assert "Your other trials" in page
    assert f'<a href="{second}">Autumn coffee</a>' in page and "no round yet" in page
    assert client.get(second).get_data(as_text=True).count(f'<a href="{first}">') == 1
    # Nobody else's page, and a person in one trial has no such list.
    assert stranger not in page
    assert "Your other trials" not in client.get(stranger).get_data(as_text=True)
    # A department move made in one trial holds in the other too.
    client.post(first + "/details", data=form(1, department="Estates"))
    token = second.rsplit("/", 1)[1]
    assert client.get("/api/v1/me", headers=auth(token)).get_json()["department"] == "Estates"
