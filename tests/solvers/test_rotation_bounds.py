"""The café repeats bound (solvers.rotation.bounds): what it proves on forced
cafés, that it never exceeds the fewest repeats possible (brute force on tiny
cafés, the search on small ones), and that it stays 0 where designs exist."""

from dataclasses import replace
from itertools import combinations, combinations_with_replacement
from math import comb

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from solvers.model import History, Infeasible, Participant, compatible, pair_key
from solvers.rotation import CafeProblem, plan_cafe, table_sizes
from solvers.rotation.bounds import bound_parts, least_pairs
from solvers.rotation.engine import _Engine
from tests.solvers.test_rotation import check_plan, count_repeats, golfers
from tests.support.hypothesis import examples


def bound(cafe: CafeProblem) -> int:
    return _Engine(cafe, np.random.default_rng(0)).repeats_bound()


def parts(cafe: CafeProblem) -> dict[str, int]:
    e = _Engine(cafe, np.random.default_rng(0))
    return bound_parts(e.forbidden == 0, e.met_before > 0, e.sizes, e.new_rounds, e.host_table)


def site_cafe(tables: int, rounds: int = 4) -> CafeProblem:
    """One in-person participant at York, six more York people who may also
    meet online, and everyone else online: tables of six."""
    people = [Participant("york0", "A", site="York", mode="in-person")]
    people += [Participant(f"york{k}", "ABC"[k % 3], site="York", mode="either")
               for k in range(1, 7)]
    people += [Participant(f"v{k:02d}", "ABCD"[k % 4], site="Leeds", mode="virtual")
               for k in range(6 * tables - 7)]
    return CafeProblem(tuple(people), tables=tables, rounds=rounds)


# -- brute force ---------------------------------------------------------------------

#: Most sets of rounds the brute force compares (it lowers the rounds to fit).
PLANS = 60_000


def valid_rounds(cafe: CafeProblem) -> np.ndarray:
    """Every round that keeps the rules, as 0/1 rows over the pairs (i < j):
    who shares a table. Written from the rules, not from the engine."""
    ids = [p.id for p in cafe.people]
    by_id = {p.id: p for p in cafe.people}
    n, sizes = len(ids), table_sizes(len(ids), cafe.tables)
    column = {pair: k for k, pair in enumerate(combinations(range(n), 2))}

    def may(a: int, b: int) -> bool:
        x, y = ids[a], ids[b]
        return (compatible(by_id[x], by_id[y]) and pair_key(x, y) not in cafe.avoid
                and not (x in cafe.hosts and y in cafe.hosts))

    order = sorted(range(n), key=lambda i: ids[i] not in cafe.hosts)  # hosts first
    found: set[frozenset[int]] = set()
    tables: list[list[int]] = [[] for _ in sizes]

    def place(k: int) -> None:
        if k == n:
            found.add(frozenset(column[(min(a, b), max(a, b))]
                                for t in tables for a, b in combinations(t, 2)))
            return
        i = order[k]
        host = cafe.hosts.get(ids[i])
        for t in ([host - 1] if host else range(len(sizes))):
            if len(tables[t]) < sizes[t] and all(may(i, j) for j in tables[t]):
                tables[t].append(i)
                place(k + 1)
                tables[t].pop()

    place(0)
    rows = np.zeros((len(found), len(column)), dtype=np.int64)
    for r, pairs in enumerate(sorted(found, key=sorted)):
        rows[r, list(pairs)] = 1
    return rows


def fewest_repeats(cafe: CafeProblem, rounds: np.ndarray) -> int:
    """The fewest repeats of any plan made of these rounds (brute force)."""
    ids = [p.id for p in cafe.people]
    met = np.array([pair_key(ids[a], ids[b]) in cafe.history.last_met
                    for a, b in combinations(range(len(ids)), 2)], dtype=np.int64)
    choices = np.array(list(combinations_with_replacement(range(len(rounds)), cafe.rounds)))
    meets = rounds[choices].sum(axis=1)
    return int(np.maximum(meets + met - 1, 0).sum(axis=1).min())


