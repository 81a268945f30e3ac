"""The "short access token + refresh" row of the compromised-account comparison, measured.

`measure_refresh_figures()` starts a token server with refresh tokens, logs in as a victim and
keeps a copy of both tokens (the thief's), logs out, and then finds out, with `later()`, how long
each copy keeps working. It also times a protected request and a refresh over real HTTP and counts
the store operations of each. Chapter 10 shows the figures; chapter 8's table can call it too.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import httpx

from ..clock import later
from ..server import CourseServer
from .watchedstore import WatchedStore

ALICE = {"email": "alice@example.com", "password": "wonderland"}


@dataclass(frozen=True)
class Spread:
    """A cost measured in several runs: the median and the range, in microseconds."""

    median: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.median:.0f} µs (runs: {self.low:.0f} µs to {self.high:.0f} µs)"


@dataclass(frozen=True)
class RefreshFigures:
    access_lifetime: float  # seconds
    stolen_access_works_for: float  # seconds after logout, measured to within `resolution`
    stolen_refresh_works_for: float  # seconds after logout
    resolution: float  # seconds between probes
    store_ops_per_request: int  # on GET /api/profile
    store_ops_per_refresh: int  # on POST /refresh
    request_cost: Spread  # one GET /api/profile over HTTP
    refresh_cost: Spread  # one POST /refresh over HTTP

    def cost_per_request(self, requests_per_access_lifetime: float) -> float:
        """Microseconds per request once the refresh every `access_lifetime` is spread over the requests."""
        return self.request_cost.median + self.refresh_cost.median / max(requests_per_access_lifetime, 1.0)


def _works_for(check, limit: float, step: float) -> float:
    """The first probe time (seconds from now, in `step`s) at which `check()` is False; `limit` if never."""
    elapsed = 0.0
    while elapsed < limit:
        with later(seconds=elapsed):
            if not check():
                return elapsed
        elapsed += step
    return limit


def _spread(samples: list[float]) -> Spread:
    return Spread(statistics.median(samples), min(samples), max(samples))


def measure_refresh_figures(*, requests: int = 200, runs: int = 5, resolution: float = 30.0) -> RefreshFigures:
    """Measure time to revoke and cost per request for short access tokens + refresh (token mode)."""
    store = WatchedStore("memory")
    with CourseServer("token", refresh=True, store=store, bcrypt_rounds=4) as server, httpx.Client(base_url=server.url) as http:
        login = http.post("/login", json=ALICE)
        access, refresh = login.json()["token"], login.cookies["refresh"]
        http.cookies.clear()
        bearer = {"Authorization": f"Bearer {access}"}

        store.drain()
        http.get("/api/profile", headers=bearer)
        request_ops = len(store.drain())
        request_runs = []
        for _ in range(runs):
            started = time.perf_counter()
            for _ in range(requests):
                http.get("/api/profile", headers=bearer)
            request_runs.append((time.perf_counter() - started) / requests * 1e6)

        refresh_runs, refresh_ops = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            for _ in range(requests // 10):
                response = http.post("/refresh", headers={"Cookie": f"refresh={refresh}"})
                refresh = response.cookies["refresh"]
                http.cookies.clear()
            refresh_runs.append((time.perf_counter() - started) / (requests // 10) * 1e6)
            store.drain()
            response = http.post("/refresh", headers={"Cookie": f"refresh={refresh}"})
            refresh, refresh_ops = response.cookies["refresh"], len(store.drain())
            http.cookies.clear()
        access = response.json()["token"]
        bearer = {"Authorization": f"Bearer {access}"}

        stolen_access, stolen_refresh = access, refresh
        http.post("/logout", headers=bearer)
        http.cookies.clear()
        lifetime = server.settings.token_lifetime
        limit = lifetime * 4

        def access_works() -> bool:
            return http.get("/api/profile", headers={"Authorization": f"Bearer {stolen_access}"}).status_code == 200

        def refresh_works() -> bool:
            answer = http.post("/refresh", headers={"Cookie": f"refresh={stolen_refresh}"})
            http.cookies.clear()
            return answer.status_code == 200

        return RefreshFigures(
            access_lifetime=lifetime,
            stolen_access_works_for=_works_for(access_works, limit, resolution),
            stolen_refresh_works_for=_works_for(refresh_works, limit, resolution),
            resolution=resolution,
            store_ops_per_request=request_ops,
            store_ops_per_refresh=refresh_ops,
            request_cost=_spread(request_runs),
            refresh_cost=_spread(refresh_runs),
        )
