"""Redis through redis-py: a real server by URL (shared by every server that points at it), or
fakeredis in this process (Redis's commands and TTLs, no service to install)."""

from __future__ import annotations

import fakeredis
import redis

from ..clock import now
from ..errors import ConfigurationError, StoreError
from .base import Store


class RedisStore(Store):
    """Redis through redis-py: a real server by URL, or fakeredis in this process.

    redis-py's own errors (`redis.RedisError`) pass through; the app answers them with a 503.
    """

    blocking = True  # a real server: every call is a network round trip

    def __init__(self, client: redis.Redis, name: str) -> None:
        self.client = client
        self.name = name

    def get(self, key: str) -> str | None:
        return self.client.get(key)

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        if ttl is None:
            self.client.set(key, value)
        else:
            self.client.set(key, value, px=max(1, int(ttl * 1000)))

    def delete(self, *keys: str) -> int:
        return self.client.delete(*keys) if keys else 0

    def ttl(self, key: str) -> float | None:
        milliseconds = self.client.pttl(key)
        return None if milliseconds < 0 else milliseconds / 1000

    def incr(self, key: str) -> int:
        return self.client.incr(key)

    def add_member(self, key: str, member: str, ttl: float | None = None) -> None:
        with self.client.pipeline() as pipe:
            pipe.sadd(key, member)
            if ttl is not None:
                pipe.pexpire(key, max(1, int(ttl * 1000)))
            pipe.execute()

    def members(self, key: str) -> set[str]:
        return set(self.client.smembers(key))

    def remove_member(self, key: str, member: str) -> None:
        self.client.srem(key, member)

    def keys(self, pattern: str = "*") -> list[str]:
        return sorted(self.client.scan_iter(match=pattern, count=1000))

    def compare_and_set(self, key: str, expected: str, value: str, ttl: float | None = None) -> bool:
        # WATCH makes EXEC fail if any client touched the key since: optimistic, no lock held.
        with self.client.pipeline() as pipe:
            try:
                pipe.watch(key)
                if pipe.get(key) != expected:
                    return False
                pipe.multi()
                if ttl is None:
                    pipe.set(key, value)
                else:
                    pipe.set(key, value, px=max(1, int(ttl * 1000)))
                pipe.execute()
                return True
            except redis.WatchError:
                return False

    def close(self) -> None:
        self.client.close()


class FakeRedisStore(RedisStore):
    """fakeredis in this process: Redis's commands and TTLs, no service to install.

    Every command runs in fakeredis's own engine. The one on the hot path, the GET behind every
    authenticated request, is handed to that engine the way fakeredis runs a command from a Lua
    script (`_run_command`, under the server's lock, with the database's clock set), instead of
    being encoded to the Redis wire protocol, parsed back and queued by two client layers: the
    same command, the same answer, a fifth of the cost. A probe checks that path once; anything
    unexpected falls back to the ordinary client path.
    """

    blocking = False  # in this process: no round trip to wait for

    def __init__(self, server: fakeredis.FakeServer | None = None) -> None:
        self.server = server or fakeredis.FakeServer()
        client = fakeredis.FakeRedis(server=self.server, decode_responses=True, single_connection_client=True)
        super().__init__(client, "fakeredis")
        self._lock = client.single_connection_lock
        self._direct = self._probe()

    def _engine_socket(self):
        """fakeredis's socket of the client's one connection, if it is open and connected."""
        socket = getattr(self.client.connection, "_sock", None)
        if socket is None or getattr(socket, "_server", None) is None or not self.server.connected:
            return None  # closed, or a simulated outage: the client path reconnects or raises
        return socket

    def _run_get(self, socket, key: bytes):
        command, signature = socket._name_to_func("get")
        with self.server.lock:
            socket._db.time = now()  # the clock fakeredis's expiry checks compare against
            return socket._run_command(command, signature, [key], False)

    def _probe(self) -> bool:
        probe = "authcourse:probe"
        try:
            self.client.set(probe, "1", px=1000)  # opens the single connection
            with self._lock:
                socket = self._engine_socket()
                found = self._run_get(socket, probe.encode()), self._run_get(socket, b"authcourse:absent")
            self.client.delete(probe)
            return found == (b"1", None)
        except Exception:  # another fakeredis version: use the client path only
            return False

    def get(self, key: str) -> str | None:
        with self._lock:
            socket = self._engine_socket() if self._direct else None
            if socket is not None:
                value = self._run_get(socket, key.encode())
        if socket is None:
            return super().get(key)
        if isinstance(value, Exception):  # fakeredis's own error, e.g. WRONGTYPE
            raise StoreError(str(value))
        return None if value is None else value.decode()


def fakeredis_store(server: fakeredis.FakeServer | None = None) -> FakeRedisStore:
    """A fakeredis store; stores made with the same `server` share their data."""
    return FakeRedisStore(server)


def redis_store(url: str) -> RedisStore:
    """A store on a real Redis server, checked with a PING so a wrong URL fails here, clearly."""
    try:
        client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5)
        client.ping()
    except ValueError as error:
        raise ConfigurationError(f"bad Redis URL {url!r}: {error}") from error
    except redis.RedisError as error:
        raise ConfigurationError(f"cannot reach Redis at {url}: {error}") from error
    return RedisStore(client, url)
