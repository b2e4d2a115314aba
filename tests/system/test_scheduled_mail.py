"""Scheduled rounds and their mail, through real processes (`python -m matcher
serve`, and `python -m matcher worker` on its own) and a real SMTP server
(aiosmtpd), on the suite's database (SQLite or PostgreSQL):

- a slot seconds away: the server publishes the round by itself at the slot,
  pushes each member's ``match``, moves ``next_round_at`` to the next slot, and
  mails every participant one introduction;
- two ``serve`` processes over PostgreSQL and Redis at one slot: one round is
  stored, and each participant is introduced once;
- a mail worker killed (SIGKILL) in the middle of a round's introductions: a new
  worker sends the rest; the only messages that go twice are the ones in flight
  at the kill, each with its first copy's ``Message-ID``;
- the server killed while it writes a scheduled round: nothing of it is stored,
  and started again the server publishes that slot once, mailed once.

Every message goes to one participant, and carries their own personal link
(``/me/<token>``) and nobody else's.

A slot seconds away, whatever the clock: ``first_round_at`` has minute
resolution, so each schedule here starts yesterday at this minute with a
cadence of a day and a few seconds (``P1DT37S``): its first slot is in the past
when the schedule is set (and so skipped), its second is seconds from now (the
trial's first round), its third a day later."""

from __future__ import annotations

import asyncio
import math
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from matcher import db
from matcher.jobs import queue_for
from matcher.models import GroupMember, Message, Round, Trial
from matcher.times import iso, utc_now
from tests.support.database import Database
from tests.support.live import Listener, wait_all
from tests.support.mail import SmtpServer, _Collector
from tests.support.servers import Server, call, free_port, server_environment
from web import queue_channel

#: How far ahead of now a test's slot is: time to set it, not much more.
LEAD = 3.0
#: Longest wait for a slot's round: the tick the server schedules at the slot
#: comes within a second or two; the minute's sweep would come within 60 s.
SLOT_WAIT = LEAD + 70
#: Threads of the mail worker killed mid-round (at most this many messages in flight).
WORKERS = 2


# --- helpers -------------------------------------------------------------------------

def schedule_seconds_away(lead: float = LEAD) -> tuple[dict, datetime, datetime]:
    """A schedule whose next slot is at least ``lead`` seconds from now (see the
    module's docstring); that slot and the one after it (UTC)."""
    now = datetime.now(UTC)
    minute = now.replace(second=0, microsecond=0)
    seconds = math.ceil((now + timedelta(seconds=lead) - minute).total_seconds())
    first, every = minute - timedelta(days=1), timedelta(days=1, seconds=seconds)
    schedule = {"first_round_at": first.strftime("%Y-%m-%dT%H:%M"), "time_zone": "UTC",
                "every": f"P1DT{seconds}S", "rounds": None}
    return schedule, first + every, first + 2 * every


def new_trial(base, organiser, people, *, through=None):
    """A trial of ``people`` participants (signed up through ``through``'s
    servers in turn, else ``base``): the trial and each sign-up's answer with
    its email."""
    status, trial = call(base, "POST", "/api/v1/trials", {"name": "Scheduled trial",
                                                          "confirm_email": False},
                         organiser)
    assert status == 201, trial
    signed = []
    for k in range(people):
        email = f"p{k}@example.org"
        where = through[k % len(through)] if through else base
        status, body = call(where, "POST", f"/api/v1/trials/{trial['id']}/signups", {
            "join_code": trial["join_code"], "name": f"Person {k}", "email": email,
            "department": ["A", "B", "C", "D"][k % 4]})
        assert status == 201, body
        signed.append(dict(body, email=email))
    return trial, signed


def set_schedule(base, organiser, trial, schedule):
    status, body = call(base, "PATCH", f"/api/v1/trials/{trial['id']}",
                        {"schedule": schedule}, organiser)
    assert status == 200, body
    return body


