"""A real OpenID Connect provider on this machine's loopback, for the single
sign-on tests (web/sso.py; docs/security.md, "Single sign-on").

:class:`Provider` is a small Flask app served over HTTP by Werkzeug in a thread
of the test process: discovery (OpenID Connect Discovery 1.0 §4), its keys
(a JWKS with one RSA key), an authorization endpoint that signs in the
person the test chose at once (no page: it redirects straight back with a
code), and a token endpoint that checks the code (once only, for the client
and redirect URI it was issued to), the client's credentials and the PKCE
verifier (RFC 7636 §4.6), then returns an ID token signed with RS256 with
``iss``, ``aud``, ``sub``, ``exp``, ``iat``, ``nonce``, ``email`` and
``email_verified``.

What it does is set by :attr:`Provider.behaviour` (a :class:`Behaviour`): who
signs in, and the ways it may misbehave on purpose (another key, another
nonce, issuer or audience, an expired token, an unsigned one, an error
instead of a code, a state that is not the one sent...). Everything it was
sent is kept in :attr:`Provider.seen`.

:func:`serve` runs any WSGI app the same way (the tests serve the matcher app
with it, so the app's calls to the provider and the browser's redirects are
real HTTP both ways).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import warnings
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jws, jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

CLIENT_ID = "matcher-tests"
CLIENT_SECRET = "a client secret for the tests"
KEY_ID = "test-key-1"


@dataclass
class Behaviour:
    """What the provider does at the next sign-in (the defaults: all correct)."""

    email: str = "ann@nhs.uk"
    #: The claim as sent (``None``: left out of the ID token).
    email_verified: object = True
    sub: str = "subject-1"
    #: "published": the key in the JWKS; "other": another key under the same
    #: key id (a forged signature); "unknown": another key under another id;
    #: "none": no signature at all (``alg: none``).
    sign_with: str = "published"
    #: Sent in place of the request's nonce (``None``: the request's).
    nonce: str | None = None
    #: Whether the ID token carries a nonce at all.
    send_nonce: bool = True
    issuer: str | None = None        # in place of the provider's own
    audience: object = None          # in place of the client id (a string or a list)
    expires_in: int = 300            # seconds; negative: already expired
    #: An error sent back instead of a code (Core §3.1.2.6), e.g. "access_denied".
    error: str | None = None
    #: Sent back in place of the request's state ("" : none at all).
    state: str | None = None
    #: Whether the token response carries an ID token.
    id_token: bool = True
    #: An error the token endpoint answers with instead of tokens (RFC 6749 §5.2).
    token_error: str | None = None
    #: The algorithms the discovery document lists (e.g. with "none").
    algorithms: tuple[str, ...] = ("RS256",)
    #: The issuer the discovery document names (``None``: its own).
    discovery_issuer: str | None = None


@dataclass
class Served:
    """A WSGI app served on the loopback: its address; ``stop()`` ends it."""

    base: str
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class _Quiet(WSGIRequestHandler):
    """No line on standard error per request."""

    def log_request(self, *args, **kwargs) -> None:
        pass


def serve(app, host: str = "127.0.0.1") -> Served:
    """Serve ``app`` over HTTP on a free port of ``host`` in a thread (Werkzeug's
    threaded server)."""
    server = make_server(host, 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="wsgi-" + str(server.port),
                              daemon=True)
    thread.start()
    return Served(f"http://{host}:{server.port}", server, thread)


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str
    method: str
    behaviour: Behaviour
    used: bool = False


@dataclass
class Provider:
    """The provider (see the module's docstring); :meth:`start` serves it."""

    behaviour: Behaviour = field(default_factory=Behaviour)
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    served: Served | None = None
    #: What each endpoint was sent, newest last: ("authorize", args), ("token", form).
    seen: list = field(default_factory=list)

    def __post_init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig",
                                                         "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
        self.unknown_key = RSAKey.generate_key(2048, parameters={"kid": "not-published"})
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    @property
    def issuer(self) -> str:
        return self.served.base

    def start(self) -> Provider:
        self.served = serve(self._app())
        return self

    def stop(self) -> None:
        if self.served is not None:
            self.served.stop()

    def reset(self, **behaviour) -> Behaviour:
        """Behave as ``Behaviour(**behaviour)`` from now on; forget what was seen."""
        self.behaviour = Behaviour(**behaviour)
        self.seen.clear()
        return self.behaviour

    def settings(self, **more) -> dict:
        """The matcher app's settings for this provider (``create_app``'s config)."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": self.client_id,
                "OIDC_CLIENT_SECRET": self.client_secret, "OIDC_DOMAINS": "nhs.uk",
                "OIDC_NAME": "NHS account", **more}

    def environment(self, **more) -> dict[str, str]:
        """The same as ``MATCHER_OIDC_*`` variables (for a server in a subprocess)."""
        return {f"MATCHER_{key}": str(value) for key, value in self.settings(**more).items()}

    # --- the endpoints -------------------------------------------------------------

    def _app(self) -> Flask:
        app = Flask("tests.support.oidc")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            base = self.issuer
            return jsonify({
                "issuer": self.behaviour.discovery_issuer or base,
                "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token",
                "jwks_uri": base + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": list(self.behaviour.algorithms),
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["iss", "aud", "sub", "exp", "iat", "nonce", "email",
                                     "email_verified"],
            })

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([self.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            args = request.args.to_dict()
            self.seen.append(("authorize", args))
            behaviour = self.behaviour
            if args.get("client_id") != self.client_id or not args.get("redirect_uri"):
                abort(400, "unknown client or no redirect_uri")  # never redirect then
            target = args["redirect_uri"]
            state = args.get("state") if behaviour.state is None else behaviour.state
            answer = {"state": state} if state else {}
            if behaviour.error:
                answer.update(error=behaviour.error,
                              error_description=f"the test provider says {behaviour.error}")
            elif (args.get("response_type") != "code"
                  or "openid" not in args.get("scope", "").split()
                  or args.get("code_challenge_method") != "S256"
                  or not args.get("code_challenge")):
                answer.update(error="invalid_request",
                              error_description="code flow with openid and PKCE S256 only")
            else:
                code = secrets.token_urlsafe(24)
                with self._lock:
                    self._grants[code] = _Grant(args["client_id"], target, args.get("nonce"),
                                                args["code_challenge"],
                                                args["code_challenge_method"], behaviour)
                answer["code"] = code
            return redirect(f"{target}{'&' if '?' in target else '?'}{urlencode(answer)}",
                            302)

        @app.post("/token")
        def token():
            form = request.form.to_dict()
            self.seen.append(("token", form))
            client_id, secret = _client_credentials(form)
            if client_id != self.client_id or not hmac.compare_digest(
                    secret.encode(), self.client_secret.encode()):
                return _token_error("invalid_client", 401)
            if form.get("grant_type") != "authorization_code":
                return _token_error("unsupported_grant_type")
            with self._lock:
                grant = self._grants.get(form.get("code", ""))
                if grant is None or grant.used:
                    return _token_error("invalid_grant")
                grant.used = True  # RFC 6749 §4.1.2: a code works once
            if grant.client_id != client_id or grant.redirect_uri != form.get("redirect_uri"):
                return _token_error("invalid_grant")
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not verifier or not hmac.compare_digest(challenge, grant.challenge):
                return _token_error("invalid_grant")  # RFC 7636 §4.6
            if grant.behaviour.token_error:
                return _token_error(grant.behaviour.token_error)
            answer = {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                      "expires_in": 300}
            if grant.behaviour.id_token:
                answer["id_token"] = self.id_token(grant.behaviour, grant.nonce)
            return jsonify(answer)

        return app

    def id_token(self, behaviour: Behaviour, nonce: str | None) -> str:
        """An ID token as ``behaviour`` says, for a request that sent ``nonce``."""
        now = int(time.time())
        claims = {"iss": behaviour.issuer or self.issuer,
                  "aud": self.client_id if behaviour.audience is None else behaviour.audience,
                  "sub": behaviour.sub, "iat": now, "exp": now + behaviour.expires_in,
                  "email": behaviour.email}
        if behaviour.email_verified is not None:
            claims["email_verified"] = behaviour.email_verified
        if behaviour.send_nonce:
            claims["nonce"] = behaviour.nonce if behaviour.nonce is not None else nonce
        if behaviour.sign_with == "none":
            with warnings.catch_warnings():  # joserfc warns that "none" is unsafe: it is
                warnings.simplefilter("ignore")
                return jws.serialize_compact({"alg": "none"}, json.dumps(claims).encode(),
                                             None, algorithms=["none"])
        key = {"published": self.key, "other": self.other_key,
               "unknown": self.unknown_key}[behaviour.sign_with]
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _client_credentials(form: dict) -> tuple[str, str]:
    """client_secret_basic (RFC 6749 §2.3.1), else client_secret_post."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except ValueError:
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id", ""), form.get("client_secret", "")


def _token_error(error: str, status: int = 400):
    return jsonify({"error": error, "error_description": f"the test provider says {error}"}), \
        status

