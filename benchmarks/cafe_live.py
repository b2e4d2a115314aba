"""Live café benchmark: 1,000 phones on one server, "next round", seats.

Run from the repository root::

    python -m benchmarks.cafe_live                       # 1,000 people, writes BENCHMARKS.md
    python -m benchmarks.cafe_live --people 200 --no-write
    python -m benchmarks.cafe_live --database postgresql              # the load section
    python -m benchmarks.cafe_live --processes 2 --database postgresql   # the load section, Redis

The target: one café, 1,000 participants connected with python-socketio clients
to one server process on this machine; after "next round", every participant
has its seat, none is lost, p99 latency ≤ 1 s; report p50/p99 and the server's
peak memory. Issue 6 asks for the same café on PostgreSQL and on two processes
behind Redis: ``--database postgresql`` (a new database on ``--postgres``,
dropped afterwards) and ``--processes 2`` (each process its own port, sharing
the database and ``--redis`` as ``MATCHER_MESSAGE_QUEUE`` and
``MATCHER_RATELIMIT_STORAGE``; phone *k* joins and connects through process
*k* mod 2, as sticky sessions would keep it there; the organiser's calls go to
the first process). Those runs replace their own subsection of the section
"## Load" of BENCHMARKS.md; the default run, "## Live café".

What it does, all on 127.0.0.1:

1. a fresh SQLite database in a temporary folder, an organiser made with
   ``python -m matcher organiser create``, and ``python -m matcher serve`` started
   as a subprocess (the production entry point: gevent + gevent-websocket);
2. a café (tables of 6, ``--rounds`` rounds of 10 minutes, one question per
   round) created over the API, and ``--people`` participants joined over HTTP
   (``POST /api/v1/cafes/<code>/participants``, ``--join-concurrency`` at once);
3. one ``socketio.AsyncClient`` per participant (asyncio + aiohttp, all in this
   process), connected with ``auth={"token": ...}`` over WebSocket (the last
   ``--polling`` of them over HTTP long-polling), ``--connect-concurrency`` at
   once, each with a connect timeout and one retry;
4. for each round: ``t0`` just before ``POST /rounds/next`` (the organiser's
   "next round"; round 1 starts the café and plans all of it), and for each
   client the moment its ``seat`` event for that round arrives; latency =
   arrival − t0. A client with no seat ``--wait`` seconds after the HTTP
   response is *lost*. The seats are checked against the API's response (each
   person at exactly one table per round, the table number the API gave, the
   right number of companions).

The server's memory comes from ``/proc/<pid>/status`` (VmRSS at points along
the way, VmHWM = peak resident set at the end); its CPU time per round from
``/proc/<pid>/stat``. Progress goes to stderr; the tables go to stdout and
(unless ``--no-write``) replace the section "## Live café" of
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import math
import os
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

import aiohttp
import socketio

from benchmarks.harness import (
    DEFAULT_REDIS,
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
    redis_cleanup,
    redis_version,
)
from benchmarks.report import (
    machine_cpu,
    machine_facts,
    wait_for_quiet,
    write_section,
    write_subsection,
)

SECTION = "## Live café"
#: The target: p99 of the seat latency after "next round".
TARGET_P99 = 1.0
TABLE_SIZE = 6
ROUND_MINUTES = 10
#: Department sizes (as in the rotation benchmark), scaled to the number of people.
DEPARTMENTS = (30, 20, 15, 12, 10, 10, 8, 6, 5, 4)




# -- the server ------------------------------------------------------------------------




















# -- the participants ------------------------------------------------------------------


def departments(total: int, seed: int) -> list[str]:
    """``total`` department labels in the proportions of DEPARTMENTS (largest
    remainders), shuffled."""
    scale = total / sum(DEPARTMENTS)
    exact = [d * scale for d in DEPARTMENTS]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda k: -(exact[k] - counts[k]))
    for k in order[: total - sum(counts)]:
        counts[k] += 1
    labels = [f"Department {k + 1:02d}" for k, c in enumerate(counts) for _ in range(c)]
    Random(seed).shuffle(labels)
    return labels


@dataclass(eq=False)
class Phone:
    """One participant's Socket.IO client and what it received."""

    index: int
    participant_id: str
    token: str
    transport: str
    bench: Bench
    server: int = 0
    sio: socketio.AsyncClient | None = None
    connected: bool = False
    connect_seconds: float = float("nan")
    attempts: int = 0
    error: str = ""
    disconnects: int = 0
    seats: dict[int, list[tuple[float, dict]]] = field(default_factory=dict)
    states: dict[int, float] = field(default_factory=dict)

    def on_seat(self, data: dict) -> None:
        now = time.perf_counter()
        number = data.get("round") if isinstance(data, dict) else None
        got = self.seats.setdefault(number, [])
        got.append((now, data))
        if len(got) == 1:
            self.bench.seat_arrived(number)

    def on_state(self, data: dict) -> None:
        now = time.perf_counter()
        if isinstance(data, dict):
            self.states.setdefault(data.get("round"), now)

    def on_disconnect(self, *_reason) -> None:
        if self.connected:
            self.disconnects += 1
        self.connected = False


