"""The café rotation engine: valid plans, repeat-free where possible, re-planning."""

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.model import History, Infeasible, Participant, PastRound
from solvers.rotation import CafeProblem, plan_cafe, table_sizes
from tests.support.hypothesis import examples


def check_plan(cafe: CafeProblem, plan) -> None:
    """Everyone present once per new round, sizes within one, hosts fixed, avoid held."""
    present = {p.id for p in cafe.people}
    assert len(plan.rounds) == cafe.rounds
    for k, played in enumerate(cafe.fixed):
        assert plan.rounds[k].tables == played and plan.rounds[k].played
    for planned in plan.rounds[len(cafe.fixed):]:
        seated = [pid for table in planned.tables for pid in table]
        assert sorted(seated) == sorted(present)
        assert len(planned.tables) == cafe.tables
        sizes = [len(t) for t in planned.tables]
        assert max(sizes) - min(sizes) <= 1
        for pid, table in cafe.hosts.items():
            assert pid in planned.tables[table - 1]
        for table in planned.tables:
            for a, b in combinations(table, 2):
                assert (min(a, b), max(a, b)) not in cafe.avoid


def count_repeats(cafe: CafeProblem, plan) -> int:
    seen = set(cafe.history.last_met)
    repeats = 0
    for planned in plan.rounds:
        for table in planned.tables:
            for a, b in combinations(sorted(table), 2):
                repeats += (a, b) in seen
                seen.add((a, b))
    return repeats


def golfers(n: int) -> tuple[Participant, ...]:
    return tuple(Participant(f"g{i:02d}", "Golf") for i in range(n))


def test_table_sizes():
    assert table_sizes(10, 3) == [4, 3, 3]
    assert table_sizes(12, 4) == [3, 3, 3, 3]


def test_kirkmans_schoolgirls_without_a_repeat():
    cafe = CafeProblem(golfers(15), tables=5, rounds=7)
    plan = plan_cafe(cafe, seed=1, time_limit=20)
    check_plan(cafe, plan)
    assert plan.repeats == count_repeats(cafe, plan) == 0


@pytest.mark.parametrize("q", [3, 5])
def test_affine_plane_gives_q_plus_one_repeat_free_rounds(q):
    cafe = CafeProblem(golfers(q * q), tables=q, rounds=q + 1)
    plan = plan_cafe(cafe, seed=2)
    check_plan(cafe, plan)
    assert plan.method == "affine-plane" and plan.repeats == 0


@pytest.mark.parametrize("tables, size, rounds", [(8, 4, 9), (9, 3, 13), (4, 4, 5)])
def test_partial_spreads_give_repeat_free_rounds(tables, size, rounds):
    """8-4-9 is out of reach of the local search alone; GF(2)^5 gives it at once."""
    cafe = CafeProblem(golfers(tables * size), tables=tables, rounds=rounds)
    plan = plan_cafe(cafe, seed=8)
    check_plan(cafe, plan)
    assert plan.method == "finite-field"
    assert plan.repeats == count_repeats(cafe, plan) == 0


def test_affine_plane_keeps_hosts_at_their_tables():
    people = golfers(25)
    hosts = {"g03": 1, "g10": 2, "g11": 3, "g17": 4, "g24": 5}
    cafe = CafeProblem(people, tables=5, rounds=5, hosts=hosts)
    plan = plan_cafe(cafe, seed=3)
    check_plan(cafe, plan)
    assert plan.repeats == 0


def test_departments_spread_and_hosts_in_a_realistic_cafe():
    departments = ["Nursing"] * 14 + ["Medicine"] * 8 + ["Estates"] * 6 + ["Finance"] * 4
    people = tuple(Participant(f"p{i:02d}", d) for i, d in enumerate(departments))
    hosts = {"p00": 1, "p14": 2, "p22": 3, "p28": 4, "p01": 5, "p15": 6, "p23": 7, "p02": 8}
    cafe = CafeProblem(people, tables=8, rounds=3, hosts=hosts)
    plan = plan_cafe(cafe, seed=4, time_limit=20)
    check_plan(cafe, plan)
    assert plan.repeats == 0
    # 14 nurses at 8 tables: six tables hold two, so at most 8+8+6+4 = 26
    # department places over 8 tables, 3.25 per table: the plan reaches it.
    assert plan.departments_mean == 3.25 and plan.departments_min == 3


def test_history_and_avoid_list_are_respected():
    people = golfers(12)
    history = History.from_rounds([PastRound((("g00", "g01", "g02"), ("g03", "g04", "g05")))])
    avoid = frozenset({("g06", "g07"), ("g08", "g09")})
    cafe = CafeProblem(people, tables=4, rounds=3, history=history, avoid=avoid)
    plan = plan_cafe(cafe, seed=5, time_limit=20)
    check_plan(cafe, plan)
    assert plan.repeats == count_repeats(cafe, plan)


