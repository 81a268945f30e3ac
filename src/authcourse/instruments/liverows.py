"""The rows of the lesson's comparison table that are measured over HTTP, against live mini-servers.

Each `measure_*` function starts the servers it needs (bcrypt at work factor 4: logins are not
what is measured here), runs one experiment over real HTTP, stops them, and returns a small
result whose `row()` (or `rows()`) is that row of `comparison.comparison_table`: the lesson's
claim, what was measured, and a verdict.
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import jwt

from ..server import CourseServer
from ..stores import Store, fakeredis_store
from .comparison import Row, Verdict
from .recorder import Exchange, Recorder

ROUNDS = 4  # bcrypt work factor for these servers: the comparison measures requests, not logins
ALICE = {"email": "alice@example.com", "password": "wonderland"}
TLS = ssl.create_default_context()  # one for every request: httpx builds one per call otherwise (tens of ms)


def call(method: str, url: str, **options: object) -> httpx.Response:
    """One request on a fresh connection, with no cookie jar carried over (as a bare HTTP client)."""
    return httpx.request(method, url, verify=TLS, **options)  # type: ignore[arg-type]


@contextmanager
def running(*servers: CourseServer) -> Iterator[tuple[CourseServer, ...]]:
    """Start the servers; stop them all at the end, side by side (each stop takes a tenth of a second)."""
    try:
        yield tuple(server.start() for server in servers)
    finally:
        stopping = [threading.Thread(target=server.stop) for server in servers]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()


def server(mode: str, **settings: object) -> CourseServer:
    settings.setdefault("bcrypt_rounds", ROUNDS)
    return CourseServer(mode, **settings)  # type: ignore[arg-type]


def log_in(url: str) -> httpx.Response:
    response = call("POST", f"{url}/login", json=ALICE)
    response.raise_for_status()
    return response


def credential(mode: str, login: httpx.Response) -> dict[str, str]:
    """The request header that carries the login's credential back: Cookie, or Authorization."""
    if mode == "token":
        return {"Authorization": f"Bearer {login.json()['token']}"}
    return {"Cookie": login.headers["set-cookie"].split(";", 1)[0]}


def line_bytes(name: str, value: str) -> int:
    """Bytes of one HTTP/1.1 header line, `Name: value` and its CRLF."""
    return len(f"{name}: {value}\r\n".encode())


# State and storage ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StateResult:
    session_keys: tuple[str, ...]  # the session server's store after one login
    token_keys: tuple[str, ...]  # the token server's store after one login and a profile call
    denylist_keys: tuple[str, ...]  # a token server with revocation blacklist, after one logout
    session_jar: tuple[str, ...]  # cookie names the session client's jar holds after login
    token_jar: tuple[str, ...]  # the same for the token client (it holds its token itself)

    def rows(self) -> list[Row]:
        stateful = bool(self.session_keys) and not self.token_keys
        return [
            Row("State", "Stateful: server stores session", "Stateless: token carries all data",
                f"after one login the session store holds {len(self.session_keys)} keys, the token store "
                f"{len(self.token_keys)}", "confirmed" if stateful else "corrected"),
            Row("Storage (server)", "Session store (Redis, DB)", "Nothing (just the secret key)",
                f"token store: {len(self.token_keys)} keys without revocation; with a denylist, "
                f"{len(self.denylist_keys)} key per revoked token until it expires",
                "depends on" if not self.token_keys and self.denylist_keys else "corrected"),
            Row("Storage (client)", "Cookie (automatic)", "Cookie, localStorage, or memory",
                f"the session client's cookie jar holds `{', '.join(self.session_jar)}`; the token client's jar "
                f"holds {len(self.token_jar)} cookies: the app keeps the token itself",
                "confirmed" if self.session_jar and not self.token_jar else "corrected"),
        ]


def measure_state() -> StateResult:
    with running(server("session"), server("token"), server("token", revocation="blacklist")) as (ses, tok, deny):
        with httpx.Client(base_url=ses.url, verify=TLS) as browser, httpx.Client(base_url=tok.url, verify=TLS) as app:
            browser.post("/login", json=ALICE)
            token = app.post("/login", json=ALICE).json()["token"]
            app.get("/api/profile", headers={"Authorization": f"Bearer {token}"})
            session_jar, token_jar = tuple(browser.cookies.keys()), tuple(app.cookies.keys())
        denied = credential("token", log_in(deny.url))
        call("POST", f"{deny.url}/logout", headers=denied)
        return StateResult(tuple(ses.store.keys()), tuple(tok.store.keys()), tuple(deny.store.keys()),
                           session_jar, token_jar)


# How it is sent, and its size -------------------------------------------------------------------


