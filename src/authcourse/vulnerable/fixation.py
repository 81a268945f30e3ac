"""DELIBERATELY VULNERABLE SESSION CODE, FOR TEACHING ONLY, ON LOOPBACK ONLY. NEVER USE OR EXPOSE IT.

########################################################################################
#  `VulnerableFixationServer` is a session server whose login adopts the session id   #
#  the client brought (session fixation, OWASP ASVS V7.2.4), for chapter 9. It        #
#  refuses to listen anywhere but loopback. Nothing else in the package imports this. #
########################################################################################
"""

from __future__ import annotations

import json
import types
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..app import create_app
from ..auth import SessionAuth, respond
from ..clock import now
from ..server import CourseServer
from .fence import vulnerable_require_loopback


def vulnerable_login_keeping_session_id(sessions: Any, cookie_value: str | None, user_id: int, role: str) -> str | None:
    """FLAW: a login that keeps the session the client already had and writes the user into it.

    Returns the session id it kept (None when there was none and a new one must be made).
    Whoever planted that id (session fixation, OWASP ASVS V7.2.4) is logged in as the user.
    `sessions` is a `SessionManager`; ours (`SessionAuth.login`) makes a new id instead.
    """
    session = sessions.load_session(cookie_value) if cookie_value else None
    if session is None:
        return None
    sessions.store.set(
        sessions.key_of(session.id),
        json.dumps({"user_id": user_id, "role": role, "created_at": session.created_at, "last_seen": now(),
                    "device": session.device}),
        ttl=sessions.idle_timeout,
    )
    return session.id


class VulnerableFixationServer(CourseServer):
    """A session-mode server whose login keeps the session id the client brought (session fixation)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        vulnerable_require_loopback(host)
        super().__init__("session", host=host, port=port, **settings)

    def build_app(self) -> FastAPI:
        app = create_app(self.settings)
        auth: SessionAuth = app.state.auth

        def vulnerable_login(self: SessionAuth, user, request: Request) -> JSONResponse:
            cookie_value = request.cookies.get("sid")
            kept = vulnerable_login_keeping_session_id(self.sessions, cookie_value, user.id, user.role)
            if kept is None:  # no session yet: a new one, as usual
                return SessionAuth.login(self, user, request)
            return respond({"message": "Logged in", "user": {"id": user.id, "name": user.name}})

        auth.login = types.MethodType(vulnerable_login, auth)  # type: ignore[method-assign]
        return app

    def __repr__(self) -> str:
        where = self.url if self._socket is not None else "stopped"
        return f"<VulnerableFixationServer DELIBERATELY VULNERABLE {where}>"
