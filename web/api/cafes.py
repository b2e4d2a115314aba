"""The JSON API of knowledge cafés (docs/api.md): create, join, hosts, rounds,
time, end, leave, the plan."""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, url_for

from matcher.cafes import (
    CafeError,
    add_time,
    attendee_for_token,
    cafe_state,
    create_cafe,
    end_cafe,
    found_cafe,
    join_cafe,
    leave_cafe,
    next_round,
    owned_cafe,
    plan_view,
    present_attendee,
    set_host,
)
from matcher.exports import cafe_plan_csv
from matcher.models import Attendee, Cafe
from matcher.times import iso
from matcher.validation import check_seed
from web.api import schemas
from web.api.base import bearer, blueprint, body, organiser_required
from web.api.spec import ORGANISER, PARTICIPANT, operation
from web.extensions import session, socketio
from web.push import plan_rest_later, push_cafe, push_seats

__all__: list[str] = []


def own_cafe(code: str) -> Cafe:
    """The calling organiser's café ``code`` (404 unknown, 403 not theirs)."""
    return owned_cafe(session(), g.organiser, code=code)


def _links(cafe: Cafe) -> dict[str, str]:
    return {
        "join_url": url_for("cafes.join_page", code=cafe.code, _external=True),
        "screen_url": url_for("cafes.screen", key=cafe.screen_key, _external=True),
    }


@blueprint.post("/cafes")
@organiser_required
@operation("createCafe", {201: schemas.CafeCreated}, json=schemas.CafeSettings,
           security=ORGANISER, tag="cafes")
def new_cafe():
    """Create a knowledge café.

    Answers its id, its join code, the link people join with and the big
    screen's secret link (and `code`, the join code under its first name)."""
    db = session()
    cafe = create_cafe(db, g.organiser, body())
    db.commit()
    # "code" is what clients written before join_code read: kept, the same value.
    return jsonify({"id": cafe.id, "join_code": cafe.code, "code": cafe.code}
                   | _links(cafe)), 201


@blueprint.get("/cafes/<code>")
@organiser_required
@operation("getCafe", {200: schemas.Cafe}, (403, 404), security=ORGANISER, tag="cafes")
def cafe_details(code: str):
    """A café's settings, state, attendees and plan."""
    cafe = own_cafe(code)
    plan = plan_view(cafe)
    return jsonify(cafe_state(cafe) | _links(cafe) | {
        "id": cafe.id, "name": cafe.name, "tables": cafe.tables,
        "table_size": cafe.table_size, "table_count": cafe.table_count,
        "round_minutes": cafe.round_minutes, "questions": cafe.questions,
        "format": cafe.format, "anonymous_notes": cafe.anonymous_notes,
        "pledge_reminder_days": cafe.pledge_reminder_days,
        "attendees": [{"participant_id": a.person.public_id, "name": a.name,
                       "department": a.department, "organisation": a.organisation,
                       "host_table": a.host_table, "present": a.present}
                      for a in cafe.attendees],
        "plan": {"metrics": plan["metrics"], "stale": plan["stale"], "rounds": [
            {"round": r["round"], "played": r["played"], "question": r["question"],
             "tables": [{"table": t["table"],
                         "members": [a.person.public_id for a in t["members"]]}
                        for t in r["tables"]]} for r in plan["rounds"]]},
    })


@blueprint.post("/cafes/<code>/participants")
@operation("joinCafe", {201: schemas.Joined}, (404, 409), json=schemas.CafeJoin, tag="cafes")
def join(code: str):
    """Join a café with its code.

    Answers the participant's id, their secret token and their page."""
    db = session()
    cafe = found_cafe(db, code)
    joined = join_cafe(db, cafe, body())
    db.commit()
    push_cafe(socketio, cafe)
    return jsonify({
        "participant_id": joined.attendee.person.public_id,
        "token": joined.token,
        "me_url": url_for("cafes.me_page", token=joined.token, _external=True),
    }), 201


@blueprint.post("/cafes/<code>/participants/<participant_id>/host")
@organiser_required
@operation("setHost", {200: schemas.HostResult}, (403, 404, 409), json=schemas.HostRequest,
           security=ORGANISER, tag="cafes")
