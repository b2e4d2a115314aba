"""The OpenAPI 3.1 description of the JSON API (docs/api.md), served at
``GET /api/v1/openapi.json``.

Every route of :data:`web.api.blueprint` is described here, with its request
body, its responses (the error shape ``{"error": {"code", "message", "field"?}}``
and every status the route can answer with) and who may call it: an organiser
(``Authorization: Bearer <organiser token>``), a participant (``Authorization:
Bearer <participant token>``: the token of a trial sign-up or of a café
place), or anyone. A test checks that the routes here and the app's routes are
the same, and the fuzz test checks every answer against the statuses listed.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import jsonify

from matcher.cafes import MAX_MINUTES, MAX_QUESTION_LENGTH, MAX_ROUNDS, MAX_TABLE_SIZE, MAX_TABLES
from matcher.trials import MAX_GROUP_SIZE, MAX_WEIGHT
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

__all__ = ["DESCRIPTION", "openapi_json"]

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Schema], required: tuple[str, ...] = (),
            description: str | None = None, additional: bool | Schema = True) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    if additional is not True:
        schema["additionalProperties"] = additional
    return schema


def _text(description: str | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "string", **extra}
    if description:
        schema["description"] = description
    return schema


def _int(description: str | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "integer", **extra}
    if description:
        schema["description"] = description
    return schema


def _list(items: Schema, description: str | None = None) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


_BOOL: Schema = {"type": "boolean"}
_PUBLIC_ID = _text("a participant's public id (not secret; never their token)")
_EMAIL = _text("an email address", format="email", maxLength=MAX_EMAIL_LENGTH)
_TIME = _nullable(_text("a time in UTC, ISO 8601", format="date-time"))
_METRICS = _object({}, description="the quality report of a round (repeats, score, bound, "
                   "gap, …)")

SCHEMAS: dict[str, Schema] = {
    "Error": _object({
        "error": _object({
            "code": _text("a short machine-readable code, e.g. invalid, unauthorised, "
                          "forbidden, not_found, already_signed_up, too_large, "
                          "too_many_requests"),
            "message": _text("what went wrong, for people"),
            "field": _text("the input concerned (400s about a field, some 403s and 409s)"),
            "problems": _list(_object({
                "row": _nullable(_int()), "column": _nullable(_text()), "message": _text()},
                required=("message",)),
                "invalid_file only: every problem of the people file, by row and column"),
        }, required=("code", "message")),
    }, required=("error",), additional=False,
        description="Every error (docs/api.md): 400 bad input (naming the field), 401 no or bad "
                    "token, 403 not yours, 404, 409 conflict, 413 body too large, 429 too "
                    "many requests."),
    "Weights": _object({
        key: _int(minimum=0, maximum=MAX_WEIGHT) for key in ("department", "organisation", "site",
                                                        "role")
    }, description="points a group scores for each mixing attribute on which its people "
                   "differ (whole numbers 0 to 1000)", additional=False),
    "TrialSettings": _object({
        "name": _text(minLength=1, maxLength=MAX_NAME_LENGTH),
        "description": _text(maxLength=MAX_DESCRIPTION_LENGTH),
        "group_size": _int(minimum=2, maximum=MAX_GROUP_SIZE, default=DEFAULT_GROUP_SIZE),
        "odd": _text(enum=list(ODD_POLICIES), default=DEFAULT_ODD),
        "weights": _nullable(_ref("Weights")),
    }, additional=False),
    "TrialCreated": _object({"id": _int(), "join_code": _text(),
                             "join_url": _text(format="uri")},
                            required=("id", "join_code", "join_url")),
    "Trial": _object({
        "id": _int(), "name": _text(), "description": _text(), "group_size": _int(),
        "odd": _text(), "weights": _object({}), "join_code": _text(),
        "join_url": _text(format="uri"),
        "participants": _list(_object({
            "participant_id": _PUBLIC_ID, "name": _text(), "department": _text(),
            "email": _nullable(_text()), "paused": _BOOL},
            required=("participant_id", "name", "department", "email", "paused"))),
        "rounds": _list(_object({"round": _int(), "published_at": _text(format="date-time"),
                                 "metrics": _METRICS}, required=("round", "published_at",
                                                                 "metrics"))),
    }, required=("id", "name", "description", "group_size", "odd", "weights", "join_code",
                 "join_url", "participants", "rounds")),
    "Signup": _object({
        "join_code": _text(), "name": _text(minLength=1, maxLength=MAX_NAME_LENGTH),
        "email": _EMAIL,
        "department": _text(minLength=1, maxLength=MAX_FIELD_LENGTH),
        "organisation": _text(maxLength=MAX_FIELD_LENGTH),
        "site": _text(maxLength=MAX_FIELD_LENGTH),
        "role": _text(maxLength=MAX_FIELD_LENGTH),
        "mode": _text(enum=list(MODES)),
    }, required=("join_code", "name", "email", "department")),
    "Joined": _object({
        "participant_id": _PUBLIC_ID,
        "token": _text("the participant's secret token (only ever in this answer)"),
        "me_url": _text("the participant's personal page", format="uri"),
    }, required=("participant_id", "token", "me_url")),
    "Person": _object({
        "id": _text(), "name": _text(minLength=1, maxLength=MAX_NAME_LENGTH), "email": _EMAIL,
        "department": _text(minLength=1, maxLength=MAX_FIELD_LENGTH), "organisation": _text(),
        "site": _text(), "role": _text(),
        "mode": _text(enum=list(MODES)),
        "active": _text(enum=["yes", "no"]),
    }, required=("name", "email", "department"),
        description="one row of a people file (docs/formats.md)"),
    "Imported": _object({
        "added": _list(_object({"participant_id": _PUBLIC_ID, "email": _text()},
                               required=("participant_id", "email"))),
        "already_in": _list(_text(), "emails already in the trial (left as they were)"),
        "mailed": _int("how many were mailed their personal link", minimum=0),
        "not_mailed": _list(_text(), "emails whose mail could not be sent"),
    }, required=("added", "already_in", "mailed", "not_mailed")),
    "Mailed": _object({"mailed": _BOOL}, required=("mailed",)),
    "LinkRequest": _object({"join_code": _text(), "email": _EMAIL},
                           required=("join_code", "email")),
    "Accepted": _object({"accepted": _BOOL}, required=("accepted",)),
    "RoundRequest": _object({
        "publish": {"type": "boolean", "default": False,
                    "description": "false: a preview (nothing stored); true: publish"},
        "seed": _nullable(_int("for a reproducible round", minimum=0)),
        "after": _nullable(_int("the latest round the caller saw (0 for none): if another "
                                "was published since, 409 moved_on", minimum=0)),
    }),
    "TrialRound": _object({
        "round": _nullable(_int("the round's number (null in a preview)")),
        "groups": _list(_object({"group": _int(), "members": _list(_PUBLIC_ID)},
                                required=("group", "members"))),
        "sitting_out": _list(_PUBLIC_ID),
        "metrics": _METRICS,
    }, required=("round", "groups", "sitting_out", "metrics")),
    "Match": _object({
        "trial": _int(), "round": _int(),
        "partners": _list(_object({"name": _text(), "department": _text(),
                                   "email": _nullable(_text())},
                                  required=("name", "department", "email"))),
        "sitting_out": _BOOL, "met": _nullable(_BOOL),
    }, required=("trial", "round", "partners", "sitting_out", "met")),
    "Me": _object({
        "participant_id": _PUBLIC_ID, "trial": _int(), "name": _text(),
        "email": _nullable(_text()), "department": _text(),
        "organisation": _nullable(_text()), "site": _nullable(_text()),
        "role": _nullable(_text()), "mode": _nullable(_text()), "paused": _BOOL,
        "match": _nullable(_ref("Match")),
    }, required=("participant_id", "trial", "name", "email", "department", "paused",
                 "match")),
    "Paused": _object({"paused": _BOOL}, required=("paused",)),
    "Met": _object({"met": _BOOL}, required=("met",)),
    "Left": _object({"left": _BOOL}, required=("left",)),
    "CafeSettings": _object({
        "name": _text(minLength=1, maxLength=MAX_NAME_LENGTH),
        "tables": _int("the number of tables (or give table_size)", minimum=1,
                       maximum=MAX_TABLES),
        "table_size": _int("people per table", minimum=2, maximum=MAX_TABLE_SIZE,
                           default=DEFAULT_TABLE_SIZE),
        "rounds": _int(minimum=1, maximum=MAX_ROUNDS),
        "round_minutes": _int(minimum=1, maximum=MAX_MINUTES, default=DEFAULT_ROUND_MINUTES),
        "questions": _list(_text(maxLength=MAX_QUESTION_LENGTH), "at most one per round"),
        "hosts": _list(_text(minLength=1, maxLength=MAX_NAME_LENGTH),
                       "table hosts by name, table 1 first"),
        "weights": _ref("Weights"),
    }, required=("name", "rounds")),
    "CafeCreated": _object({
        "id": _int(), "join_code": _text("the join code (as a trial's)"),
        "code": _text("the join code again, for clients written before join_code",
                      deprecated=True),
        "join_url": _text(format="uri"),
        "screen_url": _text("the big screen's secret link", format="uri"),
    }, required=("id", "join_code", "code", "join_url", "screen_url")),
    "CafeState": _object({
        "cafe": _text("the café's code"), "round": _int(minimum=0), "rounds": _int(),
        "status": _text(enum=["lobby", "running", "finished"]), "ends_at": _TIME,
        "present": _int(minimum=0),
    }, required=("cafe", "round", "rounds", "status", "ends_at", "present")),
    "Cafe": {"allOf": [_ref("CafeState"), _object({
        "id": _int(), "name": _text(), "join_url": _text(format="uri"),
        "screen_url": _text(format="uri"), "tables": _nullable(_int()),
        "table_size": _nullable(_int()), "table_count": _nullable(_int()),
        "round_minutes": _int(), "questions": _list(_text()),
        "attendees": _list(_object({
            "participant_id": _PUBLIC_ID, "name": _text(), "department": _text(),
            "organisation": _nullable(_text()), "host_table": _nullable(_int()),
            "present": _BOOL}, required=("participant_id", "name", "department",
                                         "organisation", "host_table", "present"))),
        "plan": _object({
            "metrics": _METRICS, "stale": _BOOL,
            "rounds": _list(_object({
                "round": _int(), "played": _BOOL, "question": _text(),
                "tables": _list(_ref("Table"))},
                required=("round", "played", "question", "tables"))),
        }, required=("metrics", "stale", "rounds")),
    }, required=("id", "name", "join_url", "screen_url", "tables", "table_size",
                 "table_count", "round_minutes", "questions", "attendees", "plan"))]},
    "Table": _object({"table": _int(minimum=1), "members": _list(_PUBLIC_ID)},
                     required=("table", "members")),
    "CafeJoin": _object({
        "name": _text(minLength=1, maxLength=MAX_NAME_LENGTH),
        "department": _text(minLength=1, maxLength=MAX_FIELD_LENGTH),
        "email": _EMAIL, "organisation": _text(maxLength=MAX_FIELD_LENGTH),
        "host": {"anyOf": [_BOOL, _int(minimum=1)],
                 "description": "true: host the next free table; or a table number"},
    }, required=("name", "department")),
    "HostRequest": _object({
        "table": _nullable(_int("the table (default: the lowest free one)", minimum=1)),
        "host": {"type": "boolean", "default": True,
                 "description": "false makes the person a guest again"},
    }),
    "HostResult": _object({"participant_id": _PUBLIC_ID, "host_table": _nullable(_int())},
                          required=("participant_id", "host_table")),
    "NextRoundRequest": _object({
        "seed": _nullable(_int(minimum=0)),
        "after": _nullable(_int("the round the caller saw the café at (0 before the start): "
                                "if it has moved on since, 409 moved_on", minimum=0)),
    }),
    "CafeRound": _object({
        "round": _int(minimum=1), "tables": _list(_ref("Table")), "ends_at": _TIME,
        "metrics": _METRICS,
    }, required=("round", "tables", "ends_at", "metrics")),
    "TimeRequest": _object({"minutes": _int("negative shortens the round", minimum=-MAX_MINUTES,
                                            maximum=MAX_MINUTES)}, required=("minutes",)),
    "Analytics": _object({
        "kind": _text(enum=["trial", "cafe"]),
        "name": _text("the trial's or café's name"),
        "heatmap": _object({
            "departments": _list(_object({
                "key": _text("the department as compared (case and spaces folded)"),
                "label": _text("its most used spelling"),
                "participants": _int(minimum=0)},
                required=("key", "label", "participants"), additional=False),
                "most participants first"),
            "meetings": _list(_list(_int(minimum=0)), "meetings[i][j]: pairs of people of "
                              "departments i and j who met in a round (symmetric)"),
            "total": _int(minimum=0), "cross_department": _int(minimum=0),
        }, required=("departments", "meetings", "total", "cross_department"),
            additional=False),
        "ties": _list(_object({
            "round": _int(), "meetings": _int(minimum=0),
            "cross_department": _int(minimum=0),
            "new_ties": _int("pairs from different departments meeting for the first time "
                             "in this trial or café", minimum=0),
            "ties": _int("such pairs so far", minimum=0)},
            required=("round", "meetings", "cross_department", "new_ties", "ties"),
            additional=False)),
        "coverage": _object({
            "participants": _int(minimum=0),
            "met_outside": _int("participants who have met someone outside their "
                                "department", minimum=0),
            "met_outside_share": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
            "departments": _int(minimum=0), "department_pairs": _int(minimum=0),
            "department_pairs_met": _int(minimum=0),
            "department_pairs_share": _nullable({"type": "number", "minimum": 0,
                                                 "maximum": 1}),
        }, required=("participants", "met_outside", "met_outside_share", "departments",
                     "department_pairs", "department_pairs_met", "department_pairs_share"),
            additional=False),
        "not_yet_mixed": _list(_object({
            "name": _text(), "department": _text(),
            "met": _int("different people met so far", minimum=0)},
            required=("name", "department", "met"), additional=False),
            "participants who have not yet met anyone outside their department"),
        "participation": _object({
            **{key: _int(minimum=0) for key in (
                "participants", "active", "paused", "left", "groups", "met_yes", "met_no",
                "met_unanswered")},
            "rounds": _list(_object(
                {key: _int(minimum=0) for key in (
                    "round", "groups", "in_groups", "sitting_out", "met_yes", "met_no",
                    "met_unanswered")},
                required=("round", "groups", "in_groups", "sitting_out", "met_yes",
                          "met_no", "met_unanswered"), additional=False)),
        }, required=("participants", "active", "paused", "left", "groups", "met_yes",
                     "met_no", "met_unanswered", "rounds"), additional=False),
    }, required=("kind", "name", "heatmap", "ties", "coverage", "not_yet_mixed",
                 "participation"), additional=False,
        description="Mixing analytics (names and departments only): meetings between "
                    "departments, new cross-department ties per round, coverage, who has "
                    "not yet mixed, participation"),
}

_ERRORS = {
    "400": ("BadRequest", "bad input; `field` names it"),
    "401": ("Unauthorised", "no token, or a token that is not valid here"),
    "403": ("Forbidden", "not yours (or a wrong join code)"),
    "404": ("NotFound", "no such trial, café, participant or export"),
    "409": ("Conflict", "cannot be done now (e.g. already signed up, café finished)"),
    "413": ("TooLarge", "the request body is too large"),
    "429": ("TooManyRequests", "too many requests (or failed guesses) from this address"),
}
RESPONSES = {
    name: {"description": text,
           "content": {"application/json": {"schema": _ref("Error")}}}
    for name, text in _ERRORS.values()
}

_ORGANISER = [{"organiserToken": []}]
_PARTICIPANT = [{"participantToken": []}]
_ANYONE: list[dict[str, list[str]]] = []


def _param(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description}


_TRIAL_ID = _param("trial_id", _int(minimum=0), "the trial's id")
_CODE = _param("code", _text(), "the café's join code (any case, spaces ignored)")
_PARTICIPANT_ID = _param("participant_id", _text(), "a participant's public id")
_KIND = _param("kind", _text(enum=["csv", "json", "graphml"]), "the export's format")
_CHART = _param("chart", _text(enum=["heatmap", "ties", "coverage", "participation",
                                     "not-yet-mixed"]),
                "the chart whose numbers to give")
_ANALYTICS_CSV = {"200": {"description": "the numbers behind the chart (names and departments "
                                         "safe for spreadsheets)",
                          "content": {"text/csv": {"schema": _text()}}}}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(operation_id: str, summary: str, security: list, ok: dict[str, Schema],
               errors: tuple[int, ...], *, body: Schema | None = None,
               body_required: bool = True, parameters: tuple[Schema, ...] = ()) -> Schema:
    """One operation: ``ok`` maps its success statuses to responses; ``errors``
    lists the error statuses it can answer with (429 always: failed guesses
    are limited across the whole app, 413 wherever a body is read)."""
    responses = dict(ok)
    for status in sorted({*errors, 429}):
        responses[str(status)] = {"$ref": f"#/components/responses/{_ERRORS[str(status)][0]}"}
    operation: Schema = {"operationId": operation_id, "summary": summary,
                         "security": security, "responses": responses}
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": body}
    return operation


def _body(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


_STATE = _json(_ref("CafeState"), "the café's state (as `cafe_state`)")

PATHS: dict[str, dict[str, Schema]] = {
    "/openapi.json": {"get": _operation(
        "openapi", "This description of the API", _ANYONE,
        {"200": _json({"type": "object"}, "the OpenAPI 3.1 description")}, ())},
    "/trials": {"post": _operation(
        "createTrial", "Create a coffee trial", _ORGANISER,
        {"201": _json(_ref("TrialCreated"), "created")}, (400, 401, 413),
        body=_body({"allOf": [_ref("TrialSettings"), {"required": ["name"]}]}))},
    "/trials/{trial_id}": {
        "get": _operation(
            "getTrial", "A trial's settings, participants and rounds", _ORGANISER,
            {"200": _json(_ref("Trial"), "the trial")}, (401, 403, 404),
            parameters=(_TRIAL_ID,)),
        "patch": _operation(
            "updateTrial", "Change a trial's settings (the next rounds follow them)",
            _ORGANISER, {"200": _json(_ref("Trial"), "the trial as changed")},
            (400, 401, 403, 404, 413), body=_body(_ref("TrialSettings")),
            parameters=(_TRIAL_ID,)),
    },
    "/trials/{trial_id}/signups": {"post": _operation(
        "signUp", "Sign up to a trial with its join code", _ANYONE,
        {"201": _json(_ref("Joined"), "signed up; the link is also mailed")},
        (400, 403, 404, 409, 413), body=_body(_ref("Signup")), parameters=(_TRIAL_ID,))},
    "/trials/{trial_id}/participants": {"post": _operation(
        "importParticipants",
        "Import a people file (docs/formats.md): all rows or none; each new participant is "
        "mailed their link", _ORGANISER,
        {"201": _json(_ref("Imported"), "imported")}, (400, 401, 403, 404, 413),
        body={
            "text/csv": {"schema": _text("a people file (CSV with a header)")},
            "application/json": {"schema": _list(_ref("Person"))},
            "multipart/form-data": {"schema": _object(
                {"file": _text("the people file, CSV or JSON", contentEncoding="binary")},
                required=("file",))},
        }, parameters=(_TRIAL_ID,))},
    "/trials/{trial_id}/participants/{participant_id}/link": {"post": _operation(
        "mailNewLink", "Mail a participant a new personal link (the old one stops working)",
        _ORGANISER, {"202": _json(_ref("Mailed"), "a new link was made (and mailed?)")},
        (401, 403, 404), parameters=(_TRIAL_ID, _PARTICIPANT_ID))},
    "/trials/{trial_id}/links": {"post": _operation(
        "requestLink", "Ask for one's personal link again; the same answer whether or not "
        "the email is signed up", _ANYONE,
        {"202": _json(_ref("Accepted"), "if the email is signed up, a new link is mailed")},
        (400, 403, 404, 413), body=_body(_ref("LinkRequest")), parameters=(_TRIAL_ID,))},
    "/trials/{trial_id}/rounds": {"post": _operation(
        "makeRound", "Preview (publish false) or publish (publish true) the next round",
        _ORGANISER, {"200": _json(_ref("TrialRound"), "a preview: nothing stored"),
                     "201": _json(_ref("TrialRound"), "published; everyone's match is "
                                                      "pushed")},
        (400, 401, 403, 404, 409, 413), body=_body(_ref("RoundRequest")),
        parameters=(_TRIAL_ID,))},
    "/trials/{trial_id}/history.{kind}": {"get": _operation(
        "trialHistory", "The trial's history: CSV (docs/formats.md, valid --history), JSON or "
        "GraphML", _ORGANISER,
        {"200": {"description": "the history", "content": {
            "text/csv": {"schema": _text()}, "application/json": {"schema": _object({})},
            "application/graphml+xml": {"schema": _text()}}}},
        (401, 403, 404), parameters=(_TRIAL_ID, _KIND))},
    "/trials/{trial_id}/analytics": {"get": _operation(
        "trialAnalytics", "How well the trial mixes the organisation: meetings between "
        "departments, new ties per round, coverage, who has not yet mixed, participation",
        _ORGANISER, {"200": _json(_ref("Analytics"), "the analytics")}, (401, 403, 404),
        parameters=(_TRIAL_ID,))},
    "/trials/{trial_id}/analytics/{chart}.csv": {"get": _operation(
        "trialAnalyticsCsv", "The numbers behind one chart of the trial's analytics, as CSV",
        _ORGANISER, _ANALYTICS_CSV, (401, 403, 404), parameters=(_TRIAL_ID, _CHART))},
    "/me": {
        "get": _operation(
            "getMe", "The participant's own details and latest match", _PARTICIPANT,
            {"200": _json(_ref("Me"), "me")}, (401,)),
        "delete": _operation(
            "leaveTrial", "Leave the trial (the person's data is deleted)", _PARTICIPANT,
            {"200": _json(_ref("Left"), "left")}, (401,)),
    },
    "/me/pause": {"post": _operation(
        "pause", "Leave me out of new rounds until I resume", _PARTICIPANT,
        {"200": _json(_ref("Paused"), "paused")}, (401,))},
    "/me/resume": {"post": _operation(
        "resume", "Include me in new rounds again", _PARTICIPANT,
        {"200": _json(_ref("Paused"), "resumed")}, (401,))},
    "/me/met": {"post": _operation(
        "recordMet", "Say whether my latest meeting happened", _PARTICIPANT,
        {"200": _json(_ref("Met"), "recorded")}, (400, 401, 409, 413),
        body=_body(_ref("Met")))},
    "/cafes": {"post": _operation(
        "createCafe", "Create a knowledge café", _ORGANISER,
        {"201": _json(_ref("CafeCreated"), "created")}, (400, 401, 413),
        body=_body(_ref("CafeSettings")))},
    "/cafes/{code}": {"get": _operation(
        "getCafe", "A café's settings, state, attendees and plan", _ORGANISER,
        {"200": _json(_ref("Cafe"), "the café")}, (401, 403, 404), parameters=(_CODE,))},
    "/cafes/{code}/participants": {"post": _operation(
        "joinCafe", "Join a café with its code", _ANYONE,
        {"201": _json(_ref("Joined"), "joined")}, (400, 404, 409, 413),
        body=_body(_ref("CafeJoin")), parameters=(_CODE,))},
    "/cafes/{code}/participants/{participant_id}/host": {"post": _operation(
        "setHost", "Make someone a table's host, or a guest again", _ORGANISER,
        {"200": _json(_ref("HostResult"), "done")}, (400, 401, 403, 404, 409, 413),
        body=_body(_ref("HostRequest")), parameters=(_CODE, _PARTICIPANT_ID))},
    "/cafes/{code}/rounds/next": {"post": _operation(
        "nextRound", "Start the café or go to the next round; every phone gets its seat",
        _ORGANISER, {"200": _json(_ref("CafeRound"), "the round now running")},
        (400, 401, 403, 404, 409, 413), body=_body(_ref("NextRoundRequest")),
        body_required=False, parameters=(_CODE,))},
    "/cafes/{code}/time": {"post": _operation(
        "addTime", "Add (or, negative, take) minutes to the current round", _ORGANISER,
        {"200": _STATE}, (400, 401, 403, 404, 409, 413), body=_body(_ref("TimeRequest")),
        parameters=(_CODE,))},
    "/cafes/{code}/end": {"post": _operation(
        "endCafe", "End the café", _ORGANISER, {"200": _STATE}, (401, 403, 404, 409),
        parameters=(_CODE,))},
    "/cafes/{code}/leave": {"post": _operation(
        "leaveCafe", "Leave the café: not seated in the rounds to come", _PARTICIPANT,
        {"200": _json(_ref("Left"), "left")}, (401, 403, 404), parameters=(_CODE,))},
    "/cafes/{code}/plan.csv": {"get": _operation(
        "cafePlan", "The café's plan in matcher.rotate's CSV format (valid --fixed)",
        _ORGANISER, {"200": {"description": "the plan", "content": {
            "text/csv": {"schema": _text()}}}}, (401, 403, 404), parameters=(_CODE,))},
    "/cafes/{code}/analytics": {"get": _operation(
        "cafeAnalytics", "How well the café mixed its people across its played rounds",
        _ORGANISER, {"200": _json(_ref("Analytics"), "the analytics")}, (401, 403, 404),
        parameters=(_CODE,))},
    "/cafes/{code}/analytics/{chart}.csv": {"get": _operation(
        "cafeAnalyticsCsv", "The numbers behind one chart of the café's analytics, as CSV",
        _ORGANISER, _ANALYTICS_CSV, (401, 403, 404), parameters=(_CODE, _CHART))},
}

#: The whole description.
DESCRIPTION: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "matcher",
        "version": "1",
        "summary": "Randomised coffee trials and live knowledge cafés",
        "description": (
            "The JSON API of docs/api.md. Requests and responses are JSON unless stated. "
            "Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`. No response "
            "carries another participant's token, or their email except a partner's in "
            "one's own match."),
    },
    "servers": [{"url": "/api/v1"}],
    "security": _ANYONE,
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "securitySchemes": {
            "organiserToken": {
                "type": "http", "scheme": "bearer",
                "description": "an organiser's API token (`python -m matcher organiser "
                               "create` prints one)"},
            "participantToken": {
                "type": "http", "scheme": "bearer",
                "description": "a participant's secret token: from a trial sign-up for "
                               "`/me`, from joining a café for `/cafes/{code}/leave`"},
        },
    },
}


def openapi_json():
    """This API's OpenAPI 3.1 description (public)."""
    return jsonify(copy.deepcopy(DESCRIPTION))
