"""Exercise 06: JWT logout with a denylist entry whose TTL is the token's remaining lifetime."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import jwt

from ..remote import Remote, RemoteServer
from ..runtime import Exercise, expect
from .support import ALICE, expect_status, login, request, shown

LIFETIME = 24 * 3600  # seconds, the server's token lifetime


def context(remote: Remote) -> AbstractContextManager[RemoteServer]:
    settings = {"revocation": "blacklist", "token_lifetime": LIFETIME}
    return nullcontext(remote.start("hooks", mode="token", hooks={"logout": "logout"}, settings=settings))


EXERCISE = Exercise("denylist-logout", ("logout",), context=context)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def logged_out(server: Any) -> tuple[str, Any]:
    token = login(server).json()["token"]
    return token, request(server, "POST", "/logout", headers=bearer(token))


def entry_ttl(server: Any, token: str) -> float | None:
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    return server.store.ttl(f"denylist:{jti}")


@EXERCISE.case("logout answers 200")
def answers(server: Any) -> None:
    expect_status(logged_out(server)[1], 200)


@EXERCISE.case("the token, used after logout: 401 Token revoked")
def revoked(server: Any) -> None:
    token, _ = logged_out(server)
    expect_status(
        request(server, "GET", "/api/profile", headers=bearer(token)),
        401,
        "Token revoked",
        why="store denylist:<jti> so the server refuses this token",
    )


@EXERCISE.case("another token of the same user (another device) still works")
def other_device(server: Any) -> None:
    phone = login(server, ALICE).json()["token"]
    laptop, response = logged_out(server)
    expect(response.status_code == 200, f"logout answered {shown(response)}")
    expect(
        request(server, "GET", "/api/profile", headers=bearer(laptop)).status_code == 401,
        "the logged-out token still works",
    )
    expect_status(
        request(server, "GET", "/api/profile", headers=bearer(phone)), 200, why="deny this token's jti, not the user"
    )


@EXERCISE.case("the denylist entry expires (it has a TTL)")
def has_ttl(server: Any) -> None:
    token, _ = logged_out(server)
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    expect(server.store.get(f"denylist:{jti}") is not None, f"no denylist:{jti[:6]}... in the store")
    expect(entry_ttl(server, token) is not None, "the entry never expires: the denylist grows forever (set ttl=...)")


@EXERCISE.case("its TTL is the token's remaining lifetime (logout 10 h after login: about 14 h)")
def remaining(server: Any) -> None:
    token = login(server).json()["token"]
    with server.remote.later(hours=10):
        response = request(server, "POST", "/logout", headers=bearer(token))
        expect(response.status_code == 200, f"logout answered {shown(response)}")
        ttl = entry_ttl(server, token)
    expect(ttl is not None, "the entry has no TTL")
    expect(abs(ttl - 14 * 3600) <= 60, f"TTL {ttl:.0f} s; the token had {14 * 3600} s left: use exp - now, in seconds")
