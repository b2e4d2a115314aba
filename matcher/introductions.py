"""The mail a trial sends its participants (docs/mail.md): when a round is
published, an introduction to each member of each group (their partners, a
conversation starter, their personal page, a calendar invite) and a note to
whoever sits out; before a scheduled round, a reminder (skip this round,
pause); after a round, a "did you meet?" check-in (yes, no).

Each message goes to one participant only, and is queued in the outbox in the
transaction of what caused it (the round; the tick that found a reminder or a
check-in due), once per (kind, trial, round, participant), as a small row: the
worker composes it when it sends it (so a round of 2,000 is stored quickly, and
the links it carries are never stored in a message). Every message has a
``List-Unsubscribe`` (one-click, RFC 8058) that pauses the participant.

The invite (RFC 5545, ``METHOD:REQUEST``) has one VEVENT at the suggested
meeting time with every member of the group as an ATTENDEE; its UID is the
same for the whole group and for any resend, so calendars update the one
event rather than adding another.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import Message as Message_
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid

from cryptography.fernet import Fernet, InvalidToken
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from matcher.actions import CHECK_IN_LIFETIME, PAUSE_LINK_LIFETIME
from matcher.models import GroupMember, Membership, Message, Person, Round, Trial
from matcher.outbox import queue_reason
from matcher.schedules import Schedule, read_schedule, suggested_meeting
from matcher.times import utc_now

__all__ = [
    "ICEBREAKERS",
    "KINDS",
    "Links",
    "composers",
    "group_invite",
    "preview",
    "queue_check_ins",
    "queue_reminders",
    "queue_round_mail",
]

#: The kinds of mail a trial sends its participants, as the organiser's page names them.
KINDS = {"introduction": "Introduction", "sitting_out": "Sitting out",
         "reminder": "Reminder", "check_in": "Check-in"}
#: A check-in due longer ago than this (a schedule added to an old trial) is not sent.
CHECK_IN_STALE = timedelta(days=7)

#: Conversation starters, when the trial has none of its own.
ICEBREAKERS = (
    "What does a good day at work look like for you?",
    "What is something your team does that the rest of the organisation never sees?",
    "What would you change first if you ran the place for a week?",
    "Who taught you the most in your first year here?",
    "What are you working on that you would like more people to know about?",
    "What did you want to be when you were ten?",
)


def _domain(sender: str) -> str:
    return sender.rpartition("@")[2].rstrip(">") or "matcher.local"


def group_invite(trial: Trial, number: int, group: int, people: list[Person],
                 start: datetime, end: datetime, sender: str) -> bytes:
    """The calendar invite of one group's meeting (every member an ATTENDEE)."""
    calendar = Calendar()
    calendar.add("prodid", "-//matcher//coffee trials//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"trial-{trial.id}-round-{number}-group-{group}@{_domain(sender)}")
    event.add("dtstamp", utc_now())
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"Coffee: {' & '.join(p.name for p in people)}")
    event.add("description", f"{trial.name}, round {number}: a short chat with a colleague "
                             "you have not met yet. Move it to a time that suits you both.")
    organiser = vCalAddress(f"mailto:{sender.rpartition('<')[2].rstrip('>')}")
    organiser.params["cn"] = vText(trial.name)
    event.add("organizer", organiser)
    for person in people:
        if not person.email:
            continue
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()


@dataclass(frozen=True)
class Links:
    """The links a message carries, made when it is composed: ``page`` gives a
    member's personal page (``None``: their token is not at hand), ``action``
    an action link (matcher.actions) for the member, with its keywords."""

    page: Callable[[Membership], str | None]
    action: Callable[..., str]


def sealed_page(seal: Fernet, link_for: Callable[[str], str]
                ) -> Callable[[Membership], str | None]:
    """A member's personal page, from their token as sealed at sign-up."""

    def page(membership: Membership) -> str | None:
        if not membership.token_sealed:
            return None
        try:
            return link_for(seal.decrypt(membership.token_sealed).decode())
        except InvalidToken:  # sealed under an earlier secret key
            return None

    return page


