"""The JSON API of a trial's participant (docs/api.md): my details and match,
pause and resume, "did we meet?", feedback, leaving."""

from __future__ import annotations

from flask import g, jsonify

from matcher.feedback import (
    answers_json,
    check_answers,
    feedback_for,
    open_round,
    record_feedback,
)
from matcher.models import Membership
from matcher.times import iso
from matcher.trials import current_match, leave, record_met, set_paused, update_details
from web.api import schemas
from web.api.base import blueprint, body, participant_required
from web.api.spec import PARTICIPANT, operation
from web.extensions import session

__all__: list[str] = []


@blueprint.get("/me")
@participant_required
@operation("getMe", {200: schemas.Me}, security=PARTICIPANT, tag="participants")
def me():
    """The participant's own details and latest match."""
    membership: Membership = g.membership
    person, trial = membership.person, membership.trial
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
        "next_round_at": iso(trial.next_round_at if not trial.schedule_paused else None),
        "skipping_next": membership.skip_slot_at is not None
        and membership.skip_slot_at == trial.next_round_at,
        "match": current_match(session(), membership),
    })


@blueprint.patch("/me")
@participant_required
@operation("updateMe", {200: schemas.Me}, json=schemas.MyDetails, security=PARTICIPANT,
           tag="participants")
def update_me():
    """Change my details (a department move, a new site): the fields given
    replace mine in every trial I am in; answers my details as changed."""
    update_details(session(), g.membership, body())
    session().commit()
    return me()


@blueprint.post("/me/pause")
@participant_required
@operation("pause", {200: schemas.Paused}, security=PARTICIPANT, tag="participants")
def pause():
    """Leave me out of new rounds until I resume."""
    set_paused(session(), g.membership, True)
    session().commit()
    return jsonify({"paused": True})


@blueprint.post("/me/resume")
@participant_required
@operation("resume", {200: schemas.Paused}, security=PARTICIPANT, tag="participants")
def resume():
    """Include me in new rounds again."""
    set_paused(session(), g.membership, False)
    session().commit()
    return jsonify({"paused": False})


@blueprint.post("/me/met")
@participant_required
@operation("recordMet", {200: schemas.Met}, (409,), json=schemas.Met, security=PARTICIPANT,
           tag="participants")
def met():
    """Say whether my latest meeting happened."""
    value = body()["met"]
    record_met(session(), g.membership, value)
    session().commit()
    return jsonify({"met": value})


@blueprint.get("/me/feedback")
@participant_required
@operation("getFeedback", {200: schemas.FeedbackOut}, security=PARTICIPANT,
           tag="participants")
def my_feedback():
    """My answers about the latest round, the one open for feedback (``round``
    null before any round)."""
    membership: Membership = g.membership
    number = open_round(session(), membership.trial_id)
    answer = feedback_for(session(), membership, number) if number else None
    return jsonify(answers_json(answer, number or None))


@blueprint.post("/me/feedback")
@participant_required
@operation("giveFeedback", {200: schemas.FeedbackOut}, (404, 409), json=schemas.FeedbackIn,
           security=PARTICIPANT, tag="participants")
def give_feedback():
    """Say how a round went: did you meet, had you known them, how useful, again,
    what you learnt, may we quote it (anonymously). Answering again replaces it."""
    answers = check_answers(body())
    stored = record_feedback(session(), g.membership, answers)
    session().commit()
    return jsonify(answers_json(stored, answers.round))


@blueprint.delete("/me")
@participant_required
@operation("leaveTrial", {200: schemas.Left}, security=PARTICIPANT, tag="participants")
def leave_trial():
    """Leave the trial (the person's data is deleted if this was their last)."""
    leave(session(), g.membership)
    session().commit()
    return jsonify({"left": True})