def make_host(code: str, participant_id: str):
    """Make someone a table's host, or a guest again.

    `{"table": n}` (no table: the lowest free one), or `{"host": false}`."""
    cafe = own_cafe(code)
    attendee = present_attendee(session(), cafe, participant_id)
    if attendee is None:
        raise CafeError(404, "not_found", "nobody here has this id")
    data = body()
    set_host(session(), cafe, attendee, data.get("table"), host=data.get("host", True))
    session().commit()
    push_cafe(socketio, cafe)
    return jsonify({"participant_id": participant_id, "host_table": attendee.host_table})


@blueprint.post("/cafes/<code>/rounds/next")
@organiser_required
@operation("nextRound", {200: (schemas.CafeRound, "the round now running")}, (403, 404, 409),
           json=schemas.NextRoundRequest, security=ORGANISER, tag="cafes")
def cafe_next_round(code: str):
    """Start the café or go to the next round; every phone gets its seat.

    The body is optional."""
    cafe = own_cafe(code)
    data = body(optional=True)
    seed = check_seed(data.get("seed"), CafeError)
    db = session()
    stored = next_round(db, cafe, seed=seed, time_limit=current_app.config["CAFE_TIME_LIMIT"],
                        steps=current_app.config["CAFE_STEPS"], after=data.get("after"))
    db.commit()
    push_seats(socketio, cafe)
    plan_rest_later(socketio, cafe, seed)
    return jsonify({
        "round": stored.number,
        "tables": [{"table": group.number,
                    "members": [m.person.public_id for m in group.members]}
                   for group in stored.groups],
        "ends_at": iso(cafe.ends_at),
        "metrics": stored.metrics,
    })


@blueprint.post("/cafes/<code>/time")
@organiser_required
@operation("addTime", {200: (schemas.CafeState, "the café's state")}, (403, 404, 409),
           json=schemas.TimeRequest, security=ORGANISER, tag="cafes")
def cafe_add_time(code: str):
    """Add (or, negative, take) minutes to the current round."""
    cafe = own_cafe(code)
    add_time(session(), cafe, body().get("minutes"))
    session().commit()
    push_cafe(socketio, cafe)
    return jsonify(cafe_state(cafe))


@blueprint.post("/cafes/<code>/end")
@organiser_required
@operation("endCafe", {200: (schemas.CafeState, "the café's state")}, (403, 404, 409),
           security=ORGANISER, tag="cafes")
def cafe_end(code: str):
    """End the café."""
    cafe = own_cafe(code)
    end_cafe(session(), cafe)
    session().commit()
    push_cafe(socketio, cafe)
    return jsonify(cafe_state(cafe))


@blueprint.post("/cafes/<code>/leave")
@operation("leaveCafe", {200: schemas.Left}, (403, 404), security=PARTICIPANT, tag="cafes")
def cafe_leave(code: str):
    """Leave the café: not seated in the rounds to come."""
    attendee = calling_attendee(code)
    leave_cafe(session(), attendee)
    session().commit()
    push_cafe(socketio, attendee.cafe)
    return jsonify({"left": True})


def calling_attendee(code: str) -> Attendee:
    """The calling participant, at café ``code`` (401 without their token, 404 no
    such café, 403 if they are at another café)."""
    attendee = attendee_for_token(session(), bearer() or "")
    if attendee is None:
        raise CafeError(401, "unauthorised", "a participant token is required")
    cafe = found_cafe(session(), code)
    if attendee.cafe_id != cafe.id:
        raise CafeError(403, "forbidden", "you are not at this café")
    return attendee


@blueprint.get("/cafes/<code>/plan.csv")
@organiser_required
@operation("cafePlan", {200: (None, "the plan")}, (403, 404), security=ORGANISER, tag="cafes")
def cafe_plan(code: str):
    """The café's plan in `matcher.rotate`'s CSV format (valid `--fixed`).

    Played rounds and those to come (docs/commands.md)."""
    cafe = own_cafe(code)
    return Response(cafe_plan_csv(cafe), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="cafe-{cafe.code}-plan.csv"'})
