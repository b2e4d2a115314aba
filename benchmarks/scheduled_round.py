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

Targets (docs/mail.md): stored ≤ 3 s, every introduction delivered ≤ 60 s.
The worst seed is reported.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from matcher.accounts import create_organiser
from matcher.jobs import Worker
from matcher.models import Membership, Trial
from matcher.times import utc_now
from matcher.trials import create_trial, import_participants, publish_round, update_trial
from tests.support.mail import SmtpServer
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
        organiser, _ = create_organiser(session, "org@example.org", "Org")
        trial = create_trial(session, organiser, "Benchmark")
        imported = import_participants(session, trial, "people.csv", _people(people))
        for one in imported.added:
            one.membership.token_sealed = seal.encrypt(one.token.encode())
        now = utc_now()
        update_trial(session, trial, {"schedule": {
            "first_round_at": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "time_zone": "UTC", "every": "P1W"}}, now=now)
        session.commit()
        trial_id = trial.id
    return app, trial_id


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
    args = parser.parse_args(argv)
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
