"""The demo: the fictional trust of ``seeds/`` loaded as a coffee trial with history."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.accounts import create_organiser, hash_token
from matcher.files import read_people, read_table
from matcher.models import Group, GroupMember, Membership, Organiser, Person, Round, Trial

__all__ = ["DEMO_EMAIL", "DEMO_PASSWORD", "Demo", "load_demo"]

#: The demo organiser's sign-in name.
DEMO_EMAIL = "demo-organiser@northfield-vale.example"
#: The demo organiser's password (a demo on one's own machine; never for real data).
DEMO_PASSWORD = "try-the-demo"
#: The seeds shipped with the project.
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@dataclass(frozen=True)
class Demo:
    """What a person trying the demo needs: the organiser's API token, the trial,
    and the secret links (tokens) of a few participants."""

    organiser_token: str | None
    trial: Trial
    participant_tokens: dict[str, str]


def load_demo(session: Session, seeds: Path = SEEDS) -> Demo:
    """Load the seeds once: an organiser, a trial with the active staff as
    participants, and its four earlier rounds. Loading again changes nothing
    (and returns no organiser token, which is shown only once)."""
    existing = session.scalar(select(Organiser).where(Organiser.email == DEMO_EMAIL))
    if existing is not None:
        trial = session.scalar(select(Trial).where(Trial.organiser_id == existing.id))
        return Demo(None, trial, {})
    organiser, token = create_organiser(session, DEMO_EMAIL, "Demo organiser",
                                        password=DEMO_PASSWORD)
    trial = Trial(organiser=organiser, name="Northfield & Vale coffee trial",
                  description="Meet a colleague from elsewhere in the trust every fortnight.",
                  join_code=secrets.token_urlsafe(9), weights={})
    session.add(trial)
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
        session.add(Membership(trial=trial, person=person, token_hash=hash_token(secret)))
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
    return Demo(token, trial, tokens)
