"""What a browser (Chromium) does with a cookie, predicted in pure Python.

`predict(cookie, set_from_url, request)` answers three questions a server cannot see for
itself: does the browser store the cookie, does it send it back on this request, and can a
script on the page read it. Where Chromium blocks a cookie it names a reason (its DevTools
protocol reports `SecureOnly`, `SameSiteNoneInsecure`, `SchemefulSameSiteLax`,
`UserPreferences`, ...); the verdict uses the same names, so the model can be checked against
the browser case by case (`tests/test_browser.py` does).

The rules are those of RFC 6265bis as Chromium applies them (2026): a site is a scheme and a
registrable domain, never a port; SameSite absent means Lax, except that a cross-site top-level
POST still carries a cookie under two minutes old (Chromium's rule: Firefox and Safari treat an
absent SameSite as None); `SameSite=None` needs `Secure`; `Secure` needs a secure origin (https,
or localhost / 127.0.0.1); third-party cookies are blocked unless `Request.third_party_cookies`
allows them (the lab's Chromium, a Playwright profile, blocks them; Chrome's default profile allows them).
The model's public suffix list is a short one (Chromium uses the whole list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, get_args

from ..cookies import Cookie
from ..fleet.resulttable import ResultTable
from .setcookie import CookieModelError, SetCookie
from .sites import Origin, default_path, domain_matches, is_public_suffix, path_matches, read_url

RequestKind = Literal["navigate", "form-get", "form-post", "fetch", "fetch-post", "img", "iframe"]
REQUEST_KINDS: tuple[str, ...] = get_args(RequestKind)
TOP_LEVEL = {"navigate", "form-get", "form-post"}
SAFE_METHOD = {"navigate", "form-get", "fetch", "img", "iframe"}
LAX_ALLOWING_UNSAFE_WINDOW = 120  # seconds: a cookie without SameSite still rides a cross-site POST this long

Context = Literal["same-origin", "same-site", "cross-site"]

@dataclass(frozen=True)
class Request:
    """One request the browser makes, and the circumstances that decide which cookies it carries."""

    kind: RequestKind  # navigate (a link), form-get, form-post, fetch, fetch-post, img, iframe
    url: str  # where the request goes
    from_url: str | None = None  # the page that makes it; None: typed in the address bar (navigate only)
    third_party_cookies: bool = False  # False: blocked, as in the lab's Chromium; True: allowed, Chrome's default
    cookie_age: float = 0.0  # seconds since the cookie was set

    def __post_init__(self) -> None:
        if self.kind not in REQUEST_KINDS:
            raise CookieModelError(f"request kind must be one of {', '.join(REQUEST_KINDS)}, not {self.kind!r}")
        read_url(self.url, "request url")
        if self.from_url is None and self.kind != "navigate":
            raise CookieModelError(f"a {self.kind} request is made by a page: give from_url")
        if self.from_url is not None:
            read_url(self.from_url, "from_url")
        if not isinstance(self.cookie_age, (int, float)) or self.cookie_age < 0:
            raise CookieModelError(f"cookie_age is a number of seconds >= 0, not {self.cookie_age!r}")


@dataclass(frozen=True)
class Verdict:
    """What the browser does with the cookie: store it, send it on the request, show it to scripts."""

    stored: bool
    sent: bool
    reason: str | None  # Chromium's first reason for not storing or not sending; None when sent
    visible_to_script: bool  # in `document.cookie` of a page at the request's URL
    context: Context  # of the request: same-origin, same-site or cross-site
    reasons: tuple[str, ...] = field(default=())  # every reason Chromium lists
    explanation: str = ""

    def as_table(self) -> ResultTable:
        row = (self.stored, self.sent, self.visible_to_script, self.context, ", ".join(self.reasons) or "-")
        return ResultTable.of(("stored", "sent", "in document.cookie", "request", "Chromium's reasons"), [row],
                              notes=[self.explanation] if self.explanation else [])

    def __str__(self) -> str:
        return str(self.as_table())

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        return self.as_table()._repr_html_()

def context_of(request: Request, target: Origin) -> Context:
    if request.from_url is None:
        return "same-origin"
    page = read_url(request.from_url)
    if (page.scheme, page.host, page.port) == (target.scheme, target.host, target.port):
        return "same-origin"
    return "same-site" if page.site == target.site else "cross-site"


def lifetime(cookie: SetCookie, now: datetime) -> float | None:
    """Seconds the cookie lives from `now` (None: until the browser closes); Max-Age wins over Expires."""
    if cookie.max_age is not None:
        return float(cookie.max_age)
    if cookie.expires is not None:
        expires = cookie.expires if cookie.expires.tzinfo else cookie.expires.replace(tzinfo=timezone.utc)
        return (expires - now).total_seconds()
    return None


def storage_refusals(cookie: SetCookie, origin: Origin) -> list[str]:
    """Why the browser refuses to store the cookie set from `origin`, in Chromium's words."""
    name = cookie.name
    if name.startswith("__Secure-") and not (cookie.secure and origin.secure):
        return ["InvalidPrefix"]  # Chromium checks a prefix first and gives no other reason
    if name.startswith("__Host-") and not (
        cookie.secure and origin.secure and cookie.domain is None and cookie.path == "/"
    ):
        return ["InvalidPrefix"]
    reasons = []
    if cookie.secure and not origin.secure:
        reasons.append("SecureOnly")
    if cookie.same_site == "None" and not cookie.secure:
        reasons.append("SameSiteNoneInsecure")
    if cookie.domain is not None and (
        not domain_matches(origin.host, cookie.domain)
        or (is_public_suffix(cookie.domain) and cookie.domain != origin.host)
    ):
        reasons.append("InvalidDomain")
    return reasons


