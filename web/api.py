"""The JSON API, ``/api/v1`` (docs/api.md): coffee trials."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import wraps

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from matcher import analytics as mixing
from matcher.accounts import organiser_for_token
from matcher.analytics import CHARTS, Analytics
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
from matcher.errors import ServiceError
from matcher.exports import EXPORTS, cafe_plan_csv
from matcher.models import Membership, Trial
from matcher.times import iso
from matcher.trials import (
    SETTINGS,
    ImportProblems,
    TrialError,
    create_trial,
    current_match,
    import_participants,
    leave,
    membership_by_public_id,
    membership_for_token,
    new_link,
    owned_trial,
    preview_round,
    record_met,
    renew_link,
    set_paused,
    signup,
    update_trial,
)
from matcher.validation import check_seed
from web.analytics import download
from web.extensions import session, socketio
from web.links import mail_link
from web.openapi import openapi_json
from web.push import publish_and_push, push_cafe, push_seats

__all__ = ["blueprint"]

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
blueprint.add_url_rule("/openapi.json", view_func=openapi_json, methods=["GET"])


def error(status: int, code: str, message: str, field: str | None = None):
    """docs/api.md error body."""
    body: dict[str, object] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return jsonify({"error": body}), status


@blueprint.errorhandler(ServiceError)
def service_error(exc: ServiceError):
    """A service refused: its status, code, message and field."""
    return error(exc.status, exc.code, str(exc), exc.field)


@blueprint.errorhandler(ImportProblems)
def import_problems(exc: ImportProblems):
    """A people file with problems: every one, by row and column."""
    response, status = error(exc.status, exc.code, str(exc), exc.field)
    body = response.get_json()
    body["error"]["problems"] = [
        {"row": p.row, "column": p.column, "message": p.message} for p in exc.problems]
    return jsonify(body), status


@blueprint.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """Werkzeug's errors (404, 405, 413, …) as JSON too."""
    code = (exc.name or "error").lower().replace(" ", "_")
    return error(exc.code or 500, code, exc.description or exc.name)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def organiser_required(view: Callable) -> Callable:
    """Only for organisers: ``Authorization: Bearer <organiser token>``."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        organiser = organiser_for_token(session(), _bearer())
        if organiser is None:
            return error(401, "unauthorised", "an organiser token is required")
        g.organiser = organiser
        return view(*args, **kwargs)

    return wrapped


def participant_required(view: Callable) -> Callable:
    """Only for participants: ``Authorization: Bearer <participant token>``."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        token = _bearer()
        membership = membership_for_token(session(), token) if token else None
        if membership is None:
            return error(401, "unauthorised", "a participant token is required")
        g.membership = membership
        return view(*args, **kwargs)

    return wrapped


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise TrialError(400, "invalid", "the body must be a JSON object", "body")
    return data


def _own_trial(trial_id: int) -> Trial:
    return owned_trial(session(), g.organiser, trial_id)


@blueprint.post("/trials")
@organiser_required
def new_trial():
    """Create a trial (organiser) → 201 ``{"id", "join_code", "join_url"}``."""
    data = _body()
    db = session()
    trial = create_trial(db, g.organiser, data.get("name"),
                         **{key: data[key] for key in SETTINGS if key in data and key != "name"})
    db.commit()
    join_url = url_for("trials.join_page", join_code=trial.join_code, _external=True)
    return jsonify({"id": trial.id, "join_code": trial.join_code, "join_url": join_url}), 201


@blueprint.get("/trials/<int:trial_id>")
@organiser_required
def trial_details(trial_id: int):
    """A trial's settings, participants and rounds (organiser)."""
    trial = _own_trial(trial_id)
    return jsonify(_trial_json(trial))


@blueprint.patch("/trials/<int:trial_id>")
@organiser_required
def edit_trial(trial_id: int):
    """Change settings: any of name, description, group_size, odd, weights."""
    trial = _own_trial(trial_id)
    update_trial(session(), trial, _body())
    session().commit()
    return jsonify(_trial_json(trial))


def _trial_json(trial: Trial) -> dict[str, object]:
    return {
        "id": trial.id, "name": trial.name, "description": trial.description,
        "group_size": trial.group_size, "odd": trial.odd, "weights": trial.weights,
        "join_code": trial.join_code,
        "join_url": url_for("trials.join_page", join_code=trial.join_code, _external=True),
        "participants": [
            {"participant_id": m.person.public_id, "name": m.person.name,
             "department": m.person.department, "email": m.person.email,
             "paused": m.paused}
            for m in trial.memberships
        ],
        "rounds": [{"round": r.number, "published_at": iso(r.published_at),
                    "metrics": r.metrics} for r in trial.rounds],
    }


