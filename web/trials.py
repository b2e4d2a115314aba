"""Coffee trials in the browser: Socket.IO handlers (pages come with issue 4's rest)."""

from __future__ import annotations

from flask import request
from flask_socketio import ConnectionRefusedError, join_room

from matcher.accounts import organiser_for_token
from matcher.trials import current_match, membership_for_token
from web.extensions import session
from web.push import match_payload, participant_room

__all__ = ["register"]


def register(socketio) -> None:
    """Attach this feature's Socket.IO handlers."""

    @socketio.on("connect")
    def connect(auth=None):
        """A participant (or organiser) connects with ``auth={"token": ...}``; the
        server picks the rooms, and sends a participant their current match."""
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise ConnectionRefusedError("a token is required")
        db = session()
        membership = membership_for_token(db, token)
        if membership is not None:
            join_room(participant_room(membership.person.public_id))
            match = current_match(db, membership)
            if match is not None:
                socketio.emit("match", match_payload(match), to=request.sid)
            return True
        organiser = organiser_for_token(db, token)
        if organiser is not None:
            join_room(f"organiser:{organiser.id}")
            return True
        raise ConnectionRefusedError("unknown token")
