"""Harvest: what a café's tables learn (docs/harvest.md).

During each round, anyone at a table writes short notes; the next group at
that table sees them (``earlier_notes``), so each round builds on the last.
In the last round or after the end, everyone pledges one action (mailed back
to them later, if the café says so); after the last round everyone votes for
the notes that matter most, and the organiser hides what should not be kept
and merges duplicates. The record (:func:`harvest`) is what the team files:
every round's notes by table, most voted first, the pledges, and for the
review formats the grid itself.

Anonymous cafés keep no link from a note to its author: the row is written
without one, so no response, push, export or query can give it back.

As everywhere in :mod:`matcher`, services take a ``Session`` and never commit.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, selectinload

from matcher.cafes import FORMATS, CafeError, author_of, kept_notes, question, vote_counts
from matcher.exports import spreadsheet_safe
from matcher.mail import Mail, compose
from matcher.models import (
    Attendee,
    Cafe,
    Group,
    GroupMember,
    Message,
    Note,
    NoteVote,
    Person,
    Pledge,
    Round,
)
from matcher.outbox import queue_reason
from matcher.times import iso, utc, utc_now
from matcher.validation import long_text

__all__ = [
    "NOTE_LIMIT",
    "PLEDGE_LIMIT",
    "harvest",
    "harvest_csv",
    "harvest_markdown",
    "kept",
    "hide_note",
    "merge_note",
    "note_entry",
    "note_event",
    "pledge_composer",
    "pledge_of",
    "pledge_open",
    "pledge_view",
    "post_note",
    "post_pledge",
    "record_date",
    "seated_table",
    "table_people",
    "vote",
    "votes_open",
    "voting_notes",
]

#: The longest note and pledge, in characters.
NOTE_LIMIT = 500
PLEDGE_LIMIT = 500


# -- notes ---------------------------------------------------------------------------------


def seated_table(attendee: Attendee) -> int | None:
    """The attendee's table in the café's current round, if it runs and they sit at one."""
    cafe = attendee.cafe
    if cafe.status != "running" or not attendee.present:
        return None
    return object_session(attendee).scalar(
        select(Group.number).join(GroupMember, GroupMember.group_id == Group.id)
        .join(Round, Round.id == Group.round_id)
        .where(Round.cafe_id == cafe.id, Round.number == cafe.current_round,
               GroupMember.person_id == attendee.person_id))


def post_note(session: Session, attendee: Attendee, text: object) -> Note:
    """A note of the attendee's table in the current round (``text``: 1 to
    :data:`NOTE_LIMIT` characters). 409 outside a running round or without a table."""
    cafe = attendee.cafe
    if not attendee.present:
        raise CafeError(409, "left", "you have left this café")
    if cafe.status != "running":
        raise CafeError(409, "not_running", "notes are taken while a round runs")
    table = seated_table(attendee)
    if table is None:
        raise CafeError(409, "not_seated", "you have no table in this round: you will be "
                        "seated from the next one")
    text = long_text(text, "text", required=True, limit=NOTE_LIMIT, error=CafeError)
    note = Note(cafe_id=cafe.id, round_number=cafe.current_round, table_number=table,
                text=text, author=None if cafe.anonymous_notes else attendee)
    session.add(note)
    session.flush()
    return note


def _visible(note: Note) -> bool:
    return not note.hidden and note.merged_into_id is None


def note_event(cafe: Cafe, note: Note) -> dict[str, object]:
    """docs/events.md ``note``: to the note's table, the console and the screen."""
    return {"cafe": cafe.code, "round": note.round_number, "table": note.table_number,
            "note_id": note.id, "text": note.text} | author_of(note)


# -- votes ---------------------------------------------------------------------------------


def votes_open(cafe: Cafe) -> bool:
    """Whether votes are open: once the café has ended, after at least one round
    (one rule for the phones, the screen and the API: a round still running,
    even with its time up, may get more time and more notes)."""
    return cafe.status == "finished" and cafe.current_round > 0


def _note(session: Session, cafe: Cafe, note_id: object, *, lock: bool = False) -> Note:
    # Ids are 32-bit: a larger number is no note (and PostgreSQL would refuse it).
    if not isinstance(note_id, int) or isinstance(note_id, bool) \
            or not 1 <= note_id <= 2**31 - 1:
        raise CafeError(404, "not_found", "no such note")
    note = session.get(Note, note_id, with_for_update=lock)
    if note is None or note.cafe_id != cafe.id:
        raise CafeError(404, "not_found", "no such note")
    return note


