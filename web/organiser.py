"""Organiser pages: sign in, the dashboard of trials and cafés, one trial
(participants, preview, publish, past rounds, exports), and a café's host
console (lobby, start, next round, add time, end, plan, printable plans)."""

from __future__ import annotations

from collections.abc import Callable
from email.header import decode_header, make_header
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    session as cookie,
)
from sqlalchemy import select

from matcher.accounts import check_password
from matcher.analytics import trial_figures
from matcher.cafes import (
    FORMATS,
    CafeError,
    add_time,
    cafe_state,
    create_cafe,
    end_cafe,
    next_round,
    owned_cafe,
    plan_by_person,
    plan_view,
    present_attendee,
    screen_view,
    set_host,
)
from matcher.errors import ServiceError
from matcher.evaluation import evaluate
from matcher.exports import EXPORTS, cafe_plan_csv
from matcher.introductions import KINDS, preview
from matcher.models import Cafe, Organiser, Trial
from matcher.outbox import delivery, resend_failed
from matcher.team import cafes_of, trials_of
from matcher.trials import (
    CONFIRM_LIFETIME,
    STATUSES,
    ImportProblems,
    TrialError,
    count_pending,
    create_trial,
    find_participants,
    import_participants,
    membership_by_public_id,
    new_link,
    owned_trial,
    preview_round,
    round_record,
    update_trial,
)
from solvers.model import ATTRIBUTES, Weights
from web.cafes import qr_svg
from web.extensions import session, socketio
from web.headers import FRAMED_MAIL_HEADERS
from web.links import deliver, queue_link
from web.push import plan_rest_later, publish_and_push, push_cafe, push_seats
from web.reports import poster_pdf

__all__ = ["blueprint"]

blueprint = Blueprint("organiser", __name__, url_prefix="/organiser")


def signed_in(view: Callable) -> Callable:
    """Only for a signed-in organiser; others go to the sign-in page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        organiser_id = cookie.get("organiser_id")
        organiser = session().get(Organiser, organiser_id) if organiser_id else None
        if organiser is None:
            return redirect(url_for("organiser.login", next=request.path))
        g.organiser = organiser
        return view(*args, **kwargs)

    return wrapped


def own_trial(trial_id: int) -> Trial:
    """The signed-in organiser's trial ``trial_id``, or the 404 or 403 page."""
    try:
        return owned_trial(session(), g.organiser, trial_id)
    except TrialError as exc:
        abort(exc.status)


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    error = None
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        organiser = None if "\x00" in email else session().scalar(
            select(Organiser).where(Organiser.email == email))
        if check_password(organiser, request.form.get("password", "")):
            cookie.clear()
            cookie["organiser_id"] = organiser.id
            target = request.args.get("next", "")
            if not target.startswith("/organiser"):
                target = url_for("organiser.dashboard")
            return redirect(target, 303)
        error = "That email and password do not match an organiser account."
    return render_template("organiser/login.html", error=error), 401 if error else 200


@blueprint.post("/logout")
def logout():
    """Sign out."""
    cookie.clear()
    return redirect(url_for("organiser.login"), 303)


@blueprint.get("/")
@signed_in
def dashboard():
    """Every trial and café the organiser holds a role on (docs/security.md,
    "Co-organisers"), with their role and the headline figures."""
    return _dashboard(trials_of(session(), g.organiser))


def _dashboard(held):
    """The dashboard of the trials ``held`` (each with the organiser's role)."""
    trials = [trial for trial, _ in held]
    figures = {trial.id: trial_figures(trial) for trial in trials}
    evaluations = {trial.id: evaluate(session(), trial) for trial in trials}
    cafes = cafes_of(session(), g.organiser)
    return render_template("organiser/dashboard.html", trials=trials, figures=figures,
                           evaluations=evaluations, cafes=[cafe for cafe, _ in cafes],
                           trial_roles={trial.id: role for trial, role in held},
                           cafe_roles={cafe.id: role for cafe, role in cafes})


@blueprint.get("/trials/new")
@signed_in
def new_trial_page():
    """The form for a new trial."""
    return _new_trial_form()


@blueprint.get("/cafes/new")
@signed_in
def new_cafe_page():
    """The form for a new café."""
    return _new_cafe_form()


def _new_trial_form(error: str | None = None) -> str:
    return render_template("organiser/new_trial.html", error=error)


def _new_cafe_form(error: str | None = None) -> str:
    """The form, filled in again with what was sent when it had a problem."""
    return render_template("organiser/new_cafe.html", cafe_error=error, cafe_formats=FORMATS,
                           cafe_form=request.form if error else {})


