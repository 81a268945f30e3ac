"""Exercise 10: refresh tokens with rotation and reuse detection, over the package's Store.

The learner's class is plugged into a live token server started with `refresh=True` over the
shared store: its login hands out the learner's refresh token in the server's refresh cookie, and
`POST /refresh` rotates it with the learner's `rotate` (a `NotAuthenticated` is a 401).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import jwt

from ...tokens import AUDIENCE, ISSUER
from ..remote import Remote, RemoteServer
from ..runtime import Exercise, expect
from .support import cookie_value, expect_status, login, request, shown

REUSED = "Refresh token reused"
INVALID = "Invalid refresh token"
LIFETIME = 30 * 24 * 3600  # seconds


def context(remote: Remote) -> AbstractContextManager[RemoteServer]:
    return nullcontext(remote.start("refresh_server"))


EXERCISE = Exercise("refresh-tokens", ("RefreshTokens",), context=context)


def refresh(server: RemoteServer, cookie: str | None) -> Any:
    return request(server, "POST", "/refresh", headers={"Cookie": f"refresh={cookie}"} if cookie else {})


def issued(server: RemoteServer) -> str:
    """A login's refresh token (the learner's `issue`), from the refresh cookie."""
    response = login(server)
    expect_status(response, 200)
    token = cookie_value(response, "refresh")
    expect(token, f"the login set no refresh cookie ({shown(response)}): issue must return a token a cookie can carry")
    return str(token)


def rotated(server: RemoteServer, token: str) -> str:
    """The new refresh token `rotate` gave, after checking the access token is Alice's."""
    response = refresh(server, token)
    expect_status(response, 200, why="a fresh refresh token must rotate")
    new = cookie_value(response, "refresh")
    expect(new, f"/refresh answered {shown(response)} without a new refresh cookie")
    expect(new != token, "rotate returned the same token: rotation means a new one every time")
    claims = jwt.decode(response.json()["token"], server.secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    expect(claims["sub"] == "1", f"rotate returned user {claims['sub']}, expected 1 (Alice)")
    return str(new)


def refused(server: RemoteServer, token: str, message: str, why: str) -> None:
    expect_status(refresh(server, token), 401, message, why=why)


@EXERCISE.case("issue gives long random tokens (at least 128 bits)")
def random_tokens(server: RemoteServer) -> None:
    tokens = {issued(server) for _ in range(12)}
    expect(len(tokens) == 12, "two issued tokens are equal")
    expect(all(len(t) >= 22 for t in tokens), "tokens must be >= 22 url-safe characters: use secrets")


@EXERCISE.case("rotate returns the user and a new token, and the new access token works")
def rotates(server: RemoteServer) -> None:
    first = issued(server)
    response = refresh(server, first)
    expect_status(response, 200)
    access = response.json()["token"]
    expect_status(request(server, "GET", "/api/profile", headers={"Authorization": f"Bearer {access}"}), 200)
    rotated(server, issued(server))


@EXERCISE.case("the new token can be rotated in its turn")
def chain(server: RemoteServer) -> None:
    rotated(server, rotated(server, rotated(server, issued(server))))


@EXERCISE.case(f"replaying a used token: 401 {REUSED}")
def replay(server: RemoteServer) -> None:
    first = issued(server)
    rotated(server, first)
    refused(server, first, REUSED, "a used token must never work twice")


@EXERCISE.case(f"after a replay, the newest token of that family is refused too: 401 {INVALID}")
def family(server: RemoteServer) -> None:
    first = issued(server)
    newest = rotated(server, first)
    refresh(server, first)
    refused(server, newest, INVALID, "a replay means the token was stolen: revoke the whole family")


@EXERCISE.case("another login of the same user (another family) is not affected")
def other_family(server: RemoteServer) -> None:
    laptop, phone = issued(server), issued(server)
    rotated(server, laptop)
    refresh(server, laptop)
    rotated(server, phone)
