"""Rounds of groups of three or more (or pairs with a triad): CP-SAT for small
rounds, the local search otherwise, and CP-SAT again when the search breaks a
rule."""

from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from solvers.metrics import group_figures
from solvers.model import Infeasible, Problem
from solvers.pairing.common import Found, _attach, _group_sizes, _least_sat_out, _sit_out_rule
from solvers.pairing.limits import CP_SAT_RESCUE_LIMIT, DENSE_LIMIT, RESCUE_SECONDS
from solvers.pairing.local_search import _local_search, _pooled_start, _type_start
from solvers.scoring import FORBIDDEN, Scorer


def _search_groups(
    problem: Problem, scorer: Scorer, rng: np.random.Generator, deadline: float, rescue=True
) -> Found:
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
    return Found(groups, sitting, "local-search", False)


def _exact_groups(
    problem: Problem, scorer: Scorer, rng: np.random.Generator, deadline: float, rescue=True
) -> Found:
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
        return Found([], [], "exact", False)  # reported as infeasible, with who, by the caller
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _search_groups(problem, scorer, rng, deadline, rescue=False)
    found = [[i for i in range(n) if solver.value(seat[i, g])] for g in groups]
    sitting = [i for i in bench if solver.value(bench[i])]
    return Found(found, sitting, "exact", status == cp_model.OPTIMAL)

