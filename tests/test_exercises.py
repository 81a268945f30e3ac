"""Every exercise, in process: the solution scores full marks (hidden cases too), the blank
exercise scores 0 without crashing, and plausible wrong answers score less, with the check naming
the mistake. Each wrong answer is the solution notebook with one answer region replaced."""

from __future__ import annotations

import re
import textwrap
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from authcourse.grading.checks import EXERCISES, load_hidden
from authcourse.grading.notebooks import BEGIN, END, check_id, reference
from authcourse.grading.runtime import Report, evaluate

ROOT = Path(__file__).resolve().parents[1]
load_hidden(ROOT / "grading-hidden")
NOTEBOOKS = {exercise.id: exercise.notebook for exercise in reference().values()}


def run_cells(folder: str, exercise_id: str, answers: dict[int, str] | None = None) -> dict[str, Any]:
    """Execute a notebook's code cells (not its checks) in a fresh namespace; `answers` replace regions by number."""
    notebook = nbformat.read(ROOT / folder / NOTEBOOKS[exercise_id], as_version=4)
    namespace: dict[str, Any] = {}
    region = -1
    for cell in notebook.cells:
        if cell.cell_type != "code" or check_id(cell) is not None:
            continue
        lines, skipping = [], False
        for line in cell.source.splitlines():
            if line.strip() == BEGIN:
                region += 1
                indent = line[: len(line) - len(line.lstrip())]
                if answers and region in answers:
                    skipping = True
                    lines += [indent + text for text in textwrap.dedent(answers[region]).strip("\n").splitlines()]
                    continue
            if line.strip() == END:
                skipping = False
                continue
            if not skipping:
                lines.append(line)
        exec(compile("\n".join(lines), f"{folder}/{NOTEBOOKS[exercise_id]}", "exec"), namespace)
    return namespace


def graded(exercise_id: str, check: str, folder: str = "solutions", answers: dict[int, str] | None = None) -> Report:
    return evaluate(EXERCISES[check], run_cells(folder, exercise_id, answers), hidden=True)


CHECKS = [(exercise.id, check.id) for exercise in reference().values() for check in exercise.checks]


@pytest.mark.parametrize(("exercise_id", "check"), CHECKS)
def test_every_solution_scores_full_marks_hidden_cases_included(exercise_id: str, check: str) -> None:
    report = graded(exercise_id, check)
    assert report.score == report.maximum, "\n".join(report.lines())
    assert any(outcome.hidden for outcome in report.outcomes), "every check keeps hidden cases for the grader"


@pytest.mark.parametrize(("exercise_id", "check"), CHECKS)
def test_every_blank_exercise_scores_zero_and_says_not_implemented(exercise_id: str, check: str) -> None:
    report = graded(exercise_id, check, folder="exercises")
    assert report.score == 0, "\n".join(report.lines())
    assert any(
        "not implemented" in outcome.reason or "NotImplementedError" in outcome.reason for outcome in report.outcomes
    )


