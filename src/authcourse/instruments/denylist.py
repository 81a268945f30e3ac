"""What to key a denylist entry on: the token's `jti`, or the whole token string (the lesson's way).

- `entry_size`: what one entry holds in a store, key and value, and what Redis says it uses.
- `reencode_signature`: the same token with the last character of its signature changed only
  in the bits base64url leaves unused. A lenient base64 decoder (Python's own
  `base64.urlsafe_b64decode`, many JavaScript ones) reads the same signature bytes from both, so a
  verifier built on one accepts the twin, and a denylist keyed on the raw string misses it.
  PyJWT checks those spare bits and refuses the twin; a `jti` key is immune either way, since the
  `jti` sits inside the signed payload.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import redis

from ..stores import Store

BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@dataclass(frozen=True)
class EntrySize:
    """One store entry, in bytes: its key and value as stored, and Redis's own count when it has one."""

    key: str
    key_bytes: int
    value_bytes: int
    redis_bytes: int | None  # `MEMORY USAGE key` on a real Redis; None elsewhere

    @property
    def payload_bytes(self) -> int:
        return self.key_bytes + self.value_bytes


def entry_size(store: Store, key: str) -> EntrySize:
    """Read an entry back from the store and measure it."""
    value = store.get(key)
    if value is None:
        raise KeyError(key)
    redis_bytes = None
    client = getattr(store, "client", None)
    if isinstance(client, redis.Redis):
        try:
            redis_bytes = client.memory_usage(key)
        except redis.ResponseError:  # fakeredis has no MEMORY command
            redis_bytes = None
    return EntrySize(key, len(key.encode()), len(value.encode()), redis_bytes)


def decode_base64url(text: str) -> bytes:
    """Decode base64url the lenient way: padding added, spare bits ignored (Python's stdlib does so)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def spare_bits(text: str) -> int:
    """How many low bits of the last character of this base64url text carry no data (0, 2 or 4)."""
    return len(text) * 6 - len(decode_base64url(text)) * 8


def reencode_signature(token: str) -> str:
    """The token with its signature's last character changed in its spare bits only."""
    head, _, signature = token.rpartition(".")
    if not head or spare_bits(signature) == 0:
        raise ValueError("this signature has no spare bits to change")
    last = BASE64URL.index(signature[-1])
    return f"{head}.{signature[:-1]}{BASE64URL[last ^ 1]}"
