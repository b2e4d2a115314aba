"""The rules of the fields people type, in one place: their limits and their
checks, for trials, cafés, accounts and the files the command lines read
(docs/formats.md, docs/api.md). The services check with these; the API's
schemas and the people-file reader use the same limits.

Every check takes the error class of its service (a subclass of
:class:`~matcher.errors.ServiceError`) and raises it, 400, naming the field.
"""

from __future__ import annotations

import re
import unicodedata

from matcher.errors import ServiceError

__all__ = [
    "DEFAULT_GROUP_SIZE",
    "DEFAULT_ODD",
    "DEFAULT_ROUND_MINUTES",
    "DEFAULT_TABLE_SIZE",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_EMAIL_LENGTH",
    "MAX_FIELD_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "check_email",
    "check_seed",
    "check_text",
    "looks_like_email",
    "printable",
    "text",
    "unprintable",
]

#: Longest name of a person, a trial or a café, in characters.
MAX_NAME_LENGTH = 200
#: Longest text of any attribute field (department, organisation, site, role).
MAX_FIELD_LENGTH = 200
#: Longest description of a trial.
MAX_DESCRIPTION_LENGTH = 2000
#: Longest email address (RFC 3696's 320; the database column's size).
MAX_EMAIL_LENGTH = 320
#: What a new trial or café has unless it asks otherwise (docs/api.md).
DEFAULT_GROUP_SIZE = 2
DEFAULT_ODD = "triad"
DEFAULT_ROUND_MINUTES = 15
DEFAULT_TABLE_SIZE = 5
#: Shortest password accepted.
MIN_PASSWORD_LENGTH = 8
#: Longest password accepted (Argon2 takes any length; this bounds the work per request).
MAX_PASSWORD_LENGTH = 1024

# Something, an @, a domain with a dot: what a person would take for an
# address. Mail servers decide the rest.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def looks_like_email(value: str) -> bool:
    """Whether ``value`` looks like an email address (docs/formats.md).

    >>> looks_like_email("ada@example.org"), looks_like_email("ada@localhost")
    (True, False)
    """
    return bool(_EMAIL.fullmatch(value))


def check_text(value: object, field: str, *, required: bool, limit: int = MAX_FIELD_LENGTH,
               error: type[ServiceError] = ServiceError) -> str:
    """A text field from a request: runs of spaces made one, checked for
    presence and length; an ``error`` (400) names ``field``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise error(400, "invalid", f"{field} must be text", field)
    value = " ".join(value.split())
    if required and not value:
        raise error(400, "invalid", f"{field} is required", field)
    if len(value) > limit:
        raise error(400, "invalid", f"{field} is longer than {limit} characters", field)
    return value


def unprintable(value: str) -> bool:
    """Whether ``value`` has a control character (NUL among them, which
    PostgreSQL cannot store), a lone surrogate (which has no UTF-8) or a
    noncharacter (U+FFFE, U+FFFF and their kin: no XML, so no Word document,
    can hold them)."""
    return any(unicodedata.category(c) in ("Cc", "Cs") or _noncharacter(c) for c in value)


def _noncharacter(c: str) -> bool:
    point = ord(c)
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE


def printable(value: str, field: str, error: type[ServiceError]) -> str:
    """``value`` (already checked by :func:`check_text`), refused (400) if it
    has control characters or lone surrogates: no name, department or question
    needs them, and the database could not store some of them."""
    if unprintable(value):
        raise error(400, "invalid", f"{field} must not contain control characters", field)
    return value


def text(value: object, field: str, *, required: bool, error: type[ServiceError],
         limit: int = MAX_FIELD_LENGTH) -> str:
    """A text field a service stores: :func:`check_text`, then :func:`printable`."""
    return printable(check_text(value, field, required=required, limit=limit, error=error),
                     field, error)


def long_text(value: object, field: str, *, required: bool, limit: int,
              error: type[ServiceError]) -> str:
    """Free text that keeps its line breaks (a note, a pledge, what someone
    learnt): trailing spaces and blank lines at either end dropped; refused
    (400, naming ``field``) if missing when ``required``, too long, or with
    any other control character."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise error(400, "invalid", f"{field} must be text", field)
    lines = [line.rstrip() for line in value.replace("\r\n", "\n").replace("\r", "\n")
             .split("\n")]
    result = "\n".join(lines).strip()
    if any(unprintable(line.replace("\t", " ")) for line in lines):
        raise error(400, "invalid", f"{field} must not contain control characters", field)
    if required and not result:
        raise error(400, "invalid", f"{field} is required", field)
    if len(result) > limit:
        raise error(400, "invalid", f"{field} is longer than {limit} characters", field)
    return result


def check_email(value: object, *, required: bool, error: type[ServiceError]) -> str:
    """An email from a request, lower case; refused (400) unless it looks like
    an address and fits (measured after lowering: some letters grow)."""
    email = text(value, "email", required=required, limit=MAX_EMAIL_LENGTH, error=error).lower()
    if len(email) > MAX_EMAIL_LENGTH:
        raise error(400, "invalid", f"email is longer than {MAX_EMAIL_LENGTH} characters",
                    "email")
    if email and not looks_like_email(email):
        raise error(400, "invalid", "email does not look like an email address", "email")
    return email


def check_seed(value: object, error: type[ServiceError]) -> int | None:
    """A request's ``seed`` (``None``: a random one); refused (400) unless a
    whole number ≥ 0."""
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                              or value < 0):
        raise error(400, "invalid", "seed must be a whole number ≥ 0", "seed")
    return value