@blueprint.post("/trials")
@signed_in
def new_trial():
    """Create a trial from its form."""
    db = session()
    try:
        given = {"description": request.form.get("description", ""),
                 "group_size": _number(request.form, "group_size", TrialError),
                 "odd": request.form.get("odd") or None,
                 "confirm_email": request.form.get("confirm_email") == "yes"}
        trial = create_trial(db, g.organiser, request.form.get("name"),
                             **{key: value for key, value in given.items() if value is not None})
    except TrialError as exc:
        db.rollback()
        return _new_trial_form(str(exc)), 400
    db.commit()
    return redirect(url_for("organiser.trial_page", trial_id=trial.id), 303)


@blueprint.get("/trials/<int:trial_id>")
@signed_in
def trial_page(trial_id: int):
    """One trial's overview: its figures, the join link, the next round (preview
    and publish), its mail."""
    trial = own_trial(trial_id)
    preview = None
    error = None
    if request.args.get("preview"):
        try:
            preview = preview_round(session(), trial,
                                    time_limit=current_app.config["ROUND_TIME_LIMIT"])
        except TrialError as exc:
            error = str(exc)
    return _trial_page(trial, preview=preview, error=error)


def _trial_page(trial: Trial, *, preview=None, error=None) -> str:
    names = {m.person.public_id: m.person.name for m in trial.memberships}
    join_url = url_for("trials.join_page", join_code=trial.join_code, _external=True)
    return render_template("organiser/trial.html", trial=trial, preview=preview, error=error,
                           mail=delivery(session(), trial), kinds=KINDS,
                           figures=trial_figures(trial), names=names,
                           pending=count_pending(session(), trial),
                           join_url=join_url, qr=qr_svg(join_url))


@blueprint.get("/trials/<int:trial_id>/participants")
@signed_in
def participants_page(trial_id: int):
    """Everyone in the trial, searched, filtered and a page at a time; and the import."""
    return _participants_page(own_trial(trial_id))


def _participants_page(trial: Trial, *, error=None, problems=None) -> str:
    try:
        found = find_participants(session(), trial, text=request.args.get("q", ""),
                                  department=request.args.get("department", ""),
                                  status=request.args.get("status", ""),
                                  page=_number(request.args, "page", TrialError) or 1)
    except TrialError as exc:
        abort(exc.status)
    return render_template("organiser/participants.html", trial=trial, found=found,
                           statuses=STATUSES, pending=count_pending(session(), trial),
                           confirm_days=CONFIRM_LIFETIME.days, error=error,
                           problems=problems)


@blueprint.get("/trials/<int:trial_id>/rounds")
@signed_in
def rounds_page(trial_id: int):
    """The trial's past rounds, newest first, each a link to who met whom; the history."""
    return render_template("organiser/trial_rounds.html", trial=own_trial(trial_id))


@blueprint.get("/trials/<int:trial_id>/settings")
@signed_in
def settings_page(trial_id: int):
    """The trial's settings and its schedule."""
    return _settings_page(own_trial(trial_id))


def _settings_page(trial: Trial, *, error=None) -> str:
    weights = Weights(**trial.weights) if trial.weights else Weights()
    return render_template("organiser/trial_settings.html", trial=trial, error=error,
                           schedule=trial.schedule or {}, cadences=CADENCES,
                           reminders=REMINDERS, check_ins=CHECK_INS, weights=weights,
                           attributes=ATTRIBUTES)


@blueprint.get("/trials/<int:trial_id>/poster.pdf")
@signed_in
def poster(trial_id: int):
    """The join link on an A4 poster (PDF) with its QR code, for a noticeboard."""
    trial = own_trial(trial_id)
    join_url = url_for("trials.join_page", join_code=trial.join_code, _external=True)
    return poster_pdf(trial, join_url, qr_svg(join_url))


@blueprint.get("/trials/<int:trial_id>/rounds/<int:number>")
@signed_in
def round_page(trial_id: int, number: int):
    """One past round: who met whom, repeats, who sat out, "did you meet?"."""
    trial = own_trial(trial_id)
    try:
        record = round_record(session(), trial, number)
    except TrialError as exc:
        abort(exc.status)
    return render_template("organiser/round.html", trial=trial, record=record,
                           last=len(trial.rounds))


