"""Coffee trials: create, sign up, pause, leave, preview and publish rounds, feedback.

Services take a SQLAlchemy ``Session`` and never commit: the caller (a view,
an event handler, a command) owns the transaction, so a round is stored whole
or not at all. Errors a user can cause are :class:`TrialError` with the field
concerned and an HTTP-like status.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from matcher.accounts import hash_token
from matcher.errors import ServiceError
from matcher.feedback import forget_answers, set_met
from matcher.files import InputError, check_people, parse_table
from matcher.meetings import past_rounds, store_round, trial_problem
from matcher.models import (
    Attendee,
    GroupMember,
    Membership,
    Organiser,
    PendingSignup,
    Person,
    Round,
    Trial,
)
from matcher.schedules import Schedule, read_schedule
from matcher.team import check_role, make_owner
from matcher.times import utc_now
from matcher.validation import (
    DEFAULT_GROUP_SIZE,
    DEFAULT_ODD,
    MAX_DESCRIPTION_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_FIELD_LENGTH,
    MAX_NAME_LENGTH,
    check_email,
    text,
    unprintable,
)
from solvers.model import MODES, ODD_POLICIES, Infeasible, RoundPlan, Weights
from solvers.pairing import plan_rounds

__all__ = [
    "CONFIRM_LIFETIME",
    "DETAILS",
    "Pending",
    "confirm_signup",
    "count_pending",
    "expire_pending",
    "pending_for_token",
    "due_trials",
    "other_memberships",
    "find_participants",
    "PER_PAGE",
    "STATUSES",
    "round_record",
    "update_details",
    "trial_schedule",
    "MAX_WEIGHT",
    "ImportProblems",
    "Imported",
    "TrialError",
    "check_join_code",
    "check_weights",
    "create_trial",
    "import_participants",
    "new_link",
    "owned_trial",
    "current_match",
    "round_matches",
    "leave",
    "membership_by_email",
    "membership_by_public_id",
    "membership_for_token",
    "past_matches",
    "preview_round",
    "publish_round",
    "publish_scheduled",
    "record_met",
    "renew_link",
    "set_paused",
    "signup",
    "trial_by_join_code",
    "update_trial",
]

#: Largest group a trial may ask for.
MAX_GROUP_SIZE = 10
#: Largest mixing weight (trials and cafés): plenty to rank the attributes, and
#: small enough that the solvers' combined objective fits in 64-bit integers.
MAX_WEIGHT = 1000


class TrialError(ServiceError):
    """A trial cannot do what was asked."""


def _text(value: object, field: str, *, required: bool, limit: int = MAX_FIELD_LENGTH) -> str:
    return text(value, field, required=required, limit=limit, error=TrialError)


#: The settings of a trial an organiser chooses (create and edit); ``paused``
#: (its schedule's) on edit only.
SETTINGS = ("name", "description", "group_size", "odd", "weights", "schedule", "paused",
            "icebreakers", "confirm_email")
#: At most this many conversation starters, each of at most ICEBREAKER_LENGTH characters.
MAX_ICEBREAKERS = 50
ICEBREAKER_LENGTH = 300


def _check_setting(key: str, value: object) -> object:
    """One trial setting, checked (SETTINGS); raises :class:`TrialError` naming it."""
    if key == "name":
        return _text(value, "name", required=True)
    if key == "description":
        return _text(value, "description", required=False, limit=MAX_DESCRIPTION_LENGTH)
    if key == "group_size":
        if not isinstance(value, int) or isinstance(value, bool) or not (
            2 <= value <= MAX_GROUP_SIZE
        ):
            raise TrialError(400, "invalid", f"group_size must be a whole number from 2 to "
                             f"{MAX_GROUP_SIZE}", "group_size")
        return value
    if key == "odd":
        if value not in ODD_POLICIES:
            raise TrialError(400, "invalid", f"odd must be one of {', '.join(ODD_POLICIES)}",
                             "odd")
        return value
    if key == "schedule":
        if value is not None:
            read_schedule(value)  # raises ScheduleError naming the field
        return value
    if key == "icebreakers":
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > MAX_ICEBREAKERS:
            raise TrialError(400, "invalid", f"icebreakers must be a list of at most "
                             f"{MAX_ICEBREAKERS} texts", "icebreakers")
        return [_text(item, f"icebreakers[{k}]", required=True, limit=ICEBREAKER_LENGTH)
                for k, item in enumerate(value)]
    if key in ("paused", "confirm_email"):
        if not isinstance(value, bool):
            raise TrialError(400, "invalid", f"{key} must be true or false", key)
        return value
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TrialError(400, "invalid", "weights must be an object", "weights")
    return check_weights(value, TrialError)


def _apply(trial: Trial, key: str, value: object, now: datetime) -> None:
    """Set one checked setting; a schedule (or its pausing) moves the next slot:
    the first slot after ``now`` (slots passed while paused are not made up)."""
    if key == "schedule":
        trial.schedule = dict(value) if isinstance(value, dict) else None
    elif key == "paused":
        trial.schedule_paused = bool(value)
    else:
        setattr(trial, key, value)
    if key in ("schedule", "paused"):
        schedule = trial_schedule(trial)
        trial.next_round_at = (None if schedule is None or trial.schedule_paused
                               else schedule.next_after(now))


def trial_schedule(trial: Trial) -> Schedule | None:
    """The trial's schedule, read (``None``: rounds are published by hand only)."""
    return read_schedule(trial.schedule) if trial.schedule else None


