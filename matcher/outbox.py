"""The outbox: every mail is composed in the transaction of what caused it, stored
sealed, and delivered afterwards by the mail worker (docs/mail.md).

Why an outbox rather than sending from the request: a request never waits on a
mail server (an import of 500 people no longer opens 500 SMTP connections
while the organiser waits), a mail exists if and only if what caused it was
committed, and each mail has one row, so it is sent once for its reason
(``reason``, unique: e.g. a round's introduction to one participant) through
retries, restarts and several worker processes.

Delivery, one row at a time:

1. **claim**: one ``UPDATE`` moves a due row to ``sending`` and leases it for
   :data:`LEASE` (``due_at`` becomes the lease's end); only one worker's
   ``UPDATE`` matches, whatever the number of processes;
2. **send** the sealed message as it was composed, ``Message-ID`` included;
3. **record**: ``sent`` (and the sealed copy is dropped), or back to
   ``queued`` with a later ``due_at`` (:func:`backoff`) and the server's
   reply, or ``failed`` after :data:`ATTEMPTS` attempts.

A worker that dies between 2 and 3 leaves the row ``sending``; when its lease
ends, another worker sends it again. That is the one case no mail system can
decide (the server accepted the message, but the acceptance was not
recorded): at most that message goes twice, with the same ``Message-ID``, so
mail clients show it once.

A message composed when queued (a personal link's) is sealed (Fernet: AES with
an HMAC) with a key derived from the app's secret key: the database never
holds a link in the clear. A round's messages are composed when sent, by the
outbox's ``composers``, and are never stored.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.message import Message as Message_

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from matcher.mail import Mailer, MailError
from matcher.models import Message, Person, Trial
from matcher.times import utc_now

__all__ = [
    "ATTEMPTS",
    "LEASE",
    "Delivery",
    "Outbox",
    "backoff",
    "delivery",
    "queue_message",
    "queue_reason",
    "resend_failed",
    "sealer",
]

#: Attempts before a message is marked failed (the organiser can send it again).
ATTEMPTS = 6
#: How long a worker holds a message it is sending before another may take it.
LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed attempts: 30 s, 2 min, 8 min,
    32 min, about 2 h (a mail server down for a few hours loses nothing)."""
    return timedelta(seconds=30 * 4 ** max(attempts - 1, 0))


def sealer(secret_key: str | bytes) -> Fernet:
    """The outbox's seal, derived from the app's secret key (HKDF-SHA256)."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"matcher outbox").derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def queue_message(session: Session, seal: Fernet, message: EmailMessage | Message_, *,
                  reason: str,
                  kind: str, person: Person | None, trial: Trial | None = None,
                  round_number: int | None = None, now: datetime | None = None
                  ) -> Message:
    """Queue ``message`` (with its ``Message-ID`` set) for ``reason``, in the caller's
    transaction (written with it: one ``INSERT`` among the others at the commit).

    A reason happens once: a second message for it is refused by the database
    (``reason`` is unique), and with it the whole transaction that repeated the
    reason (e.g. a scheduler tick another process had already run)."""
    row = Message(reason=reason, kind=kind, person=person, trial=trial,
                  round_number=round_number, message_id=message["Message-ID"],
                  sealed=seal.encrypt(bytes(message)), due_at=now or utc_now())
    session.add(row)
    return row


def queue_reason(session: Session, *, reason: str, kind: str, person: Person,
                 trial: Trial | None, round_number: int | None, message_id: str,
                 now: datetime | None = None) -> Message:
    """Queue a message to be composed when it is sent, by the outbox's composer for
    ``kind`` (a round's introductions: a round of 2,000 is stored in the time of
    2,000 small rows, and composed by the workers while they send)."""
    row = Message(reason=reason, kind=kind, person=person, trial=trial,
                  round_number=round_number, message_id=message_id, sealed=None,
                  due_at=now or utc_now())
    session.add(row)
    return row


def resend_failed(session: Session, trial: Trial, round_number: int | None = None,
                  *, now: datetime | None = None) -> list[int]:
    """Queue a trial's failed messages (of one round, or all) again; their ids
    (to hand to the worker after the commit)."""
    query = select(Message.id).where(Message.trial_id == trial.id, Message.status == "failed")
    if round_number is not None:
        query = query.where(Message.round_number == round_number)
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(Message).where(Message.id.in_(ids))
                        .values(status="queued", attempts=0, due_at=now or utc_now()))
    return ids


@dataclass(frozen=True)
class Delivery:
    """How a trial's mail of one round (``None``: personal links) is going."""

    round_number: int | None
    sent: int
    waiting: int
    failed: int
    cancelled: int
    #: Each failed message: the participant's name, the kind of mail, the server's reply.
    failures: tuple[tuple[str, str, str], ...]


