"""Exercise 02: logout that destroys the server-side session and clears the cookie."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timezone
from typing import Any

from ...cookies import Cookie, CookieError
from ...sessions import session_key
from ..remote import Remote, RemoteServer
from ..runtime import Exercise, expect
from .support import ALICE, cookie_value, expect_status, login, request, set_cookies, shown


def context(remote: Remote) -> AbstractContextManager[RemoteServer]:
    return nullcontext(remote.start("hooks", mode="session", hooks={"logout": "logout"}))


EXERCISE = Exercise("session-logout", ("logout",), context=context)


def logged_out(server: Any) -> tuple[str, Any]:
    sid = cookie_value(login(server))
    return sid, request(server, "POST", "/logout", headers={"Cookie": f"sid={sid}"})


def expires_now(cookie: Cookie) -> bool:
    """RFC 6265 5.2.2 and 5.3: Max-Age wins over Expires; Max-Age <= 0, or an Expires not after now, deletes it."""
    if cookie.max_age is not None:
        return cookie.max_age <= 0
    return cookie.expires is not None and cookie.expires <= datetime.now(timezone.utc)


def clearing_cookie(response: Any) -> Cookie | None:
    for header in set_cookies(response):
        try:
            cookie = Cookie.parse(header)
        except CookieError:
            continue
        if cookie.name == "sid":
            return cookie
    return None


@EXERCISE.case("logout answers 200")
def answers(server: Any) -> None:
    expect_status(logged_out(server)[1], 200)


@EXERCISE.case("the response tells the browser to drop the sid cookie")
def clears(server: Any) -> None:
    response = logged_out(server)[1]
    cookie = clearing_cookie(response)
    expect(
        cookie is not None, f"no Set-Cookie for sid in the response ({shown(response)}): the browser keeps the cookie"
    )
    expect(expires_now(cookie), f"Set-Cookie: {cookie.render()} does not expire the cookie (Max-Age=0)")


@EXERCISE.case("the old cookie, replayed after logout: 401")
def replayed(server: Any) -> None:
    sid, response = logged_out(server)
    expect(response.status_code == 200, f"logout answered {shown(response)}")
    again = request(server, "GET", "/api/profile", headers={"Cookie": f"sid={sid}"})
    expect_status(
        again, 401, "Not authenticated", why="clearing the cookie is not enough: delete the session from the store"
    )


@EXERCISE.case("the session is gone from the store")
def store_empty(server: Any) -> None:
    sid, _ = logged_out(server)
    key = session_key(sid.rpartition(".")[0])  # the store keeps the id's hash, never the id
    expect(server.store.get(key) is None, f"{key[:20]}... is still in the store")


@EXERCISE.case("Alice's other session (another device) stays logged in")
def other_device(server: Any) -> None:
    phone = cookie_value(login(server, ALICE))
    laptop, out = logged_out(server)
    expect(out.status_code == 200, f"logout answered {shown(out)}")
    gone = request(server, "GET", "/api/profile", headers={"Cookie": f"sid={laptop}"})
    expect(gone.status_code == 401, "the logged-out session still works")
    response = request(server, "GET", "/api/profile", headers={"Cookie": f"sid={phone}"})
    expect_status(response, 200, why="logout ends this session only; logging out everywhere is another route")
