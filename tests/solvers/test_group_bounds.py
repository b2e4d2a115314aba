"""The set-partitioning bound for groups of three or more (solvers.bounds.partition_bound)
and its exact pricing (solvers.pricing), checked against brute force: the bound
is never below the best valid round, never above the transportation bound once
its column generation converges, and never below the round the solver reports."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from solvers.bounds import (
    _class_weights,
    partition_bound,
    pricing_classes,
    type_partner_bound,
)
from solvers.model import History, Infeasible, Participant, PastRound, Problem, Weights
from solvers.pairing import make_round
from solvers.pairing.report import _mixing_bound, _partition
from solvers.pricing import COMPLETE, NEG
from solvers.pricing.kernels import _best_groups
from solvers.scoring import Scorer
from tests.solvers.test_pairing import all_plans, check_round, figures

# -- the pricing problem ----------------------------------------------------------------


def best_group_by_brute_force(values, prices, counts, size) -> float:
    """The most points minus prices of any multiset of ``size`` types whose pairs
    may all meet, using no type more often than it has people (-inf: none)."""
    best = -np.inf
    for group in itertools.combinations_with_replacement(range(len(prices)), size):
        if any(group.count(c) > counts[c] for c in set(group)):
            continue
        pairs = [values[a, b] for a, b in itertools.combinations(group, 2)]
        if all(p > NEG / 2 for p in pairs):
            best = max(best, sum(pairs) - sum(prices[c] for c in group))
    return best


def random_pricing(rng):
    t = int(rng.integers(1, 8))
    size = int(rng.integers(2, 6))
    points = rng.integers(0, 9, (t, t)).astype(np.float64)
    points = np.triu(points) + np.triu(points, 1).T
    allowed = rng.random((t, t)) < 0.8
    allowed = np.triu(allowed) | np.triu(allowed, 1).T
    values = np.where(allowed, points, NEG)
    prices = rng.normal(5, 3, t)
    counts = rng.integers(1, 4, t)
    classes = rng.integers(0, 3, t)
    order = np.argsort(prices, kind="stable")  # the order the bound gives the pricing
    values, prices, counts, classes = values[np.ix_(order, order)], prices[order], \
        counts[order], classes[order]
    return values, prices, counts, classes, size


def price(values, prices, counts, classes, size, threshold, grow, room=8):
    return _best_groups(values, prices, counts, size, threshold, classes,
                        _class_weights(values, classes, NEG), room, grow, 10**9)


@pytest.mark.parametrize("seed", range(4))
def test_the_pricing_finds_the_best_group(seed):
    rng = np.random.default_rng(seed)
    for _ in range(300):
        values, prices, counts, classes, size = random_pricing(rng)
        expected = best_group_by_brute_force(values, prices, counts, size)
        best, columns, found, _, status = price(values, prices, counts, classes, size,
                                                -1e18, grow=True)
        assert status == COMPLETE
        if not np.isfinite(expected):
            assert found == 0
            continue
        assert found >= 1 and best == pytest.approx(expected, abs=1e-9)
        # Its last column is a best group, and a valid one.
        group = tuple(columns[(found - 1) % len(columns)])
        assert all(group.count(c) <= counts[c] for c in set(group))
        worth = sum(values[a, b] for a, b in itertools.combinations(group, 2))
        assert worth - prices[list(group)].sum() == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_the_pricing_threshold_proves_or_finds(seed):
    """Just above the best group nothing is found (and the search completes, which
    is the proof); just below it, a group worth more than the threshold is."""
    rng = np.random.default_rng(100 + seed)
    for _ in range(300):
        values, prices, counts, classes, size = random_pricing(rng)
        expected = best_group_by_brute_force(values, prices, counts, size)
        if not np.isfinite(expected):
            continue
        _, _, found, _, status = price(values, prices, counts, classes, size,
                                       expected + 1e-6, grow=False)
        assert found == 0 and status == COMPLETE
        _, columns, found, _, _ = price(values, prices, counts, classes, size,
                                        expected - 1e-6, grow=False)
        assert found >= 1
        for group in columns[: min(found, len(columns))]:
            worth = sum(values[a, b] for a, b in itertools.combinations(group, 2))
            assert worth - prices[group].sum() > expected - 1e-6


def test_the_pricing_stops_at_its_node_budget():
    rng = np.random.default_rng(7)
    values = rng.integers(0, 9, (40, 40)).astype(np.float64)
    values = np.triu(values) + np.triu(values, 1).T
    classes = np.zeros(40, np.int64)
    *_, status = _best_groups(values, np.zeros(40), np.ones(40, np.int64), 5, -1e18, classes,
                              _class_weights(values, classes, NEG), 8, True, 10)
    assert status != COMPLETE


# -- tiny rounds against every valid round ----------------------------------------------

DEPARTMENTS = ("Finance", "IT", "HR", "Estates")
SITES = ("", "York", "Leeds")
ROLES = ("", "nurse", "porter")
MODES = ("either",) * 10 + ("virtual", "in-person")


def random_problem(rng, n: int, size: int, odd: str) -> Problem:
    """``n`` people with random attributes and modes, a past round or two of
    pairs, an avoid pair, random weights and sit-out counts."""
    people = tuple(
        Participant(f"p{k}", str(rng.choice(DEPARTMENTS)),
                    organisation=str(rng.choice(("", "NHS", "Uni"))),
                    site=str(rng.choice(SITES)), role=str(rng.choice(ROLES)),
                    mode=str(rng.choice(MODES)))
        for k in range(n)
    )
    ids = [p.id for p in people]
    rounds = []
    for _ in range(int(rng.integers(0, 3))):
        order = rng.permutation(ids).tolist()
        rounds.append(PastRound(tuple(zip(order[0::2], order[1::2], strict=False)),
                                tuple(order[: int(rng.integers(0, 3))])))
    avoid = frozenset({tuple(rng.choice(ids, 2, replace=False).tolist())}) \
        if rng.random() < 0.5 else frozenset()
    weights = Weights() if rng.random() < 0.5 else Weights(*rng.integers(0, 6, 4).tolist())
    return Problem(people, History.from_rounds(rounds), avoid, weights, size, odd)


@pytest.mark.parametrize("size", [3, 4])
@pytest.mark.parametrize("odd", ["triad", "sitout"])
def test_the_bound_holds_for_every_valid_round(size, odd):
    """Rounds of 6 to 10 people: the bound, started from any valid round, is at
    least the mixing points of the best valid round (whatever its repeats)."""
    rng = np.random.default_rng([size, len(odd)])
    checked = 0
    for _ in range(40):
        problem = random_problem(rng, int(rng.integers(6, 11)), size, odd)
        plans = list(all_plans(problem))
        if not plans:
            continue
        best = max(figures(problem, groups)[2] for groups, _ in plans)
        scorer = Scorer(problem, pairs_per_change=4 * size * size)
        for pick in {0, len(plans) // 2, len(plans) - 1}:
            groups = [[scorer.index[x] for x in g] for g in plans[pick][0]]
            # Every group listed and priced in numpy, or searched for (compiled).
            listed = _partition(problem, scorer, groups)
            searched = _partition(problem, scorer, groups, list_limit=0)
            for relaxation in (listed, searched):
                assert relaxation is not None and relaxation.converged
                assert relaxation.bound >= best
                assert relaxation.bound >= figures(problem, plans[pick][0])[2]
            assert abs(listed.value - searched.value) < 1e-5
            sitting = [scorer.index[x] for x in plans[pick][1]]
            assert _mixing_bound(problem, scorer, groups, sitting, False) >= best
        checked += 1
    assert checked >= 15


def test_the_bound_holds_when_the_pricing_runs_out_of_work():
    """With the exact pricing cut short, a size is bounded by the average of its
    subgroups (or nothing is certified): still never below the best round."""
    rng = np.random.default_rng(11)
    averaged = 0
    for _ in range(60):
        problem = random_problem(rng, int(rng.integers(7, 11)), int(rng.choice([3, 4])),
                                 "triad")
        plans = list(all_plans(problem))
        if not plans:
            continue
        best = max(figures(problem, groups)[2] for groups, _ in plans)
        scorer = Scorer(problem, pairs_per_change=36)
        groups = [[scorer.index[x] for x in g] for g in plans[0][0]]
        for work in (40, 400, 4000):
            relaxation = _partition(problem, scorer, groups, node_limit=work, list_limit=0)
            if relaxation is None:
                continue
            assert relaxation.bound >= best
            averaged += not relaxation.converged
    assert averaged >= 10


@pytest.mark.parametrize("size", [3, 4])
def test_the_bound_is_no_weaker_than_the_transportation_bound(size):
    """Every fractional partition gives partner flows between types, so once the
    column generation converges the bound is at most the transportation bound."""
    rng = np.random.default_rng(size)
    for _ in range(20):
        n = int(rng.integers(13, 40))
        problem = random_problem(rng, n, size, "triad")
        try:
            result = make_round(problem, seed=1, time_limit=2)
        except Infeasible:  # an impossible round: nothing to bound
            continue
        scorer = Scorer(problem, pairs_per_change=4 * size * size)
        groups = [[scorer.index[x] for x in g] for g in result.groups]
        # Half listed (if few enough types), half searched.
        relaxation = _partition(problem, scorer, groups, **({"list_limit": 0} if n % 2 else {}))
        assert relaxation is not None and relaxation.converged
        mix, comp = scorer.type_mixing()
        sizes = [len(g) for g in groups]
        flow = type_partner_bound(mix, comp, scorer.type_count, max(sizes) - 1,
                                  sum(s * (s - 1) for s in sizes))
        assert result.metrics.score <= relaxation.bound <= flow


# -- the bound in the solver's report ---------------------------------------------------


def organisation(n: int, seed: int) -> tuple[Participant, ...]:
    """``n`` people of a skewed organisation: a large department, two sites, roles,
    some who meet only online or only in person."""
    rng = np.random.default_rng(seed)
    departments = rng.choice(12, size=n, p=np.r_[0.3, np.full(11, 0.7 / 11)])
    return tuple(
        Participant(f"p{k:03d}", f"dept-{departments[k]}",
                    organisation=("Main", "Labs")[int(rng.random() < 0.15)],
                    site=("London", "Leeds")[int(rng.random() < 0.3)],
                    role=f"role-{int(rng.integers(4))}",
                    mode=str(rng.choice(("either", "either", "either", "virtual", "in-person"))))
        for k in range(n)
    )


@pytest.mark.parametrize("size,odd,n", [(3, "triad", 61), (4, "triad", 90), (3, "sitout", 76),
                                        (4, "sitout", 63)])
def test_rounds_of_groups_are_certified_within_a_few_percent(size, odd, n):
    """With a history, an avoid pair and sit-outs: the round is valid, its bound
    holds (at least its score) and the certified gap is small."""
    people = organisation(n, seed=n)
    ids = [p.id for p in people]
    rng = np.random.default_rng(n)
    history = History.from_rounds(
        [PastRound(tuple(zip(o[0::2], o[1::2], strict=False)))
         for o in (rng.permutation(ids).tolist() for _ in range(3))])
    problem = Problem(people, history, frozenset({(ids[0], ids[1])}), group_size=size, odd=odd)
    result = make_round(problem, seed=3, time_limit=5)
    check_round(problem, result)
    assert result.metrics.method == "local-search"
    assert result.metrics.score <= result.metrics.bound
    assert result.metrics.gap <= 0.03


def test_the_bound_starts_from_any_round():
    """The restricted problem starts from the round it is given, kept feasible by
    artificial columns: a round that breaks the meeting modes (people dealt in
    order), or none at all, gives the same bound as the solver's round."""
    people = organisation(48, seed=5)
    problem = Problem(people, group_size=3)
    scorer = Scorer(problem, pairs_per_change=36)
    solved = make_round(problem, seed=1)
    mix, comp = scorer.type_mixing()
    classes = pricing_classes(scorer.codes[:, scorer.type_first], scorer.weights)
    bounds = []
    for start in ([[scorer.index[x] for x in g] for g in solved.groups],
                  [list(range(k, k + 3)) for k in range(0, 48, 3)], []):
        relaxation = partition_bound(mix, comp, scorer.type_count, {3: 16},
                                     start=[scorer.type_of[g] for g in start], classes=classes)
        assert relaxation is not None and relaxation.converged
        bounds.append(relaxation.value)
    assert max(bounds) - min(bounds) < 1e-5
    assert solved.metrics.bound == int(bounds[0] + 1e-6) >= solved.metrics.score


def test_pricing_classes_use_attributes_with_few_values():
    codes = np.array([[0, 1, 2, 3, 4, 5], [0, 0, 1, 1, 0, 1], [0, 1, 2, 0, 1, 2]])
    classes = pricing_classes(codes, np.array([4, 2, 1]), limit=6)
    # Department (six values) is left out; organisation × site gives the classes.
    pairs = list(zip(codes[1].tolist(), codes[2].tolist(), strict=True))
    for a, b in itertools.combinations(range(6), 2):
        assert (classes[a] == classes[b]) == (pairs[a] == pairs[b])
    # Attributes without weight never make classes; nor do those with too many values.
    assert len(np.unique(pricing_classes(codes, np.array([4, 0, 0]), limit=5))) == 1
