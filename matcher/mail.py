"""Email: how participants get their personal links.

A participant's personal page sits behind a secret token that only they may
hold, so the app mails the link to the participant (at sign-up, when an
organiser imports them, and when they ask for it again) and never shows it to
anyone else, organisers included.

Where mail goes is one URL (``MATCHER_MAIL_URL``):

- ``smtp://user:password@host:587`` (STARTTLS when the server offers it) or
  ``smtps://user:password@host:465``: a real mail server;
- ``file:///path/to/outbox``: each message is written there as an ``.eml``
  file, for development and tests (the default, in the instance folder).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

__all__ = [
    "FileOutbox",
    "Mail",
    "MailError",
    "Mailer",
    "SmtpMailer",
    "compose",
    "confirm_mail",
    "link_mail",
    "mailer_for",
]


class MailError(Exception):
    """Mail could not be handed over (the message says why)."""


@dataclass(frozen=True)
class Mail:
    """One plain-text message to one person."""

    to: str
    subject: str
    text: str


class Mailer(Protocol):
    """Hands messages over for delivery."""

    #: The From address of every message.
    sender: str

    def send(self, mail: Mail) -> None:
        """Send one message; raises :class:`MailError` if it cannot be handed over."""

    def send_message(self, message: EmailMessage) -> None:
        """Send one composed message as it is (its ``Message-ID`` kept)."""


def compose(mail: Mail, sender: str, message_id: str | None = None) -> EmailMessage:
    """``mail`` as a message from ``sender``, with ``message_id`` (or a new one)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(
        domain=sender.rpartition("@")[2].rstrip(">") or None)
    message.set_content(mail.text)
    return message


@dataclass
class FileOutbox:
    """Writes each message as an ``.eml`` file in ``directory``."""

    directory: Path
    sender: str

    def send(self, mail: Mail) -> None:
        self.send_message(compose(mail, self.sender))

    def send_message(self, message: EmailMessage) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Named by time first, so the outbox lists in the order mail was sent.
            path = self.directory / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
            partial = path.with_suffix(".tmp")
            partial.write_bytes(bytes(message))
            os.replace(partial, path)  # readers never see half a message
        except OSError as exc:
            raise MailError(f"cannot write to the outbox {self.directory}: {exc}") from None


@dataclass
class SmtpMailer:
    """Sends through an SMTP server."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    timeout: float = 20.0

    def send(self, mail: Mail) -> None:
        self.send_message(compose(mail, self.sender))

    def send_message(self, message: EmailMessage) -> None:
        try:
            if self.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout,
                    context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if not self.implicit_tls:
                    client.ehlo()
                    if client.has_extn("starttls"):
                        client.starttls(context=ssl.create_default_context())
                        client.ehlo()
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"the mail server {self.host}:{self.port} refused: {exc}") from None


def mailer_for(url: str, sender: str) -> Mailer:
    """The mailer a ``MATCHER_MAIL_URL`` names (see the module's docstring)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileOutbox(Path(unquote(parts.path)), sender)
    if parts.scheme in ("smtp", "smtps"):
        if not parts.hostname:
            raise ValueError(f"{url!r} names no mail server")
        implicit = parts.scheme == "smtps"
        return SmtpMailer(
            parts.hostname, parts.port or (465 if implicit else 587), sender,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None, implicit)
    raise ValueError(f"{url!r} is not a mail URL: use smtp://, smtps:// or file://")


def link_mail(to: str, name: str, trial_name: str, link: str, *, why: str) -> Mail:
    """The message that carries a participant's personal link.

    ``why`` is ``"signup"`` (they just signed up), ``"import"`` (an organiser
    added them), ``"again"`` (they or their organiser asked for a new link) or
    ``"already"`` (someone signed this address up again: the same link as before).
    """
    opening = {
        "signup": f"Thank you for signing up to {trial_name}.",
        "import": f"You have been added to {trial_name}, a coffee trial: every round you "
                  "are introduced to a colleague you have not met yet, for a short chat.",
        "again": f"Here is a new link to your page in {trial_name}. Any earlier link no "
                 "longer works.",
        "already": f"Someone, perhaps you, has just signed this address up to {trial_name}. "
                   "You are in already, so nothing has changed; here is your link again.",
    }[why]
    text = (
        f"Hello {name},\n\n{opening}\n\n"
        f"Your personal page shows who you are matched with, as soon as each round is "
        f"published:\n\n    {link}\n\n"
        "The link is yours alone: anyone who has it can see your matches. From the page "
        "you can pause, resume, say whether a meeting happened, or leave (your details "
        "are then deleted).\n\n"
        "If you did not expect this message, you can ignore it, or open the link and "
        "choose \"Leave\".\n"
    )
    return Mail(to, f"Your link for {trial_name}", text)


def confirm_mail(to: str, name: str, trial_name: str, link: str, *, days: int) -> Mail:
    """The message that asks whoever signed up with ``to`` to confirm it is theirs."""
    text = (
        f"Hello {name},\n\n"
        f"Someone, we hope you, has signed this address up to {trial_name}, a coffee "
        "trial: every round you are introduced to a colleague you have not met yet, for "
        "a short chat.\n\n"
        f"To confirm, open this link within {days} days and press \"Confirm\":\n\n"
        f"    {link}\n\n"
        "Until then nobody is matched with you. If you did not sign up, ignore this "
        "message: the sign-up is forgotten when the link expires.\n"
    )
    return Mail(to, f"Please confirm your sign-up to {trial_name}", text)
