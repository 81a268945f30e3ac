"""The three ways the mini-server knows who is calling, behind one small interface.

- `SessionAuth`: an opaque signed id in a cookie, looked up in the store on every request.
- `BearerTokenAuth`: a JWT in `Authorization: Bearer`, verified with the secret alone
  (plus one store read when a revocation scheme is on).
- `CookieTokenAuth`: the same JWT, carried in an HttpOnly cookie instead (the lesson's hybrid).

Each `authenticate` raises a `RequestError` subclass with the lesson's message, or returns
the `Principal`; `login`, `logout` and `logout_all` build the JSON response, cookies included.

After a password change (chapter 14, ASVS V7.4.3) `password_changed` ends what the mode can end
of the user's other logins and gives the caller a fresh credential; `list_sessions` and
`end_session` are the user's view of their active sessions (ASVS V7.5.2, session mode only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import jwt
from fastapi import Request
from fastapi.responses import JSONResponse

from .cookies import Cookie
from .errors import Conflict, NotAuthenticated, NotFound
from .sessions import Session, SessionManager, handle_of
from .tokens import TokenService
from .users import User, UserDirectory

SESSION_COOKIE = "sid"
TOKEN_COOKIE = "token"
MAX_TOKEN_CHARS = 4096  # far above any token we issue; longer input is refused unread


@dataclass
class Principal:
    """Who made the request, and by what credential."""

    user: User
    session: Session | None = None
    claims: dict[str, Any] | None = None


def respond(body: dict[str, Any], *cookies: Cookie, status: int = 200) -> JSONResponse:
    response = JSONResponse(body, status_code=status)
    for cookie in cookies:
        response.headers.append("set-cookie", cookie.render())
    return response


class SessionAuth:
    def __init__(self, sessions: SessionManager, users: UserDirectory, *, secure: bool = False) -> None:
        self.sessions = sessions
        self.users = users
        self.cookie = Cookie(
            SESSION_COOKIE, "", max_age=int(sessions.absolute_timeout), secure=secure, same_site="Lax"
        )

    def authenticate(self, request: Request) -> Principal:
        session = self.sessions.load_session(request.cookies.get(SESSION_COOKIE))
        user = self.users.get(session.user_id) if session else None
        if user is None:
            raise NotAuthenticated()
        return Principal(user, session=session)

    def login(self, user: User, request: Request) -> JSONResponse:
        # Never reuse an id the client brought (session fixation): end it, then mint a new one.
        previous = self.sessions.load_session(request.cookies.get(SESSION_COOKIE))
        if previous is not None:
            self.sessions.destroy_session(previous)
        session = self.sessions.create_session(user.id, user.role, device=request.headers.get("user-agent", ""))
        cookie = replace(self.cookie, value=self.sessions.sign(session.id))
        return respond({"message": "Logged in", "user": {"id": user.id, "name": user.name}}, cookie)

    def logout(self, principal: Principal) -> JSONResponse:
        assert principal.session is not None
        self.sessions.destroy_session(principal.session)
        return respond({"message": "Logged out"}, self.cookie.expired())

    def logout_all(self, principal: Principal) -> JSONResponse:
        count = self.sessions.destroy_all_for_user(principal.user.id)
        return respond({"message": "Logged out everywhere", "sessions_ended": count}, self.cookie.expired())

    def password_changed(self, principal: Principal, request: Request) -> JSONResponse:
        """End every session of the user (ASVS V7.4.3), then give this client a new one, under a new id."""
        assert principal.session is not None
        ended = self.sessions.destroy_all_for_user(principal.user.id)
        user = principal.user
        session = self.sessions.create_session(user.id, user.role, device=principal.session.device)
        cookie = replace(self.cookie, value=self.sessions.sign(session.id))
        return respond({"message": "Password changed", "other_sessions_ended": max(ended - 1, 0)}, cookie)

    def list_sessions(self, principal: Principal) -> JSONResponse:
        """The user's active sessions, each named by a handle that is not its id (ASVS V7.5.2)."""
        assert principal.session is not None
        current = handle_of(self.sessions.stored_form(principal.session.id))
        rows = [
            {"handle": info.handle, "device": info.device, "created_at": info.created_at,
             "last_seen": info.last_seen, "current": info.handle == current}
            for info in self.sessions.list_sessions(principal.user.id)
        ]
        return respond({"sessions": rows})

    def end_session(self, principal: Principal, handle: str) -> JSONResponse:
        """End one of the user's own sessions by its handle; anyone else's handle is 404, as is garbage."""
        assert principal.session is not None
        if not self.sessions.destroy_by_handle(principal.user.id, handle):
            raise NotFound("No such session")
        if handle == handle_of(self.sessions.stored_form(principal.session.id)):
            return respond({"message": "Session ended"}, self.cookie.expired())
        return respond({"message": "Session ended"})


