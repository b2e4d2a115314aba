"""The JSON API of coffee trials (docs/api.md): create and change a trial, sign
up, import people, mail links, preview and publish rounds, the history."""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, request, url_for

from matcher.exports import EXPORTS
from matcher.models import Trial
from matcher.times import iso
from matcher.trials import (
    CONFIRM_LIFETIME,
    SETTINGS,
    Pending,
    Signup,
    TrialError,
    confirm_signup,
    create_trial,
    import_participants,
    membership_by_public_id,
    new_link,
    owned_trial,
    preview_round,
    renew_link,
    signup,
    update_trial,
)
from matcher.validation import check_seed
from web.api import schemas
from web.api.base import blueprint, body, organiser_required
from web.api.spec import ORGANISER, operation
from web.extensions import session, socketio
from web.links import deliver, queue_link, queue_signup
from web.push import publish_and_push

__all__: list[str] = []

_EXPORT_KINDS = ", ".join(EXPORTS)


def own_trial(trial_id: int) -> Trial:
    """The calling organiser's trial ``trial_id`` (404 unknown, 403 not theirs)."""
    return owned_trial(session(), g.organiser, trial_id)


def _public_trial(trial_id: int) -> Trial:
    trial = session().get(Trial, trial_id)
    if trial is None:
        raise TrialError(404, "not_found", "no such trial")
    return trial


def _join_url(trial: Trial) -> str:
    return url_for("trials.join_page", join_code=trial.join_code, _external=True)


@blueprint.post("/trials")
@organiser_required
@operation("createTrial", {201: schemas.TrialCreated}, json=schemas.NewTrial,
           security=ORGANISER, tag="trials")
def new_trial():
    """Create a coffee trial.

    Answers its id, its join code and the link people sign up with."""
    data = body()
    db = session()
    trial = create_trial(db, g.organiser, data.get("name"),
                         **{key: data[key] for key in SETTINGS
                            if key in data and key not in ("name", "paused")})
    db.commit()
    _wake(trial)
    return jsonify({"id": trial.id, "join_code": trial.join_code,
                    "join_url": _join_url(trial)}), 201


@blueprint.get("/trials/<int:trial_id>")
@organiser_required
@operation("getTrial", {200: schemas.Trial}, (403, 404), security=ORGANISER, tag="trials")
def trial_details(trial_id: int):
    """A trial's settings, participants and rounds."""
    return jsonify(_trial_json(own_trial(trial_id)))


@blueprint.patch("/trials/<int:trial_id>")
@organiser_required
@operation("updateTrial", {200: schemas.Trial}, (403, 404), json=schemas.TrialSettings,
           security=ORGANISER, tag="trials")
def edit_trial(trial_id: int):
    """Change a trial's settings (the next rounds follow them).

    Any of name, description, group_size, odd, weights, schedule, paused,
    icebreakers and confirm_email; answers the trial as changed."""
    trial = own_trial(trial_id)
    update_trial(session(), trial, body())
    session().commit()
    _wake(trial)
    return jsonify(_trial_json(trial))


def _wake(trial: Trial) -> None:
    """After a schedule is set: the job queue wakes at its next slot."""
    current_app.extensions["matcher.jobs"].wake_at(trial.next_round_at)


def _trial_json(trial: Trial) -> dict[str, object]:
    return {
        "id": trial.id, "name": trial.name, "description": trial.description,
        "group_size": trial.group_size, "odd": trial.odd, "weights": trial.weights,
        "join_code": trial.join_code, "join_url": _join_url(trial),
        "schedule": trial.schedule, "paused": trial.schedule_paused,
        "next_round_at": iso(trial.next_round_at), "icebreakers": trial.icebreakers or [],
        "confirm_email": trial.confirm_email,
        "participants": [
            {"participant_id": m.person.public_id, "name": m.person.name,
             "department": m.person.department, "email": m.person.email,
             "paused": m.paused}
            for m in trial.memberships
        ],
        "rounds": [{"round": r.number, "published_at": iso(r.published_at),
                    "metrics": r.metrics} for r in trial.rounds],
    }


@blueprint.post("/trials/<int:trial_id>/signups")
@operation("signUp", {201: schemas.Joined,
                      202: (schemas.PendingSignup, "waiting for the email to be confirmed")},
           (403, 404, 409), json=schemas.Signup, tag="trials")
def signup_to_trial(trial_id: int):
    """Sign up to a trial with its join code.

    A trial that confirms sign-ups (``confirm_email``, on for new trials)
    answers 202 with no token: a link is mailed to the address, and following
    it (or ``POST /confirmations`` with its token) makes the participant. The
    answer is the same whether or not the address is signed up already.
    Otherwise the answer is 201 with the participant's id, their secret token
    and their personal page, whose link is also mailed to them."""
    db = session()
    trial = _public_trial(trial_id)
    data = body()
    joined = signup(db, trial, data.get("join_code"), data)
    queued = queue_signup(joined)
    db.commit()
    deliver([queued])
    if isinstance(joined, Pending):
        return jsonify({"status": "pending", "expires_in_days": CONFIRM_LIFETIME.days}), 202
    return _joined(joined), 201


@blueprint.post("/confirmations")
@operation("confirmSignup", {201: schemas.Joined}, (404,), json=schemas.Confirmation,
           tag="trials")
