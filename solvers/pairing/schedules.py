"""Schedules of several rounds made at once rather than round by round:
round-robin pairs (the circle method: N people, N even, in N−1 rounds with no
repeated pair), and groups of three or more from the café rotation engine
(:mod:`solvers.rotation`: resolvable designs by construction where the numbers
allow, its tabu search otherwise), e.g. 64 people in groups of 4 for 21 rounds
with nobody meeting twice."""

from __future__ import annotations

import time

import numpy as np

from solvers.model import Infeasible, PastRound, Problem, RoundPlan
from solvers.pairing.common import _attach, _with_history
from solvers.pairing.report import _report
from solvers.scoring import Scorer


def _round_robin(problem: Problem, rounds: int, rng: np.random.Generator) -> list[RoundPlan] | None:
    """The circle method: n (even) people, n−1 rounds, every pair exactly once.

    With an odd number a placeholder takes the extra seat: its partner sits out
    (``sitout``) or joins the best pair (``triad``). Returns ``None`` if the
    schedule breaks a hard rule or the sit-out rule.
    """
    people = list(problem.people)
    n = len(people)
    slots = n + (n % 2)
    if rounds > slots - 1 or n < 2:
        return None
    order = [people[i] for i in rng.permutation(n)]
    history = problem.history
    planned: list[RoundPlan] = []
    for r in range(rounds):
        started = time.perf_counter()
        seats = [slots - 1] + [(r + k) % (slots - 1) for k in range(slots - 1)]
        pairs = [(seats[k], seats[slots - 1 - k]) for k in range(slots // 2)]
        current = _with_history(problem, history)
        scorer = Scorer(current, pairs_per_change=n)
        index = {p.id: i for i, p in enumerate(current.people)}
        groups: list[list[int]] = []
        sitting: list[int] = []
        for a, b in pairs:
            if a >= n or b >= n:
                sitting.append(index[order[min(a, b)].id])
            else:
                groups.append([index[order[a].id], index[order[b].id]])
        if sitting and problem.odd == "sitout":
            counts = current.history.sat_out
            least = min(counts.get(p.id, 0) for p in current.people)
            if counts.get(current.people[sitting[0]].id, 0) != least:
                return None
        if sitting and problem.odd == "triad":
            try:
                groups = _attach(scorer, groups, sitting[0])
            except Infeasible:
                return None
            sitting = []
        result = _report(current, scorer, groups, sitting, "round-robin", started, None)
        if result is None:
            return None
        planned.append(result)
        history = history.then(PastRound(result.groups, result.sitting_out))
    return planned



#: The rotation engine's search budget here: its constructions need none, and
#: where repeats cannot be avoided its search would otherwise run to its patience
#: for an alternative that rarely beats the rounds already made.
ROTATION_STEPS = 100_000


def _rotation(problem: Problem, rounds: int, rng: np.random.Generator, time_limit: float,
              steps: int | None = ROTATION_STEPS) -> list[RoundPlan] | None:
    """Rounds of groups of ``group_size`` planned together as a café's tables
    (every group the same size: N a multiple of the group size). Returns
    ``None`` if the numbers do not fit or a round breaks a hard rule (the
    café engine knows the avoid list, not meeting modes and sites)."""
    # Here, not at the top: the café engine compiles its numba kernels when loaded,
    # seconds that a command line making one round of pairs should not pay.
    from solvers.rotation import CafeProblem, plan_cafe

    n, size = len(problem.people), problem.group_size
    if size < 3 or n % size or n < 2 * size:
        return None
    cafe = CafeProblem(people=problem.people, tables=n // size, rounds=rounds,
                       history=problem.history, avoid=problem.avoid, weights=problem.weights)
    try:
        plan = plan_cafe(cafe, seed=int(rng.integers(2**31)), time_limit=time_limit,
                         steps=steps)
    except Infeasible:
        return None
    history = problem.history
    planned: list[RoundPlan] = []
    for one in plan.rounds:
        started = time.perf_counter()
        current = _with_history(problem, history)
        scorer = Scorer(current, pairs_per_change=4 * size * size)
        index = {p.id: i for i, p in enumerate(current.people)}
        groups = [[index[person] for person in table] for table in one.tables]
        result = _report(current, scorer, groups, [], f"rotation ({plan.method})", started, None)
        if result is None:
            return None
        planned.append(result)
        history = history.then(PastRound(result.groups, result.sitting_out))
    return planned
