"""The evaluation of a coffee trial: what an organiser sends to their board
(docs/evaluation.md says what every figure means, and the report says it too).

For a trial and a period (all its rounds, or those published between two
dates, inclusive, in the trial's time zone), :func:`evaluate` gives:

- participation: the rounds, the people in them, the people introduced, and
  how many of those introduced answered (the response rate);
- the answers (:mod:`matcher.feedback`): the share who met, who had known their
  partner before, who would do it again, and the mean usefulness (1–5), each
  with the number of answers behind it (``None`` when nobody answered:
  shares are of those who answered, never of everyone);
- cross-department ties made: pairs of people from different departments who
  met for the first time (anywhere in matcher's record) in the period's rounds;
- the quotes people agreed to share, without names, and each round's figures;
- the network before and after: who had met whom among the period's people at
  its start and at its end, counting every programme (other trials and cafés
  too), with measures that say whether silos are breaking down.

Nothing here names a person: the evaluation carries counts, departments and
shared quotes only, so every export of it (:func:`evaluation_markdown`,
:func:`evaluation_csv`, the PDF and Word documents) is safe to send on.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

import rustworkx as rx
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.analytics import department_label
from matcher.errors import ServiceError
from matcher.exports import spreadsheet_safe
from matcher.files import attribute_key
from matcher.models import Feedback, GroupMember, Person, Round, Trial
from matcher.schedules import read_schedule

__all__ = [
    "METHOD",
    "DepartmentTie",
    "Evaluation",
    "EvaluationError",
    "Network",
    "Period",
    "RoundEvaluation",
    "Written",
    "evaluate",
    "evaluation_csv",
    "evaluation_markdown",
    "figure_rows",
    "mean_text",
    "network_rows",
    "percent",
    "read_period",
    "written_answers",
]

#: How the figures are computed, in the words every export prints.
METHOD = (
    "A pair met if they were in the same group in a round and neither of them "
    "said the meeting did not happen.",
    "People introduced are those placed in a group, round by round, counted as each "
    "round was published; the response rate is the share of them who answered.",
    "Shares and the mean are of those who answered that question, not of everyone; "
    "the number of answers is given with each. A dash means nobody answered it.",
    "A cross-department tie is a pair of people from different departments meeting "
    "for the first time anywhere in matcher's record (other trials and cafés count).",
    "The network is who had met whom among the period's participants, before its "
    "first round and after its last; every trial and café counts.",
    "Quotes are given only where their author agreed to share them, and never "
    "with a name. Someone who left still counts, but their answers are nobody's.",
)


class EvaluationError(ServiceError):
    """A period that cannot be evaluated."""


@dataclass(frozen=True)
class Period:
    """The days evaluated, inclusive, in the trial's time zone (``None``: open)."""

    start: date | None = None
    end: date | None = None

    def describe(self) -> str:
        if self.start is None and self.end is None:
            return "all rounds"
        if self.start is None:
            return f"rounds up to {self.end:%-d %B %Y}"
        if self.end is None:
            return f"rounds from {self.start:%-d %B %Y}"
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}"


def read_period(start: object, end: object) -> Period:
    """A period from a request's ``from`` and ``to`` (``YYYY-MM-DD``, either
    left out, ``None``, for open); 400 naming the field."""
    days = {}
    for name, value in (("from", start), ("to", end)):
        if value is None:
            days[name] = None
            continue
        try:
            days[name] = date.fromisoformat(value) if isinstance(value, str) and \
                len(value) == 10 else None
        except ValueError:
            days[name] = None
        if days[name] is None:
            raise EvaluationError(400, "invalid", f"{name} must be a date (YYYY-MM-DD)", name)
    if days["from"] and days["to"] and days["from"] > days["to"]:
        raise EvaluationError(400, "invalid", "from must not be after to", "from")
    return Period(days["from"], days["to"])


@dataclass(frozen=True)
class RoundEvaluation:
    """One round of the period: its groups, the people introduced in them, the
    answers, the share of those answering who met, and the new ties."""

    round: int
    published_at: datetime
    groups: int
    introduced: int
    responses: int
    met_share: float | None
    useful_mean: float | None
    new_ties: int


@dataclass(frozen=True)
class DepartmentTie:
    """Two departments (labels) and how many pairs of their people have met."""

    one: str
    other: str
    ties: int