WRONG: list[tuple[str, str, str, dict[int, str], str]] = [
    # exercise, check, the mistake, {region: code}, words the check must say
    (
        "require-session",
        "require-session",
        "trusting the id in the cookie without its signature",
        {
            0: """
        import json
        from authcourse.sessions import Session, session_key
        session_id = (request.cookies.get("sid") or "").rpartition(".")[0]
        raw = auth.sessions.store.get(session_key(session_id))
        if raw is None:
            raise NotAuthenticated()
        data = json.loads(raw)
        return Principal(auth.users.get(data["user_id"]), session=Session(session_id, **data))
     """
        },
        "signature checks out",
    ),
    (
        "require-session",
        "require-session",
        "returning None instead of raising 401",
        {
            0: """
        session = auth.sessions.load_session(request.cookies.get("sid"))
        if session is None:
            return None
        return Principal(auth.users.get(session.user_id), session=session)
     """
        },
        "must return a Principal, not NoneType",
    ),
    (
        "require-session",
        "require-session",
        "any cookie logs in as the same user",
        {
            0: """
        if "sid" not in request.cookies:
            raise NotAuthenticated()
        return Principal(auth.users.get(1), session=auth.sessions.load_session(request.cookies["sid"]))
     """
        },
        "Bob logged in, but the profile is",
    ),
    (
        "require-session",
        "require-session",
        "raising a plain exception (a 500) instead of NotAuthenticated",
        {
            0: """
        session = auth.sessions.load_session(request.cookies.get("sid"))
        if session is None:
            raise PermissionError("not logged in")
        return Principal(auth.users.get(session.user_id), session=session)
     """
        },
        "your code raised PermissionError",
    ),
    (
        "session-logout",
        "session-logout",
        "clearing the cookie but keeping the session",
        {
            0: """
        return respond({"message": "Logged out"}, auth.cookie.expired())
     """
        },
        "clearing the cookie is not enough",
    ),
    (
        "session-logout",
        "session-logout",
        "forgetting to clear the cookie",
        {
            0: """
        auth.sessions.destroy_session(principal.session)
        return respond({"message": "Logged out"})
     """
        },
        "the browser keeps the cookie",
    ),
    (
        "session-logout",
        "session-logout",
        "logging the user out of every device",
        {
            0: """
        auth.sessions.destroy_all_for_user(principal.user.id)
        return respond({"message": "Logged out"}, auth.cookie.expired())
     """
        },
        "logout ends this session only",
    ),
    (
        "session-logout",
        "session-logout",
        "clearing a cookie of another name",
        {
            0: """
        from authcourse import Cookie
        auth.sessions.destroy_session(principal.session)
        return respond({"message": "Logged out"}, Cookie("session", "", max_age=0))
     """
        },
        "no Set-Cookie for sid",
    ),
    (
        "bearer-token",
        "bearer-token",
        "trusting alg from the token's header",
        {
            0: """
        token = request.headers.get("authorization", "").partition(" ")[2]
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            algorithm = jwt.get_unverified_header(token)["alg"]
            claims = jwt.decode(
                token, SECRET, algorithms=[algorithm], audience=AUDIENCE, issuer=ISSUER,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("Invalid token") from None
        except jwt.DecodeError:
            raise NotAuthenticated("Malformed token") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Invalid token") from None
        return Principal(auth.users.get(int(claims["sub"])), claims=claims)
     """
        },
        "never read it from the token",
    ),
    (
        "bearer-token",
        "bearer-token",
        "one message for every problem",
        {
            0: """
        token = request.headers.get("authorization", "").partition(" ")[2]
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                options={"require": ["exp", "sub"]},
            )
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Invalid token") from None
        return Principal(auth.users.get(int(claims["sub"])), claims=claims)
     """
        },
        '"Token expired"',
    ),
    (
        "bearer-token",
        "bearer-token",
        "catching DecodeError before InvalidSignatureError",
        {
            0: """
        token = request.headers.get("authorization", "").partition(" ")[2]
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        except jwt.DecodeError:
            raise NotAuthenticated("Malformed token") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Invalid token") from None
        return Principal(auth.users.get(int(claims["sub"])), claims=claims)
     """
        },
        "catch InvalidSignatureError first",
    ),
    (
        "bearer-token",
        "bearer-token",
        "not requiring exp",
        {
            0: """
        token = request.headers.get("authorization", "").partition(" ")[2]
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("Invalid token") from None
        except jwt.DecodeError:
            raise NotAuthenticated("Malformed token") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Invalid token") from None
        user = auth.users.get(int(claims["sub"]))
        if user is None:
            raise NotAuthenticated("Invalid token")
        return Principal(user, claims=claims)
     """
        },
        "require exp",
    ),
    (
        "bearer-token",
        "bearer-token",
        "not checking the audience (a sister service's token gets in)",
        {
            0: """
        token = request.headers.get("authorization", "").partition(" ")[2]
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("Invalid token") from None
        except jwt.DecodeError:
            raise NotAuthenticated("Malformed token") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Invalid token") from None
        user = auth.users.get(int(claims["sub"]))
        if user is None:
            raise NotAuthenticated("Invalid token")
        return Principal(user, claims=claims)
     """
        },
        "pass audience= and issuer=",
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "a denylist entry without TTL",
        {
            0: """
        auth.tokens.store.set(denylist_key(principal.claims["jti"]), "revoked")
        return respond({"message": "Logged out"})
     """
        },
        "the denylist grows forever",
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "a TTL of the token's whole lifetime",
        {
            0: """
        auth.tokens.store.set(denylist_key(principal.claims["jti"]), "revoked", ttl=auth.tokens.lifetime)
        return respond({"message": "Logged out"})
     """
        },
        "use exp - now",
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "a TTL in milliseconds",
        {
            0: """
        ttl = (principal.claims["exp"] - now()) * 1000
        auth.tokens.store.set(denylist_key(principal.claims["jti"]), "revoked", ttl=ttl)
        return respond({"message": "Logged out"})
     """
        },
        "in seconds",
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "answering 200 without revoking anything",
        {
            0: """
        return respond({"message": "Logged out"})
     """
        },
        "so the server refuses this token",
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "SameSite=None without Secure",
        {
            0: """
        if scenario == "spa":
            return Cookie("sid", value, http_only=True, same_site="None")
        if scenario == "server-rendered":
            return Cookie("sid", value, secure=True, http_only=True, same_site="Lax")
        return Cookie("sid", value, max_age=3600, secure=True, http_only=True, same_site="Strict")
     """
        },
        "SameSite=None requires Secure",
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "Lax for an SPA on another site",
        {
            0: """
        if scenario in ("spa", "server-rendered"):
            return Cookie("sid", value, secure=True, http_only=True, same_site="Lax")
        return Cookie("sid", value, max_age=3600, secure=True, http_only=True, same_site="Strict")
     """
        },
        "does not send it (SchemefulSameSiteLax) on a credentialed fetch()",
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "SameSite=None for the server-rendered app (CSRF)",
        {
            0: """
        if scenario in ("spa", "server-rendered"):
            return Cookie("sid", value, secure=True, http_only=True, same_site="None")
        return Cookie("sid", value, max_age=3600, secure=True, http_only=True, same_site="Strict")
     """
        },
        "CSRF",
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "a Lax, long-lived admin cookie readable by scripts",
        {
            0: """
        if scenario == "spa":
            return Cookie("sid", value, secure=True, http_only=True, same_site="None")
        if scenario == "server-rendered":
            return Cookie("sid", value, secure=True, http_only=True, same_site="Lax")
        return Cookie("sid", value, max_age=86400, secure=True, http_only=False, same_site="Lax")
     """
        },
        "only follow the admin's own clicks",
    ),
    (
        "shared-store",
        "shared-store",
        "a store per server",
        {
            0: """
        return [CourseServer("session", bcrypt_rounds=4, secret="a-shared-secret-of-at-least-32-bytes!").start() for _ in range(count)]
     """
        },
        "each server has a store of its own",
    ),
    (
        "shared-store",
        "shared-store",
        "one store but a random secret per server",
        {
            0: """
        store = MemoryStore()
        return [CourseServer("session", store=store, bcrypt_rounds=4).start() for _ in range(count)]
     """
        },
        "not the secret that signs the cookie",
    ),
    (
        "shared-store",
        "shared-store",
        "servers never started",
        {
            0: """
        store = MemoryStore()
        secret = secrets.token_urlsafe(32)
        return [CourseServer("session", store=store, secret=secret, bcrypt_rounds=4) for _ in range(count)]
     """
        },
        "call .start()",
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "authenticate that never reads the version",
        {
            1: """
        return auth.authenticate(request)
     """
        },
        "compare the token's ver",
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "one version for every user",
        {
            0: """
        version = int(auth.tokens.store.get("token-version") or 0)
        return respond({"token": auth.tokens.create_access_token(user.id, user.role, version=version)})
     """,
            1: """
        principal = auth.authenticate(request)
        if principal.claims.get("ver") != int(auth.tokens.store.get("token-version") or 0):
            raise NotAuthenticated("Token revoked")
        return principal
     """,
            2: """
        auth.tokens.store.incr("token-version")
        return respond({"message": "Logged out everywhere"})
     """,
        },
        "one version per user",
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "setting the version to 1 instead of bumping it",
        {
            2: """
        auth.tokens.store.set(version_key(principal.user.id), "1")
        return respond({"message": "Logged out everywhere"})
     """
        },
        "bump the version (incr)",
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "tokens issued without a version",
        {
            0: """
        return respond({"token": auth.tokens.create_access_token(user.id, user.role)})
     """
        },
        "login must put the user's current version in the token",
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "a missing ver taken as version 0",
        {
            1: """
        principal = auth.authenticate(request)
        if principal.claims.get("ver", 0) != int(auth.tokens.store.get(version_key(principal.user.id)) or 0):
            raise NotAuthenticated("Token revoked")
        return principal
     """
        },
        "a token without ver predates versions",
    ),
    (
        "session-fixation",
        "fixation-login",
        "login that adopts the planted session",
        {
            0: """
        import json
        previous = auth.sessions.load_session(request.cookies.get("sid"))
        if previous is None:
            previous = auth.sessions.create_session(user.id, user.role)
        data = {"user_id": user.id, "role": user.role, "created_at": previous.created_at, "last_seen": previous.last_seen}
        auth.sessions.store.set(session_key(previous.id), json.dumps(data), ttl=3600)
        return respond({"message": "Logged in"}, replace(auth.cookie, value=auth.sessions.sign(previous.id)))
     """
        },
        "kept the planted id",
    ),
    (
        "session-fixation",
        "fixation-login",
        "a new id, but the planted session left alive",
        {
            0: """
        session = auth.sessions.create_session(user.id, user.role)
        return respond({"message": "Logged in"}, replace(auth.cookie, value=auth.sessions.sign(session.id)))
     """
        },
        "destroy the session it points to",
    ),
    (
        "session-fixation",
        "fixation-login",
        "an unsigned id in the cookie",
        {
            0: """
        previous = auth.sessions.load_session(request.cookies.get("sid"))
        if previous is not None:
            auth.sessions.destroy_session(previous)
        session = auth.sessions.create_session(user.id, user.role)
        return respond({"message": "Logged in"}, replace(auth.cookie, value=session.id))
     """
        },
        "auth.sessions.sign(session.id)",
    ),
    (
        "session-fixation",
        "fixation-regenerate",
        "a new id that loses the session's role",
        {
            1: """
        sessions.destroy_session(session)
        return sessions.create_session(session.user_id, "user", created_at=session.created_at)
     """
        },
        "keep them",
    ),
    (
        "session-fixation",
        "fixation-regenerate",
        "a new id that restarts the absolute timeout",
        {
            1: """
        sessions.destroy_session(session)
        return sessions.create_session(session.user_id, session.role)
     """
        },
        "created_at was reset",
    ),
    (
        "session-fixation",
        "fixation-regenerate",
        "the old id left alive",
        {
            1: """
        return sessions.create_session(session.user_id, session.role, created_at=session.created_at)
     """
        },
        "the old id still loads",
    ),
    (
        "session-fixation",
        "fixation-regenerate",
        "the same id",
        {
            1: """
        return session
     """
        },
        "the id did not change",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "no rotation: the same token back",
        {
            1: """
        raw = self.store.get(f"refresh:{token}")
        if raw is None:
            raise NotAuthenticated("Invalid refresh token")
        return json.loads(raw)["user_id"], token
     """
        },
        "rotation means a new one every time",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "a refresh token that can be replayed",
        {
            1: """
        raw = self.store.get(f"refresh:{token}")
        if raw is None:
            raise NotAuthenticated("Invalid refresh token")
        record = json.loads(raw)
        return record["user_id"], self.issue(record["user_id"], record["family"])
     """
        },
        "a used token must never work twice",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "reuse refused but the family kept",
        {
            1: """
        raw = self.store.get(f"refresh:{token}")
        if raw is None:
            raise NotAuthenticated("Invalid refresh token")
        record = json.loads(raw)
        if record["used"]:
            raise NotAuthenticated("Refresh token reused")
        record["used"] = True
        self.store.set(f"refresh:{token}", json.dumps(record), ttl=self.lifetime)
        return record["user_id"], self.issue(record["user_id"], record["family"])
     """
        },
        "revoke the whole family",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "guessable tokens from a counter",
        {
            0: """
        token = str(self.store.incr("refresh-counter"))
        record = {"user_id": user_id, "family": family or token, "used": False}
        self.store.set(f"refresh:{token}", json.dumps(record), ttl=self.lifetime)
        return token
     """
        },
        "use secrets",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "tokens stored without TTL",
        {
            0: """
        token = secrets.token_urlsafe(32)
        record = {"user_id": user_id, "family": family or secrets.token_urlsafe(16), "used": False}
        self.store.set(f"refresh:{token}", json.dumps(record))
        return token
     """
        },
        "grow forever",
    ),
]


