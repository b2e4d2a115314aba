"""Upper bounds on the mixing score of a round, so every plan states its gap.

A round of pairs is a perfect matching; every perfect matching, walked both
ways, is an assignment (a permutation with no fixed point), so half the best
assignment bounds the best matching from above. Dense problems solve that
assignment directly (Jonker–Volgenant via SciPy); large ones aggregate people
into types of identical attributes and solve the same relaxation as a
transportation problem with OR-Tools' min-cost flow, which needs no n×n matrix.

Groups of three or more have two cheap bounds (nobody scores more than the sum
of their best possible partners, counted person by person and as a
transportation problem between types) and a strong one, :func:`partition_bound`:
the linear relaxation of set partitioning into groups, over types, solved by
column generation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.linear_solver import pywraplp
from scipy.optimize import linear_sum_assignment

from .model import FORBIDDEN
from .pricing import COMPLETE, CUT, NEG

__all__ = [
    "assignment_bound",
    "assignment_slack",
    "best_assignment",
    "PartitionBound",
    "counting_bound",
    "partition_bound",
    "pricing_classes",
    "type_assignment",
    "type_partner_bound",
]


def best_assignment(values: np.ndarray) -> tuple[int, np.ndarray] | None:
    """The assignment bound and the assignment reaching it (``cols[i]`` is the
    one ``i`` is sent to), or ``None`` if every assignment uses a forbidden pair."""
    cost = np.where(values == FORBIDDEN, np.inf, -values.astype(np.float64))
    try:
        rows, cols = linear_sum_assignment(cost)
    except ValueError:  # no finite assignment exists
        return None
    chosen = values[rows, cols]
    if (chosen == FORBIDDEN).any():
        return None
    return int(chosen.sum()) // 2, cols


def assignment_slack(values: np.ndarray, sent_to: np.ndarray, max_steps: int = 400):
    """Reduced costs of every pair under the assignment's dual, doubled to stay integral.

    Recovers dual prices ``u, v`` (``u[i] + v[j] >= values[i, j]``, with equality
    on the assignment) by shortest paths (Bellman–Ford, vectorised), then
    symmetrises them into ``y = (u + v) / 2``, a dual of the matching relaxation.
    The slack ``S[i, j] = 2 y[i] + 2 y[j] - 2 values[i, j]`` is what pair
    ``{i, j}`` costs any matching: a matching's weight is ``(total - ΣS) / 2``
    where ``total`` is the assignment's value. So a pair whose slack exceeds
    ``total - 2 L`` is in no matching of weight ``L`` or more, and can be
    dropped without losing the optimum. Returns ``None`` if the prices do not
    settle within ``max_steps`` rounds.
    """
    n = len(values)
    big = np.int64(2**60)
    reach = np.where(values == FORBIDDEN, -big, values)
    own = values[np.arange(n), sent_to]
    prices = np.zeros(n, dtype=np.int64)
    for _ in range(max_steps):
        offer = (prices[None, :] - reach).min(axis=1) + own
        better = np.minimum(prices[sent_to], offer)
        if (better == prices[sent_to]).all():
            break
        prices[sent_to] = better
    else:
        return None
    doubled = own - prices[sent_to] + prices  # u[i] + v[i] = 2 y[i]
    slack = doubled[:, None] + doubled[None, :] - 2 * values
    return np.where(values == FORBIDDEN, big, slack)


def assignment_bound(values: np.ndarray) -> int | None:
    """Upper bound on a maximum-weight perfect matching of a symmetric matrix.

    ``values[i, j]`` is the weight of pair ``{i, j}``, ``FORBIDDEN`` where the
    pair may not meet (the diagonal included). Returns ``None`` when no
    assignment avoids the forbidden pairs, which proves no perfect matching does.
    O(n³) worst case; fast in practice.

    >>> import numpy as np
    >>> f = FORBIDDEN
    >>> assignment_bound(np.array([[f, 3, 1, 0], [3, f, 0, 1], [1, 0, f, 3], [0, 1, 3, f]]))
    6
    """
    best = best_assignment(values)
    return None if best is None else best[0]


def type_assignment(
    mixing: np.ndarray,
    compatible: np.ndarray,
    counts: np.ndarray,
    extra: np.ndarray | None = None,
) -> tuple[int, np.ndarray] | None:
    """The assignment relaxation aggregated by type: its bound and its plan.

    ``mixing[t, u]`` and ``compatible[t, u]`` are the points and the mode rule
    between types, ``counts[t]`` how many people have type ``t``. ``extra``, if
    given, adds one placeholder person (for an odd number: whoever is paired
    with it sits out or joins a triad) with ``extra[t]`` points for pairing with
    type ``t`` (negative: not allowed). Solved as a transportation problem with
    OR-Tools' min-cost flow over T² arcs, so it needs no n×n matrix. Returns
    ``(bound, flow)`` where ``flow[t, u]`` is how many people of type ``t`` the
    relaxation sends to type ``u``, or ``None`` if it is infeasible.
    """
    t = len(counts)
    mix = mixing.astype(np.int64)
    comp = compatible.copy()
    caps = np.broadcast_to(counts.astype(np.int64), (t, t)).T.copy()
    # A type may assign within itself only if it has two people (no fixed points).
    diag = np.arange(t)
    caps[diag, diag] = np.where(counts >= 2, counts, 0)
    supply = counts.astype(np.int64)
    if extra is not None:
        allowed = extra >= 0
        mix = np.block([[mix, np.maximum(extra, 0)[:, None]],
                        [np.maximum(extra, 0)[None, :], np.zeros((1, 1), np.int64)]])
        comp = np.block([[comp, allowed[:, None]], [allowed[None, :], np.zeros((1, 1), bool)]])
        caps = np.block([[caps, np.ones((t, 1), np.int64)], [np.ones((1, t + 1), np.int64)]])
        supply = np.append(supply, 1)
        t += 1
    tails, heads = np.nonzero(comp & (caps > 0))
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        tails, heads + t, caps[tails, heads], -mix[tails, heads]
    )
    solver.set_nodes_supplies(np.arange(2 * t), np.concatenate([supply, -supply]))
    if solver.solve() != solver.OPTIMAL:
        return None
    flow = np.zeros((t, t), dtype=np.int64)
    flow[tails, heads] = solver.flows(arcs)
    return int(-solver.optimal_cost()) // 2, flow


def type_partner_bound(
    mixing: np.ndarray,
    compatible: np.ndarray,
    counts: np.ndarray,
    partners: int,
    slots: int,
) -> int | None:
    """Upper bound for groups larger than pairs, aggregated by type.

    In a plan of groups, each person has ``partners`` or fewer partners (the
    most anyone has), no pair meets twice, and there are ``slots`` (person,
    partner) couples in all. Dropping "the partners form groups" leaves a
    transportation problem between types, solved with min-cost flow; half its
    value bounds the plan's points. For pairs it is the assignment bound.
    """
    t = len(counts)
    counts = counts.astype(np.int64)
    caps = np.minimum(np.outer(counts, counts), (counts * partners)[:, None])
    caps[np.arange(t), np.arange(t)] = np.minimum(counts * (counts - 1), counts * partners)
    tails, heads = np.nonzero(compatible & (caps > 0))
    solver = min_cost_flow.SimpleMinCostFlow()
    source, sink = 2 * t, 2 * t + 1
    solver.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(t, source), tails, t + np.arange(t)]),
        np.concatenate([np.arange(t), t + heads, np.full(t, sink)]),
        np.concatenate([counts * partners, caps[tails, heads], counts * partners]),
        np.concatenate([np.zeros(t, np.int64), -mixing[tails, heads].astype(np.int64),
                        np.zeros(t, np.int64)]),
    )
    solver.set_node_supply(source, slots)
    solver.set_node_supply(sink, -slots)
    if solver.solve() != solver.OPTIMAL:
        return None
    return int(-solver.optimal_cost()) // 2


def counting_bound(
    best: np.ndarray, marginal: np.ndarray, extra_slots: int, per_person: int
) -> int:
    """Upper bound for groups larger than pairs.

    ``best[i]`` bounds what person ``i`` scores with the partners everyone has;
    ``marginal[i]`` bounds what any further partner adds. ``extra_slots``
    further partners are shared out, at most ``per_person`` each, to whoever
    gains most. Each pair is counted from both ends, hence the halving.

    >>> counting_bound(np.array([8, 8, 6]), np.array([4, 4, 2]), 1, 1)
    13
    """
    total = int(best.sum())
    if extra_slots > 0 and per_person > 0:
        ranked = np.sort(np.repeat(marginal, per_person))[::-1]
        total += int(ranked[:extra_slots].sum())
    return total // 2


# -- set partitioning over types, by column generation ---------------------------------

#: A column must gain this much to enter, and the certificate adds it per group:
#: well above the LP solver's rounding, far below one point.
_TOLERANCE = 1e-7

#: Columns of one size taken from one round of the heuristic pricing.
_GREEDY_ROOM = 1024

#: Units of the exact pricing's work per second, at its slow end.
_WORK_PER_SECOND = 150_000_000

#: Up to this many possible groups of a size, all are listed once and priced
#: exactly on every round (numpy), instead of greedily and by the compiled search.
_LIST_LIMIT = 150_000


class PartitionBound(NamedTuple):
    """The set-partitioning bound of :func:`partition_bound`.

    ``bound`` is the certified upper bound (whole points), ``value`` the
    Lagrangian value it is rounded down from and ``relaxation`` the last
    optimum of the restricted master problem (equal to ``value``, up to the
    tolerance, once ``converged``). ``columns`` are the group compositions
    (tuples of types) the relaxation uses, ``shares`` how many groups of each.
    """

    bound: int
    value: float
    relaxation: float
    converged: bool
    columns: list[tuple[int, ...]]
    shares: np.ndarray
    iterations: int
    seconds: float


def pricing_classes(codes: np.ndarray, weights: np.ndarray, limit: int = 12) -> np.ndarray:
    """Coarse classes of types for the pricing's pair bound (see :mod:`solvers.pricing`).

    ``codes[a, t]`` is type ``t``'s value of attribute ``a``. The attributes
    with fewest values (and some weight) are combined while there are at most
    ``limit`` classes: within a class pair, the most a pair can score is then
    usually well below the overall most, which is what cuts the search.
    """
    counts = [len(np.unique(row)) for row in codes]
    chosen, classes = [], 1
    for a in np.argsort(counts, kind="stable"):
        if weights[a] > 0 and 1 < counts[a] and classes * counts[a] <= limit:
            chosen.append(int(a))
            classes *= counts[a]
    if not chosen:
        return np.zeros(codes.shape[1], dtype=np.int64)
    _, inverse = np.unique(codes[chosen].T, axis=0, return_inverse=True)
    return inverse.ravel().astype(np.int64)


def _class_weights(values: np.ndarray, classes: np.ndarray, neg: float) -> np.ndarray:
    """The most points a pair of types of each two classes can score (``neg``: none)."""
    kinds = int(classes.max()) + 1 if classes.size else 1
    out = np.full((kinds, kinds), neg)
    for k in range(kinds):
        rows = values[classes == k]
        for m in range(kinds):
            block = rows[:, classes == m]
            if block.size:
                out[k, m] = block.max()
    return out


def _width(rows) -> int:
    """How many members each row of ``rows`` (a list of groups or an array) has."""
    return rows.shape[1] if isinstance(rows, np.ndarray) and rows.ndim == 2 else len(rows[0])


def _greedy_groups(values: np.ndarray, prices: np.ndarray, counts: np.ndarray, size: int,
                   neg: float) -> tuple[np.ndarray, np.ndarray]:
    """For each type, a group of ``size`` around it, built greedily: each next
    member adds the most points minus price. Returns (members, reduced value)."""
    t = len(prices)
    every = np.arange(t)
    members = np.empty((t, size), dtype=np.int64)
    members[:, 0] = every
    left = np.broadcast_to(counts, (t, t)).copy()
    left[every, every] -= 1
    gain = values - prices[None, :]
    total = -prices.astype(np.float64)
    for k in range(1, size):
        open_gain = np.where(left > 0, gain, neg)
        pick = np.argmax(open_gain, axis=1)
        total = total + open_gain[every, pick]
        members[:, k] = pick
        left[every, pick] -= 1
        gain = gain + values[pick]
    ok = total > neg / 2
    return members[ok], total[ok]


def _all_groups(values: np.ndarray, counts: np.ndarray, size: int, neg: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Every group of ``size`` (a multiset of types, no type more often than it
    has people, every pair allowed) and its points: for few types, where listing
    them all is cheaper than searching."""
    t = len(counts)
    rows = np.arange(t, dtype=np.int64)[:, None]
    for _ in range(1, size):  # each row grows by every type from its last one on
        last = rows[:, -1]
        grow = t - last
        parent = np.repeat(np.arange(len(rows)), grow)
        offset = np.arange(len(parent)) - np.repeat(np.cumsum(grow) - grow, grow)
        rows = np.column_stack([rows[parent], last[parent] + offset])
    worth = np.zeros(len(rows))
    ok = np.ones(len(rows), dtype=bool)
    for a in range(size):
        same = (rows == rows[:, [a]]).sum(axis=1)
        ok &= same <= counts[rows[:, a]]
        for b in range(a + 1, size):
            worth += values[rows[:, a], rows[:, b]]
    ok &= worth > neg / 2
    return rows[ok], worth[ok]


