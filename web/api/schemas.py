"""The bodies of the JSON API (docs/api.md), defined once: requests and responses
as pydantic models, from which :mod:`web.api.spec` generates the OpenAPI
document and with which every request is checked before its view runs and every
JSON answer before it leaves.

Limits and defaults are the services' own constants (:mod:`matcher.validation`,
:mod:`matcher.trials`, :mod:`matcher.cafes`), so the document cannot drift from
what the services enforce; the services check the same rules again for the
HTML forms and the command line. Requests are strict (``"5"`` is not a number,
``"yes"`` not a boolean), as JSON Schema reads them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from matcher.analytics import CHARTS
from matcher.cafes import (
    FORMATS,
    MAX_MINUTES,
    MAX_QUESTION_LENGTH,
    MAX_REMINDER_DAYS,
    MAX_ROUNDS,
    MAX_TABLE_SIZE,
    MAX_TABLES,
)
from matcher.feedback import LEARNT_LIMIT
from matcher.harvest import NOTE_LIMIT, PLEDGE_LIMIT
from matcher.models import TEAM_ROLES
from matcher.schedules import MAX_SCHEDULED_ROUNDS
from matcher.trials import ICEBREAKER_LENGTH, MAX_GROUP_SIZE, MAX_ICEBREAKERS, MAX_WEIGHT
from matcher.validation import (
    DEFAULT_GROUP_SIZE,
    DEFAULT_ODD,
    DEFAULT_ROUND_MINUTES,
    DEFAULT_TABLE_SIZE,
    MAX_DESCRIPTION_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_FIELD_LENGTH,
    MAX_NAME_LENGTH,
)
from solvers.model import MODES, ODD_POLICIES

__all__ = [
    "Accepted", "Analytics", "Cafe", "CafeCreated", "CafeJoin", "CafeRound", "CafeSettings",
    "CafeState", "Error", "Evaluation", "FeedbackIn", "FeedbackOut", "HostRequest",
    "HostResult", "Imported", "Joined", "Left",
    "LinkRequest", "Mailed", "Me", "Met", "NextRoundRequest", "Paused", "People", "Person",
    "RoundRequest", "Signup", "TimeRequest", "Trial", "TrialCreated", "TrialRound",
    "TrialSettings",
]


def _optional_is_not_null(schema: dict[str, Any], _model: type) -> None:
    """A field that may be left out but not be ``null`` has no default in the
    document (``null`` would not fit its own schema)."""
    for field in schema.get("properties", {}).values():
        if "default" in field and field["default"] is None and "anyOf" not in field:
            del field["default"]


class Body(BaseModel):
    """A JSON object of the API: strict types, unknown fields ignored. A field
    written ``x: T = None`` may be left out but is never ``null`` (pydantic does
    not check defaults); ``x: T | None`` may be ``null``."""

    model_config = ConfigDict(strict=True, json_schema_extra=_optional_is_not_null)


class Closed(Body):
    """A JSON object whose unknown fields are refused (400 naming them)."""

    model_config = ConfigDict(strict=True, extra="forbid",
                              json_schema_extra=_optional_is_not_null)


# -- the pieces ---------------------------------------------------------------------------

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
Department = Annotated[str, Field(min_length=1, max_length=MAX_FIELD_LENGTH)]
Attribute = Annotated[str, Field(max_length=MAX_FIELD_LENGTH)]
Email = Annotated[str, Field(max_length=MAX_EMAIL_LENGTH, json_schema_extra={"format": "email"},
                             description="an email address")]
PublicId = Annotated[str, Field(description="a participant's public id (not secret; never "
                                            "their token)")]
Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]
Time = Annotated[str, Field(json_schema_extra={"format": "date-time"},
                            description="a time in UTC, ISO 8601 with Z")]
Count = Annotated[int, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Mode = Literal[MODES]  # type: ignore[valid-type]
Odd = Literal[ODD_POLICIES]  # type: ignore[valid-type]
Seed = Annotated[int | None, Field(ge=0, description="for a reproducible round")]
Weight = Annotated[int, Field(ge=0, le=MAX_WEIGHT)]
Metrics = Annotated[dict[str, Any], Field(description="the quality report of a round "
                                                      "(repeats, score, bound, gap, …)")]


# -- errors -------------------------------------------------------------------------------


class Problem(Body):
    """One problem of a people file."""

    row: int | None = None
    column: str | None = None
    message: str


class ErrorDetail(Body):
    code: str = Field(description="a short machine-readable code, e.g. invalid, unauthorised, "
                                  "forbidden, not_found, already_signed_up, too_large, "
                                  "too_many_requests")
    message: str = Field(description="what went wrong, for people")
    field: str | None = Field(None, description="the input concerned (400s about a field, "
                                                "some 403s and 409s)")
    problems: list[Problem] | None = Field(
        None, description="invalid_file only: every problem of the people file, by row and "
                          "column")


class Error(Closed):
    """Every error (docs/api.md): 400 bad input (naming the field), 401 no or bad
    token, 403 not yours, 404, 409 conflict, 413 body too large, 429 too many
    requests."""

    error: ErrorDetail


# -- coffee trials ------------------------------------------------------------------------


class Weights(Closed):
    """Points a group scores for each mixing attribute on which its people differ."""

    department: Weight = None
    organisation: Weight = None
    site: Weight = None
    role: Weight = None


class MeetingIn(Closed):
    """The meeting each introduction suggests (its calendar invite)."""

    after: str = Field("P1D", description="how long after the round is published, in days "
                                          "or weeks (ISO 8601, e.g. P1D)")
    time: str = Field("12:30", pattern=r"^\d{2}:\d{2}$", description="local time, HH:MM")
    minutes: Annotated[int, Field(ge=5, le=480)] = 30


class ScheduleIn(Closed):
    """When the trial's rounds publish themselves (docs/api.md, "Schedules")."""

    first_round_at: str = Field(description="the first round's date and time, local to "
                                            "time_zone (e.g. 2026-12-07T10:00)")
    time_zone: str = Field(description="an IANA time zone, e.g. Europe/London")
    every: str = Field(description="the cadence, an ISO 8601 duration of at least a day "
                                   "(P1W, P2W, P1M)")
    rounds: Annotated[int, Field(ge=1, le=MAX_SCHEDULED_ROUNDS)] | None = Field(
        None, description="how many rounds (null: no end)")
    reminder_before: str | None = Field(None, description="a reminder this long before "
                                                          "each slot (ISO 8601, e.g. P1D)")
    check_in_after: str | None = Field(None, description="\"did you meet?\" this long after "
                                                         "each round (ISO 8601, e.g. P7D)")
    meeting: MeetingIn | None = None