@st.composite
def tiny_cafes(draw) -> CafeProblem:
    n = draw(st.integers(2, 8))
    tables = draw(st.integers(1, min(3, n)))
    modes = st.sampled_from(["in-person", "in-person", "virtual", "either"])
    people = tuple(Participant(f"p{i}", "AB"[i % 2], site=draw(st.sampled_from(["York", "Hull"])),
                               mode=draw(modes)) for i in range(n))
    ids = [p.id for p in people]
    pairs = list(combinations(ids, 2))
    avoid = draw(st.sets(st.sampled_from(pairs), max_size=3)) if pairs else set()
    met = draw(st.sets(st.sampled_from(pairs), max_size=len(pairs))) if pairs else set()
    hosted = draw(st.lists(st.sampled_from(ids), max_size=tables, unique=True))
    return CafeProblem(people, tables=tables, rounds=draw(st.integers(1, 5)),
                       hosts={pid: t + 1 for t, pid in enumerate(hosted)},
                       avoid=frozenset(avoid), history=History(dict.fromkeys(met, 1)))


@settings(max_examples=examples(300))
@given(cafe=tiny_cafes())
def test_the_bound_never_exceeds_the_fewest_repeats_possible(cafe):
    """Tiny cafés with modes, sites, hosts, avoid lists and history: the bound
    is at most the brute-force optimum over every plan that keeps the rules."""
    rounds = valid_rounds(cafe)
    assume(len(rounds) > 0)  # no plan at all: any bound holds
    r = cafe.rounds
    while r > 1 and comb(len(rounds) + r - 1, r) > PLANS:
        r -= 1
    cafe = replace(cafe, rounds=r)
    assert bound(cafe) <= fewest_repeats(cafe, rounds)


def test_the_brute_force_is_often_met_by_the_bound():
    """On a fixed sample of tiny cafés the bound is valid and, on many, exact."""
    rng = np.random.default_rng(5)
    exact = total = 0
    for _ in range(200):
        n = int(rng.integers(4, 9))
        tables = int(rng.integers(1, min(3, n) + 1))
        people = tuple(Participant(f"p{i}", "AB"[i % 2], site=str(rng.choice(["York", "Hull"])),
                                   mode=str(rng.choice(["in-person", "virtual", "either"])))
                       for i in range(n))
        cafe = CafeProblem(people, tables=tables, rounds=int(rng.integers(2, 5)))
        rounds = valid_rounds(cafe)
        if not len(rounds):
            continue
        while cafe.rounds > 1 and comb(len(rounds) + cafe.rounds - 1, cafe.rounds) > PLANS:
            cafe = replace(cafe, rounds=cafe.rounds - 1)
        best = fewest_repeats(cafe, rounds)
        found = bound(cafe)
        assert found <= best
        exact += found == best
        total += 1
    assert total >= 80 and exact >= 0.6 * total