def _describe(person: Person) -> str:
    extra = ", ".join(x for x in (person.organisation, person.site) if x)
    where = f", {extra}" if extra else ""
    return f"{person.name} ({person.department}{where}) — {person.email or 'no email given'}"


def _message(sender: str, to: str, subject: str, text: str, links: Sequence[str],
             invite: bytes | None = None, unsubscribe: str | None = None) -> Message_:
    """A plain-text and HTML message (each of ``links`` a link in the HTML), with
    the invite as a ``text/calendar`` part and ``unsubscribe`` as its one-click
    ``List-Unsubscribe``. Built with :mod:`email.mime` (the compat32 policy): a
    round of 2,000 is composed in about a second, four times faster than with
    ``EmailMessage``."""
    paragraphs = "".join(f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>"
                         for part in text.strip().split("\n\n"))
    if links:
        # One pass, longest first: a link may begin with another (the page, and
        # the page's feedback form).
        escaped = sorted({html.escape(link) for link in links}, key=len, reverse=True)
        paragraphs = re.sub("|".join(re.escape(link) for link in escaped),
                            lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', paragraphs)
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(text, "plain", "utf-8"))
    page = f'<!doctype html><html><body style="{_HTML_STYLE}">{paragraphs}</body></html>'
    body.attach(MIMEText(page, "html", "utf-8"))
    message: Message_ = body
    if invite is not None:
        message = MIMEMultipart("mixed")
        message.attach(body)
        calendar = MIMEText(invite.decode(), "calendar", "utf-8")
        calendar.set_param("method", "REQUEST")
        calendar.add_header("Content-Disposition", "attachment", filename="invite.ics")
        message.attach(calendar)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = Header(subject, "utf-8").encode()
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


#: The HTML part's look: inline (mail clients drop style sheets), plain and readable.
_HTML_STYLE = ("font-family: Arial, Helvetica, sans-serif; font-size: 15px; line-height: 1.5; "
               "color: #1a1a1a; max-width: 40em")


def _local(moment: datetime, zone) -> str:
    name = "UTC" if zone is UTC else zone.key
    return f"{moment.astimezone(zone).strftime('%A %-d %B at %H:%M')} ({name})"


def _page_lines(page: str | None) -> str:
    return (f"Your page (your matches, pause, \"did you meet?\"):\n\n    {page}\n"
            if page else "Your personal page shows this too.\n")


def _footer(pause: str) -> str:
    return ("\n--\nYou get this because you take part in this coffee trial. To stop "
            f"being matched, pause here (it asks you to confirm):\n    {pause}\n")


def introduction_mail(sender: str, trial: Trial, number: int, person: Person,
                      people: Sequence[Person], group: int, start: datetime, end: datetime,
                      zone, starter: str, page: str | None, pause: str) -> Message_:
    """The introduction of ``person`` to the others of their group."""
    partners = [p for p in people if p.id != person.id]
    text = (
        f"Hello {person.name},\n\n"
        f"Round {number} of {trial.name}: you are matched with\n\n"
        + "\n".join(f"    {_describe(p)}" for p in partners)
        + "\n\nWhoever sees this first, say hello and find a time that suits you "
          f"both: the attached invite suggests {_local(start, zone)}, for "
          f"{int((end - start).total_seconds() // 60)} minutes.\n\n"
        f"Something to start with: {starter}\n\n" + _page_lines(page) + _footer(pause))
    invite = group_invite(trial, number, group, list(people), start, end, sender)
    return _message(sender, person.email or "",
                    f"{trial.name}: meet {', '.join(p.name for p in partners)}",
                    text, [x for x in (page, pause) if x], invite, pause)