Icebreaker = Annotated[str, Field(min_length=1, max_length=ICEBREAKER_LENGTH)]


class TrialSettings(Closed):
    """A trial's settings; every one may be changed later (PATCH)."""

    name: Name = None
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION_LENGTH)] = None
    group_size: Annotated[int, Field(ge=2, le=MAX_GROUP_SIZE)] = None
    odd: Odd = None  # type: ignore[valid-type]
    weights: Weights = None
    schedule: ScheduleIn | None = Field(None, description="null removes the schedule")
    paused: bool = Field(None, description="true: no automatic rounds until false")
    icebreakers: Annotated[list[Icebreaker], Field(max_length=MAX_ICEBREAKERS)] | None = Field(
        None, description="conversation starters for the introductions (empty or null: "
                          "the built-in ones)")
    confirm_email: bool = Field(None, description="true: a sign-up waits until the link "
                                                  "mailed to its address is followed")


class NewTrial(TrialSettings):
    """A new trial: its name and any settings."""

    name: Name
    paused: SkipJsonSchema[bool] = Field(None, exclude=True)
    group_size: Annotated[int, Field(ge=2, le=MAX_GROUP_SIZE)] = DEFAULT_GROUP_SIZE
    odd: Odd = DEFAULT_ODD  # type: ignore[valid-type]
    confirm_email: bool = Field(True, description="true: a sign-up waits until the link "
                                                  "mailed to its address is followed")


class TrialCreated(Body):
    id: int
    join_code: str
    join_url: Url


class Participant(Body):
    participant_id: PublicId
    name: str
    department: str
    email: str | None
    paused: bool


class PublishedRound(Body):
    round: int
    published_at: Time
    metrics: Metrics


class Trial(Body):
    id: int
    name: str
    description: str
    group_size: int
    odd: str
    weights: dict[str, int]
    join_code: str
    join_url: Url
    schedule: ScheduleIn | None
    paused: bool = Field(description="whether the schedule is paused")
    next_round_at: Time | None = Field(description="the schedule's next slot (null: none)")
    icebreakers: list[str] = Field(description="the trial's own conversation starters")
    confirm_email: bool = Field(description="whether sign-ups wait for their email")
    participants: list[Participant]
    rounds: list[PublishedRound]


