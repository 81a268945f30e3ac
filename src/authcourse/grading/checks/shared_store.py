"""Exercise 08: several servers behind a round-robin balancer keep a user logged in."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..remote import Remote, RemoteServer
from ..runtime import Exercise, expect
from .support import cookie_value, expect_status, login, request

SERVERS = 3


class Fleet:
    """The learner's `start_servers(count)`, called in the kernel; its servers as the judge reaches them."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.one_store = self.one_secret = True

    def start(self, count: int) -> list[RemoteServer]:
        started = self.remote.call("fleet", count=count)
        self.one_store, self.one_secret = bool(started["one_store"]), bool(started["one_secret"])
        self.running = [bool(entry["running"]) for entry in started["servers"]]
        self.modes = [entry["mode"] for entry in started["servers"]]
        return [self.remote.server(entry) for entry in started["servers"] if entry["running"]]


@contextmanager
def context(remote: Remote) -> Iterator[Fleet]:
    yield Fleet(remote)


EXERCISE = Exercise("shared-store", ("start_servers",), context=context)


def diagnose(fleet: Fleet) -> str:
    if not fleet.one_store:
        return "each server has a store of its own: give them one shared Store (store=...)"
    if not fleet.one_secret:
        return "they share the store but not the secret that signs the cookie: pass the same secret= to each"
    return "look at what differs between the servers"


def round_robin(fleet: Fleet, servers: list[Any], rounds: int, sid: str | None) -> None:
    balancer = itertools.cycle(range(len(servers)))
    for _ in range(rounds * len(servers)):
        number = next(balancer)
        response = request(servers[number], "GET", "/api/profile", headers={"Cookie": f"sid={sid}"})
        if response.status_code != 200:
            expect_status(
                response,
                200,
                why=f"server {number} refused the cookie: " + diagnose(fleet),
            )


@EXERCISE.case(f"start_servers({SERVERS}) returns {SERVERS} running session servers")
def running(fleet: Fleet) -> None:
    servers = fleet.start(SERVERS)
    expect(len(fleet.running) == SERVERS, f"got {len(fleet.running)} servers")
    expect(all(fleet.running), "not every server is running: call .start()")
    for number, server in enumerate(servers):  # judged over HTTP, not on what the kernel reports
        expect_status(request(server, "GET", "/health"), 200, why=f"server {number} must answer")
        expect(cookie_value(login(server)), f"server {number} set no sid cookie at login: it must be a session server")


@EXERCISE.case("a login on server 0 is honoured by every server, round robin")
def honoured(fleet: Fleet) -> None:
    servers = fleet.start(SERVERS)
    expect(len(servers) == SERVERS, f"{len(servers)} running servers")
    round_robin(fleet, servers, 2, cookie_value(login(servers[0])))


@EXERCISE.case("a logout on server 1 ends the session on every server")
def logout(fleet: Fleet) -> None:
    servers = fleet.start(SERVERS)
    expect(len(servers) == SERVERS, f"{len(servers)} running servers")
    sid = cookie_value(login(servers[0]))
    expect_status(request(servers[1], "POST", "/logout", headers={"Cookie": f"sid={sid}"}), 200)
    for number, server in enumerate(servers):
        response = request(server, "GET", "/api/profile", headers={"Cookie": f"sid={sid}"})
        expect_status(response, 401, why=f"server {number} still knows the session")
