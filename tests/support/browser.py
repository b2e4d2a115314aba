"""What the browser tests share: one Chromium per module (Debian's, never a
downloaded one: the tests fail, not skip, when it is missing), a server with an
organiser who can sign in, and the checks every page must pass:

- no console errors and no uncaught exceptions (:func:`watch`);
- at 375 px wide, nothing wider than the screen: no horizontal scrolling
  (:func:`assert_fits`);
- axe-core, run in the page, finds no WCAG 2.0/2.1 A or AA violation and no
  violation of its best practices (:func:`assert_accessible`); axe-core is
  vendored under ``tests/support/vendor/axe-core`` (see its README);
- keyboard only: :func:`tab_to` moves the focus with Tab, as a person would,
  until it reaches a control, and checks the focus can be seen there.

The fixtures (``browser``, ``contexts``, ``site``) are in
``tests/browser/conftest.py``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
#: The rules axe runs: WCAG 2.0 and 2.1, levels A and AA (labels, names, contrast,
#: language, lists, tables, ARIA...), and axe's best practices (one main landmark,
#: a level-one heading, heading order, content inside landmarks...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
PHONE = {"width": 375, "height": 740}
ORGANISER_EMAIL = "host@example.org"
ORGANISER_PASSWORD = "a long passphrase"


@dataclass
class Site:
    """The real server of a module's tests: its address, the database, the folder
    with its log and mail outbox, and an organiser who signs in with a password
    (``token``: their API token)."""

    base: str
    database_url: str
    folder: Path
    token: str

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"


def organiser_with_password(database_url: str) -> str:
    """The organiser the browser signs in as; their API token."""
    from matcher import db
    from matcher.accounts import create_organiser

    engine = db.make_engine(database_url)
    try:
        with db.make_session_factory(engine)() as session:
            _, token = create_organiser(session, ORGANISER_EMAIL, "Host",
                                        password=ORGANISER_PASSWORD)
            session.commit()
    finally:
        engine.dispose()
    return token


def watch(page, errors: list[str]):
    """Collect the page's console errors and uncaught exceptions into ``errors``."""
    page.on("console", lambda message: errors.append(f"{page.url}: console: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: uncaught: {exc}"))
    return page


def sign_in(page, base: str) -> None:
    """Sign the page's context in as the organiser (keyboard and mouse as a person would)."""
    page.goto(base + "/organiser/login")
    page.get_by_label("Email").fill(ORGANISER_EMAIL)
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/organiser/")


def assert_fits(page, width: int = PHONE["width"]) -> None:
    """Nothing sticks out sideways: the page does not scroll horizontally (tables
    may scroll inside their own box); names the widest elements if it does."""
    page.set_viewport_size({"width": width, "height": page.viewport_size["height"]})
    overflow = page.evaluate("""(width) => {
        const root = document.documentElement;
        if (root.scrollWidth <= width && document.body.scrollWidth <= width) { return null; }
        const wide = [];
        for (const node of document.querySelectorAll('body *')) {
            const box = node.getBoundingClientRect();
            if (box.right > width + 1 && node.offsetParent !== null) {
                wide.push(node.tagName.toLowerCase() + (node.id ? '#' + node.id : '') +
                          (node.className && typeof node.className === 'string'
                           ? '.' + node.className.trim().split(/\\s+/).join('.') : '') +
                          ' right=' + Math.round(box.right));
            }
        }
        return {scrollWidth: root.scrollWidth, elements: wide.slice(0, 8)};
    }""", width)
    assert overflow is None, f"{page.url} scrolls sideways at {width} px: {overflow}"


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (rules of :data:`AXE_TAGS`)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's
        # Content-Security-Policy does not govern (a <script> tag it would refuse).
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    results = page.evaluate(
        """async (tags) => await axe.run(document, {
            runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""",
        AXE_TAGS)
    return results["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {json.dumps(node['target'])}: {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core finds problems on {page.url}:\n{describe(violations)}"


def assert_good_page(page, errors: list[str], width: int = PHONE["width"]) -> None:
    """The checks every page passes: accessible, fits a phone, no console errors.
    (With ``MATCHER_TEST_SCREENSHOTS=<folder>``, each page checked is saved there.)"""
    folder = os.environ.get("MATCHER_TEST_SCREENSHOTS")
    if folder:
        name = "".join(c if c.isalnum() else "-" for c in page.url.split("//", 1)[-1])
        number = len(list(Path(folder).glob("*.png"))) + 1
        page.screenshot(path=str(Path(folder) / f"{number:03}-{name[:100]}-{width}.png"),
                        full_page=True)
    assert_accessible(page)
    assert_fits(page, width)
    assert errors == [], "\n".join(errors)


def focused(page) -> dict:
    """What has the keyboard focus: its tag, accessible text and focus ring."""
    return page.evaluate("""() => {
        const node = document.activeElement;
        if (!node || node === document.body) { return {tag: 'body', text: '', ring: false}; }
        const style = getComputedStyle(node);
        const text = (node.getAttribute('aria-label') || node.innerText || node.value || '');
        return {tag: node.tagName.toLowerCase(), text: text.trim().replace(/\\s+/g, ' '),
                ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
    }""")


def tab_to(page, text: str, limit: int = 80) -> None:
    """Press Tab until the focus is on the control whose accessible text is
    ``text``; fail if Tab never gets there or the focus cannot be seen there."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        seen.append(now["text"][:40])
        if now["text"] == text:
            assert now["ring"], f"the keyboard focus on {text!r} is not visible ({page.url})"
            return
    pytest.fail(f"Tab never reaches {text!r} on {page.url}; it went through: {seen}")
