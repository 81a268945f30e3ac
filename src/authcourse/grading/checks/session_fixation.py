"""Exercise 09: session fixation. A new id at login; moving a session to a new id keeps its data."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ...clock import now
from ...hooks import Hooks
from ...sessions import Session, SessionManager, session_key, user_sessions_key
from ...stores import MemoryStore
from ..runtime import Exercise, expect
from .support import ALICE, BOB, cookie_value, expect_status, live_server, login, request, shown


@contextmanager
def login_context(namespace: Mapping[str, Any]) -> Iterator[Any]:
    with live_server("session", Hooks(login=namespace["login"])) as server:
        yield server


LOGIN = Exercise("fixation-login", ("login",), context=login_context)


def profile(server: Any, sid: str | None) -> Any:
    return request(server, "GET", "/api/profile", headers={"Cookie": f"sid={sid}"})


def session_id(sid: str | None) -> str | None:
    return sid.rpartition(".")[0] if sid else None


@LOGIN.case("login sets a session cookie that works")
def works(server: Any) -> None:
    response = login(server)
    sid = cookie_value(response)
    expect(sid, f"no sid cookie in the login response ({shown(response)})")
    expect_status(profile(server, sid), 200, why="set the signed id: auth.sessions.sign(session.id)")


@LOGIN.case("a cookie planted by an attacker: the victim gets a different id")
def planted(server: Any) -> None:
    attacker = cookie_value(login(server, BOB))
    victim = cookie_value(login(server, ALICE, headers={"Cookie": f"sid={attacker}"}))
    expect(victim, "no sid cookie in the login response")
    expect(
        session_id(victim) != session_id(attacker), "the victim's session kept the planted id: mint a new one at login"
    )


@LOGIN.case("the planted cookie does not log the attacker in as the victim")
def attacker_out(server: Any) -> None:
    attacker = cookie_value(login(server, BOB))
    victim = login(server, ALICE, headers={"Cookie": f"sid={attacker}"})
    expect(victim.status_code == 200 and cookie_value(victim), f"the victim's login answered {shown(victim)}")
    response = profile(server, attacker)
    expect(
        response.status_code == 401,
        f"the planted cookie now answers {shown(response)}: destroy the session it points to",
    )


@LOGIN.case("an id made up by the attacker is never adopted")
def made_up(server: Any) -> None:
    invented = secrets.token_urlsafe(32)
    victim = cookie_value(login(server, ALICE, headers={"Cookie": f"sid={invented}"}))
    expect(victim and session_id(victim) != invented, "login reused the id the client proposed")
    expect(server.store.get(session_key(invented)) is None, "a session now lives under the attacker's id")


@LOGIN.case("the new session is listed for the user (log out everywhere ends it)", hidden=True)
def indexed(server: Any) -> None:
    sid = cookie_value(login(server))
    expect_status(request(server, "POST", "/logout-all", headers={"Cookie": f"sid={sid}"}), 200)
    expect_status(profile(server, sid), 401, why="create the session with auth.sessions.create_session")


@LOGIN.case("the cookie keeps its attributes: HttpOnly, SameSite=Lax", hidden=True)
def attributes(server: Any) -> None:
    header = ";".join(login(server).headers.get_list("set-cookie")).lower()
    expect("httponly" in header and "samesite=lax" in header, f"Set-Cookie: {header}: start from auth.cookie")


# regenerate(sessions, session) -> Session, called directly -----------------------------------


class Manager:
    def __init__(self) -> None:
        self.sessions = SessionManager(MemoryStore(), secrets.token_bytes(32))

    def old(self) -> Session:
        return self.sessions.create_session(2, "admin", created_at=now() - 3 * 3600)  # logged in three hours ago


@contextmanager
def regenerate_context(namespace: Mapping[str, Any]) -> Iterator[Any]:
    manager = Manager()
    manager.regenerate = namespace["regenerate"]  # type: ignore[attr-defined]
    yield manager


REGENERATE = Exercise("fixation-regenerate", ("regenerate",), context=regenerate_context)


def moved(manager: Any) -> tuple[Session, Session]:
    old = manager.old()
    new = manager.regenerate(manager.sessions, old)
    expect(isinstance(new, Session), f"regenerate must return the new Session, not {type(new).__name__}")
    return old, new


def load(manager: Any, session: Session) -> Session | None:
    return manager.sessions.load_session(manager.sessions.sign(session.id))


@REGENERATE.case("the session gets a new id")
def new_id(manager: Any) -> None:
    old, new = moved(manager)
    expect(new.id != old.id, "the id did not change: an attacker who knew it still holds the session")


@REGENERATE.case("the old id no longer loads")
def old_dead(manager: Any) -> None:
    old, _ = moved(manager)
    expect(load(manager, old) is None, "the old id still loads a session: destroy it")


@REGENERATE.case("the new id loads the same user and role")
def same_user(manager: Any) -> None:
    _, new = moved(manager)
    loaded = load(manager, new)
    expect(loaded is not None, "the new id loads nothing: save the session under it")
    expect(
        (loaded.user_id, loaded.role) == (2, "admin"),
        f"the new session is user {loaded.user_id}, role {loaded.role}: keep them",
    )


@REGENERATE.case("created_at is kept (a new id does not restart the absolute timeout)")
def created_kept(manager: Any) -> None:
    old, new = moved(manager)
    loaded = load(manager, new)
    expect(loaded is not None, "the new id loads nothing")
    expect(abs(loaded.created_at - old.created_at) < 1, "created_at was reset to now: the session could live forever")


@REGENERATE.case("the user's session list holds the new id, not the old", hidden=True)
def index(manager: Any) -> None:
    old, new = moved(manager)
    members = manager.sessions.store.members(user_sessions_key(2))
    expect(new.id in members and old.id not in members, "log out everywhere would miss the new session")
