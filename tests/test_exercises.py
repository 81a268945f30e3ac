"""Every exercise, in process: the solution scores full marks (hidden cases too), the blank
exercise scores 0 without crashing, and plausible wrong answers score less, with the check naming
the mistake. Each wrong answer is the solution notebook with one answer region replaced."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import pytest

from authcourse.grading.checks import EXERCISES, default_hidden, load_hidden
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
        from authcourse.sessions import Session
        session_id = (request.cookies.get("sid") or "").rpartition(".")[0]
        raw = auth.sessions.store.get("session:" + session_id)
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
            claims = jwt.decode(token, SECRET, algorithms=[algorithm], options={"require": ["exp", "sub"]})
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
            claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
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
            claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
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
            claims = jwt.decode(token, SECRET, algorithms=["HS256"])
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


def test_every_exercise_has_at_least_three_wrong_answers() -> None:
    counts = {exercise_id: sum(w[0] == exercise_id for w in WRONG) for exercise_id in NOTEBOOKS}
    assert all(count >= 3 for count in counts.values()), counts


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