def check_weights(value: dict, error: type[ServiceError]) -> dict[str, int]:
    """Mixing weights from a request, each a whole number from 0 to
    :data:`MAX_WEIGHT`; an ``error`` (400) names the field ``weights``."""
    try:
        weights = asdict(Weights(**value))
    except (TypeError, ValueError) as exc:
        raise error(400, "invalid", f"weights: {exc}", "weights") from None
    for name, weight in weights.items():
        if weight > MAX_WEIGHT:
            raise error(400, "invalid", f"weights: weight {name} must be at most {MAX_WEIGHT}",
                        "weights")
    return weights


def create_trial(
    session: Session,
    organiser: Organiser,
    name: object,
    *,
    description: object = "",
    group_size: object = DEFAULT_GROUP_SIZE,
    odd: object = DEFAULT_ODD,
    weights: object = None,
    schedule: object = None,
    icebreakers: object = None,
    confirm_email: object = True,
    now: datetime | None = None,
) -> Trial:
    """A new trial of ``organiser``'s, with a fresh join code; a setting not
    given takes its default (sign-ups confirmed by email: on)."""
    given = {"name": name, "description": description, "group_size": group_size,
             "odd": odd, "weights": weights, "icebreakers": icebreakers,
             "confirm_email": confirm_email}
    trial = Trial(organiser=organiser, join_code=secrets.token_urlsafe(9),
                  **{key: _check_setting(key, value) for key, value in given.items()})
    _apply(trial, "schedule", _check_setting("schedule", schedule), now or utc_now())
    session.add(trial)
    session.flush()
    make_owner(session, trial, organiser, now=now)  # the creator is its first owner
    return trial


def update_trial(session: Session, trial: Trial, changes: dict[str, object], *,
                 now: datetime | None = None) -> Trial:
    """Change some of a trial's settings (the next rounds follow them); every
    change is checked before any is made."""
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise TrialError(400, "invalid", f"{unknown[0]} is not a trial setting", unknown[0])
    checked = {key: _check_setting(key, value) for key, value in changes.items()}
    for key, value in checked.items():
        _apply(trial, key, value, now or utc_now())
    session.flush()
    return trial


def check_join_code(trial: Trial, join_code: object) -> None:
    """Refuse (403) a join code that is not ``trial``'s (compared in constant time;
    codes are ASCII, so anything else is simply wrong)."""
    if not isinstance(join_code, str) or not join_code.isascii() or not hmac.compare_digest(
        join_code.encode(), trial.join_code.encode()
    ):
        raise TrialError(403, "bad_join_code", "the join code is not this trial's", "join_code")