@blueprint.post("/trials/<int:trial_id>/signups")
def signup_to_trial(trial_id: int):
    """Sign up (public, with the join code) → 201 ``{"participant_id", "token", "me_url"}``."""
    db = session()
    trial = db.get(Trial, trial_id)
    if trial is None:
        raise TrialError(404, "not_found", "no such trial")
    data = _body()
    joined = signup(db, trial, data.get("join_code"), data)
    public_id = joined.membership.person.public_id
    db.commit()
    mail_link(joined.membership, joined.token, "signup")
    return jsonify({
        "participant_id": public_id,
        "token": joined.token,
        "me_url": url_for("trials.me_page", token=joined.token, _external=True),
    }), 201


@blueprint.post("/trials/<int:trial_id>/participants")
@organiser_required
def import_people(trial_id: int):
    """Import participants from a people file (docs/formats.md): the request body is
    the CSV (``Content-Type: text/csv``) or JSON list, or a multipart form
    with the file as ``file``. All rows or none; each new participant is mailed
    their link → 201 ``{"added", "already_in", "mailed", "not_mailed"}``."""
    trial = _own_trial(trial_id)
    upload = request.files.get("file")
    if upload is not None:
        label, data = upload.filename or "upload.csv", upload.read()
    else:
        kind = request.mimetype
        label = "upload.json" if kind == "application/json" else "upload.csv"
        data = request.get_data()
    if not data:
        raise TrialError(400, "invalid", "send the people file as the body or as the form "
                         "field 'file'", "file")
    db = session()
    imported = import_participants(db, trial, label, data)
    db.commit()
    return jsonify(_imported_json(imported)), 201


def _imported_json(imported) -> dict[str, object]:
    mailed = [mail_link(signup.membership, signup.token, "import")
              for signup in imported.added]
    return {
        "added": [{"participant_id": s.membership.person.public_id,
                   "email": s.membership.person.email} for s in imported.added],
        "already_in": imported.already_in,
        "mailed": sum(mailed),
        "not_mailed": [s.membership.person.email
                       for s, sent in zip(imported.added, mailed, strict=True) if not sent],
    }


@blueprint.post("/trials/<int:trial_id>/participants/<participant_id>/link")
@organiser_required
def send_new_link(trial_id: int, participant_id: str):
    """Mail a participant a new link (the old one stops working); the organiser
    never sees it → 202 ``{"mailed": true|false}``."""
    trial = _own_trial(trial_id)
    membership = membership_by_public_id(session(), trial, participant_id)
    if membership is None:
        raise TrialError(404, "not_found", "no such participant in this trial")
    token = new_link(session(), membership)
    session().commit()
    return jsonify({"mailed": mail_link(membership, token, "again")}), 202


@blueprint.post("/trials/<int:trial_id>/links")
def lost_link(trial_id: int):
    """A participant asks for their link again (public, with the join code and
    their email) → 202 whether or not the email is signed up, so nothing is
    revealed; if it is, a new link is mailed and the old one stops working."""
    db = session()
    trial = db.get(Trial, trial_id)
    if trial is None:
        raise TrialError(404, "not_found", "no such trial")
    data = _body()
    renewed = renew_link(db, trial, data.get("join_code"), data.get("email"))
    if renewed is not None:
        db.commit()
        mail_link(renewed.membership, renewed.token, "again")
    return jsonify({"accepted": True}), 202


@blueprint.post("/trials/<int:trial_id>/rounds")
@organiser_required
def new_round(trial_id: int):
    """Preview (``{"publish": false}``, 200) or publish (``{"publish": true}``, 201)
    the next round; a published round's match goes to each participant at once."""
    trial = _own_trial(trial_id)
    data = _body()
    publish = data.get("publish", False)
    if not isinstance(publish, bool):
        raise TrialError(400, "invalid", "publish must be true or false", "publish")
    seed = check_seed(data.get("seed"), TrialError)
    db = session()
    limit = current_app.config["ROUND_TIME_LIMIT"]
    if not publish:
        planned = preview_round(db, trial, seed=seed, time_limit=limit)
        return jsonify({
            "round": None,
            "groups": [{"group": k, "members": list(m)}
                       for k, m in enumerate(planned.groups, 1)],
            "sitting_out": list(planned.sitting_out),
            "metrics": planned.metrics.as_dict(),
        })
    stored = publish_and_push(socketio, db, trial, seed=seed, time_limit=limit,
                              after=data.get("after"))
    body = {
        "round": stored.number,
        "groups": [{"group": group.number,
                    "members": [m.person.public_id for m in group.members]}
                   for group in stored.groups],
        "sitting_out": [m.person.public_id for m in stored.members if m.group_id is None],
        "metrics": stored.metrics,
    }
    return jsonify(body), 201