# More wrong answers, written as learners write them, for the kinds of mistakes issue 16 lists: time, whose
# identity, incomplete revocation, transport, randomness, robustness. Each caught by a visible or a hidden case.
WRONG += [
    (
        "require-session",
        "require-session",
        "skipping the manager: the signature is checked, the timeouts are not",
        {
            0: """
        import json
        from authcourse.sessions import Session, session_key
        session_id = auth.sessions.unsign(request.cookies.get("sid") or "")
        raw = auth.sessions.store.get(session_key(session_id)) if session_id else None
        if raw is None:
            raise NotAuthenticated()
        data = json.loads(raw)
        return Principal(auth.users.get(data["user_id"]), session=Session(session_id, **data))
     """
        },
        "still alive",
    ),
    (
        "require-session",
        "require-session",
        "the session id also accepted from the query string",
        {
            0: """
        session = auth.sessions.load_session(request.cookies.get("sid") or request.query_params.get("sid"))
        if session is None:
            raise NotAuthenticated()
        return Principal(auth.users.get(session.user_id), session=session)
     """
        },
        "never in a URL",
    ),
    (
        "require-session",
        "require-session",
        "403 instead of 401 for a missing session",
        {
            0: """
        from fastapi import HTTPException
        session = auth.sessions.load_session(request.cookies.get("sid"))
        if session is None:
            raise HTTPException(status_code=403, detail="Forbidden")
        return Principal(auth.users.get(session.user_id), session=session)
     """
        },
        "expected 401",
    ),
    (
        "require-session",
        "require-session",
        "taking the cookie apart first (a garbage cookie: 500)",
        {
            0: """
        sid = request.cookies.get("sid")
        if sid is None:
            raise NotAuthenticated()
        session_id, signature = sid.split(".")
        session = auth.sessions.load_session(sid)
        if session is None:
            raise NotAuthenticated()
        return Principal(auth.users.get(session.user_id), session=session)
     """
        },
        "ValueError",
    ),
    (
        "require-session",
        "require-session",
        "sliding the absolute timeout: every request re-saves the session as new",
        {
            0: """
        import json, time
        session = auth.sessions.load_session(request.cookies.get("sid"))
        if session is None:
            raise NotAuthenticated()
        fresh = {"user_id": session.user_id, "role": session.role, "created_at": time.time(), "last_seen": time.time()}
        auth.sessions.store.set(auth.sessions.key_of(session.id), json.dumps(fresh), ttl=1800)
        return Principal(auth.users.get(session.user_id), session=session)
     """
        },
        "24 h after login",
    ),
    (
        "require-session",
        "require-session",
        "reading a cookie of another name",
        {
            0: """
        session = auth.sessions.load_session(request.cookies.get("session"))
        if session is None:
            raise NotAuthenticated()
        return Principal(auth.users.get(session.user_id), session=session)
     """
        },
        "expected 200",
    ),
    (
        "session-logout",
        "session-logout",
        "clearing the cookie on another Path",
        {
            0: """
        from dataclasses import replace
        auth.sessions.destroy_session(principal.session)
        return respond({"message": "Logged out"}, replace(auth.cookie.expired(), path="/api"))
     """
        },
        "Path=/",
    ),
    (
        "session-logout",
        "session-logout",
        "a clearing cookie that lives one more second",
        {
            0: """
        from dataclasses import replace
        auth.sessions.destroy_session(principal.session)
        return respond({"message": "Logged out"}, replace(auth.cookie, value="", max_age=1))
     """
        },
        "does not expire the cookie",
    ),
    (
        "session-logout",
        "session-logout",
        "clearing a cookie with a Domain the session cookie never had",
        {
            0: """
        from dataclasses import replace
        auth.sessions.destroy_session(principal.session)
        return respond({"message": "Logged out"}, replace(auth.cookie.expired(), domain="app.example"))
     """
        },
        "Domain and Path",
    ),
    (
        "session-logout",
        "session-logout",
        "deleting the store entry under the signed cookie value",
        {
            0: """
        auth.sessions.store.delete(auth.sessions.key_of(auth.sessions.sign(principal.session.id)))
        return respond({"message": "Logged out"}, auth.cookie.expired())
     """
        },
        "delete the session from the store",
    ),
    (
        "session-logout",
        "session-logout",
        "204 No Content instead of 200",
        {
            0: """
        from fastapi.responses import Response
        auth.sessions.destroy_session(principal.session)
        response = Response(status_code=204)
        response.headers["set-cookie"] = auth.cookie.expired().render()
        return response
     """
        },
        "expected 200",
    ),
    (
        "session-logout",
        "session-logout",
        "re-sending the login cookie's template instead of an expired one",
        {
            0: """
        auth.sessions.destroy_session(principal.session)
        return respond({"message": "Logged out"}, auth.cookie)
     """
        },
        "does not expire the cookie",
    ),
    (
        "bearer-token",
        "bearer-token",
        "a token also taken from the query string",
        {
            0: """
        token = request.headers.get("authorization", "").partition(" ")[2] or request.query_params.get("token", "")
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("Invalid token") from None
        except jwt.DecodeError:
            raise NotAuthenticated("Malformed token") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Invalid token") from None
        user = auth.users.get(int(claims["sub"])) if str(claims["sub"]).isdigit() else None
        if user is None:
            raise NotAuthenticated("Invalid token")
        return Principal(user, claims=claims)
     """
        },
        "RFC 6750",
    ),
    (
        "bearer-token",
        "bearer-token",
        "int(sub) and users.get without a guard (a 500 for an odd token)",
        {
            0: """
        token = request.headers.get("authorization", "").partition(" ")[2]
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER, options={"require": ["exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("Invalid token") from None
        except jwt.DecodeError:
            raise NotAuthenticated("Malformed token") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Invalid token") from None
        return Principal(auth.users.get(int(claims["sub"])), claims=claims)
     """
        },
        "your code raised",
    ),
    (
        "bearer-token",
        "bearer-token",
        "any scheme accepted (Basic credentials read as a token)",
        {
            0: """
        token = request.headers.get("authorization", "").split(" ")[-1]
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("Invalid token") from None
        except jwt.DecodeError:
            raise NotAuthenticated("Malformed token") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Invalid token") from None
        user = auth.users.get(int(claims["sub"])) if str(claims["sub"]).isdigit() else None
        if user is None:
            raise NotAuthenticated("Invalid token")
        return Principal(user, claims=claims)
     """
        },
        "No token provided",
    ),
    (
        "bearer-token",
        "bearer-token",
        "an hour of leeway on exp",
        {
            0: """
        token = request.headers.get("authorization", "").partition(" ")[2]
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                options={"require": ["exp", "sub"]}, leeway=3600,
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("Invalid token") from None
        except jwt.DecodeError:
            raise NotAuthenticated("Malformed token") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Invalid token") from None
        user = auth.users.get(int(claims["sub"])) if str(claims["sub"]).isdigit() else None
        if user is None:
            raise NotAuthenticated("Invalid token")
        return Principal(user, claims=claims)
     """
        },
        "Token expired",
    ),
    (
        "bearer-token",
        "bearer-token",
        "only an expired token handled; every other bad token a 500",
        {
            0: """
        token = request.headers.get("authorization", "").partition(" ")[2]
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        return Principal(auth.users.get(int(claims["sub"])), claims=claims)
     """
        },
        "your code raised",
    ),
    (
        "bearer-token",
        "bearer-token",
        '"none" among the accepted algorithms',
        {
            0: """
        token = request.headers.get("authorization", "").partition(" ")[2]
        if not token:
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256", "none"], audience=AUDIENCE, issuer=ISSUER,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("Invalid token") from None
        except jwt.DecodeError:
            raise NotAuthenticated("Malformed token") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Invalid token") from None
        user = auth.users.get(int(claims["sub"])) if str(claims["sub"]).isdigit() else None
        if user is None:
            raise NotAuthenticated("Invalid token")
        return Principal(user, claims=claims)
     """
        },
        "expected 401",
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "revoked ids kept in a Python set instead of the store",
        {
            0: """
        REVOKED = globals().setdefault("REVOKED", set())
        REVOKED.add(principal.claims["jti"])
        return respond({"message": "Logged out"})
     """
        },
        "store denylist:<jti>",
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "a TTL of exp - iat (the whole lifetime again)",
        {
            0: """
        claims = principal.claims
        auth.tokens.store.set(denylist_key(claims["jti"]), "revoked", ttl=claims["exp"] - claims["iat"])
        return respond({"message": "Logged out"})
     """
        },
        "exp - now",
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "denying the user instead of the token",
        {
            0: """
        remaining = principal.claims["exp"] - now()
        auth.tokens.store.set(f"denylist:{principal.user.id}", "revoked", ttl=remaining)
        return respond({"message": "Logged out"})
     """
        },
        "store denylist:<jti>",
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "the jti stored without its denylist: prefix",
        {
            0: """
        remaining = principal.claims["exp"] - now()
        auth.tokens.store.set(principal.claims["jti"], "revoked", ttl=remaining)
        return respond({"message": "Logged out"})
     """
        },
        "store denylist:<jti>",
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "a fixed one-hour TTL (the token outlives its entry)",
        {
            0: """
        auth.tokens.store.set(denylist_key(principal.claims["jti"]), "revoked", ttl=3600)
        return respond({"message": "Logged out"})
     """
        },
        "use exp - now",
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "a TTL rounded up to whole hours",
        {
            0: """
        import math
        remaining = principal.claims["exp"] - now()
        auth.tokens.store.set(denylist_key(principal.claims["jti"]), "revoked", ttl=math.ceil(remaining / 3600) * 3600)
        return respond({"message": "Logged out"})
     """
        },
        "TTL",
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "Lax for the admin panel",
        {
            0: """
        if scenario == "spa":
            return Cookie("sid", value, secure=True, http_only=True, same_site="None")
        if scenario == "server-rendered":
            return Cookie("sid", value, secure=True, http_only=True, same_site="Lax")
        return Cookie("sid", value, max_age=3600, secure=True, http_only=True, same_site="Lax")
     """
        },
        "only follow the admin's own clicks",
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "a day-long admin cookie",
        {
            0: """
        if scenario == "spa":
            return Cookie("sid", value, secure=True, http_only=True, same_site="None")
        if scenario == "server-rendered":
            return Cookie("sid", value, secure=True, http_only=True, same_site="Lax")
        return Cookie("sid", value, max_age=86400, secure=True, http_only=True, same_site="Strict")
     """
        },
        "within 3600 s",
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "a Domain on the admin cookie",
        {
            0: """
        if scenario == "spa":
            return Cookie("sid", value, secure=True, http_only=True, same_site="None")
        if scenario == "server-rendered":
            return Cookie("sid", value, secure=True, http_only=True, same_site="Lax")
        return Cookie("sid", value, max_age=3600, secure=True, http_only=True, same_site="Strict",
                      domain="admin.example")
     """
        },
        "leave Domain out",
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "the server-rendered cookie without Secure",
        {
            0: """
        if scenario == "spa":
            return Cookie("sid", value, secure=True, http_only=True, same_site="None")
        if scenario == "server-rendered":
            return Cookie("sid", value, http_only=True, same_site="Lax")
        return Cookie("sid", value, max_age=3600, secure=True, http_only=True, same_site="Strict")
     """
        },
        "add Secure",
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "every cookie scoped to the login path",
        {
            0: """
        if scenario == "spa":
            return Cookie("sid", value, secure=True, http_only=True, same_site="None", path="/login")
        if scenario == "server-rendered":
            return Cookie("sid", value, secure=True, http_only=True, same_site="Lax", path="/login")
        return Cookie("sid", value, max_age=3600, secure=True, http_only=True, same_site="Strict", path="/login")
     """
        },
        "check Path and Domain",
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "a Domain shared with every subdomain for the server-rendered app",
        {
            0: """
        if scenario == "spa":
            return Cookie("sid", value, secure=True, http_only=True, same_site="None")
        if scenario == "server-rendered":
            return Cookie("sid", value, secure=True, http_only=True, same_site="Lax", domain="shop.example")
        return Cookie("sid", value, max_age=3600, secure=True, http_only=True, same_site="Strict")
     """
        },
        "sends it to every subdomain",
    ),
    (
        "shared-store",
        "shared-store",
        'store="fakeredis" for each (a fakeredis of its own each time)',
        {
            0: """
        secret = secrets.token_urlsafe(32)
        return [CourseServer("session", store="fakeredis", secret=secret, bcrypt_rounds=4).start()
                for _ in range(count)]
     """
        },
        "each server has a store of its own",
    ),
    (
        "shared-store",
        "shared-store",
        "one store, no secret at all",
        {
            0: """
        store = MemoryStore()
        return [CourseServer("session", store=store, bcrypt_rounds=4).start() for _ in range(count)]
     """
        },
        "not the secret that signs the cookie",
    ),
    (
        "shared-store",
        "shared-store",
        "one server fewer than asked",
        {
            0: """
        store, secret = MemoryStore(), secrets.token_urlsafe(32)
        return [CourseServer("session", store=store, secret=secret, bcrypt_rounds=4).start() for _ in range(count - 1)]
     """
        },
        "servers",
    ),
    (
        "shared-store",
        "shared-store",
        "token servers instead of session servers",
        {
            0: """
        store, secret = MemoryStore(), secrets.token_urlsafe(32)
        return [CourseServer("token", store=store, secret=secret, bcrypt_rounds=4).start() for _ in range(count)]
     """
        },
        "it must be a session server",
    ),
    (
        "shared-store",
        "shared-store",
        "a secret too short to start a server",
        {
            0: """
        store = MemoryStore()
        return [CourseServer("session", store=store, secret="secret", bcrypt_rounds=4).start() for _ in range(count)]
     """
        },
        "ConfigurationError",
    ),
    (
        "shared-store",
        "shared-store",
        "a fakeredis store per server, one secret",
        {
            0: """
        secret = secrets.token_urlsafe(32)
        return [CourseServer("session", store=fakeredis_store(), secret=secret, bcrypt_rounds=4).start()
                for _ in range(count)]
     """
        },
        "each server has a store of its own",
    ),
    (
        "shared-store",
        "shared-store",
        "the first fleet's store reused, but a new secret for every later fleet",
        {
            0: """
        store = globals().setdefault("SHARED", MemoryStore())
        secret = secrets.token_urlsafe(32)
        first = globals().setdefault("FIRST_SECRET", secret)
        return [CourseServer("session", store=store, secret=first if i == 0 else secret, bcrypt_rounds=4).start()
                for i in range(count)]
     """
        },
        "server 1 refused the cookie",
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "versions kept in a dict of the process instead of the store",
        {
            0: """
        VERSIONS = globals().setdefault("VERSIONS", {})
        return respond({"token": auth.tokens.create_access_token(user.id, user.role, version=VERSIONS.get(user.id, 0))})
     """,
            1: """
        VERSIONS = globals().setdefault("VERSIONS", {})
        principal = auth.authenticate(request)
        if principal.claims.get("ver") != VERSIONS.get(principal.user.id, 0):
            raise NotAuthenticated("Token revoked")
        return principal
     """,
            2: """
        VERSIONS = globals().setdefault("VERSIONS", {})
        VERSIONS[principal.user.id] = VERSIONS.get(principal.user.id, 0) + 1
        return respond({"message": "Logged out everywhere"})
     """,
        },
        "keep the version in the store",
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "int() of ver without a guard (a 500 for an odd token)",
        {
            1: """
        principal = auth.authenticate(request)
        current = int(auth.tokens.store.get(version_key(principal.user.id)) or 0)
        if int(principal.claims.get("ver", -1)) != current:
            raise NotAuthenticated("Token revoked")
        return principal
     """
        },
        "your code raised",
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "the version read from the token's own claims (whatever it says, it is current)",
        {
            1: """
        principal = auth.authenticate(request)
        current = int(auth.tokens.store.get(version_key(principal.user.id)) or 0)
        if principal.claims.get("ver", current) < current:
            raise NotAuthenticated("Token revoked")
        return principal
     """
        },
        "predates versions",
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "logout-all bumps the version of user 1, whoever asks",
        {
            2: """
        auth.tokens.store.incr(version_key(1))
        return respond({"message": "Logged out everywhere"})
     """
        },
        "Bob's logout everywhere",
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "logout-all deletes the version instead of bumping it",
        {
            2: """
        auth.tokens.store.delete(version_key(principal.user.id))
        return respond({"message": "Logged out everywhere"})
     """
        },
        "Token revoked",
    ),
    (
        "session-fixation",
        "fixation-login",
        "the new session keeps the planted session's user",
        {
            0: """
        previous = auth.sessions.load_session(request.cookies.get("sid"))
        if previous is not None:
            auth.sessions.destroy_session(previous)
        session = auth.sessions.create_session(previous.user_id if previous else user.id, user.role)
        return respond({"message": "Logged in"}, replace(auth.cookie, value=auth.sessions.sign(session.id)))
     """
        },
        "must be the one who logged in",
    ),
    (
        "session-fixation",
        "fixation-login",
        "a cookie with HttpOnly and SameSite switched off",
        {
            0: """
        from authcourse import Cookie
        previous = auth.sessions.load_session(request.cookies.get("sid"))
        if previous is not None:
            auth.sessions.destroy_session(previous)
        session = auth.sessions.create_session(user.id, user.role)
        cookie = Cookie("sid", auth.sessions.sign(session.id), http_only=False, same_site=None)
        return respond({"message": "Logged in"}, cookie)
     """
        },
        "start from auth.cookie",
    ),
    (
        "session-fixation",
        "fixation-login",
        "a session written by hand, not listed for the user",
        {
            0: """
        import json, secrets, time
        previous = auth.sessions.load_session(request.cookies.get("sid"))
        if previous is not None:
            auth.sessions.destroy_session(previous)
        session_id = secrets.token_urlsafe(32)
        record = {"user_id": user.id, "role": user.role, "created_at": time.time(), "last_seen": time.time()}
        auth.sessions.store.set(auth.sessions.key_of(session_id), json.dumps(record), ttl=1800)
        return respond({"message": "Logged in"}, replace(auth.cookie, value=auth.sessions.sign(session_id)))
     """
        },
        "create the session with auth.sessions.create_session",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "tokens from random.choices (the seed predicts them)",
        {
            0: """
        import random, string
        token = "".join(random.choices(string.ascii_letters + string.digits, k=43))
        record = {"user_id": user_id, "family": family or token, "used": False}
        self.store.set(f"refresh:{token}", json.dumps(record), ttl=self.lifetime)
        return token
     """
        },
        "use secrets",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "tokens from uuid1 (the clock and the machine)",
        {
            0: """
        import uuid
        token = str(uuid.uuid1())
        record = {"user_id": user_id, "family": family or token, "used": False}
        self.store.set(f"refresh:{token}", json.dumps(record), ttl=self.lifetime)
        return token
     """
        },
        "use secrets",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "tokens hashed from the user and the time",
        {
            0: """
        import hashlib, time
        token = hashlib.sha256(f"{user_id}:{time.time()}".encode()).hexdigest()
        record = {"user_id": user_id, "family": family or token, "used": False}
        self.store.set(f"refresh:{token}", json.dumps(record), ttl=self.lifetime)
        return token
     """
        },
        "use secrets",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "a lifetime in milliseconds",
        {
            0: """
        token = secrets.token_urlsafe(32)
        record = {"user_id": user_id, "family": family or secrets.token_urlsafe(16), "used": False}
        self.store.set(f"refresh:{token}", json.dumps(record), ttl=self.lifetime * 1000)
        return token
     """
        },
        "expires too",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "only the last used token remembered: an older replay passes as unknown",
        {
            1: """
        raw = self.store.get(f"refresh:{token}")
        if raw is None:
            raise NotAuthenticated("Invalid refresh token")
        record = json.loads(raw)
        if self.store.get(f"revoked-family:{record['family']}") is not None:
            raise NotAuthenticated("Invalid refresh token")
        if record["used"]:
            self.store.set(f"revoked-family:{record['family']}", "1", ttl=self.lifetime)
            raise NotAuthenticated("Refresh token reused")
        previous = self.store.get(f"last-used:{record['family']}")
        if previous is not None:
            self.store.delete(f"refresh:{previous}")
        record["used"] = True
        self.store.set(f"refresh:{token}", json.dumps(record), ttl=self.store.ttl(f"refresh:{token}"))
        self.store.set(f"last-used:{record['family']}", token, ttl=self.lifetime)
        return record["user_id"], self.issue(record["user_id"], record["family"])
     """
        },
        "rotations ago is still a used token",
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "a revoked family remembered for ever",
        {
            1: """
        raw = self.store.get(f"refresh:{token}")
        if raw is None:
            raise NotAuthenticated("Invalid refresh token")
        record = json.loads(raw)
        if self.store.get(f"revoked-family:{record['family']}") is not None:
            raise NotAuthenticated("Invalid refresh token")
        if record["used"]:
            self.store.set(f"revoked-family:{record['family']}", "1")
            raise NotAuthenticated("Refresh token reused")
        record["used"] = True
        self.store.set(f"refresh:{token}", json.dumps(record), ttl=self.store.ttl(f"refresh:{token}"))
        return record["user_id"], self.issue(record["user_id"], record["family"])
     """
        },
        "grow forever",
    ),
]

