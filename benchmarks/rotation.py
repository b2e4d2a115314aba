"""Café rotation benchmark: our planner against a Good-Enough-Golfers baseline.

Run from the repository root::

    python -m benchmarks.rotation                 # everything, writes BENCHMARKS.md
    python -m benchmarks.rotation --no-stretch --no-write

Four parts, each measurement in a fresh subprocess (after one untimed warm-up
call, because the first call of ``plan_cafe`` compiles numba code, cached in
``__pycache__`` afterwards); time is wall-clock around ``plan_cafe``:

1. social golfer instances g-s-w (g tables of s people, w rounds, one
   department, no hosts): 5-3-7, 8-4-9, 6-3-8 on five seeds, 8-4-10 (stretch);
2. the same instances planned by a baseline written here, the method of the
   "Good Enough Golfers" tool: one round at a time, random partitions improved by
   swapping two people at different tables while the round's cost (sum over
   co-seated pairs of (times met before)²) decreases, a few random restarts,
   the best kept;
3. a realistic café: 120 people from 10 departments of unequal size, 20 tables
   of 6 with one host each, 4 rounds (ours and the baseline);
4. re-planning: 200 people at 25 tables of 8, 6 rounds; after 4 rounds 5 people
   leave and 5 arrive, and the last 2 rounds are planned again.

Progress goes to stderr; the tables go to stdout and (unless ``--no-write``)
replace the section "## Café rotation" of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np
from numba import njit

from benchmarks.report import machine_facts, write_section
from solvers.model import Participant
from solvers.rotation import CafeProblem, plan_cafe, table_sizes

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Café rotation"

#: Social golfer instances: (tables, size, rounds, target seconds, stretch).
GOLFERS = (
    (5, 3, 7, 0.5, False),
    (8, 4, 9, 1.0, False),
    (6, 3, 8, 30.0, False),
    (8, 4, 10, 60.0, True),
)
#: Department sizes of the realistic café (120 people).
DEPARTMENTS = (30, 20, 15, 12, 10, 10, 8, 6, 5, 4)
CAFE_TARGET = 2.0
REPLAN_TARGET = 1.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- instances ---------------------------------------------------------------------


def scaled_departments(total: int) -> list[int]:
    """``DEPARTMENTS`` scaled to ``total`` people (largest remainders)."""
    exact = np.array(DEPARTMENTS, dtype=float) * total / sum(DEPARTMENTS)
    counts = np.floor(exact).astype(int)
    for k in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[k] += 1
    return counts.tolist()


def department_people(counts: list[int], rng: np.random.Generator,
                      prefix: str = "p") -> tuple[Participant, ...]:
    labels = np.repeat(np.arange(len(counts)), counts)
    rng.shuffle(labels)
    width = len(str(len(labels) - 1))
    return tuple(Participant(f"{prefix}{i:0{width}d}", f"dept-{d + 1:02d}")
                 for i, d in enumerate(labels.tolist()))


def golfer_cafe(tables: int, size: int, rounds: int) -> CafeProblem:
    n = tables * size
    people = tuple(Participant(f"g{i:02d}", "Golf") for i in range(n))
    return CafeProblem(people, tables=tables, rounds=rounds)


def realistic_cafe(data_seed: int) -> CafeProblem:
    rng = np.random.default_rng([data_seed, 120])
    people = department_people(list(DEPARTMENTS), rng)
    hosts = rng.choice(len(people), size=20, replace=False)
    return CafeProblem(people, tables=20, rounds=4,
                       hosts={people[h].id: t + 1 for t, h in enumerate(hosts.tolist())})


def departments_bound(people, tables: int) -> float:
    """Most distinct departments a table can hold on average in one round: every
    department can reach at most ``tables`` tables (and a table holds at most
    its people)."""
    counts: dict[str, int] = {}
    for p in people:
        counts[p.department] = counts.get(p.department, 0) + 1
    return min(sum(min(c, tables) for c in counts.values()), len(people)) / tables


# -- figures, computed from the tables alone ------------------------------------------


def figures(rounds: list, dept: dict[str, str], played: list | None = None) -> dict:
    """Repeats and department spread of ``rounds`` (lists of tables of ids).

    Meetings in ``played`` rounds count as earlier meetings. ``repeats`` is the
    sum over pairs of (meetings − 1), as ``CafePlan.repeats`` counts them;
    ``repeated_pairs`` the number of pairs that meet more than once;
    ``max_meetings`` the most times one pair meets.
    """
    met: dict[tuple[str, str], int] = {}
    for tables in played or []:
        for table in tables:
            for a, b in combinations(sorted(table), 2):
                met[(a, b)] = met.get((a, b), 0) + 1
    repeats, repeated, spreads = 0, set(), []
    for tables in rounds:
        per_table = []
        for table in tables:
            if not table:
                continue
            per_table.append(len({dept[m] for m in table}))
            for a, b in combinations(sorted(table), 2):
                if met.get((a, b), 0):
                    repeats += 1
                    repeated.add((a, b))
                met[(a, b)] = met.get((a, b), 0) + 1
        spreads.append(per_table)
    return {
        "repeats": repeats,
        "repeated_pairs": len(repeated),
        "max_meetings": max(met.values(), default=0),
        "departments_min": min(min(s) for s in spreads),
        "departments_mean": float(np.mean([np.mean(s) for s in spreads])),
    }


# -- the baseline: Good Enough Golfers' method -----------------------------------------


@njit(cache=True)
def _geg_round(meets, host_table, sizes, restarts, seed):
    """One round by GEG's method: ``restarts`` random partitions, each improved by
    swapping two people at different tables while the round's cost (sum over
    co-seated pairs of meets²) decreases; the cheapest is returned."""
    np.random.seed(seed)
    n = meets.shape[0]
    tables = sizes.size
    cost2 = meets * meets
    free = sizes.copy()
    for i in range(n):
        if host_table[i] >= 0:
            free[host_table[i]] -= 1
    spare = np.empty(free.sum(), dtype=np.int64)
    k = 0
    for t in range(tables):
        for _ in range(free[t]):
            spare[k] = t
            k += 1
    movable = np.nonzero(host_table < 0)[0]
    best_seat = np.empty(n, dtype=np.int64)
    best_cost = -1
    for _r in range(restarts):
        seat = host_table.copy()
        seat[movable] = np.random.permutation(spare)
        # contrib[a, t]: cost a adds to table t (without a itself).
        contrib = np.zeros((n, tables), dtype=np.int64)
        for a in range(n):
            for b in range(n):
                contrib[a, seat[b]] += cost2[a, b]
        improved = True
        while improved:
            improved = False
            order = np.random.permutation(movable)
            for x in range(order.size):
                a = order[x]
                for y in range(x + 1, order.size):
                    b = order[y]
                    ta, tb = seat[a], seat[b]
                    if ta == tb:
                        continue
                    delta = (contrib[a, tb] + contrib[b, ta] - 2 * cost2[a, b]
                             - contrib[a, ta] - contrib[b, tb])
                    if delta < 0:
                        for m in range(n):
                            contrib[m, ta] += cost2[m, b] - cost2[m, a]
                            contrib[m, tb] += cost2[m, a] - cost2[m, b]
                        seat[a], seat[b] = tb, ta
                        improved = True
        cost = 0
        for a in range(n):
            cost += contrib[a, seat[a]]
        if best_cost < 0 or cost < best_cost:
            best_cost = cost
            best_seat[:] = seat
    return best_seat


def geg_plan(cafe: CafeProblem, seed: int, restarts: int) -> list:
    """The rounds still to play of ``cafe``, planned round by round like GEG."""
    ids = [p.id for p in cafe.people]
    index = {pid: i for i, pid in enumerate(ids)}
    n = len(ids)
    meets = np.zeros((n, n), dtype=np.int64)
    for tables in cafe.fixed:
        for table in tables:
            present = [index[m] for m in table if m in index]
            for a, b in combinations(present, 2):
                meets[a, b] += 1
                meets[b, a] += 1
    host_table = np.full(n, -1, dtype=np.int64)
    for pid, table in cafe.hosts.items():
        host_table[index[pid]] = table - 1
    sizes = np.array(table_sizes(n, cafe.tables), dtype=np.int64)
    rounds = []
    for r in range(cafe.rounds - len(cafe.fixed)):
        seat = _geg_round(meets, host_table, sizes, restarts, seed * 1000 + r)
        same = seat[:, None] == seat[None, :]
        np.fill_diagonal(same, False)
        meets += same
        rounds.append([[ids[i] for i in np.nonzero(seat == t)[0]] for t in range(cafe.tables)])
    return rounds


# -- workers (one per subprocess) -----------------------------------------------------


def warm_up(kind: str) -> float:
    """One untimed call so numba code is compiled (or loaded from its cache). The
    time limit is generous so the search loop (the compiled kernel) surely runs;
    this small café stops as soon as its bounds are met."""
    started = time.perf_counter()
    cafe = CafeProblem(tuple(Participant(f"w{i}", "ABC"[i % 3]) for i in range(12)), tables=4,
                       rounds=3, hosts={"w0": 1})
    if kind == "ours":
        plan_cafe(cafe, seed=0, time_limit=60)
    else:
        geg_plan(cafe, seed=0, restarts=1)
    return time.perf_counter() - started


def build(spec: dict) -> tuple[CafeProblem, list | None]:
    """The café of ``spec`` and, for a re-plan, the rounds already played."""
    if spec["case"] == "golfer":
        return golfer_cafe(*spec["gsw"]), None
    if spec["case"] == "cafe":
        return realistic_cafe(spec["data_seed"]), None
    # Re-planning: plan the whole café with our planner, keep 4 rounds, change people.
    rng = np.random.default_rng([spec["data_seed"], 200])
    people = department_people(scaled_departments(200), rng)
    if "played" in spec:  # the baseline re-plans the rounds our first plan played
        played = [tuple(tuple(t) for t in tables) for tables in spec["played"]]
    else:
        full = CafeProblem(people, tables=25, rounds=6)
        started = time.perf_counter()
        first = plan_cafe(full, seed=spec["seed"], time_limit=spec["first_limit"])
        spec["first"] = {"seconds": time.perf_counter() - started, "repeats": first.repeats,
                         "repeats_bound": first.repeats_bound,
                         "departments_min": first.departments_min,
                         "departments_mean": first.departments_mean,
                         "departments_bound": departments_bound(people, 25),
                         "method": first.method}
        played = [first.rounds[k].tables for k in range(4)]
        spec["played"] = played
    leaving = set(rng.choice([p.id for p in people], size=5, replace=False).tolist())
    late_departments = rng.choice(len(DEPARTMENTS), size=5,
                                  p=np.array(DEPARTMENTS) / sum(DEPARTMENTS))
    late = tuple(Participant(f"late{k + 1}", f"dept-{d + 1:02d}")
                 for k, d in enumerate(late_departments.tolist()))
    present = tuple(p for p in people if p.id not in leaving) + late
    return CafeProblem(present, tables=25, rounds=6, fixed=tuple(played)), played


def worker(spec: dict) -> dict:
    out = {"warm_up": warm_up(spec["method"])}
    cafe, played = build(spec)
    if "first" in spec:
        out["first"] = spec["first"]
        out["played"] = spec["played"]
    dept = {p.id: p.department for p in cafe.people}
    for tables in played or []:
        for table in tables:
            for m in table:
                dept.setdefault(m, "?left")
    started = time.perf_counter()
    if spec["method"] == "ours":
        plan = plan_cafe(cafe, seed=spec["seed"], time_limit=spec["time_limit"])
        seconds = time.perf_counter() - started
        rounds = [r.tables for r in plan.rounds[len(cafe.fixed):]]
        out.update(method=plan.method, repeats_bound=plan.repeats_bound,
                   plan_repeats=plan.repeats, plan_departments_mean=plan.departments_mean)
    else:
        rounds = geg_plan(cafe, seed=spec["seed"], restarts=spec["restarts"])
        seconds = time.perf_counter() - started
    out.update(figures(rounds, dept, played), seconds=seconds,
               departments_bound=departments_bound(cafe.people, cafe.tables),
               people=len(cafe.people))
    return out


def run_worker(spec: dict, timeout: float) -> dict:
    command = [sys.executable, "-m", "benchmarks.rotation", "--worker", json.dumps(spec)]
    try:
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"failed": f"timed out (> {timeout:g} s)"}
    if done.returncode != 0 or not done.stdout.strip():
        return {"failed": f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report ---------------------------------------------------------------------------


def code_version() -> str:
    """The commit measured, and whether the solvers had uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "solvers"], cwd=ROOT,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {commit}" + (" with uncommitted changes in solvers/" if dirty else "")


