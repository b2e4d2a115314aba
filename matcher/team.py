"""Co-organisers (docs/security.md, "Co-organisers"): who runs a trial or a
café, invitations to help run one, the log of every change, and deleting one.

Every organiser account that runs a trial or a café holds a role on it
(:class:`~matcher.models.TeamRole`): an ``owner`` does everything; an
``organiser`` everything but delete it and manage its team (invite, change
roles, remove people). Its creator is its first owner (:func:`make_owner`);
there may be several owners, and the last one can never be removed or
demoted. ``Trial.organiser_id`` and ``Cafe.organiser_id`` only say who
created it: access is by role (:func:`check_role`, which
``matcher.trials.owned_trial`` and ``matcher.cafes.owned_cafe`` use).

An owner invites a colleague by email (:func:`invite`): the mail carries a
link with a random token, of which only the SHA-256 is kept (as for API
tokens, :mod:`matcher.accounts`), and goes through the outbox sealed, like a
personal link. The link works once, for :data:`INVITATION_LIFETIME`, and only
for the account with that email (made from the invitation if there is none).
Every change of roles is a row of the log (:class:`~matcher.models.TeamEvent`).

As everywhere in :mod:`matcher`, services take a ``Session`` and never commit.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from matcher.accounts import create_organiser, hash_token, validate_password
from matcher.errors import ServiceError
from matcher.mail import Mail, compose
from matcher.models import (
    TEAM_ROLES,
    Cafe,
    Invitation,
    Message,
    Organiser,
    TeamEvent,
    TeamRole,
    Trial,
)
from matcher.outbox import queue_message
from matcher.times import utc, utc_now
from matcher.validation import MAX_NAME_LENGTH, check_email, text

__all__ = [
    "INVITATION_LIFETIME",
    "POWERS",
    "Invited",
    "Team",
    "TeamError",
    "accept",
    "accept_as_new",
    "cafes_of",
    "change_role",
    "check_open",
    "check_role",
    "delete_cafe",
    "delete_trial",
    "describe",
    "invitation_for_token",
    "invitation_mail",
    "invite",
    "make_owner",
    "place_of",
    "remove",
    "role_of",
    "team_of",
    "trials_of",
    "withdraw",
]

#: How long an invitation's link works.
INVITATION_LIFETIME = timedelta(days=14)
#: The kind of the invitations' messages in the outbox (mail to an organiser, not a participant).
MAIL_KIND = "invitation"

#: What each role may do, as the Team page and the invitation say it ("an owner can …").
POWERS = {
    "owner": "do everything: run it, delete it, and decide who helps run it (invite people, "
             "change their roles, remove them)",
    "organiser": "run it day to day (its people, rounds, settings, mail and reports), but "
                 "not delete it or decide who helps run it",
}

Place = Trial | Cafe


class TeamError(ServiceError):
    """A change of a team (or a deletion) that cannot be made as asked."""


def _kind(place: Place) -> str:
    return "trial" if isinstance(place, Trial) else "café"


def _column(model, place: Place):
    """``model``'s column that points at ``place`` (its ``trial_id`` or ``cafe_id``)."""
    return model.trial_id if isinstance(place, Trial) else model.cafe_id


def _at(place: Place) -> dict[str, Place]:
    """The keyword that puts a new row at ``place`` (works before it is flushed)."""
    return {"trial": place} if isinstance(place, Trial) else {"cafe": place}


def _an(role: str) -> str:
    return f"an {role}"  # "an owner", "an organiser"


def _who(organiser: Organiser | None, email: str | None = None) -> str:
    if organiser is None:
        return email or "an account since deleted"
    return f"{organiser.name} ({organiser.email})" if organiser.name else organiser.email


def _day(moment: datetime) -> str:
    return utc(moment).strftime("%-d %B %Y at %H:%M UTC")


def place_of(row: TeamRole | Invitation | TeamEvent) -> Place:
    """The trial or café a role, an invitation or a log row is of."""
    place = row.trial if row.trial_id is not None else row.cafe
    assert place is not None
    return place


# -- roles -------------------------------------------------------------------------------