def sitting_out_mail(sender: str, trial: Trial, number: int, person: Person,
                     page: str | None, pause: str) -> Message_:
    """The note to someone who sits a round out."""
    text = (f"Hello {person.name},\n\nRound {number} of {trial.name} had an odd "
            "number of people, and this time you sit out. You are first in line for "
            "the next round.\n\n" + _page_lines(page) + _footer(pause))
    return _message(sender, person.email or "", f"{trial.name}: you sit out this round",
                    text, [x for x in (page, pause) if x], None, pause)


def reminder_mail(sender: str, trial: Trial, person: Person, slot_at: datetime, zone,
                  skip: str, page: str | None, pause: str) -> Message_:
    """The reminder before a scheduled round: skip it, or pause."""
    text = (f"Hello {person.name},\n\nThe next round of {trial.name} is on "
            f"{_local(slot_at, zone)}: you will be introduced to a colleague then.\n\n"
            "Cannot make it this time? Skip this round only (the ones after include "
            f"you again):\n\n    {skip}\n\n"
            f"Want a longer break? Pause until you resume:\n\n    {pause}\n\n"
            "Each link asks you to confirm before it changes anything.\n\n"
            + _page_lines(page))
    return _message(sender, person.email or "",
                    f"{trial.name}: next round on {slot_at.astimezone(zone).strftime('%-d %B')}",
                    text, [x for x in (skip, pause, page) if x], None, pause)


def check_in_mail(sender: str, trial: Trial, number: int, person: Person,
                  partners: Sequence[Person], yes: str, no: str, page: str | None,
                  pause: str) -> Message_:
    """"Did you meet?" after a round: a link for yes and one for no."""
    names = ", ".join(p.name for p in partners)
    text = (f"Hello {person.name},\n\nDid you meet {names} (round {number} of "
            f"{trial.name})?\n\n"
            f"Yes, we met:\n\n    {yes}\n\n"
            f"No, it did not happen:\n\n    {no}\n\n"
            "Your answer helps the next rounds: a meeting that did not happen does not "
            "count, so you may be matched with them again.\n\n"
            + _feedback_lines(page) + _page_lines(page) + _footer(pause))
    form = f"{page}#feedback" if page else None
    return _message(sender, person.email or "", f"{trial.name}: did you meet {names}?",
                    text, [x for x in (yes, no, form, page, pause) if x], None, pause)


def _feedback_lines(page: str | None) -> str:
    """The check-in's way to the feedback form (the personal page's)."""
    where = f"\n\n    {page}#feedback\n\n" if page else " on your personal page.\n\n"
    return ("Tell us how it went: had you known each other, how useful was it, what did "
            f"you learn? A few questions, all but the first optional:{where}")


def _starter(trial: Trial, number: int, group: int, index: int) -> str:
    starters = trial.icebreakers or ICEBREAKERS
    return starters[(number + group + index) % len(starters)]


def queue_round_mail(session: Session, sender: str, trial: Trial, stored: Round, *,
                     now: datetime | None = None) -> list[int]:
    """Queue a published round's introductions and sitting-out notes (before the
    round's commit): one small row each, composed when sent (:func:`composers`),
    inserted in one statement; their ids."""
    domain = _domain(sender)
    due = now or datetime.now(UTC)
    rows = []
    for member in stored.members:
        person = member.person
        if not person.email:
            continue
        kind = "sitting_out" if member.group_id is None else "introduction"
        rows.append({"reason": f"{kind}:{trial.id}:{stored.number}:{person.id}", "kind": kind,
                     "person_id": person.id, "trial_id": trial.id,
                     "round_number": stored.number, "message_id": make_msgid(domain=domain),
                     "status": "queued", "attempts": 0, "due_at": due, "created_at": due})
    if not rows:
        return []
    return list(session.scalars(insert(Message).returning(Message.id,
                                                          sort_by_parameter_order=True), rows))


def _schedule(trial: Trial) -> Schedule | None:
    return read_schedule(trial.schedule) if trial.schedule else None