@blueprint.post("/trials/<int:trial_id>/settings")
@signed_in
def settings(trial_id: int):
    """Change the trial's settings from its page (the next rounds follow them)."""
    trial = own_trial(trial_id)
    form = request.form
    try:
        changes = {
            "name": form.get("name", ""),
            "description": form.get("description", ""),
            "group_size": int(form.get("group_size") or 0),
            "odd": form.get("odd", ""),
            "weights": {key: int(form.get(f"weight_{key}") or 0) for key in ATTRIBUTES},
            "confirm_email": form.get("confirm_email") == "yes",
        }
        update_trial(session(), trial, changes)
    except (TrialError, ValueError) as exc:
        session().rollback()
        message = str(exc) if isinstance(exc, TrialError) else "numbers must be whole numbers"
        return _settings_page(trial, error=message), 400
    session().commit()
    flash("The settings are saved: the next rounds follow them.")
    return redirect(url_for("organiser.settings_page", trial_id=trial.id), 303)


@blueprint.post("/trials/<int:trial_id>/participants")
@signed_in
def import_people(trial_id: int):
    """Import participants from an uploaded people file; every problem is
    listed by row, and nothing is imported unless the whole file is good."""
    trial = own_trial(trial_id)
    upload = request.files.get("file")
    db = session()
    if upload is None or not upload.filename:
        return _participants_page(trial, error="Choose a people file (CSV) to import."), 400
    try:
        imported = import_participants(db, trial, upload.filename, upload.read())
    except ImportProblems as exc:
        db.rollback()
        return _participants_page(trial, error=str(exc), problems=exc.problems), 400
    queued = [queue_link(s.membership, s.token, "import") for s in imported.added]
    db.commit()
    deliver(queued)
    notice = f"Imported {len(imported.added)} {_people(len(imported.added))}"
    if imported.already_in:
        notice += f" ({len(imported.already_in)} already in the trial were left as they were)"
    if imported.added:
        notice += "; each is being mailed their personal link"
    notice += "."
    flash(notice)
    return redirect(url_for("organiser.participants_page", trial_id=trial.id), 303)


def _people(count: int) -> str:
    return "person" if count == 1 else "people"


@blueprint.post("/trials/<int:trial_id>/participants/<participant_id>/link")
@signed_in
def send_new_link(trial_id: int, participant_id: str):
    """Mail one participant a new personal link (the old one stops working)."""
    trial = own_trial(trial_id)
    membership = membership_by_public_id(session(), trial, participant_id)
    if membership is None:
        abort(404)
    token = new_link(session(), membership)
    queued = queue_link(membership, token, "again")
    session().commit()
    deliver([queued])
    flash(f"A new link is being mailed to {membership.person.name}; the old one no longer "
          "works.")
    return redirect(url_for("organiser.participants_page", trial_id=trial.id), 303)


#: The schedule form's choices (values are what the API takes).
CADENCES = (("P1W", "every week"), ("P2W", "every two weeks"), ("P4W", "every four weeks"),
            ("P1M", "every month"))
REMINDERS = (("", "no reminder"), ("P1D", "a day before"), ("P2D", "two days before"),
             ("P7D", "a week before"))
CHECK_INS = (("", "no check-in"), ("P3D", "three days after"), ("P7D", "a week after"),
             ("P10D", "ten days after"))


@blueprint.post("/trials/<int:trial_id>/schedule")
@signed_in
def schedule(trial_id: int):
    """Set, change, pause, resume or remove the trial's schedule from its page."""
    trial = own_trial(trial_id)
    form = request.form
    action = form.get("action", "save")
    if action == "remove":
        changes: dict[str, object] = {"schedule": None}
    elif action in ("pause", "resume"):
        changes = {"paused": action == "pause"}
    else:
        rounds = form.get("rounds", "").strip()
        starters = [line.strip() for line in form.get("icebreakers", "").splitlines()]
        changes = {"icebreakers": [line for line in starters if line], "schedule": {
            "first_round_at": form.get("first_round_at", ""),
            "time_zone": form.get("time_zone", "").strip(),
            "every": form.get("every", ""),
            "rounds": int(rounds) if rounds.isdigit() else (rounds or None),
            "reminder_before": form.get("reminder_before") or None,
            "check_in_after": form.get("check_in_after") or None,
            "meeting": {"after": f"P{form.get('meeting_after_days', '1') or '1'}D",
                        "time": form.get("meeting_time", "12:30") or "12:30",
                        "minutes": int(form.get("meeting_minutes") or 30)
                        if (form.get("meeting_minutes") or "30").isdigit() else 0},
        }}
    try:
        update_trial(session(), trial, changes)
    except ServiceError as exc:
        session().rollback()
        return _settings_page(trial, error=str(exc)), 400
    session().commit()
    current_app.extensions["matcher.jobs"].wake_at(trial.next_round_at)
    flash({"remove": "The schedule is removed: rounds are published by hand only.",
           "pause": "The schedule is paused: no rounds until you resume it.",
           "resume": "The schedule is running again.",
           "save": "The schedule is saved."}.get(action, "The schedule is saved."))
    return redirect(url_for("organiser.settings_page", trial_id=trial.id), 303)


