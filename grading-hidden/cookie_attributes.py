"""Hidden cases of exercise 07, cookie-attributes."""

from __future__ import annotations

# Request and predict: the cookie model, through the visible module (wherever the model's module lives).
from authcourse.grading.checks.cookie_attributes import API, EXERCISE, PAGES, SCENARIOS, Judge, Request, predict, sent
from authcourse.grading.runtime import expect


@EXERCISE.case("SPA: sent only over https (Secure)", hidden=True)
def spa_secure(judge: Judge) -> None:
    judge.cookie("spa")
    plain = predict(
        judge.headers["spa"], "https://api.example.net/login", Request("navigate", "http://api.example.net/")
    )
    expect(not plain.sent, "add Secure")


@EXERCISE.case("server-rendered app: not sent on another site's fetch()", hidden=True)
def rendered_fetch(judge: Judge) -> None:
    sent(judge, "server-rendered", "cross-site-fetch", False, "no other site needs it")


@EXERCISE.case("judged in the browser: each cookie goes with the user's own next request to the API", hidden=True)
def next_request(judge: Judge) -> None:
    for scenario in SCENARIOS:
        judge.cookie(scenario)
        for path in ("/api/profile", "/logout"):
            verdict = predict(judge.headers[scenario], API[scenario] + "/login",
                              Request("fetch", API[scenario] + path, from_url=PAGES[scenario],
                                      third_party_cookies=scenario == "spa", cookie_age=600.0))
            expect(verdict.sent, f"{scenario}: Set-Cookie: {judge.headers[scenario]}: not sent to {path} "
                                 f"({verdict.reason}): check Path and Domain")


@EXERCISE.case("no cookie is shared with sibling sites' subdomains it does not need (no Domain)", hidden=True)
def host_only(judge: Judge) -> None:
    for scenario in ("server-rendered", "admin"):
        cookie = judge.cookie(scenario)
        expect(cookie.domain is None, f"{scenario}: Domain={cookie.domain} sends it to every subdomain: leave it out")
