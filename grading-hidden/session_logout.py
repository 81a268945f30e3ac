"""Hidden cases of exercise 02, session-logout."""

from __future__ import annotations

from typing import Any

from authcourse.grading.checks.cookie_attributes import Request, predict  # the cookie model, through a visible module
from authcourse.grading.checks.session_logout import EXERCISE, clearing_cookie, logged_out
from authcourse.grading.checks.support import cookie_value, expect_status, login, request, set_cookies
from authcourse.grading.runtime import expect

SITE = "https://app.example"


@EXERCISE.case("the clearing cookie has the session cookie's Path=/ (another path clears nothing)", hidden=True)
def same_path(server: Any) -> None:
    cookie = clearing_cookie(logged_out(server)[1])
    expect(cookie is not None and cookie.path == "/", "the clearing Set-Cookie must carry Path=/")


@EXERCISE.case("judged in the browser: after logout, the user's next request carries no sid", hidden=True)
def browser_forgets(server: Any) -> None:
    login_response = login(server)
    sid = cookie_value(login_response)
    out = request(server, "POST", "/logout", headers={"Cookie": f"sid={sid}"})
    login_header = set_cookies(login_response)[0]
    cleared = [h for h in set_cookies(out) if h.split("=", 1)[0].strip() == "sid"]
    expect(cleared, "no Set-Cookie for sid in the logout response")
    # The browser replaces a cookie only when name, Domain and Path all match; an expired one it then drops.
    nxt = Request("fetch", SITE + "/api/profile", from_url=SITE + "/")
    still = predict(login_header, SITE + "/login", nxt).sent
    after = predict(cleared[0], SITE + "/logout", nxt)
    expect(still, "the login cookie itself would not be sent")
    expect(not after.stored, f"Set-Cookie: {cleared[0]}: the browser keeps a sid cookie ({after.reason or 'stored'})")
    login_cookie, clearing = clearing_cookie(login_response), clearing_cookie(out)
    expect(clearing is not None and login_cookie is not None
           and (clearing.domain, clearing.path) == (login_cookie.domain, login_cookie.path),
           "Domain and Path must be those of the session cookie, or the browser keeps the old one")


@EXERCISE.case("a second logout with the same cookie: 401", hidden=True)
def twice(server: Any) -> None:
    sid, _ = logged_out(server)
    expect_status(request(server, "POST", "/logout", headers={"Cookie": f"sid={sid}"}), 401, "Not authenticated")


@EXERCISE.case("logout with the session id in the query string is refused, and the session lives on", hidden=True)
def query_string(server: Any) -> None:
    sid = cookie_value(login(server))
    expect_status(request(server, "POST", "/logout", params={"sid": sid}), 401, "Not authenticated")
    expect_status(request(server, "GET", "/api/profile", headers={"Cookie": f"sid={sid}"}), 200)
    expect_status(request(server, "POST", "/logout", headers={"Cookie": f"sid={sid}"}), 200)
    expect_status(request(server, "GET", "/api/profile", headers={"Cookie": f"sid={sid}"}), 401)