def delivery(session: Session, trial: Trial) -> list[Delivery]:
    """The trial's mail by round (personal links first, then rounds in order)."""
    rows = session.execute(
        select(Message.round_number, Message.status, Message.kind, Message.error, Person.name)
        .outerjoin(Person, Message.person_id == Person.id)
        .where(Message.trial_id == trial.id)
        .order_by(Message.round_number.is_not(None), Message.round_number, Message.id)).all()
    by_round: dict[int | None, list] = {}
    for row in rows:
        by_round.setdefault(row.round_number, []).append(row)
    report = []
    for number, messages in by_round.items():
        count = {status: sum(m.status == status for m in messages)
                 for status in ("sent", "failed", "cancelled")}
        report.append(Delivery(
            number, count["sent"], len(messages) - sum(count.values()), count["failed"],
            count["cancelled"],
            tuple((m.name or "someone who left", m.kind, m.error or "")
                  for m in messages if m.status == "failed")))
    return report


#: Kinds of mail sent to an address, not to a participant (a sign-up's
#: confirmation, an invitation to organise): queued with no person, so not
#: cancelled for want of one.
TO_AN_ADDRESS = frozenset({"confirm", "invitation"})


@dataclass
class Outbox:
    """Delivers the outbox's messages through ``mailer`` (the mail worker's side)."""

    sessions: sessionmaker[Session]
    mailer: Mailer
    seal: Fernet
    #: The time, as the worker sees it (tests give a clock of their own).
    clock: Callable[[], datetime] = utc_now
    #: Who composes the messages queued without a sealed copy, by kind: from the
    #: database as it is when they are sent (``None``: nothing to send any more).
    composers: dict[str, Callable[[Session, Message], Message_ | None]] = field(
        default_factory=dict)

    def due(self, limit: int = 500) -> list[int]:
        """Messages due now: queued and due, or sending with a lease that ended."""
        now = self.clock()
        with self.sessions() as session:
            return list(session.scalars(
                select(Message.id)
                .where(Message.status.in_(("queued", "sending")), Message.due_at <= now)
                .order_by(Message.due_at, Message.id).limit(limit)))

    def deliver(self, message_id: int) -> str | None:
        """Claim, send and record one message; its status after, or ``None`` if it
        was not due (sent already, or being sent by another worker)."""
        now = self.clock()
        with self.sessions() as session:
            claimed = session.execute(
                update(Message)
                .where(Message.id == message_id,
                       Message.status.in_(("queued", "sending")), Message.due_at <= now)
                .values(status="sending", due_at=now + LEASE,
                        attempts=Message.attempts + 1)).rowcount
            session.commit()
            if not claimed:
                return None
            row = session.get(Message, message_id)
            assert row is not None
            if row.person_id is None and row.kind not in TO_AN_ADDRESS:
                # The participant left: their mail goes with them.
                row.status, row.sealed, row.error = "cancelled", None, "the participant left"
                session.commit()
                return row.status
            try:
                message = self._message(session, row)
                if message is None:
                    row.status, row.error = "cancelled", "nothing to send any more"
                    session.commit()
                    return row.status
                self.mailer.send_message(message)
            except MailError as exc:
                row.error = str(exc)[:1000]
                if row.attempts >= ATTEMPTS:
                    row.status = "failed"
                else:
                    row.status, row.due_at = "queued", self.clock() + backoff(row.attempts)
            else:
                row.status, row.sent_at, row.sealed, row.error = "sent", self.clock(), None, None
            session.commit()
            return row.status

    def _message(self, session: Session, row: Message) -> EmailMessage | Message_ | None:
        if row.sealed is not None:
            return self._unseal(row)
        composer = self.composers.get(row.kind)
        if composer is None:
            raise MailError(f"no composer for {row.kind} messages in this worker")
        message = composer(session, row)
        if message is not None:
            del message["Message-ID"]
            message["Message-ID"] = row.message_id  # the same through every resend
        return message

    def _unseal(self, row: Message) -> EmailMessage:
        try:
            data = self.seal.decrypt(row.sealed or b"")
        except InvalidToken:
            raise MailError("the message cannot be unsealed: the secret key changed "
                            "since it was queued") from None
        return message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]