def confirm():
    """Confirm a sign-up with the token of the link mailed to it (once).

    Answers as a sign-up without confirmation does: the participant's id,
    their secret token and their personal page (whose link is mailed too)."""
    db = session()
    joined = confirm_signup(db, body().get("token") or "")
    queued = queue_signup(joined)
    db.commit()
    deliver([queued])
    return _joined(joined), 201


def _joined(joined: Signup):
    return jsonify({
        "participant_id": joined.membership.person.public_id,
        "token": joined.token,
        "me_url": url_for("trials.me_page", token=joined.token, _external=True),
    })


@blueprint.post("/trials/<int:trial_id>/participants")
@organiser_required
@operation("importParticipants", {201: schemas.Imported}, (400, 403, 404, 413),
           security=ORGANISER, tag="trials")
def import_people(trial_id: int):
    """Import a people file (docs/formats.md): all rows or none.

    The body is the CSV (`Content-Type: text/csv`) or a JSON list of people, or
    a multipart form with the file as `file`. Each new participant is mailed
    their link."""
    trial = own_trial(trial_id)
    upload = request.files.get("file")
    if upload is not None:
        label, data = upload.filename or "upload.csv", upload.read()
    else:
        kind = request.mimetype
        label = "upload.json" if kind == "application/json" else "upload.csv"
        data = request.get_data()
    if not data:
        raise TrialError(400, "invalid", "send the people file as the body or as the form "
                         "field 'file'", "file")
    db = session()
    imported = import_participants(db, trial, label, data)
    queued = [queue_link(one.membership, one.token, "import") for one in imported.added]
    db.commit()
    deliver(queued)
    return jsonify({
        "added": [{"participant_id": one.membership.person.public_id,
                   "email": one.membership.person.email} for one in imported.added],
        "already_in": imported.already_in,
        "mailed": len(queued),
        # Mail is sent after the answer; failures show on the trial's page.
        "not_mailed": [],
    }), 201


@blueprint.post("/trials/<int:trial_id>/participants/<participant_id>/link")
@organiser_required
@operation("mailNewLink", {202: schemas.Mailed}, (403, 404), security=ORGANISER,
           tag="trials")
def send_new_link(trial_id: int, participant_id: str):
    """Mail a participant a new personal link (the old one stops working).

    The organiser never sees the link."""
    trial = own_trial(trial_id)
    membership = membership_by_public_id(session(), trial, participant_id)
    if membership is None:
        raise TrialError(404, "not_found", "no such participant in this trial")
    token = new_link(session(), membership)
    queued = queue_link(membership, token, "again")
    session().commit()
    deliver([queued])
    return jsonify({"mailed": True}), 202


@blueprint.post("/trials/<int:trial_id>/links")
@operation("requestLink", {202: schemas.Accepted}, (403, 404), json=schemas.LinkRequest,
           tag="trials")
def lost_link(trial_id: int):
    """Ask for one's personal link again, with the join code and one's email.

    The same answer whether or not the email is signed up, so nothing is
    revealed; if it is, a new link is mailed and the old one stops working."""
    db = session()
    trial = _public_trial(trial_id)
    data = body()
    renewed = renew_link(db, trial, data.get("join_code"), data.get("email"))
    if renewed is not None:
        queued = queue_link(renewed.membership, renewed.token, "again")
        db.commit()
        deliver([queued])
    return jsonify({"accepted": True}), 202


@blueprint.post("/trials/<int:trial_id>/rounds")
@organiser_required
@operation("makeRound", {200: (schemas.TrialRound, "a preview: nothing stored"),
                         201: (schemas.TrialRound, "published; everyone's match is pushed")},
           (403, 404, 409), json=schemas.RoundRequest, security=ORGANISER, tag="trials")
def new_round(trial_id: int):
    """Preview (`publish` false) or publish (`publish` true) the next round.

    A published round's match goes to each participant at once."""
    trial = own_trial(trial_id)
    data = body()
    publish = data.get("publish", False)
    seed = check_seed(data.get("seed"), TrialError)
    db = session()
    limit = current_app.config["ROUND_TIME_LIMIT"]
    if not publish:
        planned = preview_round(db, trial, seed=seed, time_limit=limit)
        return jsonify({
            "round": None,
            "groups": [{"group": k, "members": list(m)}
                       for k, m in enumerate(planned.groups, 1)],
            "sitting_out": list(planned.sitting_out),
            "metrics": planned.metrics.as_dict(),
        })
    stored = publish_and_push(socketio, db, trial, seed=seed, time_limit=limit,
                              after=data.get("after"))
    return jsonify({
        "round": stored.number,
        "groups": [{"group": group.number,
                    "members": [m.person.public_id for m in group.members]}
                   for group in stored.groups],
        "sitting_out": [m.person.public_id for m in stored.members if m.group_id is None],
        "metrics": stored.metrics,
    }), 201


@blueprint.get(f"/trials/<int:trial_id>/history.<any({_EXPORT_KINDS}):kind>")
@organiser_required
@operation("trialHistory", {200: (None, "the history")}, (403, 404), security=ORGANISER,
           tag="trials")
def history(trial_id: int, kind: str):
    """The trial's history: CSV (docs/formats.md, valid `--history`), JSON or GraphML.

    Who met whom, with names and departments; GraphML for network tools."""
    trial = own_trial(trial_id)
    make, mimetype = EXPORTS[kind]
    return Response(make(trial), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="trial-{trial.id}-history.{kind}"'})
