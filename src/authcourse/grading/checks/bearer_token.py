"""Exercise 03: a Bearer-token dependency with one distinct error per way a token can be wrong."""

from __future__ import annotations

import base64
import json
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import jwt

from ...tokens import AUDIENCE, ISSUER
from ..remote import Remote, RemoteServer
from ..runtime import Exercise, expect
from .support import BOB, expect_status, login, request, shown

MISSING = "No token provided"
MALFORMED = "Malformed token"
INVALID = "Invalid token"
EXPIRED = "Token expired"


def context(remote: Remote) -> AbstractContextManager[RemoteServer]:
    return nullcontext(
        remote.start("hooks", mode="token", hooks={"authenticate": "require_token"}, secret_from="SECRET")
    )


EXERCISE = Exercise("bearer-token", ("require_token", "SECRET"), context=context)


def profile(server: Any, authorization: str | None) -> Any:
    return request(server, "GET", "/api/profile", headers={"Authorization": authorization} if authorization else {})


def claims(user_id: int = 1, **changes: Any) -> dict[str, Any]:
    issued = int(time.time())
    base = {
        "sub": str(user_id), "role": "user", "iat": issued, "exp": issued + 3600, "jti": "check",
        "iss": ISSUER, "aud": AUDIENCE,
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def signed(server: Any, payload: dict[str, Any], algorithm: str = "HS256") -> str:
    return jwt.encode(payload, server.secret, algorithm=algorithm)


@EXERCISE.case(f"no Authorization header: 401 {MISSING}")
def missing(server: Any) -> None:
    expect_status(profile(server, None), 401, MISSING)


@EXERCISE.case("a token from /login: 200 and its user")
def valid(server: Any) -> None:
    token = login(server, BOB).json()["token"]
    response = profile(server, f"Bearer {token}")
    expect_status(response, 200)
    expect(response.json()["user"]["name"] == "Bob", f"Bob's token, but the profile is {shown(response)}")


@EXERCISE.case(f"Bearer not-a-jwt: 401 {MALFORMED}")
def malformed(server: Any) -> None:
    expect_status(profile(server, "Bearer not-a-jwt"), 401, MALFORMED)


@EXERCISE.case(f"a token whose payload was changed (role admin): 401 {INVALID}")
def tampered(server: Any) -> None:
    header, _, signature = login(server).json()["token"].split(".")
    forged = base64.urlsafe_b64encode(json.dumps(claims(role="admin")).encode()).rstrip(b"=").decode()
    response = profile(server, f"Bearer {header}.{forged}.{signature}")
    expect_status(
        response, 401, INVALID, why="a bad signature is not a malformed token: catch InvalidSignatureError first"
    )


@EXERCISE.case(f"an expired token: 401 {EXPIRED}")
def expired(server: Any) -> None:
    token = signed(server, claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600))
    expect_status(profile(server, f"Bearer {token}"), 401, EXPIRED)


@EXERCISE.case(f"a token signed with HS512 (its header chose the algorithm): 401 {INVALID}")
def other_algorithm(server: Any) -> None:
    token = signed(server, claims(), "HS512")
    expect_status(
        profile(server, f"Bearer {token}"), 401, INVALID, why='pin algorithms=["HS256"]; never read it from the token'
    )


@EXERCISE.case(f"a token the same key signed for another service (aud authcourse-admin): 401 {INVALID}")
def other_audience(server: Any) -> None:
    token = signed(server, claims(aud="authcourse-admin"))
    expect_status(
        profile(server, f"Bearer {token}"), 401, INVALID,
        why="pass audience= and issuer= to jwt.decode: a token meant for another service must not get in (RFC 8725 3.10)",
    )
