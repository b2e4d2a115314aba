"""The database: typed SQLAlchemy 2.0 models.

One who-met-whom record serves coffee trials and cafés alike: a
:class:`Round` (of a trial or of a café) holds :class:`Group` rows (a pair,
a triad, a café table), and :class:`GroupMember` says who was in it and
whether the meeting happened (``met``). People who sit a round out have a
:class:`GroupMember` row with no group. A :class:`Person` is one human across
trials and cafés (matched by email), so who met whom counts everywhere.

Secrets (participant and organiser tokens, passwords) are stored only as
hashes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from matcher.validation import DEFAULT_GROUP_SIZE, DEFAULT_ODD, DEFAULT_ROUND_MINUTES

__all__ = [
    "ApiToken",
    "Attendee",
    "Base",
    "Cafe",
    "Feedback",
    "Group",
    "GroupMember",
    "Invitation",
    "Membership",
    "Message",
    "Note",
    "NoteVote",
    "Organiser",
    "Person",
    "Pledge",
    "Round",
    "TEAM_ROLES",
    "TeamEvent",
    "TeamRole",
    "Trial",
    "UsedAction",
]


def _now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A moment, stored in UTC and read back as an aware UTC ``datetime`` on every
    database: SQLite keeps no time zone (it would give back naive times) and
    PostgreSQL gives ``timestamptz`` in its session's zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        # A time without a zone is taken to be UTC, as everywhere in matcher.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every model; constraints get stable names, which migrations need."""

    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Organiser(Base):
    """Someone who runs trials and cafés; logs in with email and password."""

    __tablename__ = "organiser"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="organiser", cascade="all, delete-orphan"
    )
    trials: Mapped[list[Trial]] = relationship(back_populates="organiser")


class ApiToken(Base):
    """An organiser's API token (its SHA-256 only; the token itself is shown once)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organiser.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    organiser: Mapped[Organiser] = relationship(back_populates="tokens")


class Person(Base):
    """One human across trials and cafés, with their mixing attributes."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    site: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(200), default="")
    mode: Mapped[str] = mapped_column(String(16), default="either")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    attendances: Mapped[list[Attendee]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class Trial(Base):
    """A coffee trial: a programme of rounds for the people who joined it.

    ``organiser_id`` is who created it; who may run it is its
    :class:`TeamRole` rows (docs/security.md, "Co-organisers")."""

    __tablename__ = "trial"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    group_size: Mapped[int] = mapped_column(Integer, default=DEFAULT_GROUP_SIZE)
    odd: Mapped[str] = mapped_column(String(16), default=DEFAULT_ODD)
    weights: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    #: When rounds publish themselves, as the organiser gave it (matcher.schedules);
    #: ``next_round_at`` is its next slot (``None``: no schedule, or it has ended).
    schedule: Mapped[dict[str, object] | None] = mapped_column(JSON)
    schedule_paused: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=false())
    next_round_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: The slot whose reminder has been queued (once per slot).
    reminded_slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Conversation starters for the introductions (empty: the built-in ones).
    icebreakers: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Whether a sign-up from the join link waits for its email to be confirmed
    #: (a :class:`PendingSignup` until then; docs/api.md). On for new trials.
    confirm_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())

    organiser: Mapped[Organiser] = relationship(back_populates="trials")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="trial", cascade="all, delete-orphan"
    )
    rounds: Mapped[list[Round]] = relationship(
        back_populates="trial", cascade="all, delete-orphan", order_by="Round.number"
    )


