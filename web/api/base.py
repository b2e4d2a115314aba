"""What every part of the JSON API shares: the blueprint at ``/api/v1``, the error
body (docs/api.md), who is calling (an organiser's or a participant's token).
The operations are in :mod:`web.api.trials`, :mod:`web.api.me`,
:mod:`web.api.cafes` and :mod:`web.api.analytics`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from matcher.accounts import organiser_for_token
from matcher.errors import ServiceError
from matcher.trials import ImportProblems, membership_for_token
from web.extensions import session

__all__ = ["bearer", "blueprint", "body", "error", "organiser_required",
           "participant_required"]

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, code: str, message: str, field: str | None = None):
    """docs/api.md error body."""
    answer: dict[str, object] = {"code": code, "message": message}
    if field is not None:
        answer["field"] = field
    return jsonify({"error": answer}), status


@blueprint.errorhandler(ServiceError)
def service_error(exc: ServiceError):
    """A service refused: its status, code, message and field."""
    return error(exc.status, exc.code, str(exc), exc.field)


@blueprint.errorhandler(ImportProblems)
def import_problems(exc: ImportProblems):
    """A people file with problems: every one, by row and column."""
    response, status = error(exc.status, exc.code, str(exc), exc.field)
    answer = response.get_json()
    answer["error"]["problems"] = [
        {"row": p.row, "column": p.column, "message": p.message} for p in exc.problems]
    return jsonify(answer), status


@blueprint.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """Werkzeug's errors (404, 405, 413, …) as JSON too."""
    code = (exc.name or "error").lower().replace(" ", "_")
    response, status = error(exc.code or 500, code, exc.description or exc.name)
    # Werkzeug's own headers, e.g. a 405's Allow (RFC 9110: the methods there are).
    response.headers.extend((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")
    return response, status


def bearer() -> str | None:
    """The token of ``Authorization: Bearer <token>``, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def organiser_required(view: Callable) -> Callable:
    """Only for organisers: ``Authorization: Bearer <organiser token>`` (before the
    body is looked at: no token, 401, whatever was sent)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        organiser = organiser_for_token(session(), bearer())
        if organiser is None:
            return error(401, "unauthorised", "an organiser token is required")
        g.organiser = organiser
        return view(*args, **kwargs)

    return wrapped


def participant_required(view: Callable) -> Callable:
    """Only for a trial's participants: ``Authorization: Bearer <participant token>``."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        token = bearer()
        membership = membership_for_token(session(), token) if token else None
        if membership is None:
            return error(401, "unauthorised", "a participant token is required")
        g.membership = membership
        return view(*args, **kwargs)

    return wrapped


def body(*, optional: bool = False) -> dict:
    """The request's JSON object (already checked against the operation's model;
    the services check their rules again). ``optional``: no body is ``{}``."""
    if optional and not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ServiceError(400, "invalid", "the body must be a JSON object", "body")
    return data
