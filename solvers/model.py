"""The solvers' vocabulary: people, history, weights, problems and plans.

Everything here is plain, immutable data. The objective (docs/matching.md) is strictly
lexicographic:

1. hard rules (compatible modes, avoid list, everyone placed once),
2. as few repeats as possible, a recent repeat worse than an old one,
3. as much mixing as possible (weighted differing attributes per pair),
4. random among equals, reproducible with ``seed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "ATTRIBUTES",
    "FORBIDDEN",
    "MODES",
    "ODD_POLICIES",
    "History",
    "Infeasible",
    "PastRound",
    "Participant",
    "Problem",
    "RoundPlan",
    "RoundMetrics",
    "Weights",
    "compatible",
    "mixing_score",
    "pair_key",
]

#: Mixing attributes, in the order weights are written.
ATTRIBUTES = ("department", "organisation", "site", "role")
#: Meeting modes a person may accept.
MODES = ("in-person", "virtual", "either")
#: Weight of a pair that breaks a hard rule (incompatible modes, avoid list, self).
FORBIDDEN = -(2**52)
#: What happens to the people left over when the group size does not divide them.
ODD_POLICIES = ("triad", "sitout")


class Infeasible(Exception):
    """The hard rules make a round impossible.

    ``rule`` names the rule (``"mode"``, ``"avoid"``, ``"size"``) and ``people``
    lists the ids concerned, so the caller can say which rule and who.
    """

    def __init__(self, rule: str, people: Sequence[str], message: str):
        super().__init__(message)
        self.rule = rule
        self.people = tuple(people)


@dataclass(frozen=True)
class Participant:
    """One participant, as the solvers see them: an id and mixing attributes.

    An empty attribute means "unknown": it never scores as different.
    """

    id: str
    department: str
    organisation: str = ""
    site: str = ""
    role: str = ""
    mode: str = "either"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")

    @property
    def accepts_virtual(self) -> bool:
        return self.mode != "in-person"

    @property
    def accepts_in_person(self) -> bool:
        return self.mode != "virtual"


@dataclass(frozen=True)
class Weights:
    """Points a pair scores for each mixing attribute on which they differ."""

    department: int = 4
    organisation: int = 2
    site: int = 1
    role: int = 1

    def __post_init__(self) -> None:
        for name in ATTRIBUTES:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"weight {name} must be a whole number ≥ 0, not {value!r}")

    @classmethod
    def parse(cls, text: str) -> Weights:
        """Read ``department=4,site=1`` (unnamed attributes keep their default).

        >>> Weights.parse("department=5,role=0")
        Weights(department=5, organisation=2, site=1, role=0)
        """
        values: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, raw = item.partition("=")
            name = name.strip().lower()
            if not sep or name not in ATTRIBUTES:
                raise ValueError(
                    f"{item!r} is not NAME=NUMBER with NAME one of {', '.join(ATTRIBUTES)}"
                )
            if name in values:
                raise ValueError(f"weight {name} is given twice")
            try:
                values[name] = int(raw.strip())
            except ValueError:
                raise ValueError(
                    f"weight {name} must be a whole number ≥ 0, not {raw.strip()!r}"
                ) from None
        return cls(**values)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.department, self.organisation, self.site, self.role)

    @property
    def max_pair(self) -> int:
        """The most points one pair can score."""
        return sum(self.as_tuple())


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The order-free key of a pair of ids."""
    return (a, b) if a <= b else (b, a)


def compatible(a: Participant, b: Participant) -> bool:
    """Whether two people can meet: both online, or both in person at one site.

    >>> compatible(Participant("a", "x", mode="virtual"), Participant("b", "y", site="Leeds"))
    True
    >>> compatible(Participant("a", "x", mode="in-person", site="York"),
    ...            Participant("b", "y", mode="either", site="Leeds"))
    False
    """
    if a.accepts_virtual and b.accepts_virtual:
        return True
    return a.accepts_in_person and b.accepts_in_person and a.site == b.site