class Bench:
    """Counts first seats per round, so a round's wait ends when all have arrived."""

    def __init__(self) -> None:
        self.arrived: dict[int, int] = {}
        self.expected = 0
        self.waiting: tuple[int, asyncio.Event] | None = None

    def seat_arrived(self, number: int) -> None:
        self.arrived[number] = self.arrived.get(number, 0) + 1
        if (self.waiting and self.waiting[0] == number
                and self.arrived[number] >= self.expected):
            self.waiting[1].set()


async def connect_phone(phone: Phone, url: str, timeout: float, retries: int) -> None:
    for attempt in range(1 + retries):
        phone.attempts = attempt + 1
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False,
                                   request_timeout=timeout)
        sio.on("seat", phone.on_seat)
        sio.on("cafe_state", phone.on_state)
        sio.on("disconnect", phone.on_disconnect)
        started = time.perf_counter()
        try:
            await asyncio.wait_for(
                sio.connect(url, auth={"token": phone.token}, transports=[phone.transport],
                            wait_timeout=timeout),
                timeout + 1)
        except Exception as exc:  # noqa: BLE001 (any failure is reported and retried)
            phone.error = f"{type(exc).__name__}: {exc}"[:200]
            try:
                await asyncio.wait_for(sio.disconnect(), 5)
            except Exception:  # noqa: BLE001 (leaving anyway)
                pass
            if sio.eio.http is not None and not sio.eio.http.closed:
                await sio.eio.http.close()
            await asyncio.sleep(1.0)
            continue
        phone.sio, phone.connected = sio, True
        phone.connect_seconds = time.perf_counter() - started
        phone.error = ""
        return


async def loop_lag(samples: list[tuple[float, float]], stop: asyncio.Event,
                   period: float = 0.01) -> None:
    """How late this process's event loop wakes up (the clients' own delay)."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(period)
        now = time.perf_counter()
        samples.append((now, now - before - period))


def start_py_spy(path: str, pid: int) -> subprocess.Popen:
    """Sample the server's stacks (py-spy, if installed) while the rounds run."""
    command = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
               "--rate", "250", "--format", "raw", "--output", path, "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_py_spy(spy: subprocess.Popen, path: str) -> None:
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(timeout=30)
    except subprocess.TimeoutExpired:
        spy.kill()
    log(f"py-spy samples of the server: {path}")




# -- the run ---------------------------------------------------------------------------


async def http_json(http: aiohttp.ClientSession, method: str, url: str, *,
                    token: str | None = None, body: dict | None = None,
                    retries: int = 2) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for attempt in range(retries + 1):
        try:
            async with http.request(method, url, json=body, headers=headers) as response:
                return response.status, await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError):
            if attempt == retries:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


def cpus(servers: list[Server]) -> list[float]:
    return [proc_cpu(s.pid) for s in servers]


def cpu_since(servers: list[Server], before: list[float]) -> list[float]:
    return [proc_cpu(s.pid) - b for s, b in zip(servers, before, strict=True)]


def statuses(servers: list[Server]) -> list[dict[str, int]]:
    return [proc_status(s.pid) for s in servers]


