"""One key-value-with-TTL interface over three back ends.

`memory` is a dict in this process (lost on restart, invisible to other processes: the
lesson's "development only"); `fakeredis` is Redis's semantics in this process with no service
to install (the course's default); a `redis://` URL is a real Redis shared by every server
that points at it. Sessions, the token denylist and token versions all live here.
"""

from __future__ import annotations

import fnmatch
import threading
from abc import ABC, abstractmethod

import fakeredis
import redis

from .clock import now
from .errors import ConfigurationError, StoreError

STORE_NAMES = ("memory", "fakeredis")


class Store(ABC):
    """What the auth code needs from a store. Keys and values are text; TTLs are seconds."""

    name: str

    @abstractmethod
    def get(self, key: str) -> str | None:
        """Return the value, or None if the key is missing or expired."""

    @abstractmethod
    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store the value; with `ttl`, the key disappears after that many seconds."""

    @abstractmethod
    def delete(self, *keys: str) -> int:
        """Delete the keys; return how many existed."""

    @abstractmethod
    def ttl(self, key: str) -> float | None:
        """Seconds the key has left; None if it is missing or never expires."""

    @abstractmethod
    def incr(self, key: str) -> int:
        """Add one to an integer value (a missing key counts as 0) and return it."""

    @abstractmethod
    def add_member(self, key: str, member: str, ttl: float | None = None) -> None:
        """Add a member to the set at `key`; with `ttl`, the whole set now expires after that long."""

    @abstractmethod
    def members(self, key: str) -> set[str]:
        """Return the members of the set at `key` (empty if missing)."""

    @abstractmethod
    def remove_member(self, key: str, member: str) -> None:
        """Remove a member from the set at `key`."""

    @abstractmethod
    def keys(self, pattern: str = "*") -> list[str]:
        """Return the live keys matching a glob pattern, sorted (for showing, not for hot paths)."""

    def close(self) -> None:
        """Release connections; the default has none."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class MemoryStore(Store):
    """A dict in this process, guarded by a lock: the kernel and the server thread share it."""

    name = "memory"

    def __init__(self) -> None:
        self._data: dict[str, tuple[str | set[str], float | None]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str) -> str | set[str] | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and expires_at <= now():
            del self._data[key]
            return None
        return value

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else now() + ttl

    def get(self, key: str) -> str | None:
        with self._lock:
            value = self._live(key)
        if isinstance(value, set):
            raise StoreError(f"{key} holds a set, not a string")
        return value

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        with self._lock:
            self._data[key] = (value, self._expiry(ttl))

    def delete(self, *keys: str) -> int:
        with self._lock:
            return sum(self._live(key) is not None and self._data.pop(key) is not None for key in keys)

    def ttl(self, key: str) -> float | None:
        with self._lock:
            if self._live(key) is None:
                return None
            expires_at = self._data[key][1]
        return None if expires_at is None else expires_at - now()

    def incr(self, key: str) -> int:
        with self._lock:
            current = self._live(key)
            try:
                number = int(current or 0) + 1
            except (TypeError, ValueError):
                raise StoreError(f"{key} does not hold an integer") from None
            expires_at = self._data[key][1] if current is not None else None
            self._data[key] = (str(number), expires_at)
        return number

    def add_member(self, key: str, member: str, ttl: float | None = None) -> None:
        with self._lock:
            members = self._live(key)
            if not isinstance(members, set):
                members = set()
            members.add(member)
            expires_at = self._expiry(ttl) if ttl is not None else self._data.get(key, (None, None))[1]
            self._data[key] = (members, expires_at)

    def members(self, key: str) -> set[str]:
        with self._lock:
            members = self._live(key)
            return set(members) if isinstance(members, set) else set()

    def remove_member(self, key: str, member: str) -> None:
        with self._lock:
            members = self._live(key)
            if isinstance(members, set):
                members.discard(member)
                if not members:
                    del self._data[key]

    def keys(self, pattern: str = "*") -> list[str]:
        with self._lock:
            return sorted(k for k in list(self._data) if self._live(k) is not None and fnmatch.fnmatchcase(k, pattern))


class RedisStore(Store):
    """Redis through redis-py: a real server by URL, or fakeredis in this process.

    redis-py's own errors (`redis.RedisError`) pass through; the app answers them with a 503.
    """

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


def open_store(spec: str | Store) -> Store:
    """Turn `memory`, `fakeredis` or a `redis://` URL into a store; a Store passes through."""
    if isinstance(spec, Store):
        return spec
    if spec == "memory":
        return MemoryStore()
    if spec == "fakeredis":
        return fakeredis_store()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return redis_store(spec)
    raise ConfigurationError(f"unknown store {spec!r}: use memory, fakeredis or a redis:// URL")
