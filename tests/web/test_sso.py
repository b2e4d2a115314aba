"""Single sign-on for organisers with OpenID Connect (web/sso.py; docs/security.md,
"Single sign-on"), against a real provider on the loopback
(:mod:`tests.support.oidc`) and the app served over real HTTP in this process:
a browser-like HTTP client follows every redirect between them, and the app's
own calls to the provider (discovery, keys, token) are real HTTP too.

The whole code flow ends signed in on the dashboard; every way the answer can
be wrong (state, nonce, signature, algorithm, issuer, audience, expiry, an
error from the provider, a refused code) and every identity that may not sign
in (an email that is not verified, a domain not allowed, look-alikes included,
no organiser account) is refused with the message page, a 4xx status and the
reason, signs nobody in and changes nothing in the database."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from matcher.accounts import AccountError, create_organiser, organiser_for_sso
from matcher.models import Organiser
from tests.support.app import new_app
from tests.support.database import Database
from tests.support.oidc import Provider, serve
from tests.support.servers import free_port
from web import create_app
from web.sso import oidc_settings

#: Organisers of the module's app: one at the allowed domain, and one at each
#: look-alike (so that a refusal of theirs is the domain's, not a missing account's).
ORGANISER = "ann@nhs.uk"
LOOK_ALIKES = ("ann@evilnhs.uk", "ann@mail.nhs.uk", "ann@nhs.uk.example.org",
               "ann@example.org")


@pytest.fixture(scope="module")
def provider():
    made = Provider().start()
    yield made
    made.stop()


@dataclass
class Site:
    app: object
    base: str
    database_url: str

    def browser(self) -> requests.Session:
        return requests.Session()

    def signed_in(self, browser: requests.Session) -> bool:
        reply = browser.get(self.base + "/organiser/", allow_redirects=False, timeout=10)
        assert reply.status_code in (200, 302), reply.status_code
        return reply.status_code == 200


def _app(database_url, folder, provider, **settings):
    return new_app(database_url, folder / "outbox", **provider.settings(**settings))


@pytest.fixture(scope="module")
def site(module_databases, tmp_path_factory, provider):
    """The app, single sign-on set up with the provider, served over HTTP for the
    module (refusals change nothing, and each test has a browser of its own)."""
    url = module_databases.new("sso", migrated=True)
    app = _app(url, tmp_path_factory.mktemp("sso"), provider)
    with app.extensions["matcher.sessions"]() as db:
        for email in (ORGANISER, *LOOK_ALIKES):
            create_organiser(db, email, "Ann")
        db.commit()
    served = serve(app)
    yield Site(app, served.base, url)
    served.stop()
    app.extensions["matcher.engine"].dispose()


@pytest.fixture(autouse=True)
def behaves(provider):
    """Each test starts with a provider that does everything right."""
    provider.reset()


def sign_in(site, provider, browser=None, start="/organiser/login/sso", **behaviour):
    """Click "Sign in with …": the browser follows every redirect."""
    provider.reset(**behaviour)
    browser = browser or site.browser()
    return browser, browser.get(site.base + start, timeout=10)


# --- the whole flow --------------------------------------------------------------------

def test_the_code_flow_signs_the_organiser_in_and_lands_on_the_dashboard(site, provider):
    browser = site.browser()
    page = browser.get(site.base + "/organiser/login", timeout=10)
    assert 'href="/organiser/login/sso"' in page.text and "Sign in with NHS account" in page.text
    browser, reply = sign_in(site, provider, browser)
    assert reply.status_code == 200 and reply.url == site.base + "/organiser/"
    assert "Sign in" not in reply.text.split("<main", 1)[1][:200]
    # App → provider → app's callback → dashboard, all real redirects.
    hops = [(urlsplit(r.url).netloc, urlsplit(r.url).path, r.status_code)
            for r in reply.history]
    app_host, provider_host = urlsplit(site.base).netloc, urlsplit(provider.issuer).netloc
    assert hops == [(app_host, "/organiser/login/sso", 302),
                    (provider_host, "/authorize", 302),
                    (app_host, "/organiser/login/sso/callback", 303)]
    assert site.signed_in(browser)
    # The request carried state, nonce and a PKCE S256 challenge; the token
    # request the verifier (the provider checked it against the challenge).
    (_, asked), (_, exchanged) = provider.seen
    assert asked["state"] and asked["nonce"] and asked["code_challenge_method"] == "S256"
    assert asked["scope"].split()[0] == "openid" and asked["response_type"] == "code"
    assert len(exchanged["code_verifier"]) >= 43  # RFC 7636 §4.1
    assert asked["redirect_uri"] == site.base + "/organiser/login/sso/callback"


def test_the_email_matches_whatever_its_case(site, provider):
    browser, reply = sign_in(site, provider, email="Ann@NHS.UK")
    assert reply.url == site.base + "/organiser/" and site.signed_in(browser)


@pytest.mark.parametrize("asked, lands", [
    ("/organiser/trials/new", "/organiser/trials/new"),
    ("https://evil.example/organiser/", "/organiser/"),
    ("//evil.example/organiser/", "/organiser/"),
    ("/elsewhere", "/organiser/"),
])
def test_after_signing_in_it_goes_where_it_was_asked_if_that_is_an_organiser_page(
        site, provider, asked, lands):
    browser = site.browser()
    page = browser.get(site.base + "/organiser/login", params={"next": asked}, timeout=10)
    link = page.text.split('class="button" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query)["next"] == [asked]
    browser, reply = sign_in(site, provider, browser, start=link)
    assert reply.status_code == 200 and reply.url == site.base + lands


def test_signing_in_starts_a_new_session(site, provider):
    """As the password sign-in: nothing of the session before survives (the
    sign-in's own state included), so a session fixed beforehand is worthless."""
    browser = site.browser()
    browser.get(site.base + "/organiser/login/sso", allow_redirects=False, timeout=10)
    before = browser.cookies.get("session")
    browser, reply = sign_in(site, provider, browser)
    assert site.signed_in(browser) and browser.cookies.get("session") != before
    with site.app.test_request_context():
        from flask import current_app

        serializer = current_app.session_interface.get_signing_serializer(current_app)
        kept = serializer.loads(browser.cookies["session"])
    assert "organiser_id" in kept and not [key for key in kept if key.startswith("_state")]


# --- refusals --------------------------------------------------------------------------

def assert_refused(site, browser, reply, status, heading, reason):
    assert reply.status_code == status, (reply.status_code, reply.text[:500])
    assert urlsplit(reply.url).path == "/organiser/login/sso/callback"
    assert f"<h1>{heading}</h1>" in reply.text, reply.text[:800]
    assert reason in reply.text, reply.text[:800]
    assert "Traceback" not in reply.text
    assert not site.signed_in(browser)


WRONG_ANSWERS = [
    pytest.param({"nonce": "another sign-in's nonce"}, "its nonce is not this sign-in",
                 id="nonce"),
    pytest.param({"send_nonce": False}, "nonce", id="no-nonce"),
    pytest.param({"sign_with": "other"}, "signature is not one of the sign-in service",
                 id="signature"),
    pytest.param({"sign_with": "unknown"}, "a key the sign-in service does not publish",
                 id="unknown-key"),
    pytest.param({"sign_with": "none"}, "signed in a way this app does not accept",
                 id="unsigned"),
    pytest.param({"issuer": "http://127.0.0.1:9/other"}, "not issued by the sign-in service",
                 id="issuer"),
    pytest.param({"audience": "another-app"}, "issued for another application", id="audience"),
    pytest.param({"audience": ["matcher-tests", "another-app"]},
                 "issued for another application", id="extra-audience"),
    pytest.param({"expires_in": -600}, "it has expired", id="expired"),
    pytest.param({"id_token": False}, "had no ID token", id="no-id-token"),
]


@pytest.mark.parametrize("behaviour, reason", WRONG_ANSWERS)
def test_an_answer_that_cannot_be_verified_is_refused(site, provider, behaviour, reason):
    database = Database(site.database_url)
    before = database.contents()
    browser, reply = sign_in(site, provider, **behaviour)
    assert_refused(site, browser, reply, 400, "Sign-in not verified", reason)
    assert database.contents() == before


@pytest.mark.parametrize("email", LOOK_ALIKES)
def test_only_the_allowed_domains_exactly(site, provider, email):
    """evilnhs.uk is not nhs.uk, nor is mail.nhs.uk; each has an organiser
    account here, so the domain alone refuses them."""
    browser, reply = sign_in(site, provider, email=email)
    assert_refused(site, browser, reply, 403, "Not an organisation of this app",
                   f"Only addresses at nhs.uk sign in here, and {email} is not one")


@pytest.mark.parametrize("verified", [False, None, "true", 1], ids=repr)
def test_only_a_verified_email(site, provider, verified):
    browser, reply = sign_in(site, provider, email_verified=verified)
    assert_refused(site, browser, reply, 403, "Email not verified",
                   "does not confirm that ann@nhs.uk is verified")


def test_no_organiser_account_means_ask_for_an_invitation_and_none_is_made(site, provider):
    database = Database(site.database_url)
    before = database.contents()
    browser, reply = sign_in(site, provider, email="bob@nhs.uk")
    assert_refused(site, browser, reply, 403, "No organiser account",
                   "There is no organiser account for bob@nhs.uk. Ask an organiser for an "
                   "invitation")
    assert database.contents() == before
    with site.app.extensions["matcher.sessions"]() as db:
        assert db.scalar(select(Organiser).where(Organiser.email == "bob@nhs.uk")) is None


@pytest.mark.parametrize("state", ["tampered", ""], ids=["tampered", "missing"])
def test_a_state_that_is_not_this_sign_ins_is_refused(site, provider, state):
    browser, reply = sign_in(site, provider, state=state)
    assert_refused(site, browser, reply, 400, "Sign-in expired",
                   "does not belong to a sign-in started in this browser")


def test_an_answer_meant_for_another_browser_is_refused(site, provider):
    """Login CSRF, or a stolen code: the provider's answer to one browser's
    sign-in, brought to another browser, signs nobody in."""
    victim = site.browser()
    started = victim.get(site.base + "/organiser/login/sso", allow_redirects=False, timeout=10)
    answer = requests.get(started.headers["Location"], allow_redirects=False, timeout=10)
    callback = answer.headers["Location"]
    attacker = site.browser()
    reply = attacker.get(callback, timeout=10)
    assert_refused(site, attacker, reply, 400, "Sign-in expired", "started in this browser")
    # The code was never exchanged: the rightful browser can still finish.
    reply = victim.get(callback, timeout=10)
    assert reply.url == site.base + "/organiser/" and site.signed_in(victim)
    # And not twice: the sign-in's state is used up.
    again = site.browser()
    assert again.get(callback, timeout=10).status_code == 400


def test_an_answer_without_a_code_is_refused(site, provider):
    browser = site.browser()
    started = browser.get(site.base + "/organiser/login/sso", allow_redirects=False, timeout=10)
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    reply = browser.get(site.base + "/organiser/login/sso/callback", params={"state": state},
                        timeout=10)
    assert_refused(site, browser, reply, 400, "Sign-in not completed", "(missing_code)")


def test_an_error_from_the_provider_is_refused(site, provider):
    browser, reply = sign_in(site, provider, error="access_denied")
    assert_refused(site, browser, reply, 403, "Not signed in",
                   "Signing in with NHS account was refused or cancelled: you, or your "
                   "organisation, did not allow it.")


def test_the_page_of_an_error_shows_no_text_from_the_url(site):
    """The description in the URL is anyone's to write: it is not shown."""
    browser = site.browser()
    reply = browser.get(site.base + "/organiser/login/sso/callback", timeout=10, params={
        "error": "call_us", "error_description": "Call 0800 000 000 to unlock your account"})
    assert_refused(site, browser, reply, 403, "Not signed in", "it gave no reason this app knows")
    assert "0800" not in reply.text and "call_us" not in reply.text


def test_a_code_the_token_endpoint_refuses_is_refused(site, provider):
    browser, reply = sign_in(site, provider, token_error="invalid_grant")
    assert_refused(site, browser, reply, 400, "Sign-in not completed",
                   "could not be exchanged for your identity (invalid_grant)")


def test_the_callback_alone_signs_nobody_in(site):
    browser = site.browser()
    for query in ("", "?code=made-up", "?code=made-up&state=made-up"):
        reply = browser.get(site.base + "/organiser/login/sso/callback" + query, timeout=10)
        assert reply.status_code == 400 and "Traceback" not in reply.text
    assert not site.signed_in(browser)


# --- the provider's discovery, checked once, on first use --------------------------------

@pytest.fixture
def fresh(databases, tmp_path, provider):
    """``fresh(**settings)``: another app served over HTTP (its own client, so its
    own first fetch of the discovery document)."""
    made = []

    def make(**settings):
        app = _app(databases.new("sso", migrated=True), tmp_path, provider, **settings)
        with app.extensions["matcher.sessions"]() as db:
            create_organiser(db, ORGANISER, "Ann")
            db.commit()
        served = serve(app)
        made.append((app, served))
        return Site(app, served.base, app.config["DATABASE_URL"])

    yield make
    for app, served in made:
        served.stop()
        app.extensions["matcher.engine"].dispose()


def test_unsigned_tokens_are_refused_even_when_discovery_offers_them(fresh, provider):
    """A discovery document listing "none" (or HS256) does not make the app
    accept an ID token without a signature."""
    site = fresh()
    browser, reply = sign_in(site, provider, algorithms=("none", "HS256", "RS256"),
                             sign_with="none")
    assert_refused(site, browser, reply, 400, "Sign-in not verified",
                   "signed in a way this app does not accept")


def test_a_discovery_document_for_another_issuer_is_refused(fresh, provider):
    """OpenID Connect Discovery 1.0 §4.3: the issuer it names is the one asked."""
    site = fresh()
    browser, reply = sign_in(site, provider, discovery_issuer="https://elsewhere.example")
    assert reply.status_code == 502 and "<h1>Sign-in unavailable</h1>" in reply.text
    assert urlsplit(reply.url).path == "/organiser/login/sso"
    assert not site.signed_in(browser)
    # Not kept: once the provider is right, signing in works.
    browser, reply = sign_in(site, provider, browser)
    assert reply.url == site.base + "/organiser/" and site.signed_in(browser)


def test_no_request_reaches_the_provider_before_someone_signs_in(databases, tmp_path):
    """The app is made, and its sign-in page shown, with the provider down; the
    button then says the service cannot be reached (502), with no traceback."""
    down = f"http://127.0.0.1:{free_port()}"
    app = new_app(databases.new("sso", migrated=True), tmp_path / "outbox",
                  OIDC_ISSUER=down, OIDC_CLIENT_ID="x", OIDC_CLIENT_SECRET="y",
                  OIDC_DOMAINS="nhs.uk")
    try:
        client = app.test_client()
        assert "Sign in with your organisation&#39;s account" in \
            client.get("/organiser/login").get_data(as_text=True)
        reply = client.get("/organiser/login/sso")
        page = reply.get_data(as_text=True)
        assert reply.status_code == 502 and "<h1>Sign-in unavailable</h1>" in page
        assert "Sign in with your password" in page and "Traceback" not in page
    finally:
        app.extensions["matcher.engine"].dispose()


# --- the settings, and the page without them --------------------------------------------

def test_without_an_issuer_there_is_no_button_and_the_routes_lead_to_the_password_form(client):
    page = client.get("/organiser/login").get_data(as_text=True)
    assert "Sign in with" not in page and "/organiser/login/sso" not in page
    for path in ("/organiser/login/sso", "/organiser/login/sso/callback?code=x&state=y"):
        reply = client.get(path)
        assert reply.status_code == 303 and reply.headers["Location"] == "/organiser/login"


@pytest.mark.parametrize("missing", ["OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_DOMAINS"])
def test_an_issuer_without_the_rest_is_refused_naming_the_variable(missing):
    config = {"OIDC_ISSUER": "https://login.example.org", "OIDC_CLIENT_ID": "id",
              "OIDC_CLIENT_SECRET": "secret", "OIDC_DOMAINS": "nhs.uk", missing: None}
    with pytest.raises(ValueError, match=f"^MATCHER_{missing} must be set when "
                                         "MATCHER_OIDC_ISSUER is"):
        oidc_settings(config)


def test_the_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHER_OIDC_ISSUER", "https://login.example.org/tenant/v2.0")
    monkeypatch.setenv("MATCHER_OIDC_CLIENT_ID", "id")
    monkeypatch.setenv("MATCHER_OIDC_CLIENT_SECRET", "secret")
    config = {"TESTING": True, "SECRET_KEY": "test",
              "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    with pytest.raises(ValueError, match="MATCHER_OIDC_DOMAINS"):
        create_app(config)
    monkeypatch.setenv("MATCHER_OIDC_DOMAINS", " NHS.uk, @example.org ")
    monkeypatch.setenv("MATCHER_OIDC_NAME", "NHS account")
    app = create_app(config)
    try:
        settings = app.extensions["matcher.sso"]
        assert settings.domains == {"nhs.uk", "example.org"} and settings.name == "NHS account"
        assert settings.discovery_url == \
            "https://login.example.org/tenant/v2.0/.well-known/openid-configuration"
        page = app.test_client().get("/organiser/login").get_data(as_text=True)
        assert "Sign in with NHS account" in page
    finally:
        app.extensions["matcher.engine"].dispose()


@pytest.mark.parametrize("setting, value, named", [
    ("OIDC_ISSUER", "http://login.example.org", "MATCHER_OIDC_ISSUER"),
    ("OIDC_ISSUER", "login.example.org", "MATCHER_OIDC_ISSUER"),
    ("OIDC_DOMAINS", "nhs.uk, not a domain", "MATCHER_OIDC_DOMAINS"),
    ("OIDC_DOMAINS", " , ", "MATCHER_OIDC_DOMAINS"),
])
def test_settings_that_cannot_be_used_are_named(setting, value, named):
    config = {"OIDC_ISSUER": "https://login.example.org", "OIDC_CLIENT_ID": "id",
              "OIDC_CLIENT_SECRET": "secret", "OIDC_DOMAINS": "nhs.uk", setting: value}
    with pytest.raises(ValueError, match=f"^{named} must"):
        oidc_settings(config)


# --- the rule itself (matcher.accounts) ------------------------------------------------

#: (email, email_verified, the refusal's code or None for signed in as ann@nhs.uk)
IDENTITIES = [
    ("ann@nhs.uk", True, None),
    ("ANN@nhs.UK", True, None),
    (" ann@nhs.uk ", True, None),
    ("ann@nhs.uk", False, "unverified"),
    ("ann@nhs.uk", "true", "unverified"),
    ("ann@nhs.uk", None, "unverified"),
    ("ann@evilnhs.uk", True, "domain"),
    ("ann@a.nhs.uk", True, "domain"),
    ("ann@nhs.uk.evil.org", True, "domain"),
    ("ann@nhs.uk@evil.org", True, "no_email"),
    ("bob@nhs.uk", True, "no_account"),
    ("bob@example.org", True, "no_account"),
    (None, True, "no_email"),
    ("not an email", True, "no_email"),
    (["ann@nhs.uk"], True, "no_email"),
]


def test_who_a_single_sign_on_identity_signs_in_as(app):
    """matcher.accounts.organiser_for_sso, the rule web/sso.py applies."""
    with app.extensions["matcher.sessions"]() as db:
        ann, _ = create_organiser(db, "ann@nhs.uk", "Ann")
        create_organiser(db, "ann@evilnhs.uk", "Eve")
        for email, verified, code in IDENTITIES:
            if code is None:
                assert organiser_for_sso(db, email, verified, ["NHS.uk", "example.org"]) is ann
                continue
            with pytest.raises(AccountError) as refused:
                organiser_for_sso(db, email, verified, ["NHS.uk", "example.org"])
            assert (refused.value.code, refused.value.status) == (code, 403), email