@settings(max_examples=examples(40))
@given(
    n=st.integers(6, 20),
    tables=st.integers(2, 5),
    rounds=st.integers(1, 4),
    modes=st.lists(st.sampled_from(["in-person", "virtual", "either"]), min_size=20, max_size=20),
    sites=st.lists(st.sampled_from(["York", "Hull"]), min_size=20, max_size=20),
    host_count=st.integers(0, 3),
    avoid=st.sets(st.tuples(st.integers(0, 19), st.integers(0, 19)), max_size=6),
    met=st.sets(st.tuples(st.integers(0, 19), st.integers(0, 19)), max_size=40),
    seed=st.integers(0, 1000),
)
def test_the_search_never_beats_the_bound(n, tables, rounds, modes, sites, host_count, avoid,
                                          met, seed):
    """Small cafés: every plan the search finds has at least the bound's repeats."""
    tables = min(tables, n // 2)
    people = tuple(Participant(f"p{i:02d}", "ABC"[i % 3], site=sites[i], mode=modes[i])
                   for i in range(n))
    ids = [p.id for p in people]
    key = lambda a, b: pair_key(ids[a], ids[b])  # noqa: E731
    cafe = CafeProblem(
        people, tables=tables, rounds=rounds,
        hosts={ids[t]: t + 1 for t in range(min(host_count, tables))},
        avoid=frozenset(key(a, b) for a, b in avoid if a != b and max(a, b) < n),
        history=History({key(a, b): 1 for a, b in met if a != b and max(a, b) < n}))
    try:
        plan = plan_cafe(cafe, seed=seed, steps=3000)
    except Infeasible:
        return
    check_plan(cafe, plan)
    assert plan.repeats == count_repeats(cafe, plan) >= plan.repeats_bound == bound(cafe)


# -- forced repeats --------------------------------------------------------------------

def test_a_small_site_forces_its_table_and_the_search_reaches_the_bound():
    """Seven York people can seat the in-person one, at tables of six: the
    table holds 15 of their 21 pairs every round, so 4·15 − 21 = 39 repeats
    are forced. With eight tables the online side can be repeat-free, and the
    search finds a plan with exactly 39 (the old per-person bound said 7)."""
    cafe = site_cafe(tables=8)
    assert parts(cafe)["per_person"] == 7
    assert bound(cafe) == 39
    plan = plan_cafe(cafe, seed=1, steps=200_000, time_limit=120)
    check_plan(cafe, plan)
    assert plan.repeats == count_repeats(cafe, plan) == plan.repeats_bound == 39


def test_the_tables_left_to_the_others_force_more():
    """The same site at six tables: the 29 online people share the five other
    tables, so four tables seat six of them, and each round after the first
    seats four of their pairs again (pigeonhole): 39 + 3·4 = 51, reached."""
    cafe = site_cafe(tables=6)
    assert parts(cafe)["groups"] == 39
    assert bound(cafe) == 51
    # Not every seed gets there within the budget (four of eight did in one measurement).
    plan = plan_cafe(cafe, seed=3, steps=200_000, time_limit=120)
    check_plan(cafe, plan)
    assert plan.repeats == plan.repeats_bound == 51


def test_an_avoid_list_can_confine_a_person():
    """Someone who may meet only three others, at tables of four for three
    rounds: the same four people share a table every round, 3·6 − 6 = 12 (the
    sixteen others at four tables can meet nobody twice)."""
    people = golfers(20)
    ids = [p.id for p in people]
    avoid = frozenset(pair_key("g00", x) for x in ids[4:])
    cafe = CafeProblem(people, tables=5, rounds=3, avoid=avoid)
    assert bound(cafe) == 12
    plan = plan_cafe(cafe, seed=2, steps=200_000, time_limit=120)
    assert plan.repeats == plan.repeats_bound == 12


def test_tables_larger_than_their_number_force_repeats_every_round():
    """12 people at 3 tables of 4: each table of a round seats four people from
    three tables of the round before, so two of them meet again."""
    cafe = CafeProblem(golfers(12), tables=3, rounds=3)
    assert bound(cafe) == 2 * 3
    assert plan_cafe(cafe, seed=0, steps=200_000).repeats == 6


def test_counting_sees_too_many_rounds():
    """16 people at 4 tables of 4 meet all 120 pairs in five rounds: a sixth
    repeats all 24 of its pairs."""
    cafe = CafeProblem(golfers(16), tables=4, rounds=6)
    assert bound(cafe) == 24
    assert plan_cafe(cafe, seed=0, steps=200_000).repeats == 24


def test_history_counts():
    """Everyone met everyone before: every pair seated is a repeat."""
    people = golfers(9)
    met = {pair_key(a.id, b.id): 1 for a, b in combinations(people, 2)}
    cafe = CafeProblem(people, tables=3, rounds=2, history=History(met))
    assert bound(cafe) == 2 * 3 * 3


# -- designs: the bound stays 0 ------------------------------------------------------

@pytest.mark.parametrize("n, tables, rounds", [
    (16, 4, 5),    # affine plane of order 4
    (32, 8, 10),   # 8-4-10 (Aguado 2004)
    (21, 7, 10),   # Kirkman triple system of order 21
    (40, 10, 13),  # resolvable 2-(40, 4, 1) design
    (15, 5, 7),    # Kirkman's schoolgirls
    (25, 5, 6),    # affine plane of order 5
    (18, 6, 8),    # 6-3-8
    (64, 16, 21),  # GF(2)^6 spread
])
def test_the_bound_is_zero_where_a_repeat_free_plan_exists(n, tables, rounds):
    assert bound(CafeProblem(golfers(n), tables=tables, rounds=rounds)) == 0


def test_hosts_alone_change_nothing_on_a_design():
    cafe = CafeProblem(golfers(25), tables=5, rounds=5, hosts={f"g0{k}": k + 1 for k in range(5)})
    assert bound(cafe) == 0


def test_least_pairs():
    # 7 people of whom 1 is confined, 8 tables of 6: one full table, 15 pairs.
    assert least_pairs(np.array([7]), np.array([1]), np.array([6] * 8)).tolist() == [15]
    # Unconfined they spread: none. All 12 confined on 3 tables of 4: impossible.
    assert least_pairs(np.array([7, 12]), np.array([0, 12]), np.array([6] * 8)).tolist() == [0, 30]
    assert least_pairs(np.array([5]), np.array([5]), np.array([4, 4])).tolist() == [-1]
    # Sizes 4, 3, 3: 4 confined fill the big table (6 pairs) or two small ones (6).
    assert least_pairs(np.array([4]), np.array([4]), np.array([4, 3, 3])).tolist() == [6]


# -- stored resolvable designs -----------------------------------------------------------

@pytest.mark.parametrize("n, tables, rounds, hosts", [
    (21, 7, 10, 0),   # KTS(21): all ten classes
    (21, 7, 9, 3),    # hosts: the points of a block of the class left out
    (40, 10, 13, 0),  # resolvable 2-(40, 4, 1): all thirteen classes
    (40, 10, 12, 4),
    (40, 10, 5, 2),
])
def test_stored_designs_are_repeat_free(n, tables, rounds, hosts):
    from solvers.rotation.constructions import _resolvable_design

    cafe = CafeProblem(golfers(n), tables=tables, rounds=rounds,
                       hosts={f"g{k:02d}": 2 * k + 1 for k in range(hosts)})
    engine = _Engine(cafe, np.random.default_rng(7))
    seat = _resolvable_design(engine)
    assert seat is not None and seat.shape == (rounds, n)
    sizes = np.bincount(seat.ravel() + tables * np.repeat(np.arange(rounds), n),
                        minlength=rounds * tables)
    assert (sizes == n // tables).all()
    for i in np.nonzero(engine.host_table >= 0)[0]:
        assert (seat[:, i] == engine.host_table[i]).all()
    together = (seat[:, :, None] == seat[:, None, :]).sum(axis=0)
    np.fill_diagonal(together, 0)
    assert together.max() == 1 and (together.sum() // 2 == rounds * tables * comb(n // tables, 2))


def test_stored_designs_step_aside_when_they_do_not_fit():
    from solvers.rotation.constructions import _resolvable_design

    def fits(**kwargs) -> bool:
        cafe = CafeProblem(golfers(kwargs.pop("n", 21)), **kwargs)
        return _resolvable_design(_Engine(cafe, np.random.default_rng(0))) is not None

    assert fits(tables=7, rounds=10)
    assert not fits(tables=7, rounds=11)                          # more rounds than classes
    assert not fits(tables=7, rounds=10, hosts={"g00": 1})        # no class to leave out
    assert not fits(tables=7, rounds=5, hosts={f"g0{k}": k + 1 for k in range(4)})  # > 3
    assert not fits(n=22, tables=7, rounds=3)                     # not the design's size
    assert not fits(tables=7, rounds=3, avoid=frozenset({("g00", "g01")}))
