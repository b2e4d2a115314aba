"""Co-organisers' pages (docs/security.md, "Co-organisers"): a trial's or a
café's Team page (who holds which role, the invitations still pending, the
log; an owner's forms to invite, change roles, remove people, and delete the
trial or café), and an invitation's page, from its link in the mail (accept,
sign in first, or make an account). The rules are :mod:`matcher.team`'s."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from sqlalchemy import select

from matcher.errors import ServiceError
from matcher.models import TEAM_ROLES, Cafe, Invitation, Organiser, Trial
from matcher.team import (
    INVITATION_LIFETIME,
    POWERS,
    TeamError,
    accept,
    accept_as_new,
    change_role,
    check_open,
    delete_cafe,
    delete_trial,
    describe,
    invitation_for_token,
    invite,
    place_of,
    remove,
    role_of,
    team_of,
    withdraw,
)
from matcher.times import utc, utc_now
from matcher.validation import MIN_PASSWORD_LENGTH
from web.extensions import session
from web.links import deliver
from web.organiser import own_cafe, own_trial, signed_in

__all__ = ["blueprint", "invitation_mail_context"]

blueprint = Blueprint("team", __name__, url_prefix="/organiser")

Place = Trial | Cafe


@blueprint.app_template_filter("team_time")
def team_time(moment) -> str:
    """A moment of a team's life (its log, an invitation's expiry), in UTC."""
    return utc(moment).strftime("%-d %B %Y, %H:%M UTC")


def invitation_mail_context() -> dict[str, object]:
    """What :func:`matcher.team.invite` needs to mail an invitation from a request."""
    return {"seal": current_app.extensions["matcher.seal"],
            "sender": current_app.extensions["matcher.mailer"].sender,
            "link_for": lambda token: url_for("team.invitation", token=token, _external=True)}


def _kind(place: Place) -> str:
    return "trial" if isinstance(place, Trial) else "cafe"


def _team_url(place: Place) -> str:
    if isinstance(place, Trial):
        return url_for("team.trial_page", trial_id=place.id)
    return url_for("team.cafe_page", cafe_id=place.id)


def _page(place: Place, *, error: str | None = None, field: str | None = None,
          status: int = 200):
    """The Team page (with ``error`` about ``field``, and the form as it was sent)."""
    return render_template(
        "organiser/team.html", place=place, kind=_kind(place), team=team_of(session(), place),
        role=role_of(session(), place, g.organiser), describe=describe, powers=POWERS,
        roles=TEAM_ROLES, lifetime_days=INVITATION_LIFETIME.days, now=utc_now(),
        error=error, field=field, form=request.form if error else {}), status


def _change(place: Place, change: Callable[[], str | None]):
    """Make ``change`` (what it answers is said on the page after), commit, and
    back to the Team page; or the page with the error, nothing changed."""
    db = session()
    try:
        done = change()
    except ServiceError as exc:
        db.rollback()
        return _page(place, error=str(exc), field=exc.field, status=exc.status)
    db.commit()
    if done:
        flash(done)
    if role_of(db, place, g.organiser) is None:  # they left the team
        return redirect(url_for("organiser.dashboard"), 303)
    return redirect(_team_url(place), 303)


# -- the Team page and an owner's changes --------------------------------------------------


@blueprint.get("/trials/<int:trial_id>/team")
@signed_in
def trial_page(trial_id: int):
    """Who runs the trial: the team, the pending invitations, the log."""
    return _page(own_trial(trial_id))


@blueprint.get("/cafes/<int:cafe_id>/team")
@signed_in
def cafe_page(cafe_id: int):
    """Who runs the café: the team, the pending invitations, the log."""
    return _page(own_cafe(cafe_id))


def _invite(place: Place):
    def change():
        invited = invite(session(), place, g.organiser, request.form.get("email"),
                         request.form.get("role"), **invitation_mail_context())
        queued.append(invited.message)
        return (f"An invitation is being mailed to {invited.invitation.email}, as "
                f"{invited.invitation.role}.")

    queued: list = []
    answer = _change(place, change)
    deliver(queued)
    return answer


@blueprint.post("/trials/<int:trial_id>/team/invitations")
@signed_in
def trial_invite(trial_id: int):
    """Invite a colleague by email to a role on the trial (owners)."""
    return _invite(own_trial(trial_id))


@blueprint.post("/cafes/<int:cafe_id>/team/invitations")
@signed_in
def cafe_invite(cafe_id: int):
    """Invite a colleague by email to a role on the café (owners)."""
    return _invite(own_cafe(cafe_id))


def _withdraw(place: Place, invitation_id: int):
    def change():
        invitation = withdraw(session(), place, g.organiser, invitation_id)
        return f"The invitation of {invitation.email} is withdrawn: its link no longer works."
    return _change(place, change)


@blueprint.post("/trials/<int:trial_id>/team/invitations/<int:invitation_id>/withdraw")
@signed_in
def trial_withdraw(trial_id: int, invitation_id: int):
    """Withdraw a pending invitation (owners)."""
    return _withdraw(own_trial(trial_id), invitation_id)


@blueprint.post("/cafes/<int:cafe_id>/team/invitations/<int:invitation_id>/withdraw")
@signed_in
def cafe_withdraw(cafe_id: int, invitation_id: int):
    """Withdraw a pending invitation (owners)."""
    return _withdraw(own_cafe(cafe_id), invitation_id)


def _role(place: Place, organiser_id: int):
    def change():
        member = change_role(session(), place, g.organiser, organiser_id,
                             request.form.get("role"))
        return f"{member.organiser.name or member.organiser.email} is now {member.role}."
    return _change(place, change)


@blueprint.post("/trials/<int:trial_id>/team/<int:organiser_id>/role")
@signed_in
def trial_role(trial_id: int, organiser_id: int):
    """Give a member of the team another role (owners)."""
    return _role(own_trial(trial_id), organiser_id)


@blueprint.post("/cafes/<int:cafe_id>/team/<int:organiser_id>/role")
@signed_in
def cafe_role(cafe_id: int, organiser_id: int):
    """Give a member of the team another role (owners)."""
    return _role(own_cafe(cafe_id), organiser_id)


def _remove(place: Place, organiser_id: int):
    def change():
        who = session().get(Organiser, organiser_id)
        remove(session(), place, g.organiser, organiser_id)
        if organiser_id == g.organiser.id:
            return f"You have left the team of {place.name}."
        return f"{who.name or who.email} is no longer in the team."
    return _change(place, change)


@blueprint.post("/trials/<int:trial_id>/team/<int:organiser_id>/remove")
@signed_in
def trial_remove(trial_id: int, organiser_id: int):
    """Take someone out of the trial's team (owners; not the last owner)."""
    return _remove(own_trial(trial_id), organiser_id)


