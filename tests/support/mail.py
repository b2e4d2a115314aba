"""The mail a test's app or server wrote to its outbox (a folder of ``.eml``
files: ``MATCHER_MAIL_URL=file://…``)."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

__all__ = ["mailed", "mailed_links"]


def mailed(outbox: Path) -> list:
    """The messages in a file outbox (oldest first), parsed."""
    if not outbox.exists():
        return []
    files = sorted(outbox.glob("*.eml"))
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in files]


def mailed_links(outbox: Path) -> dict[str, str]:
    """The latest personal link mailed to each address."""
    links = {}
    for message in mailed(outbox):
        found = re.search(r"https?://\S+/me/\S+", message.get_content())
        if found:
            links[message["To"]] = found.group(0)
    return links
