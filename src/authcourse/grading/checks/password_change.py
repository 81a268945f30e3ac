"""Exercise 14: after a password change, every other session ends and the caller moves to a new id.

The route (`POST /account/password`) checks the current password and sets the new one itself;
the learner's `password_changed(principal, request, auth)` is what follows (OWASP ASVS V7.4.3).
Every case runs on a server of its own with a memory store: a password change alters the
server's users, so no case may inherit another's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from ..remote import Remote, RemoteServer
from ..runtime import Exercise, expect
from .support import ALICE, BOB, cookie_value, expect_status, login, request, shown

NEW_PASSWORD = "a-new-password-for-alice"


class Servers:
    """The check's context: it starts a fresh server with the learner's hook for each case."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    @contextmanager
    def fresh(self) -> Iterator[RemoteServer]:
        server = self.remote.start(
            "hooks", mode="session", hooks={"password_changed": "password_changed"}, settings={"store": "memory"}
        )
        try:
            yield server
        finally:
            server.stop()


def context(remote: Remote) -> AbstractContextManager[Servers]:
    return nullcontext(Servers(remote))


EXERCISE = Exercise("password-change", ("password_changed",), context=context)


def sid_of(server: Any, who: tuple[str, str] = ALICE, device: str = "a laptop") -> str:
    response = login(server, who, headers={"User-Agent": device})
    sid = cookie_value(response)
    expect(response.status_code == 200 and sid, f"login answered {shown(response)}")
    return str(sid)


def profile(server: Any, sid: str | None) -> Any:
    return request(server, "GET", "/api/profile", headers={"Cookie": f"sid={sid}"})


def change(server: Any, sid: str, device: str = "a laptop") -> tuple[Any, str | None]:
    """The password change from the session `sid`; the response and the cookie it set, if any."""
    body = {"current_password": ALICE[1], "new_password": NEW_PASSWORD}
    response = request(
        server, "POST", "/account/password", json=body, headers={"Cookie": f"sid={sid}", "User-Agent": device}
    )
    expect(response.status_code == 200, f"the password change answered {shown(response)}")
    return response, cookie_value(response)


def new_cookie(server: Any, sid: str, device: str = "a laptop") -> str:
    _, cookie = change(server, sid, device)
    expect(cookie, "no new sid cookie in the response: give the caller a new session (and its cookie)")
    return str(cookie)


@EXERCISE.case("the caller stays logged in with the cookie the change sets")
def caller_in(servers: Servers) -> None:
    with servers.fresh() as server:
        cookie = new_cookie(server, sid_of(server))
        expect_status(profile(server, cookie), 200, why="sign the new session's id into the cookie you send back")


@EXERCISE.case("another session of the same user (another device): 401 after the change")
def other_out(servers: Servers) -> None:
    with servers.fresh() as server:
        phone = sid_of(server, device="a phone")
        change(server, sid_of(server))
        expect_status(
            profile(server, phone), 401, "Not authenticated",
            why="a thief with the old password, or a copy of a cookie, must be out: end every session of the user",
        )


@EXERCISE.case("the caller's old cookie: 401 (the session moved to a new id)")
def old_cookie_dead(servers: Servers) -> None:
    with servers.fresh() as server:
        laptop = sid_of(server)
        change(server, laptop)
        expect_status(
            profile(server, laptop), 401, "Not authenticated",
            why="keep the caller logged in under a NEW id, as a login does; the old id must end",
        )


@EXERCISE.case("another user's session (Bob's) is not touched")
def bob_in(servers: Servers) -> None:
    with servers.fresh() as server:
        bob = sid_of(server, BOB)
        change(server, sid_of(server))
        expect_status(profile(server, bob), 200, why="end the sessions of principal.user only")
