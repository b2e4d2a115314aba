"""Knowledge cafés in the browser: join by code, the participant's live page,
the big screen. (The host console is in :mod:`web.organiser`.)"""

from __future__ import annotations

import segno
from flask import Blueprint, abort, redirect, render_template, request, url_for

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
from web.extensions import session, socketio
from web.push import push_cafe

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
    """A participant's page (secret link): waiting, then their table each round, live."""
    attendee = _attendee(token)
    cafe = attendee.cafe
    return render_template("cafes/me.html", token=token, attendee=attendee, cafe=cafe,
                           state=cafe_state(cafe),
                           seat=current_seat(attendee) if attendee.present else None)


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
