"""Sessions or tokens? A decision guide: describe your case, get a recommendation and its reasons.

`recommend(Case(...))` returns `Advice`: what to use, why (each reason points at the chapter
and experiment of this course that shows it), and where the lesson's own advice is debatable
for this case. It is a plain function; `authcourse.widgets.decision_guide` puts a form on it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Literal

Client = Literal["server-rendered", "spa-same-site", "spa-cross-site", "mobile", "service"]

CLIENTS: dict[str, str] = {
    "server-rendered": "browser, pages rendered by the server",
    "spa-same-site": "browser SPA, API on the same site",
    "spa-cross-site": "browser SPA, API on another site",
    "mobile": "mobile app",
    "service": "another service (machine to machine)",
}


@dataclass(frozen=True)
class Evidence:
    """Where the course shows it: a chapter, a section, and a link relative to notebooks/."""

    where: str
    link: str


CH4 = "04-The-Comparison-Measured.ipynb"
CH6 = "06-Hybrid-Approaches.ipynb"
EVIDENCE = {
    "lookup": Evidence("chapter 4, what a request costs", "04b-What-a-Request-Costs.ipynb#Lookup-vs-verify"),
    "scaling": Evidence("chapter 4, two servers", f"{CH4}#Two-servers"),
    "invalidation": Evidence("chapter 4, logout and invalidation", f"{CH4}#Logout-and-invalidation"),
    "mobile": Evidence("chapter 4, a client without a cookie jar", f"{CH4}#A-client-without-a-cookie-jar"),
    "size": Evidence("chapter 4, bytes on the wire", f"{CH4}#Bytes-on-the-wire"),
    "browser": Evidence("chapter 4, the browser rows", f"{CH4}#CSRF,-XSS-and-cross-domain"),
    "hybrid": Evidence("chapter 6, a JWT in an HttpOnly cookie", f"{CH6}#Pattern-1:-a-JWT-in-an-HttpOnly-cookie"),
    "denylist": Evidence("chapter 6, the denylist", f"{CH6}#Pattern-2:-a-denylist-whose-entries-expire-with-their-tokens"),
    "version": Evidence("chapter 6, logging out everywhere",
                        f"{CH6}#Logging-out-everywhere:-a-per-user-token-version"),
    "revocation-cost": Evidence("chapter 6, what each scheme costs", f"{CH6}#What-each-scheme-costs-per-request"),
    "attributes": Evidence("chapter 7, cookie attributes in a real browser", "07-Cookie-Security-Attributes.ipynb"),
}


@dataclass(frozen=True)
class Reason:
    text: str
    evidence: Evidence | None = None


@dataclass(frozen=True)
class Case:
    """What you are building."""

    client: Client = "server-rendered"
    servers: int = 1  # application servers that must recognise the same login
    instant_logout: bool = False  # must a logout, or a ban, take effect at once?
    shared_store: bool = True  # can every server reach one store (Redis, a database)?
    other_verifiers: bool = False  # must other services check the credential without calling you?

    def __post_init__(self) -> None:
        if self.client not in CLIENTS:
            raise ValueError(f"client must be one of {', '.join(CLIENTS)}, not {self.client!r}")
        if self.servers < 1:
            raise ValueError("servers must be at least 1")


@dataclass(frozen=True)
class Advice:
    use: str  # the mini-server mode that does it, e.g. "session", "cookie-token + version"
    summary: str
    reasons: tuple[Reason, ...]
    debatable: tuple[Reason, ...] = field(default=())  # where the lesson's advice is arguable here

    def to_markdown(self) -> str:
        def item(reason: Reason) -> str:
            where = f" ([{reason.evidence.where}]({reason.evidence.link}))" if reason.evidence else ""
            return f"- {reason.text}{where}"

        lines = [f"**Use: {self.use}.** {self.summary}", "", "Why:", *map(item, self.reasons)]
        if self.debatable:
            lines += ["", "Where the lesson's advice is debatable here:", *map(item, self.debatable)]
        return "\n".join(lines)

    def to_html(self) -> str:
        def item(reason: Reason) -> str:
            where = ""
            if reason.evidence:
                where = f' (<a href="{html.escape(reason.evidence.link)}">{html.escape(reason.evidence.where)}</a>)'
            return f"<li>{html.escape(reason.text)}{where}</li>"

        parts = [f"<p><b>Use: {html.escape(self.use)}.</b> {html.escape(self.summary)}</p>",
                 "<p>Why:</p><ul>", *map(item, self.reasons), "</ul>"]
        if self.debatable:
            parts += ["<p>Where the lesson's advice is debatable here:</p><ul>", *map(item, self.debatable), "</ul>"]
        return "".join(parts)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _revocation(case: Case, reasons: list[Reason]) -> str:
    """The revocation a token design needs for this case ('' for none)."""
    if not case.instant_logout:
        reasons.append(Reason("No instant logout needed: tokens live until `exp`, so keep their lifetime short.",
                              EVIDENCE["invalidation"]))
        return ""
    reasons.append(Reason("Instant logout with tokens needs server state after all: a denylist keyed on the `jti` "
                          "for one token, a per-user version for all of them.", EVIDENCE["denylist"]))
    reasons.append(Reason("Either adds one store read per request to the signature check: the read a session lookup makes.",
                          EVIDENCE["revocation-cost"]))
    return ", revocation blacklist (one device) or version (everywhere)"


def recommend(case: Case) -> Advice:
    """The design for this case, the reasons, and where the lesson's advice is debatable."""
    reasons: list[Reason] = []
    debatable: list[Reason] = []
    many = case.servers > 1

    if case.client in ("mobile", "service") or case.other_verifiers:
        if case.client == "mobile":
            reasons.append(Reason("A mobile app's HTTP client has no browser cookie jar by default; it sends whatever "
                                  "header it is given, so a Bearer token is the natural fit.", EVIDENCE["mobile"]))
            debatable.append(Reason("The lesson calls sessions awkward on mobile: an opaque session id works just as "
                                    "well in a header, when one server or a shared store can look it up.",
                                    EVIDENCE["mobile"]))
        if case.client == "service" or case.other_verifiers:
            reasons.append(Reason("Other services can check a signed token with the key alone, without calling the "
                                  "service that issued it.", EVIDENCE["scaling"]))
        revocation = _revocation(case, reasons)
        if case.instant_logout and not case.shared_store:
            reasons.append(Reason("Without a store every verifier can reach, revocation cannot be instant: keep "
                                  "tokens short-lived (minutes) and accept that window."))
            revocation = ""
        return Advice("token" + revocation, "A JWT in the Authorization header, HS256 with a shared secret "
                      "(or an asymmetric key when other parties verify).", tuple(reasons), tuple(debatable))

    if case.client == "spa-cross-site":
        reasons.append(Reason("A cookie for another site's API must be SameSite=None; Secure, and browsers block "
                              "such third-party cookies by default: a token in the Authorization header is what "
                              "gets through.", EVIDENCE["browser"]))
        reasons.append(Reason("Keep it in memory, not in localStorage, where any injected script can read it.",
                              EVIDENCE["browser"]))
        debatable.append(Reason("\"Cross-domain is easy with tokens\" holds only with CORS set up to allow the "
                                "Authorization header; and two subdomains of one site (app.example.com, "
                                "api.example.com) are the same site, where a cookie works.", EVIDENCE["attributes"]))
        revocation = _revocation(case, reasons)
        return Advice("token" + revocation, "A JWT in the Authorization header, kept in the page's memory.",
                      tuple(reasons), tuple(debatable))

    # A browser on the same site as the API: a cookie the page's scripts cannot read.
    reasons.append(Reason("The browser sends an HttpOnly cookie by itself and no script on the page can read it.",
                          EVIDENCE["browser"]))
    if case.client == "spa-same-site":
        debatable.append(Reason("The lesson sends SPAs to tokens, but an SPA served from the same site as its API can "
                                "use a session cookie: fetch() sends it, and it stays out of reach of scripts.",
                                EVIDENCE["hybrid"]))
    if many and not case.shared_store:
        reasons.append(Reason("Several servers and no shared store: a memory session exists on one server only, "
                              "while a JWT in an HttpOnly cookie is accepted by any server with the secret.",
                              EVIDENCE["scaling"]))
        if case.instant_logout:
            reasons.append(Reason("Instant logout is out of reach without a shared store, whatever the design: keep "
                                  "the token's lifetime short.", EVIDENCE["invalidation"]))
        debatable.append(Reason("The lesson's list says tokens for stateless scaling; in a browser, pick its own hybrid "
                                "(pattern 1): the JWT in an HttpOnly, SameSite cookie, never in JavaScript.",
                                EVIDENCE["hybrid"]))
        return Advice("cookie-token", "A JWT in an HttpOnly, SameSite cookie, one secret on every server.",
                      tuple(reasons), tuple(debatable))
    if many:
        reasons.append(Reason(f"{case.servers} servers share one store (Redis), so each of them finds every "
                              "session.", EVIDENCE["scaling"]))
        debatable.append(Reason("\"Stateless scaling\" is the lesson's case for tokens, but a shared Redis costs one "
                                "fast read per request and the servers themselves stay stateless.",
                                EVIDENCE["lookup"]))
    reasons.append(Reason("Logout deletes the session: the next request with the old cookie is refused, at once.",
                          EVIDENCE["invalidation"]))
    if case.instant_logout:
        debatable.append(Reason("Tokens can log out instantly too (denylist, version), but only by reading a store "
                                "on every request, which is what a session does anyway.", EVIDENCE["revocation-cost"]))
    store = "a shared Redis" if many else "Redis, or memory for development"
    return Advice("session", f"A server-side session in {store}; its id in an HttpOnly, SameSite=Lax cookie.",
                  tuple(reasons), tuple(debatable))
