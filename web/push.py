"""Socket.IO pushes: one serialiser per event, plain dicts, sent to rooms."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.cafes import (
    cafe_state,
    plan_refinement,
    refinement,
    round_seats,
    screen_view,
    store_refined,
)
from matcher.errors import ServiceError
from matcher.harvest import note_event, table_people
from matcher.introductions import mail_due_at, queue_check_ins, queue_reminders, queue_round_mail
from matcher.models import Cafe, Membership, Note, Round, Trial
from matcher.times import utc_now
from matcher.trials import due_trials, publish_round, publish_scheduled, round_matches
from web.extensions import session, socketio

__all__ = [
    "cafe_room",
    "emit_seats",
    "console_room",
    "match_payload",
    "participant_room",
    "plan_rest_later",
    "publish_and_push",
    "mail_due",
    "publish_due",
    "push_round",
    "push_cafe",
    "push_match",
    "push_note",
    "push_note_change",
    "push_screen",
    "push_seats",
    "screen_room",
    "seat_room",
]


def participant_room(public_id: str) -> str:
    """The room of every connection (tab, device) of one participant."""
    return f"participant:{public_id}"


def match_payload(match: dict[str, object]) -> dict[str, object]:
    """docs/events.md ``match``: the trial, the round and the partners (name,
    department, email), nothing else."""
    return {
        "trial": match["trial"],
        "round": match["round"],
        "partners": [
            {"name": p["name"], "department": p["department"], "email": p["email"]}
            for p in match["partners"]
        ],
        "sitting_out": match["sitting_out"],
    }


def push_match(socketio, membership: Membership, match: dict[str, object]) -> None:
    """Send ``match`` to that participant's connections only."""
    socketio.emit("match", match_payload(match), to=participant_room(membership.person.public_id))


def publish_and_push(socketio, db: Session, trial: Trial, *, seed: int | None,
                     time_limit: float, after: object = None) -> Round:
    """Publish the next round (committed), then push each member's match.
    ``after`` is the latest round the caller saw (see ``publish_round``)."""
    stored = publish_round(db, trial, seed=seed, time_limit=time_limit, after=after)
    queued = _queue_round_mail(db, trial, stored)
    db.commit()
    push_round(socketio, stored)
    current_app.extensions["matcher.jobs"].deliver_later(queued)
    return stored


def _queue_round_mail(db: Session, trial: Trial, stored: Round) -> list[int]:
    """The round's introductions and sitting-out notes, queued with the round."""
    return queue_round_mail(db, current_app.extensions["matcher.mailer"].sender, trial, stored)


def push_round(socketio, stored: Round) -> None:
    """After a round is committed: each member's match to that member (from the
    round as stored and loaded)."""
    for person, match in round_matches(stored).items():
        socketio.emit("match", match_payload(match), to=participant_room(person.public_id))


def publish_due(app: Flask, now: datetime | None = None) -> list[Round]:
    """Publish the round of every trial whose schedule has a slot due (each in a
    transaction of its own), push each member's match, and wake the job queue
    at each trial's next slot. Another process publishing the same slot at the
    same moment wins; this one stores nothing for it."""
    now = now or utc_now()
    published = []
    with app.app_context():
        db = session()
        jobs = app.extensions["matcher.jobs"]
        for trial_id in due_trials(db, now):
            trial = db.get(Trial, trial_id)
            if trial is None:
                continue
            try:
                stored = publish_scheduled(db, trial, now,
                                           time_limit=app.config["ROUND_TIME_LIMIT"])
                queued = _queue_round_mail(db, trial, stored) if stored is not None else []
                db.commit()
            except IntegrityError:
                db.rollback()  # this slot is another process's
                continue
            except ServiceError as exc:
                db.commit()  # nothing published; the next slot is set
                app.logger.warning("trial %s: the scheduled round was not published: %s",
                                   trial_id, exc)
                stored = None
            if stored is not None:
                push_round(socketio, stored)
                jobs.deliver_later(queued)
                published.append(stored)
            jobs.wake_at(trial.next_round_at)
            for when in mail_due_at(trial, stored.published_at if stored else None):
                jobs.wake_at(when)
    return published


def mail_due(app: Flask, now: datetime | None = None) -> int:
    """Queue the reminders and check-ins due at ``now`` (each trial in a transaction
    of its own; another process queueing the same ones at the same moment
    wins), and hand them to the worker; how many were queued."""
    now = now or utc_now()
    count = 0
    with app.app_context():
        db = session()
        sender = app.extensions["matcher.mailer"].sender
        jobs = app.extensions["matcher.jobs"]
        trial_ids = db.scalars(select(Trial.id).where(Trial.schedule.is_not(None))).all()
        for trial_id in trial_ids:
            trial = db.get(Trial, trial_id)
            if trial is None:
                continue
            try:
                queued = (queue_reminders(db, sender, trial, now)
                          + queue_check_ins(db, sender, trial, now))
                db.commit()
            except IntegrityError:
                db.rollback()  # another process queued them
                continue
            jobs.deliver_later(m.id for m in queued)
            count += len(queued)
    return count


