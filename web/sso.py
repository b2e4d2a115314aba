"""Single sign-on for organisers with OpenID Connect (docs/security.md, "Single
sign-on"): the organisation's own sign-in service (Microsoft Entra ID, Google
Workspace, Okta...) tells us who someone is, and an organiser whose verified
email is theirs is signed in, exactly as with a password.

The flow is OpenID Connect Core 1.0's authorization code flow (§3.1), through
Authlib's Flask client, with ``state`` (RFC 6749 §10.12), a ``nonce`` (Core
§3.1.2.1) and PKCE with S256 (RFC 7636), all kept in the signed session
cookie. Who checks what of the answer:

- ``state``: Authlib (its saved data is found only under the state that came
  back, and is used once);
- the ID token (Core §3.1.3.7): Authlib verifies its signature with the
  provider's JWKS, its expiry (``exp``, a minute's leeway), ``iat`` not in the
  future, its ``nonce`` and ``azp``; this module adds the issuer (the one
  configured, which discovery must confirm: OpenID Connect Discovery 1.0 §4.3),
  the audience (this client and nobody else: Core §3.1.3.7, item 3), the
  required ``sub``, and the algorithms: asymmetric ones only (never ``none``,
  never a shared secret), whatever the discovery document lists;
- who may sign in: :func:`matcher.accounts.organiser_for_sso` (a verified email,
  an allowed domain, an existing organiser account).

Nothing reaches the provider when the app is made: its discovery document is
fetched on the first sign-in (Authlib's ``server_metadata_url``) and kept.
Every refusal is the app's message page with a 4xx status and the reason (502
when the provider cannot be reached), and signs nobody in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask import session as cookie
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    UnsupportedAlgorithmError,
)
from requests import RequestException

from matcher.accounts import AccountError, organiser_for_sso
from web.extensions import session

__all__ = ["SIGNING_ALGORITHMS", "blueprint", "init_app", "oidc_settings"]

blueprint = Blueprint("sso", __name__, url_prefix="/organiser/login")

#: The ID token signatures accepted: public-key ones only (RFC 7518 §3.1, RFC 8037).
#: OpenID Connect Core 1.0 §3.1.3.7 (item 7) makes RS256 the default.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                      "ES256", "ES384", "ES512", "EdDSA")
#: Clock skew allowed on ``exp`` and ``iat``, in seconds.
LEEWAY = 60
#: Seconds to wait for the provider (discovery, keys, token).
TIMEOUT = 10
#: What the app asks for: an ID token with the email and whether it is verified.
SCOPE = "openid email profile"
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]"
                     r"(?:[a-z0-9-]{0,61}[a-z0-9])?")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Settings:
    """Single sign-on as configured (``MATCHER_OIDC_*``)."""

    issuer: str
    client_id: str
    client_secret: str
    domains: frozenset[str]
    name: str

    @property
    def discovery_url(self) -> str:
        # OpenID Connect Discovery 1.0 §4: a terminating "/" of the issuer is
        # removed before the well-known path is appended.
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def oidc_settings(config) -> Settings | None:
    """The single sign-on settings of an app's ``config``, or ``None`` when no
    issuer is set; ``ValueError`` naming the variable for one that is missing
    or cannot be used (``python -m matcher serve`` then refuses to start)."""
    issuer = (config.get("OIDC_ISSUER") or "").strip()
    if not issuer:
        return None
    address = urlsplit(issuer)
    if address.scheme not in ("https", "http") or not address.hostname \
            or address.query or address.fragment:
        raise ValueError(f"MATCHER_OIDC_ISSUER must be the provider's https:// URL, "
                         f"not {issuer!r}")
    if address.scheme == "http" and address.hostname not in _LOOPBACK:
        # OpenID Connect Discovery 1.0 §2: the issuer is an https URL (plain
        # http only on this machine's loopback, which never leaves it).
        raise ValueError(f"MATCHER_OIDC_ISSUER must use https://, not {issuer!r}")
    for key in ("CLIENT_ID", "CLIENT_SECRET", "DOMAINS"):
        if not config.get(f"OIDC_{key}"):
            raise ValueError(f"MATCHER_OIDC_{key} must be set when MATCHER_OIDC_ISSUER is "
                             + ("(the email domains whose organisers may sign in with it, "
                                "comma-separated, e.g. nhs.net)" if key == "DOMAINS" else
                                "(from the app's registration with the provider)"))
    domains = config["OIDC_DOMAINS"]
    if isinstance(domains, str):
        domains = domains.split(",")
    cleaned = {str(domain).strip().lower().removeprefix("@") for domain in domains}
    cleaned.discard("")
    wrong = sorted(domain for domain in cleaned if not _DOMAIN.fullmatch(domain))
    if not cleaned or wrong:
        raise ValueError("MATCHER_OIDC_DOMAINS must be email domains, comma-separated "
                         f"(e.g. nhs.net,example.org), not {config['OIDC_DOMAINS']!r}")
    return Settings(issuer, str(config["OIDC_CLIENT_ID"]).strip(),
                    str(config["OIDC_CLIENT_SECRET"]), frozenset(cleaned),
                    (config.get("OIDC_NAME") or "").strip() or "your organisation's account")


class ProviderProblem(Exception):
    """The provider's discovery document cannot be used as it is."""