# Exercise 14, the password change (ASVS V7.4.3): each mistake a learner plausibly makes.
WRONG += [
    (
        "password-change",
        "password-change",
        "answering OK and ending nothing",
        {0: 'return respond({"message": "Password changed"})'},
        "end every session of the user",
    ),
    (
        "password-change",
        "password-change",
        "ending every session, the caller's too, and giving none back",
        {
            0: """
        auth.sessions.destroy_all_for_user(principal.user.id)
        return respond({"message": "Password changed"}, auth.cookie.expired())
     """
        },
        "give the caller a new session",
    ),
    (
        "password-change",
        "password-change",
        "ending the others by handle and keeping the caller's id",
        {
            0: """
        from authcourse.sessions import handle_of
        mine = handle_of(auth.sessions.stored_form(principal.session.id))
        for info in auth.sessions.list_sessions(principal.user.id):
            if info.handle != mine:
                auth.sessions.destroy_by_handle(principal.user.id, info.handle)
        return respond({"message": "Password changed"})
     """
        },
        "the old id must end",
    ),
    (
        "password-change",
        "password-change",
        "moving the caller to a new id and leaving the other sessions",
        {
            0: """
        session = auth.sessions.regenerate_session(principal.session)
        return respond({"message": "Password changed"}, replace(auth.cookie, value=auth.sessions.sign(session.id)))
     """
        },
        "end every session of the user",
    ),
    (
        "password-change",
        "password-change",
        "the new session's id in the cookie, unsigned",
        {
            0: """
        auth.sessions.destroy_all_for_user(principal.user.id)
        session = auth.sessions.create_session(principal.user.id, principal.user.role)
        return respond({"message": "Password changed"}, replace(auth.cookie, value=session.id))
     """
        },
        "sign the new session's id",
    ),
    (
        "password-change",
        "password-change",
        "ending the sessions of every user",
        {
            0: """
        for user in auth.users:
            auth.sessions.destroy_all_for_user(user.id)
        session = auth.sessions.create_session(principal.user.id, principal.user.role)
        return respond({"message": "Password changed"}, replace(auth.cookie, value=auth.sessions.sign(session.id)))
     """
        },
        "principal.user only",
    ),
    (
        "password-change",
        "password-change",
        "the built-in logout everywhere, which logs the caller out too",
        {0: "return auth.logout_all(principal)"},
        "give the caller a new session",
    ),
    (
        "password-change",
        "password-change",
        "the new session made first, then everything ended (the new one too)",
        {
            0: """
        session = auth.sessions.create_session(principal.user.id, principal.user.role)
        auth.sessions.destroy_all_for_user(principal.user.id)
        return respond({"message": "Password changed"}, replace(auth.cookie, value=auth.sessions.sign(session.id)))
     """
        },
        "sign the new session's id",
    ),
    (
        "password-change",
        "password-change",
        "deleting the user's list of sessions instead of the sessions",
        {
            0: """
        from authcourse.sessions import user_sessions_key
        auth.sessions.store.delete(user_sessions_key(principal.user.id))
        session = auth.sessions.regenerate_session(principal.session)
        return respond({"message": "Password changed"}, replace(auth.cookie, value=auth.sessions.sign(session.id)))
     """
        },
        "end every session of the user",
    ),
    (
        "password-change",
        "password-change",
        "the caller's old cookie sent back after ending everything",
        {
            0: """
        auth.sessions.destroy_all_for_user(principal.user.id)
        auth.sessions.create_session(principal.user.id, principal.user.role, device=principal.session.device)
        cookie = replace(auth.cookie, value=auth.sessions.sign(principal.session.id))
        return respond({"message": "Password changed"}, cookie)
     """
        },
        "sign the new session's id",
    ),
    (
        "password-change",
        "password-change",
        "the device forgotten",
        {
            0: """
        auth.sessions.destroy_all_for_user(principal.user.id)
        session = auth.sessions.create_session(principal.user.id, principal.user.role)
        return respond({"message": "Password changed"}, replace(auth.cookie, value=auth.sessions.sign(session.id)))
     """
        },
        "device=principal.session.device",
    ),
    (
        "password-change",
        "password-change",
        "a cookie written by hand, without HttpOnly",
        {
            0: """
        from authcourse.cookies import Cookie
        auth.sessions.destroy_all_for_user(principal.user.id)
        session = auth.sessions.create_session(principal.user.id, principal.user.role, device=principal.session.device)
        cookie = Cookie("sid", auth.sessions.sign(session.id), http_only=False, same_site="Lax")
        return respond({"message": "Password changed"}, cookie)
     """
        },
        "start from auth.cookie",
    ),
]

