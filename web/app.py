"""The Flask app (``web.create_app``): its settings, its database, its blueprints
and Socket.IO."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Request, g, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from matcher import db
from matcher.actions import action_token
from matcher.cafes import NEXT_ROUND_STEPS
from matcher.harvest import pledge_composer
from matcher.introductions import Links, composers, sealed_page
from matcher.jobs import make_jobs
from matcher.mail import mailer_for
from matcher.outbox import Outbox, sealer
from matcher.times import utc_now
from matcher.trials import expire_pending, trial_schedule
from web.events import register_events
from web.extensions import session, socketio
from web.push import mail_due, publish_due
from web.security import init_security

__all__ = ["create_app", "queue_channel"]


class Config:
    """Settings from ``MATCHER_*`` environment variables."""

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("MATCHER_SECRET_KEY") or os.urandom(32).hex()
        self.DATABASE_URL = os.environ.get(db.DATABASE_URL_VARIABLE) or None
        self.MESSAGE_QUEUE = os.environ.get("MATCHER_MESSAGE_QUEUE") or None
        # The job queue's folder when it is a SQLite file (no MESSAGE_QUEUE):
        # default, the instance folder (matcher.jobs).
        self.QUEUE_FOLDER = os.environ.get("MATCHER_QUEUE_FOLDER") or None
        # Whether `serve` runs a mail worker itself (off: `python -m matcher worker`
        # runs them elsewhere).
        self.WORKER = os.environ.get("MATCHER_WORKER", "1") != "0"
        # Where participants' links are mailed (matcher.mail); default: an outbox
        # folder of .eml files in the instance folder.
        self.MAIL_URL = os.environ.get("MATCHER_MAIL_URL") or None
        self.MAIL_FROM = os.environ.get("MATCHER_MAIL_FROM") or "matcher <matcher@localhost>"
        # The address people reach the app at, for the links in mail sent in the
        # background (a scheduled round's introductions): e.g. https://matcher.example.org
        self.BASE_URL = os.environ.get("MATCHER_BASE_URL") or "http://localhost:5000"
        self.MAX_CONTENT_LENGTH = 1024 * 1024
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_HTTPONLY = True
        # Secure over HTTPS anyway (web.security); set this to insist on it.
        self.SESSION_COOKIE_SECURE = os.environ.get("MATCHER_SECURE_COOKIES") == "1"
        # Reverse proxies in front of the app whose X-Forwarded-* headers to trust.
        self.PROXIES = _whole_number("MATCHER_PROXIES", 0)
        # Rate-limit counters: in memory for one process; a Redis URL for several.
        self.RATELIMIT_STORAGE_URI = os.environ.get("MATCHER_RATELIMIT_STORAGE") or "memory://"
        self.ROUND_TIME_LIMIT = 10.0
        # Seconds a café's "next round" may spend re-planning (people are waiting),
        # and optionally the most steps of the search (then the same café and
        # seed give the same plan however busy the machine: tests set it).
        self.CAFE_TIME_LIMIT = 2.0
        #: Seconds for planning a quick-started café's later rounds, in the
        #: background while its first round is played (nobody waits on it).
        self.CAFE_REFINE_LIMIT = 20.0
        self.CAFE_STEPS = _whole_number("MATCHER_CAFE_STEPS", NEXT_ROUND_STEPS, least=1)
        # Single sign-on for organisers with OpenID Connect (web.sso; docs/security.md,
        # "Single sign-on"): the provider's issuer URL (discovery at
        # {issuer}/.well-known/openid-configuration, fetched on first use), this
        # app's client id and secret there, and the email domains whose organisers
        # may sign in with it (comma-separated; required with an issuer). Unset
        # issuer: organisers sign in with their password only.
        self.OIDC_ISSUER = os.environ.get("MATCHER_OIDC_ISSUER", "").strip() or None
        self.OIDC_CLIENT_ID = os.environ.get("MATCHER_OIDC_CLIENT_ID", "").strip() or None
        self.OIDC_CLIENT_SECRET = os.environ.get("MATCHER_OIDC_CLIENT_SECRET") or None
        self.OIDC_DOMAINS = os.environ.get("MATCHER_OIDC_DOMAINS", "").strip() or None
        # The sign-in button's words: "Sign in with {OIDC_NAME}".
        self.OIDC_NAME = (os.environ.get("MATCHER_OIDC_NAME", "").strip()
                          or "your organisation's account")
        # "gevent" under `python -m matcher serve`; threads elsewhere (tests, shells).
        self.ASYNC_MODE = "threading"


def forget_unconfirmed(app: Flask) -> int:
    """Forget the sign-ups whose confirmation link has expired (docs/api.md)."""
    with app.app_context():
        db = session()
        count = expire_pending(db, utc_now())
        db.commit()
        return count


def _whole_number(variable: str, default: int | None, *, least: int = 0) -> int | None:
    """The whole number in environment variable ``variable`` (``default`` if unset
    or empty); ``ValueError`` naming the variable for anything else."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < least:
        raise ValueError(f"{variable} must be a whole number of at least {least}, "
                         f"not {value!r}")
    return int(value)