def make_owner(session: Session, place: Place, organiser: Organiser, *,
               now: datetime | None = None) -> TeamRole:
    """``organiser`` created ``place``: its first owner, and the log's first row."""
    now = now or utc_now()
    role = TeamRole(organiser=organiser, role="owner", since=now, **_at(place))
    session.add(role)
    session.add(TeamEvent(at=now, actor=organiser, subject=organiser, email=organiser.email,
                          action="created", role="owner", **_at(place)))
    return role


def role_of(session: Session, place: Place, organiser: Organiser) -> str | None:
    """``organiser``'s role on ``place`` (``None``: none)."""
    return session.scalar(select(TeamRole.role).where(
        _column(TeamRole, place) == place.id, TeamRole.organiser_id == organiser.id))


def check_role(session: Session, place: Place, organiser: Organiser, need: str = "organiser",
               to: str = "do this", error: type[ServiceError] = TeamError) -> str:
    """``organiser``'s role on ``place``; 403 if they hold none, or (``need="owner"``)
    if they are not one of its owners ("only an owner can ``to``")."""
    role = role_of(session, place, organiser)
    if role is None:
        raise error(403, "forbidden", f"this {_kind(place)} is not yours")
    if need == "owner" and role != "owner":
        raise error(403, "owner_only", f"only an owner can {to}")
    return role


def trials_of(session: Session, organiser: Organiser) -> list[tuple[Trial, str]]:
    """Every trial ``organiser`` holds a role on, with the role, oldest first."""
    return list(session.execute(
        select(Trial, TeamRole.role).join(TeamRole, TeamRole.trial_id == Trial.id)
        .where(TeamRole.organiser_id == organiser.id).order_by(Trial.id)))


def cafes_of(session: Session, organiser: Organiser) -> list[tuple[Cafe, str]]:
    """Every café ``organiser`` holds a role on, with the role, newest first."""
    return list(session.execute(
        select(Cafe, TeamRole.role).join(TeamRole, TeamRole.cafe_id == Cafe.id)
        .where(TeamRole.organiser_id == organiser.id).order_by(Cafe.id.desc())))


def _role(value: object) -> str:
    if value not in TEAM_ROLES:
        raise TeamError(400, "invalid", "role must be owner or organiser", "role")
    return str(value)


def _member(session: Session, place: Place, organiser_id: int) -> TeamRole:
    member = session.scalar(select(TeamRole).where(
        _column(TeamRole, place) == place.id, TeamRole.organiser_id == organiser_id))
    if member is None:
        raise TeamError(404, "not_found", f"nobody with this id is in the team of this "
                                          f"{_kind(place)}")
    return member


def _account(session: Session, email: str) -> Organiser | None:
    return session.scalar(select(Organiser).where(Organiser.email == email))


def _lock_owners(session: Session, place: Place) -> None:
    """Hold the owners' rows until the commit (PostgreSQL: two owners demoting
    each other at once wait for one another, and the second sees the first's
    change); SQLite has one writer at a time anyway."""
    session.scalars(select(TeamRole.id).where(
        _column(TeamRole, place) == place.id, TeamRole.role == "owner").with_for_update()).all()


def _keep_an_owner(session: Session, place: Place, message: str, field: str | None) -> None:
    """After a change (flushed): refused if it left ``place`` without an owner."""
    owners = session.scalar(select(func.count()).select_from(TeamRole).where(
        _column(TeamRole, place) == place.id, TeamRole.role == "owner"))
    if not owners:
        raise TeamError(409, "last_owner", message, field)


def _log(session: Session, place: Place, action: str, actor: Organiser | None, email: str, *,
         subject: Organiser | None = None, role: str | None = None,
         from_role: str | None = None, now: datetime | None = None) -> TeamEvent:
    event = TeamEvent(at=now or utc_now(), actor=actor, subject=subject, email=email,
                      action=action, role=role, from_role=from_role, **_at(place))
    session.add(event)
    return event


def change_role(session: Session, place: Place, by: Organiser, organiser_id: int,
                role: object, *, now: datetime | None = None) -> TeamRole:
    """An owner gives a member of the team another role (owner or organiser);
    409 if that would leave no owner."""
    check_role(session, place, by, "owner", "change roles")
    role = _role(role)
    _lock_owners(session, place)
    member = _member(session, place, organiser_id)
    was = member.role
    if was == role:
        return member
    member.role = role
    session.flush()
    _keep_an_owner(session, place, f"{_who(member.organiser)} is the last owner of this "
                   f"{_kind(place)}: make someone else an owner first", "role")
    _log(session, place, "role_changed", by, member.organiser.email, subject=member.organiser,
         role=role, from_role=was, now=now)
    session.flush()
    return member


