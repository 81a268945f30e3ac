"""The scale-out lab's experiments. Each returns plain data: chapter 8 draws it, the tests assert it.

- `success_rates`: one login, then `GET /api/profile` through a round-robin balancer, for N servers.
- `restart_survival`: does a session survive a server restart, a store restart; does its TTL keep counting?
- `compromised_account`: after "revoke", how long until a stolen credential fails on every server,
  and what each scheme costs per request.
- `under_load`: many concurrent clients through the balancer, logins, profiles and logouts mixed.
"""

from __future__ import annotations

import asyncio
import time
import timeit
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request

from ..server import CourseServer
from ..stores import Store, fakeredis_store
from .client import DEMO_LOGIN, Visitor, check_gateway, credential_header
from .fleet import Fleet, FleetError, draw_secret
from .sharedstore import SharedStore

ROUNDS = 4  # bcrypt work factor for the lab's servers: the experiments are about stores, not hashing


# N servers behind a balancer ------------------------------------------------------------------


@dataclass(frozen=True)
class Configuration:
    key: str
    label: str
    mode: str
    store: str  # memory (one per server) | shared
    secret: str  # shared | each


CONFIGURATIONS = [
    Configuration("memory", "sessions, a memory store per server", "session", "memory", "shared"),
    Configuration("shared", "sessions, one shared Redis", "session", "shared", "shared"),
    Configuration("shared-secret-each", "sessions, shared Redis, a secret per server", "session", "shared", "each"),
    Configuration("jwt", "JWT, one shared secret", "token", "memory", "shared"),
    Configuration("jwt-secret-each", "JWT, a secret per server", "token", "memory", "each"),
]


@dataclass
class SuccessRates:
    counts: list[int]  # N, servers behind the balancer
    rates: dict[str, list[float]]  # configuration key -> success rate for each N
    labels: dict[str, str]
    balancer: str
    requests_per_server: int

    def rate(self, key: str, servers: int) -> float:
        return self.rates[key][self.counts.index(servers)]


def _store_for(configuration: Configuration, shared_url: str) -> str:
    return shared_url if configuration.store == "shared" else configuration.store


def success_rates(counts: Iterable[int] = range(1, 11), *, requests_per_server: int = 2, balancer: str = "builtin",
                  store_url: str | None = None,
                  configurations: Sequence[Configuration] = CONFIGURATIONS) -> SuccessRates:
    """For each configuration and N: log in once through the balancer, then send N x `requests_per_server`
    profile requests through it; the share answered 200. `store_url`: the shared Redis (default: fakeredis's
    TCP server, started here)."""
    counts = sorted(set(counts))
    rates: dict[str, list[float]] = {}
    shared = None if store_url else SharedStore("fakeredis").start()
    try:
        url = store_url or shared.url  # type: ignore[union-attr]
        for configuration in configurations:
            fleet = Fleet(max(counts), mode=configuration.mode, store=_store_for(configuration, url),
                          secret=configuration.secret, balancer=balancer, bcrypt_rounds=ROUNDS)
            with fleet:
                rates[configuration.key] = [_success_rate(fleet.use(n), n * requests_per_server) for n in counts]
    finally:
        if shared is not None:
            shared.cleanup()
    return SuccessRates(counts, rates, {c.key: c.label for c in configurations}, balancer, requests_per_server)


def _success_rate(fleet: Fleet, requests: int) -> float:
    with Visitor(fleet.url, fleet.mode) as visitor:
        login = visitor.login()
        if login.status_code != 200:
            raise FleetError(f"login through the balancer failed: {login.status_code} {login.text[:200]}")
        answers = [visitor.profile().status_code for _ in range(requests)]
    return sum(status == 200 for status in answers) / requests


# Restarts -------------------------------------------------------------------------------------