@dataclass(frozen=True)
class SizeResult:
    """Bytes on the wire, per mode: what login sets, and what every later request carries."""

    session_cookie_value: int  # `<id>.<signature>`
    session_set_cookie: int  # the whole Set-Cookie line at login
    session_request: int  # the Cookie line on every request
    jwt: int  # our token: sub, role, iat, exp, jti
    jwt_request: int  # the Authorization line on every request
    cookie_token_request: int  # the Cookie line carrying the JWT (hybrid)
    lesson_jwt: int  # a token with the lesson's payload: userId (a Mongo ObjectId), role, iat, exp
    idp_jwt: int = 0  # an RS256 access token shaped like an identity provider's: kid, iss, aud, scope, azp


    def row(self) -> Row:
        return Row("Size", "Cookie: ~50 bytes (session ID only)", "JWT: 500+ bytes (payload + signature)",
                f"session cookie value {self.session_cookie_value} B (Cookie line {self.session_request} B per "
                f"request); JWT {self.jwt} B (Authorization line {self.jwt_request} B); the lesson's own payload "
                f"signs to {self.lesson_jwt} B; an identity provider's RS256 token (kid, iss, aud, scope) "
                f"{self.idp_jwt} B: it depends on the algorithm and the claims",
                "depends on" if self.jwt < 450 <= self.idp_jwt else "corrected")


def measure_sizes() -> SizeResult:
    with running(server("session"), server("token"), server("cookie-token")) as (ses, tok, hybrid):
        session_login, token_login = log_in(ses.url), log_in(tok.url)
        session_header, token_header = credential("session", session_login), credential("token", token_login)
        hybrid_header = credential("cookie-token", log_in(hybrid.url))
    cookie_value = session_header["Cookie"].split("=", 1)[1]
    token = token_login.json()["token"]
    issued = int(time.time())
    lesson = jwt.encode({"userId": "65f1c2a9e4b0a1b2c3d4e5f6", "role": "user", "iat": issued, "exp": issued + 86400},
                        secrets.token_bytes(32), algorithm="HS256")
    return SizeResult(
        session_cookie_value=len(cookie_value),
        session_set_cookie=line_bytes("Set-Cookie", session_login.headers["set-cookie"]),
        session_request=line_bytes("Cookie", session_header["Cookie"]),
        jwt=len(token),
        jwt_request=line_bytes("Authorization", token_header["Authorization"]),
        cookie_token_request=line_bytes("Cookie", hybrid_header["Cookie"]),
        lesson_jwt=len(lesson),
        idp_jwt=len(identity_provider_token()),
    )


def identity_provider_token() -> str:
    """An access token shaped like those of the usual identity providers (Auth0, Okta, Entra ID).

    RS256 with a 2048-bit key (a 256-byte signature, against HMAC-SHA256's 32), a `kid` naming
    the key in the provider's JWKS, an `https://` issuer, two audiences, the granted scopes and the
    client id (`azp`). The values are made up (and fixed); their lengths are typical.
    """
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issued = int(time.time())
    claims = {
        "iss": "https://login.example-idp.com/",
        "sub": "auth0|65f1c2a9e4b0a1b2c3d4e5f6",
        "aud": ["https://api.example.com", "https://login.example-idp.com/userinfo"],
        "iat": issued,
        "exp": issued + 3600,
        "azp": "m9Z3kX2dQe7VbL1sT0pYfA8uH4cWnR6j",  # the client (application) id
        "scope": "openid profile email read:orders write:orders",
        "jti": secrets.token_urlsafe(16),
    }
    kid = "NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg"  # as long as a typical provider's key id
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@dataclass(frozen=True)
class SendingResult:
    """Which credential header each client sent, and whether the client's own code had to add it."""

    session_unasked: tuple[str, ...]  # headers on the session client's profile request, none set by us
    session_status: int
    token_unasked: tuple[str, ...]  # the token client's profile request with nothing set by us
    token_unasked_status: int
    token_by_hand: tuple[str, ...]  # after our code sets Authorization itself
    token_status: int

    def row(self) -> Row:
        automatic = self.session_unasked == ("cookie",) and self.session_status == 200
        manual = not self.token_unasked and self.token_unasked_status == 401 and self.token_status == 200
        return Row("Sent how", "Cookie (automatic by browser)", "Authorization: Bearer <token> (manual)",
                   f"session client, nothing set by hand: `{', '.join(self.session_unasked)}` sent, "
                   f"{self.session_status}; token client: nothing sent, {self.token_unasked_status}, then "
                   f"`{', '.join(self.token_by_hand)}` set by hand, {self.token_status}",
                   "confirmed" if automatic and manual else "corrected")


def header_names(exchange: Exchange) -> tuple[str, ...]:
    return tuple(name for name, _ in exchange.request_headers)


def measure_sending() -> SendingResult:
    recorder = Recorder(headers=("cookie", "authorization"))
    with running(server("session"), server("token")) as (ses, tok):
        with recorder.client(ses.url, verify=TLS) as browser, recorder.client(tok.url, verify=TLS) as app:
            browser.post("/login", json=ALICE)
            browser.get("/api/profile")
            session = recorder.last
            token = app.post("/login", json=ALICE).json()["token"]
            app.get("/api/profile")
            unasked = recorder.last
            app.headers["Authorization"] = f"Bearer {token}"
            app.get("/api/profile")
            by_hand = recorder.last
    return SendingResult(header_names(session), session.status, header_names(unasked), unasked.status,
                         header_names(by_hand), by_hand.status)


