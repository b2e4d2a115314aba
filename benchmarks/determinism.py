"""The same café and seed give the same plan on an idle and on a loaded machine.

Run from the repository root::

    python -m benchmarks.determinism --seeds 1 2 3 4 5

For each instance and seed: the café engine's plan (``plan_cafe`` with the
step budget and the 2-second time limit of a café's "next round" in the
app) on the machine as it is, then again while ``--load`` processes
(default: one per core) spin at full speed. **Same** means the two plans
seat everyone at the same tables in every round; ``cut`` is whether the
time limit stopped the search before its budget (the one case the plan may
differ, and the plan says so). The baseline, in the same run: the search
bounded by the clock alone (``steps=None``).

Instances: the 120-person realistic café of ``benchmarks.rotation`` (20
tables, 4 rounds, 20 hosts, unequal departments), a 90-person café with a
fifth online only and 15 hosts, 64 golfers at 16 tables for 5 rounds (by
construction), and 21 golfers at 7 tables of 3 for 10 rounds (a search that
spends its whole budget).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time

import numpy as np

from benchmarks.rotation import golfer_cafe, realistic_cafe
from matcher.cafes import NEXT_ROUND_STEPS
from solvers.model import Participant
from solvers.rotation import CafeProblem, plan_cafe

#: The app's time limit for a café's next round (web.app: CAFE_TIME_LIMIT).
TIME_LIMIT = 2.0


def mixed_cafe() -> CafeProblem:
    rng = np.random.default_rng(5)
    departments = [f"D{min(int(x), 11)}" for x in rng.exponential(3, 90)]
    modes = ["virtual"] * 18 + ["in-person"] * 5 + ["either"] * 67
    people = tuple(Participant(f"p{k:02d}", departments[k], site="Main", mode=modes[k])
                   for k in range(90))
    return CafeProblem(people, tables=15, rounds=3,
                       hosts={f"p{k:02d}": k - 17 for k in range(18, 33)})


INSTANCES = {
    "realistic 120, 20 tables, 4 rounds, hosts": lambda: realistic_cafe(1),
    "90, 15 tables, 3 rounds, hosts, online only": mixed_cafe,
    "golfers 16-4-5": lambda: golfer_cafe(16, 4, 5),
    # A search that runs its whole budget (no repeat-free plan found): where the
    # clock used to decide where it stopped.
    "golfers 7-3-10": lambda: golfer_cafe(7, 3, 10),
}


def _spin(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def _plan(cafe: CafeProblem, seed: int):
    started = time.perf_counter()
    plan = plan_cafe(cafe, seed=seed, time_limit=TIME_LIMIT, steps=NEXT_ROUND_STEPS)
    seconds = time.perf_counter() - started
    # The baseline: the search bounded by the clock alone, as before the budget.
    clocked = plan_cafe(cafe, seed=seed, time_limit=TIME_LIMIT, steps=None)
    return plan, seconds, clocked


def _tables(plan) -> list:
    return [r.tables for r in plan.rounds]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--load", type=int, default=os.cpu_count() or 2,
                        help="busy processes during the loaded runs (default: one per core)")
    args = parser.parse_args(argv)
    plan_cafe(golfer_cafe(4, 4, 3), seed=0)  # compile the kernels before timing
    idle = {(name, seed): _plan(make(), seed) for name, make in INSTANCES.items()
            for seed in args.seeds}
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(args.load)]
    for one in spinners:
        one.start()
    try:
        time.sleep(1.0)
        loaded = {(name, seed): _plan(make(), seed) for name, make in INSTANCES.items()
                  for seed in args.seeds}
    finally:
        stop.set()
        for one in spinners:
            one.join()
    print(f"| instance | seed | same plan | repeats | departments min / mean | idle (s) | "
          f"loaded, {args.load} busy (s) | cut by time (idle / loaded) | "
          "clock-bound baseline: same plan |")
    print("|---|---:|---|---:|---|---:|---:|---|---|")
    differ = clock_differ = 0
    for (name, seed), (plan, seconds, clocked) in idle.items():
        other, other_seconds, other_clocked = loaded[name, seed]
        same = _tables(plan) == _tables(other)
        clock_same = _tables(clocked) == _tables(other_clocked)
        differ += not same
        clock_differ += not clock_same
        print(f"| {name} | {seed} | {'yes' if same else '**no**'} | {plan.repeats} | "
              f"{plan.departments_min} / {plan.departments_mean:.2f} | {seconds:.2f} | "
              f"{other_seconds:.2f} | {plan.cut_by_time} / {other.cut_by_time} | "
              f"{'yes' if clock_same else 'no'} |", flush=True)
    print(f"{len(idle) - differ} of {len(idle)} plans the same on the loaded machine "
          f"(bounded by the clock alone: {len(idle) - clock_differ})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
