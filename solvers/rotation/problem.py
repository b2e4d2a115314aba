"""A café to plan and its plan: the problem (people, tables, rounds, hosts,
history) and the answer (every round's tables and their quality)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from solvers.model import (
    History,
    Participant,
    Weights,
    pair_key,
)


@dataclass(frozen=True)
class CafeProblem:
    """A café to plan.

    ``hosts`` maps a person's id to the table (1-based) they host in every
    round. ``fixed`` holds rounds already played, each a tuple of tables (table
    ``t`` at index ``t - 1``) of ids; people in them need not be in ``people``
    (they may have left). ``rounds`` counts all rounds, played ones included.
    """

    people: tuple[Participant, ...]
    tables: int
    rounds: int
    hosts: Mapping[str, int] = field(default_factory=dict)
    history: History = field(default_factory=History)
    avoid: frozenset[tuple[str, str]] = frozenset()
    weights: Weights = field(default_factory=Weights)
    fixed: tuple[tuple[tuple[str, ...], ...], ...] = ()

    def __post_init__(self) -> None:
        ids = {p.id for p in self.people}
        if len(ids) != len(self.people):
            raise ValueError("person ids must be unique")
        if self.tables < 1:
            raise ValueError("there must be at least one table")
        if len(self.people) < self.tables:
            raise ValueError(
                f"{len(self.people)} people cannot fill {self.tables} tables"
            )
        if self.rounds < len(self.fixed):
            raise ValueError(f"rounds ({self.rounds}) is fewer than the rounds played "
                             f"({len(self.fixed)})")
        seen: dict[int, str] = {}
        for person, table in self.hosts.items():
            if person not in ids:
                raise ValueError(f"host {person} is not among the people")
            if not 1 <= table <= self.tables:
                raise ValueError(f"{person} hosts table {table}, but tables are 1–{self.tables}")
            if table in seen:
                raise ValueError(f"table {table} has two hosts: {seen[table]} and {person}")
            seen[table] = person
        for played in self.fixed:
            if len(played) > self.tables:
                raise ValueError("a played round has more tables than the café")
        object.__setattr__(self, "avoid", frozenset(pair_key(a, b) for a, b in self.avoid))


@dataclass(frozen=True)
class CafeRound:
    """One round: ``tables[t - 1]`` lists who sits at table ``t``."""

    tables: tuple[tuple[str, ...], ...]
    repeats: int
    departments_min: int
    departments_mean: float
    score: int
    played: bool = False


@dataclass(frozen=True)
class CafePlan:
    """A whole café: its rounds and the quality report.

    ``repeats_bound`` is a lower bound on the repeats of any plan of the
    rounds still to play, so ``repeats == repeats_bound`` proves the plan has
    the fewest repeats possible.
    """

    rounds: tuple[CafeRound, ...]
    repeats: int
    repeats_bound: int
    departments_min: int
    departments_mean: float
    score: int
    seconds: float
    method: str
    #: Whether the time limit stopped the search before its step budget and
    #: before it converged: then, and only then, a busy machine may change the plan.
    cut_by_time: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "repeats": self.repeats,
            "repeats_bound": self.repeats_bound,
            "departments_min": self.departments_min,
            "departments_mean": round(self.departments_mean, 3),
            "score": self.score,
            "seconds": round(self.seconds, 3),
            "method": self.method,
            "cut_by_time": self.cut_by_time,
        }


def table_sizes(people: int, tables: int) -> list[int]:
    """Sizes of the tables: as equal as possible, the larger ones first.

    >>> table_sizes(10, 3)
    [4, 3, 3]
    """
    base, extra = divmod(people, tables)
    return [base + 1] * extra + [base] * (tables - extra)