@dataclass
class RestartResult:
    store: str
    before: int  # profile status after login
    after_server_restart: int
    after_store_restart: int | None  # None where the store is the server's own memory
    ttl_before: float | None  # seconds left on the session, read from the store
    ttl_after: float | None  # the same, after the restarts (before any request could refresh it)
    waited: float  # seconds between the two readings

    @property
    def survives(self) -> bool:
        return self.after_server_restart == 200 and self.after_store_restart in (200, None)

    @property
    def ttl_kept_counting(self) -> bool | None:
        if self.ttl_before is None or self.ttl_after is None:
            return None
        return self.ttl_after <= self.ttl_before - 0.5 * self.waited


def restart_survival(store: str, *, pause: float = 0.3) -> RestartResult:
    """Log in, restart the server, then (for a shared store) the store, and see whether the session lives on.

    `store`: `memory`, `redis` (Debian's redis-server with append-only persistence), `postgres` (Debian's
    PostgreSQL), or a URL of a store started elsewhere (then the store restart is skipped)."""
    shared: Any = None
    if store == "redis":
        shared = SharedStore("redis", persistent=True).start()
    elif store == "postgres":
        from ..realservers.postgres import PostgresServer

        shared = PostgresServer().start()
    spec = shared.url if shared is not None else store
    # touch_interval: no request in this experiment writes the idle clock back, so the TTL only falls.
    server = CourseServer("session", store=spec, secret=draw_secret(), bcrypt_rounds=ROUNDS, touch_interval=3600)
    try:
        server.start()
        with Visitor(server.url, "session") as visitor:
            visitor.login()
            before = visitor.profile().status_code
            key = _only_session_key(server.store)
            ttl_before, started = (server.store.ttl(key) if key else None), time.monotonic()
            time.sleep(pause)
            server.stop()
            server.start()  # the same port, a new app: a new memory store, or the same Redis by URL
            after_server = visitor.profile().status_code
            after_store = None
            if shared is not None:
                shared.restart()
                ttl_after = server.store.ttl(key) if key else None
                after_store = visitor.profile().status_code
            else:
                ttl_after = server.store.ttl(key) if key and after_server == 200 else None
            waited = time.monotonic() - started
    finally:
        server.stop()
        if shared is not None:
            shared.cleanup()
    kind = store if store in ("memory", "redis", "postgres") else "url"
    return RestartResult(kind, before, after_server, after_store,
                         ttl_before, ttl_after, waited)


def _only_session_key(store: Store) -> str | None:
    keys = store.keys("session:*")
    return keys[0] if len(keys) == 1 else None


# A compromised account ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scheme:
    key: str
    label: str
    mode: str
    revocation: str
    revoke: str  # the request that revokes: path, sent with the victim's credential (or the stolen one)
    note: str


SCHEMES = [
    Scheme("session", "sessions: destroy all", "session", "none", "/logout-all", "every session of the user deleted"),
    Scheme("jwt-none", "JWT, no revocation", "token", "none", "/logout", "nothing to delete: valid until exp"),
    Scheme("denylist", "JWT + denylist", "token", "blacklist", "/logout", "the presented token's jti denylisted"),
    Scheme("version", "JWT + per-user version", "token", "version", "/logout-all", "the user's token version bumped"),
]


@dataclass
class RevocationResult:
    scheme: str
    label: str
    revoked_everywhere: bool  # the stolen credential failed on every server within the window
    seconds_to_revoke: float  # measured; where never revoked, the credential's remaining lifetime
    rounds: int  # rounds of asking every server until all refused (0: they never did)
    store_reads_per_request: int  # store round trips one authenticated request costs
    microseconds_per_request: float  # authenticate(), measured in process against the fleet's store
    note: str


