"""Exercise 10: refresh tokens with rotation and reuse detection, over the package's Store.

The learner's class is called directly, and also plugged into a live token server started with
`refresh=True`: its login hands out the learner's refresh token in the server's refresh cookie,
and `POST /refresh` rotates it with the learner's `rotate`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from ...clock import later
from ...auth import respond
from ...errors import NotAuthenticated
from ...hooks import Hooks
from ...stores import MemoryStore
from ..runtime import Exercise, expect
from .support import cookie_value, expect_status, live_server, login, request, shown

REUSED = "Refresh token reused"
INVALID = "Invalid refresh token"
LIFETIME = 30 * 24 * 3600  # seconds


class Lab:
    def __init__(self, cls: Any) -> None:
        self.store = MemoryStore()
        self.tokens = cls(self.store, lifetime=LIFETIME)


class Refreshing:
    """The learner's class, and a live token server whose login and /refresh use it (started on first use)."""

    def __init__(self, cls: Any) -> None:
        self.cls = cls
        self.manager: Any = None
        self.server: Any = None

    def live(self) -> Any:
        if self.server is None:
            tokens = self.cls(MemoryStore(), lifetime=LIFETIME)

            def on_login(user: Any, req: Any, auth: Any) -> Any:
                token = auth.tokens.create_access_token(user.id, user.role)
                return respond({"token": token}, replace(auth.refresh_cookie, value=tokens.issue(user.id)))

            def on_refresh(req: Any, auth: Any) -> Any:
                user_id, new = tokens.rotate(req.cookies.get("refresh"))
                user = auth.users.get(int(user_id))
                token = auth.tokens.create_access_token(user.id, user.role)
                return respond({"token": token}, replace(auth.refresh_cookie, value=new))

            self.manager = live_server("token", Hooks(login=on_login, refresh=on_refresh), refresh=True)
            self.server = self.manager.__enter__()
        return self.server

    def close(self) -> None:
        if self.manager is not None:
            self.manager.__exit__(None, None, None)


@contextmanager
def context(namespace: Mapping[str, Any]) -> Iterator[Any]:
    refreshing = Refreshing(namespace["RefreshTokens"])
    try:
        yield refreshing
    finally:
        refreshing.close()


EXERCISE = Exercise("refresh-tokens", ("RefreshTokens",), context=context)


def refused(rotate: Any, token: str, message: str, why: str) -> None:
    try:
        result = rotate(token)
    except NotAuthenticated as error:
        expect(error.message == message, f'raised NotAuthenticated("{error.message}"), expected "{message}": {why}')
        return
    expect(False, f"rotate accepted it and returned {result!r:.40}: {why}")


def rotated(lab: Lab, token: str) -> str:
    user_id, new = lab.tokens.rotate(token)
    expect(user_id == 1, f"rotate returned user {user_id!r}, expected 1")
    return new


@EXERCISE.case("issue gives long random tokens (at least 128 bits)")
def random_tokens(ctx: Any) -> None:
    lab = Lab(ctx.cls)
    tokens = {lab.tokens.issue(1) for _ in range(20)}
    expect(len(tokens) == 20, "two issued tokens are equal")
    expect(
        all(isinstance(t, str) and len(t) >= 22 for t in tokens),
        "tokens must be >= 22 url-safe characters: use secrets",
    )


@EXERCISE.case("rotate returns the user and a new token")
def rotates(ctx: Any) -> None:
    lab = Lab(ctx.cls)
    first = lab.tokens.issue(1)
    expect(rotated(lab, first) != first, "rotate returned the same token: rotation means a new one every time")


@EXERCISE.case("the new token can be rotated in its turn")
def chain(ctx: Any) -> None:
    lab = Lab(ctx.cls)
    rotated(lab, rotated(lab, rotated(lab, lab.tokens.issue(1))))


@EXERCISE.case(f'replaying a used token raises NotAuthenticated("{REUSED}")')
def replay(ctx: Any) -> None:
    lab = Lab(ctx.cls)
    first = lab.tokens.issue(1)
    rotated(lab, first)
    refused(lab.tokens.rotate, first, REUSED, "a used token must never work twice")


@EXERCISE.case("after a replay, the newest token of that family is refused too")
def family(ctx: Any) -> None:
    lab = Lab(ctx.cls)
    first = lab.tokens.issue(1)
    newest = rotated(lab, first)
    try:
        lab.tokens.rotate(first)
    except NotAuthenticated:
        pass
    refused(lab.tokens.rotate, newest, INVALID, "a replay means the token was stolen: revoke the whole family")


@EXERCISE.case("another login of the same user (another family) is not affected")
def other_family(ctx: Any) -> None:
    lab = Lab(ctx.cls)
    laptop, phone = lab.tokens.issue(1), lab.tokens.issue(1)
    rotated(lab, laptop)
    try:
        lab.tokens.rotate(laptop)
    except NotAuthenticated:
        pass
    rotated(lab, phone)


@EXERCISE.case(f'an unknown token raises NotAuthenticated("{INVALID}")', hidden=True)
def unknown(ctx: Any) -> None:
    lab = Lab(ctx.cls)
    refused(lab.tokens.rotate, "made-up-token-0123456789abcdef", INVALID, "only tokens you issued count")


@EXERCISE.case("every key the tokens leave in the store expires", hidden=True)
def ttls(ctx: Any) -> None:
    lab = Lab(ctx.cls)
    first = lab.tokens.issue(1)
    rotated(lab, first)
    forever = [key for key in lab.store.keys() if lab.store.ttl(key) is None]
    expect(not forever, f"keys without a TTL grow forever: {', '.join(forever)[:60]}")


@EXERCISE.case("a token past its lifetime is refused", hidden=True)
def expired(ctx: Any) -> None:
    lab = Lab(ctx.cls)
    token = lab.tokens.issue(1)
    with later(seconds=LIFETIME + 60):
        refused(lab.tokens.rotate, token, INVALID, "a refresh token expires too")


def refresh_over_http(server: Any, cookie: str | None) -> Any:
    return request(server, "POST", "/refresh", headers={"Cookie": f"refresh={cookie}"} if cookie else {})


@EXERCISE.case("over HTTP: POST /refresh trades the login's refresh cookie for a working token and a new cookie")
def http_rotation(ctx: Any) -> None:
    server = ctx.live()
    first = cookie_value(login(server), "refresh")
    expect(first, "the login set no refresh cookie: issue must return a token a cookie can carry")
    response = refresh_over_http(server, first)
    expect_status(response, 200)
    second = cookie_value(response, "refresh")
    expect(second and second != first, f"/refresh answered {shown(response)} without a new refresh cookie")
    access = response.json()["token"]
    expect_status(request(server, "GET", "/api/profile", headers={"Authorization": f"Bearer {access}"}), 200)


@EXERCISE.case(f"over HTTP: a replayed refresh cookie gets 401 {REUSED}, then the newest one is refused too")
def http_replay(ctx: Any) -> None:
    server = ctx.live()
    first = cookie_value(login(server), "refresh")
    newest = cookie_value(refresh_over_http(server, first), "refresh")
    expect_status(refresh_over_http(server, first), 401, REUSED)
    expect_status(refresh_over_http(server, newest), 401, INVALID, why="the thief's replay must end the family")
