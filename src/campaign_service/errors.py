"""Errors the service raises on purpose; the API turns each into Vapi's error body."""

from __future__ import annotations


class AppError(Exception):
    """Base of every deliberate error; carries the HTTP status it maps to."""

    status_code = 500

    def __init__(self, message: str | list[str]) -> None:
        super().__init__(message if isinstance(message, str) else "; ".join(message))
        self.message = message


class BadRequest(AppError):
    """Invalid input or a refused state change (Vapi answers both with 400)."""

    status_code = 400


class Unauthorized(AppError):
    status_code = 401


class NotFound(AppError):
    status_code = 404


class TooManyRequests(AppError):
    """Refused for now; `retry_after` seconds later it may be tried again."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
