"""Rounds of a coffee trial: pairs (or larger groups) that meet new people.

One round of pairs is a maximum-weight perfect matching on the graph of
people who may meet, weighted by the objective of docs/matching.md (see
:mod:`solvers.scoring`). Up to a few thousand people the matching is solved
exactly (Edmonds' blossom algorithm, rustworkx's implementation) on a sparse
graph of each person's best candidates, and the result is checked against the
assignment bound of :mod:`solvers.bounds` and, where a point is left, its dual
prices; if the sparse answer cannot be certified and the graph is small, the
full graph is solved. Above that size a vectorised local search (2-opt swaps
between groups, in numpy) starts from a department-interleaved pairing and
stops at the bound or when it stalls. Groups of three or more use the same
local search, certified by the set-partitioning bound (column generation).

Odd numbers follow ``problem.odd``: ``triad`` adds the leftover person to the
pair that gains most, ``sitout`` leaves out someone who has sat out least often.
Several rounds are planned one after another, each treating the earlier ones as
history; for pairs a round-robin schedule (the circle method) is also tried, so
N people (N even) get N−1 rounds with no repeated pair.

The package, by method: :mod:`~solvers.pairing.exact` (pairs, blossom),
:mod:`~solvers.pairing.groups` (CP-SAT and the search for groups),
:mod:`~solvers.pairing.local_search`, :mod:`~solvers.pairing.schedules`
(round robin), :mod:`~solvers.pairing.report` (metrics, bounds, diagnoses),
with :mod:`~solvers.pairing.common` and :mod:`~solvers.pairing.limits` under
them. Names with a leading underscore are private to the package.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from solvers.model import PastRound, Problem, RoundPlan
from solvers.pairing.common import _with_history
from solvers.pairing.exact import _exact_pairs
from solvers.pairing.groups import _exact_groups, _search_groups
from solvers.pairing.limits import CP_SAT_LIMIT, EXACT_LIMIT
from solvers.pairing.report import _diagnose, _report
from solvers.pairing.schedules import _rotation, _round_robin
from solvers.scoring import Scorer

__all__ = ["EXACT_LIMIT", "make_round", "plan_rounds"]


def plan_rounds(
    problem: Problem,
    rounds: int = 1,
    *,
    seed: int | None = None,
    time_limit: float = 30.0,
    progress: Callable[[str], None] | None = None,
) -> list[RoundPlan]:
    """Plan ``rounds`` consecutive rounds; each treats the earlier ones as history.

    Parameters
    ----------
    problem : Problem
        People, history, avoid list, weights, group size and odd policy.
    rounds : int
        How many rounds to plan.
    seed : int, optional
        Makes ties (and so the whole plan) reproducible.
    time_limit : float
        Seconds for all rounds together; the local search stops early when it
        reaches its bound or stalls.
    progress : callable, optional
        Called with a short line of text as each round is done.

    Returns
    -------
    list of Round
        One per round, in order: its groups (each a tuple of people's ids),
        who sits out, and its :class:`~solvers.model.RoundMetrics` (repeats
        and their lower bound, the mixing score and its upper bound, the gap).

    Raises
    ------
    Infeasible
        If the hard rules make a round impossible.

    Notes
    -----
    Each round of pairs is a maximum-weight perfect matching: Edmonds' blossom
    algorithm [1]_ (rustworkx), O(n³) time, on a sparse graph of each
    person's best candidates, certified against the assignment bound of
    :mod:`solvers.bounds`; groups of three or more use CP-SAT [2]_ for small
    rounds and a local search otherwise, bounded by the linear relaxation of
    set partitioning over types of people, solved by column generation. For
    pairs over several rounds a round-robin schedule (the circle method [3]_) is tried as well, so N
    people (N even) get N−1 rounds without a repeated pair.

    References
    ----------
    .. [1] J. Edmonds, "Paths, trees, and flowers", Canadian Journal of
       Mathematics 17 (1965) 449–467.
    .. [2] L. Perron and F. Didier, "CP-SAT", Google OR-Tools (2024).
    .. [3] E. Lucas, *Récréations mathématiques* II (1883): the round-robin
       tournament by rotation.

    Examples
    --------
    Six people, five rounds, nobody meets anyone twice:

    >>> from solvers.model import Participant, Problem
    >>> people = tuple(Participant(f"p{k}", department)
    ...                for k, department in enumerate("AABCDE"))
    >>> planned = plan_rounds(Problem(people), 5, seed=1)
    >>> [r.metrics.repeats for r in planned]
    [0, 0, 0, 0, 0]
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    planned = _sequential(problem, rounds, rng, start, time_limit, progress)
    if rounds > 1 and _total(planned)[0] > 0:
        # Round by round can paint itself into a corner; a schedule made whole
        # (round-robin pairs; groups as a café's rotation) often does not.
        if problem.group_size == 2:
            alternative = _round_robin(problem, rounds, rng)
        else:
            left = max(1.0, time_limit - (time.perf_counter() - start))
            alternative = _rotation(problem, rounds, rng, left)
        if alternative is not None and _total(alternative)[:2] < _total(planned)[:2]:
            planned = alternative
    return planned


def make_round(problem: Problem, *, seed: int | None = None, time_limit: float = 30.0) -> RoundPlan:
    """Make one round for ``problem`` (see :func:`plan_rounds`).

    Returns
    -------
    Round
        The groups, who sits out, and the round's metrics.

    Examples
    --------
    Two nurses are never paired while there is someone else to meet, and the
    round is proven optimal (a gap of 0 to the bound):

    >>> from solvers.model import Participant, Problem
    >>> people = (Participant("ann", "Nursing"), Participant("bo", "Nursing"),
    ...           Participant("cy", "Pharmacy"), Participant("di", "Estates"))
    >>> one = make_round(Problem(people), seed=1)
    >>> one.metrics.cross_department_share, one.metrics.gap, one.metrics.method
    (1.0, 0.0, 'exact')

    An odd number makes a triad (``odd="triad"``, the default):

    >>> five = make_round(Problem(people + (Participant("ed", "IT"),)), seed=1)
    >>> sorted(len(group) for group in five.groups), five.sitting_out
    ([2, 3], ())
    """
    return _make_round(problem, np.random.default_rng(seed), time.perf_counter() + time_limit)


def _sequential(problem, rounds, rng, start, time_limit, progress) -> list[RoundPlan]:
    planned: list[RoundPlan] = []
    history = problem.history
    for k in range(rounds):
        remaining = time_limit - (time.perf_counter() - start)
        deadline = time.perf_counter() + max(0.05, remaining / (rounds - k))
        current = _with_history(problem, history)
        result = _make_round(current, rng, deadline)
        planned.append(result)
        history = history.then(PastRound(result.groups, result.sitting_out))
        if progress is not None:
            m = result.metrics
            progress(f"round {k + 1}/{rounds}: {m.repeats} repeats, gap {m.gap:.2%}")
    return planned


def _total(planned: Sequence[RoundPlan]) -> tuple[int, int, int]:
    """(repeats, -0, -score) summed over a plan, smaller is better."""
    return (
        sum(r.metrics.repeats for r in planned),
        0,
        -sum(r.metrics.score for r in planned),
    )


def _make_round(problem: Problem, rng: np.random.Generator, deadline: float) -> RoundPlan:
    started = time.perf_counter()
    n = len(problem.people)
    if (problem.group_size > 2 or (n % 2 and problem.odd == "triad")) and 1 < n <= CP_SAT_LIMIT:
        # Small rounds of larger groups, or pairs and one triad: exactly, by CP-SAT.
        scorer = Scorer(problem, pairs_per_change=n * problem.group_size)
        groups, sitting, method, proven = _exact_groups(problem, scorer, rng, deadline)
    elif problem.group_size == 2 and n <= EXACT_LIMIT:
        scorer = Scorer(problem, pairs_per_change=max(n, 1))
        groups, sitting, method, proven = _exact_pairs(problem, scorer, rng)
    else:
        size = problem.group_size
        scorer = Scorer(problem, pairs_per_change=4 * size * size)
        groups, sitting, method, proven = _search_groups(problem, scorer, rng, deadline)
    result = _report(problem, scorer, groups, sitting, method, started, proven)
    if result is None:  # a hard rule is broken: say which and who
        raise _diagnose(problem, scorer, groups)
    return result

