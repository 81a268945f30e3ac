"""Redis through redis-py: a real server by URL (shared by every server that points at it), or
fakeredis in this process (Redis's commands and TTLs, no service to install)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import fakeredis
import redis

from ..errors import ConfigurationError
from .base import Store
from .bridge import bridged, run_bridged, wait_for
from .resp import PipelinedRedis

T = TypeVar("T")

# KEYS[1] = key; ARGV = expected, new value, TTL in ms (0: none). 1 if it was set, 0 if not.
COMPARE_AND_SET = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then redis.call('SET', KEYS[1], ARGV[2])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
"""


class RedisStore(Store):
    """Redis through redis-py: a real server by URL, or fakeredis in this process.

    redis-py's own errors (`redis.RedisError`) pass through; the app answers them with a 503.
    Inside `run` (the server's requests), a real server is reached through `PipelinedRedis`
    instead, on the server's event loop, so a request waiting for Redis holds nothing up.
    """

    blocking = True  # a real server: every call is a network round trip

    def __init__(self, client: redis.Redis, name: str) -> None:
        self.client = client
        self.name = name
        pool = client.connection_pool
        plain = not issubclass(pool.connection_class, redis.SSLConnection)
        self.pipelined = PipelinedRedis.from_connection_kwargs(pool.connection_kwargs) if self.blocking and plain else None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if self.pipelined is None:
            return await super().run(function, *args)
        return await run_bridged(function, *args)

    def _on_loop(self) -> bool:
        return self.pipelined is not None and bridged()

    def _execute(self, *command: Any) -> Any:
        assert self.pipelined is not None
        return wait_for(self.pipelined.execute(*command))

    def get(self, key: str) -> str | None:
        if self._on_loop():
            return self._execute("GET", key)
        return self.client.get(key)

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        expiry = () if ttl is None else ("PX", max(1, int(ttl * 1000)))
        if self._on_loop():
            self._execute("SET", key, value, *expiry)
        elif ttl is None:
            self.client.set(key, value)
        else:
            self.client.set(key, value, px=expiry[1])

    def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return self._execute("DEL", *keys) if self._on_loop() else self.client.delete(*keys)

    def ttl(self, key: str) -> float | None:
        milliseconds = self._execute("PTTL", key) if self._on_loop() else self.client.pttl(key)
        return None if milliseconds < 0 else milliseconds / 1000

    def incr(self, key: str) -> int:
        return self._execute("INCR", key) if self._on_loop() else self.client.incr(key)

    def add_member(self, key: str, member: str, ttl: float | None = None) -> None:
        expire = [] if ttl is None else [("PEXPIRE", key, max(1, int(ttl * 1000)))]
        if self._on_loop():
            assert self.pipelined is not None
            wait_for(self.pipelined.execute_many(("MULTI",), ("SADD", key, member), *expire, ("EXEC",)))
            return
        with self.client.pipeline() as pipe:
            pipe.sadd(key, member)
            if ttl is not None:
                pipe.pexpire(key, max(1, int(ttl * 1000)))
            pipe.execute()

    def members(self, key: str) -> set[str]:
        return set(self._execute("SMEMBERS", key) if self._on_loop() else self.client.smembers(key))

    def remove_member(self, key: str, member: str) -> None:
        if self._on_loop():
            self._execute("SREM", key, member)
        else:
            self.client.srem(key, member)

    def keys(self, pattern: str = "*") -> list[str]:
        return sorted(self.client.scan_iter(match=pattern, count=1000))

    def compare_and_set(self, key: str, expected: str, value: str, ttl: float | None = None) -> bool:
        if self._on_loop():
            # One command, so other requests' commands on the shared connection cannot come
            # between the read and the write: Redis runs a script atomically.
            expiry = 0 if ttl is None else max(1, int(ttl * 1000))
            return self._execute("EVAL", COMPARE_AND_SET, 1, key, expected, value, expiry) == 1
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

    def held(self) -> int:
        return self.client.dbsize()

    def close(self) -> None:
        if self.pipelined is not None:
            self.pipelined.close()
        self.client.close()


class FakeRedisStore(RedisStore):
    """fakeredis in this process: Redis's commands and TTLs, no service to install.

    Every call goes through redis-py's public client, exactly as with a real server; only the
    socket is fakeredis's, so there is no network round trip to wait for.
    """

    blocking = False  # in this process: no round trip to wait for

    def __init__(self, server: fakeredis.FakeServer | None = None) -> None:
        self.server = server or fakeredis.FakeServer()
        client = fakeredis.FakeRedis(server=self.server, decode_responses=True, single_connection_client=True)
        super().__init__(client, "fakeredis")


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
