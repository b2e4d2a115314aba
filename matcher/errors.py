"""The error every service raises for something a user asked that cannot be done."""

from __future__ import annotations

__all__ = ["ServiceError"]


class ServiceError(Exception):
    """Refused: ``status`` (HTTP-like: 400, 403, 404, 409), a short ``code``, the
    message, and ``field``, the input concerned (or ``None``)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field
