"""Hidden cases of exercise 09, session fixation (login and regenerate)."""

from __future__ import annotations

from typing import Any

from authcourse.grading.checks.session_fixation import LOGIN, REGENERATE, load, moved, profile
from authcourse.grading.checks.support import ALICE, BOB, cookie_value, expect_status, login, request
from authcourse.grading.runtime import expect
from authcourse.sessions import stored_id, user_sessions_key


@LOGIN.case("the new session is listed for the user (log out everywhere ends it)", hidden=True)
def indexed(server: Any) -> None:
    sid = cookie_value(login(server))
    expect_status(request(server, "POST", "/logout-all", headers={"Cookie": f"sid={sid}"}), 200)
    expect_status(profile(server, sid), 401, why="create the session with auth.sessions.create_session")


@LOGIN.case("the cookie keeps its attributes: HttpOnly, SameSite=Lax", hidden=True)
def attributes(server: Any) -> None:
    header = ";".join(login(server).headers.get_list("set-cookie")).lower()
    expect("httponly" in header and "samesite=lax" in header, f"Set-Cookie: {header}: start from auth.cookie")


@LOGIN.case("after the attack, the victim's new cookie is the victim (Alice), not the attacker (Bob)", hidden=True)
def victim_identity(server: Any) -> None:
    attacker = cookie_value(login(server, BOB))
    victim = cookie_value(login(server, ALICE, headers={"Cookie": f"sid={attacker}"}))
    response = profile(server, victim)
    expect_status(response, 200)
    name = response.json().get("user", {}).get("name")
    expect(name == "Alice",
           f"the victim's new cookie gives {name}'s profile: the session must be the one who logged in")
    admin = request(server, "GET", "/api/admin", headers={"Cookie": f"sid={victim}"})
    expect_status(admin, 403, "Forbidden", why="the victim must not inherit the planted session's role")


@REGENERATE.case("the user's session list holds the new id, not the old", hidden=True)
def index(manager: Any) -> None:
    old, new = moved(manager)
    members = manager.sessions.store.members(user_sessions_key(2))
    expect(stored_id(new.id) in members and stored_id(old.id) not in members, "log out everywhere would miss the new session")


@REGENERATE.case("regenerating the new session again kills the first new id too", hidden=True)
def chain(manager: Any) -> None:
    old, new = moved(manager)
    expect(load(manager, new) is not None, "the new id loads nothing")
    expect(load(manager, old) is None, "the old id still loads")
