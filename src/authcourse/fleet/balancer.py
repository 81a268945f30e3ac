"""A round-robin HTTP load balancer in this process: each request goes to the next server in turn.

Like nginx's upstream round-robin, the choice is made per request, not per connection: a client
that keeps its connection open still reaches every server in turn. It runs on uvicorn in a
thread, as `CourseServer` does, and forwards with httpx.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Sequence
from typing import Protocol

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..realservers.process import free_port

START_TIMEOUT = 10.0  # seconds
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}


class BalancerError(RuntimeError):
    """Raised when a balancer cannot start, or stops answering."""


class Balancer(Protocol):
    url: str

    def start(self) -> Balancer: ...

    def stop(self) -> None: ...


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:
        pass

    async def main_loop(self) -> None:  # look at should_exit every 10 ms, not 100: a quicker stop
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            await asyncio.sleep(0.01)


class BuiltinBalancer:
    """`with BuiltinBalancer(["http://127.0.0.1:8001", ...]) as lb: lb.url` forwards round-robin."""

    kind = "builtin"

    def __init__(self, upstreams: Sequence[str], *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not upstreams:
            raise BalancerError("a balancer needs at least one server")
        self.upstreams = list(upstreams)
        self.host = host
        self.port = port
        self.counts = [0] * len(self.upstreams)  # requests sent to each server
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._server: _ThreadServer | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def set_upstreams(self, upstreams: Sequence[str]) -> None:
        """Send the next requests round-robin to these servers instead (counts start again)."""
        if not upstreams:
            raise BalancerError("a balancer needs at least one server")
        with self._lock:
            self.upstreams = list(upstreams)
            self.counts = [0] * len(self.upstreams)
            self._turn = itertools.count()

    def _next(self) -> str:
        with self._lock:
            index = next(self._turn) % len(self.upstreams)
            self.counts[index] += 1
            return self.upstreams[index]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        request = Request(scope, receive)
        upstream = self._next()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        target = upstream + scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        assert self._client is not None
        body = await request.body()
        try:
            answer = await self._client.request(request.method, target, headers=headers, content=body)
        except httpx.HTTPError as error:
            why = f"{error.__class__.__name__}: {error}"
            response: Response = JSONResponse({"error": f"Bad gateway: {upstream} did not answer ({why})"}, 502)
        else:
            response = Response(answer.content, status_code=answer.status_code)
            for name, value in answer.headers.multi_items():
                if name.lower() not in HOP_BY_HOP:
                    response.headers.append(name, value)
        await response(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # A new connection to the server for every request, as nginx does unless told to keep
                # upstream connections alive: a kept-alive connection the server closes just as it is
                # reused fails the request, and a POST cannot safely be sent twice (a login, a logout).
                limits = httpx.Limits(max_connections=256, max_keepalive_connections=0)
                self._client = httpx.AsyncClient(timeout=10, limits=limits)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()  # its connections belong to this loop: close them on it
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start(self) -> BuiltinBalancer:
        self.port = self.port or free_port(self.host)
        config = uvicorn.Config(self, host=self.host, port=self.port, log_config=None, log_level="critical",
                                access_log=False, lifespan="on", timeout_graceful_shutdown=1)
        self._server = _ThreadServer(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name=f"authcourse-balancer:{self.port}")
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise BalancerError(f"the builtin balancer did not start on port {self.port}")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> BuiltinBalancer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def open_balancer(kind: str, upstreams: Sequence[str]) -> BuiltinBalancer:
    """A started balancer of that kind (`builtin` or `nginx`) in front of `upstreams`."""
    if kind == "builtin":
        return BuiltinBalancer(upstreams).start()
    if kind == "nginx":
        from ..realservers.nginx import NginxBalancer

        return NginxBalancer(upstreams).start()  # type: ignore[return-value]
    raise BalancerError(f"unknown balancer {kind!r}: use builtin or nginx")