@blueprint.post("/cafes/<int:cafe_id>/team/<int:organiser_id>/remove")
@signed_in
def cafe_remove(cafe_id: int, organiser_id: int):
    """Take someone out of the café's team (owners; not the last owner)."""
    return _remove(own_cafe(cafe_id), organiser_id)


# -- deleting (owners, with the name typed to confirm) -----------------------------------


def _delete(place: Place, deletion: Callable) -> object:
    name = place.name
    db = session()
    try:
        deletion(db, place, g.organiser, confirm=request.form.get("name", ""))
    except ServiceError as exc:
        db.rollback()
        return _page(place, error=str(exc), field=exc.field, status=exc.status)
    db.commit()
    flash(f"{name} is deleted, with everything in it.")
    return redirect(url_for("organiser.dashboard"), 303)


@blueprint.post("/trials/<int:trial_id>/delete")
@signed_in
def delete_trial_page(trial_id: int):
    """Delete the trial and everything in it (owners; its name typed to confirm)."""
    return _delete(own_trial(trial_id), delete_trial)


@blueprint.post("/cafes/<int:cafe_id>/delete")
@signed_in
def delete_cafe_page(cafe_id: int):
    """Delete the café and everything in it (owners; not while it runs)."""
    return _delete(own_cafe(cafe_id), delete_cafe)