@dataclass(frozen=True)
class Signup:
    """A new member of a trial and the secret token of their personal page."""

    membership: Membership
    token: str


#: How long a sign-up waits for its email to be confirmed before it is forgotten.
CONFIRM_LIFETIME = timedelta(days=3)


@dataclass(frozen=True)
class Pending:
    """A sign-up that waits for its email (trials with ``confirm_email``), and
    what to mail: the confirmation link's ``token`` for ``pending``; or, when
    the email is already a member, nothing new is made and ``member`` is told
    (their own link, not the one who typed the address). Whoever signed up
    hears the same either way (docs/api.md)."""

    email: str
    pending: PendingSignup | None
    token: str | None
    member: Membership | None


def signup(session: Session, trial: Trial, join_code: object, fields: dict[str, object], *,
           now: datetime | None = None) -> Signup | Pending:
    """Join ``trial`` with its join code (docs/api.md sign-up fields).

    With the trial's ``confirm_email`` the answer is :class:`Pending`: nobody
    joins until the mailed link is followed (:func:`confirm_signup`), and the
    same email signing up again, pending or a member already, changes nothing
    anyone else can see. Without it the person joins at once (:class:`Signup`);
    signing up twice is then refused (409) without saying anything about the
    person already there. The same email in several trials is one person.
    """
    check_join_code(trial, join_code)
    # The first problem in the form's order is the one named: name, email, the rest.
    _text(fields.get("name"), "name", required=True, limit=MAX_NAME_LENGTH)
    email = check_email(fields.get("email"), required=True, error=TrialError)
    details = _details(fields)
    if trial.confirm_email:
        return _wait_for_email(session, trial, email, details, now or utc_now())
    if membership_by_email(session, trial, email) is not None:
        raise TrialError(409, "already_signed_up",
                         "this email is already signed up for this trial; use the link "
                         "emailed to you, or ask for a new one", "email")
    return _join(session, trial, email, details)


def _join(session: Session, trial: Trial, email: str, details: dict[str, str]) -> Signup:
    """``email`` joins ``trial`` now, as one person across trials (their details
    updated to these)."""
    person = session.scalar(select(Person).where(Person.email == email))
    if person is None:
        person = Person(public_id=secrets.token_hex(8), email=email)
        session.add(person)
    for key, value in details.items():
        setattr(person, key, value)
    token = secrets.token_urlsafe(32)
    membership = Membership(trial=trial, person=person, token_hash=hash_token(token))
    session.add(membership)
    session.flush()
    return Signup(membership, token)


def _wait_for_email(session: Session, trial: Trial, email: str, details: dict[str, str],
                    now: datetime) -> Pending:
    expire_pending(session, now, trial=trial)
    member = membership_by_email(session, trial, email)
    if member is not None:
        return Pending(email, None, None, member)
    pending = session.scalar(select(PendingSignup).where(
        PendingSignup.trial_id == trial.id, PendingSignup.email == email))
    if pending is None:
        pending = PendingSignup(trial=trial, email=email)
        session.add(pending)
    # Signing up again while pending starts afresh: the details as now given, a
    # new link (the earlier one stops working), a new lifetime.
    token = secrets.token_urlsafe(32)
    pending.details = details
    pending.token_hash = hash_token(token)
    pending.created_at = now
    session.flush()
    return Pending(email, pending, token, None)


def _made_since(now: datetime | None):
    """Pending sign-ups whose confirmation link still works at ``now``."""
    return PendingSignup.created_at >= (now or utc_now()) - CONFIRM_LIFETIME


def expire_pending(session: Session, now: datetime, *, trial: Trial | None = None) -> int:
    """Forget the sign-ups (of one trial, or all) whose confirmation link has
    expired; how many."""
    query = delete(PendingSignup).where(~_made_since(now))
    if trial is not None:
        query = query.where(PendingSignup.trial_id == trial.id)
    return session.execute(query.execution_options(synchronize_session=False)).rowcount


def count_pending(session: Session, trial: Trial, *, now: datetime | None = None) -> int:
    """How many sign-ups to ``trial`` wait for their email (and have not expired)."""
    return session.scalar(select(func.count()).select_from(PendingSignup).where(
        PendingSignup.trial_id == trial.id, _made_since(now))) or 0


