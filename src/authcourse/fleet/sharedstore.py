"""One store that several servers (threads or processes) reach over TCP, by a redis:// URL.

`fakeredis` is fakeredis's TCP server in this process (nothing to install; gone when it stops),
`redis` a throwaway Debian redis-server (with `persistent=True`, append-only: keys and their TTLs
survive a restart), and any `redis://` URL a Redis someone else runs (a workshop's).
"""

from __future__ import annotations

import threading

import fakeredis

from ..realservers.redis import RedisServer


class SharedStore:
    """`with SharedStore("fakeredis") as shared: shared.url` is a redis:// URL every server can use."""

    def __init__(self, kind: str = "fakeredis", *, persistent: bool = False) -> None:
        self.kind = kind
        self.persistent = persistent
        self._tcp: fakeredis.TcpFakeServer | None = None
        self._thread: threading.Thread | None = None
        self._redis: RedisServer | None = None
        self._url = kind if kind.startswith("redis://") else None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the shared store is not running: call start() first")
        return self._url

    @property
    def pid(self) -> int | None:
        """The redis-server's process id, for the `redis` kind."""
        return self._redis.pid if self._redis is not None else None

    def start(self) -> SharedStore:
        if self.kind == "fakeredis":
            self._tcp = fakeredis.TcpFakeServer(("127.0.0.1", 0))
            self._tcp.daemon_threads = True
            self._tcp.block_on_close = False  # stopping must not wait for connected servers
            self._thread = threading.Thread(target=self._tcp.serve_forever, kwargs={"poll_interval": 0.05},
                                            daemon=True, name="authcourse-fakeredis-tcp")
            self._thread.start()
            self._url = f"redis://127.0.0.1:{self._tcp.server_address[1]}/0"
        elif self.kind == "redis":
            if self._redis is None:
                self._redis = RedisServer(persistent=self.persistent)
            self._redis.start()
            self._url = self._redis.url
        elif not self.kind.startswith("redis://"):
            raise ValueError(f"unknown shared store {self.kind!r}: use fakeredis, redis or a redis:// URL")
        return self

    def stop(self, *, kill: bool = False) -> None:
        """Stop serving; a persistent redis-server keeps its data for `start()` until `cleanup()`."""
        if self._tcp is not None:
            self._tcp.shutdown()
            self._tcp.server_close()
            self._tcp = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._redis is not None:
            self._redis.stop(kill=kill)

    def restart(self) -> SharedStore:
        port = self._redis.port if self._redis is not None else None
        self.stop()
        if self._redis is not None:
            self._redis.port = port  # the same URL: the servers reconnect to it
        return self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._redis is not None:
            self._redis.cleanup()
            self._redis = None

    def __enter__(self) -> SharedStore:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()