class Membership(Base):
    """A person taking part in a trial, with their secret link's token (hashed)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("trial_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trial.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The same token sealed (matcher.outbox.sealer), for the mail that carries the
    #: personal link later (introductions); ``None`` for links made before.
    token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A scheduled slot this member skips (from the reminder's link): that round
    #: leaves them out, the ones after do not.
    skip_slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    trial: Mapped[Trial] = relationship(back_populates="memberships")
    # Joined: whoever reads a membership reads its person (name, department).
    person: Mapped[Person] = relationship(back_populates="memberships", lazy="joined")


class PendingSignup(Base):
    """A sign-up waiting for its email to be confirmed (trials with
    ``confirm_email``): nobody is a member, matched or shown a page until the
    link mailed to the address is followed. Only the confirmation token's
    SHA-256 is kept; the details wait here, so that nobody's name or department
    changes on the word of whoever typed their email. Expires after
    :data:`matcher.trials.CONFIRM_LIFETIME`."""

    __tablename__ = "pending_signup"
    __table_args__ = (UniqueConstraint("trial_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trial.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, index=True)

    trial: Mapped[Trial] = relationship()


class Cafe(Base):
    """A live knowledge café: tables, rounds, a question per round, and where it is.

    ``status`` is ``lobby`` (people arriving), ``running`` (round
    ``current_round`` until ``ends_at``) or ``finished``. ``table_count`` is
    fixed when the café starts. ``plan`` holds the rounds still to come as last
    planned (table lists of public ids), for whom, and the plan's quality.
    ``format`` is what the harvest is for (docs/harvest.md): ``cafe``,
    ``after-action-review`` or ``keep-revert-stop``; with ``anonymous_notes``
    no note keeps its author. ``pledge_reminder_days``: days after a pledge
    when it is mailed back (``None``: never). ``organiser_id`` is who created
    the café (its first owner); who may run it is its :class:`TeamRole` rows.
    """

    __tablename__ = "cafe"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    screen_key: Mapped[str] = mapped_column(String(64), unique=True)
    tables: Mapped[int | None] = mapped_column(Integer)
    table_size: Mapped[int | None] = mapped_column(Integer)
    rounds: Mapped[int] = mapped_column(Integer)
    round_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_ROUND_MINUTES)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Named hosts, table 1 first: whoever joins under that name hosts that table.
    host_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    weights: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="lobby")
    current_round: Mapped[int] = mapped_column(Integer, default=0)
    table_count: Mapped[int | None] = mapped_column(Integer)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    plan: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    format: Mapped[str] = mapped_column(String(24), default="cafe", server_default="cafe")
    anonymous_notes: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=false())
    pledge_reminder_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    organiser: Mapped[Organiser] = relationship()
    attendees: Mapped[list[Attendee]] = relationship(
        back_populates="cafe", cascade="all, delete-orphan", order_by="Attendee.id"
    )
    played: Mapped[list[Round]] = relationship(
        back_populates="cafe", cascade="all, delete-orphan", order_by="Round.number"
    )


class Attendee(Base):
    """A person at a café, with their secret link's token (hashed).

    ``name``, ``department`` and ``organisation`` are as they gave them at this
    café (a person found by email keeps their own details elsewhere).
    ``host_table`` is the table they host in every round; ``present`` turns
    false when they leave.
    """

    __tablename__ = "attendee"
    __table_args__ = (UniqueConstraint("cafe_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cafe_id: Mapped[int] = mapped_column(ForeignKey("cafe.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    host_table: Mapped[int | None] = mapped_column(Integer)
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    cafe: Mapped[Cafe] = relationship(back_populates="attendees")
    # Joined: a café's code reads everyone's person (their public id) at once.
    person: Mapped[Person] = relationship(back_populates="attendances", lazy="joined")


class Note(Base):
    """What a table wrote down during a round of a café (docs/harvest.md).

    ``author_id`` is the attendee who posted it; in a café with
    ``anonymous_notes`` it is never set, so nothing links a note to its author.
    ``hidden``: the organiser keeps it out of the record. ``merged_into_id``: a
    duplicate the organiser merged into that note (its votes went there; it is
    left out of the record as a hidden one is).
    """

    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    cafe_id: Mapped[int] = mapped_column(ForeignKey("cafe.id", ondelete="CASCADE"), index=True)
    round_number: Mapped[int] = mapped_column(Integer)
    table_number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("attendee.id", ondelete="SET NULL"), index=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("note.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    author: Mapped[Attendee | None] = relationship()
    votes: Mapped[list[NoteVote]] = relationship(
        back_populates="note", cascade="all, delete-orphan", passive_deletes=True)


class NoteVote(Base):
    """One attendee's vote for one note (one per note per person)."""

    __tablename__ = "note_vote"
    __table_args__ = (UniqueConstraint("note_id", "attendee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("note.id", ondelete="CASCADE"))
    attendee_id: Mapped[int] = mapped_column(
        ForeignKey("attendee.id", ondelete="CASCADE"), index=True)

    note: Mapped[Note] = relationship(back_populates="votes")


class Pledge(Base):
    """The one action an attendee will take after a café (their latest word
    replaces the earlier one). If the café mails pledges back, the outbox holds
    one message for it (reason ``pledge:<café>:<attendee>``), composed with the
    pledge as it is when the message is sent."""

    __tablename__ = "pledge"
    __table_args__ = (UniqueConstraint("cafe_id", "attendee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cafe_id: Mapped[int] = mapped_column(ForeignKey("cafe.id", ondelete="CASCADE"), index=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"),
                                             index=True)
    text: Mapped[str] = mapped_column(Text)
    pledged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    attendee: Mapped[Attendee] = relationship()


class Round(Base):
    """A published round of a trial, or a played round of a café: its groups
    (a café's tables) and who sat out."""

    __tablename__ = "round"
    __table_args__ = (UniqueConstraint("trial_id", "number"),
                      UniqueConstraint("cafe_id", "number"),
                      # A schedule's slot is published once, however many processes try.
                      UniqueConstraint("trial_id", "slot_at", name="uq_round_trial_id_slot_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int | None] = mapped_column(ForeignKey("trial.id", ondelete="CASCADE"))
    cafe_id: Mapped[int | None] = mapped_column(ForeignKey("cafe.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    metrics: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    #: The schedule's slot this round was published for (``None``: by hand).
    slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Whether its "did you meet?" check-ins have been queued (once per round).
    checked_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    trial: Mapped[Trial | None] = relationship(back_populates="rounds")
    cafe: Mapped[Cafe | None] = relationship(back_populates="played")
    groups: Mapped[list[Group]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="Group.number"
    )
    members: Mapped[list[GroupMember]] = relationship(
        back_populates="round", cascade="all, delete-orphan"
    )


class Group(Base):
    """The people who meet together in one round: a pair, a triad, a table."""

    __tablename__ = "group"
    __table_args__ = (UniqueConstraint("round_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)

    round: Mapped[Round] = relationship(back_populates="groups")
    members: Mapped[list[GroupMember]] = relationship(back_populates="group")


class GroupMember(Base):
    """Who was in which group of a round (no group: sat out), and whether they met.

    ``met`` is ``None`` until someone says; ``False`` means the meeting did not
    happen, and then it does not count as meeting.
    """

    __tablename__ = "group_member"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("group.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    met: Mapped[bool | None] = mapped_column(Boolean)

    round: Mapped[Round] = relationship(back_populates="members")
    group: Mapped[Group | None] = relationship(back_populates="members")
    person: Mapped[Person] = relationship(lazy="joined")


class Feedback(Base):
    """A participant's answers about one round of a trial (docs/api.md, "Feedback").

    ``met`` is the same fact as their :class:`GroupMember`'s (matcher.feedback
    writes both). The other answers are optional (``None``: not given);
    ``learnt`` is shown to the organiser, and quoted in reports only where
    ``share`` is true, never with a name. ``person_id`` turns ``NULL`` when the
    person leaves: the answers still count, but are nobody's.
    """

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trial.id", ondelete="CASCADE"),
                                          index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True)
    met: Mapped[bool] = mapped_column(Boolean)
    knew_before: Mapped[bool | None] = mapped_column(Boolean)
    useful: Mapped[int | None] = mapped_column(Integer)
    again: Mapped[bool | None] = mapped_column(Boolean)
    learnt: Mapped[str] = mapped_column(Text, default="")
    share: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    round: Mapped[Round] = relationship()


class Message(Base):
    """One mail to one participant: composed when its reason happened, in the same
    transaction, and delivered after by the mail worker (:mod:`matcher.outbox`).

    ``reason`` says what it is sent for (unique: sent once for it). ``status``
    is ``queued`` (``due_at``: the next attempt), ``sending`` (``due_at``: when
    the worker's lease ends), ``sent``, ``failed`` (``error``: the mail server's
    last reply) or ``cancelled`` (the participant left first). ``sealed`` is the
    whole message, encrypted, kept until it is sent.
    """

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    trial_id: Mapped[int | None] = mapped_column(
        ForeignKey("trial.id", ondelete="CASCADE"), index=True)
    round_number: Mapped[int | None] = mapped_column(Integer)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)

    person: Mapped[Person | None] = relationship()
    trial: Mapped[Trial | None] = relationship()


class UsedAction(Base):
    """An action link that has been used (matcher.actions): each works once.

    ``purpose`` is what the link was for (e.g. the check-in of one member for
    one round: its yes and its no are one purpose), hashed; nothing else about
    the link or who used it is kept."""

    __tablename__ = "used_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), unique=True)
    action: Mapped[str] = mapped_column(String(16))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


# -- co-organisers: who runs a trial or a café (docs/security.md, "Co-organisers") -----

#: The roles an organiser account holds on a trial or a café: an ``owner`` does
#: everything; an ``organiser`` everything but delete it and manage its team.
TEAM_ROLES = ("owner", "organiser")
_ONE_PLACE = "(trial_id IS NULL) <> (cafe_id IS NULL)"
_A_ROLE = "role IN ('owner', 'organiser')"


class TeamRole(Base):
    """An organiser account's role on one trial or one café (exactly one of
    ``trial_id`` and ``cafe_id``): ``owner`` or ``organiser`` (matcher.team).

    These rows are who may run a trial or a café (``matcher.trials.owned_trial``,
    ``matcher.cafes.owned_cafe``): ``Trial.organiser_id`` and ``Cafe.organiser_id``
    only say who created it, its first owner. A trial or a café keeps at least
    one owner. Its roles go with it when it is deleted (``ON DELETE CASCADE``).
    """

    __tablename__ = "team_role"
    __table_args__ = (UniqueConstraint("trial_id", "organiser_id"),
                      UniqueConstraint("cafe_id", "organiser_id"),
                      CheckConstraint(_ONE_PLACE, name="one_place"),
                      CheckConstraint(_A_ROLE, name="role"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organiser.id", ondelete="CASCADE"), index=True)
    trial_id: Mapped[int | None] = mapped_column(ForeignKey("trial.id", ondelete="CASCADE"))
    cafe_id: Mapped[int | None] = mapped_column(ForeignKey("cafe.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    # Joined: a team is listed with its people's names.
    organiser: Mapped[Organiser] = relationship(lazy="joined")
    trial: Mapped[Trial | None] = relationship()
    cafe: Mapped[Cafe | None] = relationship()


class Invitation(Base):
    """An owner's invitation of a colleague, by email, to a role on a trial or a
    café (matcher.team). The accept link's token is mailed; only its SHA-256 is
    kept. ``status`` is ``pending`` (it works until ``expires_at``, once),
    ``accepted``, ``withdrawn``, or ``expired`` (set when the address is
    invited again after it expired); ``ended_at`` is when it stopped being
    pending."""

    __tablename__ = "invitation"
    __table_args__ = (CheckConstraint(_ONE_PLACE, name="one_place"),
                      CheckConstraint(_A_ROLE, name="role"))

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int | None] = mapped_column(
        ForeignKey("trial.id", ondelete="CASCADE"), index=True)
    cafe_id: Mapped[int | None] = mapped_column(
        ForeignKey("cafe.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("organiser.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    invited_by: Mapped[Organiser | None] = relationship()
    trial: Mapped[Trial | None] = relationship()
    cafe: Mapped[Cafe | None] = relationship()


class TeamEvent(Base):
    """One change of who runs a trial or a café, for its log (the Team page shows
    it newest first). ``action`` is ``created`` (its creator became its owner),
    ``invited``, ``withdrawn`` (an invitation), ``joined`` (an invitation
    accepted), ``role_changed`` (from ``from_role`` to ``role``) or ``removed``.
    ``actor`` did it, at ``at``; it was done to ``email`` (the account
    ``subject``, once there is one). ``role``: the role given, taken or
    invited to."""

    __tablename__ = "team_event"
    __table_args__ = (CheckConstraint(_ONE_PLACE, name="one_place"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int | None] = mapped_column(
        ForeignKey("trial.id", ondelete="CASCADE"), index=True)
    cafe_id: Mapped[int | None] = mapped_column(
        ForeignKey("cafe.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("organiser.id", ondelete="SET NULL"), index=True)
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("organiser.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(16))
    from_role: Mapped[str | None] = mapped_column(String(16))

    actor: Mapped[Organiser | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[Organiser | None] = relationship(foreign_keys=[subject_id])
    trial: Mapped[Trial | None] = relationship()
    cafe: Mapped[Cafe | None] = relationship()
