"""One key-value-with-TTL interface over three back ends.

`memory` is a dict in this process (lost on restart, invisible to other processes: the
lesson's "development only"); `fakeredis` is Redis's semantics in this process with no service
to install (the course's default); a `redis://` URL is a real Redis shared by every server
that points at it. Sessions, the token denylist and token versions all live here.
"""

from __future__ import annotations

from ..errors import ConfigurationError
from .base import Store
from .memory import MemoryStore
from .redis import FakeRedisStore, RedisStore, fakeredis_store, redis_store

STORE_NAMES = ("memory", "fakeredis")

__all__ = [
    "STORE_NAMES",
    "FakeRedisStore",
    "MemoryStore",
    "RedisStore",
    "Store",
    "fakeredis_store",
    "open_store",
    "redis_store",
]


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
