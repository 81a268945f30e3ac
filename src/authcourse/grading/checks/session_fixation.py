"""Exercise 09: session fixation. A new id at login; moving a session to a new id keeps its data."""

from __future__ import annotations

import secrets
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ...sessions import Session, SessionManager, session_key
from ..remote import Remote, RemoteServer
from ..runtime import Exercise, expect
from .support import ALICE, BOB, cookie_value, expect_status, login, request, shown


def login_context(remote: Remote) -> AbstractContextManager[RemoteServer]:
    return nullcontext(remote.start("hooks", mode="session", hooks={"login": "login"}))


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


class Regenerating:
    """The learner's `regenerate(sessions, session)`, called in the kernel on a session of the shared store;
    the judge reads the result itself, with its own SessionManager over that store."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.sessions = SessionManager(remote.store, remote.secret)


REGENERATE = Exercise("fixation-regenerate", ("regenerate",), context=lambda remote: nullcontext(Regenerating(remote)))


def moved(regenerating: Regenerating) -> tuple[Session, Session]:
    """The old session and the one regenerate returned (as ids: the judge loads them itself)."""
    result = regenerating.remote.call("regenerate")
    expect(result["type"] == "Session", f"regenerate must return the new Session, not {result['type']}")
    return Session(result["old"], 2, "admin", 0, 0), Session(str(result["new"]), 2, "admin", 0, 0)


def load(regenerating: Regenerating, session: Session) -> Session | None:
    return regenerating.sessions.load_session(regenerating.sessions.sign(session.id))


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
    _, new = moved(manager)
    loaded = load(manager, new)
    expect(loaded is not None, "the new id loads nothing")
    expect(abs(loaded.created_at - (time.time() - 3 * 3600)) < 60,
           "created_at was reset to now: the session could live forever")
