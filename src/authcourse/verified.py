"""Remembering what a signature check found.

Whether a signed value (a session cookie, a JWT) carries a valid signature depends only on its
exact bytes and the secret, never on time or on the store. So a server may remember the
answer for values it has already checked, and skip the HMAC the next time the same client
sends the same value. What can change (expiry, logout, revocation) is never remembered:
the callers check it on every request.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

Value = TypeVar("Value")

CACHE_SIZE = 10_000  # values whose check is remembered, per secret


class VerifiedCache(Generic[Value]):
    """A bounded map from a checked value to what the check found; the oldest goes first."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._found: dict[str, Value] = {}
        self._lock = threading.Lock()

    def get(self, signed: str) -> Value | None:
        return self._found.get(signed)

    def remember(self, signed: str, found: Value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            if len(self._found) >= self.size:
                del self._found[next(iter(self._found))]
            self._found[signed] = found

    def clear(self) -> None:
        with self._lock:
            self._found.clear()

    def __len__(self) -> int:
        return len(self._found)
