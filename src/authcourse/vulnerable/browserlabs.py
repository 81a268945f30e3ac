"""DELIBERATELY VULNERABLE BANK PAGES FOR THE BROWSER ATTACK LABS, FOR TEACHING ONLY, ON LOOPBACK ONLY.

########################################################################################
#  The browser labs (solutions/12-Lab-*.ipynb): a victim, alice, is logged in to the  #
#  bank in a real Chromium; the learner writes the attacker's page and has the victim #
#  visit it. The bank, not the learner's code, records whether money moved from the   #
#  victim's own session or her token reached the attacker's collector. Nothing here   #
#  attacks anything. Nothing else in the package imports this.                        #
########################################################################################

The bank is the browser lab's `LabServer` (bank.test and evil.test, mapped to 127.0.0.1 inside
Chromium) with these routes added:

    PUT  /lab/attack/page/{name}     the attacker's page (HTML), served back at GET on any host
    POST /lab/attack/transfer        a form (to, amount): moves alice's money on her session cookie alone
    GET  /lab/attack/transfer        the same on a GET (the `csrf-lax-get` lab's flaw; the hardened bank: 405)
    GET  /lab/attack/status/{lab}    {"lab", "solved", "why", "attempts", "stolen"}: what a grader asks

The collector of the browser lab (`GET /lab/collect` on evil.test) keeps what a stolen-token script sends.

Under `authcourse grade`, the bank and the victim's Chromium run in the grader's worker, outside the
learner's sandboxed kernel, with two more routes (`vulnerable_add_grader_routes`):

    GET  /lab/attack/where           {"lab", "bank", "evil", "collector"}: the URLs the learner's page needs
    POST /lab/attack/visit           {"url"}: the victim's browser (the worker's) opens it

and the kernel's `vulnerable_browser_lab(...)` returns a `VulnerableBrowserLabRemote` that speaks to
them (the worker puts the bank's loopback http URL into `AUTHCOURSE_BROWSER_LAB_URL`), so no record
of the bank is within reach of the learner's code.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..auth import SESSION_COOKIE
from ..browserlab.browser import Browser
from ..browserlab.servers import BANK, OTHER_SITE, LabServer
from ..errors import NotAuthenticated
from .doors import vulnerable_is_loopback_url

BROWSER_LAB_URL_VARIABLE = "AUTHCOURSE_BROWSER_LAB_URL"  # set by a grader that runs the bank and Chromium
VICTIM = ("alice@example.com", "wonderland")
MAX_PAGE_BYTES = 64 * 1024
MAX_PAGES = 100
VISIT_WAIT = 3.0  # seconds the victim's browser stays on a page for its requests to arrive
BROWSER_RULES = {
    "csrf": "RFC 6265bis section 8.8 (SameSite=Lax or Strict on the session cookie), OWASP ASVS 5.0 V3.3.2 "
    "(SameSite set to limit cross-site requests) and V3.5.1 (an anti-CSRF token or equivalent on every "
    "state change)",
    "default": "RFC 6265bis, the SameSite attribute (Chromium treats a cookie without one as Lax, and its "
    '"Lax-allowing-unsafe" exception lets one under 2 minutes old go out on a cross-site top-level POST; '
    "Firefox and Safari send it as if None): set SameSite=Lax or Strict yourself: OWASP ASVS 5.0 V3.3.2 "
    "(SameSite set) and V3.5.1 (an anti-CSRF token or equivalent)",
    "get": "RFC 9110 section 9.2.1 (GET is safe: it never changes state), OWASP ASVS 5.0 V3.5.3 (a sensitive "
    "action answers only a method that cannot be sent by a top-level GET)",
    "xss": "OWASP ASVS 5.0 V3.3.4 (HttpOnly on cookies that hold a session) and the browser storage rule: no "
    "session token in localStorage, where any script of the origin reads it (OWASP HTML5 Security "
    "Cheat Sheet); output encoding (V1.2) stops the injection itself",
}


@dataclass(frozen=True)
class VulnerableBrowserLab:
    id: str
    title: str
    goal: str
    difficulty: str
    minutes: int
    mode: str  # the bank's mode: session (a cookie) or token (localStorage)
    same_site: str | None
    hardened_mode: str
    hardened_same_site: str | None
    rule: str


VULNERABLE_BROWSER_LABS: dict[str, VulnerableBrowserLab] = {
    lab.id: lab
    for lab in (
        VulnerableBrowserLab(
            "csrf-samesite-none",
            "Cross-site form against SameSite=None",
            "Alice is logged in to the bank; its session cookie says SameSite=None. Write a page on evil.test "
            "that, when she visits it, makes her browser transfer money to mallory.",
            "apprentice",
            15,
            "session",
            "None",
            "session",
            "Lax",
            BROWSER_RULES["csrf"],
        ),
        VulnerableBrowserLab(
            "csrf-default-two-minutes",
            "The default cookie, inside Chromium's two-minute window",
            "The bank sets its session cookie with no SameSite attribute at all, and alice has just logged in. "
            "Write a page on evil.test that makes her browser transfer money to mallory.",
            "practitioner",
            15,
            "session",
            None,
            "session",
            "Lax",
            BROWSER_RULES["default"],
        ),
        VulnerableBrowserLab(
            "csrf-lax-get",
            "A state change on GET, through Lax",
            "The bank's session cookie is SameSite=Lax, but the bank also moves money on a GET "
            "(`/lab/attack/transfer?to=...&amount=...`). Write a page on evil.test that makes alice's browser "
            "transfer money to mallory.",
            "practitioner",
            15,
            "session",
            "Lax",
            "session",
            "Lax",
            BROWSER_RULES["get"],
        ),
        VulnerableBrowserLab(
            "xss-localstorage",
            "Steal a token from localStorage with an injected script",
            "Alice's bank keeps her JWT in localStorage, and its search page (`/lab/search?q=`) puts the query "
            "into the page unescaped. Make her browser send her token to your collector on evil.test.",
            "practitioner",
            20,
            "token",
            "keep",
            "session",
            "keep",
            BROWSER_RULES["xss"],
        ),
    )
}


@dataclass
class VulnerableBankRecord:
    """What the bank saw: attacker pages, transfer attempts, the victim's credential, the pages she visited."""

    lab: VulnerableBrowserLab
    hardened: bool
    pages: dict[str, bytes] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    visits: list[tuple[str, int]] = field(default_factory=list)  # (url, how many items the collector held before)
    victim_credential: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


