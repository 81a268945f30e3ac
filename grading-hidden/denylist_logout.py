"""Hidden cases of exercise 06, denylist-logout."""

from __future__ import annotations

from typing import Any

import jwt

from authcourse.grading.checks.denylist_logout import EXERCISE, LIFETIME, bearer, logged_out
from authcourse.grading.checks.support import expect_status, login, request
from authcourse.grading.runtime import expect


def jti_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


@EXERCISE.case("the entry lives until 1 s before the token's exp and is gone 1 s after", hidden=True)
def gone(server: Any) -> None:
    token, _ = logged_out(server)
    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    key = f"denylist:{jti_of(token)}"
    expect(server.store.get(key) is not None, "no denylist entry for the token")
    with server.remote.at(expiry - 1):
        expect(server.store.get(key) is not None, "the entry is gone while the token still works: use exp - now")
        expect_status(request(server, "GET", "/api/profile", headers=bearer(token)), 401, "Token revoked")
    with server.remote.at(expiry + 1):
        expect(server.store.get(key) is None, "the entry outlives its token")


@EXERCISE.case("logout with a revoked token: 401", hidden=True)
def twice(server: Any) -> None:
    token, _ = logged_out(server)
    expect_status(request(server, "POST", "/logout", headers=bearer(token)), 401, "Token revoked")


@EXERCISE.case("a second server reading the same store refuses the revoked token", hidden=True)
def second_server(server: Any) -> None:
    token, _ = logged_out(server)
    other = server.remote.start("hooks", mode="token", hooks={},
                                settings={"revocation": "blacklist", "token_lifetime": LIFETIME})
    expect_status(request(other, "GET", "/api/profile", headers=bearer(token)), 401, "Token revoked",
                  why="keep the denylist in the store, where every server sees it")


@EXERCISE.case("a logout 1 s before the token expires still gets a short, positive TTL", hidden=True)
def last_second(server: Any) -> None:
    token = login(server).json()["token"]
    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    with server.remote.at(expiry - 2):
        response = request(server, "POST", "/logout", headers=bearer(token))
        expect_status(response, 200)
        ttl = server.store.ttl(f"denylist:{jti_of(token)}")
    expect(ttl is not None and 0 < ttl <= 5, f"TTL {ttl}: the token had about 2 s left")
