"""The mail a published round sends (docs/mail.md): an introduction to each
member of each group, with their partners, a conversation starter, their
personal page and a calendar invite; a note to whoever sits out.

Each message goes to one participant only, and is queued in the outbox in the
round's own transaction, once per (kind, trial, round, participant): a round
published twice is impossible, and a message is never queued twice.

The invite (RFC 5545, ``METHOD:REQUEST``) has one VEVENT at the suggested
meeting time with every member of the group as an ATTENDEE; its UID is the
same for the whole group and for any resend, so calendars update the one
event rather than adding another.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from cryptography.fernet import Fernet, InvalidToken
from icalendar import Calendar, Event, vCalAddress, vText

from matcher.models import GroupMember, Membership, Message, Person, Round, Trial
from matcher.outbox import queue_message
from matcher.schedules import Schedule
from matcher.times import utc_now

__all__ = ["ICEBREAKERS", "group_invite", "queue_round_mail"]

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


def _link(seal: Fernet, membership: Membership, link_for: Callable[[str], str]) -> str | None:
    if not membership.token_sealed:
        return None
    try:
        return link_for(seal.decrypt(membership.token_sealed).decode())
    except InvalidToken:  # sealed under an earlier secret key
        return None


def _describe(person: Person) -> str:
    extra = ", ".join(x for x in (person.organisation, person.site) if x)
    where = f", {extra}" if extra else ""
    return f"{person.name} ({person.department}{where}) — {person.email or 'no email given'}"


def _message(sender: str, to: str, subject: str, text: str, page: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message.set_content(text)
    paragraphs = "".join(f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>"
                         for part in text.strip().split("\n\n"))
    if page:
        paragraphs = paragraphs.replace(html.escape(page),
                                        f'<a href="{html.escape(page)}">{html.escape(page)}</a>')
    message.add_alternative(f"<!doctype html><html><body>{paragraphs}</body></html>",
                            subtype="html")
    return message


def queue_round_mail(session, seal: Fernet, sender: str, trial: Trial, stored: Round, *,
                     link_for: Callable[[str], str], schedule: Schedule | None = None,
                     now: datetime | None = None) -> list[Message]:
    """Queue a published round's introductions and sitting-out notes (before the
    round's commit); the messages queued."""
    now = now or utc_now()
    memberships = {m.person_id: m for m in trial.memberships}
    start, end = (schedule.meeting_time(stored.published_at or now) if schedule
                  else _default_meeting(stored.published_at or now))
    zone = schedule.zone if schedule else UTC
    when = (f"{start.astimezone(zone).strftime('%A %-d %B at %H:%M')} "
            f"({'UTC' if zone is UTC else zone.key})")
    icebreakers = ICEBREAKERS
    queued = []
    for group in stored.groups:
        people = [m.person for m in group.members]
        invite = group_invite(trial, stored.number, group.number, people, start, end, sender)
        for k, member in enumerate(group.members):
            membership = memberships.get(member.person_id)
            person = member.person
            if membership is None or not person.email:
                continue
            partners = [p for p in people if p.id != person.id]
            page = _link(seal, membership, link_for)
            starter = icebreakers[(stored.number + group.number + k) % len(icebreakers)]
            text = (
                f"Hello {person.name},\n\n"
                f"Round {stored.number} of {trial.name}: you are matched with\n\n"
                + "\n".join(f"    {_describe(p)}" for p in partners)
                + "\n\nWhoever sees this first, say hello and find a time that suits you "
                  f"both: the attached invite suggests {when}, for "
                  f"{int((end - start).total_seconds() // 60)} minutes.\n\n"
                f"Something to start with: {starter}\n\n"
                + (f"Your page (your matches, pause, \"did you meet?\"):\n\n    {page}\n"
                   if page else "Your personal page shows this match too.\n")
            )
            message = _message(sender, person.email,
                               f"{trial.name}: meet {', '.join(p.name for p in partners)}",
                               text, page)
            message.add_attachment(invite, maintype="text", subtype="calendar",
                                   filename="invite.ics", params={"method": "REQUEST"})
            queued.append(queue_message(
                session, seal, message,
                reason=f"introduction:{trial.id}:{stored.number}:{person.id}",
                kind="introduction", person=person, trial=trial, round_number=stored.number,
                now=now))
    for member in stored.members:
        if member.group_id is not None or member.group is not None:
            continue
        queued += _sitting_out(session, seal, sender, trial, stored, member, memberships,
                               link_for, now)
    return queued


def _sitting_out(session, seal, sender, trial, stored, member: GroupMember, memberships,
                 link_for, now) -> list[Message]:
    membership = memberships.get(member.person_id)
    person = member.person
    if membership is None or not person.email:
        return []
    page = _link(seal, membership, link_for)
    text = (f"Hello {person.name},\n\nRound {stored.number} of {trial.name} had an odd "
            "number of people, and this time you sit out. You are first in line for the "
            "next round.\n\n"
            + (f"Your page:\n\n    {page}\n" if page else ""))
    message = _message(sender, person.email, f"{trial.name}: you sit out this round", text,
                       page)
    return [queue_message(session, seal, message,
                          reason=f"sitting_out:{trial.id}:{stored.number}:{person.id}",
                          kind="sitting_out", person=person, trial=trial,
                          round_number=stored.number, now=now)]


def _default_meeting(published: datetime) -> tuple[datetime, datetime]:
    """The next working day at 12:30 UTC, for 30 minutes (a trial without a schedule)."""
    day = (published + timedelta(days=1)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 12, 30, tzinfo=published.tzinfo)
    return start, start + timedelta(minutes=30)
