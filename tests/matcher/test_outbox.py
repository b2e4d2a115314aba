"""The outbox and its worker against a real SMTP server (aiosmtpd) on a real
database: each message is delivered once for its reason, through a server that
is down for a while, a worker that dies mid-send, two workers at once and
Huey's own consumer; it is sealed at rest; a leaver's mail goes with them.
The clock is the test's (no waiting for backoffs)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from matcher import db
from matcher.jobs import Worker, make_jobs
from matcher.mail import Mail, SmtpMailer, compose
from matcher.models import Message, Organiser, Person
from matcher.outbox import ATTEMPTS, LEASE, Outbox, backoff, queue_message, resend_failed, sealer
from matcher.times import utc_now
from matcher.trials import create_trial

SENDER = "matcher <matcher@example.org>"
LINK = "https://matcher.example.org/me/secret-token-of-ann"


class Clock:
    """The worker's time, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def sessions(database_url):
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    yield db.make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def seal():
    return sealer("test secret")


@pytest.fixture
def outbox(sessions, smtp_server, seal, clock):
    return Outbox(sessions, SmtpMailer("127.0.0.1", smtp_server.port, SENDER, timeout=5),
                  seal, clock)


def _queue(sessions, seal, clock, reason="link:ann", email="ann@example.org") -> int | None:
    with sessions() as session:
        organiser = session.scalar(select(Organiser)) or Organiser(email="o@example.org",
                                                                   name="O")
        trial = create_trial(session, organiser, "Coffee")
        person = session.scalar(select(Person).where(Person.email == email)) or Person(
            public_id=email.split("@")[0], email=email, name="Ann", department="IT")
        message = compose(Mail(email, "Your link", f"Your page: {LINK}\n"), SENDER)
        row = queue_message(session, seal, message, reason=reason, kind="link", person=person,
                            trial=trial, now=clock())
        session.commit()
        return row.id


def _status(sessions, message_id):
    with sessions() as session:
        row = session.get(Message, message_id)
        return row.status, row.attempts, row.error, row.sealed


def test_a_message_is_delivered_once_as_composed(sessions, seal, clock, outbox, smtp_server):
    message_id = _queue(sessions, seal, clock)
    with pytest.raises(IntegrityError):  # the same reason again: refused, with its transaction
        _queue(sessions, seal, clock)
    assert outbox.due() == [message_id]
    assert outbox.deliver(message_id) == "sent"
    assert outbox.deliver(message_id) is None  # sent already: nothing happens
    assert outbox.due() == []
    [(recipients, received)] = smtp_server.messages
    assert recipients == ("ann@example.org",)
    assert LINK in received.get_content()
    with sessions() as session:
        row = session.get(Message, message_id)
        assert received["Message-ID"] == row.message_id
        assert (row.status, row.attempts, row.sent_at, row.sealed) == ("sent", 1, clock(), None)


def test_the_link_is_sealed_at_rest(sessions, seal, clock):
    message_id = _queue(sessions, seal, clock)
    _, _, _, sealed = _status(sessions, message_id)
    assert b"secret-token-of-ann" not in sealed and b"ann@example.org" not in sealed
    assert b"secret-token-of-ann" in seal.decrypt(sealed)


def test_a_mail_server_that_is_down_gets_it_later_once(sessions, seal, clock, outbox,
                                                       smtp_server):
    message_id = _queue(sessions, seal, clock)
    smtp_server.stop()
    assert outbox.deliver(message_id) == "queued"
    status, attempts, error, _ = _status(sessions, message_id)
    assert (status, attempts) == ("queued", 1) and "refused" in error
    assert outbox.due() == []  # not before its backoff
    clock.advance(backoff(1))
    assert outbox.deliver(message_id) == "queued"  # still down: a longer wait
    clock.advance(backoff(1))
    assert outbox.due() == []
    clock.advance(backoff(2))
    smtp_server.start()
    assert outbox.due() == [message_id]
    assert outbox.deliver(message_id) == "sent"
    assert len(smtp_server.messages) == 1


