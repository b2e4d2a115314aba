"""Knowledge cafés in the browser: join by code, the participant's live page,
the big screen. (The host console is in :mod:`web.organiser`.)"""

from __future__ import annotations

import segno
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from matcher.cafes import (
    CafeError,
    attendee_for_token,
    cafe_by_code,
    cafe_by_screen_key,
    cafe_state,
    current_seat,
    join_cafe,
    leave_cafe,
    screen_view,
)
from matcher.harvest import (
    NOTE_LIMIT,
    PLEDGE_LIMIT,
    pledge_of,
    pledge_open,
    pledge_view,
    post_note,
    post_pledge,
    vote,
    votes_open,
    voting_notes,
)
from web.extensions import session, socketio
from web.push import push_cafe, push_note, push_screen

__all__ = ["blueprint", "qr_svg"]

blueprint = Blueprint("cafes", __name__)

#: The join form: (field, label, input type, required).
JOIN_FIELDS = (
    ("name", "Your name", "text", True),
    ("department", "Department", "text", True),
    ("organisation", "Organisation", "text", False),
    ("email", "Email (optional: links this café to your coffee matches)", "email", False),
)


def qr_svg(url: str) -> str:
    """A QR code of ``url`` as inline SVG (dark on light, scales with its box)."""
    return segno.make(url, error="m").svg_inline(scale=1, omitsize=True, dark="#000",
                                                 light="#fff", border=2)


@blueprint.route("/cafe", methods=["GET", "POST"])
def enter_code():
    """Type the café's short code."""
    code = request.values.get("code", "")
    if code:
        cafe = cafe_by_code(session(), code)
        if cafe is not None:
            return redirect(url_for("cafes.join_page", code=cafe.code), 303)
        return render_template("cafes/enter.html", error="No café has that code. Check the "
                               "screen and try again.", code=code), 404
    return render_template("cafes/enter.html", error=None, code="")


def _cafe(code: str):
    cafe = cafe_by_code(session(), code)
    if cafe is None:
        abort(404)
    return cafe


@blueprint.get("/cafe/<code>")
def join_page(code: str):
    """The join form of a café (its join link and QR code lead here)."""
    cafe = _cafe(code)
    return render_template("cafes/join.html", cafe=cafe, fields=JOIN_FIELDS, values={},
                           error=None, error_field=None)


@blueprint.post("/cafe/<code>")
def join_submit(code: str):
    """Join; then the participant's own page."""
    cafe = _cafe(code)
    values = {key: request.form.get(key, "") for key, *_ in JOIN_FIELDS}
    db = session()
    try:
        joined = join_cafe(db, cafe, dict(values))
    except CafeError as exc:
        db.rollback()
        return render_template("cafes/join.html", cafe=cafe, fields=JOIN_FIELDS, values=values,
                               error=str(exc), error_field=exc.field), exc.status
    db.commit()
    push_cafe(socketio, cafe)
    return redirect(url_for("cafes.me_page", token=joined.token), 303)


def _attendee(token: str):
    attendee = attendee_for_token(session(), token)
    if attendee is None:
        abort(404)
    return attendee


@blueprint.get("/cafe/me/<token>")
def me_page(token: str):
    """A participant's page (secret link): waiting, then their table each round, live,
    with its notes; the pledge in the last round; the votes at the end."""
    return _me(token, _attendee(token))


def _me(token: str, attendee, error: CafeError | None = None, values: dict | None = None):
    cafe = attendee.cafe
    db = session()
    pledge = pledge_of(db, attendee)
    status = error.status if error is not None else 200
    return render_template(
        "cafes/me.html", token=token, attendee=attendee, cafe=cafe, state=cafe_state(cafe),
        seat=current_seat(attendee) if attendee.present else None,
        pledge=pledge_view(db, pledge) if pledge else None, pledge_open=pledge_open(cafe),
        votes_open=votes_open(cafe),
        voting=voting_notes(db, attendee),
        note_limit=NOTE_LIMIT, pledge_limit=PLEDGE_LIMIT, error=error,
        values=values or {}), status


def _form_action(token: str, action, field_values: dict | None = None):
    """Run ``action(attendee)`` for a page's form: back to the page (303), or the page
    with the error where it happened."""
    attendee = _attendee(token)
    db = session()
    try:
        after = action(db, attendee)
    except CafeError as exc:
        db.rollback()
        return _me(token, attendee, exc, field_values)
    db.commit()
    if after is not None:
        after(attendee)
    return redirect(url_for("cafes.me_page", token=token) + "#harvest", 303)


@blueprint.post("/cafe/me/<token>/notes")
def note_submit(token: str):
    """A note of the participant's table (the page's form, without JavaScript)."""
    text = request.form.get("text", "")

    def action(db, attendee):
        note = post_note(db, attendee, text)
        return lambda a: push_note(socketio, a.cafe, note)

    return _form_action(token, action, {"note": text})


@blueprint.post("/cafe/me/<token>/pledge")
def pledge_submit(token: str):
    """The participant's pledge (the page's form)."""
    text = request.form.get("text", "")

    def action(db, attendee):
        _, message = post_pledge(db, attendee, text,
                                 sender=current_app.extensions["matcher.mailer"].sender)
        due = message.due_at if message is not None else None
        return lambda a: current_app.extensions["matcher.jobs"].wake_at(due)

    return _form_action(token, action, {"pledge": text})


@blueprint.post("/cafe/me/<token>/notes/<int:note_id>/vote")
def vote_submit(token: str, note_id: int):
    """Vote for a note, or (``vote=no``) take the vote back (the page's form)."""
    on = request.form.get("vote", "yes") != "no"

    def action(db, attendee):
        vote(db, attendee, note_id, on=on)
        return lambda a: push_screen(socketio, a.cafe)

    return _form_action(token, action)


@blueprint.post("/cafe/me/<token>/leave")
def leave(token: str):
    """Leave the café: no more seats."""
    attendee = _attendee(token)
    leave_cafe(session(), attendee)
    session().commit()
    push_cafe(socketio, attendee.cafe)
    return render_template("message.html", heading="You have left the café",
                           text="You will not be seated in the rounds to come. Thank you "
                                "for joining in.")


@blueprint.get("/screen/<key>")
def screen(key: str):
    """The big screen (secret link): the code, QR code and head count before the
    start; every table, the question and the timer during rounds."""
    cafe = cafe_by_screen_key(session(), key)
    if cafe is None:
        abort(404)
    join_url = url_for("cafes.join_page", code=cafe.code, _external=True)
    return render_template("cafes/screen.html", cafe=cafe, key=key, view=screen_view(cafe),
                           join_url=join_url, qr=qr_svg(join_url),
                           enter_url=url_for("cafes.enter_code", _external=True))