# Correct answers written differently from the reference: each must get full marks, hidden cases included.
CORRECT: list[tuple[str, str, str, dict[int, str]]] = [
    (
        "require-session",
        "require-session",
        "unsign, then load by the manager, with early returns",
        {
            0: """
        cookie = request.cookies.get("sid")
        if not cookie or auth.sessions.unsign(cookie) is None:
            raise NotAuthenticated()
        session = auth.sessions.load_session(cookie)
        if session is None or auth.users.get(session.user_id) is None:
            raise NotAuthenticated()
        return Principal(auth.users.get(session.user_id), session=session)
     """
        },
    ),
    (
        "require-session",
        "require-session",
        "try/except around the whole lookup",
        {
            0: """
        try:
            session = auth.sessions.load_session(request.cookies["sid"])
            return Principal(auth.users.get(session.user_id), session=session)
        except (KeyError, AttributeError):
            raise NotAuthenticated() from None
     """
        },
    ),
    (
        "session-logout",
        "session-logout",
        "Max-Age=-1 (RFC 6265 5.2.2: expire now)",
        {
            0: """
        from dataclasses import replace
        auth.sessions.destroy_session(principal.session)
        return respond({"message": "Logged out"}, replace(auth.cookie.expired(), max_age=-1, expires=None))
     """
        },
    ),
    (
        "session-logout",
        "session-logout",
        "an Expires in the past and no Max-Age, by deleting the store key",
        {
            0: """
        from dataclasses import replace
        from datetime import datetime, timezone
        from authcourse.sessions import session_key, user_sessions_key
        auth.sessions.store.delete(session_key(principal.session.id))
        auth.sessions.store.remove_member(user_sessions_key(principal.user.id), principal.session.id)
        gone = replace(auth.cookie, value="deleted", max_age=None, expires=datetime(2001, 1, 1, tzinfo=timezone.utc))
        return respond({"message": "Logged out"}, gone)
     """
        },
    ),
    (
        "bearer-token",
        "bearer-token",
        "one except with isinstance, and a case-insensitive scheme",
        {
            0: """
        header = request.headers.get("authorization") or ""
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise NotAuthenticated("No token provided")
        try:
            claims = jwt.decode(
                parts[1], SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                options={"require": ["exp", "sub", "iat"]},
            )
        except jwt.InvalidTokenError as error:
            if isinstance(error, jwt.ExpiredSignatureError):
                raise NotAuthenticated("Token expired") from None
            if isinstance(error, jwt.InvalidSignatureError) or not isinstance(error, jwt.DecodeError):
                raise NotAuthenticated("Invalid token") from None
            raise NotAuthenticated("Malformed token") from None
        try:
            user = auth.users.get(int(claims["sub"]))
        except (TypeError, ValueError):
            user = None
        if user is None:
            raise NotAuthenticated("Invalid token")
        return Principal(user, claims=claims)
     """
        },
    ),
    (
        "bearer-token",
        "bearer-token",
        "PyJWT's PyJWT class with verify options spelled out",
        {
            0: """
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("No token provided")
        options = {"require": ["exp", "sub", "iss", "aud"], "verify_exp": True, "verify_signature": True, "verify_aud": True}
        try:
            claims = jwt.PyJWT().decode(
                token.strip(), SECRET, algorithms=["HS256"], options=options, audience=AUDIENCE, issuer=ISSUER
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("Invalid token") from None
        except jwt.DecodeError:
            raise NotAuthenticated("Malformed token") from None
        except jwt.PyJWTError:
            raise NotAuthenticated("Invalid token") from None
        sub = claims.get("sub")
        user = auth.users.get(int(sub)) if isinstance(sub, str) and sub.isdecimal() else None
        if user is None:
            raise NotAuthenticated("Invalid token")
        return Principal(user, claims=claims)
     """
        },
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "the remaining time from datetime, rounded up to a whole second",
        {
            0: """
        import math
        from datetime import datetime, timezone
        expires = datetime.fromtimestamp(principal.claims["exp"], tz=timezone.utc)
        remaining = (expires - datetime.now(timezone.utc)).total_seconds()
        if remaining > 0:
            auth.tokens.store.set(denylist_key(principal.claims["jti"]), "1", ttl=math.ceil(remaining))
        return respond({"message": "Logged out"})
     """
        },
    ),
    (
        "denylist-logout",
        "denylist-logout",
        "the token service's own revoke",
        {
            0: """
        auth.tokens.revoke_token(principal.claims)
        return respond({"message": "Logged out"})
     """
        },
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "an Expires bound for the admin cookie instead of Max-Age",
        {
            0: """
        from datetime import datetime, timedelta, timezone
        if scenario == "spa":
            return Cookie("sid", value, secure=True, http_only=True, same_site="None", path="/")
        if scenario == "server-rendered":
            return Cookie("sid", value, secure=True, http_only=True, same_site="Lax", max_age=8 * 3600)
        soon = datetime.now(timezone.utc) + timedelta(minutes=30)
        return Cookie("sid", value, expires=soon, secure=True, http_only=True, same_site="Strict")
     """
        },
    ),
    (
        "cookie-attributes",
        "cookie-attributes",
        "a table of attributes per scenario",
        {
            0: """
        attributes = {
            "spa": {"same_site": "None"},
            "server-rendered": {"same_site": "Lax"},
            "admin": {"same_site": "Strict", "max_age": 900},
        }
        return Cookie("sid", value, secure=True, http_only=True, **attributes[scenario])
     """
        },
    ),
    (
        "shared-store",
        "shared-store",
        "one fakeredis store and a secret from secrets.token_bytes",
        {
            0: """
        store, secret = fakeredis_store(), secrets.token_bytes(32)
        servers = []
        for _ in range(count):
            servers.append(CourseServer("session", store=store, secret=secret, bcrypt_rounds=4))
        return [server.start() for server in servers]
     """
        },
    ),
    (
        "shared-store",
        "shared-store",
        "one store kept for the whole notebook",
        {
            0: """
        shared = globals().setdefault("SHARED_STORE", MemoryStore())
        secret = globals().setdefault("SHARED_SECRET", secrets.token_urlsafe(48))
        return [CourseServer("session", store=shared, secret=secret, bcrypt_rounds=4).start() for _ in range(count)]
     """
        },
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "the token service's own versions",
        {
            0: """
        return respond({"token": auth.tokens.create_access_token(user.id, user.role,
                                                                 version=auth.tokens.current_version(user.id))})
     """,
            1: """
        principal = auth.authenticate(request)
        if not auth.tokens.is_current_version(principal.claims):
            raise NotAuthenticated("Token revoked")
        return principal
     """,
            2: """
        auth.tokens.revoke_all_for_user(principal.user.id)
        return respond({"message": "Logged out everywhere"})
     """,
        },
    ),
    (
        "logout-everywhere",
        "logout-everywhere",
        "get and set instead of incr, and a version refused when behind",
        {
            1: """
        principal = auth.authenticate(request)
        ver = principal.claims.get("ver")
        current = int(auth.tokens.store.get(version_key(principal.user.id)) or 0)
        if type(ver) is not int or ver < current:
            raise NotAuthenticated("Token revoked")
        return principal
     """,
            2: """
        key = version_key(principal.user.id)
        auth.tokens.store.set(key, str(int(auth.tokens.store.get(key) or 0) + 1))
        return respond({"message": "Logged out everywhere"})
     """,
        },
    ),
    (
        "session-fixation",
        "fixation-login",
        "the built-in session strategy's pieces, destroying every planted cookie",
        {
            0: """
        planted = request.cookies.get("sid")
        if planted:
            old = auth.sessions.load_session(planted)
            if old is not None:
                auth.sessions.destroy_session(old)
        fresh = auth.sessions.create_session(user.id, user.role)
        cookie = replace(auth.cookie, value=auth.sessions.sign(fresh.id))
        return respond({"message": "Logged in", "user": {"name": user.name}}, cookie)
     """
        },
    ),
    (
        "session-fixation",
        "fixation-regenerate",
        "the manager's own regenerate_session",
        {1: "return sessions.regenerate_session(session)"},
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "token_hex, and the used marker as a key of its own",
        {
            0: """
        token = secrets.token_hex(24)
        family = family or secrets.token_hex(8)
        self.store.set(f"refresh:{token}", json.dumps({"user_id": user_id, "family": family}), ttl=self.lifetime)
        return token
     """,
            1: """
        raw = self.store.get(f"refresh:{token}")
        record = json.loads(raw) if raw else None
        if record is None or self.store.get(f"dead:{record['family']}"):
            raise NotAuthenticated("Invalid refresh token")
        if self.store.get(f"used:{token}"):
            self.store.set(f"dead:{record['family']}", "1", ttl=self.lifetime)
            raise NotAuthenticated("Refresh token reused")
        self.store.set(f"used:{token}", "1", ttl=self.store.ttl(f"refresh:{token}") or self.lifetime)
        return record["user_id"], self.issue(record["user_id"], record["family"])
     """,
        },
    ),
    (
        "refresh-tokens",
        "refresh-tokens",
        "compare_and_set to mark a token used",
        {
            1: """
        key = f"refresh:{token}"
        raw = self.store.get(key)
        if raw is None:
            raise NotAuthenticated("Invalid refresh token")
        record = json.loads(raw)
        if self.store.get(f"revoked-family:{record['family']}") is not None:
            raise NotAuthenticated("Invalid refresh token")
        used = json.dumps(record | {"used": True})
        if record["used"] or not self.store.compare_and_set(key, raw, used, ttl=self.store.ttl(key)):
            self.store.set(f"revoked-family:{record['family']}", "1", ttl=self.lifetime)
            raise NotAuthenticated("Refresh token reused")
        return record["user_id"], self.issue(record["user_id"], record["family"])
     """
        },
    ),
]