def queue_reminders(session: Session, sender: str, trial: Trial, now: datetime
                    ) -> list[Message]:
    """Queue the reminder of ``trial``'s next slot if it is due (``reminder_before``
    the slot, and the slot not yet come), once per slot: to every active member
    (in the caller's transaction; two processes doing it at once: the second's
    commit fails, IntegrityError, and stores nothing)."""
    schedule = _schedule(trial)
    slot_at = trial.next_round_at
    if (schedule is None or schedule.reminder_before is None or slot_at is None
            or trial.schedule_paused or trial.reminded_slot_at == slot_at
            or not slot_at - schedule.reminder_before <= now < slot_at):
        return []
    trial.reminded_slot_at = slot_at
    number = (session.scalar(select(Round.number).where(Round.trial_id == trial.id)
                             .order_by(Round.number.desc()).limit(1)) or 0) + 1
    domain = _domain(sender)
    queued = []
    for membership in session.scalars(select(Membership).where(
            Membership.trial_id == trial.id, Membership.paused.is_(False))):
        person = membership.person
        if person.email:
            queued.append(queue_reason(
                session, reason=f"reminder:{trial.id}:{int(slot_at.timestamp())}:{person.id}",
                kind="reminder", person=person, trial=trial, round_number=number,
                message_id=make_msgid(domain=domain)))
    session.flush()
    return queued


def queue_check_ins(session: Session, sender: str, trial: Trial, now: datetime
                    ) -> list[Message]:
    """Queue the check-ins of ``trial``'s latest round if they are due
    (``check_in_after`` it was published, and not more than a week late), once
    per round: to each member of a group who has not said whether they met."""
    schedule = _schedule(trial)
    if schedule is None or schedule.check_in_after is None:
        return []
    latest = session.scalar(select(Round).where(Round.trial_id == trial.id)
                            .order_by(Round.number.desc()).limit(1))
    if latest is None or latest.checked_in:
        return []
    due = latest.published_at + schedule.check_in_after
    if now < due:
        return []
    latest.checked_in = True
    if now - due > CHECK_IN_STALE:
        return []
    domain = _domain(sender)
    queued = []
    for member in latest.members:
        person = member.person
        if member.group_id is not None and member.met is None and person.email:
            queued.append(queue_reason(
                session, reason=f"check_in:{trial.id}:{latest.number}:{person.id}",
                kind="check_in", person=person, trial=trial, round_number=latest.number,
                message_id=make_msgid(domain=domain)))
    session.flush()
    return queued


def mail_due_at(trial: Trial, published: datetime | None = None) -> list[datetime]:
    """When ``trial``'s next reminder and (for a round just ``published``) its
    check-ins fall due: times to wake the worker at."""
    schedule = _schedule(trial)
    if schedule is None:
        return []
    times = []
    if schedule.reminder_before is not None and trial.next_round_at is not None:
        times.append(trial.next_round_at - schedule.reminder_before)
    if schedule.check_in_after is not None and published is not None:
        times.append(published + schedule.check_in_after)
    return times


