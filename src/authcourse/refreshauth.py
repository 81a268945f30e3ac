"""The token modes with refresh tokens (`--refresh`): `POST /refresh`, and login and logout that know about it.

Login hands out a short access token exactly as before (in the body, or in the `token` cookie)
plus a refresh token in an HttpOnly cookie that the browser sends to `/refresh` only
(`Path=/refresh; SameSite=Strict`). The access token names its family (`fam`), which is how
`/logout`, a path the refresh cookie never reaches, ends the family.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import Request
from fastapi.responses import JSONResponse

from .auth import BearerTokenAuth, CookieTokenAuth, Principal, respond
from .cookies import Cookie
from .errors import NotAuthenticated
from .refresh import InvalidRefreshToken, RefreshError, RefreshTokens
from .tokens import TokenService
from .users import User, UserDirectory

REFRESH_COOKIE = "refresh"
REFRESH_PATH = "/refresh"
FAMILY_CLAIM = "fam"


class RefreshMixin:
    """What refresh tokens add to a token strategy; the strategy says how an access token is delivered."""

    tokens: TokenService
    users: UserDirectory
    revocation: str
    refresh_tokens: RefreshTokens
    refresh_cookie: Cookie

    def setup_refresh(self, refresh_tokens: RefreshTokens, *, secure: bool) -> None:
        self.refresh_tokens = refresh_tokens
        self.refresh_cookie = Cookie(
            REFRESH_COOKIE,
            "",
            max_age=int(refresh_tokens.lifetime),
            path=REFRESH_PATH,
            secure=secure,
            same_site="Strict",
        )

    def deliver(
        self, user: User, access_token: str, message: str, *cookies: Cookie, extra: dict[str, str] | None = None
    ) -> JSONResponse:
        raise NotImplementedError

    def issue_in_family(self, user: User, family_id: str) -> str:
        version = self.tokens.current_version(user.id) if self.revocation == "version" else None
        return self.tokens.create_access_token(user.id, user.role, version=version, extra_claims={FAMILY_CLAIM: family_id})

    def login(self, user: User, request: Request) -> JSONResponse:
        family_id, refresh_token = self.refresh_tokens.start_family(user.id)
        cookie = replace(self.refresh_cookie, value=refresh_token)
        return self.deliver(user, self.issue_in_family(user, family_id), "Logged in", cookie)

    def refresh(self, request: Request) -> JSONResponse:
        """Trade the refresh cookie for a new access token and the next refresh token, or 401."""
        try:
            rotation = self.refresh_tokens.rotate(request.cookies.get(REFRESH_COOKIE))
            user = self.users.get(rotation.user_id)
            if user is None:
                self.refresh_tokens.end_family(rotation.family_id, rotation.user_id)
                raise InvalidRefreshToken()
        except RefreshError as error:
            raise NotAuthenticated(error.message, headers={"Set-Cookie": self.refresh_cookie.expired().render()}) from None
        cookie = replace(self.refresh_cookie, value=rotation.token)
        return self.deliver(user, self.issue_in_family(user, rotation.family_id), "Refreshed", cookie)

    def logout(self, principal: Principal) -> JSONResponse:
        family_id = (principal.claims or {}).get(FAMILY_CLAIM)
        if isinstance(family_id, str):
            self.refresh_tokens.end_family(family_id, principal.user.id)
        response = super().logout(principal)  # type: ignore[misc]
        response.headers.append("set-cookie", self.refresh_cookie.expired().render())
        return response

    def password_changed(self, principal: Principal, request: Request) -> JSONResponse:
        """End every refresh-token family of the user (ASVS V7.4.3) and start a new one for this client."""
        extra = self.end_other_tokens(principal)  # type: ignore[attr-defined]
        self.refresh_tokens.end_all_families(principal.user.id)
        family_id, refresh_token = self.refresh_tokens.start_family(principal.user.id)
        cookie = replace(self.refresh_cookie, value=refresh_token)
        access_token = self.issue_in_family(principal.user, family_id)
        return self.deliver(principal.user, access_token, "Password changed", cookie, extra=extra)

    def logout_all(self, principal: Principal) -> JSONResponse:
        response = super().logout_all(principal)  # type: ignore[misc]  # 409 unless revocation "version"
        self.refresh_tokens.end_all_families(principal.user.id)
        response.headers.append("set-cookie", self.refresh_cookie.expired().render())
        return response


class RefreshingBearerAuth(RefreshMixin, BearerTokenAuth):
    """Token mode with refresh: the access token in the body, the refresh token in its cookie."""

    def __init__(
        self, tokens: TokenService, users: UserDirectory, revocation: str, refresh_tokens: RefreshTokens, *, secure: bool = False
    ) -> None:
        super().__init__(tokens, users, revocation)
        self.setup_refresh(refresh_tokens, secure=secure)

    def deliver(
        self, user: User, access_token: str, message: str, *cookies: Cookie, extra: dict[str, str] | None = None
    ) -> JSONResponse:
        return respond({"token": access_token, **(extra or {})}, *cookies)


class RefreshingCookieTokenAuth(RefreshMixin, CookieTokenAuth):
    """Cookie-token mode with refresh: both tokens in HttpOnly cookies, on different paths."""

    def __init__(
        self, tokens: TokenService, users: UserDirectory, revocation: str, refresh_tokens: RefreshTokens, *, secure: bool = False
    ) -> None:
        super().__init__(tokens, users, revocation, secure=secure)
        self.setup_refresh(refresh_tokens, secure=secure)

    def deliver(
        self, user: User, access_token: str, message: str, *cookies: Cookie, extra: dict[str, str] | None = None
    ) -> JSONResponse:
        body = {"message": message, "user": {"id": user.id, "name": user.name}, **(extra or {})}
        return respond(body, replace(self.cookie, value=access_token), *cookies)