def wait_until(ready, what: str, timeout: float = 20) -> None:
    """Poll ``ready`` until it holds (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def kind_of(message) -> str:
    subject = str(message["Subject"])
    if subject.startswith("Your link for"):
        return "link"
    if any(part.get_content_type() == "text/calendar" for part in message.walk()):
        return "introduction"
    return "sitting_out" if "sit out" in subject else "other"


def of_kind(smtp: SmtpServer, kind: str) -> list[tuple[str, object]]:
    """(recipient, message) of everything of ``kind`` the SMTP server received."""
    return [(recipients[0], message) for recipients, message in smtp.messages
            if kind_of(message) == kind]


def settled(smtp: SmtpServer, kind: str, count: int, *, quiet: float = 1.5,
            timeout: float = 20) -> list[tuple[str, object]]:
    """Wait for ``count`` messages of ``kind``, then ``quiet`` seconds more: a
    message sent twice would have arrived by then."""
    wait_until(lambda: len(of_kind(smtp, kind)) >= count, f"{count} {kind} messages",
               timeout)
    time.sleep(quiet)
    return of_kind(smtp, kind)


def personal_links(message) -> set[str]:
    """The tokens of every personal page (``/me/<token>``) a message links to,
    in any of its parts."""
    return {token for part in message.walk() if part.get_content_maintype() == "text"
            for token in re.findall(r"/me/([A-Za-z0-9_-]+)", part.get_content())}


def check_mail(smtp: SmtpServer, people, *, introductions: int | None = 1) -> None:
    """Every message went to one participant and links to their own page only;
    each participant had one sign-up link and (unless ``None``) that many
    introductions."""
    token_of = {p["email"]: p["token"] for p in people}
    for recipients, message in smtp.messages:
        assert len(recipients) == 1 and recipients[0] in token_of, recipients
        assert message["To"] == recipients[0]
        assert personal_links(message) == {token_of[recipients[0]]}, (
            f"{kind_of(message)} to {recipients[0]}: not (only) their own personal link")
    expected = {email: 1 for email in token_of}
    assert Counter(to for to, _ in of_kind(smtp, "link")) == expected
    if introductions is not None:
        assert Counter(to for to, _ in of_kind(smtp, "introduction")) == {
            email: introductions for email in token_of}


@contextmanager
def models(url):
    """A SQLAlchemy session on the test's database, outside every server."""
    engine = db.make_engine(url)
    try:
        with db.make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def round_mail_statuses(url, trial_id, number=1) -> dict[str, int]:
    with models(url) as session:
        return dict(session.execute(
            select(Message.status, func.count()).where(
                Message.trial_id == trial_id, Message.round_number == number)
            .group_by(Message.status)).all())


def check_whole_round(url, trial_id, people, slot) -> None:
    """The trial has one round, for ``slot``, with every participant in it once
    (in a group, or sitting out)."""
    with models(url) as session:
        rounds = session.scalars(select(Round).where(Round.trial_id == trial_id)).all()
        assert [(r.number, r.slot_at) for r in rounds] == [(1, slot)]
        members = session.scalars(select(GroupMember.person_id)
                                  .where(GroupMember.round_id == rounds[0].id)).all()
        assert len(members) == len(set(members)) == len(people)


# --- a slow SMTP server, and mail workers of their own ----------------------------------

class _SlowCollector(_Collector):
    """Takes ``delay`` seconds over each message; while ``holding`` is set, keeps
    the reply to each message it received (a server that accepted it, and
    whose acceptance has not reached the sender yet)."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay
        self.holding = threading.Event()
        #: The recipients of the messages whose replies were kept.
        self.held: list[str] = []
        self._last = time.monotonic()

    def quiet_for(self, seconds: float) -> bool:
        """Whether it holds a reply, and nothing arrived for ``seconds``."""
        return bool(self.held) and time.monotonic() - self._last >= seconds

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        reply = await super().handle_DATA(server, session, envelope)  # received
        self._last = time.monotonic()
        await asyncio.sleep(self.delay)
        if self.holding.is_set():
            self.held.append(envelope.rcpt_tos[0])
            while self.holding.is_set():
                await asyncio.sleep(0.02)
        return reply


@pytest.fixture
def slow_smtp_server():
    """A real SMTP server that takes 0.1 s over each message."""
    server = SmtpServer()
    server.collector = _SlowCollector(0.1)
    server.start()
    yield server
    server.collector.holding.clear()
    server.stop()


class WorkerProcess:
    """``python -m matcher worker`` in a subprocess; output to a log file."""

    def __init__(self, env, log):
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = Server.READY_WITHIN) -> WorkerProcess:
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "matcher", "worker", "--workers", str(WORKERS)],
                env=self.env, stdout=output, stderr=subprocess.STDOUT)
        wait_until(lambda: self.process.poll() is not None
                   or "mail worker with" in self.log.read_text(errors="replace"),
                   "the worker to start", timeout)
        if self.process.poll() is not None:
            pytest.fail(f"worker exited {self.process.returncode}:\n"
                        f"{self.log.read_text(errors='replace')[-5000:]}")
        return self

    def kill(self) -> None:
        """SIGKILL, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(tmp_path, databases):
    """Start mail workers (``start_worker(env)``); all stopped at the end of the
    test (before its databases are dropped)."""
    started = []

    def start(env):
        started.append(WorkerProcess(env, tmp_path / f"worker-{len(started) + 1}.log"))
        return started[-1].start()

    yield start
    for worker in started:
        worker.stop()