class Signup(Body):
    """A sign-up with the trial's join code."""

    join_code: str
    name: Name
    email: Email
    department: Department
    organisation: Attribute | None = None
    site: Attribute | None = None
    role: Attribute | None = None
    mode: Mode | None = None  # type: ignore[valid-type]


class PendingSignup(Body):
    status: Literal["pending"]
    expires_in_days: int = Field(description="the confirmation link works this long")


class Confirmation(Body):
    """The token of a confirmation link (the last part of its address)."""

    token: Annotated[str, Field(min_length=1, max_length=100)]


class Joined(Body):
    participant_id: PublicId
    token: str = Field(description="the participant's secret token (only ever in this answer)")
    me_url: Url = Field(description="the participant's personal page")


#: A cell of a people file given as JSON: text, or a number or true/false read as
#: their text (true: "yes"), or null for an empty cell (docs/formats.md).
Cell = str | int | float | bool | None


class Person(Body):
    """One row of a people file (docs/formats.md); the reader checks each cell."""

    id: Cell = None
    name: Cell
    email: Cell
    department: Cell
    organisation: Cell = None
    site: Cell = None
    role: Cell = None
    mode: Cell = None
    active: Cell = None


class People(RootModel[list[Person]]):
    """A people file as JSON: a list of rows."""


class Added(Body):
    participant_id: PublicId
    email: str


class Imported(Body):
    added: list[Added]
    already_in: list[str] = Field(description="emails already in the trial (left as they were)")
    mailed: Count = Field(description="how many are being mailed their personal link (the "
                                      "mail is sent after this answer)")
    not_mailed: list[str] = Field(
        description="always empty: mail is sent after the answer, and a message the mail "
                    "server refuses is retried, then shown on the trial's page",
        json_schema_extra={"deprecated": True})


class Mailed(Body):
    mailed: bool = Field(description="true: the new link is being mailed (after this answer)")


class LinkRequest(Body):
    join_code: str
    email: Email


class Accepted(Body):
    accepted: bool


class RoundRequest(Body):
    publish: bool = Field(False, description="false: a preview (nothing stored); true: publish")
    seed: Seed = None
    after: Annotated[int | None, Field(ge=0)] = Field(
        None, description="the latest round the caller saw (0 for none): if another was "
                          "published since, 409 moved_on")


class Group(Body):
    group: int
    members: list[PublicId]


class TrialRound(Body):
    round: int | None = Field(description="the round's number (null in a preview)")
    groups: list[Group]
    sitting_out: list[PublicId]
    metrics: Metrics


class Partner(Body):
    name: str
    department: str
    email: str | None


class Match(Body):
    trial: int
    round: int
    partners: list[Partner]
    sitting_out: bool
    met: bool | None


class Me(Body):
    participant_id: PublicId
    trial: int
    name: str
    email: str | None
    department: str
    organisation: str | None = None
    site: str | None = None
    role: str | None = None
    mode: str | None = None
    paused: bool
    next_round_at: Time | None = Field(description="when the trial's schedule publishes its "
                                                   "next round (null: none planned)")
    skipping_next: bool = Field(description="whether I skip that round (from the reminder)")
    match: Match | None


class MyDetails(Closed):
    """Any of my details, to change (the others stay): in every trial I am in.
    The email is who I am and cannot be changed here."""

    name: Name = None
    department: Department = None
    organisation: Attribute | None = None
    site: Attribute | None = None
    role: Attribute | None = None
    mode: Mode | None = None  # type: ignore[valid-type]


class Paused(Body):
    paused: bool


class Met(Body):
    met: bool


class Left(Body):
    left: bool


class FeedbackIn(Body):
    """How a round went (docs/api.md, "Feedback"); answering again replaces it."""

    round: int = Field(ge=1, description="the round answered for (the latest: earlier "
                                         "rounds close when the next is published)")
    met: bool = Field(description="whether the meeting happened (the same fact as "
                                  "POST /me/met)")
    knew_before: bool = None
    useful: int = Field(None, ge=1, le=5, description="how useful, 1 (not) to 5 (very)")
    again: bool = Field(None, description="would you do it again")
    learnt: str = Field(None, max_length=LEARNT_LIMIT,
                        description="what you learnt or will do differently (the "
                                    "organiser sees it; quoted only if share, never "
                                    "with your name)")
    share: bool = Field(None, description="whether learnt may be quoted anonymously")


