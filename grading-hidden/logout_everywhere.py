"""Hidden cases of exercise 08, logout-everywhere."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

from authcourse.grading.checks.logout_everywhere import EXERCISE, everywhere, profile, token_of
from authcourse.grading.checks.support import BOB, expect_status
from authcourse.tokens import AUDIENCE, ISSUER


def forged(server: Any, **claims: Any) -> str:
    """A token signed with the server's own secret, with the claims given (a token of another version of the app)."""
    now = int(time.time())
    payload = {
        "sub": "1", "role": "user", "iat": now, "exp": now + 3600, "jti": secrets.token_urlsafe(8),
        "iss": ISSUER, "aud": AUDIENCE,
    } | claims
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, server.secret, algorithm="HS256")


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
    # Bob: no case before this one logs him out everywhere, so his version is still the first one.
    expect_status(profile(server, forged(server, sub="2", role="admin")), 401,
                  why="a token without ver predates versions: refuse it")


@EXERCISE.case("a token whose ver is not a number: 401, never 500", hidden=True)
def bad_version(server: Any) -> None:
    expect_status(profile(server, forged(server, ver="x")), 401)
    expect_status(profile(server, forged(server, ver=[1])), 401)


@EXERCISE.case("the first token replayed after two and after three logouts everywhere: 401", hidden=True)
def replay_after_many(server: Any) -> None:
    first = token_of(server)
    for count in (2, 3):
        while True:
            expect_status(everywhere(server, token_of(server)), 200)
            count -= 1
            if count == 0:
                break
        expect_status(profile(server, first), 401, "Token revoked", why="a version only ever goes up")


@EXERCISE.case("after Alice logs out everywhere, Bob's token and Bob's new logins work", hidden=True)
def bob_unaffected(server: Any) -> None:
    bob = token_of(server, BOB)
    everywhere(server, token_of(server))
    expect_status(profile(server, bob), 200)
    alice = token_of(server)
    expect_status(everywhere(server, bob), 200)
    expect_status(profile(server, bob), 401, "Token revoked", why="Bob's logout everywhere ends Bob's tokens")
    expect_status(profile(server, alice), 200, why="Bob's logout everywhere must not end Alice's tokens")
    expect_status(profile(server, token_of(server, BOB)), 200)


@EXERCISE.case("a second server reading the same store (the built-in version check) refuses the revoked tokens",
               hidden=True)
def second_server(server: Any) -> None:
    laptop = token_of(server)
    expect_status(everywhere(server, token_of(server)), 200)
    other = server.remote.start("hooks", mode="token", hooks={}, settings={"revocation": "version"})
    why = "keep the version in the store (version_key), where every server and every restart sees it"
    expect_status(profile(other, laptop), 401, "Token revoked", why=why)
    expect_status(profile(other, token_of(server)), 200, why=why)