def remove(session: Session, place: Place, by: Organiser, organiser_id: int, *,
           now: datetime | None = None) -> None:
    """An owner takes someone out of the team (themselves too, if another owner
    stays); 409 for the last owner."""
    check_role(session, place, by, "owner", "remove people")
    _lock_owners(session, place)
    member = _member(session, place, organiser_id)
    organiser, was = member.organiser, member.role
    session.delete(member)
    session.flush()
    _keep_an_owner(session, place, f"{_who(organiser)} is the last owner of this "
                   f"{_kind(place)} and cannot be removed: make someone else an owner first",
                   None)
    _log(session, place, "removed", by, organiser.email, subject=organiser, role=was, now=now)
    session.flush()


# -- the team as its page shows it -----------------------------------------------------


@dataclass(frozen=True)
class Team:
    """Who runs a trial or a café: its members (owners first, then by name),
    the invitations still pending (newest first; some may have expired) and
    the log (newest first)."""

    members: list[TeamRole]
    invitations: list[Invitation]
    log: list[TeamEvent]

    @property
    def owners(self) -> int:
        return sum(member.role == "owner" for member in self.members)


def team_of(session: Session, place: Place) -> Team:
    members = session.scalars(select(TeamRole).where(
        _column(TeamRole, place) == place.id)).all()
    members = sorted(members, key=lambda m: (m.role != "owner",
                                             (m.organiser.name or m.organiser.email).casefold(),
                                             m.organiser.email))
    invitations = session.scalars(select(Invitation).where(
        _column(Invitation, place) == place.id, Invitation.status == "pending")
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())).all()
    log = session.scalars(select(TeamEvent).where(_column(TeamEvent, place) == place.id)
                          .order_by(TeamEvent.at.desc(), TeamEvent.id.desc())).all()
    return Team(list(members), list(invitations), list(log))


def describe(event: TeamEvent) -> str:
    """A row of the log, in words."""
    actor = _who(event.actor)
    whom = _who(event.subject, event.email)
    kind = "trial" if event.trial_id is not None else "café"
    match event.action:
        case "created":
            return f"{actor} created the {kind}, as its owner"
        case "invited":
            return f"{actor} invited {event.email} as {_an(event.role or '')}"
        case "withdrawn":
            return f"{actor} withdrew the invitation of {event.email}"
        case "joined":
            return f"{whom} accepted the invitation and joined as {_an(event.role or '')}"
        case "role_changed":
            return f"{actor} changed the role of {whom} from {event.from_role} to {event.role}"
        case "removed":
            return f"{actor} removed {whom} ({event.role}) from the team"
    return f"{actor}: {event.action} {whom}"


# -- invitations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Invited:
    """An invitation made, its token (in its mail only: nobody is shown it) and
    the message queued with it (to hand to the mail worker after the commit)."""

    invitation: Invitation
    token: str
    message: Message


def invitation_mail(to: str, by: Organiser, place: Place, role: str, link: str,
                    expires_at: datetime) -> Mail:
    """The message that invites ``to`` to help run ``place`` as ``role``."""
    what = "a coffee trial" if isinstance(place, Trial) else "a knowledge café"
    text_ = (
        f"Hello,\n\n{_who(by)} invites you to help run {place.name}, {what}, as "
        f"{_an(role)}, who can {POWERS[role]}.\n\n"
        f"To accept, open this link by {_day(expires_at)} and press \"Accept\" (if you "
        f"have no organiser account yet, you make one there, for this address):\n\n"
        f"    {link}\n\n"
        f"The link works once, and only for {to}. If you did not expect this message, you "
        "can ignore it: nothing changes unless you accept.\n"
    )
    return Mail(to, f"{by.name or by.email} invites you to help run {place.name}", text_)