def pending_for_token(session: Session, token: str, *,
                      now: datetime | None = None) -> PendingSignup | None:
    """The sign-up this confirmation link is for, if it is still waiting (not
    confirmed, not replaced by a later sign-up, not expired)."""
    if not token:
        return None
    return session.scalar(select(PendingSignup).where(
        PendingSignup.token_hash == hash_token(token), _made_since(now)))


def confirm_signup(session: Session, token: str, *, now: datetime | None = None) -> Signup:
    """Follow a confirmation link: the sign-up becomes a member with a personal
    page (if the email has become a member meanwhile, e.g. by an import, their
    page gets a new link: they have just shown the address is theirs). Works
    once; 404 for a link used, replaced or expired."""
    pending = pending_for_token(session, token, now=now)
    if pending is None:
        raise TrialError(404, "not_found", "this confirmation link has expired or has "
                                           "already been used")
    trial, email, details = pending.trial, pending.email, dict(pending.details)
    session.delete(pending)
    session.flush()
    member = membership_by_email(session, trial, email)
    if member is not None:
        for key, value in details.items():
            setattr(member.person, key, value)
        return Signup(member, new_link(session, member))
    return _join(session, trial, email, details)


#: What a participant says about themselves (docs/api.md), email apart.
DETAILS = ("name", "department", "organisation", "site", "role", "mode")


def _details(fields: dict[str, object]) -> dict[str, str]:
    """A participant's details, checked: name and department required, mode one
    of :data:`MODES` (``either`` if not given)."""
    details = {
        "name": _text(fields.get("name"), "name", required=True, limit=MAX_NAME_LENGTH),
        "department": _text(fields.get("department"), "department", required=True),
    }
    for key in ("organisation", "site", "role"):
        details[key] = _text(fields.get(key), key, required=False)
    mode = fields.get("mode") or "either"
    if mode not in MODES:
        raise TrialError(400, "invalid", f"mode must be one of {', '.join(MODES)}", "mode")
    details["mode"] = str(mode)
    return details


def update_details(session: Session, membership: Membership,
                   changes: dict[str, object]) -> Person:
    """A participant changes their own details (a department move, a new site):
    the fields given replace theirs, the others stay. One person is one email,
    so the change holds in every trial and café round to come; rounds already
    made keep what they were. The email itself is not changed here: it is who
    they are (a new address signs up anew)."""
    unknown = sorted(set(changes) - set(DETAILS))
    if unknown:
        field = unknown[0]
        message = ("the email cannot be changed; sign up again with the new address"
                   if field == "email" else f"{field} is not a detail that can be changed")
        raise TrialError(400, "invalid", message, field)
    person = membership.person
    current = {key: getattr(person, key) for key in DETAILS}
    for key, value in _details(current | changes).items():
        setattr(person, key, value)
    session.flush()
    return person


def other_memberships(session: Session, membership: Membership) -> list[Membership]:
    """The same person's places in the other trials they are in, oldest trial first."""
    return list(session.scalars(
        select(Membership).where(Membership.person_id == membership.person_id,
                                 Membership.id != membership.id)
        .order_by(Membership.trial_id)))


#: Most people one import may add.
MAX_IMPORT_ROWS = 5000


class ImportProblems(TrialError):
    """A people file that cannot be imported: every problem found, per row."""

    def __init__(self, problems: list[InputError]):
        rows = len({p.row for p in problems})
        super().__init__(
            400, "invalid_file",
            f"{problems[0]}" if len(problems) == 1 else
            f"{len(problems)} problems in {rows} {'row' if rows == 1 else 'rows'}; "
            "nothing was imported", "file")
        self.problems = problems


@dataclass(frozen=True)
class Imported:
    """What an import did: the new members (with their tokens, to mail them
    their links) and the emails that were in the trial already."""

    added: list[Signup]
    already_in: list[str]


