"""Organiser accounts: create them, check passwords, find the organiser of an API
token, and the organiser a single sign-on identity signs in as.

Services take a SQLAlchemy ``Session`` and never commit: the caller (a view, a
command) owns the transaction. Only hashes are stored: an API token's SHA-256
(the token is random, so a fast hash is enough; it is shown once, at creation),
and a password's Argon2id hash. Errors a user can cause are
:class:`AccountError` with the field concerned and an HTTP-like status.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.errors import ServiceError
from matcher.models import ApiToken, Organiser
from matcher.validation import (
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    looks_like_email,
)

__all__ = [
    "AccountError",
    "check_password",
    "create_organiser",
    "email_domain",
    "organiser_by_email",
    "organiser_for_sso",
    "organiser_for_token",
    "set_password",
    "validate_password",
]

# Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile).
_hasher = PasswordHasher()


class AccountError(ServiceError):
    """An account cannot be created or changed as asked."""


@cache
def _dummy_hash() -> str:
    # Checked against when there is no organiser or no password, so that a
    # failed login takes as long whether or not the account exists.
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _email(email: object) -> str:
    if not isinstance(email, str):
        raise AccountError(400, "invalid", "email must be text", "email")
    email = email.strip().lower()
    if not email:
        raise AccountError(400, "invalid", "email is required", "email")
    if len(email) > MAX_EMAIL_LENGTH:
        raise AccountError(400, "invalid",
                           f"email is longer than {MAX_EMAIL_LENGTH} characters", "email")
    if not looks_like_email(email):
        raise AccountError(400, "invalid",
                           f"{email!r} does not look like an email address", "email")
    return email


def validate_password(password: object) -> str:
    """``password`` if it is acceptable, else :class:`AccountError` saying why."""
    if not isinstance(password, str):
        raise AccountError(400, "invalid", "password must be text", "password")
    if not password:
        raise AccountError(400, "invalid", "password is empty", "password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(400, "invalid",
                           f"password is shorter than {MIN_PASSWORD_LENGTH} characters",
                           "password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(400, "invalid",
                           f"password is longer than {MAX_PASSWORD_LENGTH} characters",
                           "password")
    return password


def set_password(organiser: Organiser, password: str) -> None:
    """Give ``organiser`` a new password (stored as its Argon2id hash)."""
    organiser.password_hash = _hasher.hash(validate_password(password))


def create_organiser(
    session: Session, email: str, name: str = "", password: str | None = None
) -> tuple[Organiser, str]:
    """Create an organiser account; return it and a new API token.

    The email is lower-cased; an organiser without a password signs in with
    the token only. The token is returned once and only its SHA-256 is stored.
    Raises :class:`AccountError`: 400 for a bad email, name or password, 409 if
    an organiser has the email already (if that is found only on flush, a
    concurrent creation, the session must be rolled back).
    """
    email = _email(email)
    if not isinstance(name, str):
        raise AccountError(400, "invalid", "name must be text", "name")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(400, "invalid",
                           f"name is longer than {MAX_NAME_LENGTH} characters", "name")
    if password is not None:
        validate_password(password)
    if session.scalar(select(Organiser.id).where(Organiser.email == email)) is not None:
        raise AccountError(409, "conflict", f"an organiser with email {email} exists already",
                           "email")

    organiser = Organiser(email=email, name=name)
    if password is not None:
        set_password(organiser, password)
    token = secrets.token_urlsafe(32)
    organiser.tokens.append(ApiToken(token_hash=hash_token(token)))
    session.add(organiser)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AccountError(409, "conflict", f"an organiser with email {email} exists already",
                           "email") from exc
    return organiser, token


def organiser_for_token(session: Session, token: str | None) -> Organiser | None:
    """The organiser whose API token is ``token``, or ``None``."""
    if not isinstance(token, str) or not token:
        return None
    try:
        digest = hash_token(token)
    except UnicodeEncodeError:  # lone surrogates: not a token we ever issued
        return None
    found = session.execute(
        select(Organiser, ApiToken.token_hash)
        .join(ApiToken, ApiToken.organiser_id == Organiser.id)
        .where(ApiToken.token_hash == digest)
    ).first()
    if found is None or not hmac.compare_digest(found.token_hash, digest):
        return None
    return found.Organiser


def check_password(organiser: Organiser | None, password: str) -> bool:
    """Whether ``password`` is the password of ``organiser``.

    ``False`` for no organiser, an organiser without a password, or a password
    that is not text; it takes about as long either way, so a login form does
    not reveal which emails have accounts.
    """
    stored = organiser.password_hash if organiser is not None else None
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        password = ""
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def organiser_by_email(session: Session, email: object) -> Organiser | None:
    """The organiser whose email is ``email`` (emails are kept lower-cased, so in
    any case), or ``None``."""
    if not isinstance(email, str) or "\x00" in email:
        return None
    email = email.strip().lower()
    if not email or len(email) > MAX_EMAIL_LENGTH:
        return None
    return session.scalar(select(Organiser).where(Organiser.email == email))


def email_domain(email: str) -> str:
    """The domain of ``email``, lower-cased: what follows its last ``@``.

    >>> email_domain("Ann.Lee@NHS.net")
    'nhs.net'
    """
    return email.rpartition("@")[2].strip().lower()


def organiser_for_sso(session: Session, email: object, email_verified: object,
                      domains) -> Organiser:
    """The organiser that an identity from the organisation's sign-in service
    (an OpenID Connect provider, whose ID token the caller has verified) signs
    in as: matched by email, and only by an email that the provider says is
    verified (OpenID Connect Core 1.0 §5.1, ``email_verified``: the JSON value
    ``true``, nothing else) and whose domain is one of ``domains``, exactly
    (``evilnhs.uk`` is not ``nhs.uk``, nor is ``mail.nhs.uk``). No account is
    ever made here: an organiser account is made by an organiser.

    Raises :class:`AccountError` (403) saying which of these failed
    (docs/security.md, "Single sign-on").
    """
    if not isinstance(email, str) or not looks_like_email(email.strip()) \
            or len(email) > MAX_EMAIL_LENGTH:
        raise AccountError(403, "no_email", "the sign-in service gave no usable email "
                                            "address for this account", "email")
    email = email.strip().lower()
    if email_verified is not True:
        raise AccountError(403, "unverified", f"the sign-in service does not confirm that "
                                              f"{email} is verified", "email")
    allowed = {domain.strip().lower() for domain in domains}
    if email_domain(email) not in allowed:
        raise AccountError(403, "domain", f"only addresses at {_listed(sorted(allowed))} "
                                          f"sign in here, and {email} is not one", "email")
    organiser = organiser_by_email(session, email)
    if organiser is None:
        raise AccountError(403, "no_account", f"there is no organiser account for {email}",
                           "email")
    return organiser


def _listed(names: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    if not names:
        return "no domain"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