def _sit_out_value(prices: np.ndarray, low: np.ndarray, high: np.ndarray, count: int) -> float:
    """The most ``-Σ prices[t]·z[t]`` over ``low ≤ z ≤ high``, ``Σ z = count``."""
    value = -float(prices @ low)
    need = count - int(low.sum())
    room = high - low
    for t in np.argsort(prices, kind="stable"):
        if need <= 0:
            break
        take = min(need, int(room[t]))
        value -= take * float(prices[t])
        need -= take
    return value


def partition_bound(
    mixing: np.ndarray,
    compatible: np.ndarray,
    counts: np.ndarray,
    sizes: Mapping[int, int],
    *,
    start: Iterable[Iterable[int]] = (),
    sit_out: int = 0,
    sit_low: np.ndarray | None = None,
    sit_high: np.ndarray | None = None,
    classes: np.ndarray | None = None,
    seconds: float = 2.0,
    node_limit: int = 400_000_000,
    list_limit: int = _LIST_LIMIT,
) -> PartitionBound | None:
    """Upper bound on the points of a round of groups: the set-partitioning relaxation.

    ``mixing[t, u]`` and ``compatible[t, u]`` are the points and the mode rule
    between types, ``counts[t]`` how many people have type ``t``; the round has
    ``sizes[s]`` groups of ``s`` people and ``sit_out`` people sitting out, at
    least ``sit_low[t]`` and at most ``sit_high[t]`` of type ``t``. History and
    the avoid list are left out: they only take points away or forbid groups,
    so the bound holds for every valid round.

    The relaxation has one variable per group composition (a multiset of types
    whose pairs may all meet), worth the sum of its pairs' points: how many
    groups of that composition the round has. Each type is covered by exactly
    its people (less those sitting out), each size has its number of groups.
    Column generation [1]_ starts from the compositions of ``start`` (best: a
    valid round, whose value the relaxation then starts at), solves it with
    GLOP, and prices new compositions with the duals ``π``: greedily first,
    exactly (:mod:`solvers.pricing`) once the greedy finds nothing. For any
    ``π`` the Lagrangian value ``Σ_t counts[t] π[t] + Σ_s sizes[s] max_G
    (points(G) − π(G)) + max_z (−π·z)`` bounds every round from above [2]_:
    certified with the exact maximum, or with an upper bound on it, and equal
    to the relaxation's optimum at convergence. An exact pricing that runs out
    of work (``node_limit`` units, fewer as the ``seconds`` run out; a size
    few groups have gets a sixteenth) bounds a group of ``s`` by the average
    of its subgroups of ``s − 1`` instead, which is what groups of ``size + 1``
    usually need. With at most ``list_limit`` possible groups of a size, all
    are listed once and priced exactly on every round instead (numpy only).
    Returns ``None`` if nothing could be certified.

    References
    ----------
    .. [1] G. Desaulniers, J. Desrosiers and M. M. Solomon (eds.), *Column
       Generation*, Springer (2005).
    .. [2] M. E. Lübbecke and J. Desrosiers, "Selected topics in column
       generation", Operations Research 53 (2005) 1007–1023, §2.1.

    >>> import numpy as np
    >>> mixing = np.array([[0, 4, 4], [4, 0, 0], [4, 0, 0]])
    >>> partition_bound(mixing, np.ones((3, 3), bool), np.array([2, 2, 2]), {3: 2},
    ...                 start=[(0, 1, 2), (0, 1, 2)]).bound
    16
    """
    started = time.perf_counter()
    deadline = started + seconds
    t = len(counts)
    counts = np.asarray(counts, dtype=np.int64)
    sizes = {int(s): int(m) for s, m in sizes.items() if m > 0}
    if t == 0 or not sizes:
        return None
    values = np.where(compatible, mixing, NEG).astype(np.float64)
    classes = np.zeros(t, np.int64) if classes is None else np.asarray(classes, np.int64)
    low = np.zeros(t, np.int64) if sit_low is None else np.asarray(sit_low, np.int64)
    high = np.zeros(t, np.int64) if sit_high is None else np.asarray(sit_high, np.int64)
    if sit_out and (low.sum() > sit_out or high.sum() < sit_out):
        return None

    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:
        return None
    # GLOP rescales the problem on each solve, which spoils the warm start of
    # an incremental solve after new columns; points are small integers anyway.
    solver.SetSolverSpecificParametersAsString("use_scaling: false use_preprocessing: false")
    cover = [solver.Constraint(float(c), float(c)) for c in counts]
    count_rows = {s: solver.Constraint(float(m), float(m)) for s, m in sizes.items()}
    objective = solver.Objective()
    objective.SetMaximization()
    if sit_out:
        sit_row = solver.Constraint(float(sit_out), float(sit_out))
        for k in np.nonzero(high)[0]:
            z = solver.NumVar(float(low[k]), float(high[k]), "")
            cover[k].SetCoefficient(z, 1.0)
            sit_row.SetCoefficient(z, 1.0)
    columns: list[tuple[int, ...]] = []
    variables = []
    known: set[tuple[int, ...]] = set()

    def add(rows) -> int:
        """Add these compositions (rows of types) unless known; how many were new."""
        rows = np.sort(np.asarray(rows, dtype=np.int64).reshape(-1, _width(rows)), axis=1)
        if not len(rows):
            return 0
        worth = np.zeros(len(rows))
        for a in range(rows.shape[1]):
            for b in range(a + 1, rows.shape[1]):
                worth += values[rows[:, a], rows[:, b]]
        new = 0
        for column, value in zip(map(tuple, rows.tolist()), worth.tolist(), strict=True):
            if column in known or len(column) not in count_rows or value < NEG / 2:
                continue
            known.add(column)
            x = solver.NumVar(0.0, solver.infinity(), "")
            times: dict[int, int] = {}
            for k in column:
                times[k] = times.get(k, 0) + 1
            for k, c in times.items():
                cover[k].SetCoefficient(x, float(c))
            count_rows[len(column)].SetCoefficient(x, 1.0)
            objective.SetCoefficient(x, value)
            columns.append(column)
            variables.append(x)
            new += 1
        return new

    for group in start:
        add([list(group)])
    # Artificial columns keep the restricted problem feasible whatever the start
    # (the big-M method): each leaves one person or one group out at a cost no
    # round's points can make up. The Lagrangian value does not depend on them.
    most = float(values.max()) if (values > NEG / 2).any() else 0.0
    penalty = 1.0 + most * sum(m * s * (s - 1) / 2 for s, m in sizes.items())
    for row in [*cover, *count_rows.values()]:
        slack = solver.NumVar(0.0, solver.infinity(), "")
        row.SetCoefficient(slack, 1.0)
        objective.SetCoefficient(slack, -penalty)
    class_weights = _class_weights(values, classes, NEG)

    main = max(sizes, key=lambda s: (sizes[s], s))  # the size most groups have
    averaged: set[int] = set()  # sizes whose exact pricing ran out of nodes
    listed = {s: _all_groups(values, counts, s, NEG) for s in sizes
              if math.comb(t + s - 1, s) <= list_limit}

    def from_list(prices, s, threshold, room) -> tuple[float, int]:
        """The most a listed group of ``s`` is worth less its prices, adding up
        to ``room`` of the best worth more than ``threshold``."""
        rows, worth = listed[s]
        reduced = worth - prices[rows].sum(axis=1)
        if not len(reduced):
            return NEG, 0
        better = np.nonzero(reduced > threshold)[0]
        better = better[np.argsort(-reduced[better], kind="stable")][:room]
        return float(reduced.max()), add(rows[better])

    def most_reduced(prices, s, threshold, grow, limit,
                     keep=True) -> tuple[float | None, bool, int]:
        """An upper bound on the most any group of ``s`` is worth less its prices
        (``None`` if columns priced out or nothing is proven), whether it is the
        exact maximum, and how many columns were added (if ``keep``)."""
        if s in listed:
            best, added = from_list(prices, s, threshold, 256 if keep else 0)
            return max(threshold, best), True, added
        added, status = 0, CUT
        if s not in averaged:
            from .pricing.kernels import _best_groups  # compiled: loaded only when needed

            order = np.argsort(prices, kind="stable")
            best, cols, found, _, status = _best_groups(
                values[np.ix_(order, order)], prices[order], counts[order], s, threshold,
                classes[order], class_weights, 256 if grow else 64, grow, limit)
            added = add(order[cols[:min(found, len(cols))]]) if keep else 0
            if status == COMPLETE:
                return max(threshold, best), True, added
            if status != CUT or s < 3:
                return None, False, added
            if keep:
                averaged.add(s)  # and from now on, at once
        # Out of nodes: each group G of s is the average of its s subgroups of s − 1,
        # points(G) − π(G) = Σ_x [points(G∖x) − λ π(G∖x)] / (s − 2) with
        # λ = (s − 2)/(s − 1), so s/(s − 2) times their best bounds it.
        scale = (s - 2) / (s - 1)
        _, reduced = _greedy_groups(values, scale * prices, counts, s - 1, NEG)
        start_at = float(reduced.max()) - _TOLERANCE if len(reduced) else -1e18
        sub, _, _ = most_reduced(scale * prices, s - 1, start_at, True, limit, keep=False)
        return (None if sub is None else sub * s / (s - 2)), False, added

    def exact(prices, thresholds, grow) -> tuple[float | None, bool, int]:
        """The Lagrangian value at ``prices`` (``None``: not proven), whether every
        size was priced exactly, and how many columns were added."""
        total = float(counts @ prices)
        if sit_out:
            total += _sit_out_value(prices, low, high, sit_out)
        added, every = 0, True
        # What is left of the time, as work (at the slow end of the pricing's pace).
        budget = int(min(node_limit, max(_WORK_PER_SECOND * (deadline - time.perf_counter()),
                                         node_limit // 64)))
        for s, m in sizes.items():
            # A size few groups have gets less: the averaging bound costs those
            # few groups little.
            limit = budget if s == main else budget // 16
            most, exactly, new = most_reduced(prices, s, thresholds[s], grow, limit)
            added += new
            every &= exactly
            total = math.nan if most is None else total + m * most
        return (None if math.isnan(total) else total), every, added

    certified, relaxation, converged, iterations = math.inf, math.nan, False, 0
    prices, changed = None, True
    while True:
        iterations += 1
        if solver.Solve() != pywraplp.Solver.OPTIMAL:
            break
        changed = False
        relaxation = objective.Value()
        prices = np.array([row.dual_value() for row in cover])
        thresholds = {s: row.dual_value() + _TOLERANCE for s, row in count_rows.items()}
        added = 0
        for s in sizes:  # a size few groups have needs few columns
            room = _GREEDY_ROOM if s == main else _GREEDY_ROOM // 16
            if s in listed:
                added += from_list(prices, s, thresholds[s], room)[1]
                continue
            members, reduced = _greedy_groups(values, prices, counts, s, NEG)
            better = np.nonzero(reduced > thresholds[s])[0]
            better = better[np.argsort(-reduced[better], kind="stable")][:room]
            added += add(members[better])
        changed = added > 0
        if time.perf_counter() >= deadline:
            break
        if added:
            continue
        value, every, added = exact(prices, thresholds, grow=False)
        changed = added > 0
        if added:
            continue
        if value is not None:  # nothing prices out (or, for a size, its average bound)
            certified, converged = value, every
        break
    if prices is None:
        return None
    if not math.isfinite(certified):  # out of time or nodes: the most at the last prices
        thresholds = {}
        for s in sizes:  # from the best greedy group, so the search cuts at once
            _, reduced = _greedy_groups(values, prices, counts, s, NEG)
            thresholds[s] = float(reduced.max()) - _TOLERANCE if len(reduced) else -1e18
        value, _, added = exact(prices, thresholds, grow=True)
        if value is None:
            return None
        certified, changed = value, changed or added > 0
    shares = np.zeros(len(variables))
    if not changed or solver.Solve() == pywraplp.Solver.OPTIMAL:  # with every column found
        relaxation = objective.Value()
        shares = np.array([x.solution_value() for x in variables])
    used = np.nonzero(shares > 1e-9)[0]
    return PartitionBound(
        bound=int(math.floor(certified + 1e-6)),
        value=certified,
        relaxation=relaxation,
        converged=converged,
        columns=[columns[k] for k in used],
        shares=shares[used],
        iterations=iterations,
        seconds=time.perf_counter() - started,
    )