def test_after_every_attempt_failed_the_organiser_can_send_it_again(
        sessions, seal, clock, outbox, smtp_server):
    message_id = _queue(sessions, seal, clock)
    smtp_server.stop()
    for attempt in range(1, ATTEMPTS + 1):
        assert outbox.deliver(message_id) == ("failed" if attempt == ATTEMPTS else "queued")
        clock.advance(backoff(attempt))
    assert outbox.due() == []
    smtp_server.start()
    with sessions() as session:
        trial = session.get(Message, message_id).trial
        assert resend_failed(session, trial, now=clock()) == [message_id]
        session.commit()
    assert outbox.deliver(message_id) == "sent"
    assert len(smtp_server.messages) == 1


def test_a_worker_that_died_mid_send_is_followed_by_one_resend_with_the_same_id(
        sessions, seal, clock, outbox, smtp_server):
    """The one case no mail system decides: the server took the message, the
    worker died before recording it. After the lease, it goes again, with the
    same Message-ID, so a mail client shows one message."""
    message_id = _queue(sessions, seal, clock)
    with sessions() as session:  # what a dead worker leaves: claimed, sent, not recorded
        row = session.get(Message, message_id)
        outbox.mailer.send_message(outbox._unseal(row))
        session.execute(update(Message).where(Message.id == message_id).values(
            status="sending", due_at=clock() + LEASE, attempts=1))
        session.commit()
    assert outbox.due() == []  # its lease holds
    clock.advance(LEASE)
    assert outbox.deliver(message_id) == "sent"
    first, second = (received for _, received in smtp_server.messages)
    assert first["Message-ID"] == second["Message-ID"]
    assert outbox.deliver(message_id) is None


def test_two_workers_at_once_send_it_once(sessions, seal, clock, outbox, smtp_server):
    ids = [_queue(sessions, seal, clock, reason=f"link:{k}", email=f"p{k}@example.org")
           for k in range(12)]
    results: list = []

    def work():
        for message_id in ids:
            results.append(outbox.deliver(message_id))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("sent") == 12
    received = [recipients for recipients, _ in smtp_server.messages]
    assert sorted(received) == sorted((f"p{k}@example.org",) for k in range(12))


def test_a_participant_who_left_is_not_mailed(sessions, seal, clock, outbox, smtp_server):
    message_id = _queue(sessions, seal, clock)
    with sessions() as session:
        session.delete(session.scalar(select(Person)))
        session.commit()
    assert outbox.deliver(message_id) == "cancelled"
    status, _, error, sealed = _status(sessions, message_id)
    assert (status, sealed) == ("cancelled", None) and "left" in error
    assert smtp_server.messages == []


def test_another_secret_key_fails_clearly(sessions, seal, clock, smtp_server):
    message_id = _queue(sessions, seal, clock)
    other = Outbox(sessions, SmtpMailer("127.0.0.1", smtp_server.port, SENDER), sealer("new"),
                   clock)
    assert other.deliver(message_id) == "queued"
    assert "secret key changed" in _status(sessions, message_id)[2]


def test_hueys_consumer_delivers_what_is_queued(sessions, seal, smtp_server, tmp_path):
    """The queue as the app runs it: a SQLite file, a consumer with two threads."""
    outbox = Outbox(sessions, SmtpMailer("127.0.0.1", smtp_server.port, SENDER), seal)
    jobs = make_jobs(None, tmp_path, outbox, name="test")
    ids = [_queue(sessions, seal, utc_now, reason=f"link:{k}", email=f"p{k}@example.org")
           for k in range(5)]  # due now, by the real clock the worker reads
    worker = Worker(jobs).start()
    try:
        jobs.deliver_later(ids)
        deadline = time.monotonic() + 20
        while len(smtp_server.messages) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert len(smtp_server.messages) == 5
    assert {_status(sessions, message_id)[0] for message_id in ids} == {"sent"}
