"""``python -m matcher serve``: the app on gevent's WSGI server, WebSocket included.

gevent must patch the standard library before the app is imported:
:func:`web.command.run` does that first, and :func:`serve` patches it itself
for any other caller.
"""

import gc
import os
import secrets
import sys

from gevent import monkey
from huey.consumer import Consumer

from matcher.demo import DEMO_EMAIL, DEMO_PASSWORD, load_demo
from matcher.jobs import Worker
from web import create_app
from web.extensions import socketio
from web.fanout import start_fanout

__all__ = ["serve", "warm_up", "work"]


def serve(host: str, port: int, *, demo: bool) -> int:
    """Run the app until interrupted; with ``demo``, load the seeds and print their links."""
    if not monkey.is_module_patched("socket"):
        monkey.patch_all()  # a caller other than `python -m matcher serve`
    if not demo and not os.environ.get("MATCHER_SECRET_KEY"):
        print("matcher serve: set MATCHER_SECRET_KEY to a long random secret (it signs "
              "organisers' sessions and forms), e.g.\n  export MATCHER_SECRET_KEY="
              f"{secrets.token_urlsafe(48)}\n(`serve --demo`, for trying it out, makes one up.)",
              file=sys.stderr)
        return 2
    try:
        app = create_app({"ASYNC_MODE": "gevent"} | (
            {} if os.environ.get("MATCHER_BASE_URL") else
            {"BASE_URL": f"http://{host}:{port}"}))
    except ValueError as exc:  # a setting that cannot be used: say which
        print(f"matcher serve: {exc}", file=sys.stderr)
        return 2
    warm_up()
    base = f"http://{host}:{port}"
    print(f"matcher: open {base}/ (the front door: organisers sign in, café guests "
          "type their code)", flush=True)
    if demo:
        with app.extensions["matcher.sessions"]() as session:
            loaded = load_demo(session, seal=app.extensions["matcher.seal"])
            session.commit()
            print(f"demo trial: {loaded.trial.name}", flush=True)
            if loaded.trial.next_round_at is not None:
                print(f"  runs itself: its next round publishes at "
                      f"{loaded.trial.next_round_at:%H:%M} UTC, with reminders before "
                      "and check-ins after", flush=True)
            if not app.config["MAIL_URL"]:
                print(f"  its mail is written to {app.instance_path}/outbox (set "
                      "MATCHER_MAIL_URL=smtp://… to send it)", flush=True)
            print(f"  organiser: sign in at {base}/organiser/login as {DEMO_EMAIL}, "
                  f"password {DEMO_PASSWORD}", flush=True)
            print(f"  sign-up page: {base}/join/{loaded.trial.join_code}", flush=True)
            for public_id, token in list(loaded.participant_tokens.items())[:3]:
                print(f"  personal page of {public_id}: {base}/me/{token}", flush=True)
            if loaded.cafe is not None:
                cafe = loaded.cafe
                print(f"demo café: {cafe.name} (code {cafe.code}), {cafe.status}", flush=True)
                print(f"  host console: {base}/organiser/cafes/{cafe.id}", flush=True)
                print(f"  big screen: {base}/screen/{cafe.screen_key}", flush=True)
                print(f"  join from a phone: {base}/cafe (code {cafe.code})", flush=True)
            if loaded.organiser_token:
                print("  organiser API token (shown once; publish a round with "
                      f"POST {base}/api/v1/trials/{loaded.trial.id}/rounds "
                      '{"publish": true}):', flush=True)
                print(f"  {loaded.organiser_token}", flush=True)
    start_fanout(app, socketio)
    if app.config["WORKER"]:
        # The mail worker, in this process: greenlets beside the requests'.
        Worker(app.extensions["matcher.jobs"], worker_type="greenlet").start()
    # Everything loaded so far (numba, SciPy, the app) lives as long as the
    # process: keep it out of the garbage collector's full passes, which would
    # otherwise walk it all (0.2–0.5 s) in the middle of a café's round.
    gc.collect()
    gc.freeze()
    print(f"matcher: serving on {base}", file=sys.stderr, flush=True)
    socketio.run(app, host=host, port=port, log_output=False)
    return 0


def work(workers: int) -> int:
    """Run a mail worker (``python -m matcher worker``) until interrupted."""
    if not os.environ.get("MATCHER_SECRET_KEY"):
        print("matcher worker: set MATCHER_SECRET_KEY, the same as the app's (the outbox's "
              "messages are sealed with it)", file=sys.stderr)
        return 2
    try:
        app = create_app()
    except ValueError as exc:
        print(f"matcher worker: {exc}", file=sys.stderr)
        return 2
    jobs = app.extensions["matcher.jobs"]
    print(f"matcher: mail worker with {workers} threads", file=sys.stderr, flush=True)
    Consumer(jobs.huey, workers=workers, worker_type="thread", periodic=True).run()
    return 0


def warm_up() -> None:
    """Plan a tiny café before serving: the rotation engine's compiled kernel
    (numba) loads now, from its cache or compiled once, not during the first
    café's "start" while a room waits."""
    from solvers.model import Participant
    from solvers.rotation import CafeProblem, plan_cafe

    people = tuple(Participant(f"p{k}", f"d{k % 3}") for k in range(12))
    # A few steps load (or compile) the kernel; more would only delay the start.
    plan_cafe(CafeProblem(people, tables=3, rounds=3, hosts={"p0": 1}), seed=0, steps=64)
