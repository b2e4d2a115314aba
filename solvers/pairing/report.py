"""A round's report: its metrics, the bounds that certify them, and why a
round is impossible when the hard rules cannot be met."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from solvers.bounds import (
    PartitionBound,
    assignment_bound,
    counting_bound,
    partition_bound,
    pricing_classes,
    type_partner_bound,
)
from solvers.metrics import group_figures
from solvers.model import Infeasible, Problem, RoundMetrics, RoundPlan
from solvers.pairing.common import _group_sizes, _sit_out_rule, _top_two, _with_placeholder
from solvers.pairing.limits import (
    DENSE_LIMIT,
    PARTITION_LARGE_GROUP_TYPES,
    PARTITION_NODES,
    PARTITION_SECONDS,
    PARTITION_TYPE_LIMIT,
)
from solvers.scoring import FORBIDDEN, Scorer


def _report(problem, scorer, groups, sitting, method, started, proven) -> RoundPlan | None:
    """Figures, bound and gap of a round; ``None`` if it breaks a hard rule."""
    n = scorer.n
    figures = group_figures(scorer, groups)
    placed = sorted([x for g in groups for x in g] + list(sitting))
    if figures.broken_rules or placed != list(range(n)):
        return None
    if proven:
        bound, repeats_bound = figures.score, figures.repeats
    else:
        bound = _mixing_bound(problem, scorer, groups, sitting, figures.repeats == 0)
        repeats_bound = _repeats_bound(problem, scorer, figures.repeats)
        bound = max(bound, figures.score) if bound is None else bound
    gap = (bound - figures.score) / bound if bound > 0 else 0.0
    ids = scorer.ids
    metrics = RoundMetrics(
        people=n,
        groups=len(groups),
        sitting_out=len(sitting),
        repeats=figures.repeats,
        repeats_bound=repeats_bound,
        cross_department_share=figures.cross_department_share,
        score=figures.score,
        bound=bound,
        gap=gap,
        seconds=time.perf_counter() - started,
        method=method,
    )
    return RoundPlan(
        groups=tuple(tuple(ids[x] for x in g) for g in groups),
        group_scores=figures.group_scores,
        sitting_out=tuple(ids[x] for x in sitting),
        metrics=metrics,
    )


def _mixing_bound(problem, scorer, groups, sitting, no_repeats: bool) -> int | None:
    """Upper bound on the mixing points of any round no worse in repeats."""
    n = scorer.n
    size = problem.group_size
    if n < 2:
        return 0
    if size == 2:
        bounds = []
        extra = _type_placeholder(problem, scorer) if n % 2 else None
        type_bound = scorer.type_bound(extra)
        if type_bound is not None:
            bounds.append(type_bound)
        if n <= DENSE_LIMIT:
            values = _masked_mixing(scorer, no_repeats)
            if n % 2:
                if problem.odd == "sitout":
                    place = np.where(_sit_out_rule(problem)[1], 0, FORBIDDEN)
                else:
                    place = _top_two(values)
                values = _with_placeholder(values, place)
            dense_bound = assignment_bound(values)
            if dense_bound is not None:
                bounds.append(dense_bound)
        return min(bounds) if bounds else None
    if not groups:
        return 0
    bound = _partner_bound(scorer, groups, no_repeats)
    relaxation = _partition(problem, scorer, groups)
    return bound if relaxation is None else min(bound, relaxation.bound)


def _partner_bound(scorer: Scorer, groups, no_repeats: bool) -> int:
    """Groups of three or more, cheaply: nobody scores more than their best
    possible partners (counted from both ends), and the same relaxation as a
    transportation problem between types."""
    n = scorer.n
    sizes = [len(g) for g in groups]
    low, high = min(sizes) - 1, max(sizes) - 1  # partners per person
    if n <= DENSE_LIMIT:
        values = _masked_mixing(scorer, no_repeats)
        ranked = -np.sort(-np.where(values == FORBIDDEN, 0, values), axis=1)
        best = ranked[:, :low].sum(axis=1)
        marginal = ranked[:, low] if ranked.shape[1] > low else np.zeros(n, np.int64)
    else:
        best = scorer.best_partner_mixing(low)
        marginal = scorer.best_partner_mixing(low + 1) - best
    # Members of bigger groups have more partners; sorted points only fall, so
    # each further partner adds at most the next best after the first ``low``.
    extra_slots = sum(s * (s - 1 - low) for s in sizes)
    counting = counting_bound(best, marginal, extra_slots, high - low)
    mix, comp = scorer.type_mixing()
    # Everyone counts (whoever sits out, in any fair choice, only lowers a plan's points).
    flow = type_partner_bound(mix, comp, scorer.type_count, high,
                              sum(s * (s - 1) for s in sizes))
    return counting if flow is None else min(counting, flow)


def _partition(problem, scorer: Scorer, groups, **options) -> PartitionBound | None:
    """The set-partitioning bound of :func:`solvers.bounds.partition_bound` for
    this round: its group sizes, its fair sit-outs, started from ``groups``
    (``options`` go to it)."""
    t = len(scorer.type_count)
    limit = PARTITION_TYPE_LIMIT if problem.group_size < 5 else PARTITION_LARGE_GROUP_TYPES
    if t > limit or not groups:
        return None
    sizes, sit_count = _group_sizes(scorer.n, problem.group_size, problem.odd)
    must, may = _sit_out_rule(problem, sit_count)
    low = np.bincount(scorer.type_of[must], minlength=t)
    high = low + np.bincount(scorer.type_of[may], minlength=t)
    mix, comp = scorer.type_mixing()
    return partition_bound(
        mix, comp, scorer.type_count, Counter(sizes),
        start=[scorer.type_of[list(g)] for g in groups],
        sit_out=sit_count, sit_low=low, sit_high=high,
        classes=pricing_classes(scorer.codes[:, scorer.type_first], scorer.weights),
        **({"seconds": PARTITION_SECONDS, "node_limit": PARTITION_NODES} | options),
    )


def _masked_mixing(scorer: Scorer, no_repeats: bool) -> np.ndarray:
    """Mixing points where a pair may meet (and has not met, if asked), else FORBIDDEN."""
    weights = scorer.dense()
    ok = weights > FORBIDDEN
    if no_repeats:
        ok &= scorer.dense_ages() == 0
    return np.where(ok, scorer.dense("mixing"), FORBIDDEN)


def _type_placeholder(problem, scorer) -> np.ndarray:
    """Points per type for pairing with the odd-number placeholder (−1: not allowed)."""
    if problem.odd == "sitout":
        can = np.zeros(len(scorer.type_count), dtype=bool)
        can[scorer.type_of[_sit_out_rule(problem)[1]]] = True
        return np.where(can, 0, -1)
    best_two = scorer.best_partner_mixing(2)
    per_type = np.zeros(len(scorer.type_count), dtype=np.int64)
    per_type[scorer.type_of] = best_two
    return per_type


def _repeats_bound(problem, scorer, repeats: int) -> int:
    """Lower bound on the repeats of any valid round (0 when none is proven)."""
    n = scorer.n
    if repeats == 0 or problem.group_size != 2 or n > DENSE_LIMIT or n % 2:
        return 0
    values = np.where(scorer.dense() > FORBIDDEN, -(scorer.dense_ages() > 0).astype(np.int64),
                      FORBIDDEN)
    best = assignment_bound(values)
    return 0 if best is None else -best


def _diagnose(problem: Problem, scorer: Scorer, groups) -> Infeasible:
    """Say which hard rule makes the round impossible, and for whom."""
    n = scorer.n
    everyone = np.arange(n)
    lonely_mode, lonely_avoid = [], []
    for x in range(n):
        others = everyone[everyone != x]
        mine = np.full(len(others), x)
        if not scorer.compatible(mine, others).any():
            lonely_mode.append(scorer.ids[x])
        elif not scorer.allowed(mine, others).any():
            lonely_avoid.append(scorer.ids[x])
    if lonely_mode:
        return Infeasible("mode", lonely_mode,
                          "no one else has a compatible meeting mode and site for: "
                          + ", ".join(lonely_mode))
    if lonely_avoid:
        return Infeasible("avoid", lonely_avoid,
                          "the avoid list leaves no possible partner for: "
                          + ", ".join(lonely_avoid))
    stuck = sorted({scorer.ids[x] for g in groups for x in g
                    for y in g if x != y and not scorer.allowed(np.array([x]), np.array([y]))[0]})
    return Infeasible(
        "mode", stuck or scorer.ids,
        "meeting modes, sites and the avoid list leave no way to place everyone"
        + (": " + ", ".join(stuck) if stuck else ""),
    )

