"""Does a login hold in a fleet? Chapter 8's first two experiments, as plain data (chapter 8 draws them).

- `success_rates`: one login, then `GET /api/profile` through a round-robin balancer, for N servers.
- `restart_survival`: does a session survive a server restart, a store restart; does its TTL keep counting?
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..server import CourseServer
from ..stores import Store
from .client import Visitor
from .fleet import ROUNDS, Fleet, FleetError, announce, draw_secret
from .resulttable import ResultTable
from .sharedstore import SharedStore

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
                  store_url: str | None = None, configurations: Sequence[Configuration] = CONFIGURATIONS,
                  progress: bool = False) -> SuccessRates:
    """For each configuration and N: log in once through the balancer, then send N x `requests_per_server`
    profile requests through it; the share answered 200. `store_url`: the shared Redis (default: fakeredis's
    TCP server, started here). `progress`: print each configuration's key as its fleet is done."""
    counts = sorted(set(counts))
    rates: dict[str, list[float]] = {}
    shared = None if store_url else SharedStore("fakeredis").start()
    try:
        url = store_url or shared.url  # type: ignore[union-attr]
        announce(progress, f"{len(configurations)} fleets of {max(counts)} servers:")
        for configuration in configurations:
            fleet = Fleet(max(counts), mode=configuration.mode, store=_store_for(configuration, url),
                          secret=configuration.secret, balancer=balancer, bcrypt_rounds=ROUNDS)
            with fleet:
                rates[configuration.key] = [_success_rate(fleet.use(n), n * requests_per_server) for n in counts]
            announce(progress, configuration.key)
        announce(progress, "done", end="\n")
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


def answer(response: Any) -> str:
    """The gist of a mini-server's JSON answer: the error, the user's name, or the message."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:40]
    if not isinstance(body, dict):
        return str(body)[:40]
    user = body.get("user") if isinstance(body.get("user"), dict) else None
    return body.get("error") or (f"user {user.get('name')}" if user else "") or str(body.get("message", ""))


def served_by(fleet: Fleet, call: Any) -> tuple[Any, int]:
    """Make one request through the builtin balancer; return the response and the server (1-based) it went to."""
    before = list(fleet.balancer.counts)
    response = call()
    return response, next(i for i, (old, new) in enumerate(zip(before, fleet.balancer.counts)) if new > old) + 1


def exchanges(key: str, servers: int = 3, profiles: int = 3) -> ResultTable:
    """The requests behind one point of `success_rates`: a login, then `profiles` profile requests, through
    a round-robin balancer in front of `servers` servers set up as configuration `key`."""
    configuration = next((c for c in CONFIGURATIONS if c.key == key), None)
    if configuration is None:
        raise ValueError(f"configuration must be one of {', '.join(c.key for c in CONFIGURATIONS)}, not {key!r}")
    store = "shared" if configuration.store == "shared" else "memory"
    rows = []
    with Fleet(servers, mode=configuration.mode, store=store, secret=configuration.secret,
               bcrypt_rounds=ROUNDS) as fleet, Visitor(fleet.url, configuration.mode) as visitor:
        for call in [visitor.login] + [visitor.profile] * profiles:
            response, server = served_by(fleet, call)
            rows.append((f"{response.request.method} {response.request.url.path}", f"server {server}",
                         response.status_code, answer(response)))
    return ResultTable.of(("request", "balancer sent it to", "status", "answer"), rows,
                          caption=f"{configuration.label}: {servers} servers, round-robin")


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