def composers(links: Links, sender: str, schedule_of: Callable[[Trial], Schedule | None]
              ) -> dict[str, Callable[[Session, Message], Message_ | None]]:
    """The outbox's composers of a trial's mail, from the database as it is when
    each message is sent (``None`` once there is nothing to send: the
    participant left, or has answered the check-in already)."""

    def membership_of(session: Session, row: Message) -> Membership | None:
        return session.scalar(select(Membership).where(
            Membership.trial_id == row.trial_id, Membership.person_id == row.person_id))

    def place(session: Session, row: Message) -> tuple[Round, GroupMember, Membership] | None:
        stored = session.scalar(select(Round).where(Round.trial_id == row.trial_id,
                                                    Round.number == row.round_number))
        membership = membership_of(session, row)
        if stored is None or membership is None:
            return None
        member = session.scalar(select(GroupMember).where(
            GroupMember.round_id == stored.id, GroupMember.person_id == row.person_id))
        return (stored, member, membership) if member is not None else None

    def pause(row: Message, membership: Membership) -> str:
        # The same link through every resend of this message (its time is the row's).
        return links.action("pause", membership,
                            expires_at=row.created_at + PAUSE_LINK_LIFETIME)

    def introduction(session: Session, row: Message) -> Message_ | None:
        found = place(session, row)
        if found is None or found[1].group is None:
            return None
        stored, member, membership = found
        trial, group, person = stored.trial, member.group, member.person
        schedule = schedule_of(trial)
        start, end = (schedule.meeting_time(stored.published_at) if schedule
                      else suggested_meeting(stored.published_at))
        people = [m.person for m in group.members]
        index = sorted(p.id for p in people).index(person.id)
        return introduction_mail(
            sender, trial, stored.number, person, people, group.number, start, end,
            schedule.zone if schedule else UTC,
            _starter(trial, stored.number, group.number, index),
            links.page(membership), pause(row, membership))

    def sitting_out(session: Session, row: Message) -> Message_ | None:
        found = place(session, row)
        if found is None or found[1].group is not None:
            return None
        stored, member, membership = found
        return sitting_out_mail(sender, stored.trial, stored.number, member.person,
                                links.page(membership), pause(row, membership))

    def reminder(session: Session, row: Message) -> Message_ | None:
        membership = membership_of(session, row)
        if membership is None or membership.paused:
            return None
        slot_at = datetime.fromtimestamp(int(row.reason.split(":")[2]), UTC)
        trial = membership.trial
        schedule = schedule_of(trial)
        skip = links.action("skip", membership, slot_at=slot_at, expires_at=slot_at)
        return reminder_mail(sender, trial, membership.person, slot_at,
                             schedule.zone if schedule else UTC, skip,
                             links.page(membership), pause(row, membership))

    def check_in(session: Session, row: Message) -> Message_ | None:
        found = place(session, row)
        if found is None or found[1].group is None or found[1].met is not None:
            return None
        stored, member, membership = found
        expires = stored.published_at + CHECK_IN_LIFETIME
        partners = [m.person for m in member.group.members if m.person_id != row.person_id]
        return check_in_mail(
            sender, stored.trial, stored.number, member.person, partners,
            links.action("met-yes", membership, round_number=stored.number,
                         expires_at=expires),
            links.action("met-no", membership, round_number=stored.number,
                         expires_at=expires),
            links.page(membership), pause(row, membership))

    return {"introduction": introduction, "sitting_out": sitting_out,
            "reminder": reminder, "check_in": check_in}


def preview(kind: str, trial: Trial, sender: str, base_url: str, *,
            now: datetime | None = None) -> Message_:
    """The mail of ``kind`` as a participant of ``trial`` would receive it, for
    two example colleagues (the organiser's preview: no one's real data, and
    links that lead nowhere)."""
    if kind not in KINDS:
        raise KeyError(kind)
    now = now or datetime.now(UTC)
    you = Person(id=-1, name="Alex Example", department="Pharmacy",
                 email="alex.example@example.org", site="Main site")
    partner = Person(id=-2, name="Sam Sample", department="Estates",
                     email="sam.sample@example.org")
    schedule = _schedule(trial)
    zone = schedule.zone if schedule else UTC
    number = len(trial.rounds) + 1
    slot_at = trial.next_round_at or now
    page = f"{base_url}/me/(the participant's own link)"
    action = f"{base_url}/a/%s/(a link for the participant alone)"
    if kind == "introduction":
        start, end = (schedule.meeting_time(slot_at) if schedule
                      else suggested_meeting(slot_at))
        return introduction_mail(sender, trial, number, you, [you, partner], 1, start, end,
                                 zone, _starter(trial, number, 1, 0), page, action % "pause")
    if kind == "sitting_out":
        return sitting_out_mail(sender, trial, number, you, page, action % "pause")
    if kind == "reminder":
        return reminder_mail(sender, trial, you, slot_at, zone, action % "skip", page,
                             action % "pause")
    return check_in_mail(sender, trial, max(number - 1, 1), you, [partner],
                         action % "met-yes", action % "met-no", page, action % "pause")
