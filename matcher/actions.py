"""Action links: what a participant can do from a mail without signing in
(docs/mail.md, "Action links").

A link is ``{base}/a/<action>/<token>``, ``<action>`` one of :data:`ACTIONS`.
The token is signed (itsdangerous, HMAC-SHA512 under a key derived from the
app's secret) and says whose it is (the membership and its person), what for
(the round, or the scheduled slot) and until when it works. Nothing is stored
when a link is made, so a mail composed again (a resend) carries the same
links. A link works once: using it stores its *purpose* (hashed), unique, so a
second use, or its twin (a check-in's "yes" after its "no"), is refused
clearly. A link stops working when it expires, and when the participant has
left the trial (their membership is gone).

Opening a link (GET) changes nothing: mail scanners and Outlook's Safe Links
fetch every link in a message. The page it shows has a button; the POST from
that page does the action. The pause link is also the message's
``List-Unsubscribe`` address, whose one-click POST (RFC 8058) pauses too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.errors import ServiceError
from matcher.feedback import set_met
from matcher.models import GroupMember, Membership, Round, Trial, UsedAction
from matcher.times import utc_now

__all__ = [
    "ACTIONS",
    "PAUSE_LINK_LIFETIME",
    "ActionError",
    "ActionLink",
    "action_token",
    "describe",
    "do_action",
    "read_action",
]

#: What a link can do.
ACTIONS = ("skip", "pause", "met-yes", "met-no")
#: How long a pause link (and the List-Unsubscribe address) works.
PAUSE_LINK_LIFETIME = timedelta(days=180)
#: How long a check-in's links work after the round is published, at most.
CHECK_IN_LIFETIME = timedelta(days=60)


class ActionError(ServiceError):
    """A link that cannot be used: forged (404), expired or of someone who left
    (410), used already (409)."""


@dataclass(frozen=True)
class ActionLink:
    """A link read back: what it does, for whom, for which round or slot."""

    action: str
    membership: Membership
    expires_at: datetime
    round_number: int | None = None
    slot_at: datetime | None = None

    @property
    def purpose(self) -> str:
        """What using it uses up: one check-in answer per round, one skip per slot,
        one pause per message's link."""
        kind = "met" if self.action.startswith("met-") else self.action
        about = self.round_number if kind == "met" else (
            self.slot_at.isoformat() if self.slot_at else self.expires_at.isoformat())
        key = f"{kind}:{self.membership.id}:{self.membership.person_id}:{about}"
        return hashlib.sha256(key.encode()).hexdigest()


def _serializer(secret_key: str | bytes) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="matcher action link")


def action_token(secret_key: str | bytes, action: str, membership: Membership, *,
                 expires_at: datetime, round_number: int | None = None,
                 slot_at: datetime | None = None) -> str:
    """The signed token of an action link (the same for the same arguments)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    payload: dict[str, object] = {"a": action, "m": membership.id, "p": membership.person_id,
                                  "x": int(expires_at.timestamp())}
    if round_number is not None:
        payload["r"] = round_number
    if slot_at is not None:
        payload["s"] = int(slot_at.timestamp())
    return str(_serializer(secret_key).dumps(payload))


def _moment(value: object) -> datetime:
    if not isinstance(value, int):
        raise BadSignature("no time")
    return datetime.fromtimestamp(value, UTC)


def read_action(session: Session, secret_key: str | bytes, action: str, token: str, *,
                now: datetime | None = None) -> ActionLink:
    """The link ``/a/<action>/<token>`` read and checked (not yet used); raises
    :class:`ActionError` with a message a participant understands."""
    try:
        payload = _serializer(secret_key).loads(token)
        if not isinstance(payload, dict) or payload.get("a") != action:
            raise BadSignature("another action")
        expires_at = _moment(payload.get("x"))
        slot_at = _moment(payload["s"]) if "s" in payload else None
        round_number = payload.get("r")
        if round_number is not None and not isinstance(round_number, int):
            raise BadSignature("no round")
    except BadSignature:
        raise ActionError(404, "not_found", "This link is not one of ours, or it was "
                          "copied incompletely. Use the link in the email again.") from None
    membership = session.get(Membership, payload.get("m"))
    if membership is None or membership.person_id != payload.get("p"):
        raise ActionError(410, "left", "This link no longer works: you have left the trial, "
                          "and your details were deleted.")
    if (now or utc_now()) >= expires_at:
        first = ("The round it was for has been made already, so it can no longer be skipped."
                 if action == "skip" else "It was sent a while ago.")
        raise ActionError(410, "expired", f"{first} Your personal page still lets you pause, "
                          "resume or say whether you met; its link is in every email we "
                          "sent you.")
    link = ActionLink(action, membership, expires_at, round_number, slot_at)
    if session.scalar(select(UsedAction.id).where(UsedAction.purpose == link.purpose)):
        raise ActionError(409, "used", "This link has been used already: it works once. "
                          f"{_state(session, link)}")
    return link


def _state(session: Session, link: ActionLink) -> str:
    """What is true now, for a link used already."""
    membership = link.membership
    if link.action == "pause":
        return ("You are paused." if membership.paused
                else "You have resumed since, from your personal page.")
    if link.action == "skip":
        return "You are skipping that round." if membership.skip_slot_at == link.slot_at \
            else "You are taking part in that round after all."
    place = _place(session, link)
    if place is None or place.met is None:
        return ""
    return f"You said: {'we met' if place.met else 'it did not happen'}."


def _place(session: Session, link: ActionLink) -> GroupMember | None:
    return session.scalar(
        select(GroupMember).join(Round, GroupMember.round_id == Round.id)
        .where(Round.trial_id == link.membership.trial_id,
               Round.number == link.round_number,
               GroupMember.person_id == link.membership.person_id))


def describe(link: ActionLink, zone_name: str = "UTC") -> tuple[str, str]:
    """The page's heading and its button, for a link not yet used."""
    trial: Trial = link.membership.trial
    if link.action == "pause":
        return (f"Pause your place in {trial.name}?",
                "Pause me: leave me out of new rounds")
    if link.action == "skip":
        when = (link.slot_at or link.expires_at).astimezone(ZoneInfo(zone_name))
        return (f"Skip the round of {when.strftime('%A %-d %B')} in {trial.name}?",
                "Skip this round (the ones after still include me)")
    met = link.action == "met-yes"
    return (f"Round {link.round_number} of {trial.name}: "
            f"{'you met' if met else 'the meeting did not happen'}?",
            "Yes, we met" if met else "No, it did not happen")


def do_action(session: Session, link: ActionLink, *, now: datetime | None = None) -> str:
    """Do what ``link`` is for (in the caller's transaction, with its use recorded:
    a second use at the same moment fails on commit, IntegrityError); what is
    now true, in a sentence."""
    membership = link.membership
    if link.action == "pause":
        membership.paused = True
        done = (f"You are paused: new rounds of {membership.trial.name} leave you out. "
                "Resume any time from your personal page.")
    elif link.action == "skip":
        membership.skip_slot_at = link.slot_at
        done = ("Done: that round leaves you out, and the ones after include you again.")
    else:
        place = _place(session, link)
        if place is None or place.group_id is None:
            raise ActionError(409, "no_meeting", "There is no meeting of yours in that "
                              "round to answer for.")
        set_met(session, membership, link.round_number, link.action == "met-yes")
        done = ("Thank you: that meeting counts as met." if place.met
                else "Thank you: that meeting does not count, so you may meet again later.")
    session.add(UsedAction(purpose=link.purpose, action=link.action, used_at=now or utc_now()))
    session.flush()
    return done
