"""How long the test suite takes, and how much of the code it covers, against a
baseline commit in the same run.

Run from the repository root::

    python -m benchmarks.test_suite --baseline a68ecda          # wall times; writes BENCHMARKS.md
    python -m benchmarks.test_suite --coverage --no-write       # line coverage of HEAD too

For HEAD, then each ``--baseline`` commit (this machine's PostgreSQL, Redis and
Chromium, as ``make test`` needs them):

1. a fresh clone of the commit into a temporary folder, and its install
   (``make .venv/.installed``: a new virtual environment and ``pip install -e
   '.[dev]'``, which pip's cache makes quick after the first), timed;
2. ``make test`` there, timed as a whole (its exit status and pytest's last
   line are recorded: a run that fails is reported, not hidden);
3. with ``--coverage``, ``make test``'s pytest commands again under
   coverage.py with the same settings for every commit (its own servers and
   command-line subprocesses measured too: ``patch = subprocess``, ``sigterm``,
   gevent), and the line coverage of ``matcher/``, ``solvers/`` and ``web/``.

Commits whose ``make test`` runs pytest twice (a pass per database) are timed
as they are; the coverage run follows that commit's Makefile, so it measures
what that commit's ``make test`` runs.

Progress goes to stderr; the table to stdout and (unless ``--no-write``) to the
section "## Test suite" of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import machine_facts, write_section

ROOT = Path(__file__).resolve().parent.parent
TITLE = "## Test suite"
#: The same coverage settings for every commit measured.
COVERAGE_RC = """\
[run]
source_pkgs = matcher, solvers, web
parallel = true
patch = subprocess
sigterm = true
concurrency = thread, gevent
data_file = {data}
"""


@dataclass
class Measured:
    commit: str
    install: float
    wall: float
    status: int
    summary: str
    coverage: float | None = None
    covered: str = ""


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(command: list[str] | str, cwd: Path, **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False,
                          shell=isinstance(command, str), **kwargs)
    return time.perf_counter() - started, done


def pytest_commands(folder: Path) -> list[str]:
    """The pytest commands ``make test`` runs in ``folder`` (``make -n``), as
    shell lines."""
    _, done = run(["make", "-n", "test"], folder)
    return [line for line in done.stdout.splitlines() if " -m pytest" in line]


def measure(commit: str, workdir: Path, coverage: bool) -> Measured:
    folder = workdir / commit
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(folder)], check=True)
    subprocess.run(["git", "checkout", "--quiet", commit], cwd=folder, check=True)
    log(f"{commit}: installing")
    install, done = run(["make", ".venv/.installed"], folder)
    if done.returncode:
        raise SystemExit(f"{commit}: the install failed:\n{done.stderr[-2000:]}")
    log(f"{commit}: make test")
    wall, done = run(["make", "test"], folder)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    # pytest's last line of each pass ("953 passed, 2 deselected in 604.14s").
    passes = [line.strip("= ") for line in lines
              if re.search(r"\d+ (passed|failed|errors?)\b.* in [\d.]+s", line)]
    summary = "; ".join(passes) or (lines[-1] if lines else "")
    measured = Measured(commit, install, wall, done.returncode, summary)
    log(f"{commit}: {wall:.0f} s, {measured.summary}")
    if coverage:
        measured.coverage, measured.covered = measure_coverage(folder)
        log(f"{commit}: coverage {measured.coverage:.2f}%")
    return measured


def measure_coverage(folder: Path) -> tuple[float, str]:
    data = folder / ".bench-coverage" / "coverage"
    data.parent.mkdir()
    rc = folder / ".bench-coveragerc"
    rc.write_text(COVERAGE_RC.format(data=data))
    python = folder / ".venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "coverage>=7.10"],
                   check=True, cwd=folder)
    env = f"COVERAGE_RCFILE={shlex.quote(str(rc))}"
    for line in pytest_commands(folder):
        # `… .venv/bin/python -m pytest …` → the same under `coverage run`.
        command = line.replace(" -m pytest", " -m coverage run -m pytest", 1)
        run(f"{env} {command}", folder)
    run([str(python), "-m", "coverage", "combine", "-q", f"--rcfile={rc}"], folder)
    _, done = run([str(python), "-m", "coverage", "json", "-q", "-o", "-",
                   f"--rcfile={rc}"], folder)
    totals = json.loads(done.stdout)["totals"]
    return totals["percent_covered"], f"{totals['covered_lines']} of {totals['num_statements']}"


def table(results: list[Measured], coverage: bool) -> str:
    head = "| commit | install (s) | `make test` (s) | vs HEAD | result |"
    rule = "|---|---:|---:|---:|---|"
    if coverage:
        head += " line coverage |"
        rule += "---:|"
    rows = [head, rule]
    now = results[0].wall
    for one in results:
        row = (f"| {one.commit} | {one.install:.0f} | {one.wall:.0f} | "
               f"{one.wall / now:.2f}× | {'' if one.status == 0 else 'FAILED: '}{one.summary} |")
        if coverage:
            row += f" {one.coverage:.2f}% ({one.covered}) |" if one.coverage is not None else " |"
        rows.append(row)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.test_suite",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", action="append", default=[], metavar="COMMIT",
                        help="a commit to compare with (may be given more than once)")
    parser.add_argument("--coverage", action="store_true",
                        help="measure line coverage too (each commit's suite once more)")
    parser.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args(argv)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="suite-bench-") as workdir:
        results = [measure(commit, Path(workdir), args.coverage)
                   for commit in [head, *args.baseline]]
    text = table(results, args.coverage)
    print(text)
    if not args.no_write:
        command = "python -m benchmarks.test_suite " + " ".join(
            [f"--baseline {c}" for c in args.baseline] + (["--coverage"] if args.coverage else []))
        section = (f"{TITLE}\n\n`{command.strip()}`: a fresh clone of each commit, its install, "
                   "then `make test`, one after the other on this machine "
                   f"({machine_facts('pytest', 'xdist')}).\n\n{text}\n")
        write_section(ROOT / "BENCHMARKS.md", TITLE, section)
    return 0 if all(one.status == 0 for one in results) else 1


if __name__ == "__main__":
    sys.exit(main())
