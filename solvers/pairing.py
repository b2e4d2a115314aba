"""Rounds of a coffee trial: pairs (or larger groups) that meet new people.

One round of pairs is a maximum-weight perfect matching on the graph of
people who may meet, weighted by the objective of docs/matching.md (see
:mod:`solvers.scoring`). Up to a few thousand people the matching is solved
exactly (Edmonds' blossom algorithm, rustworkx's implementation) on a sparse
graph of each person's best candidates, and the result is checked against the
assignment bound of :mod:`solvers.bounds`; if the sparse answer cannot be
certified and the graph is small, the full graph is solved. Above that size a
vectorised local search (2-opt swaps between groups, in numpy) starts from a
department-interleaved pairing and stops at the bound or when it stalls.
Groups of three or more use the same local search.

Odd numbers follow ``problem.odd``: ``triad`` adds the leftover person to the
pair that gains most, ``sitout`` leaves out someone who has sat out least often.
Several rounds are planned one after another, each treating the earlier ones as
history; for pairs a round-robin schedule (the circle method) is also tried, so
N people (N even) get N−1 rounds with no repeated pair.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import rustworkx as rx
from ortools.sat.python import cp_model

from .bounds import (
    assignment_bound,
    assignment_slack,
    best_assignment,
    counting_bound,
    type_partner_bound,
)
from .metrics import group_figures
from .model import History, Infeasible, PastRound, Problem, Round, RoundMetrics
from .scoring import FORBIDDEN, Scorer

__all__ = ["make_round", "plan_rounds"]

#: Largest number of people paired exactly (sparse blossom) rather than by local search.
EXACT_LIMIT = 3000
#: The local search stops once this close to its bound (0.05%: under one
#: point per thousand pairs), rather than spend seconds on the last few.
GAP_TOLERANCE = 0.0005
#: Largest number of people for which n×n matrices are built (bounds, candidates).
DENSE_LIMIT = 3000
#: Largest round of groups of three or more (or pairs with a triad) solved
#: exactly by CP-SAT.
CP_SAT_LIMIT = 12
#: Largest round for which CP-SAT is asked when the local search breaks a rule.
CP_SAT_RESCUE_LIMIT = 40
RESCUE_SECONDS = 5
#: Up to this many people, odd rounds try TRIAD_TRIES people as the extra one
#: of the triad (one exact matching each) and keep the best.
TRIAD_SEARCH_LIMIT = 400
TRIAD_TRIES = 8
#: Up to this many people the whole graph is solved at once (a proven optimum
#: in about 2 s at 2,000); above it a sparse graph first, certified by a bound.
DIRECT_LIMIT = 2200
#: Most pairs for which the whole graph is solved when the sparse answer is not
#: certified optimal (about 2,000 people's worth).
FULL_GRAPH_EDGES = 2_100_000


def plan_rounds(
    problem: Problem,
    rounds: int = 1,
    *,
    seed: int | None = None,
    time_limit: float = 30.0,
    progress: Callable[[str], None] | None = None,
) -> list[Round]:
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
    rounds and a local search otherwise. For pairs over several rounds a
    round-robin schedule (the circle method [3]_) is tried as well, so N
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

    >>> from solvers.model import Person, Problem
    >>> people = tuple(Person(f"p{k}", department)
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
    if problem.group_size == 2 and rounds > 1 and _total(planned)[0] > 0:
        # Round by round can paint itself into a corner; a round-robin schedule cannot.
        alternative = _round_robin(problem, rounds, rng)
        if alternative is not None and _total(alternative)[:2] < _total(planned)[:2]:
            planned = alternative
    return planned


def make_round(problem: Problem, *, seed: int | None = None, time_limit: float = 30.0) -> Round:
    """Make one round for ``problem`` (see :func:`plan_rounds`).

    Returns
    -------
    Round
        The groups, who sits out, and the round's metrics.

    Examples
    --------
    Two nurses are never paired while there is someone else to meet, and the
    round is proven optimal (a gap of 0 to the bound):

    >>> from solvers.model import Person, Problem
    >>> people = (Person("ann", "Nursing"), Person("bo", "Nursing"),
    ...           Person("cy", "Pharmacy"), Person("di", "Estates"))
    >>> one = make_round(Problem(people), seed=1)
    >>> one.metrics.cross_department_share, one.metrics.gap, one.metrics.method
    (1.0, 0.0, 'exact')

    An odd number makes a triad (``odd="triad"``, the default):

    >>> five = make_round(Problem(people + (Person("ed", "IT"),)), seed=1)
    >>> sorted(len(group) for group in five.groups), five.sitting_out
    ([2, 3], ())
    """
    return _make_round(problem, np.random.default_rng(seed), time.perf_counter() + time_limit)


# -- several rounds -----------------------------------------------------------------


def _sequential(problem, rounds, rng, start, time_limit, progress) -> list[Round]:
    planned: list[Round] = []
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


def _with_history(problem: Problem, history: History) -> Problem:
    return Problem(
        people=problem.people,
        history=history,
        avoid=problem.avoid,
        weights=problem.weights,
        group_size=problem.group_size,
        odd=problem.odd,
    )


def _total(planned: Sequence[Round]) -> tuple[int, int, int]:
    """(repeats, -0, -score) summed over a plan, smaller is better."""
    return (
        sum(r.metrics.repeats for r in planned),
        0,
        -sum(r.metrics.score for r in planned),
    )


def _round_robin(problem: Problem, rounds: int, rng: np.random.Generator) -> list[Round] | None:
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
    planned: list[Round] = []
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


# -- one round ---------------------------------------------------------------------


def _make_round(problem: Problem, rng: np.random.Generator, deadline: float) -> Round:
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


def _exact_pairs(problem: Problem, scorer: Scorer, rng: np.random.Generator):
    """Pairs by exact matching on a sparse graph, certified by the assignment bound."""
    n = scorer.n
    ids = scorer.ids
    if n <= 1:
        if n == 1 and problem.odd == "triad":
            raise Infeasible("size", ids, f"{ids[0]} is the only person: nobody to meet")
        return [], list(range(n)), "trivial", True
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
        return *_split(scorer, problem, weights, matching, rng), "exact", proven
    relaxed = best_assignment(values)
    if relaxed is None:  # not even a fractional answer: no valid round exists
        return [], [], "exact", False
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
    method, proven = "exact-sparse", False
    found = None if matching is None else _total_weight(values, matching)
    if found is None or found < bound:
        # Not certified by the bound: solve again on every pair that could still
        # be in a better matching (all pairs, if the dual prices do not settle).
        slack = assignment_slack(values, sent_to) if found is not None else None
        if slack is not None:
            total = int(values[np.arange(size), sent_to].sum())  # the assignment's value
            useful = np.triu(slack <= total - 2 * found, 1)
        else:
            useful = np.triu(values > FORBIDDEN, 1)
        # The blossom is O(n·m·log n): beyond a couple of million pairs it is
        # too slow for a round, and the sparse answer stands with its stated gap.
        if int(useful.sum()) <= FULL_GRAPH_EDGES:
            full_rows, full_cols = np.nonzero(useful)
            matching = _blossom(values, full_rows, full_cols, rng)
            method = "exact"
            proven = not (odd and problem.odd == "triad")
    return *_split(scorer, problem, weights, matching, rng), method, proven


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


def _plan_value(weights: np.ndarray, groups) -> int:
    return sum(int(weights[g[a], g[b]]) for g in groups
               for a in range(len(g)) for b in range(a + 1, len(g)))


def _with_placeholder(values: np.ndarray, placeholder: np.ndarray) -> np.ndarray:
    """Add the odd-number placeholder as one more person."""
    return np.block([[values, placeholder[:, None]],
                     [placeholder[None, :], np.array([[FORBIDDEN]])]])


def _total_weight(values: np.ndarray, matching) -> int:
    return sum(int(values[a, b]) for a, b in matching)


def _top_two(weights: np.ndarray) -> np.ndarray:
    """Per person, the two best allowed weights: the most they add to a triad."""
    best = -np.sort(-weights, axis=1)[:, :2]
    return np.where((best > FORBIDDEN).all(axis=1), best.sum(axis=1), FORBIDDEN)


def _blossom(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, rng):
    """Maximum-weight perfect matching on the given edges of ``values``, or None."""
    size = len(values)
    graph = rx.PyGraph()  # edges are unique already; checking costs O(degree)
    graph.add_nodes_from(range(size))
    weights = values[rows, cols]
    # Random among equal optima: solve under a random relabelling of the people
    # (shuffling the edge list instead slows the blossom down badly).
    label = rng.permutation(size)
    unlabel = np.argsort(label)
    a, b = label[rows], label[cols]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys, first = np.unique(lo * size + hi, return_index=True)
    lo, hi, weights = keys // size, keys % size, weights[first]
    # Every perfect matching has the same number of edges, so a constant offset
    # keeps the optimum and makes all weights positive for the blossom.
    offset = 1 - int(min(weights.min(initial=0), 0))
    graph.add_edges_from(list(zip(lo.tolist(), hi.tolist(), (weights + offset).tolist(),
                                  strict=True)))
    matching = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=lambda w: w)
    if 2 * len(matching) != size:
        return None
    # The matching comes back as a set: sort it, so a seed gives the same output.
    return sorted(tuple(sorted((int(unlabel[x]), int(unlabel[y])))) for x, y in matching)


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


# -- local search --------------------------------------------------------------------


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


def _search_groups(
    problem: Problem, scorer: Scorer, rng: np.random.Generator, deadline: float, rescue=True
):
    """Groups by local search: a department-interleaved start, then swaps."""
    n, size = scorer.n, problem.group_size
    sizes, sit_count = _group_sizes(n, size, problem.odd)
    if problem.odd == "triad" and n == 1:
        raise Infeasible("size", scorer.ids, f"{scorer.ids[0]} is the only person: nobody to meet")
    triad_pairs = size == 2 and problem.odd == "triad" and n % 2 == 1
    if triad_pairs:  # pairs for everyone else; the leftover joins the best pair after
        sizes = [2] * (n // 2)
    dense = scorer.dense() if n <= DENSE_LIMIT else None
    # How many people each could meet, to vary who sits out on a retry.
    options = None if dense is None else (dense > FORBIDDEN).sum(axis=1)

    def weight(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return dense[i, j] if dense is not None else scorer.weight(i, j)

    # Who sits out (or is the extra person) is chosen before the search; if the
    # choice leaves the rules unmet, choose again.
    attempts = (10 if n <= DENSE_LIMIT else 3) if sit_count or triad_pairs else 1
    for attempt in range(attempts):
        prefer = None  # at random; then the hardest, then the easiest to place
        if options is not None and attempt in (1, 2):
            prefer = options if attempt == 1 else -options
        sitting = _least_sat_out(problem, rng, sit_count, prefer) if sit_count else []
        leftover = int(rng.integers(n)) if triad_pairs else None
        out = set(sitting) | ({leftover} if leftover is not None else set())
        seated = np.array([i for i in range(n) if i not in out], dtype=np.int64)
        target = None
        members = None
        if size == 2:  # follow the relaxation's plan: which kinds of people to pair
            counts = np.bincount(scorer.type_of[seated], minlength=len(scorer.type_count))
            plan = scorer.type_plan(counts)
            if plan is not None:
                target = plan[0]
                members = _type_start(scorer, seated, plan[1], rng)
        if members is None:
            members = _pooled_start(scorer, seated, sorted(sizes), rng)
        bench = None
        if sitting:  # the sit-out bench is one more row, open to candidates only
            width = max(members.shape[1], len(sitting))
            row = np.full((1, width), -1, dtype=np.int64)
            row[0, : len(sitting)] = sitting
            padded = np.full((len(members), width), -1, dtype=np.int64)
            padded[:, : members.shape[1]] = members
            members, bench = np.vstack([padded, row]), len(members)
        members = _local_search(members, weight, rng, deadline, target,
                                stall=2000 if dense is not None else 400,
                                bench=bench, sit_out_rule=_sit_out_rule(problem, sit_count))
        if bench is not None:
            sitting = [int(x) for x in members[bench] if x >= 0]
            members = np.delete(members, bench, axis=0)
        groups = [[int(x) for x in row if x >= 0] for row in members]
        try:
            if leftover is not None:
                groups = _attach(scorer, groups, leftover, dense)
        except Infeasible:
            if attempt == attempts - 1:
                raise
            continue
        if not group_figures(scorer, groups).broken_rules:
            break
    else:
        if rescue and size > 2 and n <= CP_SAT_RESCUE_LIMIT:
            # The search broke a rule: let CP-SAT find a valid round or prove there is none.
            exact = Scorer(problem, pairs_per_change=n * size)
            until = max(deadline, time.perf_counter() + RESCUE_SECONDS)
            return _exact_groups(problem, exact, rng, until, rescue=False)
    return groups, sitting, "local-search", False


def _exact_groups(
    problem: Problem, scorer: Scorer, rng: np.random.Generator, deadline: float, rescue=True
):
    """Groups of three or more for a small round, exactly, with CP-SAT.

    Either a proven optimum, or a proof that no valid round exists, within the
    time left; on a timeout the best round found so far (not proven).
    """
    n, size = scorer.n, problem.group_size
    sizes, sit_count = _group_sizes(n, size, problem.odd)
    if problem.odd == "triad" and n == 1:
        raise Infeasible("size", scorer.ids, f"{scorer.ids[0]} is the only person: nobody to meet")
    weights = scorer.dense()
    must_sit_out, may_sit_out = _sit_out_rule(problem, sit_count)
    groups = range(len(sizes))
    model = cp_model.CpModel()
    # Variables: who sits in which group, or on the sit-out bench.
    seat = {(i, g): model.new_bool_var(f"seat_{i}_{g}") for i in range(n) for g in groups}
    bench = {i: model.new_bool_var(f"bench_{i}")
             for i in range(n) if must_sit_out[i] or may_sit_out[i]}
    for i in np.nonzero(must_sit_out)[0]:
        model.add(bench[int(i)] == 1)
    # Everyone is placed exactly once; groups have their sizes.
    for i in range(n):
        model.add_exactly_one([seat[i, g] for g in groups] + ([bench[i]] if i in bench else []))
    for g in groups:
        model.add(sum(seat[i, g] for i in range(n)) == sizes[g])
    if sit_count:
        model.add(sum(bench.values()) == sit_count)
    # Hard rules: forbidden pairs never share a group.
    objective = []
    for i in range(n):
        for j in range(i + 1, n):
            w = int(weights[i, j])
            for g in groups:
                if w == FORBIDDEN:
                    model.add_bool_or([seat[i, g].Not(), seat[j, g].Not()])
                elif w != 0:
                    both = model.new_bool_var(f"both_{i}_{j}_{g}")
                    model.add_multiplication_equality(both, [seat[i, g], seat[j, g]])
                    objective.append(w * both)
    # Groups of one size are interchangeable: the first person, if seated, sits
    # in the first group of their group's size.
    if n and sizes:
        firsts = [sizes.index(k) for k in sorted(set(sizes))]
        model.add(sum(seat[0, g] for g in firsts) + (bench[0] if 0 in bench else 0) == 1)
    model.maximize(sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, deadline - time.perf_counter())
    solver.parameters.random_seed = int(rng.integers(2**31 - 1))
    solver.parameters.num_workers = 1  # one worker: the same seed gives the same round
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        return [], [], "exact", False  # reported as infeasible, with who, by the caller
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _search_groups(problem, scorer, rng, deadline, rescue=False)
    found = [[i for i in range(n) if solver.value(seat[i, g])] for g in groups]
    sitting = [i for i in bench if solver.value(bench[i])]
    return found, sitting, "exact", status == cp_model.OPTIMAL


def _pooled_start(scorer: Scorer, seated: np.ndarray, sizes: list[int], rng) -> np.ndarray:
    """A good first plan: compatible groups, departments dealt apart.

    People who meet only in person form a pool per site, topped up with people
    from that site who accept either mode; everyone left accepts online
    meetings, so any group of them is compatible. Within a pool, people sorted
    by department (then site and role) are dealt round the groups, so that for
    pairs, position ``k`` meets position ``k + m/2``: different departments
    whenever no department holds half the pool.
    """
    width = max(sizes) if sizes else 0
    members = np.full((len(sizes), width), -1, dtype=np.int64)
    if not sizes:
        return members
    size = min(sizes)
    in_person_only = ~scorer.virtual[seated]
    either = scorer.virtual[seated] & scorer.in_person[seated]
    taken = np.zeros(len(seated), dtype=bool)
    chunks = []
    for site in np.unique(scorer.site[seated][in_person_only]):
        here = scorer.site[seated] == site
        pool = np.nonzero(in_person_only & here)[0]
        spare = rng.permutation(np.nonzero(either & here & ~taken)[0])
        pool = np.concatenate([pool, spare[: (-len(pool)) % size]])
        taken[pool] = True
        chunks.append(_dealt(scorer, seated[pool], size, rng))
    chunks.append(_dealt(scorer, seated[~taken], size, rng))
    order = np.concatenate(chunks)
    # Enlarged groups last: the final pool (all online-capable) absorbs them.
    start = 0
    for g, k in enumerate(sorted(sizes)):
        members[g, :k] = order[start : start + k]
        start += k
    return members


def _dealt(scorer: Scorer, pool: np.ndarray, size: int, rng) -> np.ndarray:
    """The pool in an order whose consecutive runs of ``size`` mix departments."""
    if len(pool) == 0:
        return pool
    codes = scorer.codes[:, pool]
    ranked = pool[np.lexsort((rng.random(len(pool)), codes[3], codes[2], codes[1], codes[0]))]
    groups = max(1, len(pool) // size)
    group_of = np.arange(len(pool)) % groups
    return ranked[np.argsort(group_of, kind="stable")]


def _type_start(scorer: Scorer, seated: np.ndarray, flow: np.ndarray, rng) -> np.ndarray:
    """Pairs that follow the type-level relaxation: ``flow[t, u]`` people of type
    ``t`` sent to type ``u`` become about ``(flow[t, u] + flow[u, t]) / 2`` pairs.

    People are drawn at random within their type; the few left by rounding
    are paired by :func:`_pooled_start`, and the local search then mends
    repeats and avoid-list pairs (rare when drawing at random).
    """
    t = len(scorer.type_count)
    both = flow + flow.T
    across = np.triu(both, 1) // 2
    within = np.diag(both) // 4
    kinds = scorer.type_of[seated]
    pool = seated[np.lexsort((rng.random(len(seated)), kinds))]
    start = np.concatenate([[0], np.cumsum(np.bincount(kinds, minlength=t))])
    used = np.zeros(t, dtype=np.int64)

    def draw(kind: int, count: int) -> np.ndarray:
        first = start[kind] + used[kind]
        used[kind] += count
        return pool[first : first + count]

    pairs = []
    for a, b in zip(*np.nonzero(across), strict=True):
        k = int(across[a, b])
        pairs.append(np.column_stack([draw(a, k), draw(b, k)]))
    for a in np.nonzero(within)[0]:
        k = int(within[a])
        pairs.append(draw(a, 2 * k).reshape(k, 2))
    left = np.concatenate([pool[start[a] + used[a] : start[a + 1]] for a in range(t)])
    if len(left):
        pairs.append(_pooled_start(scorer, left, [2] * (len(left) // 2), rng))
    return np.vstack(pairs)


def _local_search(
    members, weight, rng, deadline, target, stall=400, bench=None, sit_out_rule=None
) -> np.ndarray:
    """Swap people between random pairs of groups while that improves the plan.

    Each step pairs up all groups at once (poorly scoring groups first, each
    with a random partner group), tries one swap per couple of groups, and
    keeps those that do not make things worse: a vectorised 2-opt for pairs.
    Row ``bench``, if given, holds who sits out: it scores nothing, never lets
    go of those who must sit out and takes in only those who may (the masks of
    ``sit_out_rule``), so the search also chooses among them.
    """
    groups, width = members.shape
    if groups < 2:
        return members
    valid = members >= 0
    sizes = valid.sum(axis=1)
    totals = _group_totals(members, valid, weight, bench)
    current = int(totals.sum())
    since_better = 0
    step = 0
    while time.perf_counter() < deadline and since_better < stall:
        if target is not None and current >= target - GAP_TOLERANCE * abs(target):
            break
        step += 1
        if step % 2:
            order = rng.permutation(groups)
        else:  # weakest groups first, each meeting a random partner group
            if step % 16 == 0:
                totals = _group_totals(members, valid, weight, bench)
            order = np.lexsort((rng.random(groups), totals))
            half = groups // 2
            weak, rest = order[:half], rng.permutation(order[half:])
            order = np.empty(2 * half, dtype=np.int64)
            order[0::2], order[1::2] = weak, rest[:half]
        couples = len(order) // 2
        g1, g2 = order[0 : 2 * couples : 2], order[1 : 2 * couples : 2]
        s1 = (rng.random(couples) * sizes[g1]).astype(np.int64)
        s2 = (rng.random(couples) * sizes[g2]).astype(np.int64)
        i, j = members[g1, s1], members[g2, s2]
        m1, m2 = members[g1], members[g2]
        mask1 = valid[g1] & (m1 != i[:, None])
        mask2 = valid[g2] & (m2 != j[:, None])
        safe1, safe2 = np.where(mask1, m1, 0), np.where(mask2, m2, 0)
        stay_i = np.where(mask1, weight(i[:, None], safe1), 0).sum(axis=1)
        move_i = np.where(mask2, weight(i[:, None], safe2), 0).sum(axis=1)
        stay_j = np.where(mask2, weight(j[:, None], safe2), 0).sum(axis=1)
        move_j = np.where(mask1, weight(j[:, None], safe1), 0).sum(axis=1)
        if bench is not None:
            must, may = sit_out_rule
            for group, stay, enter, leaving, incoming in (
                (g1, stay_i, move_j, i, j), (g2, stay_j, move_i, j, i)
            ):
                on = group == bench
                stay[on] = np.where(must[leaving[on]], -FORBIDDEN, 0)
                enter[on] = np.where(may[incoming[on]], 0, FORBIDDEN)
        delta = move_i + move_j - stay_i - stay_j
        accept = (delta > 0) | ((delta == 0) & (rng.random(couples) < 0.3))
        members[g1[accept], s1[accept]] = j[accept]
        members[g2[accept], s2[accept]] = i[accept]
        totals[g1[accept]] += (move_j - stay_i)[accept]
        totals[g2[accept]] += (move_i - stay_j)[accept]
        gained = int(delta[accept].sum())
        current += gained
        since_better = 0 if gained > 0 else since_better + 1
    return members


def _group_totals(members, valid, weight, bench=None) -> np.ndarray:
    groups, width = members.shape
    total = np.zeros(groups, dtype=np.int64)
    for a in range(width):
        for b in range(a + 1, width):
            both = valid[:, a] & valid[:, b]
            ia = np.where(both, members[:, a], 0)
            ib = np.where(both, members[:, b], 1)
            total += np.where(both, weight(ia, ib), 0)
    if bench is not None:
        total[bench] = 0
    return total


# -- the report ----------------------------------------------------------------------


def _report(problem, scorer, groups, sitting, method, started, proven) -> Round | None:
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
    return Round(
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
    # Larger groups: each person's best partners, counted from both ends.
    sizes = [len(g) for g in groups]
    if not sizes:
        return 0
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
