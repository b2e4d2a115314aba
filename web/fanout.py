"""A café round's seats to every server process with one Redis message.

With several processes (``MATCHER_MESSAGE_QUEUE``), each Socket.IO emit goes
through the queue: a thousand ``seat`` emits in a "next round" are a thousand
Redis messages, published inside the request and read by every process. The
fan-out sends one instead: the process that ran "next round" emits the seats
to its own connections only, and publishes "café X is at round N" on a channel
of its own; every other process reads that round's seats from the database and
emits them to *its* connections only. The rest (``cafe_state``, the big screen)
stays on the queue: a few messages per round.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

import redis
from flask import Flask

from matcher.models import Cafe
from web.push import emit_seats

__all__ = ["SeatFanout", "start_fanout"]

log = logging.getLogger(__name__)


class SeatFanout:
    """One process's end of the channel: announces its rounds, delivers others'."""

    def __init__(self, app: Flask, url: str) -> None:
        self.app = app
        self.redis = redis.Redis.from_url(url)
        # "A round started" announcements, next to the app's Socket.IO channel
        # (one per database: see web.create_app).
        self.channel = app.config["QUEUE_CHANNEL"] + ":cafe-rounds"
        self.origin = uuid.uuid4().hex  # this process: its own announcements are skipped

    def announce(self, cafe: Cafe) -> None:
        """Tell the other processes that ``cafe`` is at its current round (call
        after the commit: they read the seats from the database)."""
        self.redis.publish(self.channel, json.dumps(
            {"origin": self.origin, "cafe": cafe.id, "round": cafe.current_round}))

    def listen(self, socketio) -> None:
        """Deliver the seats of rounds other processes start, for ever; a lost
        Redis connection is retried (phones that miss a round get their seat
        when they reconnect, from the database)."""
        while True:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                for message in pubsub.listen():
                    self._deliver(socketio, message)
            except redis.RedisError as exc:
                log.warning("seat fan-out: %s; reconnecting in 1 s", exc)
                time.sleep(1)

    def _deliver(self, socketio, message: dict) -> None:
        try:
            news = json.loads(message["data"])
            if news["origin"] == self.origin:
                return
            cafe_id, number = int(news["cafe"]), int(news["round"])
        except (KeyError, TypeError, ValueError):
            log.warning("seat fan-out: ignored a message that is not an announcement")
            return
        with self.app.app_context():
            session = self.app.extensions["matcher.sessions"]()
            try:
                cafe = session.get(Cafe, cafe_id)
                # A later round already? Its own announcement follows.
                if cafe is not None and cafe.current_round == number:
                    emit_seats(socketio, cafe, here_only=True)
            finally:
                session.close()


def start_fanout(app: Flask, socketio) -> SeatFanout | None:
    """With a Redis message queue, start this process's fan-out (``serve``
    does, once the app is built); without one, there is nothing to fan out."""
    url = app.config.get("MESSAGE_QUEUE") or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    fanout = SeatFanout(app, url)
    app.extensions["matcher.fanout"] = fanout
    socketio.start_background_task(fanout.listen, socketio)
    return fanout
