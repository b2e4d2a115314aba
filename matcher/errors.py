"""The error every service raises for something a user asked that cannot be done."""

from __future__ import annotations

__all__ = ["MAX_FIELD_LENGTH", "ServiceError", "check_text"]

#: Longest text of any attribute field (department, organisation, site, role).
MAX_FIELD_LENGTH = 200


class ServiceError(Exception):
    """Refused: ``status`` (HTTP-like: 400, 403, 404, 409), a short ``code``, the
    message, and ``field``, the input concerned (or ``None``)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field


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