def test_replanning_keeps_played_rounds_and_seats_late_arrivals():
    people = golfers(20)
    first = plan_cafe(CafeProblem(people, tables=5, rounds=4), seed=6, time_limit=20)
    played = tuple(first.rounds[k].tables for k in range(2))
    present = tuple(p for p in people if p.id != "g00") + (Participant("late", "Golf"),)
    cafe = CafeProblem(present, tables=5, rounds=4, fixed=played)
    plan = plan_cafe(cafe, seed=7, time_limit=20)
    check_plan(cafe, plan)
    assert all("g00" not in t for r in plan.rounds[2:] for t in r.tables)
    assert any("late" in t for t in plan.rounds[2].tables)


def test_same_seed_same_plan():
    cafe = CafeProblem(golfers(15), tables=5, rounds=7)
    assert plan_cafe(cafe, seed=11).rounds == plan_cafe(cafe, seed=11).rounds


def test_a_step_budget_ends_the_search_with_the_same_plan_every_time():
    """A café whose repeats never meet their bound (so only patience, the
    clock or the budget ends the search): a budget of steps ends it, with one
    plan per seed."""
    people = tuple(Participant(f"p{k}", "ABCD"[k % 4]) for k in range(18))
    cafe = CafeProblem(people, tables=6, rounds=8, hosts={"p0": 1, "p1": 2})
    small = plan_cafe(cafe, seed=3, steps=2000, time_limit=300)
    assert plan_cafe(cafe, seed=3, steps=2000, time_limit=300).rounds == small.rounds
    check_plan(cafe, small)
    assert small.repeats > small.repeats_bound  # the budget, not the bound, ended it
    assert small.cut_by_time is False and small.as_dict()["cut_by_time"] is False


def test_the_default_budget_gives_one_plan_per_seed_and_a_cut_is_reported():
    """Without a step budget given, the default one bounds the search (the same
    plan twice, not cut by the clock). A time limit too short for it cuts the
    search, and says so."""
    people = tuple(Participant(f"p{k}", "ABCD"[k % 4]) for k in range(18))
    cafe = CafeProblem(people, tables=6, rounds=4, hosts={"p0": 1, "p1": 2})
    first = plan_cafe(cafe, seed=4, time_limit=300)
    assert plan_cafe(cafe, seed=4, time_limit=300).rounds == first.rounds
    assert first.cut_by_time is False
    cut = plan_cafe(cafe, seed=4, time_limit=0)  # no time at all: the search never runs
    check_plan(cafe, cut)
    assert cut.cut_by_time is True


def test_impossible_avoid_list_is_reported():
    people = golfers(4)
    avoid = frozenset({(a.id, b.id) for a, b in combinations(people, 2)})
    with pytest.raises(Infeasible) as caught:
        plan_cafe(CafeProblem(people, tables=1, rounds=1, avoid=avoid), seed=0, time_limit=2)
    assert caught.value.rule == "avoid"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"tables": 0, "rounds": 1}, "at least one table"),
        ({"tables": 5, "rounds": 1}, "cannot fill"),
        ({"tables": 2, "rounds": 1, "hosts": {"g00": 3}}, "tables are 1–2"),
        ({"tables": 2, "rounds": 1, "hosts": {"g00": 1, "g01": 1}}, "two hosts"),
    ],
)
def test_bad_cafes_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CafeProblem(golfers(4), **kwargs)


@settings(max_examples=examples(40))
@given(
    n=st.integers(2, 16),
    tables=st.integers(1, 5),
    rounds=st.integers(1, 4),
    departments=st.lists(st.sampled_from("ABC"), min_size=16, max_size=16),
    host_count=st.integers(0, 3),
    seed=st.integers(0, 1000),
)
def test_every_plan_is_valid(n, tables, rounds, departments, host_count, seed):
    tables = min(tables, n)
    people = tuple(Participant(f"p{i}", departments[i]) for i in range(n))
    hosts = {f"p{i}": i + 1 for i in range(min(host_count, tables))}
    cafe = CafeProblem(people, tables=tables, rounds=rounds, hosts=hosts)
    # Bounded by work: the same example gives the same plan however busy the machine.
    plan = plan_cafe(cafe, seed=seed, steps=5000)
    check_plan(cafe, plan)
    assert plan.repeats == count_repeats(cafe, plan) >= plan.repeats_bound


def test_every_seed_reaches_the_best_worst_table():
    """A café with online-only people and hosts: whatever the seed, no table has
    fewer departments than the bound allows (the same mean could hide one)."""
    import numpy as np

    rng = np.random.default_rng(5)
    departments = [f"D{min(int(x), 11)}" for x in rng.exponential(3, 90)]
    modes = ["virtual"] * 18 + ["in-person"] * 5 + ["either"] * 67
    people = tuple(Participant(f"p{k:02d}", departments[k], site="Main", mode=modes[k])
                   for k in range(90))
    cafe = CafeProblem(people, tables=15, rounds=3,
                       hosts={f"p{k:02d}": k - 17 for k in range(18, 33)})
    for seed in range(1, 6):
        plan = plan_cafe(cafe, seed=seed, time_limit=30)
        check_plan(cafe, plan)
        assert (plan.repeats, plan.departments_min) == (0, 5), seed