def compromised_account(servers: int = 3, *, balancer: str = "builtin", store_url: str | None = None,
                        window: float = 0.5, schemes: Sequence[Scheme] = SCHEMES,
                        cost_repeats: int = 200) -> list[RevocationResult]:
    """An attacker holds a copy of the victim's credential. The victim revokes through the balancer;
    every server is then asked directly, again and again, until all refuse the stolen copy (or `window`
    seconds pass)."""
    results = []
    shared = None if store_url else SharedStore("fakeredis").start()
    try:
        url = store_url or shared.url  # type: ignore[union-attr]
        for scheme in schemes:
            with Fleet(servers, mode=scheme.mode, revocation=scheme.revocation, store=url, secret="shared",
                       balancer=balancer, bcrypt_rounds=ROUNDS) as fleet:
                results.append(_race(fleet, scheme, window, cost_repeats))
    finally:
        if shared is not None:
            shared.cleanup()
    return results


def _race(fleet: Fleet, scheme: Scheme, window: float, cost_repeats: int) -> RevocationResult:
    with Visitor(fleet.url, scheme.mode) as victim, Visitor(fleet.url, scheme.mode) as attacker:
        victim.login()
        attacker.header = dict(victim.header)  # the stolen copy
        if any(attacker.profile(server.url).status_code != 200 for server in fleet.servers):
            raise FleetError(f"{scheme.label}: the stolen credential did not work everywhere to begin with")
        reads, micros = _cost(fleet.servers[0], attacker.header, cost_repeats)
        revoke = victim.request("POST", scheme.revoke)
        if revoke.status_code != 200:
            raise FleetError(f"{scheme.label}: revoking answered {revoke.status_code} {revoke.text[:200]}")
        started = time.perf_counter()
        refused: set[str] = set()
        rounds = 0
        while time.perf_counter() - started < window:
            rounds += 1
            for server in fleet.servers:
                if server.url not in refused and attacker.profile(server.url).status_code == 401:
                    refused.add(server.url)
            if len(refused) == len(fleet.servers):
                break
        elapsed = time.perf_counter() - started
    everywhere = len(refused) == len(fleet.servers)
    seconds = elapsed if everywhere else _lifetime_left(fleet.servers[0], attacker.header)
    return RevocationResult(scheme.key, scheme.label, everywhere, seconds, rounds if everywhere else 0, reads, micros,
                            scheme.note)


def _lifetime_left(server: CourseServer, header: dict[str, str]) -> float:
    """Seconds until the credential expires by itself (a JWT's exp)."""
    claims = server.app.state.auth.tokens.decode_token(header["Authorization"].split(" ", 1)[1])
    return float(claims["exp"]) - time.time()


class _CountingStore:
    """Counts the store calls of one `authenticate` (a wrapper the experiment swaps in for a moment)."""

    def __init__(self, store: Store) -> None:
        self.store, self.calls = store, 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if name in ("get", "set", "delete", "ttl", "incr", "add_member", "members", "remove_member"):
            def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls += 1
                return attribute(*args, **kwargs)
            return counted
        return attribute


def _authenticate_call(server: CourseServer, header: dict[str, str]) -> Callable[[], Any]:
    raw = [(name.lower().encode(), value.encode()) for name, value in header.items()]
    scope = {"type": "http", "method": "GET", "path": "/api/profile", "headers": raw, "query_string": b""}
    auth = server.app.state.auth
    return lambda: auth.authenticate(Request(scope))


