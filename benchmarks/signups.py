"""Sign-up load benchmark: 500 participants sign up to one trial at once.

Run from the repository root::

    python -m benchmarks.signups              # SQLite, then PostgreSQL; writes BENCHMARKS.md
    python -m benchmarks.signups --databases sqlite --no-write

The target: 500 concurrent sign-ups to one trial through
``POST /api/v1/trials/{id}/signups`` all done in ≤ 10 s, none lost, no 5xx.

What it does, for each database (``--databases``), all on 127.0.0.1:

1. a fresh database (SQLite in a temporary folder, or a new PostgreSQL
   database ``bench_signups_…`` on ``--postgres``, dropped afterwards), an
   organiser made with ``python -m matcher organiser create``, and
   ``python -m matcher serve`` started as a subprocess (the production entry
   point: gevent) with ``MATCHER_SECRET_KEY`` set and mail going to an outbox
   folder (``MATCHER_MAIL_URL=file://…``: every sign-up writes its link mail);
2. a trial created over the API;
3. ``--people`` sign-ups (name, unique email, department, the join code), all
   from 127.0.0.1 with aiohttp, ``--concurrency`` in flight at once, no retries:
   each request's status and duration are recorded;
4. afterwards the participants are counted with ``GET /api/v1/trials/{id}``
   (organiser token) and compared with the 201 answers (*lost*: answered 201
   but missing from the trial), and the mails in the outbox are counted.

Progress goes to stderr; the table goes to stdout and (unless ``--no-write``)
replaces the subsection "### 500 concurrent sign-ups" of the section
"## Load" of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import os
import shlex
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import aiohttp

from benchmarks.harness import (
    LOAD_SECTION,
    ROOT,
    SUBSECTION_INTRO,
    Server,
    code_version,
    free_port,
    log,
    own_cpu,
    percentile,
    postgres_database,
    postgres_version,
    proc_cpu,
    proc_status,
)
from benchmarks.report import machine_cpu, machine_facts, wait_for_quiet, write_subsection

SECTION = LOAD_SECTION
SECTION_INTRO = SUBSECTION_INTRO
SUBSECTION = "### 500 concurrent sign-ups"
TARGET_SECONDS = 10.0
DEPARTMENTS = ("Cardiology", "Radiology", "Pharmacy", "Estates", "Finance", "Nursing",
               "Pathology", "IT", "HR", "Theatres")


async def run(args, server: Server, organiser: str) -> dict:
    base = server.url + "/api/v1"
    headers = {"Authorization": f"Bearer {organiser}"}
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        # Sign-ups that join at once: each answer is a member, counted against the trial.
        async with http.post(base + "/trials", headers=headers,
                             json={"name": "Benchmark trial", "confirm_email": False}) as response:
            trial = await response.json()
            if response.status != 201:
                raise RuntimeError(f"POST /trials: {response.status} {trial}")
        trial_id, join_code = trial["id"], trial["join_code"]
        log(f"trial {trial_id}: {args.people} sign-ups, {args.concurrency} in flight…")

        gate = asyncio.Semaphore(args.concurrency)
        outcomes: list[tuple[int | str, float, float, float, str | None]] = []

        async def sign_up(k: int) -> None:
            body = {"join_code": join_code, "name": f"Person {k:04d}",
                    "email": f"person{k:04d}@example.org",
                    "department": DEPARTMENTS[k % len(DEPARTMENTS)]}
            async with gate:
                started = time.perf_counter()
                participant = None
                try:
                    async with http.post(f"{base}/trials/{trial_id}/signups",
                                         json=body) as response:
                        status: int | str = response.status
                        answer = await response.json(content_type=None)
                        if status == 201:
                            participant = answer["participant_id"]
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status = type(exc).__name__
                ended = time.perf_counter()
                outcomes.append((status, ended - started, started, ended, participant))

        cpu, mine, machine = proc_cpu(server.pid), own_cpu(), machine_cpu()
        before = proc_status(server.pid)
        started = time.perf_counter()
        await asyncio.gather(*(sign_up(k) for k in range(args.people)))
        seconds = time.perf_counter() - started
        server_cpu = proc_cpu(server.pid) - cpu
        client_cpu = own_cpu() - mine
        # (clock ticks: the difference can come out a tick below zero)
        other_cpu = max(0.0, machine_cpu() - machine - server_cpu - client_cpu)
        after = proc_status(server.pid)

        async with http.get(f"{base}/trials/{trial_id}", headers=headers) as response:
            details = await response.json()
            if response.status != 200:
                raise RuntimeError(f"GET /trials/{trial_id}: {response.status} {details}")
    counted = {p["participant_id"] for p in details["participants"]}
    created = [o[4] for o in outcomes if o[0] == 201]
    durations = [o[1] for o in outcomes]
    ok_durations = [o[1] for o in outcomes if o[0] == 201]
    # Throughput once the first requests are through: sign-ups per second.
    ends = sorted(o[3] for o in outcomes if o[0] == 201)
    outbox = server.folder / "outbox"
    mails = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0
    statuses = Counter(str(o[0]) for o in outcomes)
    return {
        "seconds": seconds, "statuses": dict(sorted(statuses.items())),
        "created": len(created), "counted": len(counted),
        "lost": len(set(created) - counted), "extra": len(counted - set(created)),
        "server_errors": sum(n for s, n in statuses.items() if s.startswith("5")),
        "p50": percentile(durations, 50), "p99": percentile(durations, 99),
        "max": max(durations) if durations else math.nan,
        "ok_p50": percentile(ok_durations, 50),
        "rate": (len(ends) - 1) / (ends[-1] - ends[0]) if len(ends) > 1 else math.nan,
        "mails": mails, "server_cpu": server_cpu, "client_cpu": client_cpu,
        "other_cpu": other_cpu,
        "rss_before": before.get("VmRSS"), "rss_after": after.get("VmRSS"),
        "hwm": after.get("VmHWM"),
    }


def measure(args, database: str, stack: ExitStack) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"signups-{database}-"))
    stack.callback(_remove, folder, args.keep)
    url = None
    if database == "postgresql":
        url = stack.enter_context(postgres_database(args.postgres, "bench_signups"))
    server = Server(folder, free_port(), database_url=url)
    log(f"{database}: database, outbox and server log in {folder}")
    organiser = server.organiser_token("benchmark@example.org")
    try:
        server.start()
        log(f"{database}: server pid {server.pid} on {server.url}")
        quiet = wait_for_quiet(timeout=args.quiet_wait) if args.quiet_wait else None
        result = asyncio.run(run(args, server, organiser))
        result["quiet"] = quiet
    except BaseException:
        tail = server.tail()
        if tail:
            log("server log (last lines):\n" + tail)
        raise
    finally:
        server.stop()
    result["database"] = database
    log(f"{database}: {result['created']} created, {result['counted']} in the trial, "
        f"{result['seconds']:.2f} s, p50 {result['p50']:.3f} s, p99 {result['p99']:.3f} s, "
        f"statuses {result['statuses']}, mails {result['mails']}")
    return result


def _remove(folder: Path, keep: bool) -> None:
    if keep:
        log(f"kept {folder}")
        return
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    folder.rmdir()


def verdict(row: dict, people: int) -> str:
    misses = []
    if not row["seconds"] <= TARGET_SECONDS:
        misses.append("time")
    if row["lost"] or row["counted"] != people:
        misses.append("lost")
    if row["server_errors"]:
        misses.append("5xx")
    return "✓ met" if not misses else "✗ " + ", ".join(misses)


def render(rows: list[dict], args, command: str) -> str:
    def mb(kib):
        return f"{kib / 1024:,.0f}" if kib else "—"

    libraries = ["gevent", "Flask", "Flask-Limiter", "SQLAlchemy", "aiohttp"]
    if any(r["database"] == "postgresql" for r in rows):
        libraries.insert(4, "psycopg")
    facts = machine_facts(*libraries)
    if any(r["database"] == "postgresql" for r in rows):
        facts += f"; {postgres_version(args.postgres)} on 127.0.0.1"
    lines = [
        SUBSECTION,
        "",
        f"Command: `{command}`  ",
        f"Date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  ",
        f"Machine: {facts}  ",
        f"Code: {code_version()}",
        "",
        "One server process, `python -m matcher serve` (gevent), with "
        "`MATCHER_SECRET_KEY` set and `MATCHER_MAIL_URL=file://…/outbox` (each sign-up "
        "writes its link mail there before answering), on a fresh database: SQLite in a "
        "temporary folder, or a new PostgreSQL database on the machine's server "
        "(`MATCHER_DATABASE_URL=postgresql+psycopg://…`). One trial; "
        f"{args.people:,} different people sign up through "
        "`POST /api/v1/trials/{id}/signups` (name, email, department, join code), all "
        f"from 127.0.0.1, with aiohttp, {args.concurrency} requests in flight at once, "
        "no retries. *Time*: from the first request sent to the last answer; "
        "*per request*: each request's own duration (so it includes the wait behind the "
        f"others in flight). *In the trial*: participants counted afterwards with "
        "`GET /api/v1/trials/{id}` (organiser token); *lost*: answered 201 but not in "
        "the trial; *mails written*: `.eml` files in the outbox afterwards. The app's "
        "rate limit on sign-ups is per address and trial, 2,000 per 10 minutes "
        "(`web/security.py`), so a 429 here would be a bug. *Server*, *client* and "
        "*other CPU*: user + system time of the server process, of the benchmark process, "
        "and of the rest of the machine (PostgreSQL, anything else running) while the "
        "sign-ups ran; the machine has "
        f"{len(os.sched_getaffinity(0))} cores for all of them."
        + (f" Before each run the benchmark waited (at most {args.quiet_wait:g} s) for a "
           "quiet machine, under 0.3 cores busy over 3 s; when it started: "
           + ", ".join(f"{r['quiet']:.2f}" for r in rows if r.get("quiet") is not None)
           + " cores busy." if any(r.get("quiet") is not None for r in rows) else ""),
        "",
        "| database | sign-ups | time (s) | sign-ups/s | per request p50 / p99 / max (s) "
        "| answers | in the trial | lost | 5xx | mails written | server CPU (s) "
        "| client CPU (s) | other CPU (s) | server RSS before → after (MB) | target | |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for row in rows:
        answers = ", ".join(f"{n} × {s}" for s, n in row["statuses"].items())
        lines.append(
            f"| {'PostgreSQL' if row['database'] == 'postgresql' else 'SQLite'} "
            f"| {args.people:,} | {row['seconds']:.2f} | {row['rate']:.0f} "
            f"| {row['p50']:.3f} / {row['p99']:.3f} / {row['max']:.3f} | {answers} "
            f"| {row['counted']:,} | {row['lost']} | {row['server_errors']} | {row['mails']:,} "
            f"| {row['server_cpu']:.1f} | {row['client_cpu']:.1f} | {row['other_cpu']:.1f} "
            f"| {mb(row['rss_before'])} → {mb(row['rss_after'])} "
            f"| all in ≤ {TARGET_SECONDS:g} s, none lost, no 5xx "
            f"| {verdict(row, args.people)} |")
    return "\n".join(lines) + "\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.signups", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=500,
                        help="sign-ups, each a different person (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=100,
                        help="requests in flight at once (default: %(default)s)")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="comma-separated, each a fresh run: sqlite, postgresql "
                             "(default: %(default)s)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        metavar="URL",
                        help="a PostgreSQL server and a database on it to connect to for "
                             "CREATE DATABASE / DROP DATABASE (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds one request may take (default: %(default)s)")
    parser.add_argument("--quiet-wait", type=float, default=600.0, metavar="SECONDS",
                        help="before each run, wait up to this long for the machine to be "
                             "quiet (under 0.3 cores busy: no test suite running); 0: do not "
                             "wait (default: %(default)s)")
    parser.add_argument("--write", default=str(ROOT / "BENCHMARKS.md"), metavar="FILE",
                        help="markdown file whose subsection is replaced "
                             "(default: BENCHMARKS.md at the repository root)")
    parser.add_argument("--no-write", action="store_true", help="only print the table")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folders (database, outbox, server log)")
    args = parser.parse_args(argv)
    args.database_list = [d.strip() for d in args.databases.split(",") if d.strip()]
    if not args.database_list or set(args.database_list) - {"sqlite", "postgresql"}:
        parser.error("--databases: sqlite and/or postgresql")
    if args.people < 1 or args.concurrency < 1:
        parser.error("--people and --concurrency must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    command = "python -m benchmarks.signups" + "".join(
        " " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    rows = []
    for database in args.database_list:
        with ExitStack() as stack:
            rows.append(measure(args, database, stack))
    section = render(rows, args, command)
    print(section)
    if not args.no_write:
        path = Path(args.write)
        write_subsection(path, SECTION, SECTION_INTRO, SUBSECTION, section)
        log(f"wrote {SUBSECTION!r} of {SECTION!r} in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
