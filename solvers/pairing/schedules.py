"""Round-robin schedules (the circle method): N people (N even) in N−1 rounds
with no repeated pair."""

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

