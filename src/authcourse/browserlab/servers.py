"""`LabServer`: one mini-server app with the lab's pages, on http and https at once, in background threads.

The browser reaches it under test host names (bank.test, app.bank.test, evil.test), all mapped
to 127.0.0.1 inside Chromium; `url("evil.test", "/lab/other")` builds such an address with the
right port for its scheme. Ports never make a site, so one port per scheme would do; a second http
port (written :8080 in port-less URLs) lets the lab show that.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import threading
import time
from dataclasses import replace
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from ..app import create_app
from ..settings import Settings
from . import crossorigin
from .pages import LabLog, router
from .tls import LabCertificate, create_certificate

START_TIMEOUT = 10.0  # seconds
BANK, SAME_SITE, OTHER_SITE = "bank.test", "app.bank.test", "evil.test"
LISTENERS = ("http", "https", "http-alt")
ALT_PORT = 8080  # in port-less URLs, http://host:8080/ means the lab's second http port


class LabStartError(RuntimeError):
    """Raised when a lab listener does not come up."""


class QuietServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # only the main thread may touch signals
        pass

    async def main_loop(self) -> None:
        while not await self.on_tick(0):
            await asyncio.sleep(0.01)


class LabServer:
    """The mini-server in `mode`, plus /lab pages; `with LabServer("session") as lab:`."""

    def __init__(
        self, mode: str = "session", *, cookie_same_site: str | None = "keep", cors_origins: str | None = None,
        **settings: Any,
    ) -> None:
        settings.setdefault("bcrypt_rounds", 4)  # a lab login need not cost a quarter second
        settings.setdefault("secure_cookies", True)  # the lab's pages that log in are https
        self.settings = Settings(mode=mode, **settings)  # type: ignore[arg-type]
        self.cookie_same_site = cookie_same_site  # "keep" the mode's own, or Strict / Lax / None / None-as-absent
        self.cors_origins = cors_origins  # a host name whose pages may call the API with credentials (any port)
        self.ports: dict[str, int] = {}
        self.app: FastAPI | None = None
        self.certificate: LabCertificate | None = None
        self._listeners: list[tuple[QuietServer, threading.Thread, socket.socket]] = []

    @property
    def log(self) -> LabLog:
        if self.app is None:
            raise RuntimeError("the lab is not running: call start() first")
        return self.app.state.lab

    def localize(self, url: str) -> str:
        """A port-less URL (https://bank.test/x) with the lab's port for its scheme filled in
        (http://bank.test:8080/x: the lab's second http port)."""
        scheme, rest = url.split("://", 1)
        host, _, path = rest.partition("/")
        if host.endswith(f":{ALT_PORT}") and scheme == "http":
            return self.url(host.rsplit(":", 1)[0], "/" + path, "http-alt")
        return self.url(host, "/" + path, scheme)

    def url(self, host: str = BANK, path: str = "/", scheme: str = "https") -> str:
        """An address of the lab as the browser sees it, e.g. https://evil.test:PORT/lab/other
        (scheme http-alt: the second http port)."""
        if scheme not in self.ports:
            raise RuntimeError("the lab is not running: call start() first")
        return f"{scheme.split('-')[0]}://{host}:{self.ports[scheme]}{path}"

    def start(self) -> LabServer:
        if self._listeners:
            return self
        app = create_app(self.settings)
        app.include_router(router)
        app.state.lab = LabLog()
        crossorigin.install(app)
        auth = app.state.auth
        if self.cookie_same_site != "keep" and hasattr(auth, "cookie"):
            auth.cookie = replace(auth.cookie, same_site=self.cookie_same_site, secure=True)
        if self.cors_origins:
            app.add_middleware(CORSMiddleware, allow_origin_regex=rf"https?://{re.escape(self.cors_origins)}(:\d+)?",
                               allow_credentials=True, allow_headers=["authorization", "content-type"])
        self.app = app
        self.certificate = create_certificate()
        try:
            for listener in LISTENERS:
                self._listen(listener)
        except Exception:
            self.stop()
            raise
        return self

    def _listen(self, listener: str) -> None:
        assert self.app is not None and self.certificate is not None
        scheme = listener.split("-")[0]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        tls = {"ssl_certfile": str(self.certificate.cert_file), "ssl_keyfile": str(self.certificate.key_file)} \
            if scheme == "https" else {}
        config = uvicorn.Config(self.app, log_config=None, log_level="critical", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1, **tls)
        server = QuietServer(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"lab-{listener}")
        self.ports[listener] = sock.getsockname()[1]
        self._listeners.append((server, thread, sock))
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise LabStartError(f"the lab's {listener} listener did not start")
            time.sleep(0.001)

    def stop(self) -> None:
        for server, _, _ in self._listeners:
            server.should_exit = True
        for _, thread, sock in self._listeners:
            thread.join(5)
            sock.close()
        self._listeners.clear()
        self.ports.clear()
        if self.certificate is not None:
            shutil.rmtree(self.certificate.folder, ignore_errors=True)
            self.certificate = None

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