def import_participants(session: Session, trial: Trial, label: str,
                        data: str | bytes) -> Imported:
    """Add the people of a people file (docs/formats.md, CSV or JSON) to ``trial``.

    Every row is checked first and every problem is reported at once
    (:class:`ImportProblems`); then all rows are added, or none. Each person
    needs an email (it is how they get their link and how partners reach them).
    Someone already in the trial is left as they are; someone known from
    another trial keeps the details they gave; ``active`` = ``no`` joins paused.
    """
    try:
        table = parse_table(label, data, allow_json=True)
        people, problems = check_people(table)
    except InputError as exc:
        raise ImportProblems([exc]) from None
    for record in table.records:
        if not record.get("email") and record.get("id"):  # (no id either: reported)
            problems.append(table.error("an email is needed: it is how this person gets "
                                        "their link", record, "email"))
        for key in ("department", "organisation", "site", "role"):
            if len(record.get(key)) > MAX_FIELD_LENGTH:
                problems.append(table.error(
                    f"{key} is longer than {MAX_FIELD_LENGTH} characters", record, key))
        for key in ("name", "email", "department", "organisation", "site", "role"):
            if unprintable(record.get(key)):
                problems.append(table.error(f"{key} has control characters", record, key))
        if len(record.get("email").lower()) > MAX_EMAIL_LENGTH:
            problems.append(table.error(
                f"email is longer than {MAX_EMAIL_LENGTH} characters", record, "email"))
    if len(people.rows) > MAX_IMPORT_ROWS:
        problems.append(InputError(label, f"has {len(people.rows)} people; at most "
                                   f"{MAX_IMPORT_ROWS} can be imported at once"))
    if problems:
        order = {key: k for k, key in enumerate(table.columns.values())}
        problems.sort(key=lambda p: (p.row or 0, order.get(p.column, -1)))
        raise ImportProblems(problems)

    emails = [row.email.lower() for row in people.rows]
    known = {p.email: p for p in session.scalars(select(Person).where(Person.email.in_(emails)))}
    members = set(session.scalars(select(Membership.person_id).where(
        Membership.trial_id == trial.id)))
    added: list[Signup] = []
    already: list[str] = []
    for row, email in zip(people.rows, emails, strict=True):
        person = known.get(email)
        if person is not None and person.id in members:
            already.append(email)
            continue
        if person is None:
            person = Person(public_id=secrets.token_hex(8), email=email, mode=row.mode,
                            **{key: " ".join(getattr(row, key).split()) for key in (
                                "name", "department", "organisation", "site", "role")})
            session.add(person)
        token = secrets.token_urlsafe(32)
        membership = Membership(trial=trial, person=person, token_hash=hash_token(token),
                                paused=not row.active)
        session.add(membership)
        added.append(Signup(membership, token))
    session.flush()
    return Imported(added, already)


def new_link(session: Session, membership: Membership) -> str:
    """A new personal-page token for ``membership``; the old one stops working."""
    token = secrets.token_urlsafe(32)
    membership.token_hash = hash_token(token)
    session.flush()
    return token


def renew_link(session: Session, trial: Trial, join_code: object,
               email: object) -> Signup | None:
    """Someone asks for their link again with the join code and their email:
    the member with that email gets a new token (``None`` if there is none;
    callers answer the same either way, so nothing is revealed)."""
    check_join_code(trial, join_code)
    email = check_email(email, required=True, error=TrialError)
    membership = membership_by_email(session, trial, email)
    if membership is None:
        return None
    return Signup(membership, new_link(session, membership))


def owned_trial(session: Session, organiser: Organiser, trial_id: int, *,
                need: str = "organiser", to: str = "do this") -> Trial:
    """Trial ``trial_id`` for ``organiser`` to run: 404 if there is none, 403 if
    they hold no role on it, or with ``need="owner"`` if they are not one of its
    owners ("only an owner can ``to``"; docs/security.md, "Co-organisers")."""
    trial = session.get(Trial, trial_id)
    if trial is None:
        raise TrialError(404, "not_found", "no such trial")
    check_role(session, trial, organiser, need, to, TrialError)
    return trial


