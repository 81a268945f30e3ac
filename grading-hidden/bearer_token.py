"""Hidden cases of exercise 03, bearer-token."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt

from authcourse.grading.checks.bearer_token import EXERCISE, EXPIRED, INVALID, MISSING, claims, profile, signed
from authcourse.grading.checks.support import expect_status, login, request, shown
from authcourse.grading.runtime import expect


@EXERCISE.case(f"a token without exp: 401 {INVALID}", hidden=True)
def no_exp(server: Any) -> None:
    token = signed(server, claims(exp=None))
    expect_status(profile(server, f"Bearer {token}"), 401, INVALID, why='require exp: options={"require": [...]}')


@EXERCISE.case("an alg none token: 401", hidden=True)
def alg_none(server: Any) -> None:
    token = jwt.encode(claims(role="admin"), None, algorithm="none")
    response = profile(server, f"Bearer {token}")
    expect(response.status_code == 401, f"expected 401, got {shown(response)}")


@EXERCISE.case(f"a token signed with another secret: 401 {INVALID}", hidden=True)
def other_secret(server: Any) -> None:
    token = jwt.encode(claims(), b"another-secret-that-is-32-bytes-long!!", algorithm="HS256")
    expect_status(profile(server, f"Bearer {token}"), 401, INVALID)


@EXERCISE.case(f"Basic credentials instead of a token: 401 {MISSING}", hidden=True)
def basic(server: Any) -> None:
    expect_status(profile(server, "Basic YWxpY2U6d29uZGVybGFuZA=="), 401, MISSING)


@EXERCISE.case(f"a valid token for a user who does not exist: 401 {INVALID}, never 500", hidden=True)
def unknown_user(server: Any) -> None:
    expect_status(profile(server, f"Bearer {signed(server, claims(user_id=999))}"), 401, INVALID)


@EXERCISE.case(f"a signed token without sub, or with a sub that is no number: 401 {INVALID}, never 500", hidden=True)
def no_sub(server: Any) -> None:
    expect_status(profile(server, f"Bearer {signed(server, claims(sub=None))}"), 401, INVALID)
    expect_status(profile(server, f"Bearer {signed(server, claims(sub='alice'))}"), 401, INVALID)


@EXERCISE.case("a token whose parts are not base64 JSON, or a header that is not JSON: 401, never 500", hidden=True)
def not_json(server: Any) -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    for token in (f"{header}.bm90LWpzb24.c2ln", "e30.e30.", "bm90.e30.c2ln", "a.b.c.d"):
        expect_status(profile(server, f"Bearer {token}"), 401)


@EXERCISE.case("expiry: the token works 1 s before exp and is expired 1 s after", hidden=True)
def exp_boundary(server: Any) -> None:
    issued = int(time.time())
    token = signed(server, claims(iat=issued, exp=issued + 600))
    with server.remote.at(issued + 599):
        expect_status(profile(server, f"Bearer {token}"), 200, why="the token has a second left")
    with server.remote.at(issued + 601):
        expect_status(profile(server, f"Bearer {token}"), 401, EXPIRED, why="exp has passed")


@EXERCISE.case(f"a token in the query string is not a credential: 401 {MISSING}", hidden=True)
def query_string(server: Any) -> None:
    token = login(server).json()["token"]
    expect_status(request(server, "GET", "/api/profile", params={"token": token, "access_token": token}), 401, MISSING,
                  why="tokens in URLs end up in logs and Referer headers (RFC 6750 5.3)")


@EXERCISE.case(f"a token with no aud, or from another issuer: 401 {INVALID}", hidden=True)
def no_audience(server: Any) -> None:
    expect_status(profile(server, f"Bearer {signed(server, claims(aud=None))}"), 401, INVALID,
                  why='require aud and iss: options={"require": [..., "iss", "aud"]}')
    expect_status(profile(server, f"Bearer {signed(server, claims(iss='sister-service'))}"), 401, INVALID,
                  why="pass issuer=ISSUER")
