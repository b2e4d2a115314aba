"""Organiser pages: sign in, the dashboard of trials, one trial (participants,
preview, publish, past rounds, exports)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    session as cookie,
)
from sqlalchemy import select

from matcher.accounts import check_password
from matcher.exports import EXPORTS
from matcher.models import Organiser, Trial
from matcher.trials import TrialError, create_trial, preview_round, update_trial
from solvers.model import ATTRIBUTES, Weights
from web.extensions import session, socketio
from web.push import publish_and_push

__all__ = ["blueprint"]

blueprint = Blueprint("organiser", __name__, url_prefix="/organiser")


def signed_in(view: Callable) -> Callable:
    """Only for a signed-in organiser; others go to the sign-in page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        organiser_id = cookie.get("organiser_id")
        organiser = session().get(Organiser, organiser_id) if organiser_id else None
        if organiser is None:
            return redirect(url_for("organiser.login", next=request.path))
        g.organiser = organiser
        return view(*args, **kwargs)

    return wrapped


def _own_trial(trial_id: int) -> Trial:
    trial = session().get(Trial, trial_id)
    if trial is None:
        abort(404)
    if trial.organiser_id != g.organiser.id:
        abort(403)
    return trial


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    error = None
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        organiser = session().scalar(select(Organiser).where(Organiser.email == email))
        if check_password(organiser, request.form.get("password", "")):
            cookie.clear()
            cookie["organiser_id"] = organiser.id
            target = request.args.get("next", "")
            if not target.startswith("/organiser"):
                target = url_for("organiser.dashboard")
            return redirect(target, 303)
        error = "That email and password do not match an organiser account."
    return render_template("organiser/login.html", error=error), 401 if error else 200


@blueprint.post("/logout")
def logout():
    """Sign out."""
    cookie.clear()
    return redirect(url_for("organiser.login"), 303)


@blueprint.get("/")
@signed_in
def dashboard():
    """The organiser's trials, with their headline figures."""
    trials = session().scalars(
        select(Trial).where(Trial.organiser_id == g.organiser.id).order_by(Trial.id)).all()
    return render_template("organiser/dashboard.html", trials=trials, error=None)


@blueprint.post("/trials")
@signed_in
def new_trial():
    """Create a trial from the dashboard form."""
    db = session()
    try:
        trial = create_trial(db, g.organiser, request.form.get("name"),
                             description=request.form.get("description", ""),
                             group_size=int(request.form.get("group_size") or 2),
                             odd=request.form.get("odd", "triad"))
    except (TrialError, ValueError) as exc:
        db.rollback()
        trials = db.scalars(select(Trial).where(Trial.organiser_id == g.organiser.id)).all()
        return render_template("organiser/dashboard.html", trials=trials, error=str(exc)), 400
    db.commit()
    return redirect(url_for("organiser.trial_page", trial_id=trial.id), 303)


@blueprint.get("/trials/<int:trial_id>")
@signed_in
def trial_page(trial_id: int):
    """One trial: join link, participants, past rounds, exports, preview and publish."""
    trial = _own_trial(trial_id)
    preview = None
    error = None
    if request.args.get("preview"):
        try:
            preview = preview_round(session(), trial,
                                    time_limit=current_app.config["ROUND_TIME_LIMIT"])
        except TrialError as exc:
            error = str(exc)
    return _trial_page(trial, preview=preview, error=error)


def _trial_page(trial: Trial, *, preview=None, error=None) -> str:
    names = {m.person.public_id: m.person.name for m in trial.memberships}
    weights = Weights(**trial.weights) if trial.weights else Weights()
    return render_template("organiser/trial.html", trial=trial, preview=preview, error=error,
                           names=names, weights=weights, attributes=ATTRIBUTES,
                           join_url=url_for("trials.join_page", join_code=trial.join_code,
                                            _external=True))


@blueprint.post("/trials/<int:trial_id>/settings")
@signed_in
def settings(trial_id: int):
    """Change the trial's settings from its page (the next rounds follow them)."""
    trial = _own_trial(trial_id)
    form = request.form
    try:
        changes = {
            "name": form.get("name", ""),
            "description": form.get("description", ""),
            "group_size": int(form.get("group_size") or 0),
            "odd": form.get("odd", ""),
            "weights": {key: int(form.get(f"weight_{key}") or 0) for key in ATTRIBUTES},
        }
        update_trial(session(), trial, changes)
    except (TrialError, ValueError) as exc:
        session().rollback()
        message = str(exc) if isinstance(exc, TrialError) else "numbers must be whole numbers"
        return _trial_page(trial, error=message), 400
    session().commit()
    return redirect(url_for("organiser.trial_page", trial_id=trial.id), 303)


@blueprint.post("/trials/<int:trial_id>/publish")
@signed_in
def publish(trial_id: int):
    """Publish the next round: every open personal page shows its match at once."""
    trial = _own_trial(trial_id)
    try:
        publish_and_push(socketio, session(), trial, seed=None,
                         time_limit=current_app.config["ROUND_TIME_LIMIT"])
    except TrialError as exc:
        session().rollback()
        return _trial_page(trial, error=str(exc)), exc.status
    return redirect(url_for("organiser.trial_page", trial_id=trial.id), 303)


@blueprint.get("/trials/<int:trial_id>/history.<kind>")
@signed_in
def export(trial_id: int, kind: str):
    """Download the history as CSV, JSON or GraphML."""
    if kind not in EXPORTS:
        abort(404)
    trial = _own_trial(trial_id)
    make, mimetype = EXPORTS[kind]
    return Response(make(trial), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="trial-{trial.id}-history.{kind}"'})
