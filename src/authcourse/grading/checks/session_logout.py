"""Exercise 02: logout that destroys the server-side session and clears the cookie."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ...cookies import Cookie, CookieError
from ...hooks import Hooks
from ..runtime import Exercise, expect
from .support import ALICE, cookie_value, expect_status, live_server, login, request, set_cookies, shown


@contextmanager
def context(namespace: Mapping[str, Any]) -> Iterator[Any]:
    with live_server("session", Hooks(logout=namespace["logout"])) as server:
        yield server


EXERCISE = Exercise("session-logout", ("logout",), context=context)


def logged_out(server: Any) -> tuple[str, Any]:
    sid = cookie_value(login(server))
    return sid, request(server, "POST", "/logout", headers={"Cookie": f"sid={sid}"})


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
    gone = cookie.max_age == 0 or (cookie.expires is not None and cookie.expires.year < 2000)
    expect(
        gone and cookie.value == "",
        f"Set-Cookie: {cookie.render()} does not expire the cookie (Max-Age=0, empty value)",
    )


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
    key = f"session:{sid.rpartition('.')[0]}"
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


@EXERCISE.case("the clearing cookie has the session cookie's Path=/ (another path clears nothing)", hidden=True)
def same_path(server: Any) -> None:
    cookie = clearing_cookie(logged_out(server)[1])
    expect(cookie is not None and cookie.path == "/", "the clearing Set-Cookie must carry Path=/")


@EXERCISE.case("a second logout with the same cookie: 401", hidden=True)
def twice(server: Any) -> None:
    sid, _ = logged_out(server)
    expect_status(request(server, "POST", "/logout", headers={"Cookie": f"sid={sid}"}), 401, "Not authenticated")