def _repeats(r: dict) -> str:
    if "failed" in r:
        return r["failed"]
    text = f"{r['repeats']}"
    if r["repeated_pairs"] != r["repeats"]:
        text += f" ({r['repeated_pairs']} pairs, up to {r['max_meetings']}×)"
    return text


def _spread(r: dict) -> str:
    return "—" if "failed" in r else f"{r['departments_min']} / {r['departments_mean']:.3f}"


def _verdict(misses: list[str]) -> str:
    return "✓ met" if not misses else "✗ " + ", ".join(misses)


def golfer_misses(r: dict, target: float) -> list[str]:
    if "failed" in r:
        return ["failed"]
    misses = []
    if r["repeats"] > 0:
        misses.append("repeats")
    if r["seconds"] > target:
        misses.append("time")
    return misses


def render(results: dict, args, command: str) -> str:
    warm = [r["warm_up"] for part in ("golfers", "cafe", "replan")
            for row in results.get(part, []) for r in (row["ours"],) if "warm_up" in r]
    lines = [
        SECTION,
        "",
        f"Command: `{command}`  ",
        f"Date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  ",
        f"Machine: {machine_facts('numpy', 'numba')}  ",
        f"Code: {code_version()}",
        "",
        "Each measurement runs in a fresh process; time is wall-clock around "
        "`plan_cafe(cafe, seed=S, time_limit=L)` (L = the target time, 60 s for "
        "8-4-10), or around the baseline's whole plan. The first call of `plan_cafe` "
        "compiles numba code (cached afterwards in `__pycache__`), so every process "
        "first makes one untimed warm-up call on a small café"
        + (f" (here {warm[0]:.1f} s in the first process, at most "
           f"{max(warm[1:]):.1f} s in the others)" if len(warm) > 1 else "") + ". "
        "*Repeats* are the sum over pairs of (meetings − 1), as `CafePlan.repeats` "
        "counts them, recounted from the tables; in brackets, when different, the "
        "number of pairs meeting more than once and the most meetings of one pair.",
        "",
        "**Baseline** (written in `benchmarks/rotation.py`, compiled with numba like "
        "ours): the method of the *Good Enough Golfers* tool. Rounds are planned one "
        "at a time; for each, a random partition into tables (hosts at their table) "
        "is improved by swapping two people at different tables whenever the "
        "round's cost, the sum over co-seated pairs of (times met before)², "
        "decreases, until no swap helps; "
        f"{args.restarts} random restarts, the cheapest round kept. Earlier rounds of "
        "the plan (and played rounds) count as meetings. It knows nothing of "
        "departments.",
    ]
    if results.get("golfers"):
        lines += [
            "",
            "### Social golfers (one department, no hosts)",
            "",
            "| g-s-w | people | seed | ours: repeats | bound | time (s) | method | target | "
            "| baseline: repeats | time (s) |",
            "|---|---:|---:|---:|---:|---:|---|---|---|---:|---:|",
        ]
    for row in results.get("golfers", []):
        (g, s, w, target, stretch), o, b = row["instance"], row["ours"], row["baseline"]
        name = f"{g}-{s}-{w}" + (" (stretch)" if stretch else "")
        ours = (f"{o['failed']} | — | — | —" if "failed" in o else
                f"{_repeats(o)} | {o['repeats_bound']} | {o['seconds']:.3f} | {o['method']}")
        base = (f"{b['failed']} | —" if "failed" in b
                else f"{_repeats(b)} | {b['seconds']:.3f}")
        lines.append(f"| {name} | {g * s} | {row['seed']} | {ours} | 0 repeats, ≤ {target:g} s "
                     f"| {_verdict(golfer_misses(o, target))} | {base} |")
    six = [row for row in results.get("golfers", []) if row["instance"][:3] == (6, 3, 8)]
    if six:
        met = sum(not golfer_misses(row["ours"], 30.0) for row in six)
        lines += ["", f"6-3-8: target met on {met} of {len(six)} seeds."]

    cafe = results.get("cafe")
    if cafe:
        lines += [
            "",
            "### A realistic café",
            "",
            f"120 people from 10 departments of {', '.join(map(str, DEPARTMENTS))} people "
            f"(data seed {args.data_seed}), 20 tables of 6, 20 hosts (one per table, drawn "
            "at random), 4 rounds. *Departments per table*: the fewest at any table / the "
            "mean over tables and rounds; *best possible mean*: Σ over departments of "
            "min(people, tables) ÷ tables, recomputed here.",
            "",
            "| planner | repeats | bound | departments per table (min / mean) "
            "| best possible mean | time (s) | target | |",
            "|---|---:|---:|---|---:|---:|---|---|",
        ]
        for row in cafe:
            for who in ("ours", "baseline"):
                r = row[who]
                if "failed" in r:
                    lines.append(f"| {who} | {r['failed']} | — | — | — | — | — | — |")
                    continue
                misses = []
                if r["repeats"] > 0:
                    misses.append("repeats")
                if r["departments_mean"] < r["departments_bound"] - 1e-9:
                    misses.append("spread")
                if r["seconds"] > CAFE_TARGET:
                    misses.append("time")
                bound = r.get("repeats_bound", "—")
                label = "ours" if who == "ours" else "baseline (GEG)"
                lines.append(
                    f"| {label} | {_repeats(r)} | {bound} | {_spread(r)} "
                    f"| {r['departments_bound']:.3f} | {r['seconds']:.3f} "
                    f"| 0 repeats, best spread, ≤ {CAFE_TARGET:g} s | {_verdict(misses)} |")

    replan = results.get("replan")
    if replan:
        lines += [
            "",
            "### Re-planning",
            "",
            f"200 people, departments {', '.join(map(str, scaled_departments(200)))} "
            f"(data seed {args.data_seed}), 25 tables of 8, 6 rounds, no hosts. The "
            f"whole café is planned first (time limit {args.first_limit:g} s); then "
            "the first 4 rounds are fixed, 5 people (drawn at random) leave and 5 late "
            "arrivals join, and the last 2 rounds are planned again "
            f"(time limit {REPLAN_TARGET:g} s). Repeats of the re-plan count meetings "
            "in the played rounds.",
            "",
            "| step | planner | repeats | bound | departments per table (min / mean) "
            "| best possible mean | time (s) | target | |",
            "|---|---|---:|---:|---|---:|---:|---|---|",
        ]
        for row in replan:
            o = row["ours"]
            f = o.get("first")
            if f:
                lines.append(
                    f"| plan all 6 rounds | ours | {f['repeats']} | {f['repeats_bound']} "
                    f"| {f['departments_min']} / {f['departments_mean']:.3f} "
                    f"| {f['departments_bound']:.3f} | {f['seconds']:.3f} | — | |")
            for who in ("ours", "baseline"):
                r = row[who]
                label = "ours" if who == "ours" else "baseline (GEG)"
                if "failed" in r:
                    lines.append(f"| re-plan rounds 5–6 | {label} | {r['failed']} "
                                 "| — | — | — | — | — | |")
                    continue
                target = f"≤ {REPLAN_TARGET:g} s" if who == "ours" else "—"
                verdict = (_verdict(["time"] if r["seconds"] > REPLAN_TARGET else [])
                           if who == "ours" else "")
                lines.append(
                    f"| re-plan rounds 5–6 | {label} | {_repeats(r)} "
                    f"| {r.get('repeats_bound', '—')} | {_spread(r)} "
                    f"| {r['departments_bound']:.3f} | {r['seconds']:.3f} | {target} "
                    f"| {verdict} |")
    return "\n".join(lines) + "\n"