def vulnerable_bank_status(record: VulnerableBankRecord, stolen: list[dict[str, str]]) -> dict[str, Any]:
    """Solved or not, and why, from what the bank recorded."""
    lab, victim = record.lab, record.victim_credential
    with record.lock:
        attempts, visits = list(record.attempts), list(record.visits)
    if lab.id == "xss-localstorage":
        solved = bool(victim) and any(victim in value for item in stolen for value in item.values())
    else:
        method = "GET" if lab.id == "csrf-lax-get" else "POST"
        solved = any(a["status"] == 200 and a["method"] == method and a["sid"] == victim and victim for a in attempts)
    return {
        "lab": lab.id,
        "hardened": record.hardened,
        "solved": solved,
        "why": None if solved else vulnerable_bank_why(lab, attempts, visits, stolen, victim),  # the last visit's
        "attempts": [
            {k: a[k] for k in ("method", "host", "scheme", "status", "dest", "carried_session")} for a in attempts
        ],
        "stolen": len(stolen),
        "visits": len(visits),
    }


def vulnerable_bank_why(
    lab: VulnerableBrowserLab,
    attempts: list[dict[str, Any]],
    visits: list[tuple[str, int]],
    stolen: list[dict[str, str]],
    victim: str,
) -> str:
    """Why the victim's last visit did not solve the lab (only what that visit caused counts)."""
    if not visits:
        return "the victim has visited nothing yet: give her your page with lab.victim_visits(url)"
    url, collected_before = visits[-1]
    attempts = [attempt for attempt in attempts if attempt["visit"] == len(visits)]
    stolen = stolen[collected_before:]
    if lab.id == "xss-localstorage":
        if OTHER_SITE in url.partition("://")[2].partition("/")[0]:
            return (
                "the script ran on evil.test, whose localStorage is empty: localStorage belongs to one origin, "
                "so the script must run in the bank's own page: inject it through lab.bank + '/lab/search?q='"
            )
        if stolen:
            return (
                f"the collector got {sorted(stolen[-1])} but not alice's token: the token is in localStorage "
                "under 'token' (localStorage.getItem('token')), not in document.cookie"
            )
        return (
            "nothing reached the collector: is the script in the search query URL-encoded "
            "(urllib.parse.quote), and does it send to lab.collector (new Image().src = ... or fetch)?"
        )
    if not attempts:
        return (
            "the victim's browser loaded your page, but no request reached the bank's /lab/attack/transfer: "
            "does the page send it by itself (a script that calls form.submit(), or sets location)?"
        )
    last = attempts[-1]
    if last["host"] != BANK:
        return (
            f"the request went to {last['host']}, not to the bank: the form's action must be the bank's URL "
            "(lab.bank + '/lab/attack/transfer')"
        )
    if last["scheme"] != "https":
        return (
            "the request went to the bank over http: the session cookie is Secure, sent over https only "
            "(and http://bank.test is another site than https://bank.test): use lab.bank, an https URL"
        )
    if last["status"] == 400:
        return "the bank takes a form (application/x-www-form-urlencoded) with to and amount: a <form> sends that"
    if last["status"] == 405:
        return "this bank refuses a transfer on GET: only POST moves money here"
    if last["sid"] and last["sid"] != victim:
        return "that request carried a session of your own, not alice's: the victim's browser must send it"
    if not last["carried_session"]:
        if last["dest"] in ("image", "empty", "iframe", "script"):
            what = {"image": "an <img>", "empty": "fetch()", "iframe": "an <iframe>", "script": "a <script>"}[
                last["dest"]
            ]
            if lab.same_site is None:
                return (
                    f"{what} is not a top-level navigation: Chromium treats a cookie without SameSite as Lax, and "
                    "only its two-minute exception lets it out on a cross-site POST, a form the page submits"
                )
            if lab.same_site == "Lax":
                return (
                    f"{what} is not a top-level navigation, and a Lax cookie travels cross-site only on "
                    "those: navigate the victim's window itself (location = url, or a form with method=get)"
                )
            return (
                f"{what} from another site is a third-party request, and Chromium blocks third-party cookies: "
                "make the victim's window itself go to the bank, with a form the page submits"
            )
        if lab.same_site == "Lax" and last["method"] == "POST":
            return (
                "a cross-site POST does not carry a Lax cookie (only top-level GET navigations do): "
                "use the bank's GET transfer"
            )
        return "the request arrived without alice's session cookie"
    if last["method"] == "POST" and lab.id == "csrf-lax-get":
        return "that was a POST, which this lab's cookie would not carry cross-site; the goal is the GET transfer"
    return f"the bank answered {last['status']}"


