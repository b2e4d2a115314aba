"""Background work on a job queue (Huey): delivering the outbox's mail.

The queue needs nothing installed: by default it is a SQLite file beside the
app's database (one machine's processes share it); with a Redis URL
(``MATCHER_MESSAGE_QUEUE``, as for Socket.IO) every process shares one queue.
Either way the outbox in the database decides what is sent (one ``UPDATE``
claims a message), so a job that runs twice, or in two processes at once,
sends nothing twice.

Jobs:

- ``deliver(message_ids)``, queued right after the commit that queued the mail,
  in batches of :data:`BATCH` (a round of 2,000 is 100 jobs, not 2,000 writes
  to the queue in the publishing request; the worker's threads share them);
- ``sweep``, every minute: delivers whatever is due (retries after their
  backoff, messages whose worker died mid-send, messages queued while no
  worker ran).

A worker runs inside ``python -m matcher serve`` by default, or on its own with
``python -m matcher worker`` (docs/deploy.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from matcher.outbox import Outbox

__all__ = ["Jobs", "Worker", "make_jobs", "queue_for"]

_log = logging.getLogger("matcher.jobs")

#: Messages per ``deliver`` job.
BATCH = 20


def queue_for(url: str | None, folder: str | Path, name: str = "matcher") -> Huey:
    """The queue: Redis at ``url`` (``redis://``, ``rediss://``, ``unix://``), else
    a SQLite file in ``folder``."""
    if url and url.split("://", 1)[0] in ("redis", "rediss", "unix"):
        return RedisHuey(name, url=url)
    Path(folder).mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(Path(folder) / "queue.sqlite3"))


@dataclass
class Jobs:
    """The queue and its jobs, for one outbox; ``tick`` (if set) is the app's work
    that comes due by the clock (publishing scheduled rounds), run every minute
    and at the times :meth:`wake_at` is given."""

    huey: Huey
    outbox: Outbox
    tick: Callable[[], object] | None = None

    def deliver_later(self, message_ids: Iterable[int]) -> None:
        """Queue delivery of these messages (after the commit that stored them);
        if the queue cannot take them, the sweep delivers them within a minute."""
        ids = list(message_ids)
        for start in range(0, len(ids), BATCH):
            batch = ids[start:start + BATCH]
            try:
                self._deliver(batch)
            except Exception:  # the queue is only the fast path: the outbox has them
                _log.exception("could not queue messages %s; the sweep will send them",
                               batch)

    def sweep(self) -> int:
        """Deliver every message due now, in this process; how many were handled."""
        handled = 0
        for message_id in self.outbox.due():
            if self.outbox.deliver(message_id) is not None:
                handled += 1
        return handled

    def __post_init__(self) -> None:
        huey, outbox = self.huey, self.outbox

        @huey.task(name="deliver")
        def deliver(message_ids: list[int]) -> list[str | None]:
            return [outbox.deliver(message_id) for message_id in message_ids]

        @huey.periodic_task(crontab(minute="*"), name="sweep")
        def sweep() -> int:
            if self.tick is not None:
                self.tick()
            return self.sweep()

        @huey.task(name="tick")
        def tick() -> None:
            if self.tick is not None:
                self.tick()
            self.sweep()

        self._deliver = deliver
        self._tick = tick

    def wake_at(self, when: datetime | None) -> None:
        """Run the tick at ``when`` (UTC) too, not only at the next minute (``None``:
        nothing to wake for)."""
        if when is None:
            return
        try:
            self._tick.schedule(eta=when.astimezone(UTC).replace(tzinfo=None))
        except Exception:  # the minute's tick comes anyway
            _log.exception("could not schedule a tick at %s", when)


def make_jobs(url: str | None, folder: str | Path, outbox: Outbox, *,
              name: str = "matcher") -> Jobs:
    """The jobs of ``outbox`` on the queue ``url`` names (see :func:`queue_for`);
    ``name`` keeps apart the queues of deployments sharing one Redis."""
    return Jobs(queue_for(url, folder, name), outbox)


class _EmbeddedConsumer(Consumer):
    """Huey's consumer inside another program: that program owns the signals."""

    def _set_signal_handlers(self) -> None:
        pass


@dataclass
class Worker:
    """A running worker: Huey's consumer with ``workers`` threads (or greenlets
    under gevent), and its scheduler for the sweep."""

    jobs: Jobs
    workers: int = 2
    worker_type: str = "thread"

    def __post_init__(self) -> None:
        self._consumer = _EmbeddedConsumer(self.jobs.huey, workers=self.workers,
                                           worker_type=self.worker_type, periodic=True,
                                           check_worker_health=False, initial_delay=0.05,
                                           max_delay=1.0)

    def start(self) -> Worker:
        self._consumer.start()
        return self

    def stop(self) -> None:
        self._consumer.stop(graceful=True)