def trial_by_join_code(session: Session, join_code: str) -> Trial | None:
    """The trial whose join link has this code, if any."""
    return session.scalar(select(Trial).where(Trial.join_code == join_code))


def membership_by_public_id(session: Session, trial: Trial,
                            public_id: str) -> Membership | None:
    """The member of ``trial`` with this participant id, if any."""
    return session.scalar(
        select(Membership).join(Person, Membership.person_id == Person.id)
        .where(Membership.trial_id == trial.id, Person.public_id == public_id))


def membership_by_email(session: Session, trial: Trial, email: object) -> Membership | None:
    """The member of ``trial`` with this email, if any."""
    if not isinstance(email, str):
        return None
    return session.scalar(
        select(Membership).join(Person, Membership.person_id == Person.id)
        .where(Membership.trial_id == trial.id, Person.email == email.strip().lower()))


def membership_for_token(session: Session, token: str) -> Membership | None:
    """The membership whose personal-page token this is, if any."""
    if not token:
        return None
    return session.scalar(
        select(Membership)
        .where(Membership.token_hash == hash_token(token))
        .options(selectinload(Membership.person), selectinload(Membership.trial))
    )


def set_paused(session: Session, membership: Membership, paused: bool) -> None:
    """Pause (left out of new rounds) or resume."""
    membership.paused = paused


def leave(session: Session, membership: Membership) -> None:
    """Leave the trial. If it was the person's last trial and they are in no café,
    their data goes: the person and their places in past rounds (groups stay, so
    counts remain)."""
    person = membership.person
    forget_answers(session, membership)
    session.delete(membership)
    session.flush()
    session.expire(person, ["memberships"])
    remaining = session.scalar(
        select(func.count()).select_from(Membership).where(Membership.person_id == person.id)
    ) + session.scalar(
        select(func.count()).select_from(Attendee).where(Attendee.person_id == person.id)
    )
    if not remaining:
        for row in session.scalars(select(GroupMember).where(GroupMember.person_id == person.id)):
            session.delete(row)
        session.delete(person)


def preview_round(session: Session, trial: Trial, *, seed: int | None = None,
                  time_limit: float = 10.0, slot_at: datetime | None = None) -> RoundPlan:
    """The next round (of the scheduled slot ``slot_at``, if it is one) as the
    solver would make it now (nothing stored)."""
    problem, members = trial_problem(session, trial, slot_at)
    if len(members) < 2:
        raise TrialError(409, "too_few", "a round needs at least two active participants")
    try:
        return plan_rounds(problem, 1, seed=seed, time_limit=time_limit)[0]
    except Infeasible as exc:
        raise TrialError(409, "infeasible", f"cannot make a round: {exc}") from None


def publish_round(session: Session, trial: Trial, *, seed: int | None = None,
                  time_limit: float = 10.0, after: object = None,
                  slot_at: datetime | None = None) -> Round:
    """Make the next round and store it (groups, sit-outs) in the caller's transaction;
    ``slot_at``: the scheduled slot it is published for (those who skip it are
    left out).

    ``after``, if given, is the latest round the caller saw (0 before any): if
    another has been published since (a second click, another organiser), 409
    ``moved_on`` and nothing is stored. Two requests at the same moment are
    told apart by the database (one round per number: the second gets an
    IntegrityError); one after the other only by ``after``."""
    if after is not None:
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise TrialError(400, "invalid", "after must be a round number (0 for none)",
                             "after")
        latest = session.scalar(
            select(func.max(Round.number)).where(Round.trial_id == trial.id)) or 0
        if after != latest:
            raise TrialError(409, "moved_on", f"round {latest} is the latest now, not {after}: "
                             "someone published a round already", "after")
    planned = preview_round(session, trial, seed=seed, time_limit=time_limit, slot_at=slot_at)
    by_public = {
        m.person.public_id: m.person
        for m in session.scalars(
            select(Membership).where(Membership.trial_id == trial.id)
            .options(selectinload(Membership.person))
        )
    }
    number = (session.scalar(
        select(func.max(Round.number)).where(Round.trial_id == trial.id)) or 0) + 1
    return store_round(session, Round(trial=trial, number=number, slot_at=slot_at,
                                      metrics=planned.metrics.as_dict()),
                       [[by_public[p] for p in members] for members in planned.groups],
                       [by_public[p] for p in planned.sitting_out])