class _Request(Request):
    """JSON nested deeper than Python's recursion limit is a body that is not
    JSON (400), like any other, not a crash."""

    def get_json(self, *args, **kwargs):
        try:
            return super().get_json(*args, **kwargs)
        except RecursionError:
            if kwargs.get("silent") or (len(args) > 1 and args[1]):
                return None
            raise BadRequest("the body is not JSON") from None


class _Id(IntegerConverter):
    """Ids in URLs: whole numbers; one larger than a database column holds names
    nothing (0, which no row has: 404). Not refused by the converter: Werkzeug
    would then answer other methods on the URL with 405 instead of 404."""

    LARGEST = 2**31 - 1

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= self.LARGEST else 0


def queue_channel(database_url: str) -> str:
    """The message-queue channel of the processes serving ``database_url``."""
    return "matcher-" + hashlib.sha256(str(database_url).encode()).hexdigest()[:16]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, the instance folder, then ``config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = _Request
    app.url_map.converters["int"] = _Id
    app.config.from_object(Config())
    app.config.from_pyfile("config.py", silent=True)
    if config:
        app.config.update(config)
        if config.get("TESTING") and "WTF_CSRF_ENABLED" not in config:
            # The Flask test client posts forms without a page to take a token
            # from; CSRF has its own tests (and the real server always checks).
            app.config["WTF_CSRF_ENABLED"] = False
        if config.get("TESTING") and "RATELIMIT_ENABLED" not in config:
            app.config["RATELIMIT_ENABLED"] = False
    url = app.config["DATABASE_URL"] or db.database_url(app.instance_path)
    engine = db.make_engine(url)
    db.upgrade(engine)
    app.extensions["matcher.engine"] = engine
    app.extensions["matcher.sessions"] = db.make_session_factory(engine)
    mail_url = app.config["MAIL_URL"] or Path(app.instance_path, "outbox").as_uri()
    mailer = mailer_for(mail_url, app.config["MAIL_FROM"])
    app.extensions["matcher.mailer"] = mailer
    # Mail goes through the outbox (matcher.outbox), sealed with the secret key,
    # and is delivered by the job queue's worker (matcher.jobs).
    seal = sealer(app.config["SECRET_KEY"])
    app.extensions["matcher.seal"] = seal
    app.config["QUEUE_CHANNEL"] = queue_channel(url)
    app.extensions["matcher.jobs"] = make_jobs(
        app.config["MESSAGE_QUEUE"], app.config["QUEUE_FOLDER"] or app.instance_path,
        Outbox(app.extensions["matcher.sessions"], mailer, seal),
        name=app.config["QUEUE_CHANNEL"])

    @app.errorhandler(IntegrityError)
    def conflict(_error: IntegrityError):
        """Two requests raced (two publishes, two sign-ups with one email): the
        loser's transaction is rolled back whole and told so."""
        session = g.get("db_session")
        if session is not None:
            session.rollback()
        message = "someone else changed this at the same moment; try again"
        if request.path.startswith("/api/"):
            return {"error": {"code": "conflict", "message": message}}, 409
        return render_template("message.html", heading="Please try again", text=message), 409

    @app.teardown_appcontext
    def close_session(_error: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    from web import actions, analytics, api, cafes, evaluation, harvest, home, organiser, trials

    app.register_blueprint(api.blueprint)
    app.register_blueprint(home.blueprint)
    app.register_blueprint(actions.blueprint)
    app.register_blueprint(trials.blueprint)
    app.register_blueprint(organiser.blueprint)
    app.register_blueprint(cafes.blueprint)
    app.register_blueprint(analytics.blueprint)
    app.register_blueprint(evaluation.blueprint)
    app.register_blueprint(harvest.blueprint)
    from web import team

    app.register_blueprint(team.blueprint)  # co-organisers (docs/security.md)
    from web import sso

    sso.init_app(app)  # its settings checked; the provider is reached on first use only
    # Socket.IO accepts browsers from this site only (its default same-origin check).
    # Processes share a queue channel when they share a database: two
    # deployments (or test runs) on one Redis never hear each other's events.
    socketio.init_app(app, message_queue=app.config["MESSAGE_QUEUE"],
                      channel=app.config["QUEUE_CHANNEL"], async_mode=app.config["ASYNC_MODE"])
    register_events(socketio)
    # What comes due by the clock: scheduled rounds, then reminders and check-ins,
    # and sign-ups never confirmed are forgotten.
    app.extensions["matcher.jobs"].tick = lambda: (publish_due(app), mail_due(app),
                                                   forget_unconfirmed(app))

    def link_for(token: str) -> str:
        """A personal page's link, for mail composed away from any request."""
        with app.test_request_context("/", base_url=app.config["BASE_URL"]):
            return url_for("trials.me_page", token=token, _external=True)

    def action_for(action: str, membership, **details) -> str:
        """An action link (matcher.actions), for mail composed away from any request."""
        token = action_token(app.config["SECRET_KEY"], action, membership, **details)
        return f"{app.config['BASE_URL'].rstrip('/')}/a/{action}/{token}"

    app.extensions["matcher.jobs"].outbox.composers.update(composers(
        Links(sealed_page(seal, link_for), action_for), mailer.sender, trial_schedule))
    app.extensions["matcher.jobs"].outbox.composers.update(pledge_composer(mailer.sender))
    init_security(app)
    return app