def _cost(server: CourseServer, header: dict[str, str], repeats: int) -> tuple[int, float]:
    """Store reads of one authenticated request, and microseconds per `authenticate`, in process."""
    auth = server.app.state.auth
    holder = auth.sessions if hasattr(auth, "sessions") else auth.tokens
    counting = _CountingStore(holder.store)
    call = _authenticate_call(server, header)
    call()  # the first call verifies the JWT; later ones use the verified-token cache, as under load
    holder.store = counting
    try:
        call()
        reads = counting.calls
    finally:
        holder.store = counting.store
    seconds = min(timeit.repeat(call, number=max(1, repeats // 5), repeat=5)) / max(1, repeats // 5)
    return reads, seconds * 1e6


# Under load -----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    clients: int
    servers: int
    requests: int = 0
    failures: list[str] = field(default_factory=list)  # an unexpected status or error, with who and what
    crossed: int = 0  # a profile that answered with another user
    lost: int = 0  # a session refused before its own logout
    seconds: float = 0.0
    per_server: list[int] = field(default_factory=list)  # requests each server answered (builtin balancer)


def under_load(clients: int = 200, servers: int = 4, *, profiles: int = 3, users: int = 50, balancer: str = "builtin",
               store_url: str | None = None, timeout: float = 120.0) -> LoadResult:
    """`clients` at once through the balancer to `servers` session servers on one shared store: each logs
    in as one of `users`, reads its profile `profiles` times, logs out, and checks its old cookie is refused.

    Without `store_url` the servers share one fakeredis store object in this process (the servers are
    threads here); with it, a Redis they each reach over TCP."""
    result = LoadResult(clients, servers)
    store: str | Store = store_url or fakeredis_store()
    with Fleet(servers, mode="session", store=store, secret="shared", balancer=balancer, bcrypt_rounds=ROUNDS) as fleet:
        accounts = [(f"user{i}@load.test", f"password-{i}") for i in range(users)]
        for server in fleet.servers:  # the same users, in the same order: the same ids on every server
            for email, password in accounts:
                server.users.add_user(email, password)
        started = time.perf_counter()
        with ThreadPoolExecutor(1) as thread:  # a loop of its own: a notebook's kernel already runs one
            thread.submit(asyncio.run, _load(fleet.url, accounts, result, profiles, timeout)).result()
        result.seconds = time.perf_counter() - started
        if hasattr(fleet.balancer, "counts"):
            result.per_server = list(fleet.balancer.counts)
    return result


async def _load(url: str, accounts: list[tuple[str, str]], result: LoadResult, profiles: int, timeout: float) -> None:
    # One small client per simulated user, as in real life: a single pool of hundreds of connections
    # costs httpx more per request as it grows.
    clients = [httpx.AsyncClient(base_url=url, timeout=timeout) for _ in range(result.clients)]
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(_one_client(http, i, accounts[i % len(accounts)], result, profiles)
                                   for i, http in enumerate(clients)))
    except TimeoutError:
        raise FleetError(f"the load did not finish within {timeout:.0f} s") from None
    finally:
        await asyncio.gather(*(http.aclose() for http in clients))


async def _one_client(http: httpx.AsyncClient, number: int, account: tuple[str, str], result: LoadResult,
                      profiles: int) -> None:
    email, password = account

    async def send(method: str, path: str, header: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        result.requests += 1
        try:
            response = await http.request(method, path, headers=header or {}, **kwargs)
        except httpx.TransportError as error:
            raise FleetError(f"nothing answers at {http.base_url}: {error.__class__.__name__}: {error}") from None
        http.cookies.clear()
        return check_gateway(response, str(http.base_url))

    login = await send("POST", "/login", json={"email": email, "password": password})
    if login.status_code != 200:
        result.failures.append(f"client {number}: login {login.status_code}")
        return
    header = credential_header("session", login)
    for _ in range(profiles):
        profile = await send("GET", "/api/profile", header)
        if profile.status_code == 401:
            result.lost += 1
        elif profile.status_code != 200:
            result.failures.append(f"client {number}: profile {profile.status_code}")
        elif profile.json()["user"]["email"] != email:
            result.crossed += 1
    logout = await send("POST", "/logout", header)
    if logout.status_code != 200:
        result.failures.append(f"client {number}: logout {logout.status_code}")
    after = await send("GET", "/api/profile", header)
    if after.status_code != 401:
        result.failures.append(f"client {number}: the cookie still worked after logout ({after.status_code})")


__all__ = [
    "CONFIGURATIONS",
    "DEMO_LOGIN",
    "SCHEMES",
    "Configuration",
    "LoadResult",
    "RestartResult",
    "RevocationResult",
    "Scheme",
    "SuccessRates",
    "compromised_account",
    "restart_survival",
    "success_rates",
    "under_load",
]