class _Provider(FlaskOAuth2App):
    """Authlib's Flask client, with the provider's discovery document checked
    when it is first fetched."""

    expected_issuer = ""

    def load_server_metadata(self):
        if "_loaded_at" in self.server_metadata:
            return self.server_metadata
        metadata = super().load_server_metadata()
        try:
            issuer = metadata.get("issuer")
            # OpenID Connect Discovery 1.0 §4.3: the issuer it states is the one
            # it was fetched for.
            if not isinstance(issuer, str) or \
                    issuer.rstrip("/") != self.expected_issuer.rstrip("/"):
                raise ProviderProblem(f"its discovery document names the issuer {issuer!r}, "
                                      f"not {self.expected_issuer!r}")
            for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(metadata.get(endpoint), str):
                    raise ProviderProblem(f"its discovery document has no {endpoint}")
            # Never "none", never HS256 (a secret we share with the provider):
            # only the public-key algorithms it lists, or Core's default, RS256.
            listed = metadata.get("id_token_signing_alg_values_supported") or []
            metadata["id_token_signing_alg_values_supported"] = [
                alg for alg in SIGNING_ALGORITHMS if alg in listed] or ["RS256"]
            # Keys come from jwks_uri only.
            metadata.pop("jwks", None)
        except ProviderProblem:
            self.server_metadata.clear()
            raise
        return metadata


def init_app(app: Flask) -> None:
    """Register the sign-in routes on ``app`` and, when single sign-on is
    configured, its Authlib client (no request to the provider yet)."""
    settings = oidc_settings(app.config)
    app.extensions["matcher.sso"] = settings
    app.register_blueprint(blueprint)
    if settings is None:
        return
    oauth = OAuth(app)
    client = oauth.register(
        "matcher_oidc", client_cls=_Provider, client_id=settings.client_id,
        client_secret=settings.client_secret, server_metadata_url=settings.discovery_url,
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256",
                       "default_timeout": TIMEOUT})
    client.expected_issuer = settings.issuer
    app.extensions["matcher.sso.client"] = client


def _settings() -> Settings | None:
    return current_app.extensions.get("matcher.sso")


def _client() -> _Provider:
    return current_app.extensions["matcher.sso.client"]


def _target(value: object) -> str | None:
    """Where to go once signed in: an organiser page of this site, else ``None``
    (the dashboard), as the password sign-in allows."""
    if isinstance(value, str) and (value == "/organiser" or value.startswith("/organiser/")) \
            and "\\" not in value:
        return value
    return None


def _refused(status: int, heading: str, text: str, why: str):
    current_app.logger.warning("single sign-on refused (%s): %s", status, why)
    return render_template("message.html", heading=heading, text=text), status


def _unreachable(settings: Settings, error: Exception):
    return _refused(502, "Sign-in unavailable",
                    f"Signing in with {settings.name} is not possible at the moment: the "
                    "sign-in service could not be reached or answered in a way this app "
                    "cannot use. Sign in with your password, or try again later.",
                    f"provider: {error!r}")


@blueprint.get("/sso")
def start():
    """Send the browser to the provider to sign in (the authorization request,
    OpenID Connect Core 1.0 §3.1.2.1), with a new state, nonce and PKCE verifier."""
    settings = _settings()
    if settings is None:  # not set up here: the password form
        return redirect(url_for("organiser.login"), 303)
    client = _client()
    callback_url = url_for("sso.callback", _external=True)
    try:
        made = client.create_authorization_url(callback_url)
    except (AuthlibBaseError, ProviderProblem, RequestException, RuntimeError,
            ValueError) as exc:
        return _unreachable(settings, exc)
    # Saved in the session under the state (Authlib's own record), with where to go after.
    client.save_authorize_data(redirect_uri=callback_url,
                               next=_target(request.args.get("next")), **made)
    return redirect(made["url"], 302)


