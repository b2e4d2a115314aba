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
    flash,
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
from matcher.exports import EXPORTS, trial_figures
from matcher.models import Organiser, Trial
from matcher.trials import (
    ImportProblems,
    TrialError,
    create_trial,
    import_participants,
    new_link,
    preview_round,
    update_trial,
)
from solvers.model import ATTRIBUTES, Weights
from web.extensions import session, socketio
from web.links import mail_link
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
    return _dashboard(trials)


def _dashboard(trials, error: str | None = None):
    figures = {trial.id: trial_figures(trial) for trial in trials}
    return render_template("organiser/dashboard.html", trials=trials, figures=figures,
                           error=error)


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
        return _dashboard(trials, str(exc)), 400
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


def _trial_page(trial: Trial, *, preview=None, error=None, problems=None) -> str:
    names = {m.person.public_id: m.person.name for m in trial.memberships}
    weights = Weights(**trial.weights) if trial.weights else Weights()
    return render_template("organiser/trial.html", trial=trial, preview=preview, error=error,
                           problems=problems,
                           figures=trial_figures(trial),
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


@blueprint.post("/trials/<int:trial_id>/participants")
@signed_in
def import_people(trial_id: int):
    """Import participants from an uploaded people file; every problem is
    listed by row, and nothing is imported unless the whole file is good."""
    trial = _own_trial(trial_id)
    upload = request.files.get("file")
    db = session()
    if upload is None or not upload.filename:
        return _trial_page(trial, error="Choose a people file (CSV) to import."), 400
    try:
        imported = import_participants(db, trial, upload.filename, upload.read())
    except ImportProblems as exc:
        db.rollback()
        return _trial_page(trial, error=str(exc), problems=exc.problems), 400
    db.commit()
    mailed = sum(mail_link(s.membership, s.token, "import") for s in imported.added)
    notice = f"Imported {len(imported.added)} {_people(len(imported.added))}"
    if imported.already_in:
        notice += f" ({len(imported.already_in)} already in the trial were left as they were)"
    notice += f"; {mailed} of {len(imported.added)} were mailed their personal link."
    flash(notice)
    return redirect(url_for("organiser.trial_page", trial_id=trial.id), 303)


def _people(count: int) -> str:
    return "person" if count == 1 else "people"


@blueprint.post("/trials/<int:trial_id>/participants/<participant_id>/link")
@signed_in
def send_new_link(trial_id: int, participant_id: str):
    """Mail one participant a new personal link (the old one stops working)."""
    trial = _own_trial(trial_id)
    membership = next((m for m in trial.memberships
                       if m.person.public_id == participant_id), None)
    if membership is None:
        abort(404)
    token = new_link(session(), membership)
    session().commit()
    sent = mail_link(membership, token, "again")
    notice = (f"A new link was mailed to {membership.person.name}." if sent else
              f"The mail to {membership.person.name} could not be sent; try again later.")
    flash(notice)
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