def invite(session: Session, place: Place, by: Organiser, email: object, role: object, *,
           seal: Fernet, sender: str, link_for: Callable[[str], str],
           now: datetime | None = None) -> Invited:
    """An owner invites ``email`` to ``role`` on ``place``: the invitation, its
    log row and its mail (sealed in the outbox: it carries the token), in the
    caller's transaction. ``link_for(token)`` is the accept page's address.

    400 for a bad email or role (naming it), 409 (``email``) if that address
    holds a role here already or has an invitation still pending. An
    invitation to the address that has expired is closed by the new one."""
    check_role(session, place, by, "owner", "invite people")
    role = _role(role)
    email = check_email(email, required=True, error=TeamError)
    now = now or utc_now()
    account = _account(session, email)
    if account is not None:
        held = role_of(session, place, account)
        if held is not None:
            raise TeamError(409, "in_team", f"{email} is in the team already, as {_an(held)}",
                            "email")
    for earlier in session.scalars(select(Invitation).where(
            _column(Invitation, place) == place.id, Invitation.email == email,
            Invitation.status == "pending")):
        if utc(earlier.expires_at) > now:
            raise TeamError(409, "invited", f"{email} is invited already (until "
                            f"{_day(earlier.expires_at)}): withdraw that invitation to send "
                            "another", "email")
        earlier.status, earlier.ended_at = "expired", now
    token = secrets.token_urlsafe(32)
    invitation = Invitation(email=email, role=role, token_hash=hash_token(token), invited_by=by,
                            status="pending", created_at=now,
                            expires_at=now + INVITATION_LIFETIME, **_at(place))
    session.add(invitation)
    _log(session, place, "invited", by, email, subject=account, role=role, now=now)
    message = compose(invitation_mail(email, by, place, role, link_for(token),
                                      invitation.expires_at), sender)
    queued = queue_message(session, seal, message, reason=_reason(invitation), kind=MAIL_KIND,
                           person=None, now=now)
    session.flush()
    return Invited(invitation, token, queued)


def _reason(invitation: Invitation) -> str:
    """The outbox's reason of an invitation's mail (by the hash that is stored anyway)."""
    return f"{MAIL_KIND}:{invitation.token_hash}"


def withdraw(session: Session, place: Place, by: Organiser, invitation_id: int, *,
             now: datetime | None = None) -> Invitation:
    """An owner withdraws a pending invitation: its link no longer works, and
    its mail, if not sent yet, is not sent."""
    check_role(session, place, by, "owner", "withdraw invitations")
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or getattr(invitation, _column(Invitation, place).key) != place.id:
        raise TeamError(404, "not_found", f"this {_kind(place)} has no such invitation")
    if invitation.status != "pending":
        raise TeamError(409, invitation.status,
                        f"this invitation is {invitation.status} already")
    now = now or utc_now()
    invitation.status, invitation.ended_at = "withdrawn", now
    session.execute(update(Message).where(
        Message.reason == _reason(invitation), Message.status.in_(("queued", "failed")))
        .values(status="cancelled", sealed=None, error="the invitation was withdrawn"))
    _log(session, place, "withdrawn", by, invitation.email,
         subject=_account(session, invitation.email), role=invitation.role, now=now)
    session.flush()
    return invitation