def due_trials(session: Session, now: datetime) -> list[int]:
    """Trials whose schedule has a slot due at ``now`` (not paused)."""
    return list(session.scalars(
        select(Trial.id).where(Trial.next_round_at <= now, Trial.schedule_paused.is_(False))
        .order_by(Trial.next_round_at)))


def publish_scheduled(session: Session, trial: Trial, now: datetime, *,
                      time_limit: float = 10.0) -> Round | None:
    """Publish the round of ``trial``'s latest slot due at ``now`` (in the caller's
    transaction), and move ``next_round_at`` to the slot after ``now``.

    Once per slot: the round records its slot (``slot_at``, unique per trial),
    so a second process publishing the same slot fails on commit
    (IntegrityError) and stores nothing, and a slot already published is not
    published again. Slots missed while no server ran are one round, published
    now; the ones after keep to the cadence. ``None`` if there was nothing to
    publish. A round that cannot be made (too few people) raises ``TrialError``
    with the next slot already moved on, for the caller to commit and report.
    """
    schedule = trial_schedule(trial)
    if schedule is None or trial.schedule_paused:
        trial.next_round_at = None
        return None
    latest = schedule.latest_due(now)
    trial.next_round_at = schedule.next_after(now)
    if latest is None:
        return None
    slot_at = schedule.slot(latest)
    done = session.scalar(select(Round.id).where(Round.trial_id == trial.id,
                                                 Round.slot_at == slot_at))
    if done is not None:
        return None
    stored = publish_round(session, trial, time_limit=time_limit, slot_at=slot_at)
    stored.published_at = now  # the clock the caller keeps (a test's, or the real one)
    session.flush()
    return stored


def _latest_place(session: Session, membership: Membership) -> GroupMember | None:
    return session.scalar(
        select(GroupMember)
        .join(Round, GroupMember.round_id == Round.id)
        .where(Round.trial_id == membership.trial_id,
               GroupMember.person_id == membership.person_id)
        .order_by(Round.number.desc())
        .limit(1)
    )


def record_met(session: Session, membership: Membership, met: bool) -> None:
    """Say whether the latest meeting happened (``False``: it does not count); the
    same fact as the round's feedback ``met`` (matcher.feedback.set_met)."""
    if not isinstance(met, bool):
        raise TrialError(400, "invalid", "met must be true or false", "met")
    place = _latest_place(session, membership)
    if place is None or place.group_id is None:
        raise TrialError(409, "no_meeting", "there is no meeting to report on yet")
    set_met(session, membership, place.round.number, met)


def _match(trial_id: int, number: int, place: GroupMember) -> dict[str, object]:
    partners = []
    if place.group is not None:
        partners = [
            {"name": m.person.name, "department": m.person.department, "email": m.person.email}
            for m in place.group.members if m.person_id != place.person_id
        ]
    return {"trial": trial_id, "round": number, "partners": partners,
            "sitting_out": place.group is None, "met": place.met}


def current_match(session: Session, membership: Membership) -> dict[str, object] | None:
    """The latest round's match of this member: their partners' name,
    department and email (docs/events.md ``match``), or ``None`` before any round."""
    place = _latest_place(session, membership)
    if place is None:
        return None
    return _match(membership.trial_id, place.round.number, place)


def round_matches(stored: Round) -> dict[Person, dict[str, object]]:
    """Each member's match in a round just stored (as :func:`current_match` gives
    it), from the round as loaded: no query per member."""
    return {place.person: _match(stored.trial_id, stored.number, place)
            for place in stored.members}


