"""`Fleet`: N mini-servers in this process behind one round-robin balancer.

Each server is a `CourseServer` (uvicorn in a thread). Its store is its own (`memory`,
`fakeredis`) or one shared over TCP (`shared`: fakeredis's TCP server, or any redis:// URL);
its secret is one for the whole fleet (`shared`) or its own (`each`). For a workshop, where
servers are separate processes, `authcourse fleet` does the same from the command line.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..server import CourseServer
from ..stores import Store
from .balancer import BuiltinBalancer, open_balancer
from .sharedstore import SharedStore

ROUNDS = 4  # bcrypt work factor for the lab's servers: the experiments are about stores, not hashing


class FleetError(RuntimeError):
    """Raised when a fleet's balancer or store stops answering during an experiment."""


def announce(progress: bool, text: str, end: str = " ") -> None:
    """A word of progress for an experiment that takes seconds: printed at once, on one line."""
    if progress:
        print(text, end=end, flush=True)


def draw_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


class Fleet:
    """`with Fleet(4, mode="session", store="shared") as fleet: fleet.url` is the balancer's URL."""

    def __init__(self, servers: int = 3, *, mode: str = "session", revocation: str = "none",
                 store: str | Store = "shared", secret: str = "shared", balancer: str = "builtin",
                 **settings: Any) -> None:
        if not 1 <= servers <= 32:
            raise ValueError("a fleet has 1 to 32 servers")
        self.size = servers
        self.mode, self.revocation = mode, revocation
        self.store_kind, self.secret_kind, self.balancer_kind = store, secret, balancer
        self.settings = settings
        self.servers: list[CourseServer] = []
        self.balancer: Any = None
        self.shared: SharedStore | None = None
        self._own_shared = False

    @property
    def url(self) -> str:
        if self.balancer is None:
            raise RuntimeError("the fleet is not running: call start() first")
        return self.balancer.url

    def _store_spec(self) -> str | Store:
        if isinstance(self.store_kind, Store):
            return self.store_kind  # one store object for every server of this process
        if self.store_kind in ("memory", "fakeredis"):
            return self.store_kind  # one of its own per server
        if self.store_kind == "shared":
            if self.shared is None:
                self.shared, self._own_shared = SharedStore("fakeredis").start(), True
            return self.shared.url
        if "://" in self.store_kind:
            return self.store_kind  # redis://, postgresql://, mongodb://: one store all servers reach
        raise ValueError(f"unknown fleet store {self.store_kind!r}: use memory, fakeredis, shared or a URL")

    def _secrets(self) -> list[str]:
        if self.secret_kind == "shared":
            return [draw_secret()] * self.size
        if self.secret_kind == "each":
            return [draw_secret() for _ in range(self.size)]
        return [self.secret_kind] * self.size  # a secret given outright

    def start(self) -> Fleet:
        try:
            spec = self._store_spec()
            self.servers = [
                CourseServer(self.mode, revocation=self.revocation, store=spec, secret=secret, **self.settings)
                for secret in self._secrets()
            ]
            for server in self.servers:
                server.start()
            self.use(self.size)
        except BaseException:
            self.stop()
            raise
        return self

    def use(self, count: int) -> Fleet:
        """Put the first `count` servers behind a fresh balancer (the others keep running)."""
        urls = [server.url for server in self.servers[:count]]
        if isinstance(self.balancer, BuiltinBalancer):
            self.balancer.set_upstreams(urls)
            return self
        if self.balancer is not None:
            self.balancer.stop()
            self.balancer = None
        self.balancer = open_balancer(self.balancer_kind, urls)
        return self

    def stop(self) -> None:
        """Stop the balancer, every server and a store the fleet started; safe to call twice."""
        if self.balancer is not None:
            self.balancer.stop()
            self.balancer = None
        if self.servers:
            with ThreadPoolExecutor(max_workers=len(self.servers)) as pool:
                list(pool.map(CourseServer.stop, self.servers))
        if self.shared is not None and self._own_shared:
            self.shared.cleanup()
            self.shared = None

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.balancer is not None else "stopped"
        return (f"<Fleet {self.size} x {self.mode} revocation={self.revocation} store={self.store_kind} "
                f"secret={self.secret_kind} balancer={self.balancer_kind} {where}>")


__all__ = ["BuiltinBalancer", "Fleet", "FleetError", "draw_secret"]