class FeedbackOut(Body):
    round: int | None = Field(description="null: there is no round yet")
    met: bool | None = Field(description="null: not answered yet")
    knew_before: bool | None
    useful: int | None
    again: bool | None
    learnt: str
    share: bool


# -- knowledge cafés ----------------------------------------------------------------------


CafeFormat = Literal[tuple(FORMATS)]  # type: ignore[valid-type]


class CafeSettings(Body):
    """A new café: its name, its rounds, and its tables or their size."""

    name: Name
    tables: Annotated[int, Field(ge=1, le=MAX_TABLES)] = Field(
        None, description="the number of tables (or give table_size)")
    table_size: Annotated[int, Field(ge=2, le=MAX_TABLE_SIZE)] = Field(
        DEFAULT_TABLE_SIZE, description="people per table")
    rounds: Annotated[int, Field(ge=1, le=MAX_ROUNDS)] = Field(
        None, description="required, except for a review format: one round per question")
    round_minutes: Annotated[int, Field(ge=1, le=MAX_MINUTES)] = DEFAULT_ROUND_MINUTES
    questions: list[Annotated[str, Field(max_length=MAX_QUESTION_LENGTH)]] = Field(
        None, description="at most one per round (left out: the format's own)")
    hosts: list[Name] = Field(None, description="table hosts by name, table 1 first")
    weights: Weights = None
    format: CafeFormat = Field("cafe", description="what the harvest is for (docs/harvest.md)")
    anonymous_notes: bool = Field(False, description="true: no note keeps its author, "
                                                     "anywhere")
    pledge_reminder_days: Annotated[int, Field(ge=1, le=MAX_REMINDER_DAYS)] = Field(
        None, description="mail each pledge back this many days later (to those who gave "
                          "an email)")


class CafeCreated(Body):
    id: int
    join_code: str = Field(description="the join code (as a trial's)")
    code: str = Field(description="the join code again, for clients written before "
                                  "join_code", json_schema_extra={"deprecated": True})
    join_url: Url
    screen_url: Url = Field(description="the big screen's secret link")


class CafeState(Body):
    """A café's state (docs/events.md ``cafe_state``)."""

    join_code: str = Field(description="the café's join code")
    cafe: str = Field(description="the join code again, for clients written before join_code",
                      json_schema_extra={"deprecated": True})
    round: Count
    rounds: int
    status: Literal["lobby", "running", "finished"]
    ends_at: Time | None
    present: Count


class Attendee(Body):
    participant_id: PublicId
    name: str
    department: str
    organisation: str | None
    host_table: int | None
    present: bool


class Table(Body):
    table: Annotated[int, Field(ge=1)]
    members: list[PublicId]


class PlannedRound(Body):
    round: int
    played: bool
    question: str
    tables: list[Table]


class Plan(Body):
    metrics: Metrics
    stale: bool
    rounds: list[PlannedRound]


class Cafe(CafeState):
    """A café's settings, state, attendees and plan."""

    id: int
    name: str
    join_url: Url
    screen_url: Url
    tables: int | None
    table_size: int | None
    table_count: int | None
    round_minutes: int
    questions: list[str]
    format: CafeFormat
    anonymous_notes: bool
    pledge_reminder_days: int | None
    attendees: list[Attendee]
    plan: Plan


class CafeJoin(Body):
    """Joining a café with its code."""

    name: Name
    department: Department
    email: Email | None = None
    organisation: Attribute | None = None
    host: bool | Annotated[int, Field(ge=1)] | None = Field(
        None, description="true: host the next free table; or a table number")


class HostRequest(Body):
    table: Annotated[int, Field(ge=1)] | None = Field(
        None, description="the table (default: the lowest free one)")
    host: bool = Field(True, description="false makes the person a guest again")


class HostResult(Body):
    participant_id: PublicId
    host_table: int | None


class NextRoundRequest(Body):
    seed: Seed = None
    after: Annotated[int | None, Field(ge=0)] = Field(
        None, description="the round the caller saw the café at (0 before the start): if "
                          "it has moved on since, 409 moved_on")


class CafeRound(Body):
    round: Annotated[int, Field(ge=1)]
    tables: list[Table]
    ends_at: Time | None
    metrics: Metrics


