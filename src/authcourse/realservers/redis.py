"""A throwaway real Redis: Debian's `redis-server` on a free loopback port, no persistence.

For the course's "real Redis" experiments, the tests and the benchmarks. Workshops point
`--store` at any `redis://` URL instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import weakref

import redis

from .process import end_process, free_port

START_TIMEOUT = 10.0  # seconds


class RedisUnavailable(RuntimeError):
    """Raised when no `redis-server` binary is installed (apt-get install redis-server)."""


def redis_server_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (path for path in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.path.exists(path)), None
    )


class RedisServer:
    """`with RedisServer() as r: r.url` is a fresh, empty Redis for as long as the block runs."""

    def __init__(self, *, port: int | None = None, persistent: bool = False) -> None:
        self.port = port
        self.persistent = persistent
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The redis-server process id while it runs (to measure its CPU time, say)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> RedisServer:
        binary = redis_server_binary()
        if binary is None:
            raise RedisUnavailable("redis-server is not installed (Debian: apt-get install redis-server)")
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="authcourse-redis-")
        self.port = self.port or free_port()
        persistence = ["--appendonly", "yes" if self.persistent else "no"]
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence,
             "--dir", self._dir.name, "--logfile", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Stopped when Python exits (a kernel restart) even if nobody called stop(): no stray
        # redis-server keeps its port. Only `kill -9` of Python itself leaves it running.
        self._finalizer = weakref.finalize(self, end_process, self._process)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    if self._process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                    time.sleep(0.01)
        finally:
            client.close()

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server; with `persistent=True` its data survives until `cleanup()`."""
        if self._process is not None:
            self._finalizer.detach()
            if kill:
                self._process.kill()
                self._process.wait(10)
            else:
                end_process(self._process)
            self._process = None

    def restart(self) -> RedisServer:
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()
