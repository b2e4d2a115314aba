"""The sign-up page and the personal page (server-rendered; live updates are
covered by the Socket.IO tests)."""

import re

import pytest


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def trial(client, organiser_token):
    return client.post("/api/v1/trials", json={"name": "Spring coffee"},
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

    trial = client.post("/api/v1/trials", json={"name": "Spring coffee"},
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
