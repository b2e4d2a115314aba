"""Coffee trials in the browser: the sign-up page, the personal page, and the
Socket.IO handlers that keep the personal page live."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from matcher.feedback import (
    LEARNT_LIMIT,
    FeedbackError,
    answers_json,
    check_answers,
    feedback_for,
    record_feedback,
)
from matcher.introductions import sealed_page
from matcher.models import Trial
from matcher.trials import (
    CONFIRM_LIFETIME,
    DETAILS,
    Pending,
    TrialError,
    confirm_signup,
    current_match,
    leave,
    membership_for_token,
    other_memberships,
    past_matches,
    pending_for_token,
    record_met,
    renew_link,
    set_paused,
    signup,
    trial_by_join_code,
    trial_schedule,
    update_details,
)
from web.extensions import session
from web.links import deliver, queue_link, queue_signup

__all__ = ["blueprint"]

blueprint = Blueprint("trials", __name__)

#: The sign-up form: (field, label, input type, required).
SIGNUP_FIELDS = (
    ("name", "Your name", "text", True),
    ("email", "Work email", "email", True),
    ("department", "Department", "text", True),
    ("organisation", "Organisation", "text", False),
    ("site", "Site", "text", False),
    ("role", "Role", "text", False),
)


@blueprint.app_template_filter("trial_time")
def trial_time(moment, trial: Trial) -> str:
    """A moment as the trial's people read it: in the schedule's time zone."""
    schedule = trial_schedule(trial)
    zone = schedule.zone if schedule else UTC
    name = "UTC" if zone is UTC else zone.key
    return f"{moment.astimezone(zone).strftime('%A %-d %B %Y at %H:%M')} ({name})"


def _trial_by_code(join_code: str) -> Trial:
    trial = trial_by_join_code(session(), join_code)
    if trial is None:
        abort(404)
    return trial


@blueprint.get("/join/<join_code>")
def join_page(join_code: str):
    """The public sign-up page of a trial (its join link)."""
    trial = _trial_by_code(join_code)
    return render_template("signup.html", trial=trial, fields=SIGNUP_FIELDS, values={},
                           error=None, error_field=None)


@blueprint.post("/join/<join_code>")
def join_submit(join_code: str):
    """Sign up from the form: on success, the new personal page, or (a trial
    that confirms sign-ups) a page saying to look for the confirmation mail."""
    trial = _trial_by_code(join_code)
    values = {key: request.form.get(key, "") for key, *_ in SIGNUP_FIELDS}
    values["mode"] = request.form.get("mode", "either")
    db = session()
    try:
        joined = signup(db, trial, join_code, values)
    except TrialError as exc:
        db.rollback()
        return render_template("signup.html", trial=trial, fields=SIGNUP_FIELDS,
                               values=values, error=str(exc), error_field=exc.field), exc.status
    queued = queue_signup(joined)
    db.commit()
    deliver([queued])
    if isinstance(joined, Pending):
        return render_template("confirm_sent.html", trial=trial, email=joined.email,
                               days=CONFIRM_LIFETIME.days)
    flash("You are in. We have also emailed you the link to this page.")
    return redirect(url_for("trials.me_page", token=joined.token), 303)


def _confirm_gone():
    return render_template(
        "message.html", heading="This link no longer works",
        text="This confirmation link has expired, has been used already, or was replaced "
             "by a later sign-up. If you confirmed, your personal link is in the email that "
             "followed; if not, sign up again from the join link."), 404


@blueprint.get("/confirm/<token>")
def confirm_page(token: str):
    """The link in a confirmation mail: what is about to be confirmed, and a
    button (a mail scanner that opens the link confirms nothing)."""
    pending = pending_for_token(session(), token)
    if pending is None:
        return _confirm_gone()
    return render_template("confirm.html", pending=pending, trial=pending.trial,
                           fields=[(label, pending.details.get(name, ""))
                                   for name, label, *_ in SIGNUP_FIELDS if name != "email"])


@blueprint.post("/confirm/<token>")
def confirm_submit(token: str):
    """Confirm a sign-up (once): the personal page, whose link is mailed too."""
    db = session()
    try:
        joined = confirm_signup(db, token)
    except TrialError:
        db.rollback()
        return _confirm_gone()
    queued = queue_signup(joined)
    db.commit()
    deliver([queued])
    flash("You are in. We have also emailed you the link to this page.")
    return redirect(url_for("trials.me_page", token=joined.token), 303)


@blueprint.post("/join/<join_code>/link")
def lost_link(join_code: str):
    """Mail a new personal link to a member who lost theirs; the answer is the
    same whether or not the email is signed up."""
    trial = _trial_by_code(join_code)
    db = session()
    email = request.form.get("email", "")
    try:
        renewed = renew_link(db, trial, join_code, email)
    except TrialError as exc:
        db.rollback()
        return render_template("signup.html", trial=trial, fields=SIGNUP_FIELDS, values={},
                               error=None, error_field=None, link_error=str(exc),
                               link_email=email), exc.status
    if renewed is not None:
        queued = queue_link(renewed.membership, renewed.token, "again")
        db.commit()
        deliver([queued])
    return render_template(
        "message.html", heading="Check your email",
        text="If this email is signed up to the trial, a new link to your personal page is "
             "on its way. Any earlier link no longer works.")


def _membership(token: str):
    membership = membership_for_token(session(), token)
    if membership is None:
        abort(404)
    return membership


@blueprint.get("/me/<token>")
def me_page(token: str):
    """A participant's personal page (secret link): their match, live."""
    return _me_page(token, _membership(token))