def vulnerable_add_bank_routes(app: FastAPI, record: VulnerableBankRecord) -> None:
    """The attack labs' routes, added to a running LabServer's app (routes are looked up per request)."""

    async def put_page(name: str, request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_PAGE_BYTES:
            return JSONResponse({"error": f"at most {MAX_PAGE_BYTES} bytes"}, status_code=413)
        with record.lock:
            if name not in record.pages and len(record.pages) >= MAX_PAGES:
                return JSONResponse({"error": f"at most {MAX_PAGES} pages"}, status_code=429)
            record.pages[name] = body
        return JSONResponse({"path": f"/lab/attack/page/{name}"})

    def get_page(name: str) -> Response:
        if name not in record.pages:
            return JSONResponse({"error": "Not found"}, status_code=404)
        return HTMLResponse(record.pages[name])

    async def transfer(request: Request) -> JSONResponse:
        sid = request.cookies.get(SESSION_COOKIE, "")
        attempt = {
            "method": request.method,
            "host": request.url.hostname or "",
            "scheme": request.url.scheme,
            "sid": sid,
            "carried_session": bool(sid),
            "dest": request.headers.get("sec-fetch-dest", ""),
            "status": 0,
        }
        with record.lock:
            attempt["visit"] = len(record.visits)  # the visit that caused it
            record.attempts.append(attempt)
        if request.method == "GET" and (record.hardened or record.lab.id != "csrf-lax-get"):
            attempt["status"] = 405
            return JSONResponse({"error": "a transfer changes state: POST only"}, status_code=405)
        if request.method == "GET":
            form = dict(request.query_params)
        else:
            if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
                attempt["status"] = 400
                return JSONResponse(
                    {"error": "a transfer is a form: application/x-www-form-urlencoded"}, status_code=400
                )
            form = dict(parse_qsl((await request.body())[:4096].decode("utf-8", "replace")))
        try:
            principal = request.app.state.auth.authenticate(request)
        except NotAuthenticated:
            attempt["status"] = 401
            raise
        attempt["status"] = 200
        return JSONResponse(
            {
                "message": "Transferred",
                "from": principal.user.name,
                "to": form.get("to", ""),
                "amount": form.get("amount", ""),
            }
        )

    def status(lab_id: str, request: Request) -> JSONResponse:
        if lab_id != record.lab.id:
            return JSONResponse({"error": f"this bank runs the lab {record.lab.id!r}"}, status_code=404)
        return JSONResponse(vulnerable_bank_status(record, list(request.app.state.lab.stolen)))

    app.add_api_route("/lab/attack/page/{name}", put_page, methods=["PUT"])
    app.add_api_route("/lab/attack/page/{name}", get_page, methods=["GET"])
    app.add_api_route("/lab/attack/transfer", transfer, methods=["GET", "POST"])
    app.add_api_route("/lab/attack/status/{lab_id}", status, methods=["GET"])


class VulnerableBrowserLabSession:
    """A browser lab in a notebook: the bank, alice logged in in Chromium, the attacker's page helper, the check."""

    def __init__(self, lab_id: str, *, browser: Browser | None = None, hardened: bool = False) -> None:
        if lab_id not in VULNERABLE_BROWSER_LABS:
            raise ValueError(f"no browser lab {lab_id!r}; labs: {', '.join(VULNERABLE_BROWSER_LABS)}")
        self.lab = VULNERABLE_BROWSER_LABS[lab_id]
        self.hardened = hardened
        self.own_browser = browser is None
        self.browser = browser or Browser().start()
        mode = self.lab.hardened_mode if hardened else self.lab.mode
        same_site = self.lab.hardened_same_site if hardened else self.lab.same_site
        self.server = LabServer(mode, cookie_same_site=same_site).start()
        assert self.server.app is not None
        self.record = VulnerableBankRecord(self.lab, hardened)
        vulnerable_add_bank_routes(self.server.app, self.record)
        self.tab: Any = None
        try:
            self.browser.run(self._log_in_victim)
        except Exception:
            self.stop()
            raise

    def _log_in_victim(self) -> None:
        self.tab = self.browser.tab()
        self.tab.goto(self.server.url(BANK, "/lab/login"))
        if self.tab.page.evaluate("([e, p]) => login(e, p)", list(VICTIM)) != 200:
            raise RuntimeError("the victim could not log in")
        if self.server.settings.mode == "token":
            self.record.victim_credential = self.tab.script_view()["localStorage"].get("token", "")
        else:
            self.record.victim_credential = self.tab.stored()[SESSION_COOKIE]["value"]

    @property
    def bank(self) -> str:
        """The bank's origin as alice's browser knows it: https://bank.test:PORT."""
        return self.server.url(BANK, "")

    @property
    def evil(self) -> str:
        """Your site's origin: https://evil.test:PORT."""
        return self.server.url(OTHER_SITE, "")

    @property
    def collector(self) -> str:
        """Your collector on evil.test: whatever arrives at it (`?anything=...`) is kept."""
        return self.server.url(OTHER_SITE, "/lab/collect")

    def publish(self, name: str, page: str) -> str:
        """Put an HTML page on your site; return its URL on evil.test."""
        response = httpx.put(
            self.server.url("127.0.0.1", f"/lab/attack/page/{name}", "http"), content=page.encode(), timeout=10
        )
        response.raise_for_status()
        return f"{self.evil}/lab/attack/page/{name}"

    def victim_visits(self, url: str) -> None:
        """Alice's browser opens `url` and stays a moment, as a victim who clicked a link would."""
        with self.record.lock:
            self.record.visits.append((url, len(self.server.log.stolen)))
        before = (len(self.record.attempts), len(self.server.log.stolen))

        def visit() -> None:
            self.tab.goto(url)
            deadline = time.monotonic() + VISIT_WAIT
            while time.monotonic() < deadline and (len(self.record.attempts), len(self.server.log.stolen)) == before:
                self.tab.page.wait_for_timeout(50)
            self.tab.page.wait_for_load_state("load")

        self.browser.run(visit)

    def status(self) -> dict[str, Any]:
        response = httpx.get(self.server.url("127.0.0.1", f"/lab/attack/status/{self.lab.id}", "http"), timeout=10)
        return response.json()

    def check(self) -> bool:
        return _vulnerable_print_verdict(self.lab, self.status())

    def replay(self, attack: Any) -> None:
        """Run `attack` (a function of a lab session, returning the URL the victim visits) against the hardened bank."""
        hardened = VulnerableBrowserLabSession(self.lab.id, browser=self.browser, hardened=True)
        try:
            hardened.victim_visits(attack(hardened))
            status = hardened.status()
            if self.lab.id == "xss-localstorage":
                print(
                    f"The hardened bank (an HttpOnly session cookie, nothing in localStorage): the collector got "
                    f"{[sorted(item.items()) for item in hardened.server.log.stolen]}; solved: {status['solved']}"
                )
            else:
                seen = [
                    (a["method"], a["status"], "with" if a["carried_session"] else "without")
                    for a in status["attempts"]
                ]
                print(
                    "The hardened bank ("
                    + (
                        f"SameSite={self.lab.hardened_same_site}"
                        if self.lab.id != "csrf-lax-get"
                        else "no state change on GET"
                    )
                    + "): "
                    + ", ".join(f"{method} answered {code}, {carried} alice's cookie" for method, code, carried in seen)
                    + f"; solved: {status['solved']}"
                )
            print(f"The rule that stops it: {self.lab.rule}.")
        finally:
            hardened.stop()

    def stop(self) -> None:
        if self.tab is not None:
            self.browser.run(self.tab.close)
            self.tab = None
        self.server.stop()
        if self.own_browser:
            self.browser.close()

    def __repr__(self) -> str:
        return f"<VulnerableBrowserLabSession {self.lab.id} DELIBERATELY VULNERABLE>"


def _vulnerable_print_verdict(lab: VulnerableBrowserLab, status: dict[str, Any]) -> bool:
    if status["solved"]:
        what = (
            "alice's token reached your collector"
            if lab.id == "xss-localstorage"
            else "the bank moved alice's money on her own session"
        )
        print(f"Solved: {what} ({lab.title}).")
    else:
        print(f"Not solved yet: {status['why']}.")
    return bool(status["solved"])


def vulnerable_add_grader_routes(session: VulnerableBrowserLabSession) -> str:
    """The routes a graded kernel uses (where, visit), added to the session's bank; its loopback http URL."""
    app = session.server.app
    assert app is not None

    def where() -> JSONResponse:
        return JSONResponse(
            {"lab": session.lab.id, "bank": session.bank, "evil": session.evil, "collector": session.collector}
        )

    async def visit(request: Request) -> JSONResponse:
        try:
            url = (await request.json())["url"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'send {"url": "..."}'}, status_code=400)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return JSONResponse({"error": "the victim visits http(s) URLs only"}, status_code=400)
        try:
            await run_in_threadpool(session.victim_visits, url)
        except Exception as error:  # a page that never loads, a navigation Chromium refuses
            return JSONResponse({"error": f"the visit failed: {type(error).__name__}"}, status_code=400)
        return JSONResponse({"visited": url})

    app.add_api_route("/lab/attack/where", where, methods=["GET"])
    app.add_api_route("/lab/attack/visit", visit, methods=["POST"])
    return session.server.url("127.0.0.1", "", "http")


