"""Security of the app as a whole: CSRF on forms, cookies, the secret key,
rate limits (failed guesses tight, real events let through), body size, and
secrets stored only as hashes."""

import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import select, text

from matcher.accounts import create_organiser
from matcher.models import ApiToken, Attendee, Membership, Organiser
from web import create_app
from web.extensions import socketio


@pytest.fixture
def make_app(databases, tmp_path):
    """``make_app(**config)``: the app on a fresh database of the suite's kind
    (SQLite or PostgreSQL), with one organiser (``ORGANISER_TOKEN``)."""
    made = []

    def make(**config):
        app = create_app({"TESTING": True, "SECRET_KEY": "test", "ROUND_TIME_LIMIT": 2.0,
                          "DATABASE_URL": databases.new("security", migrated=True),
                          "MAIL_URL": (tmp_path / "outbox").as_uri()} | config)
        made.append(app)
        with app.extensions["matcher.sessions"]() as db:
            _, token = create_organiser(db, "ann@example.org", "Ann", password="correct horse")
            db.commit()
        app.config["ORGANISER_TOKEN"] = token
        return app

    yield make
    for app in made:
        app.extensions["matcher.engine"].dispose()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_every_form_needs_its_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    refused = client.post("/organiser/login", data={"email": "ann@example.org",
                                                    "password": "correct horse"})
    assert refused.status_code == 400 and "did not come from this site" in refused.get_data(True)
    page = client.get("/organiser/login").get_data(as_text=True)
    signed = client.post("/organiser/login", data={"email": "ann@example.org",
                                                   "password": "correct horse",
                                                   "csrf_token": csrf_token(page)})
    assert signed.status_code == 303
    # A signed-in organiser's actions are refused without the token too.
    assert client.post("/organiser/trials", data={"name": "Forged"}).status_code == 400
    dashboard = client.get("/organiser/").get_data(as_text=True)
    assert "Forged" not in dashboard
    made = client.post("/organiser/trials", data={"name": "Real",
                                                  "csrf_token": csrf_token(dashboard)})
    assert made.status_code == 303
    # Every form of every page carries a token.
    for page in (dashboard, client.get(made.headers["Location"]).get_data(as_text=True)):
        forms = re.findall(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", page, re.S)
        assert forms and all('name="csrf_token"' in form for form in forms)
    # The JSON API uses bearer tokens, not cookies: nothing to forge, no CSRF token.
    reply = client.post("/api/v1/trials", json={"name": "By API", "confirm_email": False},
                        headers=auth(app.config["ORGANISER_TOKEN"]))
    assert reply.status_code == 201


def test_session_cookies_are_httponly_lax_and_secure_over_https(make_app):
    app = make_app()
    for base, secure in (("http://localhost", False), ("https://localhost", True)):
        client = app.test_client()
        reply = client.post("/organiser/login", base_url=base,
                            data={"email": "ann@example.org", "password": "correct horse"})
        cookie = reply.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_behind_a_trusted_proxy_https_and_the_client_address_come_from_it(make_app):
    app = make_app(PROXIES=1)
    client = app.test_client()
    reply = client.post("/organiser/login", headers={"X-Forwarded-Proto": "https",
                                                     "X-Forwarded-For": "203.0.113.9"},
                        data={"email": "ann@example.org", "password": "correct horse"})
    assert "Secure" in reply.headers["Set-Cookie"]


def test_serve_refuses_to_start_without_a_secret_key(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "MATCHER_SECRET_KEY"}
    env["MATCHER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    done = subprocess.run([sys.executable, "-m", "matcher", "serve", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "MATCHER_SECRET_KEY" in done.stderr and "Traceback" not in done.stderr


def test_serve_refuses_a_setting_it_cannot_use(tmp_path):
    env = dict(os.environ, MATCHER_SECRET_KEY="test", MATCHER_CAFE_STEPS="lots",
               MATCHER_DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    done = subprocess.run([sys.executable, "-m", "matcher", "serve", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "MATCHER_CAFE_STEPS must be a whole number of at least 1, not 'lots'" in done.stderr


@pytest.mark.parametrize("variable, value", [("MATCHER_CAFE_STEPS", "0"),
                                             ("MATCHER_CAFE_STEPS", "2.5"),
                                             ("MATCHER_PROXIES", "-1")])
def test_settings_from_the_environment_are_checked(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"^{variable} must be a whole number"):
        create_app({"TESTING": True, "SECRET_KEY": "test"})


def test_cafe_steps_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHER_CAFE_STEPS", "5000")
    app = create_app({"TESTING": True, "SECRET_KEY": "test",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    assert app.config["CAFE_STEPS"] == 5000
    app.extensions["matcher.engine"].dispose()


def test_failed_guesses_are_limited_tightly(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    token = app.config["ORGANISER_TOKEN"]
    trial = client.post("/api/v1/trials", json={"name": "T", "confirm_email": False},
                        headers=auth(token)).get_json()
    statuses = [client.post(f"/api/v1/trials/{trial['id']}/signups", json={
        "join_code": f"guess-{k}", "name": "X", "email": f"x{k}@example.org",
        "department": "IT"}).status_code for k in range(61)]
    assert statuses[:60] == [403] * 60 and statuses[60] == 429
    body = client.get("/api/v1/me", headers=auth("stolen?")).get_json()
    assert body["error"]["code"] == "too_many_requests"
    # Pages too, across routes: the count is per address, not per route.
    assert client.get("/join/nope").status_code == 429
    # Another address is not affected.
    other = client.get("/api/v1/me", headers=auth("x"), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 401


@pytest.mark.sqlite_only(reason="rate limits: counted in memory, whatever the database "
                                 "(1,500 requests, 17 s on PostgreSQL for nothing more)")
def test_a_whole_hospital_behind_one_address_can_sign_up_and_join(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    token = app.config["ORGANISER_TOKEN"]
    trial = client.post("/api/v1/trials", json={"name": "T", "confirm_email": False},
                        headers=auth(token)).get_json()
    for k in range(500):
        reply = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
            "join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
            "department": "IT"})
        assert reply.status_code == 201, (k, reply.get_json())
    cafe = client.post("/api/v1/cafes", json={"name": "C", "rounds": 2},
                       headers=auth(token)).get_json()
    for k in range(1000):
        reply = client.post(f"/api/v1/cafes/{cafe['code']}/participants",
                            json={"name": f"P{k}", "department": "IT"})
        assert reply.status_code == 201, (k, reply.get_json())


def test_socketio_guesses_count_too(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    for k in range(60):
        refused = socketio.test_client(app, flask_test_client=client, auth={"token": f"g{k}"})
        assert not refused.is_connected()
    # Now even a real organiser token is refused from this address, for a while.
    late = socketio.test_client(app, flask_test_client=client,
                                auth={"token": app.config["ORGANISER_TOKEN"]})
    assert not late.is_connected()


def test_a_body_too_large_is_refused_with_413(make_app):
    app = make_app()
    client = app.test_client()
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    reply = client.post("/api/v1/trials", data=big, content_type="application/json",
                        headers=auth(app.config["ORGANISER_TOKEN"]))
    assert reply.status_code == 413 and reply.get_json()["error"]["code"] == "too_large"
    page = client.post("/organiser/login", data=big, content_type="text/plain")
    assert page.status_code == 413


def test_tokens_and_passwords_are_stored_only_as_hashes(make_app):
    app = make_app()
    client = app.test_client()
    token = app.config["ORGANISER_TOKEN"]
    trial = client.post("/api/v1/trials", json={"name": "T", "confirm_email": False},
                        headers=auth(token)).get_json()
    joined = client.post(f"/api/v1/trials/{trial['id']}/signups", json={
        "join_code": trial["join_code"], "name": "P", "email": "p@example.org",
        "department": "IT"}).get_json()
    cafe = client.post("/api/v1/cafes", json={"name": "C", "rounds": 2},
                       headers=auth(token)).get_json()
    seated = client.post(f"/api/v1/cafes/{cafe['code']}/participants",
                         json={"name": "Q", "department": "IT"}).get_json()
    with app.extensions["matcher.sessions"]() as db:
        dump = "\n".join(str(row) for table in ("organiser", "api_token", "membership",
                                                "attendee", "person")
                         for row in db.execute(text(f'SELECT * FROM "{table}"')))
        for secret in (token, joined["token"], seated["token"], "correct horse"):
            assert secret not in dump
        organiser = db.scalar(select(Organiser))
        assert organiser.password_hash.startswith("$argon2")
        assert len(db.scalar(select(ApiToken)).token_hash) == 64
        assert len(db.scalar(select(Membership)).token_hash) == 64
        assert len(db.scalar(select(Attendee)).token_hash) == 64


@pytest.mark.parametrize("path", ["/organiser/", "/organiser/trials/1", "/organiser/cafes/1"])
def test_organiser_pages_send_strangers_to_sign_in(make_app, path):
    client = make_app().test_client()
    reply = client.get(path)
    assert reply.status_code == 302 and "/organiser/login" in reply.headers["Location"]


def _value_for(converter):
    from werkzeug.routing.converters import AnyConverter, NumberConverter

    if isinstance(converter, NumberConverter):
        return 1
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "nothing-here"


def _every_get_path(app) -> list[str]:
    """One path per GET route of the app, its parameters filled with values that
    match nothing (so pages, API answers, redirects and errors all appear)."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {name: _value_for(rule._converters[name]) for name in rule.arguments}
        if rule.endpoint == "static":
            values = {"filename": "matcher.css"}
        with app.test_request_context():
            from flask import url_for

            paths.append(url_for(rule.endpoint, **values))
    return sorted(set(paths))


def test_every_response_carries_the_security_headers(make_app):
    """Pages, API answers, files, redirects and errors: the same headers on all."""
    from web.headers import CONTENT_SECURITY_POLICY

    app = make_app()
    client = app.test_client()
    token = app.config["ORGANISER_TOKEN"]
    paths = _every_get_path(app)
    assert len(paths) > 40
    seen = set()
    for path in paths + ["/no/such/page", "/api/v1/no-such-thing"]:
        for headers in ({}, auth(token)):
            reply = client.get(path, headers=headers)
            seen.add(reply.status_code)
            where = f"GET {path} ({reply.status_code})"
            assert reply.headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY, where
            assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
            assert "unsafe-inline" not in reply.headers["Content-Security-Policy"]
            assert reply.headers.get("X-Content-Type-Options") == "nosniff", where
            assert reply.headers.get("Referrer-Policy") == "no-referrer", where
            assert reply.headers.get("X-Frame-Options") == "DENY", where
            assert "Strict-Transport-Security" not in reply.headers, where  # plain HTTP
    assert {200, 302, 404} <= seen


def test_https_adds_strict_transport_security(make_app):
    client = make_app().test_client()
    reply = client.get("/organiser/login", base_url="https://matcher.example.org")
    assert reply.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert reply.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("path", "methods"), [("/organiser/login", {"GET", "POST"}),
                                               ("/api/v1/trials", {"POST"})])
def test_a_wrong_method_is_answered_405_with_its_allow_header(make_app, path, methods):
    """RFC 9110 §15.5.6: a 405 names the methods the resource has."""
    client = make_app().test_client()
    reply = client.delete(path)
    assert reply.status_code == 405
    allowed = {m.strip() for m in reply.headers["Allow"].split(",")}
    assert methods <= allowed and "DELETE" not in allowed
    assert reply.headers["Content-Security-Policy"]


def test_no_template_has_inline_script_or_style():
    """What the policy forbids is not written in the first place: scripts are
    files, no element has an event-handler attribute or a style attribute.
    (The PDF documents' stylesheets, ``*_document.html``, are WeasyPrint's,
    never served as pages.)"""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "web" / "templates"
    for template in root.rglob("*.html"):
        document = template.name.endswith("_document.html")  # a PDF's source, for WeasyPrint
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert not re.search(r"\sstyle\s*=", text), template
        if not document:
            assert "<style" not in text, template