#: The details a participant can change on their page (the sign-up's, email apart).
DETAIL_FIELDS = tuple(field for field in SIGNUP_FIELDS if field[0] != "email")


def _me_page(token: str, membership, *, feedback_error=None, answers=None,
             details_error=None, details=None) -> str:
    db = session()
    person = membership.person
    page_of = sealed_page(current_app.extensions["matcher.seal"],
                          lambda t: url_for("trials.me_page", token=t))
    others = [{"trial": other.trial, "url": page_of(other), "paused": other.paused,
               "match": current_match(db, other)}
              for other in other_memberships(db, membership)]
    match = current_match(db, membership)
    if answers is None and match is not None and not match["sitting_out"]:
        answers = answers_json(feedback_for(db, membership, match["round"]), match["round"])
    return render_template(
        "me.html", token=token, person=membership.person, trial=membership.trial,
        paused=membership.paused, match=match, answers=answers,
        feedback_error=feedback_error, learnt_limit=LEARNT_LIMIT,
        past=past_matches(db, membership), others=others, detail_fields=DETAIL_FIELDS,
        details=details or {key: getattr(person, key) or "" for key in DETAILS},
        details_error=details_error,
        skipping=membership.skip_slot_at is not None
        and membership.skip_slot_at == membership.trial.next_round_at,
    )


@blueprint.post("/me/<token>/details")
def details(token: str):
    """Change one's own details (in every trial one is in)."""
    membership = _membership(token)
    values = {key: request.form.get(key, "") for key in DETAILS}
    db = session()
    try:
        update_details(db, membership, values)
    except TrialError as exc:
        db.rollback()
        return _me_page(token, _membership(token), details_error=exc, details=values), \
            exc.status
    db.commit()
    flash("Your details are saved: the next rounds use them.")
    return redirect(url_for("trials.me_page", token=token) + "#details-heading", 303)


@blueprint.post("/me/<token>/pause")
def pause(token: str):
    """Pause: left out of new rounds."""
    set_paused(session(), _membership(token), True)
    session().commit()
    return redirect(url_for("trials.me_page", token=token), 303)


@blueprint.post("/me/<token>/resume")
def resume(token: str):
    """Resume after a pause."""
    set_paused(session(), _membership(token), False)
    session().commit()
    return redirect(url_for("trials.me_page", token=token), 303)


@blueprint.post("/me/<token>/take-part")
def take_part(token: str):
    """Take part in the next scheduled round after all (undo a skip)."""
    _membership(token).skip_slot_at = None
    session().commit()
    return redirect(url_for("trials.me_page", token=token), 303)


@blueprint.post("/me/<token>/met")
def met(token: str):
    """Say whether the latest meeting happened."""
    answer = request.form.get("met")
    if answer not in ("yes", "no"):
        abort(400)
    try:
        record_met(session(), _membership(token), answer == "yes")
    except TrialError:
        abort(409)
    session().commit()
    return redirect(url_for("trials.me_page", token=token), 303)


@blueprint.post("/me/<token>/feedback")
def feedback(token: str):
    """How the latest round went (the form of the personal page)."""
    membership = _membership(token)
    form = request.form

    def choice(name: str) -> bool | None:
        return {"yes": True, "no": False}.get(form.get(name, ""))

    useful = form.get("useful", "")
    data = {"round": int(form["round"]) if form.get("round", "").isdigit() else None,
            "met": choice("met"), "knew_before": choice("knew_before"),
            "useful": int(useful) if useful.isdigit() else None, "again": choice("again"),
            "learnt": form.get("learnt", ""), "share": form.get("share") == "yes"}
    try:
        record_feedback(session(), membership, check_answers(data))
    except FeedbackError as exc:
        session().rollback()
        return _me_page(token, membership, feedback_error=exc, answers=data), exc.status
    session().commit()
    flash("Thank you: your feedback is saved. You can change it until the next round.")
    return redirect(url_for("trials.me_page", token=token) + "#feedback", 303)


@blueprint.post("/me/<token>/leave")
def leave_page(token: str):
    """Leave the trial; the person's data is deleted."""
    leave(session(), _membership(token))
    session().commit()
    return render_template("message.html", heading="You have left",
                           text="Your details and your matches have been deleted. "
                                "Thank you for taking part.")
