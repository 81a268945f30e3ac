"""DELIBERATELY VULNERABLE SESSION STORE, FOR TEACHING ONLY, ON LOOPBACK ONLY. NEVER USE OR EXPOSE IT.

########################################################################################
#  `VulnerablePlainIdServer` is a session server that keeps session ids IN CLEAR in   #
#  its store, the way most session stores do, for chapter 14's "store dump" contrast: #
#  a copy of its store (plus the cookie-signing secret, which usually sits in the     #
#  same configuration) logs anyone in as anyone. It refuses to listen anywhere but    #
#  loopback. Nothing else in the package imports this.                               #
########################################################################################
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ..app import create_app
from ..auth import SessionAuth
from ..server import CourseServer
from ..sessions import SessionManager
from .fence import vulnerable_require_loopback


class PlainIdSessionManager(SessionManager):
    """FLAW: the store is keyed by the session id itself, `session:<id>`, not by its hash."""

    def stored_form(self, session_id: str) -> str:
        return session_id


class VulnerablePlainIdServer(CourseServer):
    """A session-mode server whose store holds the session ids in clear (the usual design, and the flaw)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        vulnerable_require_loopback(host)
        super().__init__("session", host=host, port=port, **settings)

    def build_app(self) -> FastAPI:
        app = create_app(self.settings)
        auth: SessionAuth = app.state.auth
        hashed = auth.sessions
        auth.sessions = PlainIdSessionManager(
            hashed.store,
            hashed._secret,
            idle_timeout=hashed.idle_timeout,
            absolute_timeout=hashed.absolute_timeout,
            touch_interval=hashed.touch_interval,
        )
        return app

    def __repr__(self) -> str:
        where = self.url if self._socket is not None else "stopped"
        return f"<VulnerablePlainIdServer DELIBERATELY VULNERABLE {where}>"
