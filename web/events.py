"""Socket.IO connections: who is connecting decides their rooms (docs/events.md).

The server never trusts a room name or id sent by a client. A connection
brings one credential in ``auth``: a participant's token (of a trial or a
café), a big screen's key (``{"screen": key}``), or an organiser's API token;
or it is an organiser's browser with its login session. Anything else is
refused, and counts as a failed guess of the client's address (too many, and
even good credentials are refused for a while). On connect, each gets the
current state at once.
"""

from __future__ import annotations

from flask import request
from flask import session as cookie
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import select

from matcher.accounts import organiser_for_token
from matcher.cafes import (
    attendee_for_token,
    cafe_by_screen_key,
    cafe_state,
    current_seat,
    screen_view,
)
from matcher.models import Cafe, Organiser, TeamRole
from matcher.trials import current_match, membership_for_token
from web.extensions import session
from web.push import (
    cafe_room,
    console_room,
    match_payload,
    participant_room,
    screen_room,
    seat_room,
)
from web.security import guess_allowed, record_failed_guess

__all__ = ["register_events"]


def register_events(socketio) -> None:
    """Attach the connection handler."""

    @socketio.on("connect")
    def connect(auth=None):
        if not guess_allowed():
            raise ConnectionRefusedError("too many failed attempts; wait a minute")
        try:
            return _connect(auth)
        except ConnectionRefusedError:
            record_failed_guess()
            raise

    def _connect(auth):
        auth = auth if isinstance(auth, dict) else {}
        db = session()
        token, screen = auth.get("token"), auth.get("screen")
        if isinstance(screen, str) and screen:
            cafe = cafe_by_screen_key(db, screen)
            if cafe is None:
                raise ConnectionRefusedError("unknown screen")
            join_room(screen_room(cafe))
            socketio.emit("cafe_screen", screen_view(cafe), to=request.sid)
            return True
        if isinstance(token, str) and token:
            membership = membership_for_token(db, token)
            if membership is not None:
                join_room(participant_room(membership.person.public_id))
                match = current_match(db, membership)
                if match is not None:
                    socketio.emit("match", match_payload(match), to=request.sid)
                return True
            attendee = attendee_for_token(db, token)
            if attendee is not None:
                cafe = attendee.cafe
                join_room(seat_room(cafe, attendee.person.public_id))
                join_room(cafe_room(cafe))
                socketio.emit("cafe_state", cafe_state(cafe), to=request.sid)
                seat = current_seat(attendee) if attendee.present else None
                if seat is not None:
                    socketio.emit("seat", seat, to=request.sid)
                return True
            organiser = organiser_for_token(db, token)
        else:
            organiser_id = cookie.get("organiser_id")
            organiser = db.get(Organiser, organiser_id) if organiser_id else None
        if organiser is None:
            raise ConnectionRefusedError("a valid token is required")
        join_room(f"organiser:{organiser.id}")
        # Every café they hold a role on, as owner or co-organiser (docs/security.md).
        for cafe in db.scalars(select(Cafe).join(TeamRole, TeamRole.cafe_id == Cafe.id)
                               .where(TeamRole.organiser_id == organiser.id,
                                      Cafe.status != "finished")):
            join_room(console_room(cafe))
            join_room(cafe_room(cafe))
        return True