def seat_room(cafe: Cafe, public_id: str) -> str:
    """The connections of one participant's page at one café (their seats there;
    not their coffee matches, nor their seats at another café)."""
    return f"cafe:{cafe.id}:participant:{public_id}"


def cafe_room(cafe: Cafe) -> str:
    """Everyone at a café (participants, the big screen, the console): ``cafe_state``."""
    return f"cafe:{cafe.id}"


def console_room(cafe: Cafe) -> str:
    """The organiser's console of a café."""
    return f"cafe:{cafe.id}:console"


def screen_room(cafe: Cafe) -> str:
    """The big screens of a café: every table, by name."""
    return f"cafe:{cafe.id}:screen"


def push_cafe(socketio, cafe: Cafe) -> None:
    """After any change: ``cafe_state`` to the café, ``cafe_screen`` (every table)
    to its screens and console."""
    socketio.emit("cafe_state", cafe_state(cafe), to=cafe_room(cafe))
    view = screen_view(cafe)
    socketio.emit("cafe_screen", view, to=screen_room(cafe))
    socketio.emit("cafe_screen", view, to=console_room(cafe))


def push_screen(socketio, cafe: Cafe) -> None:
    """After a vote, or a note hidden or merged: ``cafe_screen`` to the café's
    screens and console only (the phones' state has not changed)."""
    view = screen_view(cafe)
    socketio.emit("cafe_screen", view, to=screen_room(cafe))
    socketio.emit("cafe_screen", view, to=console_room(cafe))


def push_note(socketio, cafe: Cafe, note: Note) -> None:
    """After a note is committed: ``note`` to each phone at its table and the
    console, with its author's name (their tablemates), and to the screens
    without it (and to no other table)."""
    payload = note_event(cafe, note)
    for public_id in table_people(session(), cafe, note):
        socketio.emit("note", payload, to=seat_room(cafe, public_id))
    socketio.emit("note", payload, to=console_room(cafe))
    socketio.emit("note", {k: v for k, v in payload.items() if k != "author"},
                  to=screen_room(cafe))


def push_note_change(socketio, cafe: Cafe, note: Note) -> None:
    """After the organiser hid, merged or restored a note: ``note_removed`` to
    everyone at the café if it left the record (phones drop it from their
    table's notes and their votes), and the screens' and console's view again."""
    if note.hidden or note.merged_into_id is not None:
        payload = {"cafe": cafe.code, "note_id": note.id}
        socketio.emit("note_removed", payload, to=cafe_room(cafe))
        socketio.emit("note_removed", payload, to=screen_room(cafe))
    push_screen(socketio, cafe)


def emit_seats(socketio, cafe: Cafe, *, here_only: bool = False) -> None:
    """Each seated participant's ``seat`` to that participant only: through the
    message queue, if any, or (``here_only``) to this process's connections."""
    for public_id, seat in round_seats(cafe).items():
        socketio.emit("seat", seat, to=seat_room(cafe, public_id), ignore_queue=here_only)


def plan_rest_later(socketio, cafe: Cafe, seed: int | None = None) -> None:
    """After a café started with its first round alone (matcher.cafes.next_round),
    plan its later rounds while that round is played, so the next round is
    ready at once. The solver runs off the event loop (a thread of gevent's
    pool under ``serve``: its numba kernels release the GIL); the plan is kept
    only if nothing changed meanwhile (matcher.cafes.store_refined)."""
    wanted = refinement(session(), cafe)
    if wanted is not None:
        socketio.start_background_task(_plan_rest, current_app._get_current_object(),
                                       wanted, seed)


def _plan_rest(app: Flask, wanted, seed: int | None) -> None:
    try:
        plan = _off_the_loop(plan_refinement, wanted, seed=seed,
                             time_limit=app.config["CAFE_REFINE_LIMIT"],
                             steps=app.config["CAFE_STEPS"])
    except Exception:  # the next round plans them itself
        app.logger.exception("café %s: its later rounds were not planned ahead",
                             wanted.cafe_id)
        return
    with app.app_context():
        db = session()
        cafe = db.get(Cafe, wanted.cafe_id)
        if cafe is not None and store_refined(db, cafe, wanted, plan):
            db.commit()
        else:
            db.rollback()


def _off_the_loop(function, *args, **kwargs):
    if socketio.async_mode == "gevent":
        from gevent import get_hub

        return get_hub().threadpool.apply(function, args, kwargs)
    return function(*args, **kwargs)


def push_seats(socketio, cafe: Cafe) -> None:
    """Everyone's ``seat`` for the current round (committed), then the café's
    state. Under ``serve`` with a Redis queue, the seats go to this process's
    connections and one announcement to the others (web.fanout)."""
    fanout = current_app.extensions.get("matcher.fanout")
    if fanout is not None:
        fanout.announce(cafe)  # first: the others read and send while this one sends
    emit_seats(socketio, cafe, here_only=fanout is not None)
    push_cafe(socketio, cafe)