def mixing_score(a: Participant, b: Participant, weights: Weights) -> int:
    """Points for putting ``a`` and ``b`` together: weights of the attributes where they differ."""
    total = 0
    for name, weight in zip(ATTRIBUTES, weights.as_tuple(), strict=True):
        x, y = getattr(a, name), getattr(b, name)
        if x and y and x != y:
            total += weight
    return total


@dataclass(frozen=True)
class PastRound:
    """A round that took place: the groups that met, and who sat out."""

    groups: tuple[tuple[str, ...], ...]
    sitting_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class History:
    """Who met whom, and who sat out how often.

    ``last_met[pair_key(a, b)]`` is how many rounds ago ``a`` and ``b`` last met
    (1 = the latest round), so a smaller number is a more recent meeting.
    """

    last_met: Mapping[tuple[str, str], int] = field(default_factory=dict)
    sat_out: Mapping[str, int] = field(default_factory=dict)
    rounds: int = 0

    @classmethod
    def from_rounds(cls, rounds: Iterable[PastRound]) -> History:
        """Build the history from past rounds, oldest first."""
        rounds = list(rounds)
        last_met: dict[tuple[str, str], int] = {}
        sat_out: dict[str, int] = {}
        for index, past in enumerate(rounds):
            age = len(rounds) - index
            for group in past.groups:
                members = sorted(set(group))
                for i, a in enumerate(members):
                    for b in members[i + 1 :]:
                        last_met[(a, b)] = age
            for person in past.sitting_out:
                sat_out[person] = sat_out.get(person, 0) + 1
        return cls(last_met, sat_out, len(rounds))

    def then(self, past: PastRound) -> History:
        """This history followed by one more round (used to plan several rounds)."""
        last_met = {pair: age + 1 for pair, age in self.last_met.items()}
        for group in past.groups:
            members = sorted(set(group))
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    last_met[(a, b)] = 1
        sat_out = dict(self.sat_out)
        for person in past.sitting_out:
            sat_out[person] = sat_out.get(person, 0) + 1
        return History(last_met, sat_out, self.rounds + 1)


@dataclass(frozen=True)
class Problem:
    """One round to make: who takes part, what they did before, and the rules."""

    people: tuple[Participant, ...]
    history: History = field(default_factory=History)
    avoid: frozenset[tuple[str, str]] = frozenset()
    weights: Weights = field(default_factory=Weights)
    group_size: int = 2
    odd: str = "triad"

    def __post_init__(self) -> None:
        if self.group_size < 2:
            raise ValueError("group_size must be at least 2")
        if self.odd not in ODD_POLICIES:
            raise ValueError(f"odd must be one of {', '.join(ODD_POLICIES)}")
        ids = [p.id for p in self.people]
        if len(set(ids)) != len(ids):
            raise ValueError("person ids must be unique")
        object.__setattr__(self, "avoid", frozenset(pair_key(a, b) for a, b in self.avoid))


@dataclass(frozen=True)
class RoundMetrics:
    """The quality report of one round.

    ``score`` is the mixing points of the round and ``bound`` an upper bound on
    the mixing points of any round with no more repeats (so ``gap`` is a
    certified distance to the optimum, not a guess). ``repeats_bound`` is a lower
    bound on the repeats any valid round must have.
    """

    people: int
    groups: int
    sitting_out: int
    repeats: int
    repeats_bound: int
    cross_department_share: float
    score: int
    bound: int
    gap: float
    seconds: float
    method: str

    def as_dict(self) -> dict[str, object]:
        return {
            "people": self.people,
            "groups": self.groups,
            "sitting_out": self.sitting_out,
            "repeats": self.repeats,
            "repeats_bound": self.repeats_bound,
            "cross_department_share": round(self.cross_department_share, 4),
            "score": self.score,
            "bound": self.bound,
            "gap": round(self.gap, 6),
            "seconds": round(self.seconds, 3),
            "method": self.method,
        }


@dataclass(frozen=True)
class RoundPlan:
    """A planned round: groups of ids (each with its mixing points) and who sits out."""

    groups: tuple[tuple[str, ...], ...]
    group_scores: tuple[int, ...]
    sitting_out: tuple[str, ...]
    metrics: RoundMetrics
