"""Live knowledge cafés: create, join, start and advance rounds, add time, end,
leave; re-planning the rounds to come for whoever is present.

As in :mod:`matcher.trials`, services take a SQLAlchemy ``Session`` and never
commit: the caller owns the transaction, so a round is stored whole or not at
all. A café's played rounds are rounds of the one who-met-whom record
(:class:`~matcher.models.Round` with ``cafe_id``), so a café avoids seating
people who just had coffee together, and later coffee rounds know who sat
together here.

Planning: each "next round" plans every round still to play for the people
present, with the played rounds fixed (:func:`solvers.rotation.plan_cafe`), and
plays the first of them. The rest are kept (``Cafe.plan``); if nobody has
arrived or left since, the next round is taken from them without solving again.
"""

from __future__ import annotations

import math
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session, selectinload

from matcher.accounts import hash_token
from matcher.errors import ServiceError
from matcher.files import attribute_key
from matcher.meetings import past_rounds, store_round
from matcher.models import (
    Attendee,
    Cafe,
    Group,
    GroupMember,
    Note,
    NoteVote,
    Organiser,
    Person,
    Round,
)
from matcher.team import check_role, make_owner
from matcher.times import iso, utc
from matcher.trials import check_weights
from matcher.validation import (
    DEFAULT_ROUND_MINUTES,
    DEFAULT_TABLE_SIZE,
    MAX_FIELD_LENGTH,
    MAX_NAME_LENGTH,
    check_email,
    text,
)
from solvers.model import History, Infeasible, Participant, Weights
from solvers.rotation import CafeProblem, plan_cafe

__all__ = [
    "FORMATS",
    "NEXT_ROUND_STEPS",
    "QUICK_START",
    "Refinement",
    "CafeError",
    "Format",
    "Joined",
    "add_time",
    "attendee_for_token",
    "cafe_by_code",
    "cafe_state",
    "create_cafe",
    "current_seat",
    "end_cafe",
    "found_cafe",
    "join_cafe",
    "kept_notes",
    "leave_cafe",
    "next_round",
    "owned_cafe",
    "plan_by_person",
    "plan_view",
    "present_attendee",
    "round_seats",
    "screen_view",
    "plan_refinement",
    "refinement",
    "set_host",
    "store_refined",
]

#: The step budget of a café's "next round" (the search of solvers.rotation):
#: people are waiting, so about a second's work on a small café, the same
#: tables for the same café and seed however busy the machine (the time limit
#: stays a safety net, reported when it cuts the search).
NEXT_ROUND_STEPS = 100_000

#: From this many people present, a café's first round is planned on its own
#: (see :func:`next_round`).
QUICK_START = 400

#: Limits on what a café may ask for.
MAX_ROUNDS = 20
MAX_TABLES = 500
MAX_TABLE_SIZE = 30
MAX_MINUTES = 240
MAX_QUESTION_LENGTH = 500
#: Join codes: short, easy to read aloud and type on a phone (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
_CODE_LETTERS = frozenset(CODE_ALPHABET)
#: The letters of screen keys (``secrets.token_urlsafe``).
_KEY_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class CafeError(ServiceError):
    """A café cannot do what was asked."""


#: The latest a pledge may be mailed back, in days.
MAX_REMINDER_DAYS = 365


@dataclass(frozen=True)
class Format:
    """A café's format: its name, its default questions (one per round) and,
    for the reviews, the heading of each question's column in the grid."""

    key: str
    name: str
    questions: tuple[str, ...]
    headings: tuple[str, ...] = ()


FORMATS = {f.key: f for f in (
    Format("cafe", "Knowledge café", ()),
    # The four questions of an After Action Review (US Army, TC 25-20, 1993).
    Format("after-action-review", "After action review", (
        "What was supposed to happen?", "What actually happened?",
        "Why were there differences?", "What will we do next time?"),
        ("Supposed to happen", "Actually happened", "Why the differences", "Next time")),
    # The grid knowledge services used to review changes made in a crisis.
    Format("keep-revert-stop", "Keep, revert, stop", (
        "What new practice should we keep?", "What should go back to how it was?",
        "What old practice should stop?"),
        ("Keep", "Revert", "Stop")),
)}