class BearerTokenAuth:
    missing = "No token provided"
    invalid = "Invalid or expired token"
    revoked = "Token revoked"

    def __init__(self, tokens: TokenService, users: UserDirectory, revocation: str) -> None:
        self.tokens = tokens
        self.users = users
        self.revocation = revocation

    def _refuse(self, message: str, error: str | None = None) -> NotAuthenticated:
        challenge = "Bearer" if error is None else f'Bearer error="{error}"'
        return NotAuthenticated(message, headers={"WWW-Authenticate": challenge})

    def token_from(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def authenticate(self, request: Request) -> Principal:
        token = self.token_from(request)
        if token is None:
            raise self._refuse(self.missing)
        try:
            if len(token) > MAX_TOKEN_CHARS:
                raise jwt.DecodeError("token too long")
            claims = self.tokens.decode_token(token)
            user_id = int(claims["sub"])
        except (jwt.InvalidTokenError, ValueError):
            raise self._refuse(self.invalid, "invalid_token") from None
        if self.revocation == "blacklist" and self.tokens.is_revoked(claims):
            raise self._refuse(self.revoked, "invalid_token")
        if self.revocation == "version" and not self.tokens.is_current_version(claims):
            raise self._refuse(self.revoked, "invalid_token")
        user = self.users.get(user_id)
        if user is None:
            raise self._refuse(self.invalid, "invalid_token")
        return Principal(user, claims=claims)

    def issue(self, user: User) -> str:
        version = self.tokens.current_version(user.id) if self.revocation == "version" else None
        return self.tokens.create_access_token(user.id, user.role, version=version)

    def login(self, user: User, request: Request) -> JSONResponse:
        return respond({"token": self.issue(user)})

    def _revoke(self, principal: Principal) -> None:
        assert principal.claims is not None
        if self.revocation == "blacklist":
            self.tokens.revoke_token(principal.claims)
        elif self.revocation == "version":
            self.tokens.revoke_all_for_user(principal.user.id)
        # revocation "none": the lesson's behaviour, the client forgets and the token lives on.

    def logout(self, principal: Principal) -> JSONResponse:
        self._revoke(principal)
        return respond({"message": "Logged out"})

    def logout_all(self, principal: Principal) -> JSONResponse:
        if self.revocation != "version":
            raise Conflict(
                f"Logging out everywhere needs --revocation version: with revocation {self.revocation!r} "
                "the server cannot refuse tokens it has not seen"
            )
        self.tokens.revoke_all_for_user(principal.user.id)
        return respond({"message": "Logged out everywhere"})

    def end_other_tokens(self, principal: Principal) -> dict[str, str]:
        """After a password change: refuse every access token issued so far where the mode can."""
        if self.revocation == "version":
            self.tokens.revoke_all_for_user(principal.user.id)  # this one included: a new one follows
            return {}
        if self.revocation == "blacklist" and principal.claims is not None:
            self.tokens.revoke_token(principal.claims)
        return {"warning": "Other access tokens stay valid until they expire: only --revocation version ends them"}

    def password_changed(self, principal: Principal, request: Request) -> JSONResponse:
        extra = self.end_other_tokens(principal)
        return respond({"message": "Password changed", "token": self.issue(principal.user), **extra})

    def list_sessions(self, principal: Principal) -> JSONResponse:
        raise Conflict("The list of active sessions needs --mode session: a token leaves no record on the server")

    def end_session(self, principal: Principal, handle: str) -> JSONResponse:
        raise Conflict("Ending one session needs --mode session: a token leaves no record on the server")


class CookieTokenAuth(BearerTokenAuth):
    """The lesson's hybrid: a JWT, but in an HttpOnly cookie that page scripts cannot read."""

    def __init__(self, tokens: TokenService, users: UserDirectory, revocation: str, *, secure: bool = False) -> None:
        super().__init__(tokens, users, revocation)
        self.cookie = Cookie(TOKEN_COOKIE, "", max_age=int(tokens.lifetime), secure=secure, same_site="Strict")

    def _refuse(self, message: str, error: str | None = None) -> NotAuthenticated:
        return NotAuthenticated(message)  # no WWW-Authenticate: the credential is a cookie

    def token_from(self, request: Request) -> str | None:
        return request.cookies.get(TOKEN_COOKIE) or None

    def login(self, user: User, request: Request) -> JSONResponse:
        cookie = replace(self.cookie, value=self.issue(user))
        return respond({"message": "Logged in", "user": {"id": user.id, "name": user.name}}, cookie)

    def logout(self, principal: Principal) -> JSONResponse:
        self._revoke(principal)
        return respond({"message": "Logged out"}, self.cookie.expired())

    def logout_all(self, principal: Principal) -> JSONResponse:
        response = super().logout_all(principal)
        response.headers.append("set-cookie", self.cookie.expired().render())
        return response

    def password_changed(self, principal: Principal, request: Request) -> JSONResponse:
        extra = self.end_other_tokens(principal)
        cookie = replace(self.cookie, value=self.issue(principal.user))
        return respond({"message": "Password changed", **extra}, cookie)