@blueprint.get("/trials/<int:trial_id>/mail/<kind>")
@signed_in
def mail_preview(trial_id: int, kind: str):
    """What a participant receives: one mail of ``kind``, for example colleagues."""
    trial, message, parts = _example_mail(trial_id, kind)
    return render_template("organiser/mail_preview.html", trial=trial, kind=kind,
                           kinds=KINDS, message=message,
                           subject=str(make_header(decode_header(message["Subject"]))),
                           text=parts.get("text/plain", ""),
                           invite=parts.get("text/calendar"))


@blueprint.get("/trials/<int:trial_id>/mail/<kind>/html")
@signed_in
def mail_preview_html(trial_id: int, kind: str):
    """The HTML part of that mail on its own, for the preview's sandboxed frame:
    mail clients need its inline styles, which no page of the app may have, so
    it has a policy of its own (no script at all, framed by this site only)."""
    _, _, parts = _example_mail(trial_id, kind)
    response = make_response(parts.get("text/html", ""))
    response.headers.update(FRAMED_MAIL_HEADERS)
    return response


def _example_mail(trial_id: int, kind: str):
    trial = own_trial(trial_id)
    if kind not in KINDS:
        abort(404)
    message = preview(kind, trial, current_app.extensions["matcher.mailer"].sender,
                      request.host_url.rstrip("/"))
    parts = {part.get_content_type(): part.get_payload(decode=True).decode()
             for part in message.walk() if not part.is_multipart()}
    return trial, message, parts


@blueprint.post("/trials/<int:trial_id>/mail/resend")
@signed_in
def resend_mail(trial_id: int):
    """Send the trial's failed mail again (after the mail server was fixed)."""
    trial = own_trial(trial_id)
    db = session()
    again = resend_failed(db, trial)
    db.commit()
    current_app.extensions["matcher.jobs"].deliver_later(again)
    count = len(again)
    flash(f"{count} {'message is' if count == 1 else 'messages are'} being sent again.")
    return redirect(url_for("organiser.trial_page", trial_id=trial.id), 303)


@blueprint.post("/trials/<int:trial_id>/publish")
@signed_in
def publish(trial_id: int):
    """Publish the next round: every open personal page shows its match at once."""
    trial = own_trial(trial_id)
    try:
        publish_and_push(socketio, session(), trial, seed=None,
                         time_limit=current_app.config["ROUND_TIME_LIMIT"],
                         after=_number(request.form, "after", TrialError))
    except TrialError as exc:
        session().rollback()
        return _trial_page(trial, error=str(exc)), exc.status
    return redirect(url_for("organiser.trial_page", trial_id=trial.id), 303)


