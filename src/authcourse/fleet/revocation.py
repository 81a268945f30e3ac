"""A compromised account in a fleet: after "revoke", how long until a stolen credential fails on
every server, and what each scheme costs per request (chapter 8 draws it, the tests assert it).
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ..server import CourseServer
from ..stores import Store
from .client import Visitor
from .fleet import ROUNDS, Fleet, FleetError, announce
from .resulttable import ResultTable
from .sharedstore import SharedStore
from .sharing import answer

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
    microseconds_per_request: float  # authenticate(), in process, fleet's store; a JWT's signature checked each time
    note: str


def compromised_account(servers: int = 3, *, balancer: str = "builtin", store_url: str | None = None,
                        window: float = 0.5, schemes: Sequence[Scheme] = SCHEMES,
                        cost_repeats: int = 200, progress: bool = False) -> list[RevocationResult]:
    """An attacker holds a copy of the victim's credential. The victim revokes through the balancer;
    every server is then asked directly, again and again, until all refuse the stolen copy (or `window`
    seconds pass). `progress`: print each scheme's key as its fleet is done."""
    results = []
    shared = None if store_url else SharedStore("fakeredis").start()
    try:
        url = store_url or shared.url  # type: ignore[union-attr]
        announce(progress, f"{len(schemes)} fleets of {servers} servers:")
        for scheme in schemes:
            # signature_cache=False: every request checks the JWT's signature, so the cost is the one a
            # server that remembers nothing pays (chapter 4b shows what remembering saves)
            with Fleet(servers, mode=scheme.mode, revocation=scheme.revocation, store=url, secret="shared",
                       balancer=balancer, bcrypt_rounds=ROUNDS, signature_cache=False) as fleet:
                results.append(_race(fleet, scheme, window, cost_repeats))
            announce(progress, scheme.key)
        announce(progress, "done", end="\n")
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


def revocation_exchanges(key: str, servers: int = 3) -> ResultTable:
    """The requests behind one row of `compromised_account`: the stolen copy tried on each server, the
    revoke through the balancer, then the stolen copy on each server again."""
    scheme = next((s for s in SCHEMES if s.key == key), None)
    if scheme is None:
        raise ValueError(f"scheme must be one of {', '.join(s.key for s in SCHEMES)}, not {key!r}")
    rows = []
    with Fleet(servers, mode=scheme.mode, revocation=scheme.revocation, store="shared", secret="shared",
               bcrypt_rounds=ROUNDS) as fleet, \
            Visitor(fleet.url, scheme.mode) as victim, Visitor(fleet.url, scheme.mode) as attacker:
        victim.login()
        attacker.header = dict(victim.header)  # the stolen copy

        def round_of_thefts(when: str) -> None:
            for number, server in enumerate(fleet.servers, 1):
                response = attacker.profile(server.url)
                rows.append((when, "attacker", f"GET /api/profile at server {number}", response.status_code,
                             answer(response)))

        round_of_thefts("before")
        response = victim.request("POST", scheme.revoke)
        rows.append(("revoke", "victim", f"POST {scheme.revoke} via the balancer", response.status_code,
                      answer(response)))
        round_of_thefts("after")
    return ResultTable.of(("when", "who", "request", "status", "answer"), rows, caption=scheme.label)


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
    call()  # a first call, so that the timed ones find everything loaded
    holder.store = counting
    try:
        call()
        reads = counting.calls
    finally:
        holder.store = counting.store
    seconds = min(timeit.repeat(call, number=max(1, repeats // 5), repeat=5)) / max(1, repeats // 5)
    return reads, seconds * 1e6
