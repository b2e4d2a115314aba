"""Mailing participants their personal links (the only way a link leaves the app):
each is queued in the outbox in the transaction that made the link, and
delivered by the mail worker after the commit (matcher/outbox.py)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, url_for

from matcher.accounts import hash_token
from matcher.actions import PAUSE_LINK_LIFETIME, action_token
from matcher.mail import compose, link_mail
from matcher.models import Membership, Message
from matcher.outbox import queue_message
from matcher.times import utc_now
from web.extensions import session

__all__ = ["deliver", "queue_link"]


def queue_link(membership: Membership, token: str, why: str) -> Message:
    """Queue the mail that carries ``membership``'s link with ``token`` (before the
    commit); ``why`` as :func:`matcher.mail.link_mail` takes it."""
    person = membership.person
    seal = current_app.extensions["matcher.seal"]
    membership.token_sealed = seal.encrypt(token.encode())  # for introductions later
    link = url_for("trials.me_page", token=token, _external=True)
    mail = link_mail(person.email, person.name, membership.trial.name, link, why=why)
    message = compose(mail, current_app.extensions["matcher.mailer"].sender)
    if membership.id is None:
        session().flush()
    # One click in the mail client pauses (RFC 8058), as in every other message.
    pause = action_token(current_app.config["SECRET_KEY"], "pause", membership,
                         expires_at=utc_now() + PAUSE_LINK_LIFETIME)
    address = url_for("actions.page", action="pause", token=pause, _external=True)
    message["List-Unsubscribe"] = f"<{address}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # One mail per link made: its reason is the link (by the hash that is stored anyway).
    return queue_message(session(), seal, message,
                         reason=f"link:{hash_token(token)}", kind="link", person=person,
                         trial=membership.trial)


def deliver(messages: Iterable[Message | None]) -> None:
    """After the commit: hand the queued ``messages`` to the mail worker."""
    current_app.extensions["matcher.jobs"].deliver_later(
        message.id for message in messages if message is not None)
