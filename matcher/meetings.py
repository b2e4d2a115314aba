"""The one who-met-whom record, and solver problems built from it.

Every round of every trial and café is history for every other: a
café avoids seating people who just had coffee together, and vice versa. A
member whose ``met`` is ``False`` did not meet the others of their group.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, object_session, selectinload

from matcher.files import attribute_key
from matcher.models import Cafe, Group, GroupMember, Membership, Person, Round, Trial
from solvers.model import History, Participant, PastRound, Problem, Weights

__all__ = ["load_rounds", "past_rounds", "solver_person", "store_round", "trial_problem"]


def solver_person(person: Person) -> Participant:
    """A stored person as the solvers see them (attributes compared as in files)."""
    return Participant(
        person.public_id,
        attribute_key(person.department),
        attribute_key(person.organisation),
        attribute_key(person.site),
        attribute_key(person.role),
        person.mode,
    )


def past_rounds(session: Session, trial: Trial | None = None, *,
                exclude_cafe: Cafe | None = None,
                before: Round | None = None) -> list[PastRound]:
    """Every published round of every trial and café, oldest first, as groups of
    people who met (leaving out the rounds of ``exclude_cafe``, which its
    re-planning keeps as played rounds; with ``before``, only the rounds
    published before that one: its history when it was made).

    Sit-outs are kept only for the rounds of ``trial``: sitting out is about
    fairness within one programme.
    """
    query = (select(Round)
             .options(selectinload(Round.members).selectinload(GroupMember.person))
             .order_by(Round.published_at, Round.id))
    if exclude_cafe is not None:
        query = query.where((Round.cafe_id.is_(None)) | (Round.cafe_id != exclude_cafe.id))
    if before is not None:
        query = query.where((Round.published_at < before.published_at)
                            | ((Round.published_at == before.published_at)
                               & (Round.id < before.id)))
    rounds = session.scalars(query).all()
    past = []
    for one in rounds:
        groups: dict[int, list[str]] = {}
        sitting: list[str] = []
        for member in one.members:
            if member.group_id is None:
                if trial is not None and one.trial_id == trial.id:
                    sitting.append(member.person.public_id)
            elif member.met is not False:
                groups.setdefault(member.group_id, []).append(member.person.public_id)
        past.append(PastRound(tuple(tuple(g) for g in groups.values()), tuple(sitting)))
    return past


def trial_problem(session: Session, trial: Trial, slot_at: datetime | None = None
                  ) -> tuple[Problem, list[Membership]]:
    """The next round of ``trial`` (of its scheduled slot ``slot_at``, if it is
    one) as a solver problem, and the members taking part: active ones, but
    not those who skip that slot, in the order they joined."""
    query = select(Membership).where(Membership.trial_id == trial.id,
                                     Membership.paused.is_(False))
    if slot_at is not None:
        query = query.where((Membership.skip_slot_at.is_(None))
                            | (Membership.skip_slot_at != slot_at))
    members = session.scalars(
        query
        .options(selectinload(Membership.person))
        .order_by(Membership.joined_at, Membership.id)
    ).all()
    problem = Problem(
        people=tuple(solver_person(m.person) for m in members),
        history=History.from_rounds(past_rounds(session, trial)),
        weights=Weights(**trial.weights) if trial.weights else Weights(),
        group_size=trial.group_size,
        odd=trial.odd,
    )
    return problem, list(members)


def store_round(session: Session, stored: Round, groups: Sequence[Sequence[Person]],
                sitting_out: Sequence[Person] = ()) -> Round:
    """Add the new round ``stored`` with its groups (numbered from 1) and who
    sat out, and flush: rows inserted in bulk (one statement for the groups,
    one for the members; a thousand ORM objects with their relationships took
    most of a café's "next round"), then read back, groups and members loaded."""
    session.add(stored)
    session.flush()
    group_ids = session.scalars(
        insert(Group).returning(Group.id, sort_by_parameter_order=True),
        [{"round_id": stored.id, "number": k} for k in range(1, len(groups) + 1)],
    ).all() if groups else []
    rows = [{"round_id": stored.id, "group_id": group_id, "person_id": person.id}
            for group_id, members in zip(group_ids, groups, strict=True) for person in members]
    rows += [{"round_id": stored.id, "group_id": None, "person_id": person.id}
             for person in sitting_out]
    if rows:
        session.execute(insert(GroupMember), rows)
    return session.scalars(
        select(Round).where(Round.id == stored.id)
        .options(selectinload(Round.groups).selectinload(Group.members),
                 selectinload(Round.members))
        .execution_options(populate_existing=True)).one()


def load_rounds(*trials: Trial) -> None:
    """Load ``trials``' members and every round's groups and members in a few
    queries: pages and figures that walk every round would otherwise load them
    group by group (a query per group: thousands for a year of a large trial)."""
    session = object_session(trials[0]) if trials else None
    if session is None:
        return
    rounds = selectinload(Trial.rounds)
    session.scalars(
        select(Trial).where(Trial.id.in_([t.id for t in trials]))
        .options(selectinload(Trial.memberships).joinedload(Membership.person),
                 rounds.selectinload(Round.groups).selectinload(Group.members),
                 rounds.selectinload(Round.members))).all()
