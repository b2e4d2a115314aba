"""Mixing analytics: how well a coffee trial or a knowledge café mixes the
organisation.

Everything here is about one programme (one trial, or one café) and its rounds
so far, and follows the meaning of **met** in docs/glossary.md: two people met if they were
in the same group (a café's table) in a round, unless one of them said the
meeting did not happen (``met=no``), as in :func:`matcher.meetings.past_rounds`.
Departments are compared as everywhere in matcher (:func:`matcher.files.attribute_key`).

- :class:`Heatmap`: department × department, how many meetings so far.
- :class:`RoundTies`: per round, the new cross-department **ties**: pairs of
  people from different departments meeting for the first time (in this
  programme).
- :class:`Coverage`: the share of participants who have met someone outside
  their department, and the share of department pairs that have met at all.
- :class:`NotYetMixed`: the participants who have not yet met anyone outside
  their department.
- :class:`Participation`: sign-ups, active, paused (a café: left), groups, and
  the answers to "did you meet?" (for a trial: :class:`TrialFigures`).

:func:`trial_analytics` and :func:`cafe_analytics` are pure functions of the
models (no session, no Flask); :func:`analytics_csv` gives the numbers behind
each chart as CSV, with names and departments :func:`spreadsheet_safe`. Only
names and departments appear: no emails, tokens or ids.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from matcher.exports import spreadsheet_safe
from matcher.files import attribute_key
from matcher.meetings import load_rounds
from matcher.models import Cafe, Round, Trial

__all__ = [
    "Analytics",
    "CHARTS",
    "CHART_ALIASES",
    "Coverage",
    "DRAWN",
    "Department",
    "Heatmap",
    "NotYetMixed",
    "Participation",
    "RoundParticipation",
    "RoundTies",
    "TrialFigures",
    "analytics_csv",
    "cafe_analytics",
    "chart_named",
    "department_label",
    "trial_analytics",
    "trial_figures",
]

#: Every chart whose numbers can be downloaded as CSV, in the order pages show them
#: (named as the analytics' JSON names them).
CHARTS = ("heatmap", "ties", "coverage", "participation", "not_yet_mixed")
#: The charts drawn as pictures (SVG); the not_yet_mixed list is a table.
DRAWN = ("heatmap", "ties", "coverage", "participation")
#: Earlier spellings of chart names, still understood in URLs (links people saved).
CHART_ALIASES = {"not-yet-mixed": "not_yet_mixed"}


def chart_named(name: str) -> str | None:
    """The chart ``name`` means (an earlier spelling too), or ``None``."""
    name = CHART_ALIASES.get(name, name)
    return name if name in CHARTS else None


@dataclass(frozen=True)
class Department:
    """A department as the analytics show it: ``label`` is its most used spelling
    (departments are compared by ``key``), ``participants`` how many are in it."""

    key: str
    label: str
    participants: int


@dataclass(frozen=True)
class Heatmap:
    """Meetings so far between departments: ``meetings[i][j]`` counts the pairs of
    people, one from department ``i`` and one from ``j``, who met in a round (a
    pair meeting in two rounds counts twice); symmetric, the diagonal counts
    meetings within a department. Departments with most participants first."""

    departments: tuple[Department, ...]
    meetings: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        """All meetings (pairs that met, per round)."""
        size = len(self.departments)
        return sum(self.meetings[i][j] for i in range(size) for j in range(i, size))

    @property
    def cross_department(self) -> int:
        """Meetings between people of different departments."""
        return self.total - sum(self.meetings[i][i] for i in range(len(self.departments)))

    @property
    def largest(self) -> int:
        """The largest cell (0 before any meeting)."""
        return max((max(row) for row in self.meetings), default=0)


@dataclass(frozen=True)
class RoundTies:
    """One round's meetings and new cross-department ties (pairs of people from
    different departments who met for the first time in this programme);
    ``ties`` is the number of distinct cross-department pairs met so far."""

    round: int
    meetings: int
    cross_department: int
    new_ties: int
    ties: int


@dataclass(frozen=True)
class Coverage:
    """How far the mixing reaches: participants who have met someone outside their
    department, and pairs of (participants') departments that have met at all."""

    participants: int
    met_outside: int
    departments: int
    department_pairs: int
    department_pairs_met: int

    @property
    def met_outside_share(self) -> float | None:
        """``met_outside / participants`` (None without participants)."""
        return self.met_outside / self.participants if self.participants else None

    @property
    def department_pairs_share(self) -> float | None:
        """``department_pairs_met / department_pairs`` (None with fewer than two
        departments)."""
        return (self.department_pairs_met / self.department_pairs
                if self.department_pairs else None)


@dataclass(frozen=True)
class NotYetMixed:
    """A participant who has not yet met anyone outside their department, and how
    many different people (of their own department) they have met."""

    name: str
    department: str
    met: int


@dataclass(frozen=True)
class RoundParticipation:
    """One round: its groups (tables), the people placed in them and sitting
    out, and the answers of those placed to "did you meet?"."""

    round: int
    groups: int
    in_groups: int
    sitting_out: int
    met_yes: int
    met_no: int
    met_unanswered: int


@dataclass(frozen=True)
class Participation:
    """Who takes part: ``participants`` signed up (a café: joined), of whom
    ``active`` take part in new rounds, ``paused`` are paused (trials) and
    ``left`` have left (cafés; leaving a trial deletes the person); the groups
    of all rounds and the answers to "did you meet?"; and each round."""

    participants: int
    active: int
    paused: int
    left: int
    groups: int
    met_yes: int
    met_no: int
    met_unanswered: int
    rounds: tuple[RoundParticipation, ...]


@dataclass(frozen=True)
class Analytics:
    """The mixing analytics of one trial (``kind`` ``"trial"``) or café (``"cafe"``)."""

    kind: str
    name: str
    heatmap: Heatmap
    ties: tuple[RoundTies, ...]
    coverage: Coverage
    not_yet_mixed: tuple[NotYetMixed, ...]
    participation: Participation


@dataclass(frozen=True)
class _Who:
    """Someone as the analytics see them (their name and department in this
    programme)."""

    name: str
    department: str


def _met_groups(stored: Round) -> list[list[int]]:
    """The groups of a round as the people (person ids) who met in each: a member
    who said the meeting did not happen met nobody (docs/glossary.md)."""
    return [sorted(m.person_id for m in group.members if m.met is not False)
            for group in stored.groups]


def _round_participation(stored: Round) -> RoundParticipation:
    placed = [m for m in stored.members if m.group_id is not None]
    return RoundParticipation(
        round=stored.number,
        groups=len(stored.groups),
        in_groups=len(placed),
        sitting_out=len(stored.members) - len(placed),
        met_yes=sum(m.met is True for m in placed),
        met_no=sum(m.met is False for m in placed),
        met_unanswered=sum(m.met is None for m in placed),
    )


def department_label(spellings: Counter[str]) -> str:
    """The most used spelling of a department (ties: the first in sorted order)."""
    return min(spellings.items(), key=lambda item: (-item[1], item[0]))[0]


def _mixing(kind: str, name: str, people: dict[int, _Who], participants: Sequence[int],
            rounds: Iterable[Round], participation: Participation) -> Analytics:
    """The analytics of a programme: ``people`` by person id (everyone in its
    rounds and every participant), ``participants`` (person ids) those it counts
    coverage over, and its ``rounds`` oldest first."""
    key = {pid: attribute_key(who.department) for pid, who in people.items()}
    pair_meetings: Counter[tuple[str, str]] = Counter()
    met_people: dict[int, set[int]] = {pid: set() for pid in people}
    ties: set[tuple[int, int]] = set()
    per_round = []
    for stored in rounds:
        meetings = crossing = new = 0
        for group in _met_groups(stored):
            for a, b in combinations(group, 2):
                meetings += 1
                met_people[a].add(b)
                met_people[b].add(a)
                pair_meetings[tuple(sorted((key[a], key[b])))] += 1
                if key[a] != key[b]:
                    crossing += 1
                    if (a, b) not in ties:
                        ties.add((a, b))
                        new += 1
        per_round.append(RoundTies(stored.number, meetings, crossing, new, len(ties)))

    # Departments: those of the participants and of anyone in the rounds.
    spellings: dict[str, Counter[str]] = {}
    for pid, who in people.items():
        spellings.setdefault(key[pid], Counter())[" ".join(who.department.split())] += 1
    counted = Counter(key[pid] for pid in participants)
    departments = sorted(
        (Department(k, department_label(spellings[k]), counted[k]) for k in spellings),
        key=lambda d: (-d.participants, d.label.casefold(), d.key))
    index = {d.key: i for i, d in enumerate(departments)}
    cells = [[0] * len(departments) for _ in departments]
    for (a, b), count in pair_meetings.items():
        cells[index[a]][index[b]] = cells[index[b]][index[a]] = count
    heatmap = Heatmap(tuple(departments), tuple(tuple(row) for row in cells))

    mixed = {pid for pid in participants
             if any(key[other] != key[pid] for other in met_people[pid])}
    taking_part = sorted(counted)
    pairs = list(combinations(taking_part, 2))
    coverage = Coverage(
        participants=len(participants),
        met_outside=len(mixed),
        departments=len(taking_part),
        department_pairs=len(pairs),
        department_pairs_met=sum(pair_meetings[pair] > 0 for pair in pairs),
    )
    not_yet = sorted(
        (NotYetMixed(people[pid].name, people[pid].department, len(met_people[pid]))
         for pid in participants if pid not in mixed),
        key=lambda p: (attribute_key(p.department), p.name.casefold(), p.name))
    return Analytics(kind, name, heatmap, tuple(per_round), coverage, tuple(not_yet),
                     participation)


def _people_in(rounds: Iterable[Round]) -> dict[int, _Who]:
    """Everyone in ``rounds``, by person id, as their person record names them."""
    return {member.person_id: _Who(member.person.name, member.person.department)
            for stored in rounds for member in stored.members}


def trial_analytics(trial: Trial) -> Analytics:
    """The mixing analytics of ``trial``: its participants (current members) and
    its published rounds; the totals of participation are :func:`trial_figures`'."""
    figures = trial_figures(trial)  # loads the rounds (matcher.meetings.load_rounds)
    people = _people_in(trial.rounds)
    participants = []
    for membership in trial.memberships:
        person = membership.person
        people[person.id] = _Who(person.name, person.department)
        participants.append(person.id)
    participation = Participation(
        participants=figures.participants, active=figures.active, paused=figures.paused,
        left=0, groups=figures.introductions, met_yes=figures.met_yes, met_no=figures.met_no,
        met_unanswered=figures.met_unanswered,
        rounds=tuple(_round_participation(stored) for stored in trial.rounds))
    return _mixing("trial", trial.name, people, participants, trial.rounds, participation)


def cafe_analytics(cafe: Cafe) -> Analytics:
    """The mixing analytics of ``cafe``: everyone who joined it (with the name and
    department they gave there) and its played rounds; people at one table in a
    round met."""
    people = _people_in(cafe.played)
    participants = []
    for attendee in cafe.attendees:
        people[attendee.person_id] = _Who(attendee.name, attendee.department)
        participants.append(attendee.person_id)
    rounds = tuple(_round_participation(stored) for stored in cafe.played)
    present = sum(a.present for a in cafe.attendees)
    participation = Participation(
        participants=len(cafe.attendees), active=present, paused=0,
        left=len(cafe.attendees) - present, groups=sum(r.groups for r in rounds),
        met_yes=sum(r.met_yes for r in rounds), met_no=sum(r.met_no for r in rounds),
        met_unanswered=sum(r.met_unanswered for r in rounds), rounds=rounds)
    return _mixing("cafe", cafe.name, people, participants, cafe.played, participation)


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def analytics_csv(analytics: Analytics, chart: str) -> str:
    """The numbers behind one chart (one of :data:`CHARTS`) as CSV with a header:

    - ``heatmap``: ``department`` then one column per department, one row per
      department: the meetings between the two;
    - ``ties``: ``round,meetings,cross_department,new_ties,ties``;
    - ``coverage``: ``measure,count,of,share`` (people who met someone outside
      their department; department pairs that have met);
    - ``participation``: ``round,measure,value`` (the programme's figures with
      an empty ``round``, then each round's);
    - ``not_yet_mixed``: ``name,department,met``.

    Names and departments are :func:`spreadsheet_safe`. Raises ``KeyError`` for
    another chart.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if chart == "heatmap":
        labels = [spreadsheet_safe(d.label) for d in analytics.heatmap.departments]
        writer.writerow(["department", *labels])
        for label, row in zip(labels, analytics.heatmap.meetings, strict=True):
            writer.writerow([label, *row])
    elif chart == "ties":
        writer.writerow(["round", "meetings", "cross_department", "new_ties", "ties"])
        for one in analytics.ties:
            writer.writerow([one.round, one.meetings, one.cross_department, one.new_ties,
                             one.ties])
    elif chart == "coverage":
        c = analytics.coverage
        writer.writerow(["measure", "count", "of", "share"])
        writer.writerow(["participants_met_outside_department", c.met_outside, c.participants,
                         _share(c.met_outside_share)])
        writer.writerow(["department_pairs_met", c.department_pairs_met, c.department_pairs,
                         _share(c.department_pairs_share)])
    elif chart == "participation":
        p = analytics.participation
        writer.writerow(["round", "measure", "value"])
        for measure in ("participants", "active", "paused", "left", "groups", "met_yes",
                        "met_no", "met_unanswered"):
            writer.writerow(["", measure, getattr(p, measure)])
        for one in p.rounds:
            for measure in ("groups", "in_groups", "sitting_out", "met_yes", "met_no",
                            "met_unanswered"):
                writer.writerow([one.round, measure, getattr(one, measure)])
    elif chart == "not_yet_mixed":
        writer.writerow(["name", "department", "met"])
        for person in analytics.not_yet_mixed:
            writer.writerow([spreadsheet_safe(person.name), spreadsheet_safe(person.department),
                             person.met])
    else:
        raise KeyError(chart)
    return out.getvalue()


@dataclass(frozen=True)
class TrialFigures:
    """A trial at a glance (the organiser's dashboard)."""

    participants: int
    active: int
    paused: int
    departments: int
    rounds: int
    last_published: datetime | None
    #: Introductions made (groups in all rounds) and the share of them across departments.
    introductions: int
    cross_department_share: float | None
    #: Distinct people who have been introduced to someone outside their department.
    mixed_people: int
    #: Answers to "did you meet?": yes, no, and members of a group yet to answer.
    met_yes: int
    met_no: int
    met_unanswered: int
    #: The latest round's repeats and gap to the bound (None before any round).
    last_repeats: int | None
    last_gap: float | None


def trial_figures(trial: Trial) -> TrialFigures:
    """The headline figures of ``trial`` from its members and rounds."""
    load_rounds(trial)
    members = trial.memberships
    introductions = crossing = 0
    yes = no = unanswered = 0
    mixed: set[int] = set()
    for stored in trial.rounds:
        for group in stored.groups:
            introductions += 1
            departments = {attribute_key(m.person.department) for m in group.members}
            if len(departments) > 1:
                crossing += 1
                mixed.update(m.person_id for m in group.members)
            for member in group.members:
                if member.met is True:
                    yes += 1
                elif member.met is False:
                    no += 1
                else:
                    unanswered += 1
    last = trial.rounds[-1] if trial.rounds else None
    return TrialFigures(
        participants=len(members),
        active=sum(not m.paused for m in members),
        paused=sum(m.paused for m in members),
        departments=len({attribute_key(m.person.department) for m in members}),
        rounds=len(trial.rounds),
        last_published=last.published_at if last else None,
        introductions=introductions,
        cross_department_share=crossing / introductions if introductions else None,
        mixed_people=len(mixed & {m.person_id for m in members}),
        met_yes=yes,
        met_no=no,
        met_unanswered=unanswered,
        last_repeats=last.metrics.get("repeats") if last else None,
        last_gap=last.metrics.get("gap") if last else None,
    )
