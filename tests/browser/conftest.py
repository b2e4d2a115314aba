"""The browser tests' fixtures: one Chromium per module, contexts (people),
and a real server for the module (checks and helpers: :mod:`tests.support.browser`).

They run on SQLite only: what they test is the pages and their scripts, the
same on either database; the server's database work under them is covered on
PostgreSQL without a browser (``tests/system``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.browser import AXE, CHROMIUM, PHONE, Site, organiser_with_password
from tests.support.servers import Servers, server_environment

HERE = Path(__file__).parent
BROWSER_ONLY_SQLITE = ("browser tests: the pages and their scripts do not depend on the "
                       "database; the real server on PostgreSQL is tested without a browser")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Every test here is ``browser`` and ``sqlite_only`` (before the
    deselection looks)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.sqlite_only(BROWSER_ONLY_SQLITE))


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module's tests (each test opens contexts of its own)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium")
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: see tests/support/vendor/axe-core/README.md")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )
        yield launched
        launched.close()


@pytest.fixture
def contexts(browser):
    """``contexts(**options)``: a new browser context (its own cookies: another
    person), closed at the end of the test."""
    made = []

    def new(**options):
        options.setdefault("viewport", PHONE)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield new
    for context in made:
        context.close()


@pytest.fixture(scope="module")
def site(module_databases, tmp_path_factory):
    """``python -m matcher serve`` on a fresh database, for the whole module."""
    folder = tmp_path_factory.mktemp("site")
    database_url = module_databases.new("live", migrated=True)
    token = organiser_with_password(database_url)
    servers = Servers(folder)
    server = servers(server_environment(database_url, folder, worker=True))
    yield Site(server.base, database_url, folder, token)
    servers.stop_all()