async def run(args, servers: list[Server], organiser: str) -> dict:
    """The café: phone ``k`` joins and connects through ``servers[k % len(servers)]``
    (sticky sessions); the organiser's calls go to ``servers[0]``. Memory and CPU
    figures are lists, one per server."""
    results: dict = {"people": args.people, "rounds": args.rounds, "memory": {},
                     "server_cpu": {}}
    memory = results["memory"]
    memory["idle"] = statuses(servers)
    server = servers[0]
    base = server.url + "/api/v1"
    bases = [s.url + "/api/v1" for s in servers]
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=args.join_concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        questions = [f"Question {r}: what would make the next year better?"
                     for r in range(1, args.rounds + 1)]
        status, cafe = await http_json(http, "POST", base + "/cafes", token=organiser, body={
            "name": "Benchmark café", "table_size": TABLE_SIZE, "rounds": args.rounds,
            "round_minutes": ROUND_MINUTES, "questions": questions})
        if status != 201:
            raise RuntimeError(f"POST /cafes: {status} {cafe}")
        code = cafe["code"]
        log(f"café {code}: joining {args.people} people over HTTP "
            f"({args.join_concurrency} at once)…")

        labels = departments(args.people, args.data_seed)
        limit = asyncio.Semaphore(args.join_concurrency)
        join_times: list[float] = []

        async def join(k: int) -> tuple[str, str]:
            async with limit:
                started = time.perf_counter()
                status, body = await http_json(
                    http, "POST", f"{bases[k % len(bases)]}/cafes/{code}/participants",
                    body={"name": f"Person {k:04d}", "department": labels[k]})
                join_times.append(time.perf_counter() - started)
                if status != 201:
                    raise RuntimeError(f"join {k}: {status} {body}")
                return body["participant_id"], body["token"]

        cpu = cpus(servers)
        started = time.perf_counter()
        joined = await asyncio.gather(*(join(k) for k in range(args.people)))
        results["join"] = {"seconds": time.perf_counter() - started,
                           "p50": percentile(join_times, 50), "p99": percentile(join_times, 99),
                           "server_cpu": cpu_since(servers, cpu)}
        memory["joined"] = statuses(servers)
        if args.probe:
            results["join"]["probe"] = "; ".join(
                (f"{s.name}: " if len(servers) > 1 else "")
                + probe_phase(s.probe_events(started, time.perf_counter())) for s in servers)
            log(f"joins inside the server: {results['join']['probe']}")
        log(f"joined {len(joined)} in {results['join']['seconds']:.1f} s "
            f"(p99 {results['join']['p99'] * 1000:.0f} ms per request)")

        bench = Bench()
        polling_from = args.people - args.polling
        phones = [Phone(k, pid, token, "polling" if k >= polling_from else "websocket", bench,
                        server=k % len(servers))
                  for k, (pid, token) in enumerate(joined)]
        log(f"connecting {len(phones)} Socket.IO clients ({args.polling} over polling, "
            f"{args.connect_concurrency} at once)…")
        lag: list[tuple[float, float]] = []
        stop_lag = asyncio.Event()
        lag_task = asyncio.create_task(loop_lag(lag, stop_lag))
        gate = asyncio.Semaphore(args.connect_concurrency)

        async def connect(phone: Phone) -> None:
            async with gate:
                await connect_phone(phone, servers[phone.server].url, args.connect_timeout,
                                    retries=1)

        cpu = cpus(servers)
        started = time.perf_counter()
        await asyncio.gather(*(connect(p) for p in phones))
        connected = [p for p in phones if p.connected]
        results["connect"] = {
            "seconds": time.perf_counter() - started, "connected": len(connected),
            "retried": sum(p.attempts > 1 for p in connected),
            "failed": [p.error for p in phones if not p.connected][:5],
            "p50": percentile([p.connect_seconds for p in connected], 50),
            "p99": percentile([p.connect_seconds for p in connected], 99),
            "server_cpu": cpu_since(servers, cpu),
            "initial_state": sum(0 in p.states for p in connected)}
        if args.probe:
            results["connect"]["probe"] = "; ".join(
                (f"{s.name}: " if len(servers) > 1 else "")
                + probe_phase(s.probe_events(started, time.perf_counter())) for s in servers)
            log(f"connections inside the server: {results['connect']['probe']}")
        await asyncio.sleep(1.0)
        memory["connected"] = statuses(servers)
        log(f"connected {len(connected)} of {len(phones)} in "
            f"{results['connect']['seconds']:.1f} s "
            f"({results['connect']['retried']} after a retry); server RSS "
            + " / ".join(f"{m.get('VmRSS', 0) / 1024:.0f}" for m in memory["connected"])
            + " MB")
        if not connected:
            raise RuntimeError("no client connected: " + "; ".join(results["connect"]["failed"]))
        if not args.no_gc_freeze:
            # The phones are one process here, not 1,000 devices: keep this process's
            # own full garbage collections (~0.1 s over 1,000 clients) out of the latencies.
            gc.collect()
            gc.freeze()

        results["rounds_data"] = []
        for number in range(1, args.rounds + 1):
            expected = [p for p in phones if p.connected]
            bench.expected = len(expected)
            done = asyncio.Event()
            bench.waiting = (number, done)
            if bench.arrived.get(number, 0) >= bench.expected:
                done.set()
            spies = []
            if args.py_spy:
                spies = [(start_py_spy(f"{args.py_spy}.round{number}{s.name}", s.pid),
                          f"{args.py_spy}.round{number}{s.name}") for s in servers]
                await asyncio.sleep(1.0)  # attached before the round starts
            cpu, mine, machine = cpus(servers), own_cpu(), machine_cpu()
            t0 = time.perf_counter()
            status, body = await http_json(
                http, "POST", f"{base}/cafes/{code}/rounds/next", token=organiser,
                body={"seed": args.seed}, retries=0)
            t_http = time.perf_counter()
            if status != 200:
                raise RuntimeError(f"round {number}: next round {status} {body}")
            try:
                await asyncio.wait_for(done.wait(), args.wait)
            except TimeoutError:
                pass
            t_end = time.perf_counter()
            for spy, path in spies:
                stop_py_spy(spy, path)
            row = check_round(number, body, expected, {pid for pid, _ in joined}, t0, t_http)
            row.update(server_cpu=cpu_since(servers, cpu), client_cpu=own_cpu() - mine,
                       machine_cpu=machine_cpu() - machine,
                       wall=t_end - t0,
                       server_hwm=[m.get("VmHWM") for m in statuses(servers)],
                       loop_lag=max((v for t, v in lag if t0 <= t <= t_end), default=0.0))
            if args.probe:
                row["probe"] = "; ".join(
                    (f"{s.name}: " if len(servers) > 1 else "")
                    + probe_summary(s.probe_events(t0, t_end), t0) for s in servers)
                log(f"round {number} inside the server: {row['probe']}")
            results["rounds_data"].append(row)
            log(f"round {number}: HTTP {row['http']:.3f} s, seated {row['seated']}/"
                f"{row['expected']}, lost {row['lost']}, p50 {fmt_s(row['p50'])}, "
                f"p99 {fmt_s(row['p99'])}, max {fmt_s(row['max'])}; server CPU "
                f"{cpu_text(row['server_cpu'], 2)} s; problems: {row['problems'] or 'none'}")
            await asyncio.sleep(args.pause)

        memory["end"] = statuses(servers)
        results["disconnects"] = sum(p.disconnects for p in phones)
        stop_lag.set()
        await lag_task
        log("disconnecting the clients…")
        gate = asyncio.Semaphore(100)

        async def close(phone: Phone) -> None:
            async with gate:
                if phone.sio is None:
                    return
                phone.connected = False  # leaving on purpose: not counted as dropped
                try:
                    await asyncio.wait_for(phone.sio.disconnect(), 5)
                except Exception:  # noqa: BLE001 (leaving anyway)
                    pass
                http_session = phone.sio.eio.http
                if http_session is not None and not http_session.closed:
                    await http_session.close()

        await asyncio.gather(*(close(p) for p in phones))
    return results


