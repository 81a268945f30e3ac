"""MongoDB through pymongo, or mongomock in this process: one document per key, a TTL index.

A document is `{_id: key, value: text}` or `{_id: key, members: [...]}`, plus `expires_at` (a
date) when the key has a TTL. A TTL index on `expires_at` (`expireAfterSeconds=0`) lets a real
MongoDB delete expired documents by itself, but its TTL monitor only wakes up every 60 seconds,
so every read also compares `expires_at` with now: an expired key is gone at once, as in Redis.
connect-mongo, the lesson's MongoDB store, does both too (`autoRemove: 'native'` creates that
index, and its reads ask for `expires > now`).

Debian packages no MongoDB server, so the course runs the same class on `mongomock`, an
in-process imitation of the pymongo API: `mongomock://NAME/DB` opens it, and every store opened
with the same `mongomock://` URL in one process shares one database, the way servers pointing at
one MongoDB do. `mongodb://...` is a real server. "Now" is this process's clock (`clock.now()`),
so `later()` moves the expiry checks of both.

Writes that read first (`incr`, `add_member` on a missing key) retry on a conflict instead of
locking, so two servers on one database never lose an update. Any pymongo error is a
`StoreError`, which the app answers with 503.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import urlsplit

import mongomock
import pymongo
import pymongo.errors

from ..clock import now
from ..errors import ConfigurationError, StoreError
from .base import Store

COLLECTION = "authcourse_store"
DEFAULT_DATABASE = "authcourse"
SERVER_TIMEOUT_MS = 2000  # how long pymongo looks for a server before giving up
RETRIES = 100  # compare-and-set attempts before a write gives up

Result = TypeVar("Result")

_mock_servers: dict[str, tuple[mongomock.MongoClient, threading.Lock]] = {}  # by mongomock:// host
_mock_servers_lock = threading.Lock()


def _date(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def _shown(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


class MongoStore(Store):
    """Keys, strings, sets and TTLs as documents of one MongoDB collection."""

    def __init__(self, collection: Any, name: str, *, blocking: bool, lock: threading.Lock | None = None) -> None:
        self.collection = collection
        self.name = name
        self.blocking = blocking  # a real server: every call is a round trip; mongomock: none
        # mongomock is plain Python data: the stores sharing it take turns, as a server's clients do.
        self._lock = lock

    def _call(self, work: Callable[[], Result]) -> Result:
        try:
            if self._lock is None:
                return work()
            with self._lock:
                return work()
        except pymongo.errors.PyMongoError as error:
            raise StoreError(f"MongoDB: {error}") from None

    @staticmethod
    def _live(document: dict[str, Any] | None) -> dict[str, Any] | None:
        if document is None:
            return None
        expires_at = document.get("expires_at")
        return document if expires_at is None or _epoch(expires_at) > now() else None

    def _find(self, key: str) -> dict[str, Any] | None:
        return self._call(lambda: self._live(self.collection.find_one({"_id": key})))

    @staticmethod
    def _document(key: str, ttl: float | None, **fields: Any) -> dict[str, Any]:
        document = {"_id": key, **fields}
        if ttl is not None:
            document["expires_at"] = _date(now() + ttl)
        return document

    def _replace_if_unchanged(self, old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
        """Write `new` if the key is still as `old` found it (None: still absent)."""
        def write() -> bool:
            if old is None:
                try:
                    self.collection.insert_one(new)
                    return True
                except pymongo.errors.DuplicateKeyError:
                    return False
            return self.collection.replace_one(old, new).matched_count == 1
        return self._call(write)

    # The Store interface -----------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        document = self._find(key)
        if document is None:
            return None
        if "members" in document:
            raise StoreError(f"{key} holds a set, not a string")
        return str(document["value"])

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        document = self._document(key, ttl, value=value)
        self._call(lambda: self.collection.replace_one({"_id": key}, document, upsert=True))

    def delete(self, *keys: str) -> int:
        def remove() -> int:
            gone = [self.collection.find_one_and_delete({"_id": key}) for key in keys]
            return sum(self._live(document) is not None for document in gone)
        return self._call(remove)

    def ttl(self, key: str) -> float | None:
        document = self._find(key)
        if document is None or document.get("expires_at") is None:
            return None
        return _epoch(document["expires_at"]) - now()

    def incr(self, key: str) -> int:
        for _ in range(RETRIES):
            raw = self._call(lambda: self.collection.find_one({"_id": key}))
            document = self._live(raw)
            if document is None:
                if self._replace_if_unchanged(raw, {"_id": key, "value": "1"}):
                    return 1
                continue
            if "members" in document:
                raise StoreError(f"{key} holds a set, not an integer")
            try:
                number = int(document["value"]) + 1
            except (TypeError, ValueError):
                raise StoreError(f"{key} does not hold an integer") from None
            if self._replace_if_unchanged(document, {**document, "value": str(number)}):
                return number
        raise StoreError(f"{key}: too many concurrent updates")

    def add_member(self, key: str, member: str, ttl: float | None = None) -> None:
        for _ in range(RETRIES):
            raw = self._call(lambda: self.collection.find_one({"_id": key}))
            document = self._live(raw)
            if document is None:
                new = self._document(key, ttl, members=[member])
            elif "members" not in document:
                raise StoreError(f"{key} holds a string, not a set")
            else:
                members = document["members"] + ([] if member in document["members"] else [member])
                new = {**document, "members": members}
                if ttl is not None:
                    new["expires_at"] = _date(now() + ttl)
            if self._replace_if_unchanged(raw, new):
                return
        raise StoreError(f"{key}: too many concurrent updates")

    def members(self, key: str) -> set[str]:
        document = self._find(key)
        if document is None:
            return set()
        if "members" not in document:
            raise StoreError(f"{key} holds a string, not a set")
        return set(document["members"])

    def remove_member(self, key: str, member: str) -> None:
        def remove() -> None:
            self.collection.update_one({"_id": key, "members": {"$exists": True}}, {"$pull": {"members": member}})
            self.collection.delete_one({"_id": key, "members": {"$size": 0}})
        self._call(remove)

    def keys(self, pattern: str = "*") -> list[str]:
        prefix = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        query = {"_id": {"$regex": "^" + re.escape(prefix)}}
        documents = self._call(lambda: list(self.collection.find(query)))
        return sorted(
            document["_id"] for document in documents
            if self._live(document) is not None and fnmatch.fnmatchcase(document["_id"], pattern)
        )

    def compare_and_set(self, key: str, expected: str, value: str, ttl: float | None = None) -> bool:
        # One replace_one whose filter is the condition: atomic on a MongoDB server.
        live = {"$or": [{"expires_at": {"$exists": False}}, {"expires_at": {"$gt": _date(now())}}]}
        condition = {"_id": key, "value": expected, **live}
        document = self._document(key, ttl, value=value)
        return self._call(lambda: self.collection.replace_one(condition, document).matched_count == 1)

    def held(self) -> int:
        """How many documents the collection holds, expired ones not yet removed included."""
        return self._call(lambda: self.collection.count_documents({}))

    def close(self) -> None:
        if self.blocking:
            self.collection.database.client.close()


def _open(client: Any, url: str, *, blocking: bool, lock: threading.Lock | None = None) -> MongoStore:
    database = urlsplit(url).path.strip("/") or DEFAULT_DATABASE
    collection = client[database][COLLECTION]
    collection.create_index("expires_at", expireAfterSeconds=0)
    return MongoStore(collection, _shown(url), blocking=blocking, lock=lock)


def mongo_store(url: str) -> MongoStore:
    """A store on a real MongoDB (`mongodb://HOST:PORT/DB`), checked with a ping so a wrong URL fails here."""
    try:
        client = pymongo.MongoClient(url, serverSelectionTimeoutMS=SERVER_TIMEOUT_MS, tz_aware=True)
    except (pymongo.errors.ConfigurationError, pymongo.errors.InvalidURI, ValueError) as error:
        raise ConfigurationError(f"bad MongoDB URL {url!r}: {error}") from None
    try:
        client.admin.command("ping")
        return _open(client, url, blocking=True)
    except pymongo.errors.PyMongoError as error:
        client.close()
        reason = str(error).split(" (configured timeouts")[0]  # pymongo then describes its whole topology
        raise ConfigurationError(f"cannot reach MongoDB at {_shown(url)}: {reason}") from None


def mongomock_store(url: str = "mongomock://localhost/authcourse") -> MongoStore:
    """mongomock in this process; stores opened with the same `mongomock://` URL share one database."""
    parts = urlsplit(url)
    if parts.scheme != "mongomock" or not parts.hostname:
        raise ConfigurationError(f"bad mongomock URL {url!r}: use mongomock://NAME/DATABASE")
    with _mock_servers_lock:
        if parts.hostname not in _mock_servers:
            _mock_servers[parts.hostname] = (mongomock.MongoClient(tz_aware=True), threading.Lock())
        client, lock = _mock_servers[parts.hostname]
    with lock:
        return _open(client, url, blocking=False, lock=lock)
