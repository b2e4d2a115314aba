"""Protection of the app as a whole: CSRF on every form, rate limits, cookies
that follow the connection (Secure over HTTPS), the real client address
behind a reverse proxy, and the headers of every response (docs/security.md).

Rate limits count per client address (docs/api.md) and must let a real event
through: a whole hospital often shares one address, so sign-ups and café
joins get limits far above what an event needs, while *failed guesses*
(wrong join codes, passwords and tokens: any 401, 403 or 404) share one tight
limit across the whole app, Socket.IO connections included.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, abort, current_app, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits import parse
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from web.headers import HSTS, SECURITY_HEADERS

__all__ = ["FAILED_GUESSES", "csrf", "guess_allowed", "init_security", "limiter",
           "record_failed_guess"]

#: Failed guesses per client address, all routes and Socket.IO together.
FAILED_GUESSES = "60 per minute;600 per hour"
#: Sign-ups to one trial per address: 500 in ten minutes must all succeed.
SIGNUPS = "2000 per 10 minutes"
#: Joins of one café per address: 1,000 in two minutes must all succeed.
CAFE_JOINS = "3000 per 2 minutes"
#: Notes and votes per participant: a table typing freely (a note every few
#: seconds from each person) stays well inside; a script posting hundreds does not.
NOTES = "30 per minute;300 per hour"
VOTES = "240 per minute"
#: Status codes that mean a guess failed.
FAILURES = (401, 403, 404)

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address,
                  application_limits=[FAILED_GUESSES],
                  application_limits_deduct_when=lambda response:
                      response.status_code in FAILURES)


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the request came over HTTPS
    (directly, or through a proxy trusted with ``MATCHER_PROXIES``)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_security(app: Flask) -> None:
    """CSRF, rate limits, cookies and proxies for ``app`` (after Socket.IO is
    set up, so the proxy fix covers its requests too)."""
    app.session_interface = _SessionInterface()
    csrf.init_app(app)
    from web import api

    csrf.exempt(api.blueprint)  # bearer tokens, no cookies: nothing to forge
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    for endpoint, limit in (("api.signup_to_trial", SIGNUPS), ("trials.join_submit", SIGNUPS),
                            ("api.join", CAFE_JOINS), ("cafes.join_submit", CAFE_JOINS)):
        _limit(app, endpoint, limit, _address_and_target)
    for endpoint, limit in (("api.new_note", NOTES), ("cafes.note_submit", NOTES),
                            ("api.vote_for", VOTES), ("api.take_vote_back", VOTES),
                            ("cafes.vote_submit", VOTES)):
        _limit(app, endpoint, limit, _participant)
    proxies = int(app.config.get("PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,
                                x_host=proxies, x_port=proxies)

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded):
        message = "too many requests from your network; wait a minute and try again"
        if request.path.startswith("/api/"):
            return {"error": {"code": "too_many_requests", "message": message}}, 429
        return render_template("message.html", heading="Please wait a moment",
                               text=message[0].upper() + message[1:] + "."), 429

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    @app.before_request
    def refuse_nul_in_path():
        # No code, token or key contains NUL (and PostgreSQL cannot compare it).
        if "\x00" in request.path:
            abort(404)

    @app.errorhandler(HTTPException)
    def api_errors_as_json(error: HTTPException):
        """URLs under /api/ that match no route (or no method) answer in the
        API's error shape too; pages get the app's own page (styled, readable
        on a phone), not Flask's bare one."""
        # Werkzeug's own headers, e.g. a 405's Allow (RFC 9110: the methods there are).
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if not request.path.startswith("/api/"):
            heading, text = _PAGE_ERRORS.get(error.code, (error.name, error.description))
            return render_template("message.html", heading=heading, text=text), error.code, \
                headers
        code = (error.name or "error").lower().replace(" ", "_")
        return {"error": {"code": code, "message": error.description or error.name}}, \
            error.code or 500, headers

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        return render_template(
            "message.html", heading="Please try again",
            text="This form has expired or did not come from this site. Go back, reload "
                 "the page and send it again."), 400

    @app.errorhandler(413)
    def too_large(error):
        message = f"the request is larger than {app.config['MAX_CONTENT_LENGTH'] // 1024} kB"
        if request.path.startswith("/api/"):
            return {"error": {"code": "too_large", "message": message}}, 413
        return render_template("message.html", heading="Too large",
                               text=message[0].upper() + message[1:] + "."), 413


#: What a page says for the errors people meet (others: Werkzeug's wording).
_PAGE_ERRORS = {
    403: ("Not yours to see", "This page belongs to someone else. If you are an organiser, "
                              "sign in with the account that made it."),
    404: ("Not found", "There is nothing at this address. If a link brought you here, it "
                       "may have been replaced by a newer one, or what it led to was "
                       "deleted."),
}


def _limit(app: Flask, endpoint: str, limit: str, key) -> None:
    """Give the view of ``endpoint`` its own limit. The limited view replaces the
    registered one: Flask-Limiter checks a decorated limit when the decorated
    function runs, so a decorated copy left unregistered would never count."""
    app.view_functions[endpoint] = limiter.limit(limit, key_func=key)(
        app.view_functions[endpoint])


def _address_and_target() -> str:
    """Limits per address and per trial or café (one event does not use up another's)."""
    target = request.view_args or {}
    return f"{get_remote_address()}:{target.get('trial_id') or target.get('code') or ''}"


def _participant() -> str:
    """Limits per participant: their token (a bearer, or their page's link) under
    an HMAC of the app's secret, so that the limiter's storage holds neither the
    token nor the hash the database keeps of it (nothing there leads back to an
    attendee, as an anonymous café's notes must not)."""
    header = request.headers.get("Authorization", "")
    token = header.partition(" ")[2].strip() or (request.view_args or {}).get("token", "")
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return "participant:" + hmac.new(secret, b"limit:" + token.encode(),
                                     hashlib.sha256).hexdigest()


_GUESSES = [parse(one) for one in FAILED_GUESSES.split(";")]


def _guess_key() -> str:
    return f"guesses:{get_remote_address()}"


def guess_allowed() -> bool:
    """Whether this client address may still try a credential (Socket.IO)."""
    if not limiter.enabled:
        return True
    return all(limiter.limiter.test(limit, _guess_key()) for limit in _GUESSES)


def record_failed_guess() -> None:
    """Count a refused credential of this client address (Socket.IO)."""
    if limiter.enabled:
        for limit in _GUESSES:
            limiter.limiter.hit(limit, _guess_key())
