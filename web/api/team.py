"""The JSON API of co-organisers (docs/security.md, "Co-organisers"): a trial's
or a café's team and log, inviting a colleague to a role, and deleting a
trial or a café (owners)."""

from __future__ import annotations

from flask import g, jsonify

from matcher.models import Cafe, Trial
from matcher.team import delete_cafe, delete_trial, describe, invite, team_of
from matcher.times import iso, utc, utc_now
from web.api import schemas
from web.api.base import blueprint, body, organiser_required
from web.api.cafes import own_cafe
from web.api.spec import ORGANISER, operation
from web.api.trials import own_trial
from web.extensions import session
from web.links import deliver
from web.team import invitation_mail_context

__all__: list[str] = []


def _team_json(place: Trial | Cafe) -> dict[str, object]:
    team = team_of(session(), place)
    now = utc_now()
    return {
        "members": [{"organiser_id": m.organiser_id, "name": m.organiser.name,
                     "email": m.organiser.email, "role": m.role, "since": iso(m.since)}
                    for m in team.members],
        "invitations": [{"invitation_id": i.id, "email": i.email, "role": i.role,
                         "invited_by": i.invited_by.email if i.invited_by else None,
                         "created_at": iso(i.created_at), "expires_at": iso(i.expires_at),
                         "expired": utc(i.expires_at) <= now} for i in team.invitations],
        "log": [{"at": iso(e.at), "action": e.action,
                 "by": e.actor.email if e.actor else None, "email": e.email,
                 "role": e.role, "from_role": e.from_role, "text": describe(e)}
                for e in team.log],
    }


def _invite(place: Trial | Cafe):
    data = body()
    db = session()
    invited = invite(db, place, g.organiser, data.get("email"), data.get("role"),
                     **invitation_mail_context())
    db.commit()
    deliver([invited.message])
    invitation = invited.invitation
    return jsonify({"invitation_id": invitation.id, "email": invitation.email,
                    "role": invitation.role, "expires_at": iso(invitation.expires_at),
                    "mailed": True}), 201


@blueprint.get("/trials/<int:trial_id>/team")
@organiser_required
@operation("getTrialTeam", {200: schemas.Team}, (403, 404), security=ORGANISER, tag="trials")
def trial_team(trial_id: int):
    """Who runs the trial: its owners and organisers, the pending invitations, the log.

    Owners and organisers of the trial may read it."""
    return jsonify(_team_json(own_trial(trial_id)))


@blueprint.post("/trials/<int:trial_id>/team/invitations")
@organiser_required
@operation("inviteToTrial", {201: schemas.InvitationCreated}, (403, 404, 409),
           json=schemas.InvitationRequest, security=ORGANISER, tag="trials")
def trial_invite(trial_id: int):
    """Invite a colleague by email to help run the trial, as owner or organiser.

    Owners only. The invitation's link is mailed to the address (nobody else
    sees it); it works once, for 14 days, for an account with that email. 409
    (`email`) if the address is in the team or invited already."""
    return _invite(own_trial(trial_id))


@blueprint.delete("/trials/<int:trial_id>")
@organiser_required
@operation("deleteTrial", {204: None}, (403, 404), security=ORGANISER, tag="trials")
def trial_delete(trial_id: int):
    """Delete the trial and everything in it (participants' places, rounds,
    feedback, mail, team).

    Owners only; it cannot be undone."""
    db = session()
    delete_trial(db, own_trial(trial_id), g.organiser)
    db.commit()
    return "", 204


@blueprint.get("/cafes/<code>/team")
@organiser_required
@operation("getCafeTeam", {200: schemas.Team}, (403, 404), security=ORGANISER, tag="cafes")
def cafe_team(code: str):
    """Who runs the café: its owners and organisers, the pending invitations, the log.

    Owners and organisers of the café may read it."""
    return jsonify(_team_json(own_cafe(code)))


@blueprint.post("/cafes/<code>/team/invitations")
@organiser_required
@operation("inviteToCafe", {201: schemas.InvitationCreated}, (403, 404, 409),
           json=schemas.InvitationRequest, security=ORGANISER, tag="cafes")
def cafe_invite(code: str):
    """Invite a colleague by email to help run the café, as owner or organiser.

    Owners only. The invitation's link is mailed to the address; it works
    once, for 14 days, for an account with that email. 409 (`email`) if the
    address is in the team or invited already."""
    return _invite(own_cafe(code))


@blueprint.delete("/cafes/<code>")
@organiser_required
@operation("deleteCafe", {204: None}, (403, 404, 409), security=ORGANISER, tag="cafes")
def cafe_delete(code: str):
    """Delete the café and everything in it (attendees, rounds, notes, votes,
    pledges, team).

    Owners only; 409 while it is running (end it first)."""
    db = session()
    delete_cafe(db, own_cafe(code), g.organiser)
    db.commit()
    return "", 204