# --- the tests -----------------------------------------------------------------------

def test_a_slot_seconds_away_is_published_pushed_and_mailed(
        live_database, tmp_path, start_server, organiser, smtp_server):
    env = dict(server_environment(live_database, tmp_path, worker=True),
               MATCHER_MAIL_URL=smtp_server.url)
    base = start_server(env).base
    trial, people = new_trial(base, organiser, 6)
    settled(smtp_server, "link", len(people), quiet=0)
    page = Listener(base, people[0]["token"]).connect()
    try:
        schedule, slot, after = schedule_seconds_away()
        details = set_schedule(base, organiser, trial, schedule)
        assert details["next_round_at"] == iso(slot) and details["rounds"] == []

        # Nobody publishes it by hand: the server does, at the slot.
        page.wait_for(lambda: page.of("match"), "the scheduled round's match", SLOT_WAIT)
        match = page.of("match")[0]
        assert match["round"] == 1 and len(match["partners"]) == 1
        status, details = call(base, "GET", f"/api/v1/trials/{trial['id']}", None, organiser)
        assert status == 200
        assert [r["round"] for r in details["rounds"]] == [1]
        published_at = datetime.fromisoformat(details["rounds"][0]["published_at"])
        assert published_at >= slot, "published before its slot"
        assert details["next_round_at"] == iso(after)
        check_whole_round(live_database, trial["id"], people, slot)

        settled(smtp_server, "introduction", len(people))
        check_mail(smtp_server, people)
        assert len(page.of("match")) == 1
    finally:
        page.close()


@pytest.fixture
def redis_queue(redis_url, live_database, start_server):
    """Redis for the test's processes; their job queue on it is emptied after
    they stop (a tick scheduled for the next slot would otherwise stay)."""
    yield redis_url
    start_server.stop_all()
    queue_for(redis_url, ".", queue_channel(live_database)).flush()


@pytest.mark.postgresql_only("two processes at one slot share one database: PostgreSQL, "
                             "as docs/deploy.md asks")
def test_two_processes_at_one_slot_store_one_round_and_introduce_everyone_once(
        live_database, tmp_path, start_server, organiser, smtp_server, redis_queue):
    env = dict(server_environment(live_database, tmp_path, worker=True),
               MATCHER_MAIL_URL=smtp_server.url, MATCHER_MESSAGE_QUEUE=redis_queue)
    a, b = (one.base for one in start_server(env, count=2))
    trial, people = new_trial(a, organiser, 8, through=(a, b))
    settled(smtp_server, "link", len(people), quiet=0)
    pages = [Listener(a if k % 2 else b, p["token"]).connect() for k, p in enumerate(people)]
    try:
        schedule, slot, after = schedule_seconds_away()
        # Set through both, twice: each process wakes the shared job queue at the
        # slot, and its workers and the other's take those ticks at once.
        for through in (a, b, a, b):
            assert set_schedule(through, organiser, trial, schedule)["next_round_at"] == iso(slot)

        wait_all(pages, lambda page: page.of("match"), "every match of the slot's round",
                 SLOT_WAIT)
        introductions = settled(smtp_server, "introduction", len(people), quiet=2.0)
        assert len(introductions) == len(people)
        check_mail(smtp_server, people)
        check_whole_round(live_database, trial["id"], people, slot)
        for through in (a, b):
            status, details = call(through, "GET", f"/api/v1/trials/{trial['id']}", None,
                                   organiser)
            assert status == 200
            assert [r["round"] for r in details["rounds"]] == [1]
            assert details["next_round_at"] == iso(after)
        assert round_mail_statuses(live_database, trial["id"]) == {"sent": len(people)}
        assert all([m["round"] for m in page.of("match")] == [1] for page in pages)
    finally:
        for page in pages:
            page.close()


