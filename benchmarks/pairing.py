"""Pairing benchmark: our solver against NetworkX and a random shuffle.

Run from the repository root::

    python -m benchmarks.pairing                       # all sizes, writes BENCHMARKS.md
    python -m benchmarks.pairing --sizes 200,1000 --networkx-max 200 --no-write

For each size N a synthetic organisation is generated (skewed departments,
unequal sites, a few roles, mixed meeting modes, a 90/10 organisation split)
with a history of 30 earlier random rounds of pairs. Each measurement runs in
a fresh subprocess, so the peak memory (``ru_maxrss``) belongs to that size
alone:

* our solver: ``make_round(problem, seed=1)``, timed around the call;
* NetworkX's ``max_weight_matching(G, maxcardinality=True)`` on the same integer
  weights (``Scorer.dense()``; forbidden pairs are not edges), only up to
  ``--networkx-max`` people because it is O(n³);
* a random shuffle: people paired at random, rules ignored.

Progress goes to stderr; the tables go to stdout and (unless ``--no-write``)
replace the section "## Pairing" of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.report import machine_facts, write_section
from solvers.metrics import group_figures
from solvers.model import History, Participant, Problem
from solvers.scoring import FORBIDDEN, Scorer

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Pairing"
DEFAULT_SIZES = (200, 1000, 2000, 10_000, 100_000)
HISTORY_ROUNDS = 30

#: Targets: (up to N people, seconds, largest gap, peak MB or None).
TARGETS = (
    (2_000, 3.0, 0.0, None),
    (10_000, 2.0, 0.001, None),
    (100_000, 30.0, 0.0015, 2048),
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- synthetic data ------------------------------------------------------------------


def _shares(count: int, first: float, decay: float) -> np.ndarray:
    """``count`` shares of decreasing size: the first is ``first``, the rest decay."""
    rest = decay ** np.arange(count - 1)
    return np.concatenate([[first], (1 - first) * rest / rest.sum()])


def synthetic_problem(n: int, seed: int = 2024) -> Problem:
    """``n`` people with skewed attributes and 30 earlier rounds of random pairs."""
    rng = np.random.default_rng([seed, n])
    departments = rng.choice(30, size=n, p=_shares(30, 0.35, 0.88))
    sites = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    roles = rng.choice(6, size=n, p=_shares(6, 0.3, 0.75))
    modes = rng.choice(3, size=n, p=[0.7, 0.15, 0.15])
    organisations = rng.choice(2, size=n, p=[0.9, 0.1])
    site_names = ("London", "Leeds", "Glasgow")
    mode_names = ("either", "in-person", "virtual")
    org_names = ("Acme", "Acme Labs")
    width = len(str(n - 1))
    ids = [f"p{i:0{width}d}" for i in range(n)]  # zero-padded: id order = index order
    people = tuple(
        Participant(
            id=ids[i],
            department=f"dept-{departments[i]:02d}",
            organisation=org_names[organisations[i]],
            site=site_names[sites[i]],
            role=f"role-{roles[i]}",
            mode=mode_names[modes[i]],
        )
        for i in range(n)
    )
    return Problem(people=people, history=random_history(ids, rng))


def random_history(ids: list[str], rng: np.random.Generator, rounds: int = HISTORY_ROUNDS):
    """``rounds`` random rounds of pairs, oldest first, as ``History.from_rounds`` would
    build them (last_met = age of the latest meeting; 1 = the latest round)."""
    n = len(ids)
    half = n // 2
    lo_parts, hi_parts, age_parts = [], [], []
    for r in range(rounds):
        order = rng.permutation(n)
        a, b = order[0 : 2 * half : 2], order[1 : 2 * half : 2]
        lo_parts.append(np.minimum(a, b))
        hi_parts.append(np.maximum(a, b))
        age_parts.append(np.full(half, rounds - r))
    lo, hi, age = map(np.concatenate, (lo_parts, hi_parts, age_parts))
    key = lo.astype(np.int64) * n + hi
    order = np.lexsort((age, key))  # by pair, most recent (smallest age) first
    key, age = key[order], age[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    lo, hi = np.divmod(key[first], n)
    last_met = {(ids[x], ids[y]): int(g)
                for x, y, g in zip(lo.tolist(), hi.tolist(), age[first].tolist(), strict=True)}
    return History(last_met=last_met, sat_out={}, rounds=rounds)


# -- workers (one per subprocess) -----------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def worker_solver(n: int, seed: int, data_seed: int, time_limit: float) -> dict:
    from solvers.pairing import make_round

    started = time.perf_counter()
    problem = synthetic_problem(n, data_seed)
    log(f"N={n}: data built in {time.perf_counter() - started:.1f} s "
        f"({len(problem.history.last_met):,} past pairs)")
    before = _peak_mb()
    started = time.perf_counter()
    try:
        result = make_round(problem, seed=seed, time_limit=time_limit)
    except Exception as error:  # a failing size is reported, not fatal to the run
        seconds = time.perf_counter() - started
        text = str(error)
        if hasattr(error, "rule") and hasattr(error, "people"):
            text = f"rule {error.rule!r}, {len(error.people):,} people named"
        elif len(text) > 120:
            text = text[:117] + "…"
        log(f"N={n}: ours FAILED after {seconds:.2f} s: {type(error).__name__}: {text}")
        return {"n": n, "seconds": seconds, "error": f"{type(error).__name__} ({text})",
                "peak_mb": _peak_mb(), "before_mb": before,
                "random": random_shuffle(problem, n, seed)}
    seconds = time.perf_counter() - started
    peak = _peak_mb()
    m = result.metrics
    log(f"N={n}: ours {seconds:.2f} s, score {m.score}, gap {m.gap:.4%}, "
        f"repeats {m.repeats}, {m.method}, peak {peak:.0f} MB")

    return {
        "n": n,
        "seconds": seconds,
        "score": m.score,
        "bound": m.bound,
        "gap": m.gap,
        "repeats": m.repeats,
        "repeats_bound": m.repeats_bound,
        "method": m.method,
        "peak_mb": peak,
        "before_mb": before,
        "random": random_shuffle(problem, n, seed),
    }


def random_shuffle(problem: Problem, n: int, seed: int) -> dict:
    """People paired at random, rules ignored (the odd one out joins a pair)."""
    scorer = Scorer(problem, pairs_per_change=2)
    order = np.random.default_rng(seed).permutation(n)
    groups = [[int(order[k]), int(order[k + 1])] for k in range(0, n - 1, 2)]
    if n % 2 and groups:
        groups[-1].append(int(order[-1]))
    shuffle = group_figures(scorer, groups)
    return {"score": shuffle.score, "repeats": shuffle.repeats,
            "violations": shuffle.broken_rules}


def worker_networkx(n: int, data_seed: int) -> dict:
    import networkx as nx

    problem = synthetic_problem(n, data_seed)
    scorer = Scorer(problem, pairs_per_change=n)
    weights = scorer.dense()
    started = time.perf_counter()
    rows, cols = np.nonzero(np.triu(weights > FORBIDDEN, 1))
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(
        zip(rows.tolist(), cols.tolist(), weights[rows, cols].tolist(), strict=True))
    build = time.perf_counter() - started
    log(f"N={n}: NetworkX graph {graph.number_of_edges():,} edges in {build:.1f} s; matching…")
    started = time.perf_counter()
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    seconds = time.perf_counter() - started
    figures = group_figures(scorer, [sorted(pair) for pair in matching])
    log(f"N={n}: NetworkX {seconds:.1f} s, score {figures.score}, repeats {figures.repeats}")
    return {
        "n": n,
        "seconds": seconds,
        "build_seconds": build,
        "pairs": len(matching),
        "score": figures.score,
        "repeats": figures.repeats,
        "violations": figures.broken_rules,
        "peak_mb": _peak_mb(),
    }


def run_worker(kind: str, n: int, args, timeout: float | None = None) -> dict | None:
    """Run one measurement in a fresh interpreter; ``None`` on timeout."""
    command = [sys.executable, "-m", "benchmarks.pairing", "--worker", kind,
               "--sizes", str(n), "--seed", str(args.seed), "--data-seed", str(args.data_seed),
               "--time-limit", str(args.time_limit)]
    try:
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0 or not done.stdout.strip():
        log(f"N={n}: {kind} worker exited with status {done.returncode}")
        return {"n": n, "crashed": done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report ---------------------------------------------------------------------------


def target_for(n: int):
    for limit, seconds, gap, memory in TARGETS:
        if n <= limit:
            return limit, seconds, gap, memory
    return None


def _target_text(n: int) -> tuple[str, str]:
    target = target_for(n)
    if target is None:
        return "—", ""
    limit, seconds, gap, memory = target
    text = f"≤ {seconds:g} s, gap {'0' if gap == 0 else f'≤ {gap:.2%}'}"
    if memory:
        text += f", ≤ {memory / 1024:g} GB"
    scope = f"(up to {limit:,})" if limit != n else ""
    return text, scope


def _verdict(ours: dict) -> str:
    if "error" in ours or "crashed" in ours:
        return "✗ failed"
    target = target_for(ours["n"])
    if target is None:
        return "—"
    _, seconds, gap, memory = target
    misses = []
    if ours["seconds"] > seconds:
        misses.append("time")
    if ours["gap"] > gap + 1e-12:
        misses.append("gap")
    if memory and ours["peak_mb"] > memory:
        misses.append("memory")
    return "✓ met" if not misses else "✗ " + ", ".join(misses)


def render(results: list[dict], args, command: str) -> str:
    lines = [
        SECTION,
        "",
        f"Command: `{command}`  ",
        f"Date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  ",
        f"Machine: {machine_facts('numpy', 'rustworkx', 'networkx')}",
        "",
        "Synthetic people: 30 departments (largest ~35%, decreasing), 3 sites "
        "(60/30/10%), 6 roles, modes 70% either / 15% in-person / 15% virtual, "
        "organisation 90/10; history of 30 earlier random rounds of pairs "
        f"(data seed {args.data_seed}). Each size runs in a fresh process; time is "
        f"wall-clock around `make_round(problem, seed={args.seed}, "
        f"time_limit={args.time_limit:g})`; peak memory is the process's `ru_maxrss` "
        "(in brackets: before the solve, i.e. Python objects of the input).",
        "",
        "### Our solver against the targets",
        "",
        "| N | time (s) | score | bound | gap | repeats | method | peak MB | target | |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---|---|",
    ]
    for r in results:
        o = r["ours"]
        target, scope = _target_text(o["n"])
        if "crashed" in o:
            cells = f"— | — | — | — | — | crashed (exit {o['crashed']}) | —"
        elif "error" in o:
            cells = (f"{o['seconds']:.2f} | — | — | — | — | raised {o['error']} "
                     f"| {o['peak_mb']:,.0f} ({o['before_mb']:,.0f})")
        else:
            cells = (f"{o['seconds']:.2f} | {o['score']:,} | {o['bound']:,} "
                     f"| {o['gap']:.4%} | {o['repeats']} | {o['method']} "
                     f"| {o['peak_mb']:,.0f} ({o['before_mb']:,.0f})")
        lines.append(f"| {o['n']:,} | {cells} | {target} {scope}".rstrip()
                     + f" | {_verdict(o)} |")
    lines += [
        "",
        "### Baselines",
        "",
        "NetworkX: `max_weight_matching(G, maxcardinality=True)` on the same integer "
        "weights (`Scorer(problem, pairs_per_change=n).dense()`, forbidden pairs are "
        "not edges); its time is the matching call only (graph building excluded). "
        "Random shuffle: pairs drawn at random, rules ignored; *violations* are "
        "pairs whose meeting modes/sites cannot meet. Times vary with the machine; "
        "the ratio is what carries over.",
        "",
        "| N | NetworkX time (s) | NetworkX score | NetworkX repeats | ours ÷ NetworkX time "
        "| ours − NetworkX score | random score | random repeats | random violations |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        o, x = r["ours"], r["networkx"]
        ours_ok = "score" in o
        if isinstance(x, dict) and "crashed" in x:
            nx_cells = f"crashed (exit {x['crashed']}) | — | — | — | —"
        elif isinstance(x, dict):
            ratio = o["seconds"] / x["seconds"] if x["seconds"] > 0 else float("inf")
            speed = (f"×{1 / ratio:,.0f} faster" if ratio < 1 else f"×{ratio:,.1f} slower")
            nx_cells = f"{x['seconds']:.1f} | {x['score']:,} | {x['repeats']} | "
            nx_cells += (f"{ratio:.4f} ({speed}) | {o['score'] - x['score']:+,}"
                         if ours_ok else "— | —")
        else:
            nx_cells = f"{x} | — | — | — | —"
        rnd = o.get("random")
        rnd_cells = (f"{rnd['score']:,} | {rnd['repeats']} | {rnd['violations']:,}"
                     if rnd else "— | — | —")
        lines.append(f"| {o['n']:,} | {nx_cells} | {rnd_cells} |")
    return "\n".join(lines) + "\n"


# -- command line ---------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pairing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated numbers of people (default: %(default)s)")
    parser.add_argument("--networkx-max", type=int, default=1000, metavar="N",
                        help="run NetworkX only up to N people (default: %(default)s)")
    parser.add_argument("--networkx-timeout", type=float, default=900, metavar="SECONDS",
                        help="give up on NetworkX after this long (default: %(default)s)")
    parser.add_argument("--write", default=str(ROOT / "BENCHMARKS.md"), metavar="FILE",
                        help="markdown file whose pairing section is replaced "
                             "(default: BENCHMARKS.md at the repository root)")
    parser.add_argument("--no-write", action="store_true", help="only print the tables")
    parser.add_argument("--seed", type=int, default=1, help="solver seed (default: 1)")
    parser.add_argument("--data-seed", type=int, default=2024,
                        help="seed of the synthetic people and history (default: 2024)")
    parser.add_argument("--time-limit", type=float, default=30.0,
                        help="make_round time limit in seconds (default: 30)")
    parser.add_argument("--worker", choices=("solver", "networkx"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes must be whole numbers separated by commas")
    if not args.sizes or min(args.sizes) < 2:
        parser.error("--sizes must be at least 2 people each")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:  # inside a fresh subprocess: one size, JSON on stdout
        n = args.sizes[0]
        if args.worker == "solver":
            out = worker_solver(n, args.seed, args.data_seed, args.time_limit)
        else:
            out = worker_networkx(n, args.data_seed)
        print(json.dumps(out))
        return 0

    command = "python -m benchmarks.pairing" + "".join(
        " " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    results = []
    for n in args.sizes:
        log(f"N={n}: our solver…")
        ours = run_worker("solver", n, args)
        if n > args.networkx_max:
            networkx = "skipped (O(n³), too slow)"
        else:
            log(f"N={n}: NetworkX…")
            networkx = run_worker("networkx", n, args, timeout=args.networkx_timeout)
            if networkx is None:
                networkx = f"timed out (> {args.networkx_timeout:g} s)"
        results.append({"ours": ours, "networkx": networkx})
    section = render(results, args, command)
    print(section)
    if not args.no_write:
        path = Path(args.write)
        write_section(path, SECTION, section)
        log(f"wrote section {SECTION!r} of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