def past_matches(session: Session, membership: Membership) -> list[dict[str, object]]:
    """Earlier rounds of this member (newest first, the latest left out): the round
    and their partners' names."""
    places = session.scalars(
        select(GroupMember)
        .join(Round, GroupMember.round_id == Round.id)
        .where(Round.trial_id == membership.trial_id,
               GroupMember.person_id == membership.person_id)
        .order_by(Round.number.desc())
    ).all()
    past = []
    for place in places[1:]:
        names = ([m.person.name for m in place.group.members
                  if m.person_id != membership.person_id] if place.group else [])
        past.append({"round": place.round.number,
                     "names": ", ".join(names) if names else "sat out"})
    return past


def round_record(session: Session, trial: Trial, number: int) -> dict[str, object]:
    """One published round of ``trial`` as its organiser reviews it: every group
    with its members' names and departments and their "did you meet?" answers,
    the pairs in it who had met before the round was made (its repeats, as the
    solver counted them), and who sat out. People who have since left are
    gone from it, as from every record (docs/security.md)."""
    stored = session.scalar(select(Round).where(Round.trial_id == trial.id,
                                                Round.number == number))
    if stored is None:
        raise TrialError(404, "not_found", f"the trial has no round {number}", "number")
    met_before: set[frozenset[str]] = set()
    for past in past_rounds(session, before=stored):
        for group in past.groups:
            met_before.update(frozenset((a, b)) for k, a in enumerate(group)
                              for b in group[k + 1:])
    groups: dict[int, list[GroupMember]] = {}
    sitting = []
    for member in stored.members:
        if member.group_id is None:
            sitting.append(member.person)
        else:
            groups.setdefault(member.group_id, []).append(member)
    numbers = {group.id: group.number for group in stored.groups}
    record = []
    for group_id, members in sorted(groups.items(), key=lambda item: numbers[item[0]]):
        members.sort(key=lambda m: (m.person.name.casefold(), m.person.public_id))
        repeats = [(a.person.name, b.person.name) for k, a in enumerate(members)
                   for b in members[k + 1:]
                   if frozenset((a.person.public_id, b.person.public_id)) in met_before]
        record.append({
            "number": numbers[group_id],
            "members": [{"name": m.person.name, "department": m.person.department,
                         "met": m.met} for m in members],
            "repeats": repeats,
            "departments": len({m.person.department for m in members}),
        })
    answers = [m["met"] for g in record for m in g["members"]]
    return {
        "number": stored.number,
        "published_at": stored.published_at,
        "metrics": stored.metrics or {},
        "groups": record,
        "sitting_out": sorted(({"name": p.name, "department": p.department} for p in sitting),
                              key=lambda p: p["name"].casefold()),
        "repeats": sum(len(g["repeats"]) for g in record),
        "said_met": answers.count(True),
        "said_not_met": answers.count(False),
        "not_said": answers.count(None),
    }


#: Participants per page of a trial's list.
PER_PAGE = 50

#: A member's status in a trial, as the organiser filters by it.
STATUSES = ("active", "paused")


def find_participants(session: Session, trial: Trial, *, text: str = "",
                      department: str = "", status: str = "", page: int = 1,
                      per_page: int = PER_PAGE) -> dict[str, object]:
    """One page of ``trial``'s participants for its organiser, by name: those
    whose name or email contains ``text`` (any case), of ``department``, of
    ``status`` (:data:`STATUSES`); empty filters keep everyone. A page past
    the last gives the last."""
    text, department = (text or "").strip(), (department or "").strip()
    if status and status not in STATUSES:
        raise TrialError(400, "invalid", f"status must be one of {', '.join(STATUSES)}",
                         "status")
    query = select(Membership).join(Person).where(Membership.trial_id == trial.id)
    if text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        query = query.where(func.lower(Person.name).like(pattern, escape="\\")
                            | func.lower(Person.email).like(pattern, escape="\\"))
    if department:
        query = query.where(Person.department == department)
    if status:
        query = query.where(Membership.paused == (status == "paused"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, int(page)), pages)
    members = session.scalars(query.order_by(func.lower(Person.name), Person.id)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    departments = session.scalars(
        select(Person.department).join(Membership).where(Membership.trial_id == trial.id)
        .distinct().order_by(Person.department)).all()
    return {"members": members, "total": total, "page": page, "pages": pages,
            "departments": departments, "text": text, "department": department,
            "status": status}