def probe_summary(events: list[dict], t0: float) -> str:
    """What the server did during a round: each phase's start (from t0) and
    duration, and its full garbage collections."""
    parts = []
    for e in sorted(events, key=lambda e: e.get("t0", e["t"])):
        took = e["t"] - e.get("t0", e["t"])
        sql = (f", {e['sql']} SQL statements" if "sql" in e else "") + (
            f", {e['pool_wait']:.3f} s waiting for the pool" if e.get("pool_wait") else "")
        if e["ev"] == "gc":
            if e["gen"] == 2:
                parts.append(f"full GC at +{e['t0'] - t0:.3f} s for {took:.3f} s")
        elif e["ev"] == "request":
            parts.append(f"{e['rule']} at +{e['t0'] - t0:.3f} s for {took:.3f} s{sql}")
        elif e["ev"] not in ("instrumented", "sio", "db_connect", "gc_freeze"):
            parts.append(f"{e['ev']} at +{e['t0'] - t0:.3f} s for {took:.3f} s{sql}")
    return "; ".join(parts) or "nothing recorded"


def probe_phase(events: list[dict]) -> str:
    """What the server did while everyone joined or connected: per kind of
    request or Socket.IO event, how many, their mean duration and mean SQL
    statements, and the full garbage collections."""
    groups: dict[str, list[dict]] = {}
    for e in events:
        if e["ev"] == "request":
            groups.setdefault(e["rule"], []).append(e)
        elif e["ev"] == "sio":
            groups.setdefault(f"Socket.IO {e['name']}", []).append(e)
        elif e["ev"] in ("push_cafe",):
            groups.setdefault(e["ev"], []).append(e)
    parts = []
    for name, group in groups.items():
        took = [e["t"] - e["t0"] for e in group]
        sql = sum(e.get("sql", 0) for e in group) / len(group)
        wait = sum(e.get("pool_wait", 0) for e in group) / len(group)
        parts.append(f"{len(group):,} × {name}: mean {sum(took) / len(took) * 1000:.1f} ms "
                     f"(of which {wait * 1000:.1f} ms waiting for a pooled database "
                     f"connection), p99 {percentile(took, 99) * 1000:.0f} ms, "
                     f"{sql:.1f} SQL statements")
    connects = sum(e["ev"] == "db_connect" for e in events)
    if connects:
        parts.append(f"{connects:,} new database connections")
    full = [e for e in events if e["ev"] == "gc" and e["gen"] == 2]
    if full:
        parts.append(f"{len(full)} full GCs, {sum(e['t'] - e['t0'] for e in full):.2f} s")
    return "; ".join(parts) or "nothing recorded"