# Scalability ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScalingResult:
    """Log in on server A, ask server B for the profile: B's status code, per setup."""

    statuses: dict[str, int]

    def row(self) -> Row:
        shared = self.statuses["session, one shared store, one secret"] == 200
        alone = self.statuses["session, a memory store each"] == 401
        token = self.statuses["token, one secret"] == 200
        verdict: Verdict = "confirmed" if shared and alone and token else "corrected"
        return Row("Scalability", "Harder: session store must be shared across servers",
                   "Easier: any server can verify with the secret",
                   "; ".join(f"{setup}: {status}" for setup, status in self.statuses.items()), verdict)


def measure_scaling() -> ScalingResult:
    secret, other = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    shared: Store = fakeredis_store()
    setups = {
        "session, a memory store each": ("session", {"store": "memory", "secret": secret}, {"store": "memory"}),
        "session, one shared store, one secret": ("session", {"store": shared, "secret": secret}, {}),
        "session, one shared store, two secrets": ("session", {"store": shared, "secret": secret},
                                                   {"secret": other}),
        "token, one secret": ("token", {"secret": secret}, {}),
        "token, two secrets": ("token", {"secret": secret}, {"secret": other}),
    }
    statuses = {}
    for setup, (mode, settings, b_differs) in setups.items():
        with running(server(mode, **settings), server(mode, **{**settings, **b_differs})) as (a, b):
            statuses[setup] = call("GET", f"{b.url}/api/profile", headers=credential(mode, log_in(a.url))).status_code
    shared.close()
    return ScalingResult(statuses)


# Invalidation and logout ------------------------------------------------------------------------


@dataclass(frozen=True)
class LogoutResult:
    """The credential a client had before logging out, replayed afterwards: the status it gets."""

    replayed: dict[str, int]  # "session", "token, revocation none", ... -> status code
    logout_all: dict[str, int]  # status of POST /logout-all, per configuration

    def rows(self) -> list[Row]:
        session_ok = self.replayed["session"] == 401
        token_lives = self.replayed["token, revocation none"] == 200
        revocable = self.replayed["token, revocation blacklist"] == 401
        shown = "; ".join(f"{setup}: {status}" for setup, status in self.replayed.items())
        return [
            Row("Invalidation", "Easy: delete session from store", "Hard: token valid until expiry (unless blacklist)",
                f"old credential replayed after logout: {shown}",
                "confirmed" if session_ok and token_lives and revocable else "corrected"),
            Row("Logout", "Server destroys session", "Client deletes token; server cannot force",
                "without revocation the server cannot; with a denylist (one token) or a per-user version "
                f"(all tokens: /logout-all gives {self.logout_all['token, revocation version']}) it can",
                "depends on"),
        ]


def measure_logout() -> LogoutResult:
    configs = {"session": ("session", "none"), "token, revocation none": ("token", "none"),
               "token, revocation blacklist": ("token", "blacklist"),
               "token, revocation version": ("token", "version")}
    replayed, logout_all = {}, {}
    for name, (mode, revocation) in configs.items():
        settings = {} if mode == "session" else {"revocation": revocation}
        with running(server(mode, **settings)) as (live,):
            headers = credential(mode, log_in(live.url))
            call("POST", f"{live.url}/logout", headers=headers)
            replayed[name] = call("GET", f"{live.url}/api/profile", headers=headers).status_code
            again = credential(mode, log_in(live.url))
            logout_all[name] = call("POST", f"{live.url}/logout-all", headers=again).status_code
    return LogoutResult(replayed, logout_all)


# A client without a cookie jar ------------------------------------------------------------------


@dataclass(frozen=True)
class NoJarResult:
    """A client that keeps no cookies (a new connection per call, as a bare mobile HTTP client)."""

    session_ignored: int  # profile status when the Set-Cookie is simply not kept
    session_by_hand: int  # profile status after copying the cookie out of Set-Cookie by hand
    token: int  # profile status with the token from the body in an Authorization header

    def row(self) -> Row:
        awkward = self.session_ignored == 401 and self.session_by_hand == 200
        return Row("Mobile support", "Possible but awkward (cookies)", "Natural (tokens in headers)",
                   f"no cookie jar: session {self.session_ignored}, then {self.session_by_hand} once the app copies "
                   f"the cookie out of Set-Cookie itself; token from the body in a header: {self.token}",
                   "confirmed" if awkward and self.token == 200 else "corrected")


def measure_no_cookie_jar() -> NoJarResult:
    with running(server("session"), server("token")) as (ses, tok):
        session_login = log_in(ses.url)
        ignored = call("GET", f"{ses.url}/api/profile").status_code
        # By hand: find the header, cut the name=value pair off its attributes, send it back as Cookie.
        by_hand = call("GET", f"{ses.url}/api/profile", headers=credential("session", session_login)).status_code
        token = json.loads(log_in(tok.url).text)["token"]
        with_token = call("GET", f"{tok.url}/api/profile", headers={"Authorization": f"Bearer {token}"}).status_code
    return NoJarResult(ignored, by_hand, with_token)