@blueprint.get("/trials/<int:trial_id>/history.<kind>")
@signed_in
def export(trial_id: int, kind: str):
    """Download the history as CSV, JSON or GraphML."""
    if kind not in EXPORTS:
        abort(404)
    trial = own_trial(trial_id)
    make, mimetype = EXPORTS[kind]
    return Response(make(trial), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="trial-{trial.id}-history.{kind}"'})


# -- knowledge cafés: the host console ---------------------------------------------------


def own_cafe(cafe_id: int) -> Cafe:
    """The signed-in organiser's café ``cafe_id``, or the 404 or 403 page."""
    try:
        return owned_cafe(session(), g.organiser, cafe_id=cafe_id)
    except CafeError as exc:
        abort(exc.status)


def _number(form, key: str, error: type[ServiceError] = CafeError) -> int | None:
    """A form's whole number, None if left empty."""
    text = form.get(key, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise error(400, "invalid", f"{key.replace('_', ' ')} must be a whole number",
                    key) from None


@blueprint.post("/cafes")
@signed_in
def new_cafe():
    """Create a café from its form."""
    form = request.form
    db = session()
    try:
        fields = {
            "name": form.get("name"),
            "rounds": _number(form, "rounds"),
            "round_minutes": _number(form, "round_minutes"),
            "questions": [line.strip() for line in form.get("questions", "").splitlines()
                          if line.strip()],
            "hosts": [line.strip() for line in form.get("hosts", "").splitlines()
                      if line.strip()],
            "format": form.get("format") or "cafe",
            "anonymous_notes": form.get("anonymous_notes") == "yes",
            "pledge_reminder_days": _number(form, "pledge_reminder_days"),
        }
        by = form.get("by", "table_size")
        fields["tables" if by == "tables" else "table_size"] = _number(form, "table_count")
        # A box left empty takes the café's default, as a field left out of the API's body.
        for key in ("round_minutes", "rounds"):
            if fields[key] is None:
                del fields[key]
        cafe = create_cafe(db, g.organiser, fields)
    except CafeError as exc:
        db.rollback()
        return _new_cafe_form(str(exc)), 400
    db.commit()
    return redirect(url_for("organiser.cafe_console", cafe_id=cafe.id), 303)


@blueprint.get("/cafes/<int:cafe_id>")
@signed_in
def cafe_console(cafe_id: int):
    """The host console: lobby, buttons, current tables, the plan and its quality."""
    return _console(own_cafe(cafe_id))


def _console(cafe: Cafe, error: str | None = None, status: int = 200):
    join_url = url_for("cafes.join_page", code=cafe.code, _external=True)
    page = render_template(
        "organiser/cafe.html", cafe=cafe, state=cafe_state(cafe), view=screen_view(cafe),
        cafe_format_name=FORMATS[cafe.format].name,
        plan=plan_view(cafe), error=error, join_url=join_url, qr=qr_svg(join_url),
        screen_url=url_for("cafes.screen", key=cafe.screen_key, _external=True),
        attendees=sorted((a for a in cafe.attendees if a.present),
                         key=lambda a: (a.host_table is None, a.host_table or 0,
                                        a.name.casefold())))
    return page, status


def _cafe_action(cafe_id: int, action) -> object:
    """Run ``action(cafe)``; commit and push, or show the console with the error."""
    cafe = own_cafe(cafe_id)
    try:
        pushed = action(cafe)
    except CafeError as exc:
        session().rollback()
        return _console(cafe, str(exc), exc.status)
    session().commit()
    (pushed or push_cafe)(socketio, cafe)
    return redirect(url_for("organiser.cafe_console", cafe_id=cafe.id), 303)


@blueprint.post("/cafes/<int:cafe_id>/next")
@signed_in
def cafe_next(cafe_id: int):
    """Start the café, or go to the next round: every phone shows its new table."""
    def action(cafe):
        next_round(session(), cafe, time_limit=current_app.config["CAFE_TIME_LIMIT"],
                   steps=current_app.config["CAFE_STEPS"], after=_number(request.form, "after"))

        def pushed(socketio, cafe):
            push_seats(socketio, cafe)
            plan_rest_later(socketio, cafe)
        return pushed
    return _cafe_action(cafe_id, action)


@blueprint.post("/cafes/<int:cafe_id>/time")
@signed_in
def cafe_time(cafe_id: int):
    """Add minutes to the current round."""
    return _cafe_action(cafe_id, lambda cafe: add_time(
        session(), cafe, _number(request.form, "minutes")))


@blueprint.post("/cafes/<int:cafe_id>/end")
@signed_in
def cafe_end(cafe_id: int):
    """End the café."""
    return _cafe_action(cafe_id, lambda cafe: end_cafe(session(), cafe))


@blueprint.post("/cafes/<int:cafe_id>/attendees/<participant_id>/host")
@signed_in
def cafe_host(cafe_id: int, participant_id: str):
    """Make someone a table's host (a table number, or the lowest free one), or a guest."""
    def action(cafe):
        attendee = present_attendee(session(), cafe, participant_id)
        if attendee is None:
            raise CafeError(404, "not_found", "nobody here has this id")
        make_host = request.form.get("host", "yes") == "yes"
        set_host(session(), cafe, attendee, _number(request.form, "table"), host=make_host)
    return _cafe_action(cafe_id, action)


@blueprint.get("/cafes/<int:cafe_id>/print")
@signed_in
def cafe_print(cafe_id: int):
    """Printable plans, per table and per person, for people without phones."""
    cafe = own_cafe(cafe_id)
    plan = plan_view(cafe)
    return render_template("organiser/cafe_print.html", cafe=cafe, plan=plan,
                           people=plan_by_person(plan))


@blueprint.get("/cafes/<int:cafe_id>/plan.csv")
@signed_in
def cafe_plan(cafe_id: int):
    """The plan in ``matcher.rotate``'s CSV format."""
    cafe = own_cafe(cafe_id)
    return Response(cafe_plan_csv(cafe), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="cafe-{cafe.code}-plan.csv"'})