def check_round(number: int, body: dict, phones: list[Phone], everyone: set[str],
                t0: float, t_http: float) -> dict:
    """Latencies of this round's seats, and every way the seats could be wrong."""
    problems: list[str] = []
    if body.get("round") != number:
        problems.append(f"API round {body.get('round')} ≠ {number}")
    table_of: dict[str, int] = {}
    sizes: dict[int, int] = {}
    for table in body.get("tables", []):
        sizes[table["table"]] = len(table["members"])
        for member in table["members"]:
            if member in table_of:
                problems.append(f"{member} at two tables")
            table_of[member] = table["table"]
    if set(table_of) != everyone:
        problems.append(f"API seated {len(table_of)} of {len(everyone)} people "
                        f"({len(everyone - set(table_of))} missing)")
    latencies, wrong, duplicates = [], 0, 0
    for phone in phones:
        got = phone.seats.get(number, [])
        if len(got) > 1:
            duplicates += 1
        if not got:
            latencies.append(float("inf"))
            continue
        arrived, seat = got[0]
        latencies.append(arrived - t0)
        table = table_of.get(phone.participant_id)
        if (seat.get("table") != table or seat.get("round") != number
                or len(seat.get("companions", ())) != sizes.get(table, 0) - 1):
            wrong += 1
    if wrong:
        problems.append(f"{wrong} seats differ from the API's tables")
    if duplicates:
        problems.append(f"{duplicates} clients got more than one seat")
    finite = [v for v in latencies if math.isfinite(v)]
    states = [p.states[number] - t0 for p in phones if number in p.states]
    by_transport = {}
    for transport in ("websocket", "polling"):
        values = [v for p, v in zip(phones, latencies, strict=True) if p.transport == transport]
        if values:
            by_transport[transport] = {"n": len(values), "p50": percentile(values, 50),
                                       "p99": percentile(values, 99), "max": max(values)}
    by_server = {}
    for server in sorted({p.server for p in phones}):
        values = [v for p, v in zip(phones, latencies, strict=True) if p.server == server]
        lost = sum(not math.isfinite(v) for v in values)
        by_server[server] = {"n": len(values), "lost": lost, "p50": percentile(values, 50),
                             "p99": percentile(values, 99), "max": max(values)}
    return {
        "round": number, "http": t_http - t0, "expected": len(phones), "seated": len(finite),
        "lost": len(phones) - len(finite), "wrong": wrong, "duplicates": duplicates,
        "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
        "max": max(latencies) if latencies else float("nan"),
        "first": min(finite) if finite else float("nan"),
        "state_p99": percentile(states, 99) if states else float("nan"),
        "tables": len(sizes), "api_seated": len(table_of), "problems": problems,
        "by_transport": by_transport, "by_server": by_server,
    }


# -- report ----------------------------------------------------------------------------


