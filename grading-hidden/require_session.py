"""Hidden cases of exercise 02, require-session."""

from __future__ import annotations

import time
from typing import Any

from authcourse.grading.checks.require_session import EXERCISE, profile
from authcourse.grading.checks.support import cookie_value, expect_status, login, request
from authcourse.grading.runtime import expect
from authcourse.sessions import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT

NOT_AUTHENTICATED = "Not authenticated"


def timed_login(server: Any) -> tuple[str, float, float]:
    before = time.time()
    sid = cookie_value(login(server))
    expect(sid, "the login set no cookie")
    return str(sid), before, time.time()


@EXERCISE.case("a garbage cookie: 401, never 500", hidden=True)
def garbage(server: Any) -> None:
    expect_status(profile(server, "%%not-a-cookie%%"), 401, NOT_AUTHENTICATED)
    expect_status(profile(server, "x" * 4000 + ".y"), 401, NOT_AUTHENTICATED, why="a huge cookie is no session either")


@EXERCISE.case("idle timeout: alive 1 s before it, 401 1 s after it", hidden=True)
def idle(server: Any) -> None:
    sid, before, _ = timed_login(server)
    with server.remote.at(before + IDLE_TIMEOUT - 1):
        expect_status(profile(server, sid), 200, why="the session is not idle for 30 min yet")
    sid, _, after = timed_login(server)
    with server.remote.at(after + IDLE_TIMEOUT + 1):
        expect_status(profile(server, sid), 401, NOT_AUTHENTICATED,
                      why="load the session through the manager, which checks its timeouts")


@EXERCISE.case("absolute timeout: a session used every 25 min still ends 24 h after login", hidden=True)
def absolute(server: Any) -> None:
    sid, _, after = timed_login(server)
    step = 25 * 60
    moments = [after + step * n for n in range(1, int(ABSOLUTE_TIMEOUT // step) + 1)] + [after + ABSOLUTE_TIMEOUT + 1]
    for moment in moments[:-1]:
        with server.remote.at(moment):
            response = profile(server, sid)
        if response.status_code != 200:
            expect_status(response, 200, why=f"{(moment - after) / 3600:.1f} h after login, in use: still alive")
    with server.remote.at(moments[-1]):
        expect_status(profile(server, sid), 401, NOT_AUTHENTICATED, why="24 h after login a session ends, used or not")


@EXERCISE.case("Alice gets 403 from the admin route", hidden=True)
def alice_not_admin(server: Any) -> None:
    sid = cookie_value(login(server))
    expect_status(request(server, "GET", "/api/admin", headers={"Cookie": f"sid={sid}"}), 403, "Forbidden")


@EXERCISE.case("the session id in the query string is refused: 401", hidden=True)
def query_string(server: Any) -> None:
    sid = cookie_value(login(server))
    response = request(server, "GET", "/api/profile", params={"sid": sid})
    expect_status(response, 401, NOT_AUTHENTICATED,
                  why="credentials travel in the cookie, never in a URL (logs, Referer)")
