"""Hidden cases of exercise 08, shared-store."""

from __future__ import annotations

from authcourse.grading.checks.shared_store import EXERCISE, Fleet, round_robin
from authcourse.grading.checks.support import cookie_value, expect_status, login, request
from authcourse.grading.runtime import expect


@EXERCISE.case("with 2 servers too, a login on the last is honoured by the first", hidden=True)
def two(fleet: Fleet) -> None:
    servers = fleet.start(2)
    expect(len(servers) == 2, f"start_servers(2) gave {len(servers)} servers")
    round_robin(fleet, servers, 2, cookie_value(login(servers[-1])))


@EXERCISE.case("two fleets started one after the other each work", hidden=True)
def again(fleet: Fleet) -> None:
    first, second = fleet.start(2), fleet.start(2)
    round_robin(fleet, second, 1, cookie_value(login(second[0])))
    round_robin(fleet, first, 1, cookie_value(login(first[1])))


@EXERCISE.case("a server that stops does not take the sessions with it: the others still know them", hidden=True)
def one_stops(fleet: Fleet) -> None:
    servers = fleet.start(3)
    expect(len(servers) == 3, f"start_servers(3) gave {len(servers)} running servers")
    sid = cookie_value(login(servers[0]))
    servers[0].stop()
    for number in (1, 2):
        expect_status(request(servers[number], "GET", "/api/profile", headers={"Cookie": f"sid={sid}"}), 200,
                      why="sessions live in the shared store, not in the server that created them")
