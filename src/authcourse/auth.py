"""The three ways the mini-server knows who is calling, behind one small interface.

- `SessionAuth`: an opaque signed id in a cookie, looked up in the store on every request.
- `BearerTokenAuth`: a JWT in `Authorization: Bearer`, verified with the secret alone
  (plus one store read when a revocation scheme is on).
- `CookieTokenAuth`: the same JWT, carried in an HttpOnly cookie instead (the lesson's hybrid).
- `CrossSiteGuard`: a CSRF defence with no token: unsafe requests another site's page made are
  refused by the browser's own `Sec-Fetch-Site` header, or by `Origin` where that header is absent.

Each `authenticate` raises a `RequestError` subclass with the lesson's message, or returns
the `Principal`; `login`, `logout` and `logout_all` build the JSON response, cookies included.

After a password change (chapter 14, ASVS V7.4.3) `password_changed` ends what the mode can end
of the user's other logins and gives the caller a fresh credential; `list_sessions` and
`end_session` are the user's view of their active sessions (ASVS V7.5.2, session mode only).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

import jwt
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .cookies import Cookie
from .errors import BadRequest, Conflict, Forbidden, NotAuthenticated, NotFound, RequestError
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


# Where a request comes from: a CSRF defence that needs no token -----------------------------------

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # they must change nothing; the guard lets them through
SEC_FETCH_SITES = frozenset({"same-origin", "same-site", "cross-site", "none"})
TRUSTED_SITES = frozenset({"same-origin", "none"})  # none: typed by the user, a bookmark, not another page
MAX_ORIGIN_CHARS = 512  # an origin is a scheme, a host and a port; longer is not one
ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


def cross_site_refusal(method: str, headers: Mapping[str, str], own_origin: str,
                       trusted_origins: Collection[str] = ()) -> RequestError | None:
    """Why an unsafe request must be refused as another site's doing, or None to let it through.

    Every browser in use since 2023 sends `Sec-Fetch-Site`, and every browser sends `Origin` on a
    cross-origin POST; when both are absent the caller is not a browser (curl, a mobile app, a
    server), which no other site can steer: let it through. A sibling subdomain (same-site) is
    refused unless its origin is listed, like any other site: it may host other people's pages.
    """
    if method.upper() in SAFE_METHODS:
        return None
    origin = headers.get("origin")
    if origin is not None and len(origin) > MAX_ORIGIN_CHARS:
        return BadRequest("Origin header too long")
    site = headers.get("sec-fetch-site")
    if site is not None:
        site = site.strip().lower()
        if site not in SEC_FETCH_SITES:
            return BadRequest("Unknown Sec-Fetch-Site value")
        if site in TRUSTED_SITES or origin in trusted_origins:
            return None
        return Forbidden(f"Cross-site request refused (Sec-Fetch-Site: {site})")
    if origin is None:
        return None
    if origin == "null":
        return Forbidden("Cross-origin request refused (Origin: null)")
    if not ORIGIN.match(origin):
        return BadRequest("Malformed Origin header")
    if origin == own_origin or origin in trusted_origins:
        return None
    return Forbidden("Cross-origin request refused (Origin is another site)")


class CrossSiteGuard:
    """ASGI middleware: `cross_site_refusal` on every request, answered `{"error": ...}` before any route runs."""

    def __init__(self, app: ASGIApp, trusted_origins: Collection[str] = ()) -> None:
        self.app = app
        self.trusted_origins = frozenset(trusted_origins)  # e.g. {"https://app.bank.test"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            own = f"{scope.get('scheme', 'http')}://{headers.get('host', '').lower()}"
            refusal = cross_site_refusal(scope["method"], headers, own, self.trusted_origins)
            if refusal is not None:
                response = JSONResponse({"error": refusal.message}, status_code=refusal.status)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