# -- an invitation, from its link ----------------------------------------------------------


def _signed_in() -> Organiser | None:
    organiser_id = cookie.get("organiser_id")
    organiser = session().get(Organiser, organiser_id) if organiser_id else None
    if organiser is not None:
        g.organiser = organiser  # the organiser's header, with its "Sign out"
    return organiser


def _has_account(email: str) -> bool:
    return session().scalar(select(Organiser.id).where(Organiser.email == email)) is not None


def _invitation(token: str) -> Invitation:
    found = invitation_for_token(session(), token)
    if found is None:
        abort(404)
    return found


def _closed(exc: TeamError):
    headings = {"used": "Already accepted", "withdrawn": "Invitation withdrawn",
                "expired": "This invitation has expired"}
    return render_template("message.html", heading=headings.get(exc.code, "Invitation"),
                           text=str(exc)[0].upper() + str(exc)[1:] + "."), exc.status


def _invitation_page(invitation: Invitation, organiser: Organiser | None, *,
                     error: str | None = None, field: str | None = None, status: int = 200):
    if organiser is not None:
        state = "accept" if organiser.email == invitation.email else "wrong_account"
    else:
        state = "sign_in" if _has_account(invitation.email) else "create"
    if state == "wrong_account" and error is None:
        error = (f"This invitation is for {invitation.email}, and you are signed in as "
                 f"{organiser.email}: it cannot be accepted from this account.")
        status = 403
    by = invitation.invited_by
    place = place_of(invitation)
    return render_template(
        "organiser/invitation.html", invitation=invitation, place=place,
        kind="trial" if isinstance(place, Trial) else "cafe", state=state,
        inviter=(f"{by.name} ({by.email})" if by.name else by.email) if by else "An owner",
        power=POWERS[invitation.role], min_password=MIN_PASSWORD_LENGTH, error=error,
        field=field, form=request.form if error else {}), status


@blueprint.get("/invitations/<token>")
def invitation(token: str):
    """What the invitation is, and how to accept it: a button (signed in as its
    address), a way to sign in (an account has its address), or a form to make
    the account (none has). Nothing changes here."""
    found = _invitation(token)
    try:
        check_open(found)
    except TeamError as exc:
        return _closed(exc)
    return _invitation_page(found, _signed_in())


@blueprint.post("/invitations/<token>")
def accept_invitation(token: str):
    """Accept the invitation: as the signed-in account of its address, or as a
    new account made here (name and password) when there is none."""
    found = _invitation(token)
    organiser = _signed_in()
    db = session()
    made = False
    try:
        if organiser is not None:
            role = accept(db, found, organiser)
        elif _has_account(found.email):
            check_open(found)
            return redirect(url_for("organiser.login", next=request.path), 303)
        else:
            organiser, role = accept_as_new(db, found, request.form.get("name"),
                                            request.form.get("password"))
            made = True
    except ServiceError as exc:
        db.rollback()
        if exc.status == 410:
            return _closed(exc)
        return _invitation_page(found, organiser if not made else None, error=str(exc),
                                field=exc.field, status=exc.status)
    place = place_of(role)
    db.commit()
    if made:  # signed in as the account just made, as the login does
        cookie.clear()
        cookie["organiser_id"] = organiser.id
    if isinstance(place, Trial):
        flash(f"Welcome to the team of {place.name}: you are an {role.role}.")
        return redirect(url_for("organiser.trial_page", trial_id=place.id), 303)
    return redirect(url_for("organiser.cafe_console", cafe_id=place.id), 303)