@blueprint.get("/trials/<int:trial_id>/history.<kind>")
@organiser_required
def history(trial_id: int, kind: str):
    """The trial's history: ``csv`` (docs/formats.md, with names and departments),
    ``json`` or ``graphml`` (who met whom, for network tools)."""
    if kind not in EXPORTS:
        raise TrialError(404, "not_found", "exports are history.csv, .json and .graphml")
    trial = _own_trial(trial_id)
    make, mimetype = EXPORTS[kind]
    return Response(make(trial), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="trial-{trial.id}-history.{kind}"'})


@blueprint.get("/me")
@participant_required
def me():
    """The participant's own details and latest match."""
    membership: Membership = g.membership
    person = membership.person
    return jsonify({
        "participant_id": person.public_id,
        "trial": membership.trial_id,
        "name": person.name,
        "email": person.email,
        "department": person.department,
        "organisation": person.organisation,
        "site": person.site,
        "role": person.role,
        "mode": person.mode,
        "paused": membership.paused,
        "match": current_match(session(), membership),
    })


@blueprint.post("/me/pause")
@participant_required
def pause():
    """Leave me out of new rounds until I resume."""
    set_paused(session(), g.membership, True)
    session().commit()
    return jsonify({"paused": True})


@blueprint.post("/me/resume")
@participant_required
def resume():
    """Include me in new rounds again."""
    set_paused(session(), g.membership, False)
    session().commit()
    return jsonify({"paused": False})


@blueprint.post("/me/met")
@participant_required
def met():
    """Say whether my latest meeting happened: ``{"met": true|false}``."""
    value = _body().get("met")
    if not isinstance(value, bool):
        raise TrialError(400, "invalid", "met must be true or false", "met")
    record_met(session(), g.membership, value)
    session().commit()
    return jsonify({"met": value})


@blueprint.delete("/me")
@participant_required
def leave_trial():
    """Leave the trial; my data is deleted (if this was my last trial)."""
    leave(session(), g.membership)
    session().commit()
    return jsonify({"left": True})


# -- knowledge cafés -----------------------------------------------------------------


def _cafe(code: str):
    return found_cafe(session(), code)


def _own_cafe(code: str):
    return owned_cafe(session(), g.organiser, code=code)


def _cafe_links(cafe) -> dict[str, str]:
    return {
        "join_url": url_for("cafes.join_page", code=cafe.code, _external=True),
        "screen_url": url_for("cafes.screen", key=cafe.screen_key, _external=True),
    }


@blueprint.post("/cafes")
@organiser_required
def new_cafe():
    """Create a café (organiser) → 201 ``{"id", "join_code", "join_url",
    "screen_url"}`` (and ``code``, the join code under its first name)."""
    db = session()
    cafe = create_cafe(db, g.organiser, _body())
    db.commit()
    # "code" is what clients written before join_code read: kept, the same value.
    return jsonify({"id": cafe.id, "join_code": cafe.code, "code": cafe.code}
                   | _cafe_links(cafe)), 201


@blueprint.get("/cafes/<code>")
@organiser_required
def cafe_details(code: str):
    """A café's settings, state, attendees and plan (organiser)."""
    cafe = _own_cafe(code)
    plan = plan_view(cafe)
    return jsonify(cafe_state(cafe) | _cafe_links(cafe) | {
        "id": cafe.id, "name": cafe.name, "tables": cafe.tables,
        "table_size": cafe.table_size, "table_count": cafe.table_count,
        "round_minutes": cafe.round_minutes, "questions": cafe.questions,
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
def join(code: str):
    """Join a café with its code (public) → 201 ``{"participant_id", "token", "me_url"}``."""
    db = session()
    cafe = _cafe(code)
    joined = join_cafe(db, cafe, _body())
    db.commit()
    push_cafe(socketio, cafe)
    return jsonify({
        "participant_id": joined.attendee.person.public_id,
        "token": joined.token,
        "me_url": url_for("cafes.me_page", token=joined.token, _external=True),
    }), 201


@blueprint.post("/cafes/<code>/participants/<participant_id>/host")
@organiser_required
def make_host(code: str, participant_id: str):
    """Make someone a table's host (``{"table": n}``; no table: the lowest free
    one) or a guest again (``{"host": false}``) (organiser)."""
    cafe = _own_cafe(code)
    attendee = present_attendee(session(), cafe, participant_id)
    if attendee is None:
        raise CafeError(404, "not_found", "nobody here has this id")
    data = _body()
    host = data.get("host", True)
    if not isinstance(host, bool):
        raise CafeError(400, "invalid", "host must be true or false", "host")
    table = data.get("table")
    if table is not None and (not isinstance(table, int) or isinstance(table, bool)):
        raise CafeError(400, "invalid", "table must be a table number", "table")
    set_host(session(), cafe, attendee, table, host=host)
    session().commit()
    push_cafe(socketio, cafe)
    return jsonify({"participant_id": participant_id, "host_table": attendee.host_table})


@blueprint.post("/cafes/<code>/rounds/next")
@organiser_required
def cafe_next_round(code: str):
    """Start the café or go to the next round (organiser) → 200 ``{"round",
    "tables": [{"table", "members"}], "ends_at"}``; every phone gets its seat."""
    cafe = _own_cafe(code)
    data = _body() if request.get_data() else {}  # a body is optional; if any, an object
    seed = check_seed(data.get("seed"), CafeError)
    db = session()
    stored = next_round(db, cafe, seed=seed, time_limit=current_app.config["CAFE_TIME_LIMIT"],
                        steps=current_app.config["CAFE_STEPS"], after=data.get("after"))
    db.commit()
    push_seats(socketio, cafe)
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
def cafe_add_time(code: str):
    """Add minutes to the current round (organiser): ``{"minutes": 5}``."""
    cafe = _own_cafe(code)
    add_time(session(), cafe, _body().get("minutes"))
    session().commit()
    push_cafe(socketio, cafe)
    return jsonify(cafe_state(cafe))


@blueprint.post("/cafes/<code>/end")
@organiser_required
def cafe_end(code: str):
    """End the café (organiser)."""
    cafe = _own_cafe(code)
    end_cafe(session(), cafe)
    session().commit()
    push_cafe(socketio, cafe)
    return jsonify(cafe_state(cafe))


@blueprint.post("/cafes/<code>/leave")
def cafe_leave(code: str):
    """Leave the café (participant): not seated in the rounds to come."""
    attendee = attendee_for_token(session(), _bearer() or "")
    if attendee is None:
        return error(401, "unauthorised", "a participant token is required")
    cafe = _cafe(code)
    if attendee.cafe_id != cafe.id:
        raise CafeError(403, "forbidden", "you are not at this café")
    leave_cafe(session(), attendee)
    session().commit()
    push_cafe(socketio, cafe)
    return jsonify({"left": True})


@blueprint.get("/cafes/<code>/plan.csv")
@organiser_required
def cafe_plan(code: str):
    """The café's plan, played rounds and those to come, in ``matcher.rotate``'s
    CSV format (docs/commands.md)."""
    cafe = _own_cafe(code)
    return Response(cafe_plan_csv(cafe), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="cafe-{cafe.code}-plan.csv"'})


# -- mixing analytics ------------------------------------------------------------------------


def analytics_json(analytics: Analytics) -> dict[str, object]:
    """The analytics as the API answers them (names and departments only)."""
    h, c = analytics.heatmap, analytics.coverage
    return {
        "kind": analytics.kind,
        "name": analytics.name,
        "heatmap": {"departments": [asdict(d) for d in h.departments],
                    "meetings": [list(row) for row in h.meetings],
                    "total": h.total, "cross_department": h.cross_department},
        "ties": [asdict(t) for t in analytics.ties],
        "coverage": asdict(c) | {"met_outside_share": c.met_outside_share,
                                 "department_pairs_share": c.department_pairs_share},
        "not_yet_mixed": [asdict(p) for p in analytics.not_yet_mixed],
        "participation": asdict(analytics.participation),
    }


def _known_chart(chart: str, error: type[ServiceError]) -> None:
    """404 (as ``error``) unless ``chart`` is one of the analytics' charts."""
    if chart not in CHARTS:
        raise error(404, "not_found", f"charts are {', '.join(CHARTS)}")


@blueprint.get("/trials/<int:trial_id>/analytics")
@organiser_required
def trial_analytics(trial_id: int):
    """A trial's mixing analytics (organiser)."""
    return jsonify(analytics_json(mixing.trial_analytics(_own_trial(trial_id))))


@blueprint.get("/trials/<int:trial_id>/analytics/<chart>.csv")
@organiser_required
def trial_analytics_csv(trial_id: int, chart: str):
    """The numbers behind one chart of a trial's analytics, as CSV (organiser)."""
    _known_chart(chart, TrialError)
    trial = _own_trial(trial_id)
    return download(mixing.trial_analytics(trial), chart, "csv", f"trial-{trial.id}")


@blueprint.get("/cafes/<code>/analytics")
@organiser_required
def cafe_analytics(code: str):
    """A café's mixing analytics across its played rounds (organiser)."""
    return jsonify(analytics_json(mixing.cafe_analytics(_own_cafe(code))))


@blueprint.get("/cafes/<code>/analytics/<chart>.csv")
@organiser_required
def cafe_analytics_csv(code: str, chart: str):
    """The numbers behind one chart of a café's analytics, as CSV (organiser)."""
    _known_chart(chart, CafeError)
    cafe = _own_cafe(code)
    return download(mixing.cafe_analytics(cafe), chart, "csv", f"cafe-{cafe.code}")
