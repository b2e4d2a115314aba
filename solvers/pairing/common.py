"""What every pairing method shares: who may sit out, placeholders for an odd
number, attaching leftovers to groups, group sizes, the value of a plan.
Names with a leading underscore are private to :mod:`solvers.pairing`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from solvers.model import History, Infeasible, Problem
from solvers.scoring import FORBIDDEN, Scorer


class Found(NamedTuple):
    """What one method found for a round: the groups (indices of people), who
    sits out, the method's name for the report, and whether the round is
    proven optimal (``None``: the report decides from the bound)."""

    groups: list[list[int]]
    sitting: list[int]
    method: str
    proven: bool | None

def _sit_out_rule(problem: Problem, count: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Who must and who may sit out when ``count`` people do (boolean masks).

    Nobody sits out twice before everyone has once: those who have sat out
    fewer times than the ``count``-th least must, those level with it may.
    """
    sat_out = problem.history.sat_out
    times = np.array([sat_out.get(p.id, 0) for p in problem.people])
    if count <= 0 or not len(times):
        return np.zeros(len(times), bool), np.zeros(len(times), bool)
    threshold = np.sort(times)[min(count, len(times)) - 1]
    return times < threshold, times == threshold


def _least_sat_out(
    problem: Problem, rng: np.random.Generator, count: int, prefer: np.ndarray | None = None
) -> list[int]:
    """``count`` people who have sat out least often, ties at random (indices);
    with ``prefer``, ties go to the smallest ``prefer`` first."""
    sat_out = problem.history.sat_out
    times = np.array([sat_out.get(p.id, 0) for p in problem.people])
    keys = (rng.random(len(times)),) + (() if prefer is None else (prefer,)) + (times,)
    order = np.lexsort(keys)
    return [int(i) for i in order[:count]]


def _top_two(weights: np.ndarray) -> np.ndarray:
    """Per person, the two best allowed weights: the most they add to a triad."""
    best = -np.sort(-weights, axis=1)[:, :2]
    return np.where((best > FORBIDDEN).all(axis=1), best.sum(axis=1), FORBIDDEN)


def _with_placeholder(values: np.ndarray, placeholder: np.ndarray) -> np.ndarray:
    """Add the odd-number placeholder as one more person."""
    return np.block([[values, placeholder[:, None]],
                     [placeholder[None, :], np.array([[FORBIDDEN]])]])


def _attach(scorer: Scorer, groups, extra: int, weights: np.ndarray | None = None):
    """Put the leftover person into the pair where they score best (a triad)."""
    if not groups:
        raise Infeasible("size", [scorer.ids[extra]], "nobody to meet")
    pairs = np.array(groups, dtype=np.int64)
    x = np.full(len(pairs), extra)
    if weights is not None:
        gain_a, gain_b = weights[x, pairs[:, 0]], weights[x, pairs[:, 1]]
    else:
        gain_a, gain_b = scorer.weight(x, pairs[:, 0]), scorer.weight(x, pairs[:, 1])
    gain = np.where((gain_a > FORBIDDEN) & (gain_b > FORBIDDEN), gain_a + gain_b, FORBIDDEN)
    best = int(np.argmax(gain))
    if gain[best] == FORBIDDEN:
        raise Infeasible(
            "mode", [scorer.ids[extra]],
            f"{scorer.ids[extra]} cannot join any pair (meeting mode or avoid list)",
        )
    groups = [list(g) for g in groups]
    groups[best].append(extra)
    return groups


def _with_history(problem: Problem, history: History) -> Problem:
    return Problem(
        people=problem.people,
        history=history,
        avoid=problem.avoid,
        weights=problem.weights,
        group_size=problem.group_size,
        odd=problem.odd,
    )


def _group_sizes(n: int, size: int, odd: str) -> tuple[list[int], int]:
    """Sizes of the groups and how many people sit out."""
    count, left = divmod(n, size)
    if odd == "sitout":
        return [size] * count, left
    if count == 0:
        return ([n] if n >= 2 else []), (n if n < 2 else 0)
    sizes = [size] * count
    for k in range(left):
        sizes[k % count] += 1
    return sizes, 0


def _plan_value(weights: np.ndarray, groups) -> int:
    return sum(int(weights[g[a], g[b]]) for g in groups
               for a in range(len(g)) for b in range(a + 1, len(g)))


def _total_weight(values: np.ndarray, matching) -> int:
    return sum(int(values[a, b]) for a, b in matching)

