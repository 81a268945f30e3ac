"""The one exception tree of authcourse.

`AuthcourseError` is the root. A setup mistake (`ConfigurationError`) is a different branch
from a request the server refuses (`RequestError`); each `RequestError` knows its HTTP status
and carries the exact message the client sees as `{"error": message}`.
"""

from __future__ import annotations


class AuthcourseError(Exception):
    """Base class of every error raised by authcourse."""


class ConfigurationError(AuthcourseError):
    """Raised when the server or a component is set up wrongly (weak secret, bad store URL...)."""


class StoreError(AuthcourseError):
    """Raised when the key-value store cannot be reached or answers nonsense."""


class PasswordTooLong(AuthcourseError, ValueError):
    """Raised when a password is longer than the 72 bytes bcrypt can use."""


class RequestError(AuthcourseError):
    """Raised to refuse a request; rendered as `{"error": message}` with `status`."""

    status: int = 400
    message: str = "Bad request"

    def __init__(
        self, message: str | None = None, *, status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self.message = message or self.message
        self.status = status or self.status
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(RequestError):
    """Raised when the request body is malformed or has the wrong shape."""


class InvalidCredentials(RequestError):
    """Raised when the email or the password is wrong (the two are never told apart)."""

    status = 401
    message = "Invalid credentials"


class NotAuthenticated(RequestError):
    """Raised when a request carries no valid session or token."""

    status = 401
    message = "Not authenticated"


class Forbidden(RequestError):
    """Raised when an authenticated user lacks the role a route needs."""

    status = 403
    message = "Forbidden"


class NotFound(RequestError):
    """Raised when what the request names does not exist, or is not the caller's to see."""

    status = 404
    message = "Not found"


class Conflict(RequestError):
    """Raised when the server's mode cannot do what was asked (logout everywhere without versions)."""

    status = 409
    message = "Conflict"


class ServiceUnavailable(RequestError):
    """Raised when the store is down: the request may succeed later."""

    status = 503
    message = "Session store unavailable"