def vote(session: Session, attendee: Attendee, note_id: object, *,
         on: bool = True) -> dict[str, object]:
    """The attendee's vote for a note (``on=False``: taken back), once the
    café's last round is over; one vote per note per person (voting again
    changes nothing). Answers the note's votes and whether this person voted."""
    cafe = attendee.cafe
    note = _note(session, cafe, note_id)
    if not _visible(note):
        # 409, not 404: a phone whose list was made before the organiser hid or
        # merged this note is no stranger guessing ids.
        raise CafeError(409, "gone", "this note was hidden or merged into another")
    if not attendee.present:
        raise CafeError(409, "left", "you have left this café")
    if not votes_open(cafe):
        raise CafeError(409, "not_yet", "votes open when the café's last round is over")
    mine = session.scalar(select(NoteVote).where(NoteVote.note_id == note.id,
                                                 NoteVote.attendee_id == attendee.id))
    if on and mine is None:
        try:
            with session.begin_nested():  # the same vote from another tab at the same moment
                session.add(NoteVote(note_id=note.id, attendee_id=attendee.id))
        except IntegrityError:
            pass
    elif not on and mine is not None:
        session.delete(mine)
    session.flush()
    votes = session.scalar(select(func.count()).select_from(NoteVote)
                           .where(NoteVote.note_id == note.id))
    return {"note_id": note.id, "votes": votes, "voted": on}


def voting_notes(session: Session, attendee: Attendee) -> list[dict[str, object]]:
    """Every visible note of the attendee's café, for them to vote on: the round,
    its question, the table, the text, the votes and whether they voted. No
    authors: most of them were not this person's tablemates. None until votes
    open (:func:`votes_open`)."""
    cafe = attendee.cafe
    if not votes_open(cafe) or not attendee.present:
        return []
    counts = vote_counts(session, cafe)
    mine = set(session.scalars(select(NoteVote.note_id).join(Note, Note.id == NoteVote.note_id)
                               .where(Note.cafe_id == cafe.id,
                                      NoteVote.attendee_id == attendee.id)))
    notes = session.scalars(kept_notes(cafe).order_by(Note.round_number, Note.table_number,
                                                       Note.id)).all()
    return [{"note_id": n.id, "round": n.round_number, "question": question(cafe, n.round_number),
             "table": n.table_number, "text": n.text, "votes": counts.get(n.id, 0),
             "voted": n.id in mine} for n in notes]


# -- the organiser's care ----------------------------------------------------------------


def hide_note(session: Session, cafe: Cafe, note_id: object, hidden: object) -> Note:
    """Hide a note from the record (and the screens), or show it again."""
    note = _note(session, cafe, note_id)
    if not isinstance(hidden, bool):
        raise CafeError(400, "invalid", "hidden must be true or false", "hidden")
    note.hidden = hidden
    session.flush()
    return note


def merge_note(session: Session, cafe: Cafe, note_id: object, into: object) -> Note:
    """Merge a duplicate (``note_id``) into another note of the café (``into``):
    the duplicate leaves the record and its votes go to the other note (a person
    who voted for both keeps one vote). ``into`` of ``None`` takes the duplicate
    back into the record (the votes that moved stay where they are)."""
    note = _note(session, cafe, note_id, lock=True)
    if into is None:
        note.merged_into_id = None
        session.flush()
        return note
    if not isinstance(into, int) or isinstance(into, bool):
        raise CafeError(400, "invalid", "into must be a note id", "into")
    target = _note(session, cafe, into, lock=True)
    seen = {note.id}
    while target.merged_into_id is not None and target.id not in seen:
        seen.add(target.id)  # into what that note was merged into (never round a loop)
        target = _note(session, cafe, target.merged_into_id, lock=True)
    if target.id == note.id or target.merged_into_id is not None:
        raise CafeError(400, "invalid", "a note cannot be merged into itself", "into")
    if target.hidden:
        raise CafeError(400, "invalid", "that note is hidden: show it first, or merge into "
                        "another", "into")
    voters = {v.attendee_id for v in target.votes}
    for one in list(note.votes):
        if one.attendee_id in voters:
            session.delete(one)
        else:
            one.note_id = target.id
    for other in session.scalars(select(Note).where(Note.cafe_id == cafe.id,
                                                    Note.merged_into_id == note.id)):
        other.merged_into_id = target.id
    note.merged_into_id = target.id
    session.flush()
    session.expire(target, ["votes"])
    return note


