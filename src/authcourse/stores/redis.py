"""Redis through redis-py: a real server by URL (shared by every server that points at it), or
fakeredis in this process (Redis's commands and TTLs, no service to install)."""

from __future__ import annotations

import fakeredis
import redis

from ..errors import ConfigurationError
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

    def held(self) -> int:
        return self.client.dbsize()

    def close(self) -> None:
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
