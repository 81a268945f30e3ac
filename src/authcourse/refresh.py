"""Refresh tokens: short access tokens, renewed by a long-lived token the server keeps track of.

A login starts a *family*: a record in the store (`refresh-family:<id>`) that says whose it is,
until when it lives, and which *generation* of refresh token is the current one. The client holds
`rt_<family>.<generation>.<MAC>`, opaque to it; the MAC (HMAC-SHA256 with the server's secret)
means no one can make up a refresh token, and the store says which one is still good.

- `rotate` trades the current token for the next generation (and the caller mints a new
  access token). The old token is spent.
- Presenting a spent token is *reuse*: either the client or a thief replayed it, and the server
  cannot tell which, so it ends the whole family. Both must log in again; the thief's copy of the
  newest token is worthless too.
- One exception: the token spent less than `RACE_WINDOW` ago, by the rotation that made the
  current one. That is two tabs refreshing at the same moment, not a replay: the late one is
  refused (`Refresh token already used`) and the family is left as the first one rotated it.
- `end_family` (logout) and `end_all_families` (logout everywhere) delete families.

The store never holds a family id, only a hash of it (`family_key`): a copy of the store names no
family a token could be made for, even by someone who also holds the secret. SHA-256 cut to 128
bits is enough for a 128-bit random id (no dictionary to try; OWASP Session Management Cheat
Sheet), and keeps the key as long as the id was.

A rotation is one compare-and-set on the family record (`Store.compare_and_set`): of two
requests racing with the same token, exactly one moves the family to the next generation; the
other is refused and changes nothing, so no family is ever left half rotated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass

from .clock import now
from .errors import AuthcourseError
from .stores import Store

REFRESH_LIFETIME = 14 * 24 * 60 * 60  # seconds a family lives after login, however often it is used
SHORT_ACCESS_LIFETIME = 15 * 60  # seconds: the access-token lifetime that goes with refresh tokens
RACE_WINDOW = 2.0  # seconds after a rotation during which the token it spent is "already used", not reused
PREFIX = "rt_"
_FAMILY_BYTES = 16  # 128 bits
_SHAPE = re.compile(r"^rt_([A-Za-z0-9_-]{22})\.(\d{1,9})\.([A-Za-z0-9_-]{43})$")


class RefreshError(AuthcourseError):
    """Raised when a refresh token is refused; `message` is what the client is told."""

    message = "Invalid refresh token"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.message
        super().__init__(self.message)


class MissingRefreshToken(RefreshError):
    """Raised when the request carries no refresh token at all."""

    message = "No refresh token provided"


class InvalidRefreshToken(RefreshError):
    """Raised when the token is not one this server made (garbage, forged, an access token)."""

    message = "Invalid refresh token"


class RefreshTokenEnded(RefreshError):
    """Raised when the token's family has expired or was ended (logout, reuse)."""

    message = "Refresh token expired or revoked"


class RefreshTokenSpent(RefreshError):
    """Raised to the loser of two requests racing with the same token: the other one rotated it."""

    message = "Refresh token already used"


class RefreshTokenReused(RefreshError):
    """Raised when a spent token comes back: the whole family has just been ended."""

    message = "Refresh token reused: this login has been ended everywhere, log in again"


@dataclass(frozen=True)
class Family:
    user_id: int
    generation: int  # the generation of the one refresh token that is still good
    created_at: float  # epoch seconds
    expires_at: float  # epoch seconds
    rotated_at: float | None = None  # epoch seconds of the last rotation


@dataclass(frozen=True)
class Rotation:
    """The outcome of a successful refresh."""

    user_id: int
    family_id: str
    token: str  # the new refresh token, for the client