# Exercise 15, the Fetch Metadata guard: ten wrong answers, two correct variants.
GUARD_HEAD = """
        site = request.headers.get("sec-fetch-site")
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
"""
WRONG += [
    ("fetch-metadata-guard", "fetch-metadata-guard", mistake, {0: GUARD_HEAD + body}, said)
    for mistake, body, said in [
        ("no Origin fallback when Sec-Fetch-Site is absent", """
        if site is not None and site not in ("same-origin", "none"):
            raise Forbidden("Cross-site login refused")
        return auth.login(user, request)
        """, "the Origin header tells where the form was"),
        ("refusing every request without Sec-Fetch-Site", """
        if site not in ("same-origin", "none"):
            raise Forbidden("Cross-site login refused")
        return auth.login(user, request)
        """, "curl and mobile apps send neither header"),
        ("trusting same-site (any subdomain)", """
        if site is not None and site not in ("same-origin", "same-site", "none"):
            raise Forbidden("Cross-site login refused")
        if site is None and origin is not None and origin != own:
            raise Forbidden("Cross-origin login refused")
        return auth.login(user, request)
        """, "same-site is any subdomain"),
        ("a blocklist that refuses cross-site only", """
        if site == "cross-site" or (site is None and origin is not None and origin != own):
            raise Forbidden("Cross-site login refused")
        return auth.login(user, request)
        """, "same-site is any subdomain"),
        ("comparing the Origin's host, not its port", """
        from urllib.parse import urlsplit
        if site is not None and site not in ("same-origin", "none"):
            raise Forbidden("Cross-site login refused")
        if site is None and origin is not None and urlsplit(origin).hostname != request.url.hostname:
            raise Forbidden("Cross-origin login refused")
        return auth.login(user, request)
        """, "compare the whole of it"),
        ("refusing with 401 instead of 403", """
        from authcourse.errors import NotAuthenticated
        if (site is not None and site not in ("same-origin", "none")) or (site is None and origin not in (None, own)):
            raise NotAuthenticated("Cross-site login refused")
        return auth.login(user, request)
        """, "expected 403"),
        ("raising a plain exception (a 500)", """
        if (site is not None and site not in ("same-origin", "none")) or (site is None and origin not in (None, own)):
            raise PermissionError("cross-site")
        return auth.login(user, request)
        """, "your code raised PermissionError"),
        ("forgetting to return the login", """
        if (site is not None and site not in ("same-origin", "none")) or (site is None and origin not in (None, own)):
            raise Forbidden("Cross-site login refused")
        auth.login(user, request)
        """, "must return a Response, not NoneType"),
        ("refusing the bank's own page (only none passes)", """
        if (site is not None and site != "none") or (site is None and origin not in (None, own)):
            raise Forbidden("Cross-site login refused")
        return auth.login(user, request)
        """, "the bank's own login form must keep working"),
        ("refusing any Origin, the server's own included", """
        if (site is not None and site not in ("same-origin", "none")) or (site is None and origin is not None):
            raise Forbidden("Cross-site login refused")
        return auth.login(user, request)
        """, "the server's own origin is not another site"),
        ("trusting Origin: null", """
        trusted = (None, own, "null")
        if (site is not None and site not in ("same-origin", "none")) or (site is None and origin not in trusted):
            raise Forbidden("Cross-site login refused")
        return auth.login(user, request)
        """, "null is not the server's own origin"),
        ("a garbage Origin crashes the port parsing (a 500)", """
        if site is not None and site not in ("same-origin", "none"):
            raise Forbidden("Cross-site login refused")
        if site is None and origin is not None:
            port = int(origin.rsplit(":", 1)[1])
            if origin.rsplit(":", 1)[0] != own.rsplit(":", 1)[0] or port != request.url.port:
                raise Forbidden("Cross-origin login refused")
        return auth.login(user, request)
        """, "a garbage Origin answered"),
    ]
]
CORRECT += [
    ("fetch-metadata-guard", "fetch-metadata-guard", variant, {0: body})
    for variant, body in [
        ("the origin parsed and compared as (scheme, host, port)", """
        from urllib.parse import urlsplit
        site = request.headers.get("sec-fetch-site")
        if site is not None:
            if site in ("same-origin", "none"):
                return auth.login(user, request)
            raise Forbidden("Cross-site login refused")
        origin = request.headers.get("origin")
        if origin is None:
            return auth.login(user, request)
        try:
            parts = urlsplit(origin)
            theirs = (parts.scheme, parts.hostname, parts.port)
        except ValueError:
            theirs = None
        if theirs != (request.url.scheme, request.url.hostname, request.url.port):
            raise Forbidden("Cross-origin login refused")
        return auth.login(user, request)
        """),
        ("a 403 response returned instead of raised", """
        from authcourse.auth import respond
        site = request.headers.get("sec-fetch-site")
        origin = request.headers.get("origin")
        own = str(request.base_url).rstrip("/")
        allowed = site in ("same-origin", "none") if site else origin in (None, own)
        if not allowed:
            return respond({"error": "Cross-site login refused"}, status=403)
        return auth.login(user, request)
        """),
    ]
]