# -- pledges -------------------------------------------------------------------------------


def pledge_open(cafe: Cafe) -> bool:
    """Pledges are made in the café's last round or after its end."""
    return cafe.current_round > 0 and (
        cafe.status == "finished"
        or (cafe.status == "running" and cafe.current_round >= cafe.rounds))


def pledge_of(session: Session, attendee: Attendee) -> Pledge | None:
    """The attendee's pledge at their café, if they made one."""
    return session.scalar(select(Pledge).where(Pledge.cafe_id == attendee.cafe_id,
                                               Pledge.attendee_id == attendee.id))


def _reason(cafe: Cafe, attendee: Attendee) -> str:
    return f"pledge:{cafe.id}:{attendee.id}"


def pledge_view(session: Session, pledge: Pledge) -> dict[str, object]:
    """docs/api.md ``POST /cafes/{code}/pledges``: the pledge, and when it will be
    mailed back (``None``: it will not, or it has been)."""
    message = session.scalar(select(Message).where(
        Message.reason == _reason(pledge.attendee.cafe, pledge.attendee)))
    due = message.due_at if message is not None and message.status == "queued" else None
    return {"text": pledge.text, "pledged_at": iso(pledge.pledged_at), "mailed_back_at": iso(due)}


def table_people(session: Session, cafe: Cafe, note: Note) -> list[str]:
    """The public ids of everyone at the note's table in its round (whom its
    ``note`` push goes to)."""
    return list(session.scalars(
        select(Person.public_id).join(GroupMember, GroupMember.person_id == Person.id)
        .join(Group, Group.id == GroupMember.group_id)
        .join(Round, Round.id == Group.round_id)
        .where(Round.cafe_id == cafe.id, Round.number == note.round_number,
               Group.number == note.table_number)))


def post_pledge(session: Session, attendee: Attendee, text: object, *, sender: str,
                now: datetime | None = None) -> tuple[Pledge, Message | None]:
    """The one action the attendee will take, replacing their earlier pledge;
    409 before the last round. If the café mails pledges back and the person
    gave an email, the mail is queued for ``pledge_reminder_days`` later
    (composed when sent, with the pledge as it is then; a new pledge moves it
    back to that many days after the new one). Answers the pledge and the
    queued mail, if any."""
    cafe = attendee.cafe
    if not attendee.present:
        raise CafeError(409, "left", "you have left this café")
    if not pledge_open(cafe):
        raise CafeError(409, "not_yet", "pledges are made in the last round or after the end")
    text = long_text(text, "text", required=True, limit=PLEDGE_LIMIT, error=CafeError)
    now = now or utc_now()
    pledge = pledge_of(session, attendee)
    if pledge is None:
        pledge = Pledge(cafe_id=cafe.id, attendee=attendee, text=text, pledged_at=now)
        session.add(pledge)
    else:
        pledge.text, pledge.pledged_at = text, now
    message = None
    if cafe.pledge_reminder_days and attendee.person.email:
        due = now + timedelta(days=cafe.pledge_reminder_days)
        message = session.scalar(select(Message).where(Message.reason == _reason(cafe, attendee)))
        if message is None:
            domain = sender.rpartition("@")[2].rstrip(">") or None
            message = queue_reason(session, reason=_reason(cafe, attendee), kind="pledge",
                                   person=attendee.person, trial=None, round_number=None,
                                   message_id=make_msgid(domain=domain), now=due)
        elif message.status in ("queued", "failed"):
            # Not sent yet (or the mail server refused it): it goes at the new time.
            message.status, message.due_at, message.attempts = "queued", due, 0
        else:
            message = None  # mailed back already, or being sent: once per café
    session.flush()
    return pledge, message