def sending_refusals(
    cookie: SetCookie, origin: Origin, target: Origin, request: Request, context: Context
) -> list[str]:
    """Why the browser leaves a stored cookie off this request, in Chromium's words."""
    reasons = []
    host_only = cookie.domain is None
    if target.host != origin.host if host_only else not domain_matches(target.host, cookie.domain or ""):
        reasons.append("DomainMismatch")
    if not path_matches(target.path, cookie.path or default_path(origin.path)):
        reasons.append("NotOnPath")
    if cookie.secure and not target.secure:
        reasons.append("SecureOnly")
    if context == "cross-site":
        top_level = request.kind in TOP_LEVEL
        lax_ok = top_level and request.kind in SAFE_METHOD
        if cookie.same_site == "Strict":
            reasons.append("SchemefulSameSiteStrict")
        elif cookie.same_site == "Lax" and not lax_ok:
            reasons.append("SchemefulSameSiteLax")
        elif cookie.same_site is None and not lax_ok:
            if not (top_level and request.cookie_age < LAX_ALLOWING_UNSAFE_WINDOW):
                reasons.append("SchemefulSameSiteUnspecifiedTreatedAsLax")
        if not top_level and not request.third_party_cookies:
            reasons.append("UserPreferences")
    return reasons


def explain(stored: bool, sent: bool, reasons: list[str], context: Context) -> str:
    if not stored:
        return f"not stored: {', '.join(reasons)}"
    if not sent:
        return f"stored, not sent on this {context} request: {', '.join(reasons)}"
    return f"stored and sent on this {context} request"


def predict(
    cookie: Cookie | SetCookie | str,
    set_from_url: str,
    request: Request,
    *,
    now: datetime | None = None,
) -> Verdict:
    """What Chromium does with `cookie`, set by a response from `set_from_url`, when it makes `request`.

    `cookie` is the package's `Cookie`, a `SetCookie`, or a raw `Set-Cookie` value (the only way to
    describe a cookie `Cookie` itself refuses, such as `SameSite=None` without `Secure`).
    `now` (UTC) is when the cookie was set; it matters only for `Expires`.
    """
    if isinstance(cookie, Cookie):
        spec = SetCookie.from_cookie(cookie)
    elif isinstance(cookie, SetCookie):
        spec = cookie
    elif isinstance(cookie, str):
        spec = SetCookie.parse(cookie)
    else:
        raise CookieModelError(
            f"cookie must be a Cookie, a SetCookie or a Set-Cookie string, not {type(cookie).__name__}")
    if not isinstance(request, Request):
        raise CookieModelError(f"request must be a cookiemodel.Request, not {type(request).__name__}")
    origin = read_url(set_from_url, "set_from_url")
    target = read_url(request.url, "request url")
    context = context_of(request, target)
    now = now or datetime.now(timezone.utc)

    refused = storage_refusals(spec, origin)
    lives = lifetime(spec, now)
    if not refused and lives is not None and lives <= 0:
        refused = ["Expired"]  # a browser deletes it at once; Chromium names no reason
    if refused:
        why = explain(False, False, refused, context)
        return Verdict(False, False, refused[0], False, context, tuple(refused), why)

    reasons = sending_refusals(spec, origin, target, request, context)
    if lives is not None and request.cookie_age >= lives:
        reasons = ["Expired"]
    sent = not reasons
    visible = not spec.http_only and not (
        set(sending_refusals(spec, origin, target, Request("navigate", request.url), "same-origin"))
        or (lives is not None and request.cookie_age >= lives)
    )
    reason = reasons[0] if reasons else None
    return Verdict(True, sent, reason, visible, context, tuple(reasons), explain(True, sent, reasons, context))
