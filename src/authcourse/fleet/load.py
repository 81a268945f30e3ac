"""A fleet under load: many concurrent clients through the balancer, logins, profiles and logouts mixed.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..stores import Store, fakeredis_store
from .client import check_gateway, credential_header
from .fleet import ROUNDS, Fleet, FleetError

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
