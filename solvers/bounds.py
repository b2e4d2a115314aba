"""Upper bounds on the mixing score of a round, so every plan states its gap.

A round of pairs is a perfect matching; every perfect matching, walked both
ways, is an assignment (a permutation with no fixed point), so half the best
assignment bounds the best matching from above. Dense problems solve that
assignment directly (Jonker–Volgenant via SciPy); large ones aggregate people
into types of identical attributes and solve the same relaxation as a
transportation problem with OR-Tools' min-cost flow, which needs no n×n matrix.
Groups of three or more use a counting bound: nobody can score more than the
sum of their best possible partners.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.optimize import linear_sum_assignment

from .model import FORBIDDEN

__all__ = [
    "assignment_bound",
    "assignment_slack",
    "best_assignment",
    "counting_bound",
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
