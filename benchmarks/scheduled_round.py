"""A scheduled round of many participants, published by the clock and mailed.

Run from the repository root::

    python -m benchmarks.scheduled_round --people 2000 --seeds 1 2 3

For each seed, on a fresh SQLite database: a trial of ``--people`` participants
(imported, each with a personal link), a schedule whose slot is due, then

- **stored**: the scheduler's tick (``web.push.publish_due``) until the round,
  its groups and every introduction (with its calendar invite, sealed) are
  committed; against the baseline of the round alone (``publish_round``, the
  same engine, no mail) on a copy of the same database in the same run;
- **delivered**: a mail worker (Huey's consumer, 4 threads) from the first
  ``deliver`` until a local SMTP server (aiosmtpd) has accepted the last
  introduction.

With ``--serve``, the same again through a real server (``python -m matcher
serve``, its mail worker inside it, as deployed by default): the round is
published through the API, and a page (the trial's sign-up page) is requested
every 20 ms until the SMTP server has every introduction: **page p99 during
the send**, against the same page's p99 with nothing being sent (the
baseline, just before, on the same server).

Targets (docs/mail.md): stored ≤ 3 s, every introduction delivered ≤ 60 s,
page p99 during the send ≤ 300 ms. The worst seed is reported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from matcher.accounts import create_organiser
from matcher.jobs import Worker
from matcher.models import Membership, Trial
from matcher.times import utc_now
from matcher.trials import create_trial, import_participants, publish_round, update_trial
from tests.support.mail import SmtpServer
from tests.support.servers import Server, call
from web import create_app
from web.push import publish_due

DEPARTMENTS = [f"Department {k:02d}" for k in range(30)]


def _people(count: int) -> bytes:
    rows = ["name,email,department,site"]
    rows += [f"Person {k},p{k}@example.org,{DEPARTMENTS[k % len(DEPARTMENTS)]},"
             f"Site {k % 4}" for k in range(count)]
    return ("\n".join(rows) + "\n").encode()


def _world(folder: Path, people: int, server: SmtpServer):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
                      "SECRET_KEY": "benchmark", "MAIL_URL": server.url,
                      "QUEUE_FOLDER": str(folder / "queue"), "ROUND_TIME_LIMIT": 10.0})
    seal = app.extensions["matcher.seal"]
    with app.extensions["matcher.sessions"]() as session:
        organiser, token = create_organiser(session, "org@example.org", "Org")
        trial = create_trial(session, organiser, "Benchmark")
        imported = import_participants(session, trial, "people.csv", _people(people))
        for one in imported.added:
            one.membership.token_sealed = seal.encrypt(one.token.encode())
        now = utc_now()
        update_trial(session, trial, {"schedule": {
            "first_round_at": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "time_zone": "UTC", "every": "P1W"}}, now=now)
        session.commit()
        trial_id, join_code = trial.id, trial.join_code
    app.config["BENCHMARK"] = {"token": token, "join_code": join_code}
    return app, trial_id


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) >= 2 else samples[0]


def _page(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as reply:
        reply.read()
    return time.perf_counter() - started


def run_served(people: int, seed: int) -> dict[str, float]:
    """Publish through a real server whose worker sends the mail, and time a page
    meanwhile (see the module's docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="matcher-bench-"))
    smtp = SmtpServer().start()
    server = None
    try:
        app, trial_id = _world(folder, people, smtp)
        made = app.config["BENCHMARK"]
        app.extensions["matcher.engine"].dispose()
        env = dict(os.environ, MATCHER_DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
                   MATCHER_SECRET_KEY="benchmark", MATCHER_MAIL_URL=smtp.url,
                   MATCHER_QUEUE_FOLDER=str(folder / "queue"), MATCHER_WORKER="1")
        server = Server(env, folder / "server.log").start(timeout=60)
        page = f"{server.base}/join/{made['join_code']}"
        for _ in range(20):  # warm
            _page(page)
        quiet = [_page(page) for _ in range(200)]
        started = time.perf_counter()
        status, body = call(server.base, "POST", f"/api/v1/trials/{trial_id}/rounds",
                            {"publish": True, "seed": seed}, made["token"])
        published_s = time.perf_counter() - started
        assert status == 201, body
        busy = []
        while len(smtp.messages) < people and time.perf_counter() - started < 300:
            busy.append(_page(page))
            time.sleep(0.02)
        return {"people": people, "seed": seed, "received": len(smtp.messages),
                "published_s": published_s, "delivered_s": time.perf_counter() - started,
                "quiet_p99_ms": 1000 * _p99(quiet), "busy_p99_ms": 1000 * _p99(busy),
                "busy_max_ms": 1000 * max(busy), "pages": len(busy)}
    finally:
        if server is not None:
            server.stop()
        smtp.stop()
        shutil.rmtree(folder, ignore_errors=True)


def run(people: int, seed: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="matcher-bench-"))
    server = SmtpServer().start()
    try:
        app, trial_id = _world(folder, people, server)
        app.extensions["matcher.engine"].dispose()  # the last close checkpoints the WAL
        shutil.copy(folder / "db.sqlite3", folder / "baseline.sqlite3")
        due = utc_now() + timedelta(minutes=2)
        started = time.perf_counter()
        [stored] = publish_due(app, due)
        stored_s = time.perf_counter() - started
        # The baseline: the round alone, on a copy of the same database.
        base = create_app({"TESTING": True,
                           "DATABASE_URL": f"sqlite:///{folder / 'baseline.sqlite3'}",
                           "SECRET_KEY": "benchmark", "QUEUE_FOLDER": str(folder / "q2")})
        with base.extensions["matcher.sessions"]() as session:
            trial = session.get(Trial, trial_id)
            started = time.perf_counter()
            publish_round(session, trial, time_limit=10.0)
            session.commit()
            baseline_s = time.perf_counter() - started
        jobs = app.extensions["matcher.jobs"]
        with app.extensions["matcher.sessions"]() as session:
            members = session.scalar(select(Membership.id).limit(1))
            assert members is not None
            ids = jobs.outbox.due(limit=people + 10)
        worker = Worker(jobs, workers=4).start()
        started = time.perf_counter()
        jobs.deliver_later(ids)
        while len(server.messages) < len(ids) and time.perf_counter() - started < 300:
            time.sleep(0.05)
        delivered_s = time.perf_counter() - started
        worker.stop()
        return {"people": people, "seed": seed, "round": stored.number, "mails": len(ids),
                "received": len(server.messages), "stored_s": stored_s,
                "baseline_s": baseline_s, "delivered_s": delivered_s}
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--serve", action="store_true",
                        help="through a real server: page latency while the mail goes")
    args = parser.parse_args(argv)
    if args.serve:
        print("| people | seed | mails | published (s) | delivered (s) | page p99, quiet (ms) "
              "| page p99, sending (ms) | slowest page (ms) | pages |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        worst = None
        for seed in args.seeds:
            r = run_served(args.people, seed)
            print(f"| {r['people']} | {seed} | {r['received']} | {r['published_s']:.2f} | "
                  f"{r['delivered_s']:.1f} | {r['quiet_p99_ms']:.0f} | {r['busy_p99_ms']:.0f} | "
                  f"{r['busy_max_ms']:.0f} | {r['pages']} |", flush=True)
            if worst is None or r["busy_p99_ms"] > worst["busy_p99_ms"]:
                worst = r
        print(f"worst seed: {worst['seed']}: page p99 {worst['busy_p99_ms']:.0f} ms while "
              f"sending, {worst['quiet_p99_ms']:.0f} ms quiet", file=sys.stderr)
        return 0
    print("| people | seed | mails | stored (s) | round alone (s) | ratio | delivered (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    worst = None
    for seed in args.seeds:
        r = run(args.people, seed)
        print(f"| {r['people']} | {seed} | {r['received']}/{r['mails']} | {r['stored_s']:.2f} | "
              f"{r['baseline_s']:.2f} | {r['stored_s'] / r['baseline_s']:.2f}× | "
              f"{r['delivered_s']:.1f} |", flush=True)
        if worst is None or r["stored_s"] > worst["stored_s"]:
            worst = r
    print(f"worst seed: {worst['seed']}: stored {worst['stored_s']:.2f} s, delivered "
          f"{worst['delivered_s']:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
