"""The café repeats bound against the repeats the search finds.

For forced cafés (a small site, an avoid list, too many rounds, tables larger
than their number) and design instances (where a repeat-free plan exists),
prints the previous per-person bound, the bound of
:mod:`solvers.rotation.bounds`, the repeats ``plan_cafe`` finds and its time,
then the bound's own time on a café of 1,000 people, as a markdown table.

    python -m benchmarks.rotation_bounds [--seed N] [--time-limit S]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from solvers.model import History, Participant, pair_key
from solvers.rotation import CafeProblem, plan_cafe
from solvers.rotation.constructions import _resolvable_design
from solvers.rotation.engine import _Engine


def old_bound(engine: _Engine) -> int:
    """The per-person bound the engine used before (kept here to compare)."""
    if engine.new_rounds == 0 or engine.n == 0:
        return 0
    least = int(engine.sizes.min()) - 1
    hosts = engine.host_table >= 0
    fresh = ((engine.forbidden == 0) & (engine.met_before == 0)
             & ~(hosts[:, None] & hosts[None, :]))
    np.fill_diagonal(fresh, False)
    need = least * engine.new_rounds
    return int(np.ceil(np.maximum(need - fresh.sum(axis=1), 0).sum() / 2))


def golfers(n: int) -> tuple[Participant, ...]:
    return tuple(Participant(f"g{i:02d}", "ABCDE"[i % 5]) for i in range(n))


def site_cafe(tables: int, rounds: int = 4) -> CafeProblem:
    people = [Participant("york0", "A", site="York", mode="in-person")]
    people += [Participant(f"york{k}", "ABC"[k % 3], site="York", mode="either")
               for k in range(1, 7)]
    people += [Participant(f"v{k:02d}", "ABCD"[k % 4], site="Leeds", mode="virtual")
               for k in range(6 * tables - 7)]
    return CafeProblem(tuple(people), tables=tables, rounds=rounds)


def cases() -> list[tuple[str, CafeProblem]]:
    avoid = frozenset(pair_key("g00", f"g{k:02d}") for k in range(4, 20))
    return [
        ("site of 7, 8 tables of 6, 4 rounds", site_cafe(8)),
        ("site of 7, 6 tables of 6, 4 rounds", site_cafe(6)),
        ("avoid list: 1 of 20 may meet 3, 5×4, 3 rounds",
         CafeProblem(golfers(20), tables=5, rounds=3, avoid=avoid)),
        ("12 people, 3×4, 3 rounds", CafeProblem(golfers(12), tables=3, rounds=3)),
        ("16 people, 4×4, 6 rounds", CafeProblem(golfers(16), tables=4, rounds=6)),
        ("16-4-5 (affine plane of order 4)", CafeProblem(golfers(16), tables=4, rounds=5)),
        ("7-3-10 (KTS(21))", CafeProblem(golfers(21), tables=7, rounds=10)),
        ("10-4-13 (resolvable 2-(40,4,1))", CafeProblem(golfers(40), tables=10, rounds=13)),
        ("8-4-10", CafeProblem(golfers(32), tables=8, rounds=10)),
    ]


def big_cafe(n: int = 1000) -> CafeProblem:
    rng = random.Random(0)
    people = tuple(Participant(f"p{i:04d}", "ABCDEFGH"[i % 8],
                               site=rng.choice(["York", "Leeds", "Hull", "Bath"]),
                               mode=rng.choice(["in-person", "virtual", "either", "either"]))
                   for i in range(n))
    ids = [p.id for p in people]
    avoid = frozenset(pair_key(*rng.sample(ids, 2)) for _ in range(300))
    met = {pair_key(*rng.sample(ids, 2)): rng.randint(1, 5) for _ in range(20_000)}
    return CafeProblem(people, tables=n // 8, rounds=6, avoid=avoid, history=History(met),
                       hosts={ids[k]: k + 1 for k in range(n // 8)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    print("| instance | old bound | new bound | repeats found | method | time (s) |"
          " stored design |")
    print("|---|---:|---:|---:|---|---:|---|")
    for name, cafe in cases():
        engine = _Engine(cafe, np.random.default_rng(0))
        old, new = old_bound(engine), engine.repeats_bound()
        design = _resolvable_design(engine)
        stored = "—"
        if design is not None:
            engine.seat[:] = design
            engine._recount()
            meets = np.triu(engine.meets, 1)
            stored = f"{int(np.maximum(meets - 1, 0).sum())} repeats"
        started = time.perf_counter()
        plan = plan_cafe(cafe, seed=args.seed, time_limit=args.time_limit)
        took = time.perf_counter() - started
        cut = " (cut by time)" if plan.cut_by_time else ""
        print(f"| {name} | {old} | {new} | {plan.repeats}{cut} | {plan.method} | {took:.2f} "
              f"| {stored} |")
    cafe = big_cafe()
    engine = _Engine(cafe, np.random.default_rng(0))
    engine.repeats_bound()
    times = []
    for _ in range(20):
        started = time.perf_counter()
        engine.repeats_bound()
        times.append(time.perf_counter() - started)
    print(f"\nBound on 1,000 people (125 tables of 8 with hosts, 4 sites and modes, 300 "
          f"avoid pairs, 20,000 met pairs, 6 rounds): median {np.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms over 20 calls (old bound "
          f"{old_bound(engine)}, new {engine.repeats_bound()}).")


if __name__ == "__main__":
    main()
