"""Hidden cases of exercise 14, the password change that ends the other sessions."""

from __future__ import annotations

from typing import Any

from authcourse.grading.checks.password_change import EXERCISE, NEW_PASSWORD, change, new_cookie, profile, sid_of
from authcourse.grading.checks.support import BOB, expect_status, request
from authcourse.grading.runtime import expect


@EXERCISE.case("three other devices: every one of them is out", hidden=True)
def all_out(servers: Any) -> None:
    with servers.fresh() as server:
        others = [sid_of(server, device=name) for name in ("a phone", "a tablet", "an old laptop")]
        change(server, sid_of(server))
        for sid in others:
            expect_status(profile(server, sid), 401, "Not authenticated", why="end every session of the user")


@EXERCISE.case("the new session is listed for the user (log out everywhere ends it)", hidden=True)
def indexed(servers: Any) -> None:
    with servers.fresh() as server:
        cookie = new_cookie(server, sid_of(server))
        expect_status(request(server, "POST", "/logout-all", headers={"Cookie": f"sid={cookie}"}), 200)
        expect_status(profile(server, cookie), 401, why="create the new session with auth.sessions.create_session")


@EXERCISE.case("a second change, from the new cookie, works and ends the first new cookie", hidden=True)
def twice(servers: Any) -> None:
    with servers.fresh() as server:
        first = new_cookie(server, sid_of(server))
        body = {"current_password": NEW_PASSWORD, "new_password": "yet-another-password"}
        again = request(server, "POST", "/account/password", json=body, headers={"Cookie": f"sid={first}"})
        expect_status(again, 200, why="the new session must be a real one, usable for the next change")
        expect_status(profile(server, first), 401, "Not authenticated", why="every change moves the caller to a new id")


@EXERCISE.case("the new session keeps the device it was made from (the sessions list shows it)", hidden=True)
def same_device(servers: Any) -> None:
    with servers.fresh() as server:
        laptop = "Firefox on a laptop"
        cookie = new_cookie(server, sid_of(server, device=laptop), laptop)
        listed = request(server, "GET", "/sessions", headers={"Cookie": f"sid={cookie}"})
        expect_status(listed, 200)
        devices = [row.get("device") for row in listed.json().get("sessions", [])]
        expect(devices == ["Firefox on a laptop"],
               f"the sessions list shows {devices}: pass device=principal.session.device to create_session")


@EXERCISE.case("the new cookie keeps its attributes: HttpOnly, SameSite=Lax", hidden=True)
def attributes(servers: Any) -> None:
    with servers.fresh() as server:
        response, _ = change(server, sid_of(server))
        header = ";".join(response.headers.get_list("set-cookie")).lower()
        expect("httponly" in header and "samesite=lax" in header, f"Set-Cookie: {header}: start from auth.cookie")


@EXERCISE.case("bob's change leaves alice's sessions alone", hidden=True)
def bob_changes(servers: Any) -> None:
    with servers.fresh() as server:
        alice = sid_of(server)
        bob = sid_of(server, BOB)
        body = {"current_password": BOB[1], "new_password": "a-new-password-for-bob"}
        response = request(server, "POST", "/account/password", json=body, headers={"Cookie": f"sid={bob}"})
        expect_status(response, 200)
        expect_status(profile(server, alice), 200, why="end the sessions of principal.user only")