@blueprint.get("/sso/callback")
def callback():
    """The provider's answer (Core §3.1.2.5): exchange the code for tokens,
    verify the ID token, and sign in the organiser it names, if any."""
    settings = _settings()
    if settings is None:
        return redirect(url_for("organiser.login"), 303)
    client = _client()
    again = "Nobody has been signed in. Go back to the sign-in page and try again."
    error = request.args.get("error")
    if error:
        # Core §3.1.2.6: the provider refused (access_denied, login_required...).
        client.framework.clear_state_data(cookie, request.args.get("state"))
        # Only a code of the specifications is shown, never the description:
        # anyone can write any text into this URL.
        said = _PROVIDER_ERRORS.get(error, "it gave no reason this app knows")
        return _refused(403, "Not signed in",
                        f"Signing in with {settings.name} was refused or cancelled: {said}. "
                        f"{again}", f"provider error {error[:100]!r}: "
                        f"{request.args.get('error_description', '')[:300]!r}")
    saved = client.framework.get_state_data(cookie, request.args.get("state")) or {}
    try:
        metadata = client.load_server_metadata()
        token = client.authorize_access_token(
            leeway=LEEWAY, claims_options=_claims_options(metadata["issuer"],
                                                          settings.client_id))
    except MismatchingStateError as exc:
        return _refused(400, "Sign-in expired",
                        "This answer from the sign-in service does not belong to a sign-in "
                        "started in this browser (it may have been used already, or taken "
                        f"more than an hour). {again}", repr(exc))
    except JoseError as exc:
        return _refused(400, "Sign-in not verified",
                        f"The answer from {settings.name} could not be verified: "
                        f"{_jose_reason(exc)}. {again}", repr(exc))
    except AuthlibBaseError as exc:
        # No code, or the token endpoint refused it (RFC 6749 §5.2): used, expired, wrong.
        return _refused(400, "Sign-in not completed",
                        "The sign-in service's answer could not be exchanged for your "
                        f"identity ({exc.error}). {again}", repr(exc))
    except (ProviderProblem, RequestException, RuntimeError, ValueError) as exc:
        return _unreachable(settings, exc)
    claims = token.get("userinfo")
    if not claims:
        return _refused(400, "Sign-in not verified",
                        f"The answer from {settings.name} had no ID token. {again}",
                        "no id_token")
    try:
        organiser = organiser_for_sso(session(), claims.get("email"),
                                      claims.get("email_verified"), settings.domains)
    except AccountError as exc:
        heading, advice = _ADVICE.get(exc.code, ("Not signed in", ""))
        text = str(exc)
        return _refused(exc.status, heading, f"{text[0].upper()}{text[1:]}. {advice}".strip(),
                        f"{exc.code}: {text}")
    # As the password sign-in does: a new session (nothing of the old one is
    # kept, the sign-in's state included), then the organiser.
    cookie.clear()
    cookie["organiser_id"] = organiser.id
    return redirect(saved.get("next") or url_for("organiser.dashboard"), 303)


def _claims_options(issuer: str, client_id: str) -> dict:
    """What the ID token's claims must be (Core §3.1.3.7): issued by the
    provider (item 2) for this client alone (item 3), about someone (``sub``),
    with an expiry (item 9) and a time of issue."""
    return {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id,
                "validate": lambda _claims, aud: aud == client_id or aud == [client_id]},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }


def _jose_reason(error: JoseError) -> str:
    if isinstance(error, BadSignatureError):
        return "its signature is not one of the sign-in service's keys"
    if isinstance(error, InvalidKeyIdError):
        return "it is signed with a key the sign-in service does not publish"
    if isinstance(error, UnsupportedAlgorithmError):
        return "it is signed in a way this app does not accept"
    if isinstance(error, ExpiredTokenError):
        return "it has expired"
    if isinstance(error, ClaimError):
        return {
            "nonce": "it answers another sign-in (its nonce is not this sign-in's)",
            "iss": "it was not issued by the sign-in service this app trusts",
            "aud": "it was issued for another application",
            "azp": "it was issued for another application",
        }.get(error.claim, f"its {error.claim!r} claim is missing or wrong")
    return "it is not a valid ID token"


#: The provider's error codes (RFC 6749 §4.1.2.1, OpenID Connect Core 1.0
#: §3.1.2.6), as a person reads them.
_PROVIDER_ERRORS = {
    "access_denied": "you, or your organisation, did not allow it",
    "login_required": "you are not signed in there",
    "interaction_required": "it needs you to do something there first",
    "consent_required": "it needs your consent first",
    "account_selection_required": "it needs you to choose an account",
    "temporarily_unavailable": "the sign-in service is busy; try again in a moment",
    "server_error": "the sign-in service had a problem",
    "invalid_request": "it did not understand this app's request",
    "invalid_scope": "it did not understand this app's request",
    "unsupported_response_type": "it did not understand this app's request",
    "unauthorized_client": "this app is not allowed to use it",
}

#: Each refusal of :func:`organiser_for_sso`: a heading and what to do.
_ADVICE = {
    "no_account": ("No organiser account",
                   "Ask an organiser for an invitation: once they have made your account, "
                   "sign in here again."),
    "domain": ("Not an organisation of this app",
               "Sign in with your work account, or with your password."),
    "unverified": ("Email not verified",
                   "Ask your organisation's IT team to verify your email address, or sign "
                   "in with your password."),
    "no_email": ("No email address",
                 "Ask your organisation's IT team to let this app see your email address."),
}
