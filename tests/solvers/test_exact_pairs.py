"""Exact rounds of pairs on the sparse route: the dual certificate never claims an
optimum that a better matching refutes, and the sparse route finds the same
optimum as the whole graph."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import solvers.pairing.exact as exact
from solvers.bounds import assignment_slack, best_assignment
from solvers.model import History, Participant, PastRound, Problem
from solvers.pairing import make_round
from solvers.pairing.exact import _no_better_matching
from solvers.scoring import FORBIDDEN
from tests.support.hypothesis import examples


def perfect_matchings(people: list[int]):
    if not people:
        yield []
        return
    first, rest = people[0], people[1:]
    for k, other in enumerate(rest):
        for tail in perfect_matchings(rest[:k] + rest[k + 1:]):
            yield [(first, other), *tail]


@st.composite
def weight_matrices(draw):
    n = draw(st.sampled_from((2, 4, 6, 8)))
    values = np.full((n, n), FORBIDDEN, dtype=np.int64)
    for a, b in combinations(range(n), 2):
        # Few distinct weights, as in real rounds: many equal optima.
        w = draw(st.sampled_from((0, 1, 1, 2, 2, 3, None)))
        if w is not None:
            values[a, b] = values[b, a] = w
    return values


@settings(max_examples=examples(300), deadline=None)
@given(values=weight_matrices())
def test_the_dual_certificate_never_hides_a_better_matching(values):
    """Whatever matching was found, the certificate holds only if none is better."""
    n = len(values)
    weights = [sum(int(values[a, b]) for a, b in m)
               for m in perfect_matchings(list(range(n)))
               if all(values[a, b] > FORBIDDEN for a, b in m)]
    relaxed = best_assignment(values)
    if not weights:
        return
    assert relaxed is not None
    bound, sent_to = relaxed
    best = max(weights)
    assert bound >= best
    slack = assignment_slack(values, sent_to)
    if slack is None:
        return
    total = int(values[np.arange(n), sent_to].sum())
    for found in sorted(set(weights)):
        if found < best:
            assert not _no_better_matching(slack, total, found)
    assert _no_better_matching(slack, total, bound)


def cafe_like_problem(n: int, seed: int) -> Problem:
    """Skewed departments and sites, some online-only people, a history of pairs."""
    rng = np.random.default_rng(seed)
    departments = rng.choice(8, size=n, p=[0.4, 0.2, 0.1, 0.1, 0.08, 0.06, 0.04, 0.02])
    sites = rng.choice(["York", "Leeds"], size=n, p=[0.7, 0.3])
    modes = rng.choice(["either", "virtual", "in-person"], size=n, p=[0.7, 0.15, 0.15])
    people = tuple(Participant(f"p{i:03d}", f"d{departments[i]}", site=str(sites[i]),
                               mode=str(modes[i])) for i in range(n))
    rounds = []
    for _ in range(6):
        order = rng.permutation(n)
        rounds.append(PastRound(groups=tuple((people[order[k]].id, people[order[k + 1]].id)
                                            for k in range(0, n - 1, 2))))
    return Problem(people=people, history=History.from_rounds(rounds))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [60, 61, 120])
def test_the_sparse_route_finds_the_whole_graphs_optimum(monkeypatch, n, seed):
    problem = cafe_like_problem(n, seed)
    whole = make_round(problem, seed=seed)
    monkeypatch.setattr(exact, "DIRECT_LIMIT", 0)
    sparse = make_round(problem, seed=seed)
    assert (sparse.metrics.repeats, sparse.metrics.score) == (whole.metrics.repeats,
                                                             whole.metrics.score)
    if n % 2 == 0:
        assert sparse.metrics.method == "exact" and sparse.metrics.gap == 0