def test_a_worker_killed_mid_round_leaves_nobody_without_an_introduction(
        live_database, tmp_path, start_server, start_worker, organiser, slow_smtp_server):
    """The worker dies with messages the mail server accepted but whose
    acceptance it never recorded: those (and only those) go again, as
    docs/mail.md says, with the same Message-ID."""
    smtp, people_count = slow_smtp_server, 12
    port = free_port()
    # No worker in `serve`; the worker composes the links with MATCHER_BASE_URL.
    env = dict(server_environment(live_database, tmp_path, worker=False),
               MATCHER_MAIL_URL=smtp.url, MATCHER_BASE_URL=f"http://127.0.0.1:{port}")
    base = start_server(env, port).base
    worker = start_worker(env)
    trial, people = new_trial(base, organiser, people_count)
    settled(smtp, "link", people_count, quiet=0)

    status, published = call(base, "POST", f"/api/v1/trials/{trial['id']}/rounds",
                             {"publish": True, "seed": 1}, organiser)
    assert status == 201, published
    assert not published["sitting_out"]
    # Some introductions go; then the server keeps its replies, and each busy
    # thread of the worker waits on one (the round's mail is one job of
    # matcher.jobs.BATCH messages: one thread): the worker is killed with those
    # in flight.
    wait_until(lambda: len(of_kind(smtp, "introduction")) >= 4, "the first introductions")
    smtp.collector.holding.set()
    wait_until(lambda: smtp.collector.quiet_for(0.5), "every busy thread's message held")
    worker.kill()
    in_flight = list(smtp.collector.held)
    smtp.collector.holding.clear()
    assert 1 <= len(in_flight) <= WORKERS, in_flight
    assert len(of_kind(smtp, "introduction")) < people_count, "all were sent before the kill"

    with models(live_database) as session:
        sending = session.scalars(select(Message.reason).where(
            Message.trial_id == trial["id"], Message.status == "sending")).all()
        assert len(sending) == len(in_flight), sending
        # The lease ends (matcher.outbox.LEASE, five minutes, has no setting):
        # as if those five minutes had passed.
        session.execute(update(Message).where(Message.trial_id == trial["id"],
                                              Message.status == "sending")
                        .values(due_at=utc_now() - timedelta(seconds=1)))
        session.commit()

    start_worker(env)  # its first sweep, at once, takes what is due
    wait_until(lambda: round_mail_statuses(live_database, trial["id"]) == {
        "sent": people_count}, "every introduction to be sent")
    introductions = settled(smtp, "introduction", people_count + len(in_flight), quiet=1.0)

    copies: dict[str, list] = {}
    for to, message in introductions:
        copies.setdefault(to, []).append(message)
    assert set(copies) == {p["email"] for p in people}, "someone had no introduction"
    twice = {to: messages for to, messages in copies.items() if len(messages) > 1}
    assert sorted(twice) == sorted(in_flight), "only the messages in flight went twice"
    for to, messages in twice.items():
        assert len(messages) == 2, to
        assert messages[0]["Message-ID"] == messages[1]["Message-ID"], to
        assert messages[0].get_body(("plain",)).get_content() == \
            messages[1].get_body(("plain",)).get_content()
    ids = [messages[0]["Message-ID"] for messages in copies.values()]
    assert len(set(ids)) == len(ids)
    check_mail(smtp, people, introductions=None)


def test_the_server_killed_while_it_writes_a_scheduled_round(
        live_database, tmp_path, start_server, organiser, smtp_server):
    """As test_faults.py's killed publish, at a slot: the database holds the
    round's transaction in the middle of its group members (a trigger), the
    server is killed there; nothing of the round (nor its mail) is stored, the
    slot is still due, and the server started again publishes it, once."""
    database = Database(live_database)
    database.notice_dead_clients()  # PostgreSQL: rolled back within 0.1 s of the kill
    env = dict(server_environment(live_database, tmp_path, worker=True),
               MATCHER_MAIL_URL=smtp_server.url)
    server = start_server(env)
    base = server.base
    trial, people = new_trial(base, organiser, 8)
    settled(smtp_server, "link", len(people), quiet=0)
    database.hang_on_insert("group_member", 5)
    schedule, slot, after = schedule_seconds_away()
    set_schedule(base, organiser, trial, schedule)

    database.wait_until_hanging(timeout=SLOT_WAIT)
    server.kill()  # in the middle of writing the slot's round
    database.wait_until_no_hanging_transaction()
    database.remove_faults()
    if database.sqlite:
        assert database.scalar("PRAGMA integrity_check") == "ok"
    assert database.rows_of_rounds() == {"round": 0, "group": 0, "group_member": 0}
    assert round_mail_statuses(live_database, trial["id"]) == {}
    with models(live_database) as session:
        assert session.get(Trial, trial["id"]).next_round_at == slot, "the slot is not due"
    assert of_kind(smtp_server, "introduction") == []

    server.start()  # its first tick publishes the slot missed while it was down
    wait_until(lambda: database.count("round") > 0, "the slot's round after the restart",
               SLOT_WAIT)
    introductions = settled(smtp_server, "introduction", len(people))
    assert len(introductions) == len(people)
    check_whole_round(live_database, trial["id"], people, slot)
    check_mail(smtp_server, people)
    status, details = call(base, "GET", f"/api/v1/trials/{trial['id']}", None, organiser)
    assert status == 200
    assert [r["round"] for r in details["rounds"]] == [1]
    assert details["next_round_at"] == iso(after)