@dataclass(frozen=True)
class Network:
    """Who had met whom among the period's participants at one moment.

    ``met_outside`` of ``people`` have met someone of another department;
    ``department_pairs_connected`` of ``department_pairs`` pairs of departments
    have a tie between them; ``largest_connected`` people are in the largest
    group all reachable from one another through people who have met."""

    people: int
    ties: int
    cross_department_ties: int
    met_outside: int
    departments: tuple[tuple[str, int], ...]
    department_pairs: int
    department_pairs_connected: int
    largest_connected: int
    links: tuple[DepartmentTie, ...]

    @property
    def met_outside_share(self) -> float | None:
        return self.met_outside / self.people if self.people else None

    @property
    def department_pairs_share(self) -> float | None:
        return (self.department_pairs_connected / self.department_pairs
                if self.department_pairs else None)

    @property
    def largest_connected_share(self) -> float | None:
        return self.largest_connected / self.people if self.people else None

    def as_dict(self) -> dict[str, object]:
        return {
            "people": self.people, "ties": self.ties,
            "cross_department_ties": self.cross_department_ties,
            "met_outside": self.met_outside, "met_outside_share": _rounded(self.met_outside_share),
            "departments": len(self.departments),
            "department_pairs": self.department_pairs,
            "department_pairs_connected": self.department_pairs_connected,
            "department_pairs_share": _rounded(self.department_pairs_share),
            "largest_connected": self.largest_connected,
            "largest_connected_share": _rounded(self.largest_connected_share),
            "links": [{"departments": [t.one, t.other], "ties": t.ties} for t in self.links],
        }


@dataclass(frozen=True)
class Answered:
    """A share or mean and the number of answers behind it."""

    value: float | None
    answers: int


