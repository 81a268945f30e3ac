"""Hidden cases of exercise 10, refresh-tokens."""

from __future__ import annotations

import time
from typing import Any

from authcourse.grading.checks.refresh_tokens import (
    EXERCISE,
    INVALID,
    LIFETIME,
    REUSED,
    issued,
    refresh,
    refused,
    rotated,
)
from authcourse.grading.checks.support import expect_status
from authcourse.grading.runtime import expect


@EXERCISE.case("an unknown token, a missing cookie, a huge cookie: 401, never 500", hidden=True)
def unknown(server: Any) -> None:
    refused(server, "made-up-token-0123456789abcdef", INVALID, "only tokens you issued count")
    expect_status(refresh(server, None), 401)
    expect_status(refresh(server, "x" * 3000), 401)


@EXERCISE.case("every key the tokens leave in the store expires", hidden=True)
def ttls(server: Any) -> None:
    first = issued(server)
    rotated(server, first)
    refresh(server, first)  # a replay: the family is revoked too
    forever = [key for key in server.store.keys() if server.store.ttl(key) is None]
    expect(not forever, f"keys without a TTL grow forever: {', '.join(forever)[:60]}")


@EXERCISE.case("lifetime: a token rotates 1 s before it ends and is refused 1 s after", hidden=True)
def lifetime(server: Any) -> None:
    before = time.time()
    token = issued(server)
    with server.remote.at(before + LIFETIME - 1):
        rotated(server, token)
    after = time.time()
    token = issued(server)
    with server.remote.at(after + LIFETIME + 1):
        refused(server, token, INVALID, "a refresh token expires too")


@EXERCISE.case("the first token replayed after two, and after three rotations: reuse, and the family ends", hidden=True)
def replay_after_many(server: Any) -> None:
    for rotations in (2, 3):
        first = issued(server)
        newest = first
        for _ in range(rotations):
            newest = rotated(server, newest)
        refused(server, first, REUSED, f"a token used {rotations} rotations ago is still a used token")
        refused(server, newest, INVALID, "a replay ends the whole family, however far it went")


@EXERCISE.case("tokens come from a cryptographic generator: not from a seeded random, the clock or a counter",
               hidden=True)
def unpredictable(server: Any) -> None:
    seeded = server.remote.call("seeded_tokens", server=server.id, seed=1234, at=1_700_000_000.0)["tokens"]
    expect(seeded[0] != seeded[1], "the same seed of random at the same instant gave the same token: use secrets")
    tokens = [issued(server) for _ in range(12)]
    for i, a in enumerate(tokens):
        for b in tokens[i + 1:]:
            common = max((n for n in range(6, min(len(a), len(b)) + 1) if a[:n] == b[:n]), default=0)
            expect(common < 6 and a[-6:] != b[-6:],
                   f"{a[:12]}... and {b[:12]}... share a part: use secrets.token_urlsafe")