# Exercise 13, jwks-verifier: each mistake a verifier of a key set can make.
JWKS_FIND = """
        kid = jwt.get_unverified_header(token).get("kid")
        matching = [jwk for jwk in jwks["keys"] if jwk.get("kid") == kid]
        if not matching:
            raise jwt.InvalidTokenError("unknown kid")
        key = jwt.PyJWK(matching[0]).key
"""
REQUIRE = 'options={"require": ["exp", "iat", "iss", "aud", "sub"]}'


def jwks_answer(decode: str, find: str = JWKS_FIND) -> dict[int, str]:
    return {0: textwrap.dedent(find) + textwrap.dedent(decode)}


WRONG += [
    (
        "jwks-verifier",
        "jwks-verifier",
        "the algorithm read from the token's header",
        jwks_answer(f"""
        alg = jwt.get_unverified_header(token)["alg"]
        return jwt.decode(token, key, algorithms=[alg], issuer=ISSUER, audience=AUDIENCE, {REQUIRE})
        """),
        "never take the algorithm from the token",
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "the algorithm read from the key set (the key's alg)",
        jwks_answer(f"""
        return jwt.decode(token, key, algorithms=[matching[0]["alg"]], issuer=ISSUER, audience=AUDIENCE, {REQUIRE})
        """),
        'pin algorithms=["RS256"]',
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "two algorithms allowed, RS256 and ES256",
        jwks_answer(f"""
        return jwt.decode(token, key, algorithms=["RS256", "ES256"], issuer=ISSUER, audience=AUDIENCE, {REQUIRE})
        """),
        'pin algorithms=["RS256"]',
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "no audience check",
        jwks_answer("""
        return jwt.decode(token, key, algorithms=["RS256"], issuer=ISSUER,
                          options={"verify_aud": False, "require": ["exp", "iat", "iss", "sub"]})
        """),
        "check the audience",
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "accepting a retired kid: keys remembered from earlier calls",
        jwks_answer(
            f"""
        return jwt.decode(token, key, algorithms=["RS256"], issuer=ISSUER, audience=AUDIENCE, {REQUIRE})
        """,
            """
        seen = globals().setdefault("SEEN_KEYS", {})
        for jwk in jwks["keys"]:
            seen[jwk["kid"]] = jwk
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in seen:
            raise jwt.InvalidTokenError("unknown kid")
        key = jwt.PyJWK(seen[kid]).key
        matching = [seen[kid]]
        """,
        ),
        "never keys remembered from an earlier call",
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "ignoring exp",
        jwks_answer("""
        return jwt.decode(token, key, algorithms=["RS256"], issuer=ISSUER, audience=AUDIENCE,
                          options={"verify_exp": False, "require": ["iat", "iss", "aud", "sub"]})
        """),
        "exp has passed",
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "exp checked when present, but not required",
        jwks_answer("""
        return jwt.decode(token, key, algorithms=["RS256"], issuer=ISSUER, audience=AUDIENCE)
        """),
        "require exp",
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "no issuer check",
        jwks_answer("""
        return jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE,
                          options={"require": ["exp", "iat", "aud", "sub"]})
        """),
        "check the issuer",
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "the first key of the set, whatever the kid",
        jwks_answer(
            f"""
        return jwt.decode(token, key, algorithms=["RS256"], issuer=ISSUER, audience=AUDIENCE, {REQUIRE})
        """,
            """
        key = jwt.PyJWK(jwks["keys"][0]).key
        """,
        ),
        "pick the key whose kid the token names",
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "the signature not verified",
        jwks_answer("""
        return jwt.decode(token, key, algorithms=["RS256"], issuer=ISSUER, audience=AUDIENCE,
                          options={"verify_signature": False})
        """),
        "verify the signature",
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "returning None to refuse, instead of raising",
        jwks_answer(
            f"""
        try:
            return jwt.decode(token, key, algorithms=["RS256"], issuer=ISSUER, audience=AUDIENCE, {REQUIRE})
        except jwt.PyJWTError:
            return None
        """,
            """
        kid = jwt.get_unverified_header(token).get("kid")
        matching = [jwk for jwk in jwks["keys"] if jwk.get("kid") == kid]
        if not matching:
            return None
        key = jwt.PyJWK(matching[0]).key
        """,
        ),
        "verify_token returned NoneType",
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "a KeyError for an unknown kid instead of a PyJWT error",
        jwks_answer(
            f"""
        return jwt.decode(token, key, algorithms=["RS256"], issuer=ISSUER, audience=AUDIENCE, {REQUIRE})
        """,
            """
        by_kid = {jwk["kid"]: jwk for jwk in jwks["keys"]}
        key = jwt.PyJWK(by_kid[jwt.get_unverified_header(token)["kid"]]).key
        """,
        ),
        "your code raised KeyError",
    ),
]

