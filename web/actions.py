"""Action links from mail (docs/mail.md, "Action links"): ``/a/<action>/<token>``.

A GET shows what the link will do and a button; only the POST from that page
does it (mail scanners and Outlook's Safe Links open every link). The pause
link is also each message's ``List-Unsubscribe``: its one-click POST (RFC
8058, a body of ``List-Unsubscribe=One-Click``, sent by the mail provider
without any page) pauses too.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from matcher.actions import ACTIONS, ActionError, describe, do_action, read_action
from matcher.trials import trial_schedule
from web.extensions import session
from web.security import csrf

__all__ = ["blueprint"]

blueprint = Blueprint("actions", __name__)

#: The body of an RFC 8058 one-click unsubscribe.
ONE_CLICK = "One-Click"


def _read(action: str, token: str):
    if action not in ACTIONS:
        abort(404)
    return read_action(session(), current_app.config["SECRET_KEY"], action, token)


def _refused(exc: ActionError):
    headings = {"used": "Already done", "expired": "This link has expired",
                "left": "You are no longer in this trial", "no_meeting": "Nothing to answer"}
    return render_template("message.html", heading=headings.get(exc.code, "Link not valid"),
                           text=str(exc)), exc.status


@blueprint.get("/a/<action>/<token>")
def page(action: str, token: str):
    """What the link will do, and the button that does it (nothing changes here)."""
    try:
        link = _read(action, token)
    except ActionError as exc:
        return _refused(exc)
    schedule = trial_schedule(link.membership.trial)
    heading, button = describe(link, schedule.zone.key if schedule else "UTC")
    return render_template("action.html", heading=heading, button=button,
                           trial=link.membership.trial, person=link.membership.person)


@blueprint.post("/a/<action>/<token>")
@csrf.exempt  # checked below: a one-click unsubscribe comes with no page's token
def use(action: str, token: str):
    """Do what the link is for, once."""
    one_click = action == "pause" and request.form.get("List-Unsubscribe") == ONE_CLICK
    if not one_click and current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as exc:
            raise CSRFError(str(exc)) from None
    db = session()
    try:
        done = do_action(db, _read(action, token))
        db.commit()
    except ActionError as exc:
        db.rollback()
        return _refused(exc)
    if one_click:
        return "", 204
    return render_template("message.html", heading="Done", text=done)
