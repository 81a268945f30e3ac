"""Exercise 07: `Set-Cookie` attributes for three scenarios, judged on what a browser then does.

The learner's `cookie_for(scenario, value)` runs inside the server's login; the check reads the
`Set-Cookie` header the server really sent and asks a small browser model (RFC 6265bis with
Chromium's Lax-by-default) whether the cookie is stored, sent on each kind of request, and
readable by page scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ...auth import respond
from ...cookies import Cookie, CookieError
from ...hooks import Hooks
from ..runtime import Exercise, expect
from .support import expect_status, live_server, login, request, set_cookies, shown

SCENARIOS = ("spa", "server-rendered", "admin")
REQUESTS = {
    "same-site": "a request from the app's own pages",
    "cross-site-fetch": "a credentialed fetch() from a page on another site",
    "top-level-link": "a link on another site that opens the app",
    "cross-site-post": "a form on another site that POSTs to the app",
}


def browser_stores(cookie: Cookie, scheme: str = "https") -> str | None:
    """None if a browser keeps this cookie, else why it drops it."""
    if cookie.same_site == "None" and not cookie.secure:
        return "SameSite=None without Secure is rejected"
    if cookie.secure and scheme != "https":
        return "a Secure cookie is not set over http"
    if cookie.max_age is not None and cookie.max_age <= 0:
        return "Max-Age=0 deletes it"
    return None


def browser_sends(cookie: Cookie, kind: str) -> bool:
    same_site = cookie.same_site or "Lax"  # Chromium treats a cookie without SameSite as Lax
    if kind == "same-site":
        return True
    if same_site == "None":
        return True
    if same_site == "Lax":
        return kind == "top-level-link"
    return False


def scripts_read(cookie: Cookie) -> bool:
    return not cookie.http_only


def login_with(cookie_for: Callable[[str, str], Any], scenario: str) -> Callable[..., Any]:
    def login(user: Any, req: Any, auth: Any) -> Any:
        session = auth.sessions.create_session(user.id, user.role)
        cookie = cookie_for(scenario, auth.sessions.sign(session.id))
        if not isinstance(cookie, Cookie):
            raise TypeError(f"cookie_for must return a Cookie, not {type(cookie).__name__}")
        return respond({"message": "Logged in"}, cookie)

    return login


class Judge:
    def __init__(self, cookie_for: Callable[[str, str], Any]) -> None:
        self.cookie_for = cookie_for
        self.cookies: dict[str, Cookie] = {}
        self.servers: dict[str, Any] = {}
        self.stack: list[Any] = []

    def cookie(self, scenario: str) -> Cookie:
        """The cookie the live server sent for this scenario, parsed from its Set-Cookie header."""
        if scenario not in self.cookies:
            manager = live_server("session", Hooks(login=login_with(self.cookie_for, scenario)))
            server = manager.__enter__()
            self.stack.append(manager)
            response = login(server)
            expect(response.status_code == 200, f"login with your {scenario} cookie answered {shown(response)}")
            headers = set_cookies(response)
            expect(headers, "the login response set no cookie")
            try:
                self.cookies[scenario] = Cookie.parse(headers[0])
            except CookieError as error:
                expect(False, f"Set-Cookie: {headers[0]} is refused: {error}")
            self.servers[scenario] = server
        return self.cookies[scenario]

    def close(self) -> None:
        for manager in self.stack:
            manager.__exit__(None, None, None)


@contextmanager
def context(namespace: Mapping[str, Any]) -> Iterator[Judge]:
    judge = Judge(namespace["cookie_for"])
    try:
        yield judge
    finally:
        judge.close()


EXERCISE = Exercise("cookie-attributes", ("cookie_for",), context=context)


def stored(cookie: Cookie) -> None:
    dropped = browser_stores(cookie)
    expect(dropped is None, f"{cookie.render()}: the browser drops it ({dropped})")


def sent(cookie: Cookie, kind: str, wanted: bool, why: str) -> None:
    actual = browser_sends(cookie, kind)
    verb = "sends" if actual else "does not send"
    expect(actual == wanted, f"SameSite={cookie.same_site}: the browser {verb} it on {REQUESTS[kind]}: {why}")


@EXERCISE.case("SPA on another site: the browser keeps the cookie and sends it on the SPA's fetch()")
def spa_sent(judge: Judge) -> None:
    cookie = judge.cookie("spa")
    stored(cookie)
    sent(cookie, "cross-site-fetch", True, "the SPA's calls to the API are cross-site")


@EXERCISE.case("SPA: page scripts cannot read it (an injected script cannot steal it)")
def spa_hidden(judge: Judge) -> None:
    expect(not scripts_read(judge.cookie("spa")), "document.cookie shows it: add HttpOnly")


@EXERCISE.case("server-rendered app: sent when a link on another site opens the app, not on a cross-site form POST")
def rendered_lax(judge: Judge) -> None:
    cookie = judge.cookie("server-rendered")
    stored(cookie)
    sent(cookie, "top-level-link", True, "a learner following a link from their mail would arrive logged out")
    sent(cookie, "cross-site-post", False, "a forged form on another site would act as the user (CSRF)")


@EXERCISE.case("server-rendered app: HttpOnly and Secure")
def rendered_flags(judge: Judge) -> None:
    cookie = judge.cookie("server-rendered")
    expect(cookie.http_only, "document.cookie shows it: add HttpOnly")
    expect(cookie.secure, "it would travel over plain http too: add Secure")


@EXERCISE.case("admin panel: never sent from another site, not even by a link")
def admin_strict(judge: Judge) -> None:
    cookie = judge.cookie("admin")
    stored(cookie)
    for kind in ("top-level-link", "cross-site-fetch", "cross-site-post"):
        sent(cookie, kind, False, "an admin session should only follow the admin's own clicks")


@EXERCISE.case("admin panel: host-only (no Domain), HttpOnly, Secure, and gone within an hour")
def admin_tight(judge: Judge) -> None:
    cookie = judge.cookie("admin")
    expect(cookie.domain is None, f"Domain={cookie.domain} shares it with every subdomain: leave Domain out")
    expect(cookie.http_only and cookie.secure, "add HttpOnly and Secure")
    expect(cookie.max_age is not None and 0 < cookie.max_age <= 3600, f"Max-Age={cookie.max_age}: at most 3600 s")


@EXERCISE.case("every cookie still logs in: the server reads back the sid it was given")
def still_works(judge: Judge) -> None:
    for scenario in SCENARIOS:
        cookie = judge.cookie(scenario)
        expect(cookie.name == "sid", f"{scenario}: the cookie is named {cookie.name!r}; the server reads 'sid'")
        response = request(judge.servers[scenario], "GET", "/api/profile", headers={"Cookie": f"sid={cookie.value}"})
        expect_status(response, 200, why=f"{scenario}: keep the value you were given")


@EXERCISE.case("SPA: not set over plain http (Secure)", hidden=True)
def spa_secure(judge: Judge) -> None:
    expect(browser_stores(judge.cookie("spa"), "http") is not None, "add Secure")


@EXERCISE.case("server-rendered app: not sent on another site's fetch()", hidden=True)
def rendered_fetch(judge: Judge) -> None:
    sent(judge.cookie("server-rendered"), "cross-site-fetch", False, "no other site needs it")