def stored_family(family_id: str) -> str:
    """What the store keeps instead of a family id: SHA-256 cut to 128 bits, unpadded base64url (22 characters)."""
    digest = hashlib.sha256(family_id.encode("utf-8")).digest()[:_FAMILY_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def family_key(family_id: str) -> str:
    """The store key of a family: `refresh-family:<hash of the id>`; the id itself is never stored."""
    return stored_family_key(stored_family(family_id))


def stored_family_key(stored: str) -> str:
    return f"refresh-family:{stored}"


def user_families_key(user_id: int | str) -> str:
    return f"user-families:{user_id}"


def family_of(token: str) -> str | None:
    """The family id a well-formed refresh token names (None for anything else); not a check."""
    match = _SHAPE.match(token)
    return match.group(1) if match else None


class RefreshTokens:
    """Start, rotate and end refresh-token families kept in a store."""

    def __init__(self, store: Store, secret: bytes, *, lifetime: float = REFRESH_LIFETIME) -> None:
        self.store = store
        self._secret = secret
        self.lifetime = lifetime

    def _mac(self, family_id: str, generation: int) -> str:
        message = f"refresh:{family_id}:{generation}".encode("ascii")
        digest = hmac.digest(self._secret, message, hashlib.sha256)
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def _token(self, family_id: str, generation: int) -> str:
        return f"{PREFIX}{family_id}.{generation}.{self._mac(family_id, generation)}"

    def _parse(self, token: str | None) -> tuple[str, int]:
        if not token:
            raise MissingRefreshToken()
        match = _SHAPE.match(token) if len(token) < 100 else None
        if match is None:
            raise InvalidRefreshToken()
        family_id, generation = match.group(1), int(match.group(2))
        if not hmac.compare_digest(match.group(3), self._mac(family_id, generation)):
            raise InvalidRefreshToken()
        return family_id, generation

    def _load(self, family_id: str) -> tuple[str, Family]:
        raw = self.store.get(family_key(family_id))
        if raw is None:
            raise RefreshTokenEnded()
        family = Family(**json.loads(raw))
        if family.expires_at <= now():  # a real Redis expires keys on its own clock, not ours
            self.store.delete(family_key(family_id))
            raise RefreshTokenEnded()
        return raw, family

    def start_family(self, user_id: int) -> tuple[str, str]:
        """A new family for a login; return its id and its first refresh token."""
        at = now()
        family_id = secrets.token_urlsafe(_FAMILY_BYTES)
        family = Family(user_id, 0, at, at + self.lifetime)
        self.store.set(family_key(family_id), json.dumps(asdict(family)), ttl=self.lifetime)
        self.store.add_member(user_families_key(user_id), stored_family(family_id), ttl=self.lifetime)
        return family_id, self._token(family_id, 0)

    def rotate(self, token: str | None) -> Rotation:
        """Spend the current refresh token for the next one, or raise a RefreshError."""
        family_id, generation = self._parse(token)
        raw, family = self._load(family_id)
        if generation < family.generation:
            if self._lost_a_race(generation, family):
                raise RefreshTokenSpent()
            self.end_family(family_id, family.user_id)
            raise RefreshTokenReused()
        if generation > family.generation:  # signed by us, yet never issued: a family id reused across stores
            raise InvalidRefreshToken()
        at = now()
        following = Family(family.user_id, generation + 1, family.created_at, family.expires_at, at)
        if not self.store.compare_and_set(family_key(family_id), raw, json.dumps(asdict(following)), ttl=family.expires_at - at):
            raise RefreshTokenSpent()
        return Rotation(family.user_id, family_id, self._token(family_id, generation + 1))

    @staticmethod
    def _lost_a_race(generation: int, family: Family) -> bool:
        return (
            generation == family.generation - 1
            and family.rotated_at is not None
            and 0 <= now() - family.rotated_at < RACE_WINDOW
        )

    def end_family(self, family_id: str, user_id: int | str | None = None) -> bool:
        """End one family (logout); return whether it was live."""
        ended = self.store.delete(family_key(family_id)) > 0
        if user_id is not None:
            self.store.remove_member(user_families_key(user_id), stored_family(family_id))
        return ended

    def end_all_families(self, user_id: int | str) -> int:
        """End every family of a user (logout everywhere); return how many were live."""
        key = user_families_key(user_id)
        stored = self.store.members(key)
        count = self.store.delete(*(stored_family_key(each) for each in stored)) if stored else 0
        self.store.delete(key)
        return count

    def family(self, family_id: str) -> Family | None:
        """The family's record, to look at (None once it has ended)."""
        raw = self.store.get(family_key(family_id))
        return None if raw is None else Family(**json.loads(raw))
