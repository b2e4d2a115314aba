"""Exact rounds of pairs: Edmonds' blossom algorithm (rustworkx) on a sparse
graph of each person's best candidates, and the best triad for an odd number."""

from __future__ import annotations

import numpy as np
import rustworkx as rx
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from solvers.bounds import (
    assignment_slack,
    best_assignment,
)
from solvers.model import Infeasible, Problem
from solvers.pairing.common import (
    Found,
    _attach,
    _plan_value,
    _sit_out_rule,
    _top_two,
    _total_weight,
    _with_placeholder,
)
from solvers.pairing.limits import DIRECT_LIMIT, FULL_GRAPH_EDGES, TRIAD_SEARCH_LIMIT, TRIAD_TRIES
from solvers.pairing.report import _diagnose
from solvers.scoring import FORBIDDEN, Scorer


def _exact_pairs(problem: Problem, scorer: Scorer, rng: np.random.Generator) -> Found:
    """Pairs by exact matching on a sparse graph, certified by the assignment bound
    and its dual prices; the whole graph only where they do not settle it."""
    n = scorer.n
    ids = scorer.ids
    if n <= 1:
        if n == 1 and problem.odd == "triad":
            raise Infeasible("size", ids, f"{ids[0]} is the only person: nobody to meet")
        return Found([], list(range(n)), "trivial", True)
    weights = scorer.dense()
    odd = n % 2 == 1
    placeholder = np.full(n, FORBIDDEN, dtype=np.int64)
    if odd and problem.odd == "sitout":
        placeholder[_sit_out_rule(problem)[1]] = 0
    elif odd:
        placeholder = _top_two(weights)
    values = _with_placeholder(weights, placeholder) if odd else weights
    if n <= DIRECT_LIMIT:  # small enough to solve the whole graph straight away
        rows, cols = np.nonzero(np.triu(values > FORBIDDEN, 1))
        matching = _blossom(values, rows, cols, rng)
        proven = not (odd and problem.odd == "triad")
        return Found(*_split(scorer, problem, weights, matching, rng), "exact", proven)
    relaxed = best_assignment(values)
    if relaxed is None:  # not even a fractional answer: no valid round exists
        return Found([], [], "exact", False)
    bound, sent_to = relaxed
    # Sparse graph: the assignment's own edges (its cycles hold the right mix of
    # pair kinds), each person's best partners, and a few random ones so that a
    # perfect matching exists whenever the rules allow one.
    size = n + odd
    k_best, k_random = min(size - 1, 12), min(size - 1, 8)
    key = np.where(values == FORBIDDEN, -np.inf, values + 0.5 * rng.random((size, size)))
    best = np.argpartition(-key, k_best - 1, axis=1)[:, :k_best]
    noise = np.where(values == FORBIDDEN, np.inf, rng.random((size, size)))
    random = np.argpartition(noise, k_random - 1, axis=1)[:, :k_random]
    rows = np.concatenate([np.arange(size), np.repeat(np.arange(size), k_best + k_random)])
    cols = np.concatenate([sent_to, best.ravel(), random.ravel()])
    keep = values[rows, cols] > FORBIDDEN
    matching = _blossom(values, rows[keep], cols[keep], rng)
    found = None if matching is None else _total_weight(values, matching)
    optimal = not (odd and problem.odd == "triad")  # the triad is chosen after the matching
    if found is not None and found >= bound:
        return Found(*_split(scorer, problem, weights, matching, rng), "exact", optimal)
    # Not certified by the bound: price every pair by the assignment's dual.
    slack = assignment_slack(values, sent_to) if found is not None else None
    if slack is not None:
        total = int(values[np.arange(size), sent_to].sum())  # the assignment's value
        if _no_better_matching(slack, total, found):
            return Found(*_split(scorer, problem, weights, matching, rng), "exact", optimal)
        # Solve again on every pair that could still be in a better matching.
        useful = np.triu(slack <= total - 2 * found, 1)
    else:  # all pairs, if the dual prices do not settle
        useful = np.triu(values > FORBIDDEN, 1)
    # The blossom is O(n·m·log n): beyond a couple of million pairs it is
    # too slow for a round, and the sparse answer stands with its stated gap.
    if int(useful.sum()) > FULL_GRAPH_EDGES:
        return Found(*_split(scorer, problem, weights, matching, rng), "exact-sparse", False)
    full_rows, full_cols = np.nonzero(useful)
    matching = _blossom(values, full_rows, full_cols, rng)
    return Found(*_split(scorer, problem, weights, matching, rng), "exact", optimal)


