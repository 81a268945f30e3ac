"""Exercise 07: `Set-Cookie` attributes for three scenarios, judged on what a browser then does.

The learner's `cookie_for(scenario, value)` runs inside the server's login; the check reads the
`Set-Cookie` header the server really sent and asks the course's model of Chromium
(`authcourse.browserlab.cookiemodel`, checked against the real browser in chapter 7) whether the cookie is
stored, sent on each kind of request, and readable by page scripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from ...browserlab.cookiemodel import Request, Verdict, predict
from ...cookies import Cookie, CookieError
from ..remote import Remote, RemoteServer
from ..runtime import Exercise, expect
from .support import expect_status, login, request, set_cookies, shown

SCENARIOS = ("spa", "server-rendered", "admin")
# Where each scenario's API sets the cookie, and the requests its browser then makes.
API = {"spa": "https://api.example.net", "server-rendered": "https://shop.example", "admin": "https://admin.example"}
PAGES = {"spa": "https://app.example/", "server-rendered": "https://shop.example/", "admin": "https://admin.example/"}
REQUESTS = {
    "same-site": "a request from the app's own pages",
    "cross-site-fetch": "a credentialed fetch() from a page on another site",
    "top-level-link": "a link on another site that opens the app",
    "cross-site-post": "a form on another site that POSTs to the app",
}
ELSEWHERE = "https://evil.example/"
AGE = 600.0  # seconds since the cookie was set: past Chromium's two-minute Lax-allowing-unsafe window


def browser_request(scenario: str, kind: str) -> Request:
    url = API[scenario] + "/api/profile"
    if kind == "same-site":
        return Request("fetch", url, from_url=PAGES[scenario], cookie_age=AGE)
    if kind == "cross-site-fetch":
        # The SPA's own calls; the learner's browser allows third-party cookies (Chromium's default blocks them).
        source = PAGES["spa"] if scenario == "spa" else ELSEWHERE
        return Request("fetch", url, from_url=source, third_party_cookies=True, cookie_age=AGE)
    if kind == "top-level-link":
        return Request("navigate", url, from_url="https://mail.example/inbox", cookie_age=AGE)
    return Request(
        "form-post", API[scenario] + "/transfer", from_url=ELSEWHERE, third_party_cookies=True, cookie_age=AGE
    )


def verdict(header: str, scenario: str, kind: str = "same-site") -> Verdict:
    """What Chromium does with this Set-Cookie (authcourse.browserlab.cookiemodel), set by the scenario's API."""
    return predict(header, API[scenario] + "/login", browser_request(scenario, kind))


class Judge:
    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.cookies: dict[str, Cookie] = {}
        self.headers: dict[str, str] = {}
        self.servers: dict[str, RemoteServer] = {}

    def cookie(self, scenario: str) -> Cookie:
        """The cookie the live server sent for this scenario, parsed from its Set-Cookie header."""
        if scenario not in self.cookies:
            server = self.remote.start("cookie_for", scenario=scenario)
            response = login(server)
            expect(response.status_code == 200, f"login with your {scenario} cookie answered {shown(response)}")
            headers = set_cookies(response)
            expect(headers, "the login response set no cookie")
            self.headers[scenario] = headers[0]
            try:
                self.cookies[scenario] = Cookie.parse(headers[0])
            except CookieError as error:
                expect(False, f"Set-Cookie: {headers[0]} is refused: {error}")
            self.servers[scenario] = server
        return self.cookies[scenario]


@contextmanager
def context(remote: Remote) -> Iterator[Judge]:
    yield Judge(remote)


EXERCISE = Exercise("cookie-attributes", ("cookie_for",), context=context)


def stored(judge: Judge, scenario: str) -> None:
    judge.cookie(scenario)
    seen = verdict(judge.headers[scenario], scenario)
    expect(seen.stored, f"{judge.headers[scenario]}: the browser drops it ({seen.reason}): {seen.explanation}")


def sent(judge: Judge, scenario: str, kind: str, wanted: bool, why: str) -> None:
    judge.cookie(scenario)
    seen = verdict(judge.headers[scenario], scenario, kind)
    verb = "sends it" if seen.sent else f"does not send it ({seen.reason})"
    same_site = judge.cookies[scenario].same_site
    expect(seen.sent == wanted, f"SameSite={same_site}: the browser {verb} on {REQUESTS[kind]}: {why}")


def scripts_read(judge: Judge, scenario: str) -> bool:
    judge.cookie(scenario)
    return verdict(judge.headers[scenario], scenario).visible_to_script


def lifetime(cookie: Cookie) -> float | None:
    """Seconds the browser keeps it (RFC 6265 5.3: Max-Age wins over Expires); None for a session cookie."""
    if cookie.max_age is not None:
        return float(cookie.max_age)
    if cookie.expires is not None:
        return (cookie.expires - datetime.now(timezone.utc)).total_seconds()
    return None


@EXERCISE.case("SPA on another site: the browser keeps the cookie and sends it on the SPA's fetch()")
def spa_sent(judge: Judge) -> None:
    stored(judge, "spa")
    sent(judge, "spa", "cross-site-fetch", True, "the SPA's calls to the API are cross-site")


@EXERCISE.case("SPA: page scripts cannot read it (an injected script cannot steal it)")
def spa_hidden(judge: Judge) -> None:
    expect(not scripts_read(judge, "spa"), "document.cookie shows it: add HttpOnly")


@EXERCISE.case("server-rendered app: sent when a link on another site opens the app, not on a cross-site form POST")
def rendered_lax(judge: Judge) -> None:
    stored(judge, "server-rendered")
    sent(
        judge,
        "server-rendered",
        "top-level-link",
        True,
        "a learner following a link from their mail would arrive logged out",
    )
    sent(
        judge, "server-rendered", "cross-site-post", False, "a forged form on another site would act as the user (CSRF)"
    )


@EXERCISE.case("server-rendered app: HttpOnly and Secure")
def rendered_flags(judge: Judge) -> None:
    cookie = judge.cookie("server-rendered")
    expect(not scripts_read(judge, "server-rendered"), "document.cookie shows it: add HttpOnly")
    expect(cookie.secure, "it would travel over plain http too: add Secure")


@EXERCISE.case("admin panel: never sent from another site, not even by a link")
def admin_strict(judge: Judge) -> None:
    stored(judge, "admin")
    for kind in ("top-level-link", "cross-site-fetch", "cross-site-post"):
        sent(judge, "admin", kind, False, "an admin session should only follow the admin's own clicks")


@EXERCISE.case("admin panel: host-only (no Domain), HttpOnly, Secure, and gone within an hour")
def admin_tight(judge: Judge) -> None:
    cookie = judge.cookie("admin")
    expect(cookie.domain is None, f"Domain={cookie.domain} shares it with every subdomain: leave Domain out")
    expect(not scripts_read(judge, "admin") and cookie.secure, "add HttpOnly and Secure")
    left = lifetime(cookie)
    expect(
        left is not None and 0 < left <= 3600 + 5, f"{cookie.render()}: it must end within 3600 s (Max-Age or Expires)"
    )


@EXERCISE.case("every cookie still logs in: the server reads back the sid it was given")
def still_works(judge: Judge) -> None:
    for scenario in SCENARIOS:
        cookie = judge.cookie(scenario)
        expect(cookie.name == "sid", f"{scenario}: the cookie is named {cookie.name!r}; the server reads 'sid'")
        response = request(judge.servers[scenario], "GET", "/api/profile", headers={"Cookie": f"sid={cookie.value}"})
        expect_status(response, 200, why=f"{scenario}: keep the value you were given")
