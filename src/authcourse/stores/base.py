"""The one interface every store implements: keys and values as text, TTLs in seconds."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Store(ABC):
    """What the auth code needs from a store. Keys and values are text; TTLs are seconds."""

    name: str
    blocking = False  # True where every call waits on another process (a network round trip)

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

    @abstractmethod
    def compare_and_set(self, key: str, expected: str, value: str, ttl: float | None = None) -> bool:
        """Atomically: if the key holds `expected`, store `value` (with `ttl`) and return True; else False."""

    def held(self) -> int | None:
        """How many keys the back end holds right now, expired ones it has not removed yet included
        (None where it cannot say). What a store does with expired keys shows here."""
        return None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Call `function(*args)`, which uses this store, from an event loop, without holding the loop
        while the store answers: at once where the store is in this process, in the loop's executor
        where it blocks (a store over the network may do better, as the Redis store does)."""
        if not self.blocking:
            return function(*args)
        return await asyncio.get_running_loop().run_in_executor(None, function, *args)

    def close(self) -> None:
        """Release connections; the default has none."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
