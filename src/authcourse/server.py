"""`CourseServer`: the mini-server in a background thread, for notebooks, tests and tools.

Runs uvicorn in a daemon thread on a socket we bind ourselves, so a port in use fails at
once in the caller (uvicorn would `sys.exit()` inside its thread and leave us waiting), port 0
gives a free port, and several servers can run side by side in one kernel. Its logs are off:
in a notebook, any log line lands in whichever cell happens to be running.

A notebook need not stop its servers: every server still running is stopped when the
interpreter (the notebook's kernel) exits, so a widget can keep using a chapter's server
after Run All.
"""

from __future__ import annotations

import asyncio
import atexit
import socket
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI

from .app import create_app
from .settings import Settings
from .stores import Store
from .users import UserDirectory

START_TIMEOUT = 10.0  # seconds
STOP_TIMEOUT = 5.0  # seconds


_RUNNING: set[CourseServer] = set()  # started and not yet stopped (held, like the threads they run)


@atexit.register
def stop_running_servers() -> None:
    """Stop every server still running (registered to run when the interpreter exits)."""
    for server in list(_RUNNING):
        server.stop()


class ServerStartError(RuntimeError):
    """Raised when the background server does not come up (its port is taken, or it crashed)."""


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # only the main thread may touch signals
        pass

    async def main_loop(self) -> None:
        # uvicorn looks at should_exit every 100 ms; every 10 ms makes stop() that much quicker.
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            await asyncio.sleep(0.01)


class CourseServer:
    """One mini-server, started and stopped from Python; `with CourseServer(...) as server:`."""

    def __init__(self, mode: str = "session", *, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        self.settings = Settings(mode=mode, **settings)  # type: ignore[arg-type]
        self.host = host
        self.port = port
        self.app: FastAPI | None = None
        self._server: _ThreadServer | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        if self._socket is None:
            raise RuntimeError("the server is not running: call start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def store(self) -> Store:
        """The store behind this server (sessions, denylist, token versions), to look inside."""
        if self.app is None:
            raise RuntimeError("the server is not running: call start() first")
        return self.app.state.store

    @property
    def users(self) -> UserDirectory:
        """The server's users: the two demo users, plus any added with `users.add_user(...)`."""
        if self.app is None:
            raise RuntimeError("the server is not running: call start() first")
        return self.app.state.users

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(2048)
        except OSError as error:
            sock.close()
            raise ServerStartError(f"cannot listen on {self.host}:{self.port}: {error.strerror or error}") from error
        sock.set_inheritable(True)
        return sock

    def start(self) -> CourseServer:
        """Start serving; return once the server answers, or raise ServerStartError."""
        if self.running:
            return self
        self.app = self.build_app()
        sock = self._bind()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="critical",
            access_log=False,
            lifespan="off",
            proxy_headers=False,
            timeout_graceful_shutdown=1,
        )
        server = _ThreadServer(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"authcourse:{self.port}")
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        _RUNNING.add(self)
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(f"the server on port {self.port} did not start")
            time.sleep(0.001)
        return self

    def build_app(self) -> FastAPI:
        """The app this server runs: the course's mini-server for its settings."""
        return create_app(self.settings)

    def stop(self) -> None:
        """Stop serving and release the thread and the port (safe to call twice)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
            if isinstance(self.settings.store, str) and "://" in self.settings.store and self.app is not None:
                self.app.state.store.close()  # the Redis connections this server opened from its URL
        self._server = self._thread = self._socket = None
        _RUNNING.discard(self)

    def __enter__(self) -> CourseServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._socket is not None else "stopped"
        s = self.settings
        return f"<CourseServer {s.mode} revocation={s.revocation} store={s.store_name} {where}>"
