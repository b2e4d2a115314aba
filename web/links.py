"""Mailing participants their personal links (the only way a link leaves the app):
each is queued in the outbox in the transaction that made the link, and
delivered by the mail worker after the commit (matcher/outbox.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from flask import current_app, url_for

from matcher.accounts import hash_token
from matcher.actions import PAUSE_LINK_LIFETIME, action_token
from matcher.introductions import sealed_page
from matcher.mail import compose, confirm_mail, link_mail
from matcher.models import Membership, Message, PendingSignup
from matcher.outbox import queue_message
from matcher.times import utc_now
from matcher.trials import CONFIRM_LIFETIME, Pending, Signup, new_link
from web.extensions import session

__all__ = ["deliver", "queue_confirmation", "queue_link", "queue_link_again", "queue_signup"]


def queue_link(membership: Membership, token: str, why: str) -> Message:
    """Queue the mail that carries ``membership``'s link with ``token`` (before the
    commit); ``why`` as :func:`matcher.mail.link_mail` takes it."""
    seal = current_app.extensions["matcher.seal"]
    membership.token_sealed = seal.encrypt(token.encode())  # for introductions later
    # One mail per link made: its reason is the link (by the hash that is stored anyway).
    return _queue_page_link(membership, token, why, reason=f"link:{hash_token(token)}")


def queue_link_again(membership: Membership) -> Message:
    """Someone signed ``membership``'s address up again (a trial that confirms
    sign-ups): mail the member their own link, as it is, so that nothing
    changes for them on a stranger's word. A link sealed under an earlier
    secret key cannot be read back; the member then gets a new one."""
    page = sealed_page(current_app.extensions["matcher.seal"], lambda token: token)
    token = page(membership)
    if token is None:
        token = new_link(session(), membership)
        return queue_link(membership, token, "already")
    return _queue_page_link(membership, token, "already",
                            reason=f"already:{hash_token(token)}:{secrets.token_hex(8)}")


def _queue_page_link(membership: Membership, token: str, why: str, *, reason: str) -> Message:
    person = membership.person
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
    return queue_message(session(), current_app.extensions["matcher.seal"], message,
                         reason=reason, kind="link", person=person, trial=membership.trial)


def queue_confirmation(pending: PendingSignup, token: str) -> Message:
    """Queue the mail whose link confirms ``pending`` (before the commit)."""
    link = url_for("trials.confirm_page", token=token, _external=True)
    mail = confirm_mail(pending.email, pending.details.get("name", ""), pending.trial.name,
                        link, days=CONFIRM_LIFETIME.days)
    message = compose(mail, current_app.extensions["matcher.mailer"].sender)
    return queue_message(session(), current_app.extensions["matcher.seal"], message,
                         reason=f"confirm:{hash_token(token)}", kind="confirm", person=None,
                         trial=pending.trial)


def queue_signup(answer: Signup | Pending) -> Message:
    """Queue what a sign-up is answered with by mail: the new member's link, the
    confirmation link, or (an address already in) the member's own link."""
    if isinstance(answer, Signup):
        return queue_link(answer.membership, answer.token, "signup")
    if answer.member is not None:
        return queue_link_again(answer.member)
    return queue_confirmation(answer.pending, answer.token)


def deliver(messages: Iterable[Message | None]) -> None:
    """After the commit: hand the queued ``messages`` to the mail worker."""
    current_app.extensions["matcher.jobs"].deliver_later(
        message.id for message in messages if message is not None)
