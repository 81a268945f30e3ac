"""The proof of the cookie model: a matrix of cases, each run in Chromium and in `authcourse.browserlab.cookiemodel`.

A case is one cookie (a raw `Set-Cookie` value), the URL that set it, and one request. Cases come in
groups that share a fresh browser profile: every cookie of a group is set by one response, then each
request of the group is made once and judged for every cookie. URLs here carry no port (ports never
make a site); `LabServer.localize` adds the lab's port for the scheme.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from .cookiemodel import REQUEST_KINDS, Request, Verdict, predict

KINDS = REQUEST_KINDS
SUBRESOURCES = ("fetch", "fetch-post", "img", "iframe")
TARGET = "https://bank.test/lab/x/account"
SAMESITE_COOKIES = (
    "strict=1; SameSite=Strict; Secure; Path=/",
    "lax=1; SameSite=Lax; Secure; Path=/",
    "none=1; SameSite=None; Secure; Path=/",
    "absent=1; Secure; Path=/",
)
HTTP_COOKIES = (
    "strict=1; SameSite=Strict; Path=/",
    "lax=1; SameSite=Lax; Path=/",
    "none=1; SameSite=None; Path=/",
    "absent=1; Path=/",
)
PAST = "Thu, 01 Jan 2015 00:00:00 GMT"
ATTRIBUTE_COOKIES = (
    "ho=1; HttpOnly; Path=/",
    "js=1; Path=/",
    "sec=1; Secure; Path=/",
    "api=1; Path=/lab/x/api",
    "dp=1",
    "dom=1; Domain=bank.test; Path=/",
    "bad=1; Domain=evil.test; Path=/",
    "tld=1; Domain=test; Path=/",
    "gone=1; Max-Age=0; Path=/",
    "past=1; Expires=" + PAST + "; Path=/",
    "hour=1; Max-Age=3600; Path=/",
    "both=1; Max-Age=3600; Expires=" + PAST + "; Path=/",
    "__Host-ok=1; Secure; Path=/",
    "__Host-dom=1; Secure; Path=/; Domain=bank.test",
    "__Host-nopath=1; Secure",
    "__Secure-ok=1; Secure; Path=/",
    "__Secure-bad=1; Path=/",
)
ATTRIBUTE_TARGETS = (
    "https://bank.test/lab/x/account",
    "https://app.bank.test/lab/x/account",
    "http://bank.test/lab/x/account",
    "https://bank.test/lab/x/api/deep",
    "https://bank.test/lab/x/apix",
    "https://bank.test/lab/x/API",
)


@dataclass(frozen=True)
class Group:
    name: str
    set_from: str
    cookies: tuple[str, ...]
    requests: tuple[Request, ...]
    third_party_cookies: bool = False


@dataclass(frozen=True)
class Case:
    id: str
    cookie: str  # the Set-Cookie value
    set_from: str
    request: Request

    @property
    def name(self) -> str:
        return self.cookie.split("=", 1)[0]


@dataclass
class Observed:
    """What Chromium did with one case."""

    stored: bool
    sent: bool
    visible_to_script: bool
    reasons: list[str] = field(default_factory=list)  # Chromium's, for refusing to store or to send


@dataclass
class Outcome:
    case: Case
    model: Verdict
    chromium: Observed

    @property
    def agrees(self) -> bool:
        """Stored, sent and visibility agree, and so do the reasons: Chromium names one for every cookie it
        refuses or leaves off, except an expired one (the model's "Expired")."""
        same = (self.model.stored, self.model.sent, self.model.visible_to_script) == (
            self.chromium.stored, self.chromium.sent, self.chromium.visible_to_script)
        expected = set(self.chromium.reasons) or ({"Expired"} if not self.chromium.sent else set())
        return same and set(self.model.reasons) == expected


def label(request: Request) -> str:
    if request.from_url is None:
        return f"typed {request.url.split('/lab')[0]}{request.url.split('/lab/x')[1]}"
    page = request.from_url.split("/lab")[0]
    return f"{request.kind} from {page}"


def kinds_from(pages: tuple[str, ...], target: str, third_party: bool = False) -> tuple[Request, ...]:
    return tuple(Request(kind, target, from_url=f"{page}/lab/other", third_party_cookies=third_party)
                 for page in pages for kind in KINDS)


def groups() -> tuple[Group, ...]:
    """The whole matrix: SameSite x request kind x same-origin / same-site / cross-site, on https and http,
    third-party cookies blocked and allowed, then Secure, HttpOnly, Path, Domain, Max-Age, Expires and prefixes."""
    # An https page never requests an http URL here: Chromium warns before an insecure form submission and
    # blocks or upgrades mixed content. The schemeful cross-site case goes from http://bank.test to https.
    https_pages = ("https://bank.test", "https://app.bank.test", "https://evil.test", "http://bank.test")
    http_target = "http://bank.test/lab/x/account"
    http_pages = ("http://bank.test", "http://app.bank.test", "http://evil.test")
    typed = tuple(Request("navigate", url) for url in ATTRIBUTE_TARGETS)
    return (
        Group("https", "https://bank.test/lab/x/set", SAMESITE_COOKIES, kinds_from(https_pages, TARGET)),
        Group("https-3pc-allowed", "https://bank.test/lab/x/set", SAMESITE_COOKIES,
              kinds_from(("https://evil.test",), TARGET, third_party=True), third_party_cookies=True),
        Group("http", "http://bank.test/lab/x/set", HTTP_COOKIES, kinds_from(http_pages, http_target)),
        Group("attributes", "https://bank.test/lab/x/set", ATTRIBUTE_COOKIES, typed),
        Group("none-needs-secure", "https://bank.test/lab/x/set",
              ("insecure=1; SameSite=None; Path=/", "withsecure=1; SameSite=None; Secure; Path=/"),
              (Request("navigate", TARGET),)),
        Group("attributes-http", "http://bank.test/lab/x/set",
              ("sec=1; Secure; Path=/", "__Host-http=1; Secure; Path=/", "__Secure-http=1; Secure; Path=/"),
              (Request("navigate", http_target),)),
        Group("cookie-tossing", "https://app.bank.test/lab/x/set",
              ("sid=tossed; Domain=bank.test; Path=/", "__Host-sid=tossed; Secure; Path=/; Domain=bank.test",
               "__Host-id=tossed; Secure; Path=/"),
              (Request("navigate", TARGET),)),
        Group("ports", "http://bank.test/lab/x/set", ("strict=1; SameSite=Strict; Path=/",),
              (Request("fetch", "http://bank.test/lab/x/account", from_url="http://bank.test:8080/lab/other"),
               Request("form-post", "http://bank.test/lab/x/account", from_url="http://bank.test:8080/lab/other"),
               Request("navigate", "http://bank.test:8080/lab/x/account"))),
        Group("default-path", "https://bank.test/lab/x/sub/set", ("dp=1",),
              (Request("navigate", TARGET), Request("navigate", "https://bank.test/lab/x/sub/page"))),
        Group("loopback", "http://localhost/lab/x/set",
              ("lh=1; SameSite=Strict; Path=/", "lhsec=1; Secure; SameSite=None; Path=/"),
              (Request("fetch", "http://localhost/lab/x/account", from_url="http://127.0.0.1/lab/other"),
               Request("fetch", "http://localhost/lab/x/account", from_url="http://localhost/lab/other"))),
    )


def cases() -> list[Case]:
    found = []
    for group in groups():
        for request in group.requests:
            for cookie in group.cookies:
                name = cookie.split("=", 1)[0]
                found.append(Case(f"{group.name} | {name} | {label(request)}", cookie, group.set_from, request))
    return found


def set_url(group: Group) -> str:
    return group.set_from + "?" + urlencode([("set", cookie) for cookie in group.cookies])


def run_group(browser: Any, lab: Any, group: Group) -> list[Outcome]:
    """One group in a fresh profile of `browser` against a running `lab`, each case beside the model."""
    return browser.run(run_groups, browser, lab, [group])


def run_groups(browser: Any, lab: Any, chosen: list[Group]) -> list[Outcome]:
    """The groups one after the other, in one profile emptied between groups (a new one costs half a second)."""
    shared = None
    try:
        outcomes = []
        for group in chosen:
            if group.third_party_cookies:
                tab = browser.tab(third_party_cookies=True)
                try:
                    outcomes += run_in_tab(tab, lab, group)
                finally:
                    tab.close()
            else:
                shared = shared.empty() if shared else browser.tab()
                outcomes += run_in_tab(shared, lab, group)
        return outcomes
    finally:
        if shared is not None:
            shared.close()  # and its connections to the lab, before the lab stops


def batches(requests: tuple[Request, ...]) -> list[list[Request]]:
    """The requests in page loads: each top-level request alone, the others of one page together."""
    together: dict[str | None, list[Request]] = {}
    alone = []
    for request in requests:
        if request.kind in SUBRESOURCES and request.from_url is not None:
            together.setdefault(request.from_url, []).append(request)
        else:
            alone.append([request])
    return alone + list(together.values())


def run_in_tab(tab: Any, lab: Any, group: Group) -> list[Outcome]:
    from .browser import make_requests

    tab.goto(lab.localize(set_url(group)))
    jar = tab.stored()
    done = {}
    for batch in batches(group.requests):
        from_url = lab.localize(batch[0].from_url) if batch[0].from_url else None
        answers = make_requests(tab, lab, [(r.kind, lab.localize(r.url)) for r in batch], from_url)
        done.update(zip(batch, answers))
    results = [(request, *done[request]) for request in group.requests]
    visible: dict[str, list[str]] = {}
    for url in dict.fromkeys(request.url for request in group.requests):
        tab.goto(lab.localize(url))
        visible[url] = [part.split("=", 1)[0] for part in tab.script_view()["cookie"].split("; ") if part]
    tab.wait_for_reports([tag for _, _, tag in results])
    outcomes = []
    for request, sent, tag in results:
        blocked = tab.reasons_for(tag)
        for cookie in group.cookies:
            name = cookie.split("=", 1)[0]
            case = Case(f"{group.name} | {name} | {label(request)}", cookie, group.set_from, request)
            reasons = tab.refused.get(name, []) if name not in jar else blocked.get(name, [])
            observed = Observed(name in jar, name in sent, name in visible[request.url], sorted(reasons))
            outcomes.append(Outcome(case, predict(cookie, group.set_from, request), observed))
    return outcomes


def run_matrix(browser: Any, lab: Any, names: tuple[str, ...] | None = None) -> list[Outcome]:
    """Every case (or the groups `names`) in Chromium and in the model."""
    chosen = [group for group in groups() if names is None or group.name in names]
    return browser.run(run_groups, browser, lab, chosen)


@dataclass
class Observation:
    """Outcomes of some groups of the matrix, live or as recorded, and where they come from."""

    outcomes: list[Outcome]
    live: bool
    chromium: str

    @property
    def source(self) -> str:
        if self.live:
            return f"Chromium results: live, Chromium {self.chromium}"
        return (f"Chromium results: RECORDED in Chromium {self.chromium} (no browser here; "
                f"install chromium and run `{load_recorded()['command']}` or this notebook to see them live)")


def observe(names: tuple[str, ...], browser: Any = None, lab: Any = None) -> Observation:
    """The groups `names` run live when a browser and a lab are given, else taken from the recording."""
    if browser is not None and lab is not None:
        return Observation(run_matrix(browser, lab, names), True, browser.version)
    wanted = {f"{group.name} | " for group in groups() if group.name in names}
    chosen = [outcome for outcome in recorded_outcomes() if any(outcome.case.id.startswith(w) for w in wanted)]
    return Observation(chosen, False, load_recorded()["chromium"])


SHORT_REASONS = {
    "SchemefulSameSiteStrict": "Strict",
    "SchemefulSameSiteLax": "Lax",
    "SchemefulSameSiteUnspecifiedTreatedAsLax": "Lax(default)",
    "UserPreferences": "3P-blocked",
    "SameSiteNoneInsecure": "None-needs-Secure",
}


def cell(outcome: Outcome) -> str:
    observed = outcome.chromium
    if observed.sent:
        text = "sent"
    else:
        reasons = observed.reasons or list(outcome.model.reasons)
        text = "no:" + "+".join(SHORT_REASONS.get(reason, reason) for reason in reasons) if reasons else "no"
        if not observed.stored:
            text = "not stored:" + text[3:]
    return text if outcome.agrees else text + " (MODEL WRONG)"


def table(outcomes: list[Outcome], cookies: tuple[str, ...] | None = None) -> str:
    """Chromium's result per request (rows) and cookie (columns); the model is flagged wherever it disagrees."""
    outcomes = [outcome for outcome in outcomes if cookies is None or outcome.case.name in cookies]
    names = list(dict.fromkeys(outcome.case.name for outcome in outcomes))
    rows: dict[str, dict[str, str]] = {}
    for outcome in outcomes:
        row = outcome.case.id.split(" | ", 2)[2]
        rows.setdefault(row, {})[outcome.case.name] = cell(outcome)
    first = max(len(row) for row in rows)
    widths = [max([len(name)] + [len(row.get(name, "")) for row in rows.values()]) for name in names]
    lines = ["".ljust(first) + "  " + "  ".join(name.ljust(width) for name, width in zip(names, widths))]
    for row, cells in rows.items():
        lines.append(row.ljust(first) + "  " + "  ".join(cells.get(n, "").ljust(w) for n, w in zip(names, widths)))
    agree = sum(outcome.agrees for outcome in outcomes)
    lines.append(f"model agrees with Chromium on {agree} of {len(outcomes)} cases")
    return "\n".join(line.rstrip() for line in lines)


def to_record(outcome: Outcome) -> dict[str, Any]:
    return {"id": outcome.case.id, "cookie": outcome.case.cookie, "set_from": outcome.case.set_from,
            "request": asdict(outcome.case.request), "chromium": asdict(outcome.chromium)}


RECORDED = "cookie_matrix.json"


def load_recorded() -> dict[str, Any]:
    """The matrix as recorded in Chromium: {"chromium": version, "command": ..., "cases": [...]}."""
    text = resources.files("authcourse.browserlab").joinpath("recorded", RECORDED).read_text(encoding="utf-8")
    return json.loads(text)


def recorded_outcomes() -> list[Outcome]:
    """The recorded Chromium results, each beside the model's prediction for the same case."""
    found = []
    for item in load_recorded()["cases"]:
        request = Request(**item["request"])
        case = Case(item["id"], item["cookie"], item["set_from"], request)
        found.append(Outcome(case, predict(case.cookie, case.set_from, request), Observed(**item["chromium"])))
    return found
