"""Exercise 15: refuse login CSRF with Fetch Metadata, and `Origin` where `Sec-Fetch-Site` is absent.

The learner's `guarded_login(user, request, auth)` runs as the login hook of a session server, once
the password checked out. The cases post the login with the headers a browser would send from each
kind of page (Chromium's own values, measured in chapter 15), and read the status and the cookie.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..remote import Remote, RemoteServer
from ..runtime import Exercise, expect
from .support import cookie_value, expect_status, login, shown


def context(remote: Remote) -> AbstractContextManager[RemoteServer]:
    return nullcontext(remote.start("hooks", mode="session", hooks={"login": "guarded_login"}))


EXERCISE = Exercise("fetch-metadata-guard", ("guarded_login",), context=context)
EVIL = "https://evil.example"


def refused(server: Any, why: str, **headers: str) -> None:
    response = login(server, headers=headers)
    expect_status(response, 403, why=f"a login with {headers}: {why}")
    expect(cookie_value(response) is None, f"the refused login still set a session cookie ({shown(response)})")


def accepted(server: Any, why: str, **headers: str) -> None:
    response = login(server, headers=headers)
    expect_status(response, 200, why=f"a login with {headers or 'neither header'}: {why}")
    expect(cookie_value(response) is not None, "the login answered 200 but set no session cookie")


@EXERCISE.case("a login from the bank's own page (Sec-Fetch-Site: same-origin): 200 and a session")
def same_origin(server: Any) -> None:
    accepted(server, "the bank's own login form must keep working", **{"sec-fetch-site": "same-origin"})


@EXERCISE.case("a login another site's form posted (Sec-Fetch-Site: cross-site): 403, no session")
def cross_site(server: Any) -> None:
    refused(server, "another site's page must not log the victim into any account (login CSRF)",
            **{"sec-fetch-site": "cross-site", "origin": EVIL})


@EXERCISE.case("an older browser on another site's page (no Sec-Fetch-Site, Origin: evil): refused")
def older_browser(server: Any) -> None:
    refused(server, "without Sec-Fetch-Site, the Origin header tells where the form was", origin=EVIL)


@EXERCISE.case("an older browser on the server's own page (Origin: the server's own): 200")
def own_origin(server: Any) -> None:
    accepted(server, "the server's own origin is not another site", origin=server.url)


@EXERCISE.case("a client that is not a browser (neither header): 200")
def not_a_browser(server: Any) -> None:
    accepted(server, "curl and mobile apps send neither header, and no other site can steer them")
