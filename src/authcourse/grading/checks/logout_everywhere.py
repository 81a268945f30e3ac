"""Exercise 08: "log out everywhere" for JWTs, with a per-user token version."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ...hooks import Hooks
from ..runtime import Exercise
from .support import ALICE, BOB, expect_status, live_server, login, request

NAMES = ("login", "authenticate", "logout_all")


@contextmanager
def context(namespace: Mapping[str, Any]) -> Iterator[Any]:
    hooks = Hooks(**{name: namespace[name] for name in NAMES})
    with live_server("token", hooks, revocation="none") as server:
        yield server


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


@EXERCISE.case("logging out everywhere twice revokes the tokens issued in between", hidden=True)
def twice(server: Any) -> None:
    everywhere(server, token_of(server))
    middle = token_of(server)
    expect_status(everywhere(server, middle), 200)
    expect_status(
        profile(server, middle), 401, "Token revoked", why="bump the version (incr); do not set it to a constant"
    )


@EXERCISE.case("a token that carries no version at all: 401", hidden=True)
def no_version(server: Any) -> None:
    carol = server.users.find("carol@example.com") or server.users.add_user("carol@example.com", "looking-glass")
    token = server.app.state.auth.tokens.create_access_token(carol.id, carol.role)  # signed by the server, no `ver`
    expect_status(profile(server, token), 401, why="a token without ver predates versions: refuse it")
