"""`Hooks`: your own functions, run by the live mini-server in place of its built-in ones.

The extension point of the course's exercises. Each hook replaces one method of the server's
authentication strategy (`SessionAuth`, `BearerTokenAuth` or `CookieTokenAuth` in `auth.py`)
and receives that built-in strategy as its last argument, `auth`, to use its parts
(`auth.sessions`, `auth.tokens`, `auth.users`, `auth.cookie`) or to fall back on its methods:

    def require_session(request, auth):          # authenticate(request, auth) -> Principal
        ...
    server = CourseServer(mode="session", hooks=Hooks(authenticate=require_session)).start()

| hook | called for | returns |
|---|---|---|
| `authenticate(request, auth)` | every protected route | a `Principal`, or raises a `RequestError` (401...) |
| `login(user, request, auth)` | `POST /login`, once the password checked out | the response (`respond(...)`) |
| `logout(principal, auth)` | `POST /logout` | the response |
| `logout_all(principal, auth)` | `POST /logout-all` | the response |
| `refresh(request, auth)` | `POST /refresh` (servers started with `refresh=True`) | the response |
| `password_changed(principal, request, auth)` | `POST /account/password`, the password changed | the response |

A hook that raises anything but a `RequestError` makes that request fail with 500, and the
exception is kept in `server.app.state.auth.errors` (the exercises' checks report it in one line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from .auth import Principal
from .errors import RequestError
from .users import User

MAX_KEPT_ERRORS = 20


@dataclass(frozen=True)
class Hooks:
    """Functions that replace the built-in authenticate, login, logout, logout_all, refresh and password_changed."""

    authenticate: Callable[[Request, Any], Principal] | None = None
    login: Callable[[User, Request, Any], Response] | None = None
    logout: Callable[[Principal, Any], Response] | None = None
    logout_all: Callable[[Principal, Any], Response] | None = None
    refresh: Callable[[Request, Any], Response] | None = None
    password_changed: Callable[[Principal, Request, Any], Response] | None = None

    def around(self, auth: Any) -> HookedAuth:
        """The strategy `auth` with these hooks in front of it."""
        return HookedAuth(auth, self)


class HookedAuth:
    """A strategy that calls a hook where one is given and the built-in method elsewhere."""

    def __init__(self, inner: Any, hooks: Hooks) -> None:
        self.inner = inner
        self.hooks = hooks
        self.errors: list[BaseException] = []

    def __getattr__(self, name: str) -> Any:  # sessions, tokens, users, cookie... of the built-in strategy
        return getattr(self.inner, name)

    def _call(self, name: str, expected: type, *args: Any) -> Any:
        hook = getattr(self.hooks, name)
        if hook is None:
            return getattr(self.inner, name)(*args)
        try:
            result = hook(*args, self.inner)
            if not isinstance(result, expected):
                raise TypeError(f"{name} must return a {expected.__name__}, not {type(result).__name__}")
            return result
        except RequestError:
            raise
        except Exception as error:
            del self.errors[: -MAX_KEPT_ERRORS + 1]
            self.errors.append(error)
            raise

    def authenticate(self, request: Request) -> Principal:
        return self._call("authenticate", Principal, request)

    def login(self, user: User, request: Request) -> Response:
        return self._call("login", Response, user, request)

    def logout(self, principal: Principal) -> Response:
        return self._call("logout", Response, principal)

    def logout_all(self, principal: Principal) -> Response:
        return self._call("logout_all", Response, principal)

    def refresh(self, request: Request) -> Response:
        return self._call("refresh", Response, request)

    def password_changed(self, principal: Principal, request: Request) -> Response:
        return self._call("password_changed", Response, principal, request)