@dataclass(frozen=True)
class Evaluation:
    """A trial's evaluation over a period (see the module's docstring)."""

    trial_id: int
    name: str
    period: Period
    rounds: int
    participants: int
    introduced: int
    responses: int
    met: Answered
    knew_before: Answered
    useful: Answered
    again: Answered
    useful_counts: tuple[int, ...]
    cross_department_ties: int
    quotes: tuple[str, ...]
    per_round: tuple[RoundEvaluation, ...]
    before: Network
    after: Network
    first_round_at: datetime | None = None
    last_round_at: datetime | None = None
    method: tuple[str, ...] = field(default=METHOD)

    @property
    def response_rate(self) -> float | None:
        return min(1.0, self.responses / self.introduced) if self.introduced else None

    @property
    def departments_connected(self) -> int:
        """Pairs of departments whose people have now met (the network after)."""
        return self.after.department_pairs_connected

    def headline(self) -> list[tuple[str, str]]:
        """The figures a dashboard shows, as (figure, what it counts)."""
        return [
            (str(self.participants), "participants"),
            (percent(self.response_rate), f"answered ({self.responses} of {self.introduced})"),
            (percent(self.met.value), f"met ({self.met.answers} answers)"),
            (percent(None if self.knew_before.value is None else 1 - self.knew_before.value),
             f"had not known their partner ({self.knew_before.answers} answers)"),
            (mean_text(self.useful.value), f"out of 5 useful ({self.useful.answers} answers)"),
            (percent(self.again.value), f"would do it again ({self.again.answers} answers)"),
            (str(self.cross_department_ties), "new cross-department ties"),
        ]

    def as_dict(self) -> dict[str, object]:
        """The evaluation as the API answers it (docs/api.md, "Evaluation")."""
        return {
            "trial": self.trial_id,
            "name": self.name,
            "period": {"from": _day(self.period.start), "to": _day(self.period.end)},
            "rounds": self.rounds,
            "participants": self.participants,
            "introduced": self.introduced,
            "responses": self.responses,
            "response_rate": _rounded(self.response_rate),
            "met_share": _rounded(self.met.value),
            "knew_before_share": _rounded(self.knew_before.value),
            "useful_mean": _rounded(self.useful.value),
            "again_share": _rounded(self.again.value),
            "answers": {"met": self.met.answers, "knew_before": self.knew_before.answers,
                        "useful": self.useful.answers, "again": self.again.answers},
            "useful_counts": list(self.useful_counts),
            "cross_department_ties": self.cross_department_ties,
            "departments_connected": self.departments_connected,
            "quotes": list(self.quotes),
            "per_round": [{"round": r.round, "published_at": r.published_at.isoformat(),
                           "groups": r.groups, "introduced": r.introduced,
                           "responses": r.responses, "met_share": _rounded(r.met_share),
                           "useful_mean": _rounded(r.useful_mean), "new_ties": r.new_ties}
                          for r in self.per_round],
            "network": {"before": self.before.as_dict(), "after": self.after.as_dict()},
            "method": list(self.method),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def percent(share: float | None) -> str:
    """A share as a whole percentage (``–`` for none)."""
    return "–" if share is None else f"{100 * share:.0f}%"


def mean_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _share(values: list[bool]) -> Answered:
    return Answered(sum(values) / len(values) if values else None, len(values))


def _mean(values: list[int]) -> Answered:
    return Answered(sum(values) / len(values) if values else None, len(values))


def _bounds(trial: Trial, period: Period) -> tuple[datetime | None, datetime | None]:
    """The period as UTC moments [start, end) from the trial's time zone."""
    zone = read_schedule(trial.schedule).zone if trial.schedule else ZoneInfo("UTC")

    def moment(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)

    return (moment(period.start) if period.start else None,
            moment(period.end + timedelta(days=1)) if period.end else None)


@dataclass
class _Record:
    """The who-met-whom record as it grows round by round."""

    met: set[tuple[int, int]] = field(default_factory=set)

    def add(self, group: list[int]) -> list[tuple[int, int]]:
        """Add one group's meetings; the pairs meeting for the first time."""
        new = []
        for pair in combinations(sorted(group), 2):
            if pair not in self.met:
                self.met.add(pair)
                new.append(pair)
        return new


def _network(people: dict[int, str], labels: dict[str, str],
             met: set[tuple[int, int]]) -> Network:
    """The network among ``people`` (person id → department key) given the pairs
    that have ``met`` (anyone's; only pairs within ``people`` count)."""
    ids = sorted(people)
    index = {pid: k for k, pid in enumerate(ids)}
    graph = rx.PyGraph(multigraph=False)
    graph.add_nodes_from(ids)
    ties = crossing = 0
    outside: set[int] = set()
    between: Counter[tuple[str, str]] = Counter()
    for a, b in met:
        if a not in index or b not in index:
            continue
        ties += 1
        graph.add_edge(index[a], index[b], None)
        if people[a] != people[b]:
            crossing += 1
            outside.update((a, b))
            between[tuple(sorted((people[a], people[b])))] += 1
    sizes = Counter(people.values())
    departments = tuple(sorted(((labels[k], n) for k, n in sizes.items()),
                               key=lambda item: (-item[1], item[0].casefold())))
    largest = max((len(c) for c in rx.connected_components(graph)), default=0)
    links = tuple(sorted((DepartmentTie(labels[a], labels[b], n) for (a, b), n in between.items()),
                         key=lambda t: (-t.ties, t.one.casefold(), t.other.casefold())))
    count = len(sizes)
    return Network(people=len(ids), ties=ties, cross_department_ties=crossing,
                   met_outside=len(outside), departments=departments,
                   department_pairs=count * (count - 1) // 2,
                   department_pairs_connected=len(between), largest_connected=largest,
                   links=links)


def evaluate(session: Session, trial: Trial, period: Period = Period()) -> Evaluation:
    """The evaluation of ``trial`` over ``period`` (see the module's docstring)."""
    start, end = _bounds(trial, period)
    query = select(Round).order_by(Round.published_at, Round.id)
    if end is not None:
        query = query.where(Round.published_at < end)
    every = session.scalars(query).all()  # every programme's rounds up to the end
    members = defaultdict(list)
    round_ids = [r.id for r in every]
    for row in session.execute(
            select(GroupMember.round_id, GroupMember.group_id, GroupMember.person_id,
                   GroupMember.met, Person.department)
            .join(Person, Person.id == GroupMember.person_id)
            .where(GroupMember.round_id.in_(round_ids))):
        members[row.round_id].append(row)
    evaluated = [r for r in every if r.trial_id == trial.id
                 and (start is None or r.published_at >= start)]
    evaluated_ids = {r.id for r in evaluated}
    answers = defaultdict(list)
    for answer in session.scalars(select(Feedback).where(
            Feedback.trial_id == trial.id, Feedback.round_id.in_(evaluated_ids))
            .order_by(Feedback.answered_at, Feedback.id)):
        answers[answer.round_id].append(answer)

    # The period's people: everyone in its rounds (in a group or sitting out).
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    people: dict[int, str] = {}
    for stored in evaluated:
        for row in members[stored.id]:
            key = attribute_key(row.department)
            people[row.person_id] = key
            spellings[key][" ".join(row.department.split())] += 1
    labels = {k: department_label(c) for k, c in spellings.items()}
    department_of = {row.person_id: attribute_key(row.department)
                     for rows in members.values() for row in rows}

    record = _Record()
    before: Network | None = None
    per_round = []
    new_ties = 0
    for stored in every:
        if stored.id in evaluated_ids and before is None:
            before = _network(people, labels, set(record.met))
        groups: dict[int, list[int]] = defaultdict(list)
        for row in members[stored.id]:
            if row.group_id is not None and row.met is not False:
                groups[row.group_id].append(row.person_id)
        fresh = [pair for group in groups.values() for pair in record.add(group)]
        if stored.id not in evaluated_ids:
            continue
        crossing = sum(department_of[a] != department_of[b] for a, b in fresh)
        new_ties += crossing
        mine = answers[stored.id]
        placed = sum(row.group_id is not None for row in members[stored.id])
        metrics = stored.metrics or {}
        if isinstance(metrics.get("people"), int) and isinstance(metrics.get("sitting_out"), int):
            placed = metrics["people"] - metrics["sitting_out"]  # as published
        per_round.append(RoundEvaluation(
            round=stored.number, published_at=stored.published_at,
            groups=len({row.group_id for row in members[stored.id]
                        if row.group_id is not None}) or int(metrics.get("groups", 0) or 0),
            introduced=placed, responses=len(mine),
            met_share=_share([a.met for a in mine]).value,
            useful_mean=_mean([a.useful for a in mine if a.useful is not None]).value,
            new_ties=crossing))
    after = _network(people, labels, record.met)
    if before is None:
        before = after

    every_answer = [a for stored in evaluated for a in answers[stored.id]]
    useful = [a.useful for a in every_answer if a.useful is not None]
    return Evaluation(
        trial_id=trial.id, name=trial.name, period=period, rounds=len(evaluated),
        participants=len(people), introduced=sum(r.introduced for r in per_round),
        responses=len(every_answer),
        met=_share([a.met for a in every_answer]),
        knew_before=_share([a.knew_before for a in every_answer if a.knew_before is not None]),
        useful=_mean(useful),
        again=_share([a.again for a in every_answer if a.again is not None]),
        useful_counts=tuple(useful.count(k) for k in range(1, 6)),
        cross_department_ties=new_ties,
        quotes=tuple(a.learnt for a in every_answer if a.share and a.learnt),
        per_round=tuple(per_round), before=before, after=after,
        first_round_at=evaluated[0].published_at if evaluated else None,
        last_round_at=evaluated[-1].published_at if evaluated else None,
    )


# -- exports -------------------------------------------------------------------------------

def _figures(e: Evaluation) -> list[tuple[str, str, str, object]]:
    """(measure, label, value as text, answers behind it) for every headline figure."""
    return [
        ("rounds", "Rounds", str(e.rounds), ""),
        ("participants", "Participants", str(e.participants), ""),
        ("introduced", "People introduced (placed in a group, round by round)",
         str(e.introduced), ""),
        ("responses", "Answers", str(e.responses), ""),
        ("response_rate", "Response rate", percent(e.response_rate), e.introduced),
        ("met_share", "Met their match", percent(e.met.value), e.met.answers),
        ("knew_before_share", "Had known their match before", percent(e.knew_before.value),
         e.knew_before.answers),
        ("useful_mean", "How useful (mean, 1–5)", mean_text(e.useful.value), e.useful.answers),
        ("again_share", "Would do it again", percent(e.again.value), e.again.answers),
        ("cross_department_ties", "New cross-department ties", str(e.cross_department_ties), ""),
        ("departments_connected", "Pairs of departments that have met",
         f"{e.departments_connected} of {e.after.department_pairs}", ""),
    ]


def _network_rows(e: Evaluation) -> list[tuple[str, str, str, str]]:
    """(measure, label, before, after) for the network measures."""
    b, a = e.before, e.after
    return [
        ("people", "People", str(b.people), str(a.people)),
        ("ties", "Pairs who have met", str(b.ties), str(a.ties)),
        ("cross_department_ties", "…of them from different departments",
         str(b.cross_department_ties), str(a.cross_department_ties)),
        ("met_outside_share", "Have met someone outside their department",
         f"{b.met_outside} ({percent(b.met_outside_share)})",
         f"{a.met_outside} ({percent(a.met_outside_share)})"),
        ("department_pairs_share", "Pairs of departments connected",
         f"{b.department_pairs_connected} of {b.department_pairs} "
         f"({percent(b.department_pairs_share)})",
         f"{a.department_pairs_connected} of {a.department_pairs} "
         f"({percent(a.department_pairs_share)})"),
        ("largest_connected_share", "In the largest connected group",
         f"{b.largest_connected} ({percent(b.largest_connected_share)})",
         f"{a.largest_connected} ({percent(a.largest_connected_share)})"),
    ]


def network_rows(e: Evaluation) -> list[tuple[str, str, str]]:
    """The network measures as (label, before, after), for pages and documents."""
    return [(label, b, a) for _, label, b, a in _network_rows(e)]


def figure_rows(e: Evaluation) -> list[tuple[str, str, object]]:
    """The headline figures as (label, value, answers), for pages and documents."""
    return [(label, value, answers) for _, label, value, answers in _figures(e)]


def _md(text: str) -> str:
    """Text safe inside Markdown (no markup of its own, one paragraph)."""
    out = []
    for ch in " ".join(text.split()):
        out.append("\\" + ch if ch in "\\`*_[]|<>" else ch)
    return "".join(out)


def evaluation_markdown(e: Evaluation) -> str:
    """The report as Markdown: title, period, figures, per round, network, quotes, method."""
    lines = [f"# Evaluation: {_md(e.name)}", "",
             f"Period: {_md(e.period.describe())} ({e.rounds} round"
             f"{'s' if e.rounds != 1 else ''}).", "",
             "## Figures", "", "| Measure | Value | Answers |", "|---|---|---|"]
    lines += [f"| {_md(label)} | {value} | {answers} |" for label, value, answers
              in figure_rows(e)]
    lines += ["", "## Per round", "",
              "| Round | Published | Groups | Introduced | Answers | Met | Useful | New ties |",
              "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r.round} | {r.published_at:%Y-%m-%d} | {r.groups} | {r.introduced} | "
              f"{r.responses} | {percent(r.met_share)} | {mean_text(r.useful_mean)} | "
              f"{r.new_ties} |" for r in e.per_round]
    lines += ["", "## The network before and after", "", "| Measure | Before | After |",
              "|---|---|---|"]
    lines += [f"| {_md(label)} | {b} | {a} |" for label, b, a in network_rows(e)]
    lines += ["", "## What people learnt", ""]
    lines += [f"> {_md(quote)}\n" for quote in e.quotes] or ["No quotes shared yet.", ""]
    lines += ["## How the figures were computed", ""]
    lines += [f"- {_md(sentence)}" for sentence in e.method]
    return "\n".join(lines) + "\n"


def evaluation_csv(e: Evaluation) -> str:
    """The figures as CSV: ``section,round,measure,value,answers`` (``value`` a
    number: shares as fractions, empty for none), then the quotes and how the
    figures were computed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "round", "measure", "value", "answers"])
    data = e.as_dict()

    def number(value: object) -> object:
        return "" if value is None else value

    for measure in ("rounds", "participants", "introduced", "responses"):
        writer.writerow(["figures", "", measure, data[measure], ""])
    writer.writerow(["figures", "", "response_rate", number(data["response_rate"]),
                     e.introduced])
    for measure, answers in (("met_share", e.met.answers),
                             ("knew_before_share", e.knew_before.answers),
                             ("useful_mean", e.useful.answers),
                             ("again_share", e.again.answers)):
        writer.writerow(["figures", "", measure, number(data[measure]), answers])
    for score, count in enumerate(e.useful_counts, start=1):
        writer.writerow(["figures", "", f"useful_{score}", count, ""])
    writer.writerow(["figures", "", "cross_department_ties", e.cross_department_ties, ""])
    writer.writerow(["figures", "", "departments_connected", e.departments_connected,
                     e.after.department_pairs])
    for r in data["per_round"]:
        for measure in ("groups", "introduced", "responses", "met_share", "useful_mean",
                        "new_ties"):
            writer.writerow(["per_round", r["round"], measure, number(r[measure]), ""])
    for moment in ("before", "after"):
        for measure, value in data["network"][moment].items():
            if measure != "links":
                writer.writerow([f"network_{moment}", "", measure, number(value), ""])
    for quote in e.quotes:
        writer.writerow(["quotes", "", "quote", spreadsheet_safe(" ".join(quote.split())), ""])
    for sentence in e.method:
        writer.writerow(["method", "", "method", sentence, ""])
    return out.getvalue()


@dataclass(frozen=True)
class Written:
    """Something a participant wrote (``share``: they agreed to be quoted); no name."""

    round: int
    text: str
    share: bool


def written_answers(session: Session, trial: Trial, period: Period = Period()
                    ) -> list[Written]:
    """Everything written in the period's feedback, shared or not, for the
    organiser's own page only (never an export), oldest round first."""
    start, end = _bounds(trial, period)
    query = (select(Round.number, Feedback.learnt, Feedback.share)
             .join(Round, Round.id == Feedback.round_id)
             .where(Feedback.trial_id == trial.id, Feedback.learnt != "")
             .order_by(Round.number, Feedback.answered_at, Feedback.id))
    if start is not None:
        query = query.where(Round.published_at >= start)
    if end is not None:
        query = query.where(Round.published_at < end)
    return [Written(number, learnt, share) for number, learnt, share in session.execute(query)]