class VulnerableBrowserLabRemote:
    """A browser lab in a graded kernel: the bank and the victim's Chromium run in the grader, reached over HTTP."""

    def __init__(self, lab_id: str, url: str) -> None:
        if lab_id not in VULNERABLE_BROWSER_LABS:
            raise ValueError(f"no browser lab {lab_id!r}; labs: {', '.join(VULNERABLE_BROWSER_LABS)}")
        self.lab = VULNERABLE_BROWSER_LABS[lab_id]
        self.url = url.rstrip("/")
        where = httpx.get(f"{self.url}/lab/attack/where", timeout=10).json()
        self.bank, self.evil, self.collector = where["bank"], where["evil"], where["collector"]
        self.bank_lab = str(where["lab"])  # the lab the grader's bank runs (the one being graded)

    def publish(self, name: str, page: str) -> str:
        response = httpx.put(f"{self.url}/lab/attack/page/{name}", content=page.encode(), timeout=10)
        response.raise_for_status()
        return f"{self.evil}/lab/attack/page/{name}"

    def victim_visits(self, url: str) -> None:
        httpx.post(f"{self.url}/lab/attack/visit", json={"url": url}, timeout=30).raise_for_status()

    def status(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/lab/attack/status/{self.bank_lab}", timeout=10).json()

    def check(self) -> bool:
        return _vulnerable_print_verdict(self.lab, self.status())

    def replay(self, attack: Any) -> None:
        print("Under the grader, the replay against the hardened bank is not run: run the notebook yourself to see it.")
        print(f"The rule that stops it: {self.lab.rule}.")

    def stop(self) -> None:
        pass  # the grader stops its bank and its browser

    def __repr__(self) -> str:
        return f"<VulnerableBrowserLabRemote {self.lab.id} DELIBERATELY VULNERABLE {self.url}>"


def vulnerable_browser_lab(
    lab_id: str, *, browser: Browser | None = None
) -> VulnerableBrowserLabSession | VulnerableBrowserLabRemote:
    """Start the bank of browser lab `lab_id` with alice logged in to it in Chromium (or, under a grader
    that names its bank in `AUTHCOURSE_BROWSER_LAB_URL`, join that one)."""
    outside = os.environ.get(BROWSER_LAB_URL_VARIABLE)
    if outside:
        if not vulnerable_is_loopback_url(outside):
            raise ValueError(f"{BROWSER_LAB_URL_VARIABLE} must be a loopback URL, not {outside!r}")
        return VulnerableBrowserLabRemote(lab_id, outside)
    return VulnerableBrowserLabSession(lab_id, browser=browser)
