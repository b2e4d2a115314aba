"""What the live benchmarks share: real ``python -m matcher serve`` processes,
their CPU and memory, PostgreSQL databases and Redis for them, and small helpers."""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


#: Runs with PostgreSQL, Redis or several processes go to the load section.
LOAD_SECTION = "## Load"


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


#: Redis of the processes when there are several (a database number of its own).
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, … of ``pid`` in KiB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Vm"):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return out


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Server:
    """``python -m matcher serve``: by default on a fresh SQLite database in a
    temporary folder; ``database_url`` names another (PostgreSQL), ``env`` adds
    settings (``MATCHER_MESSAGE_QUEUE``, …), ``name`` tells processes apart."""

    def __init__(self, folder: Path, port: int, *, database_url: str | None = None,
                 secret: str | None = None, env: dict[str, str] | None = None,
                 name: str = "") -> None:
        self.folder, self.port, self.name = folder, port, name
        self.url = f"http://127.0.0.1:{port}"
        self.env = dict(os.environ,
                        MATCHER_DATABASE_URL=database_url or f"sqlite:///{folder / 'cafe.db'}",
                        MATCHER_SECRET_KEY=secret or "benchmark-" + os.urandom(8).hex(),
                        MATCHER_MAIL_URL=(folder / "outbox").as_uri(),
                        PYTHONUNBUFFERED="1")
        for variable in ("MATCHER_MESSAGE_QUEUE", "MATCHER_RATELIMIT_STORAGE"):
            self.env.pop(variable, None)
        self.env.update(env or {})
        self.probe_log: Path | None = None
        self.process: subprocess.Popen | None = None
        self.log_path = folder / f"server{name}.log"

    def organiser_token(self, email: str) -> str:
        done = subprocess.run([sys.executable, "-m", "matcher", "organiser", "create", email],
                              cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"organiser create failed ({done.returncode}): {done.stderr}")
        return done.stdout.strip().splitlines()[-1]

    def probe(self, gc_freeze: bool = False) -> None:
        """Time phases and garbage collections inside the server (``cafe_probe``);
        with ``gc_freeze``, freeze the server's heap after its warm-up (a what-if)."""
        self.probe_log = self.folder / f"probe{self.name}.jsonl"
        self.env["CAFE_PROBE_LOG"] = str(self.probe_log)
        if gc_freeze:
            self.env["CAFE_PROBE_GC_FREEZE"] = "1"
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "benchmarks" / "cafe_probe"), str(ROOT)]
            + ([self.env["PYTHONPATH"]] if self.env.get("PYTHONPATH") else []))

    def probe_events(self, start: float, end: float) -> list[dict]:
        if self.probe_log is None or not self.probe_log.exists():
            return []
        events = [json.loads(line) for line in self.probe_log.read_text().splitlines()]
        return [e for e in events if start <= e.get("t", 0) <= end]

    def start(self, timeout: float = 60.0) -> None:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "matcher", "serve", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n"
                                   + self.tail())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start listening in time:\n" + self.tail())

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()


@contextmanager
def postgres_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of ``admin_url`` (a
    ``postgresql://`` URL of a database to connect to for ``CREATE DATABASE``),
    dropped afterwards; yields its SQLAlchemy URL (``postgresql+psycopg://``)."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url).set(drivername="postgresql")
    name = f"{prefix}_{os.getpid()}_{os.urandom(3).hex()}"
    libpq = admin.render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False)
    finally:
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def postgres_version(admin_url: str) -> str:
    """``PostgreSQL 16.4`` (the server's version), or ``PostgreSQL ?``."""
    import psycopg
    from sqlalchemy.engine import make_url

    libpq = make_url(admin_url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    try:
        with psycopg.connect(libpq) as connection:
            return "PostgreSQL " + connection.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error:
        return "PostgreSQL ?"


def redis_version(url: str) -> str:
    """``Redis 7.0.15`` (the server's version), or ``Redis ?``."""
    import redis

    try:
        client = redis.Redis.from_url(url)
        try:
            return "Redis " + str(client.info("server").get("redis_version", "?"))
        finally:
            client.close()
    except redis.RedisError:
        return "Redis ?"


@contextmanager
def redis_cleanup(url: str) -> Iterator[None]:
    """Delete the rate-limit counters (``LIMITS:*``) the run leaves in the Redis
    database of ``url``, if that database was empty before (someone else's
    otherwise, and left alone)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        empty = client.dbsize() == 0
        if not empty:
            log(f"{url} is not empty: the rate-limit counters of this run stay there")
        yield
        if empty:
            keys = list(client.scan_iter(match="LIMITS:*", count=1000))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``inf`` counts a lost seat)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def code_version() -> str:
    """The commit measured, and whether the server's code had uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "matcher", "web",
                                "solvers"], cwd=ROOT, text=True, capture_output=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {commit}" + (" with uncommitted changes in matcher/, web/ or solvers/"
                                 if dirty else "")


SUBSECTION_INTRO = (
    "The load benchmarks, each against real `python -m matcher serve` processes "
    "(gevent) on this machine, clients in one benchmark process on 127.0.0.1.")