def _no_better_matching(slack: np.ndarray, total: int, found: int) -> bool:
    """Whether the dual prices prove that no perfect matching beats ``found``.

    A perfect matching's weight is ``(total - ΣS) / 2`` over its pairs' slacks
    (:func:`solvers.bounds.assignment_slack`), so one of weight ``found + 1`` or
    more uses only pairs of slack at most ``total - 2 (found + 1)``. If the graph
    of those pairs has a connected component with an odd number of people, it has
    no perfect matching at all (each component must be matched within itself), so
    ``found`` is optimal. This is Tutte's condition with the empty set removed
    (Lovász & Plummer, *Matching Theory*, 1986, §3.1); on rounds where the
    assignment's cycles are odd it settles the last point of the gap in a
    fraction of the whole graph's blossom.
    """
    threshold = total - 2 * (found + 1)
    if threshold < 0:
        return True
    rows, cols = np.nonzero(np.triu(slack <= threshold, 1))
    size = len(slack)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    return bool((np.bincount(labels) % 2).any())


def _split(scorer: Scorer, problem: Problem, weights: np.ndarray, matching, rng):
    """Groups and sit-outs from a matching that may include the placeholder."""
    if matching is None:
        return [], []
    n = scorer.n
    groups, sitting = [], []
    for a, b in matching:
        if b == n:
            sitting.append(a)
        else:
            groups.append([a, b])
    if sitting and problem.odd == "triad":
        return _best_triad(scorer, weights, groups, sitting[0], rng), []
    return groups, sitting


def _best_triad(scorer: Scorer, weights: np.ndarray, pairs, extra: int, rng):
    """Pairs plus one triad, choosing who makes the triad.

    The matching chose ``extra`` with an optimistic guess of what they add;
    other people may add more, or ``extra`` may fit no pair at all. So a few
    more candidates (those with the best partners, then at random) are tried:
    pair everyone else exactly, put the candidate where they add most, and keep
    the best plan.
    """
    n = scorer.n
    tries = TRIAD_TRIES if n <= TRIAD_SEARCH_LIMIT else 0
    best_plan, best_value = None, None
    try:
        best_plan = _attach(scorer, pairs, extra, weights)
        best_value = _plan_value(weights, best_plan)
    except Infeasible:
        tries = max(tries, 3)
    promise = _top_two(weights)
    order = np.lexsort((rng.random(n), -promise))
    for x in [int(c) for c in order if c != extra][:tries]:
        others = np.array([i for i in range(n) if i != x])
        sub = weights[np.ix_(others, others)]
        rows, cols = np.nonzero(np.triu(sub > FORBIDDEN, 1))
        matching = _blossom(sub, rows, cols, rng)
        if matching is None:
            continue
        try:
            plan = _attach(scorer, [[others[a], others[b]] for a, b in matching], x, weights)
        except Infeasible:
            continue
        value = _plan_value(weights, plan)
        if best_value is None or value > best_value:
            best_plan, best_value = plan, value
    if best_plan is None:
        raise _diagnose(scorer.problem, scorer, pairs)
    return best_plan


def _blossom(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, rng):
    """Maximum-weight perfect matching on the given edges of ``values``, or None."""
    size = len(values)
    weights = values[rows, cols]
    # Every perfect matching has the same number of edges, so a constant offset
    # keeps the optimum and makes all weights positive for the blossom (and 0
    # free to mean "no edge" below).
    offset = 1 - int(min(weights.min(initial=0), 0))
    # Random among equal optima: solve under a random relabelling of the people
    # (shuffling the edge list instead slows the blossom down badly).
    label = rng.permutation(size)
    unlabel = np.argsort(label)
    # The graph as an adjacency matrix in the relabelled order: rustworkx reads
    # it in one pass (one edge per pair, in row order), where a Python list of
    # two million edge tuples cost more than the blossom's own setup. Repeated
    # edges fall on the same cell. Weights are integers well inside float64's
    # exact range, so ``int`` gives them back unchanged.
    matrix = np.zeros((size, size))
    a, b = label[rows], label[cols]
    matrix[a, b] = weights + offset
    matrix[b, a] = weights + offset
    graph = rx.PyGraph.from_adjacency_matrix(matrix, null_value=0.0)
    del matrix
    matching = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=int)
    if 2 * len(matching) != size:
        return None
    # The matching comes back as a set: sort it, so a seed gives the same output.
    return sorted(tuple(sorted((int(unlabel[x]), int(unlabel[y])))) for x, y in matching)