def pledge_mail(sender: str, cafe: Cafe, attendee: Attendee, pledge: Pledge) -> EmailMessage:
    """The pledge, mailed back: what they pledged at which café, and when."""
    days = cafe.pledge_reminder_days or 0
    ago = (f"{days // 30} month{'s' if days // 30 != 1 else ''}" if days >= 30 and days % 30 == 0
           else f"{days} day{'s' if days != 1 else ''}")
    when = utc(pledge.pledged_at).strftime("%-d %B %Y")
    text = (f"Hello {attendee.name},\n\n"
            f"{ago} ago, at {cafe.name} ({when}), you pledged:\n\n"
            f"{pledge.text}\n\n"
            "Did you? If you did, well done; if not yet, there is still time.\n\n"
            "You get this message once, because you gave your email at the café and "
            "its organiser chose to send pledges back.")
    return compose(Mail(attendee.person.email or "", f"Your pledge at {cafe.name}: did you?",
                        text), sender)


def pledge_composer(sender: str):
    """The outbox's composer of pledge mail: the pledge as it is when sent
    (``None`` if there is no pledge or no email to send it to any more)."""

    def compose(session: Session, row: Message):
        _, cafe_id, attendee_id = row.reason.split(":")
        attendee = session.get(Attendee, int(attendee_id))
        if attendee is None or attendee.cafe_id != int(cafe_id) or attendee.person.email is None:
            return None
        pledge = pledge_of(session, attendee)
        if pledge is None:
            return None
        return pledge_mail(sender, attendee.cafe, attendee, pledge)

    return {"pledge": compose}


# -- the record ----------------------------------------------------------------------------


def _played_tables(cafe: Cafe) -> dict[int, list[int]]:
    return {r.number: sorted(g.number for g in r.groups) for r in cafe.played}


def harvest(session: Session, cafe: Cafe, *, hidden: bool = False) -> dict[str, object]:
    """docs/api.md ``GET /cafes/{code}/harvest``: the café, the day it was held
    (its first round's), its questions, every
    played round's notes by table (most voted first), the pledges and, for the
    review formats, the grid (each question's notes from every table). With
    ``hidden``, hidden and merged notes are listed too, marked (the organiser's
    page); the record and its exports leave them out. ``author`` is absent in
    an anonymous café, in the notes and the pledges alike."""
    chosen = FORMATS.get(cafe.format, FORMATS["cafe"])
    counts = vote_counts(session, cafe)
    notes = session.scalars(select(Note).where(Note.cafe_id == cafe.id)
                            .options(selectinload(Note.author))
                            .order_by(Note.round_number, Note.table_number, Note.id)).all()
    anonymous = cafe.anonymous_notes
    by_place: dict[tuple[int, int], list[Note]] = defaultdict(list)
    for note in notes:
        by_place[note.round_number, note.table_number].append(note)

    def entry(note: Note) -> dict[str, object]:
        one = {"note_id": note.id, "text": note.text, "votes": counts.get(note.id, 0)}
        if not anonymous:
            one |= author_of(note)
        return one | {"hidden": note.hidden, "merged_into": note.merged_into_id}

    def ranked(items: list[Note]) -> list[dict[str, object]]:
        return [entry(n) for n in sorted(items, key=lambda n: (-counts.get(n.id, 0), n.id))]

    played = _played_tables(cafe)
    rounds = []
    for number in sorted(set(played) | {r for r, _ in by_place}):
        tables = sorted(set(played.get(number, [])) | {t for r, t in by_place if r == number})
        rounds.append({"round": number, "question": question(cafe, number),
                       "tables": [{"table": t, "notes": ranked(by_place[number, t])}
                                  for t in tables]})
    grid = []
    for index, heading in enumerate(chosen.headings[:cafe.rounds]):
        number = index + 1
        grid.append({"heading": heading, "round": number, "question": question(cafe, number),
                     "notes": ranked([n for (r, _), items in by_place.items() if r == number
                                      for n in items])})
    pledges = session.scalars(select(Pledge).where(Pledge.cafe_id == cafe.id)
                              .options(selectinload(Pledge.attendee))
                              .order_by(Pledge.pledged_at, Pledge.id)).all()
    held = cafe.played[0].published_at if cafe.played else cafe.created_at
    record = {
        "cafe": cafe.code, "name": cafe.name, "format": cafe.format,
        "format_name": chosen.name, "date": iso(held),
        "anonymous_notes": anonymous, "questions": list(cafe.questions),
        "rounds": rounds, "grid": grid,
        "pledges": [{"text": p.text} | ({} if anonymous else {"author": p.attendee.name})
                    for p in pledges],
    }
    return record if hidden else kept(record)