def invitation_for_token(session: Session, token: str) -> Invitation | None:
    """The invitation whose link has ``token``, whatever its state."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    try:
        digest = hash_token(token)
    except UnicodeEncodeError:  # lone surrogates: not a token we ever made
        return None
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == digest))
    if invitation is None or not hmac.compare_digest(invitation.token_hash, digest):
        return None
    return invitation


def check_open(invitation: Invitation, now: datetime | None = None) -> None:
    """410 unless ``invitation`` can still be accepted: once, before it expires,
    and not once withdrawn."""
    if invitation.status == "accepted":
        raise TeamError(410, "used", "this invitation has been accepted already: it works once")
    if invitation.status == "withdrawn":
        raise TeamError(410, "withdrawn", "this invitation has been withdrawn")
    if invitation.status == "expired" or utc(invitation.expires_at) <= (now or utc_now()):
        raise TeamError(410, "expired", f"this invitation expired on "
                                        f"{_day(invitation.expires_at)}: ask "
                                        f"{_who(invitation.invited_by, 'its owner')} for a "
                                        "new one")


def accept(session: Session, invitation: Invitation, organiser: Organiser, *,
           now: datetime | None = None) -> TeamRole:
    """``organiser`` accepts ``invitation``: the role it offers, once. 403 if it is
    for another email, 409 if they hold a role there already, 410 if it is not
    open (:func:`check_open`)."""
    now = now or utc_now()
    check_open(invitation, now)
    if organiser.email != invitation.email:
        raise TeamError(403, "wrong_account", f"this invitation is for {invitation.email}, and "
                        f"you are signed in as {organiser.email}: sign out, then open the "
                        f"link again and sign in as {invitation.email}")
    place = place_of(invitation)
    if role_of(session, place, organiser) is not None:
        raise TeamError(409, "in_team", f"you are in the team of {place.name} already")
    claimed = session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.status == "pending")
        .values(status="accepted", ended_at=now)).rowcount
    if not claimed:  # accepted (or withdrawn) in another request since it was read
        raise TeamError(410, "used", "this invitation has been used already: it works once")
    role = TeamRole(organiser=organiser, role=invitation.role, since=now, **_at(place))
    session.add(role)
    _log(session, place, "joined", organiser, organiser.email, subject=organiser,
         role=invitation.role, now=now)
    session.flush()
    return role


def accept_as_new(session: Session, invitation: Invitation, name: object, password: object, *,
                  now: datetime | None = None) -> tuple[Organiser, TeamRole]:
    """Someone with no account accepts ``invitation``: an organiser account for its
    email with ``name`` and ``password`` (400 naming the field), then the role.
    409 if an account has the email (they sign in instead)."""
    check_open(invitation, now)
    name = text(name, "name", required=True, limit=MAX_NAME_LENGTH, error=TeamError)
    validate_password(password)
    organiser, _ = create_organiser(session, invitation.email, name, str(password))
    return organiser, accept(session, invitation, organiser, now=now)


# -- deleting a trial or a café ------------------------------------------------------------


def _confirm(place: Place, typed: object) -> None:
    """The name typed to confirm a deletion: ``place``'s (spaces and case aside)."""
    def plain(value: str) -> str:
        return " ".join(value.split()).casefold()

    if not isinstance(typed, str) or plain(typed) != plain(place.name):
        raise TeamError(400, "wrong_name", f"the name typed is not the {_kind(place)}'s name: "
                        f"type “{place.name}” to delete it", "name")


def _forget_invitations(session: Session, place: Place) -> None:
    """The mail of ``place``'s invitations goes with them (the rest of its mail
    goes with it: ``message.trial_id`` cascades)."""
    hashes = session.scalars(select(Invitation.token_hash).where(
        _column(Invitation, place) == place.id)).all()
    if hashes:
        session.execute(delete(Message).where(
            Message.reason.in_([f"{MAIL_KIND}:{digest}" for digest in hashes])))


def delete_trial(session: Session, trial: Trial, by: Organiser, *,
                 confirm: object = None) -> None:
    """An owner deletes ``trial`` and everything of it (its memberships, rounds,
    feedback, mail, roles, invitations and log: the database's ``ON DELETE
    CASCADE``). ``confirm``: the name typed to confirm it, if asked (the
    organiser's page). People left in no trial or café are kept."""
    check_role(session, trial, by, "owner", "delete this trial")
    if confirm is not None:
        _confirm(trial, confirm)
    _forget_invitations(session, trial)
    session.execute(delete(Trial).where(Trial.id == trial.id))


def delete_cafe(session: Session, cafe: Cafe, by: Organiser, *, confirm: object = None) -> None:
    """An owner deletes ``cafe`` and everything of it (attendees, rounds, notes,
    votes, pledges and their mail, roles, invitations and log); 409 while it
    is running: end it first."""
    check_role(session, cafe, by, "owner", "delete this café")
    if cafe.status == "running":
        raise TeamError(409, "running", "this café is running: end it first, then delete it")
    if confirm is not None:
        _confirm(cafe, confirm)
    _forget_invitations(session, cafe)
    # Pledges mailed back later (matcher.harvest) are the café's mail.
    session.execute(delete(Message).where(Message.reason.like(f"pledge:{cafe.id}:%")))
    session.execute(delete(Cafe).where(Cafe.id == cafe.id))
