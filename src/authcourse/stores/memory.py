"""`memory`: a dict in this process, lost on restart and invisible to other processes."""

from __future__ import annotations

import fnmatch
import threading

from ..clock import now
from ..errors import StoreError
from .base import Store


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

    def held(self) -> int:
        with self._lock:
            return len(self._data)  # an expired key goes only when something touches it

    def keys(self, pattern: str = "*") -> list[str]:
        with self._lock:
            return sorted(k for k in list(self._data) if self._live(k) is not None and fnmatch.fnmatchcase(k, pattern))

    def compare_and_set(self, key: str, expected: str, value: str, ttl: float | None = None) -> bool:
        with self._lock:
            if self._live(key) != expected:
                return False
            self._data[key] = (value, self._expiry(ttl))
            return True