# -- command line ---------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rotation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1,
                        help="planner seed for single runs (default: %(default)s)")
    parser.add_argument("--seeds", default="1,2,3,4,5",
                        help="seeds for 6-3-8 (default: %(default)s)")
    parser.add_argument("--data-seed", type=int, default=2024,
                        help="seed of the synthetic cafés (default: %(default)s)")
    parser.add_argument("--restarts", type=int, default=5,
                        help="baseline restarts per round (default: %(default)s)")
    parser.add_argument("--first-limit", type=float, default=10.0,
                        help="time limit of the first 200-people plan (default: %(default)s)")
    parser.add_argument("--parts", default="golfers,cafe,replan",
                        help="which parts to run (default: %(default)s)")
    parser.add_argument("--no-stretch", action="store_true", help="skip 8-4-10")
    parser.add_argument("--write", default=str(ROOT / "BENCHMARKS.md"), metavar="FILE",
                        help="markdown file whose café section is replaced "
                             "(default: BENCHMARKS.md at the repository root)")
    parser.add_argument("--no-write", action="store_true", help="only print the tables")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    args.parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = args.parts - {"golfers", "cafe", "replan"}
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    return args


def _both(spec: dict, timeout: float, label: str) -> dict:
    out = {}
    for method in ("ours", "baseline"):
        log(f"{label}: {method}…")
        if method == "baseline" and "played" in out.get("ours", {}):
            spec = dict(spec, played=out["ours"].pop("played"))
        result = run_worker(dict(spec, method=method), timeout)
        if "failed" in result:
            log(f"{label}: {method} FAILED: {result['failed']}")
        else:
            log(f"{label}: {method} {result['repeats']} repeats, "
                f"departments {result['departments_min']}/{result['departments_mean']:.3f}, "
                f"{result['seconds']:.3f} s (warm-up {result['warm_up']:.1f} s)")
        out[method] = result
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:  # inside a fresh subprocess: one measurement, JSON on stdout
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    command = "python -m benchmarks.rotation" + "".join(
        " " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    common = {"data_seed": args.data_seed, "restarts": args.restarts}
    results: dict[str, list] = {}
    if "golfers" in args.parts:
        results["golfers"] = []
        for g, s, w, target, stretch in GOLFERS:
            if stretch and args.no_stretch:
                continue
            seeds = args.seeds if (g, s, w) == (6, 3, 8) else [args.seed]
            for seed in seeds:
                spec = dict(common, case="golfer", gsw=[g, s, w], seed=seed, time_limit=target)
                row = _both(spec, target * 3 + 300, f"{g}-{s}-{w} seed {seed}")
                results["golfers"].append(
                    {"instance": (g, s, w, target, stretch), "seed": seed, **row})
    if "cafe" in args.parts:
        spec = dict(common, case="cafe", seed=args.seed, time_limit=CAFE_TARGET)
        results["cafe"] = [_both(spec, 600, "café 120")]
    if "replan" in args.parts:
        spec = dict(common, case="replan", seed=args.seed, time_limit=REPLAN_TARGET,
                    first_limit=args.first_limit)
        results["replan"] = [_both(spec, 600 + 3 * args.first_limit, "re-plan 200")]
    section = render(results, args, command)
    print(section)
    if not args.no_write:
        path = Path(args.write)
        write_section(path, SECTION, section)
        log(f"wrote section {SECTION!r} of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