class TimeRequest(Body):
    minutes: Annotated[int, Field(ge=-MAX_MINUTES, le=MAX_MINUTES,
                                  description="negative shortens the round")]


# -- mixing analytics ---------------------------------------------------------------------


class HeatmapDepartment(Closed):
    key: str = Field(description="the department as compared (case and spaces folded)")
    label: str = Field(description="its most used spelling")
    participants: Count


class Heatmap(Closed):
    departments: list[HeatmapDepartment] = Field(description="most participants first")
    meetings: list[list[Count]] = Field(
        description="meetings[i][j]: pairs of people of departments i and j who met in a "
                    "round (symmetric)")
    total: Count
    cross_department: Count


class Ties(Closed):
    round: int
    meetings: Count
    cross_department: Count
    new_ties: Count = Field(description="pairs from different departments meeting for the "
                                        "first time in this trial or café")
    ties: Count = Field(description="such pairs so far")


class Coverage(Closed):
    participants: Count
    met_outside: Count = Field(description="participants who have met someone outside their "
                                           "department")
    met_outside_share: Share | None
    departments: Count
    department_pairs: Count
    department_pairs_met: Count
    department_pairs_share: Share | None


class NotYetMixed(Closed):
    name: str
    department: str
    met: Count = Field(description="different people met so far")


class RoundParticipation(Closed):
    round: Count
    groups: Count
    in_groups: Count
    sitting_out: Count
    met_yes: Count
    met_no: Count
    met_unanswered: Count


class Participation(Closed):
    participants: Count
    active: Count
    paused: Count
    left: Count
    groups: Count
    met_yes: Count
    met_no: Count
    met_unanswered: Count
    rounds: list[RoundParticipation]


class Analytics(Closed):
    """Mixing analytics (names and departments only): meetings between departments,
    new cross-department ties per round, coverage, who has not yet mixed,
    participation."""

    kind: Literal["trial", "cafe"]
    name: str = Field(description="the trial's or café's name")
    heatmap: Heatmap
    ties: list[Ties]
    coverage: Coverage
    not_yet_mixed: list[NotYetMixed] = Field(
        description="participants who have not yet met anyone outside their department")
    participation: Participation


class EvaluationPeriod(Closed):
    from_: str | None = Field(alias="from", description="the first day (YYYY-MM-DD), "
                                                        "null: from the first round")
    to: str | None = Field(description="the last day, null: up to the latest round")


class EvaluationRound(Closed):
    round: Count
    published_at: Time
    groups: Count
    introduced: Count = Field(description="people placed in a group")
    responses: Count
    met_share: Share | None
    useful_mean: float | None
    new_ties: Count


class DepartmentLink(Closed):
    departments: list[str]
    ties: Count = Field(description="pairs of people of the two departments who have met")


class Network(Closed):
    people: Count
    ties: Count = Field(description="pairs of these people who have met")
    cross_department_ties: Count
    met_outside: Count
    met_outside_share: Share | None
    departments: Count
    department_pairs: Count
    department_pairs_connected: Count
    department_pairs_share: Share | None
    largest_connected: Count = Field(description="people in the largest connected group")
    largest_connected_share: Share | None
    links: list[DepartmentLink]


class NetworkBeforeAfter(Closed):
    before: Network
    after: Network


class AnswerCounts(Closed):
    met: Count
    knew_before: Count
    useful: Count
    again: Count


class Evaluation(Closed):
    """A trial's evaluation (docs/evaluation.md): shares are of the answers that
    gave that field, null when none did; no names anywhere."""

    trial: int
    name: str
    period: EvaluationPeriod
    rounds: Count
    participants: Count
    introduced: Count
    responses: Count
    response_rate: Share | None
    met_share: Share | None
    knew_before_share: Share | None
    useful_mean: float | None
    again_share: Share | None
    answers: AnswerCounts = Field(description="the number of answers behind each share")
    useful_counts: list[Count] = Field(description="answers of 1, 2, 3, 4 and 5")
    cross_department_ties: Count
    departments_connected: Count
    quotes: list[str] = Field(description="what people learnt, where they agreed to share "
                                          "it, without names")
    per_round: list[EvaluationRound]
    network: NetworkBeforeAfter
    method: list[str] = Field(description="how the figures were computed")


#: The charts whose numbers ``…/analytics/{chart}.csv`` gives.
Chart = Literal[CHARTS]  # type: ignore[valid-type]