def kept(record: dict[str, object]) -> dict[str, object]:
    """The record as filed: :func:`harvest`'s with ``hidden``, without the hidden
    and merged notes and without the marks that say so."""

    def notes(items: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in n.items() if k not in ("hidden", "merged_into")}
                for n in items if not n["hidden"] and n["merged_into"] is None]

    return record | {
        "rounds": [one | {"tables": [t | {"notes": notes(t["notes"])} for t in one["tables"]]}
                   for one in record["rounds"]],
        "grid": [column | {"notes": notes(column["notes"])} for column in record["grid"]],
    }


def record_date(record: dict[str, object]) -> str:
    """The record's date as people write it (1 December 2026)."""
    return datetime.fromisoformat(str(record["date"]).replace("Z", "+00:00")).strftime(
        "%-d %B %Y")


def _votes(count: int) -> str:
    return f"{count} vote{'s' if count != 1 else ''}"


def _md(text: str) -> str:
    """Text as Markdown shows it: every character that could be markup escaped,
    line breaks kept."""
    escaped = "".join("\\" + c if c in "\\`*_{}[]()<>#+-.!|~" else c for c in text)
    return escaped.replace("\n", "  \n")


def harvest_markdown(record: dict[str, object]) -> str:
    """The lessons-learnt record as Markdown (hidden and merged notes left out)."""
    out = [f"# Lessons learnt: {_md(record['name'])}", "",
           f"{record['format_name']}, {record_date(record)}. "
           f"{'Notes are anonymous. ' if record['anonymous_notes'] else ''}"
           "Notes are listed most voted first.", ""]
    if record["grid"]:
        out += ["## The grid", ""]
        for column in record["grid"]:
            out += [f"### {column['heading']}: {_md(column['question'])}", ""]
            out += [f"- {_md(n['text'])} ({_votes(n['votes'])})" for n in column["notes"]] \
                or ["_No notes._"]
            out.append("")
    out += ["## Round by round", ""]
    for one in record["rounds"]:
        title = f"## Round {one['round']}" + (f": {_md(one['question'])}" if one["question"]
                                               else "")
        out += ["#" + title, ""]
        for table in one["tables"]:
            out += [f"**Table {table['table']}**", ""]
            out += [f"- {_md(n['text'])} ({_votes(n['votes'])}"
                    + (f"; {_md(n['author'])}" if n.get("author") else "") + ")"
                    for n in table["notes"]] or ["_No notes._"]
            out.append("")
    out += ["## Pledges", ""]
    out += [f"- {_md(p['text'])}" + (f" ({_md(p['author'])})" if p.get("author") else "")
            for p in record["pledges"]] or ["_No pledges._"]
    out.append("")
    return "\n".join(out)


def harvest_csv(record: dict[str, object]) -> str:
    """The record as CSV: one row per note, then one per pledge."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "round", "question", "table", "text", "votes", "author"])
    for one in record["rounds"]:
        for table in one["tables"]:
            for n in table["notes"]:
                writer.writerow(["note", one["round"], spreadsheet_safe(one["question"]),
                                 table["table"], spreadsheet_safe(n["text"]), n["votes"],
                                 spreadsheet_safe(n.get("author"))])
    for p in record["pledges"]:
        writer.writerow(["pledge", "", "", "", spreadsheet_safe(p["text"]), "",
                         spreadsheet_safe(p.get("author"))])
    return out.getvalue()


def note_entry(session: Session, cafe: Cafe, note_id: int) -> dict[str, object]:
    """One note as the organiser's harvest lists it (with ``hidden`` and
    ``merged_into``): what hiding or merging it answers."""
    note = _note(session, cafe, note_id)
    return {"note_id": note.id, "text": note.text, "votes": vote_counts(session, cafe).get(
        note.id, 0), "hidden": note.hidden, "merged_into": note.merged_into_id} | (
        {} if cafe.anonymous_notes else author_of(note))
