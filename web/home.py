"""The front door: what matcher is, where organisers sign in, where a café's
guests type their code, and what a participant who lost their link can do."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask import session as cookie

from matcher.models import Organiser
from web.extensions import session

__all__ = ["blueprint"]

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def front_door():
    """The app's first page, for everyone."""
    organiser_id = cookie.get("organiser_id")
    organiser = session().get(Organiser, organiser_id) if organiser_id else None
    return render_template("home.html", organiser=organiser)