def check_format(fields: dict[str, object]) -> tuple[str, list[object] | None, object]:
    """A new café's ``format`` (400 naming it if unknown), and its ``questions``
    and ``rounds`` with the format's defaults where they were left out: a review
    has a round per question unless told otherwise."""
    key = fields.get("format", "cafe")
    if key is None:
        key = "cafe"
    if not isinstance(key, str) or key not in FORMATS:
        raise CafeError(400, "invalid", "format must be one of " + ", ".join(FORMATS), "format")
    chosen = FORMATS[key]
    questions = fields.get("questions")
    rounds = fields.get("rounds")
    if not questions and chosen.questions:
        questions = list(chosen.questions)
        if isinstance(rounds, int) and not isinstance(rounds, bool) \
                and 0 < rounds < len(questions):
            raise CafeError(400, "invalid", f"{chosen.name.lower()} has {len(questions)} "
                            f"questions, a round each: give {len(questions)} rounds, or "
                            "questions of your own", "rounds")
    if rounds is None and chosen.questions:
        rounds = len(questions) if isinstance(questions, list) else len(chosen.questions)
    return key, questions, rounds


def check_reminder_days(value: object) -> int | None:
    """``pledge_reminder_days``: none, or a whole number of days from 1 to a year."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) \
            or not 1 <= value <= MAX_REMINDER_DAYS:
        raise CafeError(400, "invalid", "pledge_reminder_days must be a whole number from 1 "
                        f"to {MAX_REMINDER_DAYS}", "pledge_reminder_days")
    return value


def _text(value: object, field: str, *, required: bool, limit: int = MAX_FIELD_LENGTH) -> str:
    return text(value, field, required=required, limit=limit, error=CafeError)


def _whole(value: object, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise CafeError(400, "invalid", f"{field} must be a whole number from {low} to {high}",
                        field)
    return value


def create_cafe(session: Session, organiser: Organiser, fields: dict[str, object]) -> Cafe:
    """A new café (docs/api.md ``POST /cafes``): ``name``, ``tables`` or
    ``table_size`` (not both; neither means :data:`DEFAULT_TABLE_SIZE`), ``rounds``,
    ``round_minutes`` (default :data:`DEFAULT_ROUND_MINUTES`), ``questions`` (at
    most one per round),
    ``hosts`` (names, table 1 first: whoever joins under a host's name hosts
    that table), ``weights``; and for the harvest (docs/harvest.md)
    ``format`` (its questions and rounds are the defaults), ``anonymous_notes``
    and ``pledge_reminder_days``."""
    name = _text(fields.get("name"), "name", required=True)
    fmt, questions, rounds = check_format(fields)
    anonymous = fields.get("anonymous_notes", False)
    if not isinstance(anonymous, bool):
        raise CafeError(400, "invalid", "anonymous_notes must be true or false",
                        "anonymous_notes")
    reminder_days = check_reminder_days(fields.get("pledge_reminder_days"))
    tables, size = fields.get("tables"), fields.get("table_size")
    if tables is not None and size is not None:
        raise CafeError(400, "invalid", "give tables or table_size, not both", "tables")
    if tables is not None:
        tables = _whole(tables, "tables", 1, MAX_TABLES)
    else:
        size = _whole(DEFAULT_TABLE_SIZE if size is None else size, "table_size", 2,
                      MAX_TABLE_SIZE)
    rounds = _whole(rounds, "rounds", 1, MAX_ROUNDS)
    minutes = _whole(fields.get("round_minutes", DEFAULT_ROUND_MINUTES), "round_minutes", 1,
                     MAX_MINUTES)
    questions = questions or []
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise CafeError(400, "invalid", "questions must be a list of texts", "questions")
    if len(questions) > rounds:
        raise CafeError(400, "invalid", f"there are {len(questions)} questions for {rounds} "
                        "rounds: at most one per round", "questions")
    questions = [_text(q, "questions", required=False, limit=MAX_QUESTION_LENGTH)
                 for q in questions]
    host_names = fields.get("hosts") or []
    if not isinstance(host_names, list) or not all(isinstance(h, str) for h in host_names):
        raise CafeError(400, "invalid", "hosts must be a list of names, table 1 first", "hosts")
    host_names = [_text(h, "hosts", required=True, limit=MAX_NAME_LENGTH) for h in host_names]
    if tables is not None and len(host_names) > tables:
        raise CafeError(400, "invalid", f"{len(host_names)} hosts for {tables} tables", "hosts")
    if len({attribute_key(h) for h in host_names}) < len(host_names):
        raise CafeError(400, "invalid", "two hosts have the same name", "hosts")
    weights = fields.get("weights") or {}
    if not isinstance(weights, dict):
        raise CafeError(400, "invalid", "weights must be an object", "weights")
    weights = check_weights(weights, CafeError)
    cafe = Cafe(organiser=organiser, name=name, code=_new_code(session),
                screen_key=secrets.token_urlsafe(24), tables=tables, table_size=size,
                rounds=rounds, round_minutes=minutes, questions=questions,
                host_names=host_names, weights=weights,
                status="lobby", current_round=0, plan={}, format=fmt,
                anonymous_notes=anonymous, pledge_reminder_days=reminder_days)
    session.add(cafe)
    session.flush()
    make_owner(session, cafe, organiser)  # the creator is its first owner
    return cafe


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Cafe.id).where(Cafe.code == code)) is None:
            return code


def cafe_by_code(session: Session, code: str) -> Cafe | None:
    """The café with this join code (any case, spaces ignored)."""
    code = "".join(code.split()).upper()
    if not code or len(code) > 16 or not set(code) <= _CODE_LETTERS:
        return None
    return session.scalar(select(Cafe).where(Cafe.code == code))


def found_cafe(session: Session, code: str) -> Cafe:
    """The café with this join code; 404 if there is none."""
    cafe = cafe_by_code(session, code)
    if cafe is None:
        raise CafeError(404, "not_found", "no café has this code")
    return cafe


def owned_cafe(session: Session, organiser: Organiser, *, code: str | None = None,
               cafe_id: int | None = None, need: str = "organiser",
               to: str = "do this") -> Cafe:
    """The café with this join code (or id) for ``organiser`` to run: 404 if
    there is none, 403 if they hold no role on it, or with ``need="owner"`` if
    they are not one of its owners ("only an owner can ``to``";
    docs/security.md, "Co-organisers")."""
    cafe = found_cafe(session, code) if code is not None else session.get(Cafe, cafe_id)
    if cafe is None:
        raise CafeError(404, "not_found", "no such café")
    check_role(session, cafe, organiser, need, to, CafeError)
    return cafe


def present_attendee(session: Session, cafe: Cafe, public_id: str) -> Attendee | None:
    """The attendee of ``cafe`` with this participant id, if they are here."""
    return session.scalar(
        select(Attendee).join(Person, Attendee.person_id == Person.id)
        .where(Attendee.cafe_id == cafe.id, Attendee.present.is_(True),
               Person.public_id == public_id))


def cafe_by_screen_key(session: Session, key: str) -> Cafe | None:
    """The café whose big-screen link has this key."""
    if not key or len(key) > 64 or not set(key) <= _KEY_LETTERS:
        return None
    return session.scalar(select(Cafe).where(Cafe.screen_key == key))


# -- people ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    """Someone at a café and the secret token of their page."""

    attendee: Attendee
    token: str


def join_cafe(session: Session, cafe: Cafe, fields: dict[str, object]) -> Joined:
    """Join ``cafe`` (docs/api.md: ``name``, ``department``, ``email``?,
    ``organisation``?, ``host``?: true for the next free table, or a table number).

    With an email, the attendee is the same person as in coffee trials and
    other cafés (so who met whom counts across them), without changing that
    person's details. Someone who left can join again with the same email (a
    new link); while they are here, the same email is refused (409). Late
    arrivals are seated from the next round.
    """
    if cafe.status == "finished":
        raise CafeError(409, "finished", "this café has finished")
    name = _text(fields.get("name"), "name", required=True, limit=MAX_NAME_LENGTH)
    department = _text(fields.get("department"), "department", required=True)
    organisation = _text(fields.get("organisation"), "organisation", required=False)
    email = check_email(fields.get("email"), required=False, error=CafeError)
    host = fields.get("host")
    if host is not None and not isinstance(host, bool):
        host = _whole(host, "host", 1, cafe.table_count or cafe.tables or MAX_TABLES)

    person = session.scalar(select(Person).where(Person.email == email)) if email else None
    attendee = None
    if person is None:
        person = Person(public_id=secrets.token_hex(8), email=email or None, name=name,
                        department=department, organisation=organisation)
        session.add(person)
    else:
        attendee = session.scalar(select(Attendee).where(
            Attendee.cafe_id == cafe.id, Attendee.person_id == person.id))
        if attendee is not None and attendee.present:
            # Taking over someone's place (and cutting off their page) with just
            # their email is not allowed: they carry on from the page they have.
            raise CafeError(409, "already_joined", "this email has joined this café already; "
                            "carry on from that page, or ask the host", "email")
    token = secrets.token_urlsafe(32)
    if attendee is None:
        attendee = Attendee(cafe=cafe, person=person, token_hash=hash_token(token))
        session.add(attendee)
    attendee.token_hash = hash_token(token)
    attendee.name, attendee.department, attendee.organisation = name, department, organisation
    attendee.present = True
    session.flush()
    named = _named_table(cafe, name)
    if host:
        set_host(session, cafe, attendee, None if host is True else host)
    elif named is not None and attendee.host_table is None:
        set_host(session, cafe, attendee, named)
    return Joined(attendee, token)


def _named_table(cafe: Cafe, name: str) -> int | None:
    """The table of the named host called ``name``, if it has no host yet."""
    key = attribute_key(name)
    for table, host_name in enumerate(cafe.host_names or [], 1):
        if attribute_key(host_name) == key:
            taken = any(a.host_table == table for a in cafe.attendees if a.present)
            return None if taken else table
    return None


def _present(cafe: Cafe) -> list[Attendee]:
    return [a for a in cafe.attendees if a.present]


def set_host(session: Session, cafe: Cafe, attendee: Attendee, table: int | None,
             *, host: bool = True) -> None:
    """Make ``attendee`` the host of ``table`` (``None``: the lowest free table),
    or (``host=False``) a guest again. A host stays at their table every round."""
    if not isinstance(host, bool):
        raise CafeError(400, "invalid", "host must be true or false", "host")
    if table is not None and (not isinstance(table, int) or isinstance(table, bool)):
        raise CafeError(400, "invalid", "table must be a table number", "table")
    if not host:
        attendee.host_table = None
        cafe.plan = {}
        session.flush()
        return
    limit = cafe.table_count or cafe.tables
    taken = {a.host_table: a for a in _present(cafe) if a.host_table and a is not attendee}
    if table is None:
        table = 1
        while table in taken:
            table += 1
        if limit is not None and table > limit:
            raise CafeError(409, "no_free_table", "every table has a host already", "host")
    if limit is not None and not 1 <= table <= limit:
        raise CafeError(400, "invalid", f"tables are numbered 1 to {limit}", "host")
    if table in taken:
        raise CafeError(409, "table_taken", f"table {table} has a host already", "host")
    attendee.host_table = table
    cafe.plan = {}
    session.flush()


def leave_cafe(session: Session, attendee: Attendee) -> None:
    """Leave the café: not seated in the rounds to come (a host's table goes on
    without them)."""
    attendee.present = False
    attendee.host_table = None
    session.flush()


def attendee_for_token(session: Session, token: str) -> Attendee | None:
    """The attendee whose page token this is, if any."""
    if not token:
        return None
    return session.scalar(
        select(Attendee).where(Attendee.token_hash == hash_token(token))
        .options(selectinload(Attendee.cafe), selectinload(Attendee.person)))


# -- rounds ------------------------------------------------------------------------------


def _solver_person(attendee: Attendee) -> Participant:
    # Everyone is in the room: no meeting mode or site limits who can share a table.
    return Participant(attendee.person.public_id, attribute_key(attendee.department),
                        attribute_key(attendee.organisation))


def _played_tables(cafe: Cafe) -> list[tuple[tuple[str, ...], ...]]:
    played = []
    for stored in cafe.played:
        tables = [()] * max((g.number for g in stored.groups), default=0)
        for group in stored.groups:
            tables[group.number - 1] = tuple(m.person.public_id for m in group.members)
        played.append(tuple(tables))
    return played


def _table_count(cafe: Cafe, present: int, hosts: int) -> int:
    if cafe.tables is not None:
        return cafe.tables
    # Tables of at most table_size, but nobody alone at a table.
    wanted = min(math.ceil(present / (cafe.table_size or DEFAULT_TABLE_SIZE)), present // 2)
    return max(1, wanted, hosts)


def next_round(session: Session, cafe: Cafe, *, seed: int | None = None,
               time_limit: float = 5.0, steps: int | None = NEXT_ROUND_STEPS,
               after: object = None) -> Round:
    """Start the café (round 1) or go to the next round: re-plan the rounds to
    come for whoever is present if anyone arrived or left, seat the next one,
    and start its clock. After the last round: 409.

    ``after``, if given, is the round the caller saw the café at (0 before the
    start): if the café has moved on since (a second click, another console),
    409 ``moved_on`` and nothing changes. Two requests at the same moment are
    told apart by the database (one round per number: the second gets an
    IntegrityError); one after the other only by ``after``.

    Re-planning is bounded by ``time_limit`` seconds and, if given, by
    ``steps`` of the search (:func:`solvers.rotation.plan_cafe`): with steps,
    the same café and seed give the same plan however busy the machine."""
    if cafe.status == "finished":
        raise CafeError(409, "finished", "this café has finished")
    if after is not None and _whole(after, "after", 0, MAX_ROUNDS) != cafe.current_round:
        raise CafeError(409, "moved_on", f"the café is at round {cafe.current_round} now, "
                        f"not {after}: someone went to the next round already", "after")
    if cafe.current_round >= cafe.rounds:
        raise CafeError(409, "no_more_rounds", f"all {cafe.rounds} rounds have been played; "
                        "end the café")
    present = _present(cafe)
    hosts = {a.person.public_id: a.host_table for a in present if a.host_table}
    if cafe.table_count is None:
        tables = _table_count(cafe, len(present), len(hosts))
    else:
        tables = cafe.table_count
    if len(present) < max(2, tables):
        raise CafeError(409, "too_few", f"{len(present)} people are here; {tables} tables need "
                        f"at least {max(2, tables)}")
    if any(t > tables for t in hosts.values()):
        raise CafeError(409, "host_table", f"a host has a table above {tables}, the number of "
                        "tables")
    ids = sorted(a.person.public_id for a in present)
    stored_plan = cafe.plan or {}
    if (stored_plan.get("people") == ids and stored_plan.get("hosts") == hosts
            and stored_plan.get("rounds")):
        upcoming = [tuple(tuple(t) for t in r) for r in stored_plan["rounds"]]
        quality = stored_plan.get("metrics", {})
    else:
        played = _played_tables(cafe)
        # A big café starts at once: its first round is planned alone (under a
        # second at 1,000 people, where the whole café takes seconds while
        # everyone waits for a table); the rounds after it are planned while
        # it is played (:func:`refinement`), or at the next "next round".
        quick = not played and len(present) >= QUICK_START
        problem = _problem(session, cafe, present, tables, hosts, 1 if quick else cafe.rounds)
        try:
            plan = plan_cafe(problem, seed=seed, time_limit=time_limit, steps=steps)
        except Infeasible as exc:
            raise CafeError(409, "infeasible", f"cannot seat everyone: {exc}") from None
        upcoming = [r.tables for r in plan.rounds[len(played):]]
        quality = _quality(plan, len(played))
    seating, rest = upcoming[0], upcoming[1:]
    number = cafe.current_round + 1
    by_public = {a.person.public_id: a.person for a in present}
    round_quality = (quality.get("rounds") or [{}])[0]
    stored = store_round(session, Round(cafe=cafe, number=number, metrics=dict(round_quality)),
                         [[by_public[p] for p in members] for members in seating])
    cafe.table_count = tables
    cafe.current_round = number
    cafe.status = "running"
    cafe.ends_at = datetime.now(UTC) + timedelta(minutes=cafe.round_minutes)
    rest_quality = dict(quality)
    rest_quality["rounds"] = list(quality.get("rounds") or [])[1:]
    if not rest:
        rest_quality = {}  # nothing planned beyond this round (the last, or a quick start)
    cafe.plan = {"people": ids, "hosts": hosts, "rounds": [[list(t) for t in r] for r in rest],
                 "metrics": rest_quality}
    session.flush()
    return stored


def _problem(session: Session, cafe: Cafe, present: list[Attendee], tables: int,
             hosts: dict[str, int], rounds: int) -> CafeProblem:
    return CafeProblem(
        people=tuple(_solver_person(a) for a in present), tables=tables, rounds=rounds,
        hosts=hosts, history=History.from_rounds(past_rounds(session, exclude_cafe=cafe)),
        weights=Weights(**cafe.weights) if cafe.weights else Weights(),
        fixed=tuple(_played_tables(cafe)))


def _quality(plan, played: int) -> dict[str, object]:
    quality = plan.as_dict()
    quality["rounds"] = [{"repeats": r.repeats, "departments_min": r.departments_min,
                          "departments_mean": round(r.departments_mean, 3)}
                         for r in plan.rounds[played:]]
    return quality


@dataclass(frozen=True)
class Refinement:
    """The rounds still to plan of a café that started with its first round
    alone: the solver's problem, and what the plan is for (to be stored only
    if the café is still there when it is done)."""

    cafe_id: int
    round: int
    people: list[str]
    hosts: dict[str, int]
    problem: CafeProblem


def _refine_key(cafe: Cafe) -> tuple[int, list[str], dict[str, int]] | None:
    """(round, who is present, hosts) of a running café with rounds to come and
    none planned, whose people can still be seated as they are; else None."""
    if (cafe.status != "running" or cafe.current_round >= cafe.rounds
            or (cafe.plan or {}).get("rounds")):
        return None
    present = _present(cafe)
    hosts = {a.person.public_id: a.host_table for a in present if a.host_table}
    if len(present) < max(2, cafe.table_count or 0) or any(
            t > (cafe.table_count or 0) for t in hosts.values()):
        return None
    return cafe.current_round, sorted(a.person.public_id for a in present), hosts


def refinement(session: Session, cafe: Cafe) -> Refinement | None:
    """What is left to plan while the current round is played, if anything: a
    running café with rounds to come and none planned (a quick start)."""
    key = _refine_key(cafe)
    if key is None:
        return None
    number, people, hosts = key
    return Refinement(cafe.id, number, people, hosts,
                      _problem(session, cafe, _present(cafe), cafe.table_count, hosts,
                               cafe.rounds))


def plan_refinement(wanted: Refinement, *, seed: int | None, time_limit: float,
                    steps: int | None):
    """Plan the rounds ``wanted`` asks for (no database: safe off the event loop)."""
    return plan_cafe(wanted.problem, seed=seed, time_limit=time_limit, steps=steps)


def store_refined(session: Session, cafe: Cafe, wanted: Refinement, plan) -> bool:
    """Keep the rounds ``plan`` made for ``wanted`` as the café's rounds to come,
    unless the café moved on, or people arrived, left or changed hosts, since
    (then the next round plans them itself). Whether it was kept."""
    if _refine_key(cafe) != (wanted.round, wanted.people, wanted.hosts):
        return False
    played = len(wanted.problem.fixed)
    quality = _quality(plan, played)
    cafe.plan = {"people": wanted.people, "hosts": wanted.hosts,
                 "rounds": [[list(t) for t in r.tables] for r in plan.rounds[played:]],
                 "metrics": quality}
    session.flush()
    return True


def add_time(session: Session, cafe: Cafe, minutes: object) -> None:
    """Give the current round more (or, with a negative number, less) time."""
    if cafe.status != "running" or cafe.ends_at is None:
        raise CafeError(409, "not_running", "time can only be added while a round runs")
    minutes = _whole(minutes, "minutes", -MAX_MINUTES, MAX_MINUTES)
    cafe.ends_at = utc(cafe.ends_at) + timedelta(minutes=minutes)
    session.flush()


def end_cafe(session: Session, cafe: Cafe) -> None:
    """End the café (also before its last round)."""
    if cafe.status == "finished":
        raise CafeError(409, "finished", "this café has finished already")
    cafe.status = "finished"
    cafe.ends_at = None
    cafe.plan = {}
    session.flush()


# -- what people see ---------------------------------------------------------------------


def question(cafe: Cafe, number: int) -> str:
    """The question of round ``number`` ("" if none)."""
    return cafe.questions[number - 1] if 0 < number <= len(cafe.questions) else ""


def cafe_state(cafe: Cafe) -> dict[str, object]:
    """docs/events.md ``cafe_state`` (the head count is counted in the database of the
    café's session: a thousand phones connecting must not each load everyone)."""
    present = object_session(cafe).scalar(
        select(func.count()).select_from(Attendee)
        .where(Attendee.cafe_id == cafe.id, Attendee.present.is_(True)))
    # "cafe" is what clients written before join_code read: kept, the same value.
    return {"join_code": cafe.code, "cafe": cafe.code, "round": cafe.current_round,
            "rounds": cafe.rounds,
            "status": cafe.status, "ends_at": iso(cafe.ends_at), "present": present}


def _current(cafe: Cafe) -> Round | None:
    if cafe.status != "running" or not cafe.played:
        return None
    return cafe.played[-1]


def kept_notes(cafe: Cafe):
    """A query of the café's notes in the record: neither hidden nor merged."""
    return select(Note).where(Note.cafe_id == cafe.id, Note.hidden.is_(False),
                              Note.merged_into_id.is_(None))


def author_of(note: Note) -> dict[str, str]:
    """``{"author": name}``, or nothing for a note that keeps no author."""
    return {"author": note.author.name} if note.author is not None else {}


def notes_by_table(session: Session, cafe: Cafe) -> dict[int, list[Note]]:
    """The café's visible notes by table, oldest first (one query: every
    phone's seat is made from it)."""
    by_table: dict[int, list[Note]] = defaultdict(list)
    for note in session.scalars(kept_notes(cafe).order_by(Note.round_number, Note.id)):
        by_table[note.table_number].append(note)
    return by_table


def earlier_notes(notes: list[Note], number: int) -> list[dict[str, object]]:
    """``seat.earlier_notes``: the notes made at this table in rounds before
    ``number``. Without authors: they are not this group's tablemates."""
    return [{"note_id": n.id, "round": n.round_number, "text": n.text}
            for n in notes if n.round_number < number]


def table_notes(notes: list[Note], number: int) -> list[dict[str, object]]:
    """``seat.notes``: this round's notes at this table so far (with their
    authors' names, who are at the table, unless the café is anonymous)."""
    return [{"note_id": n.id, "text": n.text} | author_of(n)
            for n in notes if n.round_number == number]


def _seat(cafe: Cafe, number: int, group: Group, person_id: int,
          names: dict[int, Attendee], notes: list[Note]) -> dict[str, object]:
    me = names.get(person_id)
    return {
        "join_code": cafe.code, "cafe": cafe.code, "round": number, "table": group.number,
        "table_role": "host" if me is not None and me.host_table == group.number else "guest",
        "companions": [{"name": names[m.person_id].name,
                        "department": names[m.person_id].department}
                       for m in group.members
                       if m.person_id != person_id and m.person_id in names],
        "question": question(cafe, number), "ends_at": iso(cafe.ends_at),
        "earlier_notes": earlier_notes(notes, number), "notes": table_notes(notes, number),
    }


def round_seats(cafe: Cafe, stored: Round | None = None) -> dict[str, dict[str, object]]:
    """docs/events.md ``seat`` for everyone seated in ``stored`` (default: the current
    round), by public id: their table, role, tablemates (name and department
    only), the question and the end of the round."""
    stored = stored or _current(cafe)
    if stored is None:
        return {}
    names = {a.person_id: a for a in cafe.attendees}
    notes = notes_by_table(object_session(cafe), cafe)
    return {member.person.public_id: _seat(cafe, stored.number, group, member.person_id, names,
                                           notes.get(group.number, []))
            for group in stored.groups for member in group.members}


def current_seat(attendee: Attendee) -> dict[str, object] | None:
    """This attendee's ``seat`` in the current round, if they have one (looked
    up for them alone: every phone asks for it when it connects)."""
    cafe = attendee.cafe
    if cafe.status != "running":
        return None
    session = object_session(attendee)
    place = session.scalar(
        select(GroupMember).join(Round, GroupMember.round_id == Round.id)
        .where(Round.cafe_id == cafe.id, Round.number == cafe.current_round,
               GroupMember.person_id == attendee.person_id))
    if place is None or place.group is None:
        return None
    group = place.group
    names = {a.person_id: a for a in session.scalars(select(Attendee).where(
        Attendee.cafe_id == cafe.id,
        Attendee.person_id.in_([m.person_id for m in group.members])))}
    notes = session.scalars(kept_notes(cafe).where(Note.table_number == group.number)
                            .order_by(Note.round_number, Note.id)).all()
    return _seat(cafe, cafe.current_round, group, attendee.person_id, names, list(notes))


#: How many notes the big screen shows at the end.
TOP_NOTES = 10


def screen_notes(session: Session, cafe: Cafe) -> dict[str, object]:
    """What the big screen's harvest wall shows: during a round, the current
    question's notes from every table (newest first); after the last round,
    the most voted notes of the café."""
    if cafe.status == "running":
        notes = session.scalars(kept_notes(cafe).where(Note.round_number == cafe.current_round)
                                .order_by(Note.id.desc())).all()
        return {"notes": [{"note_id": n.id, "table": n.table_number, "text": n.text}
                          for n in notes], "top_notes": []}
    if cafe.status == "finished":
        top = _voted(session, cafe)[:TOP_NOTES]
        return {"notes": [], "top_notes": [
            {"note_id": n.id, "round": n.round_number, "table": n.table_number,
             "text": n.text, "votes": votes} for n, votes in top]}
    return {"notes": [], "top_notes": []}


def vote_counts(session: Session, cafe: Cafe) -> dict[int, int]:
    """Each voted note's number of votes, by note id."""
    return dict(session.execute(
        select(NoteVote.note_id, func.count()).join(Note, Note.id == NoteVote.note_id)
        .where(Note.cafe_id == cafe.id).group_by(NoteVote.note_id)).all())


def _voted(session: Session, cafe: Cafe) -> list[tuple[Note, int]]:
    """Visible notes with their votes, most voted first (then oldest first)."""
    counts = vote_counts(session, cafe)
    notes = session.scalars(kept_notes(cafe).order_by(Note.id)).all()
    ranked = [(n, counts.get(n.id, 0)) for n in notes]
    ranked.sort(key=lambda pair: -pair[1])
    return ranked


def screen_view(cafe: Cafe) -> dict[str, object]:
    """What the big screen shows: the state, and during a round every table with
    its people (name, department, host) and the question; and its harvest
    wall (:func:`screen_notes`)."""
    view = cafe_state(cafe) | {"name": cafe.name, "question": question(cafe, cafe.current_round),
                               "tables": []} | screen_notes(object_session(cafe), cafe)
    stored = _current(cafe)
    if stored is not None:
        names = {a.person_id: a for a in cafe.attendees}
        by_group: dict[int, list[int]] = defaultdict(list)
        for member in stored.members:  # the whole round in one load, not a table at a time
            by_group[member.group_id].append(member.person_id)
        for group in stored.groups:
            members = [names[p] for p in by_group[group.id] if p in names]
            members.sort(key=lambda a: (a.host_table != group.number, a.name.casefold()))
            view["tables"].append({"table": group.number, "members": [
                {"name": a.name, "department": a.department,
                 "host": a.host_table == group.number} for a in members]})
    return view


def plan_view(cafe: Cafe) -> dict[str, object]:
    """The whole plan as the console and the printable plans show it: every
    round, played and to come, as tables of attendees; and its quality."""
    names = {a.person.public_id: a for a in cafe.attendees}
    rounds = []
    for number, tables in enumerate(
            _played_tables(cafe) + [tuple(tuple(t) for t in r)
                                    for r in (cafe.plan or {}).get("rounds", [])], 1):
        rounds.append({
            "round": number, "played": number <= cafe.current_round,
            "question": question(cafe, number),
            "tables": [{"table": t, "members": [names[p] for p in members if p in names]}
                       for t, members in enumerate(tables, 1)],
        })
    return {"rounds": rounds, "metrics": (cafe.plan or {}).get("metrics", {}),
            "played_metrics": [r.metrics for r in cafe.played], "stale": plan_is_stale(cafe)}


def plan_by_person(plan: dict[str, object]) -> list[dict[str, object]]:
    """:func:`plan_view`'s plan per person, by name: each attendee with the
    table they sit at in each round (``{"attendee", "tables": {round: table}}``),
    for the printable plan of people without phones."""
    people: dict[str, dict[str, object]] = {}
    for one in plan["rounds"]:
        for table in one["tables"]:
            for attendee in table["members"]:
                entry = people.setdefault(attendee.person.public_id,
                                          {"attendee": attendee, "tables": {}})
                entry["tables"][one["round"]] = table["table"]
    return sorted(people.values(), key=lambda entry: entry["attendee"].name.casefold())


def plan_is_stale(cafe: Cafe) -> bool:
    """Whether people arrived, left or changed hosts since the rounds to come
    were planned (the next round re-plans them)."""
    plan = cafe.plan or {}
    if not plan.get("rounds"):
        return False
    present = [a for a in cafe.attendees if a.present]
    hosts = {a.person.public_id: a.host_table for a in present if a.host_table}
    return (plan.get("people") != sorted(a.person.public_id for a in present)
            or plan.get("hosts") != hosts)
