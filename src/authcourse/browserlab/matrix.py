"""The cases that prove the cookie model: cookies, the URL that set them, and requests (run by `proof`).

A case is one cookie (a raw `Set-Cookie` value), the URL that set it, and one request. Cases come in
groups that share a fresh browser profile: every cookie of a group is set by one response, then each
request of the group is made once and judged for every cookie. URLs here carry no port (ports never
make a site); `LabServer.localize` adds the lab's port for the scheme.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cookiemodel import REQUEST_KINDS, Request, Verdict

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
