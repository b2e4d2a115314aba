"""The demo: the fictional trust of :mod:`seeds` loaded as a coffee trial with
history, and a knowledge café in its lobby with some of the staff already there."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.accounts import create_organiser, hash_token
from matcher.cafes import create_cafe, end_cafe, next_round
from matcher.files import read_people, read_table
from matcher.models import (
    Attendee,
    Cafe,
    Feedback,
    Group,
    GroupMember,
    Membership,
    Note,
    NoteVote,
    Organiser,
    Person,
    Pledge,
    Round,
    Trial,
)
from matcher.team import make_owner
from matcher.times import utc_now
from matcher.trials import update_trial
from seeds import SEEDS

__all__ = ["DEMO_EMAIL", "DEMO_PASSWORD", "Demo", "demo_schedule", "load_demo"]

#: The demo organiser's sign-in name.
DEMO_EMAIL = "demo-organiser@northfield-vale.example"
#: The demo organiser's password (a demo on one's own machine; never for real data).
DEMO_PASSWORD = "try-the-demo"


@dataclass(frozen=True)
class Demo:
    """What a person trying the demo needs: the organiser's API token, the trial,
    and the secret links (tokens) of a few participants."""

    organiser_token: str | None
    trial: Trial
    participant_tokens: dict[str, str]
    cafe: Cafe | None = None


def demo_schedule(now: datetime) -> dict[str, object]:
    """The demo trial's schedule: its next round a few minutes after ``now`` (at a
    whole minute, in London), a reminder a minute before and the "did you
    meet?" check-in two minutes after, so all three kinds of mail are seen in
    the first minutes; then a round every two weeks."""
    first = (now + timedelta(minutes=3)).astimezone(ZoneInfo("Europe/London"))
    return {"first_round_at": first.strftime("%Y-%m-%dT%H:%M"), "time_zone": "Europe/London",
            "every": "P2W", "reminder_before": "PT1M", "check_in_after": "PT2M",
            "meeting": {"after": "P1D", "time": "12:30", "minutes": 30}}


def load_demo(session: Session, seeds: Path = SEEDS, *, seal: Fernet | None = None,
              now: datetime | None = None) -> Demo:
    """Load the seeds once: an organiser, a trial with the active staff as
    participants, its four earlier rounds and a schedule (:func:`demo_schedule`).
    Loading again changes nothing (and returns no organiser token, which is
    shown only once). With ``seal`` (the outbox's), the participants' tokens are
    sealed for the introductions, which then carry each one's personal link."""
    existing = session.scalar(select(Organiser).where(Organiser.email == DEMO_EMAIL))
    if existing is not None:
        trial = session.scalar(select(Trial).where(Trial.organiser_id == existing.id))
        cafe = session.scalar(select(Cafe).where(Cafe.organiser_id == existing.id)
                              .order_by(Cafe.id))
        return Demo(None, trial, {}, cafe)
    organiser, token = create_organiser(session, DEMO_EMAIL, "Demo organiser",
                                        password=DEMO_PASSWORD)
    trial = Trial(organiser=organiser, name="Northfield & Vale coffee trial",
                  description="Meet a colleague from elsewhere in the trust every fortnight.",
                  join_code=secrets.token_urlsafe(9), weights={})
    session.add(trial)
    make_owner(session, trial, organiser)
    update_trial(session, trial, {"schedule": demo_schedule(now or utc_now())},
                 now=now or utc_now())
    people = read_people(seeds / "people.csv")
    persons: dict[str, Person] = {}
    tokens: dict[str, str] = {}
    for row in people.active_rows:
        person = Person(public_id=row.id, email=row.email or None, name=row.name,
                        department=row.department, organisation=row.organisation,
                        site=row.site, role=row.role, mode=row.mode)
        persons[row.id] = person
        secret = secrets.token_urlsafe(32)
        tokens[row.id] = secret
        session.add(Membership(trial=trial, person=person, token_hash=hash_token(secret),
                               token_sealed=seal.encrypt(secret.encode()) if seal else None))
    history = read_table(seeds / "history.csv")
    rounds: dict[str, Round] = {}
    groups: dict[tuple[str, str], Group] = {}
    for record in history.records:
        person = persons.get(record.get("person_id"))
        if person is None:  # former staff: history keeps them, the demo does not
            continue
        label = record.get("round")
        if label not in rounds:
            when = datetime.fromisoformat(record.get("date")).replace(tzinfo=UTC)
            rounds[label] = Round(trial=trial, number=len(rounds) + 1, published_at=when)
            session.add(rounds[label])
        group = None
        if record.get("group"):
            key = (label, record.get("group"))
            if key not in groups:
                groups[key] = Group(round=rounds[label], number=int(record.get("group")))
            group = groups[key]
        met = {"yes": True, "no": False}.get(record.get("met").lower())
        session.add(GroupMember(round=rounds[label], group=group, person=person, met=met))
    session.flush()
    _demo_feedback(session, trial, seeds, rounds, persons)
    cafe = _demo_cafe(session, organiser, people, persons)
    _demo_review(session, organiser, people, persons, seeds)
    return Demo(token, trial, tokens, cafe)


def _demo_feedback(session: Session, trial: Trial, seeds: Path, rounds: dict[str, Round],
                   persons: dict[str, Person]) -> None:
    """What the staff said about the earlier rounds (``feedback.csv``), for the
    trial's evaluation: ``met`` as in the history."""
    def flag(value: str) -> bool | None:
        return {"yes": True, "no": False}.get(value.lower())

    for record in read_table(seeds / "feedback.csv").records:
        person = persons.get(record.get("person_id"))
        stored = rounds.get(record.get("round"))
        if person is None or stored is None:
            continue
        useful = record.get("useful")
        session.add(Feedback(
            trial_id=trial.id, round_id=stored.id, person_id=person.id,
            met=bool(flag(record.get("met"))), knew_before=flag(record.get("knew_before")),
            useful=int(useful) if useful else None, again=flag(record.get("again")),
            learnt=record.get("learnt"), share=bool(flag(record.get("share"))),
            answered_at=stored.published_at + timedelta(days=3)))
    session.flush()


#: How many of the staff are already at the demo café when it opens.
DEMO_CAFE_PEOPLE = 22


def _demo_cafe(session: Session, organiser: Organiser, people, persons) -> Cafe:
    """A café in its lobby: 22 staff already there, two of them named hosts;
    join from a phone with the code, then start it from the console."""
    here = [row for row in people.active_rows if row.id in persons][:DEMO_CAFE_PEOPLE]
    cafe = create_cafe(session, organiser, {
        "name": "Northfield & Vale knowledge café", "table_size": 5, "rounds": 3,
        "round_minutes": 15,
        "questions": ["What slows your work down most?",
                      "What would you change first, and who would you need?",
                      "What will you try next week?"],
        "hosts": [here[0].name, here[1].name],
    })
    for k, row in enumerate(here):
        session.add(Attendee(cafe=cafe, person=persons[row.id], name=row.name,
                             department=row.department, organisation=row.organisation,
                             host_table=k + 1 if k < 2 else None,
                             token_hash=hash_token(secrets.token_urlsafe(32))))
    session.flush()
    return cafe


#: The demo's after action review: who came, when, and its rounds' seeds.
REVIEW_PEOPLE = 12
REVIEW_DAY = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def _demo_review(session: Session, organiser: Organiser, people, persons,
                 seeds: Path) -> Cafe:
    """A finished after action review of last winter, held as a café of three
    tables: its four rounds played by the café engine, each table's notes
    (``harvest.csv``), four pledges and a few votes, so its record is there to
    read and download."""
    rows = [row for row in people.active_rows if row.id in persons][40:40 + REVIEW_PEOPLE]
    cafe = create_cafe(session, organiser, {
        "name": "Winter pressures: after action review", "tables": 3,
        "format": "after-action-review", "round_minutes": 20})
    cafe.created_at = REVIEW_DAY
    attendees = []
    for row in rows:
        attendee = Attendee(cafe=cafe, person=persons[row.id], name=row.name,
                            department=row.department, organisation=row.organisation,
                            token_hash=hash_token(secrets.token_urlsafe(32)))
        session.add(attendee)
        attendees.append(attendee)
    session.flush()
    harvest = read_table(seeds / "harvest.csv").records
    notes: list[Note] = []
    for number in range(1, cafe.rounds + 1):
        stored = next_round(session, cafe, seed=number, steps=2_000, time_limit=5.0)
        stored.published_at = REVIEW_DAY + timedelta(minutes=20 * (number - 1))
        writers = {g.number: g.members[0].person_id for g in stored.groups}
        by_person = {a.person_id: a for a in attendees}
        for record in harvest:
            if record.get("kind") == "note" and int(record.get("round")) == number:
                table = int(record.get("table"))
                notes.append(Note(cafe_id=cafe.id, round_number=number, table_number=table,
                                  text=record.get("text"), author=by_person[writers[table]],
                                  created_at=stored.published_at + timedelta(minutes=10)))
    session.add_all(notes)
    pledges = [r.get("text") for r in harvest if r.get("kind") == "pledge"]
    for attendee, text in zip(attendees, pledges, strict=False):
        session.add(Pledge(cafe_id=cafe.id, attendee=attendee, text=text,
                           pledged_at=REVIEW_DAY + timedelta(hours=1, minutes=20)))
    session.flush()
    # The votes at the end: the last question's notes matter most to most people.
    for k, attendee in enumerate(attendees):
        for note in notes[-3:][: 1 + k % 3] + notes[k % 4: k % 4 + 1]:
            if not any(v.attendee_id == attendee.id for v in note.votes):
                note.votes.append(NoteVote(attendee_id=attendee.id))
    end_cafe(session, cafe)
    session.flush()
    return cafe
