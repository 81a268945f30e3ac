"""Exercise 02: a `require_session` dependency: 401 without a live session, the user with one."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..remote import Remote, RemoteServer
from ..runtime import Exercise, expect
from .support import BOB, cookie_value, expect_status, login, request, shown


def context(remote: Remote) -> AbstractContextManager[RemoteServer]:
    return nullcontext(remote.start("hooks", mode="session", hooks={"authenticate": "require_session"}))


EXERCISE = Exercise("require-session", ("require_session",), context=context)


def profile(server: Any, sid: str | None) -> Any:
    return request(server, "GET", "/api/profile", headers={"Cookie": f"sid={sid}"} if sid is not None else {})


@EXERCISE.case("no cookie: 401 Not authenticated")
def no_cookie(server: Any) -> None:
    expect_status(
        profile(server, None), 401, "Not authenticated", why="raise NotAuthenticated() when there is no session"
    )


@EXERCISE.case("logged in: the profile of the user who logged in")
def logged_in(server: Any) -> None:
    sid = cookie_value(login(server))
    response = profile(server, sid)
    expect_status(response, 200)
    expect(response.json()["user"]["name"] == "Alice", f"Alice logged in, but the profile is {shown(response)}")


@EXERCISE.case("Bob's cookie gives Bob, and his admin role")
def bob(server: Any) -> None:
    sid = cookie_value(login(server, BOB))
    response = profile(server, sid)
    expect_status(response, 200)
    expect(response.json()["user"]["name"] == "Bob", f"Bob logged in, but the profile is {shown(response)}")
    admin = request(server, "GET", "/api/admin", headers={"Cookie": f"sid={sid}"})
    expect_status(admin, 200, why="the Principal must carry the user of the session")


@EXERCISE.case("a cookie whose signature was tampered with: 401")
def tampered(server: Any) -> None:
    sid = cookie_value(login(server))
    session_id, _, signature = sid.rpartition(".")
    forged = f"{session_id}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    expect_status(
        profile(server, forged),
        401,
        "Not authenticated",
        why="the id in a cookie counts only if its signature checks out",
    )


@EXERCISE.case("the cookie of a session deleted from the store (logged out): 401")
def deleted(server: Any) -> None:
    sid = cookie_value(login(server))
    out = request(server, "POST", "/logout", headers={"Cookie": f"sid={sid}"})
    expect(out.status_code == 200, f"logging out answered {shown(out)}: the Principal must carry its session")
    expect_status(
        profile(server, sid), 401, "Not authenticated", why="the store, not the cookie, says who is logged in"
    )
