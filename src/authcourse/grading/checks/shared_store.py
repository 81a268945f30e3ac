"""Exercise 08: several servers behind a round-robin balancer keep a user logged in."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..runtime import Exercise, expect
from .support import cookie_value, expect_status, login, request

SERVERS = 3


class Fleet:
    def __init__(self, start_servers: Any) -> None:
        self.start_servers = start_servers
        self.started: list[Any] = []

    def start(self, count: int) -> list[Any]:
        servers = list(self.start_servers(count))
        self.started += servers
        return servers

    def stop(self) -> None:
        for server in self.started:
            try:
                server.stop()
            except Exception:
                pass


@contextmanager
def context(namespace: Mapping[str, Any]) -> Iterator[Fleet]:
    fleet = Fleet(namespace["start_servers"])
    try:
        yield fleet
    finally:
        fleet.stop()


EXERCISE = Exercise("shared-store", ("start_servers",), context=context)


def diagnose(servers: list[Any], first: Any, other: Any) -> str:
    if first.store is not other.store:
        return "each server has a store of its own: give them one shared Store (store=...)"
    if first.settings.secret is None or first.settings.secret != other.settings.secret:
        return "they share the store but not the secret that signs the cookie: pass the same secret= to each"
    return "look at what differs between the servers"


def round_robin(servers: list[Any], rounds: int, sid: str) -> None:
    balancer = itertools.cycle(range(len(servers)))
    for _ in range(rounds * len(servers)):
        number = next(balancer)
        response = request(servers[number], "GET", "/api/profile", headers={"Cookie": f"sid={sid}"})
        if response.status_code != 200:
            expect_status(
                response,
                200,
                why=f"server {number} refused the cookie: " + diagnose(servers, servers[0], servers[number]),
            )


@EXERCISE.case(f"start_servers({SERVERS}) returns {SERVERS} running session servers")
def running(fleet: Fleet) -> None:
    servers = fleet.start(SERVERS)
    expect(len(servers) == SERVERS, f"got {len(servers)} servers")
    expect(all(server.running for server in servers), "not every server is running: call .start()")
    expect(all(server.settings.mode == "session" for server in servers), "the servers must be in session mode")


@EXERCISE.case("a login on server 0 is honoured by every server, round robin")
def honoured(fleet: Fleet) -> None:
    servers = fleet.start(SERVERS)
    round_robin(servers, 2, cookie_value(login(servers[0])))


@EXERCISE.case("a logout on server 1 ends the session on every server")
def logout(fleet: Fleet) -> None:
    servers = fleet.start(SERVERS)
    sid = cookie_value(login(servers[0]))
    expect_status(request(servers[1], "POST", "/logout", headers={"Cookie": f"sid={sid}"}), 200)
    for number, server in enumerate(servers):
        response = request(server, "GET", "/api/profile", headers={"Cookie": f"sid={sid}"})
        expect_status(response, 401, why=f"server {number} still knows the session")


@EXERCISE.case("with 2 servers too, a login on the last is honoured by the first", hidden=True)
def two(fleet: Fleet) -> None:
    servers = fleet.start(2)
    expect(len(servers) == 2, f"start_servers(2) gave {len(servers)} servers")
    round_robin(servers, 2, cookie_value(login(servers[-1])))


@EXERCISE.case("two fleets started one after the other each work", hidden=True)
def again(fleet: Fleet) -> None:
    first, second = fleet.start(2), fleet.start(2)
    round_robin(second, 1, cookie_value(login(second[0])))
    round_robin(first, 1, cookie_value(login(first[1])))
