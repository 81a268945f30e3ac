"""Exercise 10: refresh tokens with rotation and reuse detection, over the package's Store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ...clock import later
from ...errors import NotAuthenticated
from ...stores import MemoryStore
from ..runtime import Exercise, expect

REUSED = "Refresh token reused"
INVALID = "Invalid refresh token"
LIFETIME = 30 * 24 * 3600  # seconds


class Lab:
    def __init__(self, cls: Any) -> None:
        self.store = MemoryStore()
        self.tokens = cls(self.store, lifetime=LIFETIME)


@contextmanager
def context(namespace: Mapping[str, Any]) -> Iterator[Any]:
    yield namespace["RefreshTokens"]


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
def random_tokens(cls: Any) -> None:
    lab = Lab(cls)
    tokens = {lab.tokens.issue(1) for _ in range(20)}
    expect(len(tokens) == 20, "two issued tokens are equal")
    expect(all(isinstance(t, str) and len(t) >= 22 for t in tokens), "tokens must be >= 22 url-safe characters: use secrets")


@EXERCISE.case("rotate returns the user and a new token")
def rotates(cls: Any) -> None:
    lab = Lab(cls)
    first = lab.tokens.issue(1)
    expect(rotated(lab, first) != first, "rotate returned the same token: rotation means a new one every time")


@EXERCISE.case("the new token can be rotated in its turn")
def chain(cls: Any) -> None:
    lab = Lab(cls)
    rotated(lab, rotated(lab, rotated(lab, lab.tokens.issue(1))))


@EXERCISE.case(f'replaying a used token raises NotAuthenticated("{REUSED}")')
def replay(cls: Any) -> None:
    lab = Lab(cls)
    first = lab.tokens.issue(1)
    rotated(lab, first)
    refused(lab.tokens.rotate, first, REUSED, "a used token must never work twice")


@EXERCISE.case("after a replay, the newest token of that family is refused too")
def family(cls: Any) -> None:
    lab = Lab(cls)
    first = lab.tokens.issue(1)
    newest = rotated(lab, first)
    try:
        lab.tokens.rotate(first)
    except NotAuthenticated:
        pass
    refused(lab.tokens.rotate, newest, INVALID, "a replay means the token was stolen: revoke the whole family")


@EXERCISE.case("another login of the same user (another family) is not affected")
def other_family(cls: Any) -> None:
    lab = Lab(cls)
    laptop, phone = lab.tokens.issue(1), lab.tokens.issue(1)
    rotated(lab, laptop)
    try:
        lab.tokens.rotate(laptop)
    except NotAuthenticated:
        pass
    rotated(lab, phone)


@EXERCISE.case(f'an unknown token raises NotAuthenticated("{INVALID}")', hidden=True)
def unknown(cls: Any) -> None:
    lab = Lab(cls)
    refused(lab.tokens.rotate, "made-up-token-0123456789abcdef", INVALID, "only tokens you issued count")


@EXERCISE.case("every key the tokens leave in the store expires", hidden=True)
def ttls(cls: Any) -> None:
    lab = Lab(cls)
    first = lab.tokens.issue(1)
    rotated(lab, first)
    forever = [key for key in lab.store.keys() if lab.store.ttl(key) is None]
    expect(not forever, f"keys without a TTL grow forever: {', '.join(forever)[:60]}")


@EXERCISE.case("a token past its lifetime is refused", hidden=True)
def expired(cls: Any) -> None:
    lab = Lab(cls)
    token = lab.tokens.issue(1)
    with later(seconds=LIFETIME + 60):
        refused(lab.tokens.rotate, token, INVALID, "a refresh token expires too")
