"""A store that notes what is done to it, so a diagram can show what a server did to its store.

Wrap a server's store in a `WatchedStore` (`CourseServer(store=WatchedStore())`) and give it to a
`Recorder`: each recorded exchange then lists the store operations the server made while answering,
Redis-style (`GET session:…`): the session lookups that token servers never make.
"""

from __future__ import annotations

import threading

from ..stores import Store, open_store


class WatchedStore(Store):
    """A store that notes each operation made on it, Redis-style (`GET session:…`).

    Pass it as a server's store (`CourseServer(store=WatchedStore())`) and to a `Recorder`:
    every exchange then lists what the server read and wrote. `keys()` is not noted: it is
    how the notebook looks inside, not something the server does.
    """

    def __init__(self, inner: Store | str = "fakeredis") -> None:
        self.inner = open_store(inner)
        self.name = self.inner.name
        self._notes: list[str] = []
        self._lock = threading.Lock()

    def _note(self, verb: str, key: str) -> None:
        with self._lock:
            self._notes.append(f"{verb} {key}")

    def drain(self) -> list[str]:
        """The operations noted since the last drain, oldest first."""
        with self._lock:
            notes, self._notes = self._notes, []
        return notes

    def get(self, key: str) -> str | None:
        self._note("GET", key)
        return self.inner.get(key)

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._note("SET", key)
        self.inner.set(key, value, ttl)

    def delete(self, *keys: str) -> int:
        self._note("DEL", " ".join(keys))
        return self.inner.delete(*keys)

    def ttl(self, key: str) -> float | None:
        self._note("TTL", key)
        return self.inner.ttl(key)

    def incr(self, key: str) -> int:
        self._note("INCR", key)
        return self.inner.incr(key)

    def add_member(self, key: str, member: str, ttl: float | None = None) -> None:
        self._note("SADD", key)
        self.inner.add_member(key, member, ttl)

    def members(self, key: str) -> set[str]:
        self._note("SMEMBERS", key)
        return self.inner.members(key)

    def remove_member(self, key: str, member: str) -> None:
        self._note("SREM", key)
        self.inner.remove_member(key, member)

    def keys(self, pattern: str = "*") -> list[str]:
        return self.inner.keys(pattern)

    def compare_and_set(self, key: str, expected: str, value: str, ttl: float | None = None) -> bool:
        self._note("CAS", key)
        return self.inner.compare_and_set(key, expected, value, ttl)

    def close(self) -> None:
        self.inner.close()
