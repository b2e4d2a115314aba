"""Extensions created unbound and bound in :func:`web.create_app`."""

from flask import current_app, g
from flask_socketio import SocketIO
from sqlalchemy.orm import Session

__all__ = ["session", "socketio"]

socketio = SocketIO()


def session() -> Session:
    """This request's (or event's) database session; closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["matcher.sessions"]()
    return g.db_session
