"""The pairing solver against docs/matching.md, checked independently of its own figures.

Every round the solver returns is re-checked here from scratch (hard rules,
group sizes, sit-out fairness, repeats, mixing points, bound and gap) with
:func:`solvers.model.compatible` and :func:`solvers.model.mixing_score`, and on
small problems compared with a brute force over every valid round.
"""

from __future__ import annotations

import time
from collections import Counter
from itertools import combinations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from solvers import pairing
from solvers.model import (
    History,
    Infeasible,
    Participant,
    PastRound,
    Problem,
    RoundPlan,
    Weights,
    compatible,
    mixing_score,
    pair_key,
)
from solvers.pairing import make_round, plan_rounds
from tests.support.hypothesis import examples

DEPARTMENTS = ("Finance", "IT", "HR")
ORGANISATIONS = ("", "NHS", "Uni")
SITES = ("", "York", "Leeds")
ROLES = ("", "nurse", "porter")
#: Mostly "either" (shrinks to it), so most instances are feasible.
MODES = ("either",) * 5 + ("virtual", "in-person")

PROPERTY = settings(
    max_examples=examples(100),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- an independent model of a valid round ------------------------------------------


def group_sizes(n: int, size: int, odd: str) -> tuple[list[int], int]:
    """The group sizes docs/matching.md asks for, and how many sit out.

    Pairs: all pairs, plus one triad (``triad``) or one sit-out (``sitout``) when n
    is odd. Larger groups: n // size groups; the n mod size left over join groups
    as evenly as possible (``triad``) or sit out (``sitout``).
    """
    count, left = divmod(n, size)
    if odd == "sitout":
        return [size] * count, left
    if n < 2:
        return [], n  # infeasible under triad: nobody to meet
    if count == 0:
        return [n], 0
    sizes = [size] * count
    for k in range(left):
        sizes[k % count] += 1
    return sizes, 0


def fair_sitters(problem: Problem, count: int) -> list[tuple[str, ...]]:
    """Every set of ``count`` people who may sit out: nobody outside it has sat out
    fewer times than somebody in it."""
    ids = [p.id for p in problem.people]
    times = {pid: problem.history.sat_out.get(pid, 0) for pid in ids}
    out = []
    for chosen in combinations(ids, count):
        rest = [pid for pid in ids if pid not in chosen]
        if not chosen or not rest or max(times[c] for c in chosen) <= min(times[r] for r in rest):
            out.append(chosen)
    return out


def partitions(items: list[str], sizes: list[int]):
    """Every split of ``items`` into unordered groups of the given sizes."""
    if not items:
        if not sizes:
            yield []
        return
    first, rest = items[0], items[1:]
    for size in sorted(set(sizes)):
        remaining = list(sizes)
        remaining.remove(size)
        for mates in combinations(rest, size - 1):
            left = [x for x in rest if x not in mates]
            for tail in partitions(left, remaining):
                yield [(first, *mates), *tail]


def allowed(problem: Problem, a: Participant, b: Participant) -> bool:
    return compatible(a, b) and pair_key(a.id, b.id) not in problem.avoid


def all_plans(problem: Problem):
    """Every valid round as (groups, sitting out), by brute force (small n only)."""
    by_id = {p.id: p for p in problem.people}
    sizes, sit = group_sizes(len(problem.people), problem.group_size, problem.odd)
    if problem.odd == "triad" and len(problem.people) < 2:
        return
    for sitters in fair_sitters(problem, sit):
        seated = [p.id for p in problem.people if p.id not in sitters]
        for groups in partitions(seated, sizes):
            if all(
                allowed(problem, by_id[a], by_id[b])
                for g in groups
                for a, b in combinations(g, 2)
            ):
                yield groups, sitters


def figures(problem: Problem, groups) -> tuple[int, int, int]:
    """(repeats, recency, mixing score) of some groups, recency of a repeated pair
    being ``oldest + 1 - age`` (a recent repeat costs more)."""
    by_id = {p.id: p for p in problem.people}
    present = set(by_id)
    ages = {k: v for k, v in problem.history.last_met.items() if set(k) <= present}
    oldest = max(ages.values(), default=0)
    repeats = recency = score = 0
    for g in groups:
        for a, b in combinations(g, 2):
            score += mixing_score(by_id[a], by_id[b], problem.weights)
            age = ages.get(pair_key(a, b))
            if age:
                repeats += 1
                recency += oldest + 1 - age
    return repeats, recency, score


def objective(problem: Problem, groups) -> tuple[int, int, int]:
    """Smaller is better: fewest repeats, then least recent, then most mixing."""
    repeats, recency, score = figures(problem, groups)
    return repeats, recency, -score


def check_round(problem: Problem, result: RoundPlan) -> None:
    """Assert that ``result`` is a valid round of ``problem`` with honest figures."""
    by_id = {p.id: p for p in problem.people}
    n = len(problem.people)
    placed = [x for g in result.groups for x in g] + list(result.sitting_out)
    # Hard rules: everyone exactly once; avoid list; meeting modes.
    assert sorted(placed) == sorted(by_id), "not everyone is placed exactly once"
    for g in result.groups:
        for a, b in combinations(g, 2):
            assert pair_key(a, b) not in problem.avoid, f"avoid pair {a},{b} share a group"
            assert compatible(by_id[a], by_id[b]), f"{a},{b} have incompatible modes"
    # Sizes.
    sizes, sit = group_sizes(n, problem.group_size, problem.odd)
    assert sorted(len(g) for g in result.groups) == sorted(sizes)
    assert len(result.sitting_out) == sit
    if problem.group_size == 2:
        assert sum(len(g) == 3 for g in result.groups) <= 1
        assert len(result.sitting_out) <= 1
    # Fair sit-outs: nobody seated has sat out fewer times than somebody sitting out.
    if result.sitting_out:
        times = problem.history.sat_out
        seated = [pid for pid in by_id if pid not in result.sitting_out]
        if seated:
            assert max(times.get(x, 0) for x in result.sitting_out) <= min(
                times.get(x, 0) for x in seated
            )
    # Figures, recomputed.
    m = result.metrics
    repeats, _, score = figures(problem, result.groups)
    assert len(result.group_scores) == len(result.groups)
    for g, s in zip(result.groups, result.group_scores, strict=True):
        assert s == sum(mixing_score(by_id[a], by_id[b], problem.weights)
                        for a, b in combinations(g, 2))
    pairs = [(a, b) for g in result.groups for a, b in combinations(g, 2)]
    cross = sum(by_id[a].department != by_id[b].department for a, b in pairs)
    assert m.score == score == sum(result.group_scores)
    assert m.repeats == repeats
    assert m.people == n
    assert m.groups == len(result.groups)
    assert m.sitting_out == len(result.sitting_out)
    assert m.cross_department_share == pytest.approx(cross / len(pairs) if pairs else 0.0)
    assert 0 <= m.repeats_bound <= m.repeats
    assert m.bound >= m.score
    assert 0.0 <= m.gap <= 1.0
    if m.bound > 0:
        assert m.gap == pytest.approx((m.bound - m.score) / m.bound)
    else:
        assert m.gap == 0.0


def check_against_brute_force(problem: Problem, result: RoundPlan, plans) -> None:
    """The reported bounds hold for every valid round no worse in repeats and recency."""
    m = result.metrics
    repeats, recency, _ = figures(problem, result.groups)
    keys = [figures(problem, groups) for groups, _ in plans]
    assert m.repeats_bound <= min(k[0] for k in keys)
    no_worse = [k[2] for k in keys if k[:2] <= (repeats, recency)]
    assert m.bound >= max(no_worse)


# -- random small problems ------------------------------------------------------------


@st.composite
def histories(draw, ids: list[str]) -> History:
    """A few past rounds over the people (and one who has left since)."""
    pool_ids = [*ids, "gone"]
    rounds = []
    for _ in range(draw(st.integers(0, 4))):
        pool = draw(st.permutations(pool_ids))
        take = draw(st.integers(0, len(pool)))
        chosen, rest = pool[:take], pool[take:]
        groups, k = [], 0
        while k < len(chosen):
            size = draw(st.integers(2, 3))
            if len(chosen[k : k + size]) >= 2:
                groups.append(tuple(chosen[k : k + size]))
            k += size
        sitting = tuple(rest[: draw(st.integers(0, len(rest)))])
        rounds.append(PastRound(tuple(groups), sitting))
    return History.from_rounds(rounds)


@st.composite
def problems(draw, sizes=(2, 3, 4), odds=("triad", "sitout"), min_n=2, max_n=9,
             modes=MODES, parity=None):
    n = draw(st.integers(min_n, max_n))
    if parity == "even":
        n -= n % 2
    elif parity == "odd":
        n -= 1 - n % 2
    assume(n >= min_n)
    people = tuple(
        Participant(
            f"p{k}",
            draw(st.sampled_from(DEPARTMENTS)),
            organisation=draw(st.sampled_from(ORGANISATIONS)),
            site=draw(st.sampled_from(SITES)),
            role=draw(st.sampled_from(ROLES)),
            mode=draw(st.sampled_from(modes)),
        )
        for k in range(n)
    )
    ids = [p.id for p in people]
    history = draw(histories(ids))
    avoid = draw(
        st.lists(
            st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(lambda t: t[0] != t[1]),
            max_size=3,
        )
    )
    weights = draw(
        st.one_of(
            st.just(Weights()),
            st.builds(Weights, *(st.integers(0, 5) for _ in range(4))),
        )
    )
    return Problem(
        people=people,
        history=history,
        avoid=frozenset(avoid),
        weights=weights,
        group_size=draw(st.sampled_from(sizes)),
        odd=draw(st.sampled_from(odds)),
    )


@PROPERTY
@given(problem=problems(), seed=st.integers(0, 2**16))
def test_every_round_is_valid_or_truly_infeasible(problem, seed):
    try:
        result = make_round(problem, seed=seed, time_limit=2)
    except Infeasible as error:
        assert error.rule in ("mode", "avoid", "size")
        assert set(error.people) <= {p.id for p in problem.people}
        assert error.people
        found = next(all_plans(problem), None)
        assert found is None, f"solver said infeasible ({error.rule}) but {found} is valid"
        return
    check_round(problem, result)
    check_against_brute_force(problem, result, list(all_plans(problem)))


def with_history(problem: Problem, history: History) -> Problem:
    return Problem(problem.people, history, problem.avoid, problem.weights,
                   problem.group_size, problem.odd)


def assert_first_failing_round_is_infeasible(problem, rounds, seed, error) -> None:
    """Find the first round ``plan_rounds`` cannot make (planning 1, 2, ... rounds)
    and check by brute force that it has no valid answer given the rounds before."""
    done: list[RoundPlan] = []
    for k in range(1, rounds + 1):
        try:
            done = plan_rounds(problem, k, seed=seed, time_limit=4)
        except Infeasible:
            break
    history = problem.history
    for r in done:
        history = history.then(PastRound(r.groups, r.sitting_out))
    found = next(all_plans(with_history(problem, history)), None)
    assert found is None, (
        f"plan_rounds raised Infeasible({error.rule}, {error.people}) on round "
        f"{len(done) + 1}, after {[(r.groups, r.sitting_out) for r in done]}, "
        f"but {found} is valid"
    )


@settings(PROPERTY, max_examples=examples(100))
@given(problem=problems(max_n=7), seed=st.integers(0, 2**16), rounds=st.integers(2, 3))
def test_planned_rounds_are_valid_against_the_growing_history(problem, seed, rounds):
    """Each planned round is valid for the history extended by the rounds before it
    (whether the plan comes from round-by-round solving or the round-robin)."""
    assume(next(all_plans(problem), None) is not None)
    try:
        plan = plan_rounds(problem, rounds, seed=seed, time_limit=4)
    except Infeasible as error:
        # Without sit-outs the history only changes what is good, never what is
        # allowed: a first round that exists means every round exists.
        assert problem.odd == "sitout" and len(problem.people) % problem.group_size, (
            f"plan_rounds raised Infeasible({error.rule}, {error.people}): {error}"
        )
        # With sit-outs, who may sit out depends on the earlier rounds: the error
        # is right only if the round it failed on has no valid answer.
        assert_first_failing_round_is_infeasible(problem, rounds, seed, error)
        return
    assert len(plan) == rounds
    history = problem.history
    for result in plan:
        check_round(with_history(problem, history), result)
        history = history.then(PastRound(result.groups, result.sitting_out))


# -- optimality against a brute force ----------------------------------------------


@PROPERTY
@given(
    problem=problems(sizes=(2,), odds=("triad",), max_n=10, parity="even")
    | problems(sizes=(2,), odds=("sitout",), max_n=9),
    seed=st.integers(0, 2**16),
)
def test_pairs_are_lexicographically_optimal(problem, seed):
    """Even n, or odd n with sit-outs: fewest repeats, then oldest, then most mixing."""
    plans = list(all_plans(problem))
    if not plans:
        with pytest.raises(Infeasible):
            make_round(problem, seed=seed)
        return
    best = min(objective(problem, groups) for groups, _ in plans)
    result = make_round(problem, seed=seed)
    check_round(problem, result)
    assert objective(problem, result.groups) == best
    repeats, _, score = figures(problem, result.groups)
    assert (result.metrics.repeats, result.metrics.score) == (repeats, score)
    if result.metrics.method == "exact":
        assert result.metrics.gap == 0
    check_against_brute_force(problem, result, plans)


@PROPERTY
@given(problem=problems(sizes=(2,), odds=("triad",), min_n=3, max_n=9, parity="odd"),
       seed=st.integers(0, 2**16))
def test_triad_round_is_valid_and_within_its_bound(problem, seed):
    """Odd n with a triad: the round is valid, its score within its own bound, and
    the bound holds for every valid round no worse in repeats and recency."""
    plans = list(all_plans(problem))
    assume(plans)
    try:
        result = make_round(problem, seed=seed)
    except Infeasible as error:
        raise AssertionError(
            f"Infeasible({error.rule}, {error.people}) but {plans[0]} is valid"
        ) from error
    check_round(problem, result)
    check_against_brute_force(problem, result, plans)


@PROPERTY
@given(problem=problems(sizes=(2,), odds=("triad",), min_n=3, max_n=9, parity="odd",
                        modes=("either",)).filter(lambda p: not p.avoid),
       seed=st.integers(0, 2**16))
def test_triad_round_is_lexicographically_optimal(problem, seed):
    plans = list(all_plans(problem))
    assume(plans)
    result = make_round(problem, seed=seed)
    best = min(objective(problem, groups) for groups, _ in plans)
    assert objective(problem, result.groups) == best


@pytest.mark.parametrize("sat_out_before", [(), ("p0",)], ids=["fresh", "p0 sat out"])
@pytest.mark.parametrize("seed", range(4))
def test_five_rounds_of_five_sit_each_person_out_once(sat_out_before, seed):
    """Five people, five rounds (the circle method with a placeholder, or
    round by round where its sit-outs would be unfair): nobody meets anyone
    twice, everyone sits out once, and nobody twice before everyone has once."""
    people = tuple(Participant(f"p{k}", "AB"[k % 2]) for k in range(5))
    history = History.from_rounds([PastRound((), sat_out_before)] if sat_out_before else [])
    problem = Problem(people, history, odd="sitout")
    plan = plan_rounds(problem, 5, seed=seed)
    for result in plan:
        check_round(with_history(problem, history), result)
        history = history.then(PastRound(result.groups, result.sitting_out))
    sat_out = [p for result in plan for p in result.sitting_out]
    assert sorted(sat_out) == ["p0", "p1", "p2", "p3", "p4"]
    if sat_out_before:
        assert sat_out[-1] == "p0"
    assert sum(result.metrics.repeats for result in plan) == 0


def test_forced_repeats_meet_their_lower_bound():
    """Four people who have all met: any round repeats two pairs, and the
    round's repeats bound proves it."""
    people = tuple(Participant(f"p{k}", "AB"[k % 2]) for k in range(4))
    history = History.from_rounds([
        PastRound((("p0", "p1"), ("p2", "p3"))), PastRound((("p0", "p2"), ("p1", "p3"))),
        PastRound((("p0", "p3"), ("p1", "p2")))])
    problem = Problem(people, history)
    result = make_round(problem, seed=0)
    check_round(problem, result)
    assert result.metrics.repeats == result.metrics.repeats_bound == 2


def test_triad_optimum_three_departments():
    """No history: the best round puts one of each department in the triad."""
    people = (
        Participant("a", "X"), Participant("b", "X"), Participant("c", "Y"),
        Participant("d", "Y"), Participant("e", "Z"),
    )
    problem = Problem(people)
    plans = list(all_plans(problem))
    best = min(objective(problem, g) for g, _ in plans)
    result = make_round(problem, seed=0)
    check_round(problem, result)
    assert objective(problem, result.groups) == best == (0, 0, -16)


@pytest.mark.parametrize("seed", range(3))
def test_triad_optimum_roles(seed):
    """One department, roles differ only among p2-p4: the best round is the triad
    {p2, p3, p4} (nurse, nurse, porter: 2 points) and the pair {p0, p1}."""
    roles = ("", "", "nurse", "nurse", "porter")
    people = tuple(Participant(f"p{k}", "Finance", role=r) for k, r in enumerate(roles))
    problem = Problem(people)
    result = make_round(problem, seed=seed)
    check_round(problem, result)
    assert result.metrics.score == 2


def test_triad_optimum_needs_a_pair_outside_the_matching():
    """Pairing everyone else optimally, then adding the extra person, scores 13
    here; the best round, {p0, p1} + {p2, p3, p4} + {p5, p6}, scores 14."""
    people = (
        Participant("p0", "B", role="r1"),
        Participant("p1", "A", role="r1"),
        Participant("p2", "A", role="r1"),
        Participant("p3", "B", role="r1"),
        Participant("p4", "A", role="r2"),
        Participant("p5", "A"),
        Participant("p6", "A"),
    )
    problem = Problem(people)
    plans = list(all_plans(problem))
    assert min(objective(problem, g) for g, _ in plans) == (0, 0, -14)
    for seed in range(10):
        result = make_round(problem, seed=seed)
        check_round(problem, result)
        assert result.metrics.score == 14, f"seed {seed}"


# -- several rounds -------------------------------------------------------------------


@pytest.mark.parametrize("n", [6, 8, 12, 20])
def test_n_minus_one_rounds_without_repeats_one_department(n):
    people = tuple(Participant(f"p{k}", "Only") for k in range(n))
    plan = plan_rounds(Problem(people), rounds=n - 1, seed=3)
    met = Counter(pair_key(*g) for r in plan for g in r.groups)
    assert all(len(g) == 2 for r in plan for g in r.groups)
    assert sum(r.metrics.repeats for r in plan) == 0
    assert len(met) == n * (n - 1) // 2 and set(met.values()) == {1}


def test_n_minus_one_rounds_without_repeats_three_departments():
    people = tuple(Participant(f"p{k}", DEPARTMENTS[k % 3]) for k in range(10))
    problem = Problem(people)
    plan = plan_rounds(problem, rounds=9, seed=5)
    met = Counter(pair_key(*g) for r in plan for g in r.groups)
    assert sum(r.metrics.repeats for r in plan) == 0
    assert len(met) == 45 and set(met.values()) == {1}
    history = History()
    for r in plan:
        check_round(Problem(people, history), r)
        history = history.then(PastRound(r.groups, r.sitting_out))


def test_few_rounds_avoid_repeats_with_history():
    people = tuple(Participant(f"p{k}", DEPARTMENTS[k % 3], site=SITES[k % 3]) for k in range(12))
    ids = [p.id for p in people]
    past = [
        PastRound(tuple((ids[k], ids[k + 1]) for k in range(0, 12, 2))),
        PastRound(tuple((ids[k], ids[(k + 3) % 12]) for k in range(0, 12, 2))),
        PastRound(tuple((ids[k], ids[k + 1], ids[k + 2]) for k in range(0, 12, 3))),
    ]
    problem = Problem(people, History.from_rounds(past))
    plan = plan_rounds(problem, rounds=3, seed=7)
    history = problem.history
    for r in plan:
        check_round(Problem(people, history), r)
        assert r.metrics.repeats == 0
        history = history.then(PastRound(r.groups, r.sitting_out))


def test_fair_sit_outs_over_fourteen_rounds():
    people = tuple(Participant(f"p{k}", DEPARTMENTS[k % 3]) for k in range(7))
    plan = plan_rounds(Problem(people, odd="sitout"), rounds=14, seed=11)
    sitters = [r.sitting_out for r in plan]
    assert all(len(s) == 1 for s in sitters)
    flat = [s[0] for s in sitters]
    assert Counter(flat) == {p.id: 2 for p in people}
    assert len(set(flat[:7])) == 7 and len(set(flat[7:])) == 7  # nobody twice before all once
    history = History()
    for r in plan:
        check_round(Problem(people, history, odd="sitout"), r)
        history = history.then(PastRound(r.groups, r.sitting_out))


TRIAD_TRAPS = {
    # e meets only in person at York, where only a and b are: a valid round has e
    # in the triad {e, a, b} or paired with a or b (seed 1 fails).
    "modes": Problem((
        Participant("e", "X", site="York", mode="in-person"),
        Participant("a", "X", site="York"),
        Participant("b", "X", site="York"),
        Participant("c", "X", mode="virtual"),
        Participant("d", "X", mode="virtual"),
    )),
    # p4 may not meet p0 or p1: the only valid round is {p0, p1} + {p2, p3, p4}
    # (seed 2 fails).
    "avoid": Problem(
        tuple(Participant(f"p{k}", "Finance") for k in range(5)),
        avoid=frozenset({("p0", "p4"), ("p1", "p4")}),
    ),
}


@pytest.mark.parametrize("case", sorted(TRIAD_TRAPS))
def test_triad_extra_person_is_placed_when_a_triad_exists(case):
    """Odd n, triad: the solver must find a valid round whenever one exists, for
    every seed (not only when the odd person's best partners happen to be paired)."""
    problem = TRIAD_TRAPS[case]
    assert next(all_plans(problem), None) is not None
    for seed in range(10):
        check_round(problem, make_round(problem, seed=seed))
    plan = plan_rounds(problem, rounds=3, seed=0)
    history = History()
    for r in plan:
        check_round(Problem(problem.people, history, problem.avoid), r)
        history = history.then(PastRound(r.groups, r.sitting_out))


# -- recency and the priority of repeats over mixing -----------------------------------


def four_people():
    return (Participant("a", "X"), Participant("b", "X"), Participant("c", "Y"),
            Participant("d", "Y"))


def test_new_pairs_beat_any_mixing():
    history = History.from_rounds([
        PastRound((("a", "c"), ("b", "d"))),
        PastRound((("a", "d"), ("b", "c"))),
    ])
    result = make_round(Problem(four_people(), history), seed=0)
    assert {frozenset(g) for g in result.groups} == {frozenset("ab"), frozenset("cd")}
    assert (result.metrics.repeats, result.metrics.score) == (0, 0)


def test_unavoidable_repeat_takes_the_oldest_over_more_mixing():
    # Every pairing of four repeats two pairs; a-b/c-d met longest ago, with no mixing.
    history = History.from_rounds([
        PastRound((("a", "b"), ("c", "d"))),
        PastRound((("a", "c"), ("b", "d"))),
        PastRound((("a", "d"), ("b", "c"))),
    ])
    for seed in range(5):
        result = make_round(Problem(four_people(), history), seed=seed)
        assert {frozenset(g) for g in result.groups} == {frozenset("ab"), frozenset("cd")}
        assert (result.metrics.repeats, result.metrics.score) == (2, 0)


def test_unavoidable_repeat_takes_the_oldest_with_more_mixing_too():
    history = History.from_rounds([
        PastRound((("a", "c"), ("b", "d"))),
        PastRound((("a", "b"), ("c", "d"))),
        PastRound((("a", "d"), ("b", "c"))),
    ])
    result = make_round(Problem(four_people(), history), seed=0)
    assert {frozenset(g) for g in result.groups} == {frozenset("ac"), frozenset("bd")}


def test_fewer_repeats_beat_older_repeats():
    # a-b met in the latest round; the other pairings repeat two older pairs each.
    history = History.from_rounds([
        PastRound((("a", "c"), ("b", "d"))),
        PastRound((("a", "d"), ("b", "c"))),
        PastRound((("a", "b"),), ("c", "d")),
    ])
    result = make_round(Problem(four_people(), history), seed=0)
    assert {frozenset(g) for g in result.groups} == {frozenset("ab"), frozenset("cd")}
    assert result.metrics.repeats == 1


def test_recency_follows_latest_meeting():
    # a-c met 3 rounds ago and again in the latest; a-d 2 rounds ago: a-d is older.
    people = (Participant("a", "X"), Participant("b", "X"), Participant("c", "Y"),
              Participant("d", "Y"))
    history = History.from_rounds([
        PastRound((("a", "c"), ("b", "d"))),
        PastRound((("a", "d"), ("b", "c"))),
        PastRound((("a", "c"), ("b", "d"))),
        PastRound((("a", "b"), ("c", "d"))),
    ])
    assert history.last_met[("a", "c")] == 2 and history.last_met[("a", "d")] == 3
    result = make_round(Problem(people, history), seed=0)
    assert {frozenset(g) for g in result.groups} == {frozenset("ad"), frozenset("bc")}


# -- history ages ---------------------------------------------------------------------


def test_history_from_rounds_ages_and_sit_outs():
    history = History.from_rounds([
        PastRound((("a", "b"), ("c", "d", "e")), ("f",)),
        PastRound((("a", "c"),), ("f", "b")),
        PastRound((("a", "b", "a"),), ("f",)),
    ])
    assert history.rounds == 3
    assert dict(history.last_met) == {
        ("a", "b"): 1,
        ("c", "d"): 3, ("c", "e"): 3, ("d", "e"): 3,
        ("a", "c"): 2,
    }
    assert dict(history.sat_out) == {"f": 3, "b": 1}


def test_history_then_ages_by_one_and_latest_is_one():
    history = History.from_rounds([PastRound((("b", "a"),)), PastRound((("c", "d"),), ("a",))])
    assert history.last_met == {("a", "b"): 2, ("c", "d"): 1}
    later = history.then(PastRound((("d", "c", "e"),), ("b",)))
    assert later.rounds == 3
    assert later.last_met == {("a", "b"): 3, ("c", "d"): 1, ("c", "e"): 1, ("d", "e"): 1}
    assert later.sat_out == {"a": 1, "b": 1}
    assert history.last_met == {("a", "b"): 2, ("c", "d"): 1}  # unchanged
    empty = History().then(PastRound((("x", "y"),)))
    assert empty.last_met == {("x", "y"): 1} and empty.rounds == 1


# -- determinism ----------------------------------------------------------------------


def plain(plan: list[RoundPlan]):
    """A plan without the timings (which differ from run to run)."""
    return [
        (r.groups, r.group_scores, r.sitting_out,
         {k: v for k, v in r.metrics.as_dict().items() if k != "seconds"})
        for r in plan
    ]


@pytest.mark.parametrize("group_size,odd,n", [(2, "triad", 9), (2, "sitout", 9), (3, "triad", 13)])
def test_same_seed_same_plan(group_size, odd, n):
    people = tuple(Participant(f"p{k}", DEPARTMENTS[k % 3], site=SITES[k % 2]) for k in range(n))
    problem = Problem(people, group_size=group_size, odd=odd)
    assert plain(plan_rounds(problem, 3, seed=42)) == plain(plan_rounds(problem, 3, seed=42))


def test_different_seeds_break_ties_differently():
    people = tuple(Participant(f"p{k}", "Only") for k in range(8))
    plans = {frozenset(frozenset(g) for g in make_round(Problem(people), seed=s).groups)
             for s in range(8)}
    assert len(plans) >= 2


# -- larger groups --------------------------------------------------------------------


@pytest.mark.parametrize("group_size", [3, 4])
@pytest.mark.parametrize("n", [13, 22])
@pytest.mark.parametrize("odd", ["triad", "sitout"])
def test_larger_groups(group_size, n, odd):
    people = tuple(
        Participant(f"p{k}", DEPARTMENTS[k % 3], role=ROLES[k % 3], site=SITES[k % 3])
        for k in range(n)
    )
    problem = Problem(people, group_size=group_size, odd=odd)
    plan = plan_rounds(problem, rounds=2, seed=1, time_limit=4)
    history = History()
    for r in plan:
        current = Problem(people, history, group_size=group_size, odd=odd)
        check_round(current, r)
        history = history.then(PastRound(r.groups, r.sitting_out))
    assert plan[0].metrics.repeats == 0
    # A second round can avoid every repeat only if each new group can take its
    # members from different groups of the first (n = 13, size 4: 3 groups, no).
    if len(plan[0].groups) >= max(map(len, plan[1].groups)):
        assert plan[1].metrics.repeats == 0


# -- the large-N local search -----------------------------------------------------------


def test_local_search_above_the_exact_limit():
    n = max(4500, pairing.EXACT_LIMIT + 500)
    departments = ["Medicine"] * 9 + ["Surgery"] * 6 + ["Estates"] * 3 + ["IT"] * 2
    people = tuple(
        Participant(f"p{k}", departments[k % len(departments)], role=ROLES[k % 3])
        for k in range(n)
    )
    problem = Problem(people)
    started = time.perf_counter()
    result = make_round(problem, seed=2, time_limit=8)
    assert time.perf_counter() - started < 15
    assert result.metrics.method == "local-search"
    by_id = {p.id: p for p in people}
    placed = [x for g in result.groups for x in g]
    assert sorted(placed) == sorted(by_id) and not result.sitting_out
    assert all(len(g) == 2 for g in result.groups)
    score = sum(mixing_score(by_id[a], by_id[b], problem.weights) for a, b in result.groups)
    assert result.metrics.score == score
    assert result.metrics.repeats == 0
    assert result.metrics.bound >= score
    assert result.metrics.gap <= 0.005


# -- cases found by the properties above ------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_sit_outs_in_larger_groups_respect_the_avoid_list(seed):
    """Groups of 3, four people, p0 and p1 must not meet: one of them has to sit
    out (all have sat out equally often, so either is fair)."""
    people = tuple(Participant(f"p{k}", "Finance") for k in range(4))
    problem = Problem(people, avoid=frozenset({("p0", "p1")}), group_size=3, odd="sitout")
    result = make_round(problem, seed=seed)
    check_round(problem, result)
    assert result.sitting_out[0] in ("p0", "p1")


@pytest.mark.parametrize("seed", range(6))
def test_sit_outs_in_larger_groups_respect_meeting_modes(seed):
    """Groups of 3: p4 meets only in person at York, where nobody else is; p4 must
    sit out."""
    people = tuple(Participant(f"p{k}", "Finance") for k in range(4)) + (
        Participant("p4", "Finance", site="York", mode="in-person"),
    )
    problem = Problem(people, group_size=3, odd="sitout")
    result = make_round(problem, seed=seed)
    check_round(problem, result)
    assert "p4" in result.sitting_out


def test_larger_groups_find_the_valid_round_after_a_history():
    """Groups of 3 (7 people: one of 4, one of 3). p2 meets only in person (at the
    empty site), p1 only online, p0 must not meet p3 or p4: just two rounds are
    valid, {p0, p1, p5} + {p2, p3, p4, p6} and {p0, p1, p5, p6} + {p2, p3, p4}.
    After the first of them, the solver must still find one (repeats are fine)."""
    people = (
        Participant("p0", "Finance", site="York"),
        Participant("p1", "Finance", mode="virtual"),
        Participant("p2", "Finance", mode="in-person"),
        Participant("p3", "Finance"),
        Participant("p4", "Finance"),
        Participant("p5", "Finance", site="York", role="nurse"),
        Participant("p6", "Finance"),
    )
    avoid = frozenset({("p0", "p3"), ("p0", "p4")})
    history = History.from_rounds([PastRound((("p5", "p0", "p1"), ("p6", "p3", "p4", "p2")))])
    problem = Problem(people, history, avoid, group_size=3)
    assert len(list(all_plans(problem))) == 2
    for seed in range(10):
        check_round(problem, make_round(problem, seed=seed))


@pytest.mark.parametrize("seed", range(20))
def test_sit_outs_when_few_choices_are_valid(seed):
    """Groups of 4, seven people, three sit out. p0 has sat out more than anyone, so
    plays; p0 avoids p3 and p4, p1 avoids p2: only {p0, p1, p5, p6} and
    {p0, p2, p5, p6} are valid groups (2 of the 20 fair sit-out choices)."""
    people = tuple(Participant(f"p{k}", "Finance") for k in range(7))
    history = History(sat_out={"p0": 2, "p1": 1, "p2": 1, "p3": 1, "p4": 1, "p5": 1, "p6": 1},
                      rounds=3)
    avoid = frozenset({("p0", "p3"), ("p0", "p4"), ("p1", "p2")})
    problem = Problem(people, history, avoid, group_size=4, odd="sitout")
    assert len(list(all_plans(problem))) == 2
    check_round(problem, make_round(problem, seed=seed))


@pytest.mark.parametrize("seed", range(5))
def test_bound_with_sit_outs_covers_every_fair_choice(seed):
    """Groups of 3, three Finance and one IT, one sits out (nobody has before). The
    best valid round seats p3 (8 points), so the bound must be at least 8 whoever
    the solver sits out."""
    people = tuple(Participant(f"p{k}", "Finance") for k in range(3)) + (Participant("p3", "IT"),)
    problem = Problem(people, group_size=3, odd="sitout")
    result = make_round(problem, seed=seed)
    check_round(problem, result)
    assert result.metrics.bound >= 8


def test_bound_of_a_much_enlarged_group():
    """Seven people, groups of 4 under triad: one group of 7 (6 Finance + 1 IT)
    scores 6 × 4 = 24, so the bound must be at least 24 and the gap in [0, 1]."""
    people = tuple(Participant(f"p{k}", "Finance") for k in range(6)) + (Participant("p6", "IT"),)
    problem = Problem(people, group_size=4)
    result = make_round(problem, seed=0)
    assert result.metrics.score == 24
    check_round(problem, result)


# -- infeasible -----------------------------------------------------------------------


def test_incompatible_modes_are_infeasible_naming_both():
    people = (
        Participant("a", "X", site="York", mode="in-person"),
        Participant("b", "Y", site="Leeds", mode="in-person"),
    )
    with pytest.raises(Infeasible) as caught:
        make_round(Problem(people), seed=0)
    assert caught.value.rule == "mode"
    assert set(caught.value.people) == {"a", "b"}


def test_avoid_pair_alone_is_infeasible_naming_both():
    people = (Participant("a", "X"), Participant("b", "Y"))
    with pytest.raises(Infeasible) as caught:
        make_round(Problem(people, avoid=frozenset({("b", "a")})), seed=0)
    assert caught.value.rule == "avoid"
    assert set(caught.value.people) == {"a", "b"}


def test_one_person_under_triad_is_infeasible_but_sits_out_under_sitout():
    with pytest.raises(Infeasible) as caught:
        make_round(Problem((Participant("a", "X"),)), seed=0)
    assert caught.value.rule == "size" and caught.value.people == ("a",)
    result = make_round(Problem((Participant("a", "X"),), odd="sitout"), seed=0)
    assert result.groups == () and result.sitting_out == ("a",)
