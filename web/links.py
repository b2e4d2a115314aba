"""Mailing participants their personal links (the only way a link leaves the app)."""

from __future__ import annotations

from flask import current_app, url_for

from matcher.mail import Mail, MailError, link_mail
from matcher.models import Membership

__all__ = ["mail_link"]


def mail_link(membership: Membership, token: str, why: str) -> bool:
    """Mail ``membership``'s person the link with ``token``; ``False`` (and a
    log line) if the mail could not be handed over."""
    person = membership.person
    link = url_for("trials.me_page", token=token, _external=True)
    mail: Mail = link_mail(person.email, person.name, membership.trial.name, link, why=why)
    try:
        current_app.extensions["matcher.mailer"].send(mail)
    except MailError as exc:
        current_app.logger.error("could not mail participant %s their link: %s",
                                 person.public_id, exc)
        return False
    return True
