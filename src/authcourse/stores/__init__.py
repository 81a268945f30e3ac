"""One key-value-with-TTL interface over the lesson's four session stores.

`memory` is a dict in this process (lost on restart, invisible to other processes: the
lesson's "development only"); `fakeredis` is Redis's semantics in this process with no service
to install (the course's default); a `redis://` URL is a real Redis shared by every server
that points at it; a `postgresql://` URL is a table in PostgreSQL (connect-pg-simple's way);
a `mongodb://` URL is a collection in MongoDB (connect-mongo's way), and `mongomock://NAME/DB`
the same code on mongomock in this process, since Debian packages no MongoDB server.
Sessions, the token denylist and token versions all live here.
"""

from __future__ import annotations

from ..errors import ConfigurationError
from .base import Store
from .memory import MemoryStore
from .mongo import MongoStore, mongo_store, mongomock_store
from .postgres import PostgresStore, postgres_store
from .redis import FakeRedisStore, RedisStore, fakeredis_store, redis_store

STORE_NAMES = ("memory", "fakeredis")
STORE_SCHEMES = ("redis://", "rediss://", "unix://", "postgresql://", "postgres://", "mongodb://", "mongodb+srv://",
                 "mongomock://")

__all__ = [
    "STORE_NAMES",
    "FakeRedisStore",
    "MemoryStore",
    "MongoStore",
    "PostgresStore",
    "RedisStore",
    "STORE_SCHEMES",
    "Store",
    "fakeredis_store",
    "is_store_spec",
    "mongo_store",
    "mongomock_store",
    "open_store",
    "postgres_store",
    "redis_store",
]

UNKNOWN = "use memory, fakeredis, or a redis://, postgresql://, mongodb:// or mongomock:// URL"


def is_store_spec(spec: str) -> bool:
    """Whether `spec` names a kind of store this package can open (reachable or not)."""
    return spec in STORE_NAMES or spec.startswith(STORE_SCHEMES)


def open_store(spec: str | Store) -> Store:
    """Turn a store name or URL into a store (connected and checked); a Store passes through."""
    if isinstance(spec, Store):
        return spec
    if spec == "memory":
        return MemoryStore()
    if spec == "fakeredis":
        return fakeredis_store()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return redis_store(spec)
    if spec.startswith(("postgresql://", "postgres://")):
        return postgres_store(spec)
    if spec.startswith(("mongodb://", "mongodb+srv://")):
        return mongo_store(spec)
    if spec.startswith("mongomock://"):
        return mongomock_store(spec)
    raise ConfigurationError(f"unknown store {spec!r}: {UNKNOWN}")