def fmt_s(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    if math.isinf(seconds):
        return "lost"
    return f"{seconds:.3f}"


def mb(kib: int | None) -> str:
    return f"{kib / 1024:,.0f}" if kib else "—"




def verdict(row: dict) -> str:
    misses = []
    if row["lost"]:
        misses.append("lost")
    if row["problems"] and any("lost" not in p for p in row["problems"]):
        misses.append("wrong seats")
    if not row["p99"] <= TARGET_P99:
        misses.append("p99")
    return "✓ met" if not misses else "✗ " + ", ".join(misses)


def cpu_text(values: list[float], digits: int = 1) -> str:
    """One server's CPU seconds, or the sum and each (``1.2 (0.7 + 0.5)``)."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{sum(values):.{digits}f} ({' + '.join(f'{v:.{digits}f}' for v in values)})"


def mbs(kibs: list[int | None]) -> str:
    """Megabytes of each server (``341`` or ``341 / 338``)."""
    return " / ".join(mb(k) for k in kibs)




def is_default(args) -> bool:
    """The default live café: one process on SQLite, no Redis."""
    return args.processes == 1 and args.database == "sqlite" and not args.redis


def title(args) -> str:
    """The live café's section, or its subsection of the load section."""
    if is_default(args):
        return SECTION
    words = {1: "one process", 2: "two processes", 3: "three processes"}
    processes = words.get(args.processes, f"{args.processes} processes")
    database = "PostgreSQL" if args.database == "postgresql" else "SQLite"
    return f"### Live café: {processes}, {database}" + (", Redis" if args.redis else "")


def setup_text(args) -> str:
    if is_default(args):
        return ("One server process, `python -m matcher serve` (gevent + gevent-websocket, "
                "SQLite in a temporary folder), and one benchmark process holding every phone")
    database = ("one PostgreSQL database (a new database on the machine's server, "
                "`MATCHER_DATABASE_URL=postgresql+psycopg://…`, dropped afterwards)"
                if args.database == "postgresql" else "one SQLite database in a temporary folder")
    redis = (f"Redis (`MATCHER_MESSAGE_QUEUE` and `MATCHER_RATELIMIT_STORAGE` both "
             f"`{args.redis}`)" if args.redis else "")
    if args.processes == 1:
        text = ("One server process, `python -m matcher serve` (gevent + gevent-websocket), on "
                + database + (", with " + redis if redis else ""))
    else:
        names = ", ".join(chr(ord("A") + k) for k in range(args.processes))
        words = {2: "Two", 3: "Three"}
        text = (f"{words.get(args.processes, args.processes)} server processes "
                f"({names}), each `python -m matcher serve` "
                f"(gevent + gevent-websocket) on its own port, sharing {database}"
                + (" and " + redis if redis else "")
                + f". Phone *k* joins over HTTP and connects its Socket.IO client through "
                f"process *k* mod {args.processes} and stays there (as sticky sessions would "
                f"keep it): {args.people // args.processes:,} phones on each. The organiser's "
                "calls (create the café, \"next round\") go to A, so the seats of the other "
                "processes' phones travel from A through Redis")
    return text + "; and one benchmark process holding every phone"


def other_cpu(row: dict) -> float:
    """The rest of the machine's CPU time during a round (never below 0: clock ticks)."""
    return max(0.0, row["machine_cpu"] - sum(row["server_cpu"]) - row["client_cpu"])


def render(results: dict, args, command: str) -> str:
    join, conn, memory = results["join"], results["connect"], results["memory"]
    sub = "###" if is_default(args) else "####"
    libraries = ["gevent", "gevent-websocket", "Flask-SocketIO", "python-socketio", "aiohttp"]
    if args.database == "postgresql":
        libraries.append("psycopg")
    if args.redis:
        libraries.append("redis")
    facts = machine_facts(*libraries)
    if args.database == "postgresql":
        facts += f"; {postgres_version(args.postgres)}"
    if args.redis:
        facts += f"; {redis_version(args.redis)}"
    several = args.processes > 1
    lines = [
        title(args),
        "",
        f"Command: `{command}`  ",
        f"Date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  ",
        f"Machine: {facts}  ",
        f"Code: {code_version()}",
        "",
        setup_text(args)
        + ": one `socketio.AsyncClient` (asyncio + aiohttp) per participant, over WebSocket"
        + (f" ({args.polling} of them over long-polling)" if args.polling else "")
        + ", all on 127.0.0.1; "
        + ("the two processes share" if not several and not args.redis
           else "all the processes share") + " the machine's cores. A café of "
        f"{args.people:,} people from {len(DEPARTMENTS)} departments (sizes in the "
        f"proportions {', '.join(map(str, DEPARTMENTS))}), tables of {TABLE_SIZE}, "
        f"{args.rounds} rounds. *Latency* is from just before the organiser's "
        "`POST /api/v1/cafes/<code>/rounds/next` to the moment the participant's "
        "client hands its `seat` event for that round to the handler; *HTTP* is that "
        "call's own duration (the server answers after it has queued every push). "
        f"*Lost*: no seat {args.wait:g} s after the HTTP response. Every seat is checked "
        "against the API's tables (each person at one table, the same table number, "
        "the right number of companions). Round 1 starts the café: it plans all "
        f"{args.rounds} rounds (the rotation solver, time limit `CAFE_TIME_LIMIT`); "
        "later rounds take the stored plan, as nobody arrives or leaves. "
        "*Server CPU* and *client CPU*: user + system time of the server"
        + (" processes (the sum, then each: A + B)" if several else "")
        + " and of the benchmark process from `t0` until the last seat (or the wait) ended; "
        "*client lag*: the worst delay of the benchmark process's event loop then"
        + ("" if args.no_gc_freeze else
           " (once connected, the benchmark process freezes its heap with `gc.freeze()`, "
           "so that its own full garbage collections, ~0.1 s over 1,000 clients, do not "
           "count as the server's latency)") + "."
        + (" Memory: A / B." if several else "")
        + ("" if is_default(args) else
           " *Other CPU*: the machine's CPU time in that interval less the server"
           + (" processes'" if several else "'s") + " and the benchmark's: PostgreSQL"
           + (", Redis" if args.redis else "") + " and anything else running."
           + (f" Before joining, the benchmark waited (at most {args.quiet_wait:g} s) for "
              "a quiet machine, under 0.3 cores busy over 3 s; when it started: "
              f"{results['quiet']:.2f} cores busy."
              if results.get("quiet") is not None else "")),
        *(["", "**What-if run, not the app as it is:** each server called `gc.freeze()` "
            "right after its warm-up (`--what-if-gc-freeze`)."] if args.what_if_gc_freeze
          else []),
        "",
        f"{sub} Getting everyone in",
        "",
        "| step | count | time (s) | per request p50 / p99 (s) | server CPU (s) "
        "| server RSS after (MB) |",
        "|---|---:|---:|---|---:|---:|",
        f"| join over HTTP ({args.join_concurrency} at once) | {args.people:,} "
        f"| {join['seconds']:.1f} | {join['p50']:.3f} / {join['p99']:.3f} "
        f"| {cpu_text(join['server_cpu'])} "
        f"| {mbs([m.get('VmRSS') for m in memory['joined']])} |",
        f"| connect Socket.IO ({args.connect_concurrency} at once) "
        f"| {conn['connected']:,} of {args.people:,}"
        + (f" ({conn['retried']} on retry)" if conn["retried"] else "")
        + f" | {conn['seconds']:.1f} | {fmt_s(conn['p50'])} / {fmt_s(conn['p99'])} "
        f"| {cpu_text(conn['server_cpu'])} "
        f"| {mbs([m.get('VmRSS') for m in memory['connected']])} |",
        "",
        f"{sub} Next round",
        "",
        "| round | HTTP (s) | seated / connected | lost | latency p50 (s) | p99 (s) "
        "| max (s) | first seat (s) | server CPU (s) | client CPU (s) "
        + ("" if is_default(args) else "| other CPU (s) ")
        + "| client lag (s) | server peak so far (MB) | target | |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
        + ("" if is_default(args) else "---:|") + "---:|---:|---|---|",
    ]
    for row in results["rounds_data"]:
        label = f"{row['round']} (start, plans the café)" if row["round"] == 1 else row["round"]
        target = f"p99 ≤ {TARGET_P99:g} s, none lost" if row["round"] > 1 else "—"
        lines.append(
            f"| {label} | {row['http']:.3f} | {row['seated']:,} / {row['expected']:,} "
            f"| {row['lost']} | {fmt_s(row['p50'])} | {fmt_s(row['p99'])} "
            f"| {fmt_s(row['max'])} | {fmt_s(row['first'])} | {cpu_text(row['server_cpu'], 2)} "
            f"| {row['client_cpu']:.2f} "
            + ("" if is_default(args) else
               f"| {other_cpu(row):.2f} ")
            + f"| {row['loop_lag']:.2f} | {mbs(row['server_hwm'])} "
            f"| {target} "
            f"| {verdict(row) if row['round'] > 1 else ''} |")
    if several:
        lines += ["", "By process the phones are connected to (latency p50 / p99 / max, s; "
                  "lost):", ""]
        for row in results["rounds_data"]:
            parts = [f"{chr(ord('A') + k)} ({v['n']}): {fmt_s(v['p50'])} / {fmt_s(v['p99'])} "
                     f"/ {fmt_s(v['max'])}; {v['lost']} lost"
                     for k, v in row["by_server"].items()]
            lines.append(f"- round {row['round']}: " + " — ".join(parts))
    if args.polling:
        lines += ["", "By transport (latency p50 / p99 / max, s):", ""]
        for row in results["rounds_data"]:
            parts = [f"{t} ({v['n']}): {fmt_s(v['p50'])} / {fmt_s(v['p99'])} / {fmt_s(v['max'])}"
                     for t, v in row["by_transport"].items()]
            lines.append(f"- round {row['round']}: " + "; ".join(parts))
    if any("probe" in row for row in results["rounds_data"]):
        lines += ["", "Inside the server (`--probe`; times from t0):", ""]
        lines += [f"- {step}: {results[step]['probe']}" for step in ("join", "connect")
                  if "probe" in results[step]]
        lines += [f"- round {row['round']}: {row['probe']}" for row in results["rounds_data"]]
    problems = [f"round {row['round']}: " + "; ".join(row["problems"])
                for row in results["rounds_data"] if row["problems"]]
    later = [row for row in results["rounds_data"] if row["round"] > 1]
    met = sum(verdict(row) == "✓ met" for row in later)
    lines += [
        "",
        f"Seats checked: {'every seat matches the API' if not problems else '; '.join(problems)}"
        f". Connections dropped during the run: {results['disconnects']}.  ",
        f"Server memory{' (A / B)' if several else ''}: "
        f"{mbs([m.get('VmRSS') for m in memory['idle']])} MB resident when idle, "
        f"{mbs([m.get('VmRSS') for m in memory['connected']])} MB with everyone connected, "
        f"**peak {mbs([m.get('VmHWM') for m in memory['end']])} MB** (VmHWM at the end).  ",
        f"Target (rounds after the start): met in {met} of {len(later)} rounds.",
    ]
    return "\n".join(lines) + "\n"


# -- command line ----------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cafe_live", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1000,
                        help="participants, each with its own client (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="rounds of the café, all played (default: %(default)s)")
    parser.add_argument("--polling", type=int, default=0,
                        help="how many of the clients use HTTP long-polling instead of "
                             "WebSocket (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1,
                        help="the planner's seed, sent with next round (default: %(default)s)")
    parser.add_argument("--data-seed", type=int, default=2024,
                        help="seed of the departments (default: %(default)s)")
    parser.add_argument("--join-concurrency", type=int, default=20,
                        help="joins in flight at once (default: %(default)s)")
    parser.add_argument("--connect-concurrency", type=int, default=50,
                        help="Socket.IO connections being made at once (default: %(default)s)")
    parser.add_argument("--connect-timeout", type=float, default=20.0,
                        help="seconds one connection may take before its one retry "
                             "(default: %(default)s)")
    parser.add_argument("--wait", type=float, default=10.0,
                        help="seconds after the next-round response before a missing seat "
                             "counts as lost (default: %(default)s)")
    parser.add_argument("--pause", type=float, default=2.0,
                        help="seconds between rounds (default: %(default)s)")
    parser.add_argument("--write", default=str(ROOT / "BENCHMARKS.md"), metavar="FILE",
                        help="markdown file whose live-café section is replaced "
                             "(default: BENCHMARKS.md at the repository root)")
    parser.add_argument("--no-write", action="store_true", help="only print the tables")
    parser.add_argument("--no-gc-freeze", action="store_true",
                        help="do not freeze this process's heap (gc.freeze) once the clients "
                             "are connected")
    parser.add_argument("--py-spy", metavar="FILE",
                        help="sample the server's stacks with py-spy (installed separately) "
                             "during each round, to FILE.roundN in py-spy's raw (folded) "
                             "format")
    parser.add_argument("--probe", action="store_true",
                        help="time next_round, push_seats, round_seats, push_cafe and full "
                             "garbage collections inside the server (benchmarks/cafe_probe) "
                             "and log them per round; adds a little to the server's time")
    parser.add_argument("--what-if-gc-freeze", action="store_true",
                        help="a what-if, not the app as it is (implies --probe): the server "
                             "calls gc.freeze() right after its warm-up, so its full garbage "
                             "collections skip everything loaded at start")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (database, server log)")
    parser.add_argument("--quiet-wait", type=float, default=600.0, metavar="SECONDS",
                        help="before joining, wait up to this long for the machine to be "
                             "quiet (under 0.3 cores busy: no test suite running); 0: do not "
                             "wait (default: %(default)s)")
    parser.add_argument("--processes", type=int, default=1,
                        help="server processes; phone k uses process k mod N, the organiser "
                             "process 0 (A); more than one needs Redis (default: %(default)s)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="SQLite in the temporary folder, or a new PostgreSQL database "
                             "on --postgres, dropped afterwards (default: %(default)s)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        metavar="URL",
                        help="a PostgreSQL server and a database on it to connect to for "
                             "CREATE DATABASE / DROP DATABASE (default: %(default)s)")
    parser.add_argument("--redis", metavar="URL", default=None,
                        help="MATCHER_MESSAGE_QUEUE and MATCHER_RATELIMIT_STORAGE of every "
                             f"process (default: {DEFAULT_REDIS} with several processes, "
                             "none with one)")
    args = parser.parse_args(argv)
    if args.what_if_gc_freeze:
        args.probe = True
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    if args.processes > 1 and not args.redis:
        args.redis = DEFAULT_REDIS
    if args.people < 2:
        parser.error("--people must be at least 2")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be from 1 to 20")
    if not 0 <= args.polling <= args.people:
        parser.error("--polling must be from 0 to --people")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    command = "python -m benchmarks.cafe_live" + "".join(
        " " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * args.people + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    folder = Path(tempfile.mkdtemp(prefix="cafe-live-"))
    servers: list[Server] = []
    try:
        with ExitStack() as stack:
            url = None
            if args.database == "postgresql":
                url = stack.enter_context(postgres_database(args.postgres, "bench_cafe"))
            env = {}
            if args.redis:
                stack.enter_context(redis_cleanup(args.redis))
                env = {"MATCHER_MESSAGE_QUEUE": args.redis,
                       "MATCHER_RATELIMIT_STORAGE": args.redis}
            secret = "benchmark-" + os.urandom(8).hex()
            several = args.processes > 1
            servers = [Server(folder, free_port(), database_url=url, secret=secret, env=env,
                              name=chr(ord("A") + k) if several else "")
                       for k in range(args.processes)]
            log(f"database and server log in {folder}")
            organiser = servers[0].organiser_token("benchmark@example.org")
            try:
                for server in servers:  # one at a time: the first one migrates the database
                    if args.probe:
                        server.probe(gc_freeze=args.what_if_gc_freeze)
                    server.start()
                    log(f"server {server.name + ' ' if server.name else ''}pid {server.pid} "
                        f"on {server.url}")
                quiet = wait_for_quiet(timeout=args.quiet_wait) if args.quiet_wait else None
                results = asyncio.run(run(args, servers, organiser))
                results["quiet"] = quiet
            except BaseException:
                for server in servers:
                    tail = server.tail()
                    if tail:
                        log(f"server {server.name} log (last lines):\n" + tail)
                raise
            finally:
                for server in servers:
                    server.stop()
    finally:
        if not args.keep:
            for path in sorted(folder.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            folder.rmdir()
    section = render(results, args, command)
    print(section)
    if not args.no_write:
        path = Path(args.write)
        if is_default(args):
            write_section(path, SECTION, section)
        else:
            write_subsection(path, LOAD_SECTION, SUBSECTION_INTRO, title(args), section)
        log(f"wrote section {title(args)!r} of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
