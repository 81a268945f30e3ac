"""Exercise 08: "log out everywhere" for JWTs, with a per-user token version."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..remote import Remote, RemoteServer
from ..runtime import Exercise
from .support import ALICE, BOB, expect_status, login, request

NAMES = ("login", "authenticate", "logout_all")


def context(remote: Remote) -> AbstractContextManager[RemoteServer]:
    hooks = {name: name for name in NAMES}
    return nullcontext(remote.start("hooks", mode="token", hooks=hooks, settings={"revocation": "none"}))


EXERCISE = Exercise("logout-everywhere", NAMES, context=context)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(server: Any, who: tuple[str, str] = ALICE) -> str:
    response = login(server, who)
    expect_status(response, 200)
    return response.json()["token"]


def profile(server: Any, token: str) -> Any:
    return request(server, "GET", "/api/profile", headers=bearer(token))


def everywhere(server: Any, token: str) -> Any:
    return request(server, "POST", "/logout-all", headers=bearer(token))


@EXERCISE.case("a fresh token works")
def fresh(server: Any) -> None:
    expect_status(profile(server, token_of(server)), 200, why="login must put the user's current version in the token")


@EXERCISE.case("logout-all answers 200")
def answers(server: Any) -> None:
    expect_status(everywhere(server, token_of(server)), 200)


@EXERCISE.case("after logout-all, every earlier token of that user: 401 Token revoked")
def all_revoked(server: Any) -> None:
    laptop, phone = token_of(server), token_of(server)
    everywhere(server, laptop)
    for token in (laptop, phone):
        expect_status(
            profile(server, token), 401, "Token revoked", why="compare the token's ver with the user's version"
        )


@EXERCISE.case("another user's tokens still work (the version is per user)")
def other_user(server: Any) -> None:
    bob = token_of(server, BOB)
    everywhere(server, token_of(server))
    expect_status(
        profile(server, bob), 200, why="Alice logging out everywhere must not log Bob out: one version per user"
    )


@EXERCISE.case("a login after logout-all works")
def login_after(server: Any) -> None:
    everywhere(server, token_of(server))
    expect_status(profile(server, token_of(server)), 200)