# -- harvest -----------------------------------------------------------------------------

NoteText = Annotated[str, Field(min_length=1, max_length=NOTE_LIMIT)]


class NoteIn(Body):
    """A note of your table in the current round."""

    text: NoteText


class NoteCreated(Body):
    note_id: int
    round: int
    table: int


class PledgeIn(Body):
    """The one action you will take (replaces your earlier pledge)."""

    text: Annotated[str, Field(min_length=1, max_length=PLEDGE_LIMIT)]


class PledgeOut(Body):
    text: str
    pledged_at: Time
    mailed_back_at: Time | None = Field(description="when it will be mailed back to you "
                                                    "(null: it will not)")


class VoteResult(Body):
    note_id: int
    votes: Count
    voted: bool = Field(description="whether you vote for it now")


class VotingNote(Body):
    note_id: int
    round: int
    question: str
    table: int
    text: str
    votes: Count
    voted: bool


class VotingNotes(Body):
    votes_open: bool = Field(description="false until the café's last round is over")
    notes: list[VotingNote] = Field(description="every note kept, without authors "
                                                "(empty until votes open)")


class HideRequest(Body):
    hidden: bool


class MergeRequest(Body):
    into: int | None = Field(description="the note this duplicate is merged into (null: "
                                         "take it back into the record)")


class HarvestNote(Body):
    note_id: int
    text: str
    author: str = Field(None, description="absent when the café's notes are anonymous")
    votes: Count
    hidden: bool
    merged_into: int | None = Field(description="the note it was merged into, if any")


class HarvestTable(Body):
    table: int
    notes: list[HarvestNote] = Field(description="most voted first")


class HarvestRound(Body):
    round: int
    question: str
    tables: list[HarvestTable]


class GridColumn(Body):
    heading: str = Field(description="e.g. Keep, Revert, Stop")
    round: int
    question: str
    notes: list[HarvestNote] = Field(description="from every table, most voted first")


class HarvestPledge(Body):
    text: str
    author: str = Field(None, description="absent when the café's notes are anonymous")


class Harvest(Body):
    """The café's harvest: every played round's notes by table, the grid of the
    review formats, and the pledges."""

    cafe: str = Field(description="the join code")
    name: str
    format: CafeFormat
    format_name: str
    date: Time
    anonymous_notes: bool
    questions: list[str]
    rounds: list[HarvestRound]
    grid: list[GridColumn] = Field(description="the review formats only: a column per "
                                               "question")
    pledges: list[HarvestPledge]


# -- co-organisers (docs/security.md, "Co-organisers") --------------------------------------

__all__ += ["InvitationCreated", "InvitationRequest", "Team"]

TeamRoleName = Literal[TEAM_ROLES]  # type: ignore[valid-type]


class TeamMember(Body):
    organiser_id: int
    name: str
    email: str
    role: TeamRoleName = Field(description="owner: everything; organiser: everything but "
                                           "delete it and manage its team")
    since: Time


class PendingInvitation(Body):
    invitation_id: int
    email: str
    role: TeamRoleName
    invited_by: str | None = Field(description="the email of the owner who invited them "
                                               "(null: an account since deleted)")
    created_at: Time
    expires_at: Time
    expired: bool = Field(description="true: its link no longer works (invite them again)")


class TeamLogEntry(Body):
    at: Time
    action: Literal["created", "invited", "withdrawn", "joined", "role_changed", "removed"]
    by: str | None = Field(description="the email of who did it (null: an account since "
                                       "deleted)")
    email: str = Field(description="whom it was done to")
    role: TeamRoleName | None = Field(description="the role given, taken or invited to")
    from_role: TeamRoleName | None = Field(description="role_changed: the role before")
    text: str = Field(description="the change in words, as the Team page says it")


class Team(Body):
    """Who runs a trial or a café: its members (owners first), the invitations
    waiting for an answer (newest first) and the log of every change (newest
    first)."""

    members: list[TeamMember]
    invitations: list[PendingInvitation]
    log: list[TeamLogEntry]


class InvitationRequest(Body):
    """An invitation of a colleague, by email, to a role (owners only)."""

    email: Email
    role: TeamRoleName


class InvitationCreated(Body):
    invitation_id: int
    email: str
    role: TeamRoleName
    expires_at: Time
    mailed: bool = Field(description="true: the invitation, with its link, is being mailed "
                                     "to the address (after this answer)")
