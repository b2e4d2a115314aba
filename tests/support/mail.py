"""The mail a test's app or server wrote to its outbox (a folder of ``.eml``
files: ``MATCHER_MAIL_URL=file://…``), and a real SMTP server for the tests
that need one (aiosmtpd).

Mail goes through the outbox table and the mail worker (matcher/outbox.py,
matcher/jobs.py). An app in the test process has no worker running: reading
its outbox folder first delivers what is due, in the test's thread, through
the worker's own code (:meth:`matcher.jobs.Jobs.sweep`). A real server runs
its own worker: reading waits for the mail expected.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from matcher.jobs import Jobs

__all__ = ["SmtpServer", "mailed", "mailed_links", "register_outbox", "smtp_server"]

#: In-process apps' jobs, by the outbox folder they mail to.
_JOBS: dict[Path, Jobs] = {}


def register_outbox(outbox: Path, jobs: Jobs) -> None:
    """``outbox`` is where ``jobs``' app mails: reading it delivers what is due first."""
    _JOBS[Path(outbox)] = jobs


def mailed(outbox: Path, *, at_least: int = 0, timeout: float = 15.0) -> list:
    """The messages in a file outbox (oldest first), parsed; with ``at_least``,
    waiting up to ``timeout`` seconds for that many (a real server's worker)."""
    outbox = Path(outbox)
    jobs = _JOBS.get(outbox)
    if jobs is not None:
        jobs.sweep()
    deadline = time.monotonic() + timeout
    while True:
        files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
        if len(files) >= at_least or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in files]


def mailed_links(outbox: Path, *, at_least: int = 0) -> dict[str, str]:
    """The latest personal link mailed to each address."""
    links = {}
    for message in mailed(outbox, at_least=at_least):
        found = re.search(r"https?://\S+/me/\S+", message.get_content())
        if found:
            links[message["To"]] = found.group(0)
    return links


def mailed_confirmation(outbox: Path, email: str, *, timeout: float = 15.0) -> str:
    """The latest confirmation link (docs/api.md, "Confirmed sign-ups") mailed to
    ``email``, waiting up to ``timeout`` seconds for it (a real server's worker)."""
    deadline = time.monotonic() + timeout
    while True:
        for message in reversed(mailed(outbox)):
            found = re.search(r"https?://\S+/confirm/\S+",
                              message.get_body(("plain",)).get_content())
            if message["To"] == email and found:
                return found.group(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no confirmation link was mailed to {email}")
        time.sleep(0.05)


@dataclass
class _Collector:
    messages: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((tuple(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on localhost (aiosmtpd) that keeps what it receives;
    :meth:`stop` and :meth:`start` take it down and bring it back on its port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.collector = _Collector()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list:
        """(recipients, parsed message) of everything received, in order."""
        return list(self.collector.messages)

    def start(self) -> SmtpServer:
        self._controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server():
    """A running SMTP server of the test's own."""
    server = SmtpServer().start()
    yield server
    server.stop()