CORRECT += [
    (
        "jwks-verifier",
        "jwks-verifier",
        "PyJWKSet and its lookup by kid",
        {0: """
        kid = jwt.get_unverified_header(token).get("kid")
        try:
            key = jwt.PyJWKSet.from_dict(jwks)[kid]
        except KeyError:
            raise jwt.InvalidTokenError("no key with that kid") from None
        return jwt.decode(token, key.key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER,
                          options={"require": ["exp", "iss", "aud"]})
        """},
    ),
    (
        "jwks-verifier",
        "jwks-verifier",
        "a loop over the keys, decode_complete, the claims returned from its payload",
        {0: """
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise jwt.InvalidAlgorithmError("RS256 only")
        for jwk in jwks["keys"]:
            if jwk.get("kid") == header.get("kid") and jwk.get("kty") == "RSA":
                found = jwt.api_jwt.decode_complete(token, jwt.PyJWK(jwk, algorithm="RS256").key,
                                                    algorithms=["RS256"], issuer=ISSUER, audience=AUDIENCE,
                                                    options={"require": ["exp"]})
                return found["payload"]
        raise jwt.InvalidTokenError("no RSA key with that kid")
        """},
    ),
]


CORRECT += [
    (
        "password-change",
        "password-change",
        "the built-in login after ending every session",
        {
            0: """
        auth.sessions.destroy_all_for_user(principal.user.id)
        return auth.login(principal.user, request)
     """
        },
    ),
    (
        "password-change",
        "password-change",
        "regenerate the caller, then end the others by handle",
        {
            0: """
        from authcourse.sessions import handle_of
        session = auth.sessions.regenerate_session(principal.session)
        mine = handle_of(auth.sessions.stored_form(session.id))
        for info in auth.sessions.list_sessions(principal.user.id):
            if info.handle != mine:
                auth.sessions.destroy_by_handle(principal.user.id, info.handle)
        return respond({"message": "Password changed"}, replace(auth.cookie, value=auth.sessions.sign(session.id)))
     """
        },
    ),
]


@pytest.mark.parametrize(
    ("exercise_id", "check", "mistake", "answers", "said"), WRONG, ids=[f"{w[0]}: {w[2]}" for w in WRONG]
)
def test_a_wrong_answer_scores_less_and_the_check_names_the_mistake(
    exercise_id: str, check: str, mistake: str, answers: dict[int, str], said: str
) -> None:
    report = graded(exercise_id, check, answers=answers)
    assert report.score < report.maximum, f"{mistake}: full marks\n" + "\n".join(report.lines())
    reasons = " | ".join(outcome.reason for outcome in report.outcomes if not outcome.passed)
    assert said in reasons, f"{mistake}: the check did not say {said!r}: {reasons}"


@pytest.mark.parametrize(
    ("exercise_id", "check", "variant", "answers"), CORRECT, ids=[f"{c[0]}: {c[2]}" for c in CORRECT]
)
def test_a_correct_answer_written_differently_gets_full_marks(
    exercise_id: str, check: str, variant: str, answers: dict[int, str]
) -> None:
    report = graded(exercise_id, check, answers=answers)
    assert report.score == report.maximum, f"{variant}:\n" + "\n".join(report.lines())


def test_every_exercise_has_ten_wrong_answers_and_two_correct_variants() -> None:
    wrong = {exercise_id: sum(w[0] == exercise_id for w in WRONG) for exercise_id in NOTEBOOKS}
    correct = {exercise_id: sum(c[0] == exercise_id for c in CORRECT) for exercise_id in NOTEBOOKS}
    assert all(count >= 10 for count in wrong.values()), wrong
    assert all(count >= 2 for count in correct.values()), correct


def test_the_check_cells_of_a_notebook_print_one_line_per_case_then_the_score(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from authcourse.grading import check

    assert check("refresh-tokens", run_cells("solutions", "refresh-tokens")) is None, "nothing for Jupyter to display"
    report = graded("refresh-tokens", "refresh-tokens")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Check refresh-tokens:"
    assert len([line for line in lines if re.match(r"^  (PASS|FAIL)  ", line)]) == len(lines) - 2
    visible = len([case for case in EXERCISES["refresh-tokens"].cases if not case.hidden])
    assert lines[-1] == f"Score: {visible}/{visible}", "a learner's notebook never runs the hidden cases"
    assert report.maximum > visible


def test_time_that_depends_on_the_machines_time_zone_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The grader's sandbox runs kernels at UTC+14 (sandbox.TIME_ZONE); here, this process does."""
    from authcourse.grading.sandbox import TIME_ZONE

    naive_utc = {
        0: """
        from datetime import datetime
        remaining = principal.claims["exp"] - datetime.utcnow().timestamp()
        auth.tokens.store.set(denylist_key(principal.claims["jti"]), "revoked", ttl=remaining)
        return respond({"message": "Logged out"})
     """
    }
    monkeypatch.setenv("TZ", TIME_ZONE)
    time.tzset()
    try:
        report = graded("denylist-logout", "denylist-logout", answers=naive_utc)
        solution = graded("denylist-logout", "denylist-logout")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert report.score < report.maximum and "use exp - now" in " ".join(o.reason for o in report.outcomes)
    assert solution.score == solution.maximum, "\n".join(solution.lines())
