"""The sign-in page with single sign-on set up (web/sso.py), in real Chromium:
at 375 px and on a desktop, no console errors, no sideways scrolling and no
problem axe-core finds (tests/support/browser.py); then "Sign in with …" with
the keyboard alone, through a real OpenID Connect provider on the loopback
(tests/support/oidc.py), to the dashboard."""

from __future__ import annotations

import pytest

from tests.support.browser import (
    ORGANISER_EMAIL,
    assert_good_page,
    organiser_with_password,
    tab_to,
    watch,
)
from tests.support.oidc import Provider
from tests.support.servers import Servers, server_environment

pytestmark = pytest.mark.sqlite_only(
    reason="browser tests: the pages and their scripts do not depend on the database")

BUTTON = "Sign in with NHS account"


@pytest.fixture(scope="module")
def sso_base(module_databases, tmp_path_factory):
    """``python -m matcher serve`` with single sign-on through a provider of this
    process, and an organiser at the allowed domain; the server's address."""
    provider = Provider().start()
    provider.reset(email=ORGANISER_EMAIL)
    folder = tmp_path_factory.mktemp("sso-site")
    database_url = module_databases.new("live", migrated=True)
    organiser_with_password(database_url)
    servers = Servers(folder)
    env = server_environment(database_url, folder) | provider.environment(
        OIDC_DOMAINS=ORGANISER_EMAIL.rpartition("@")[2])
    yield servers(env).base
    servers.stop_all()
    provider.stop()


def test_the_sign_in_page_with_single_sign_on(contexts, sso_base):
    page = contexts().new_page()
    errors: list[str] = []
    watch(page, errors)
    page.goto(sso_base + "/organiser/login")
    assert page.get_by_role("link", name=BUTTON).is_visible()
    assert page.get_by_label("Password").is_visible()  # the password form beside it
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert_good_page(page, errors, width=width)
    tab_to(page, BUTTON)
    with page.expect_navigation(url=sso_base + "/organiser/"):
        page.keyboard.press("Enter")
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert_good_page(page, errors, width=1280)
