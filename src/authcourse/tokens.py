"""JSON Web Tokens (HS256) and the two ways a server can take one back.

A token is `base64url(header).base64url(claims).base64url(HMAC-SHA256 signature)`. Verifying
it needs only the secret, which is why any server holding the secret accepts it and why no
server can forget it before `exp`, unless it keeps some state after all:

- a denylist: `logout` stores the token's `jti` until the token would have expired anyway;
- a per-user version: every token carries `ver`; bumping the user's version refuses all of
  that user's tokens at once (and cannot refuse just one).

The algorithm is pinned (`algorithms=["HS256"]`, never read from the token), and `exp`,
`iat`, `sub`, `jti`, `iss` and `aud` are required (RFC 8725, sections 2.1, 3.1, 3.8, 3.9).
Every token names who issued it (`iss`) and the one service it is for (`aud`), and only a
token naming this service's issuer and audience is accepted: a sister service sharing the key
cannot hand out tokens this one takes, with a different `aud` or with none at all.

Checking a signature is a pure function of the token's exact bytes and the secret, so a
`TokenService` may remember the claims of tokens PyJWT has already verified (`cache_size`; 0
checks every signature every time, `Settings(signature_cache=False)`). A remembered token is
still held to its time window (`iat`, `nbf`, `exp`) on every use, and revocation is never
remembered: the denylist or the version is read from the store on every request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
from typing import Any

import jwt

from .clock import now
from .errors import ConfigurationError, StoreError
from .stores import Store
from .verified import CACHE_SIZE, VerifiedCache

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32  # RFC 7518 section 3.2: an HS256 key at least as long as the hash
TOKEN_LIFETIME = 24 * 60 * 60  # seconds, the lesson's expiresIn: '24h'
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "iss", "aud"]
ISSUER = "authcourse"  # `iss`: who issued the token (RFC 7519 section 4.1.1)
AUDIENCE = "authcourse-api"  # `aud`: the service the token is for; a token for any other is refused
SECRET_ENV = "AUTHCOURSE_SECRET"


def load_secret(value: str | bytes | None = None) -> bytes:
    """The signing secret: `value`, else $AUTHCOURSE_SECRET, else 32 random bytes for this process.

    A random secret is fine for one server and fatal for two: each refuses the other's tokens
    and cookies. Servers behind one load balancer must share the secret.
    """
    if value is None:
        value = os.environ.get(SECRET_ENV)
    if value is None:
        return secrets.token_bytes(MIN_SECRET_BYTES)
    secret = value.encode("utf-8") if isinstance(value, str) else value
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"the secret is {len(secret)} bytes; HS256 needs at least {MIN_SECRET_BYTES} "
            f"(try: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return secret


def _in_time_window(claims: dict[str, Any], at: float) -> bool:
    """PyJWT's own time rules, for a token it has already verified: issued, started, not expired."""
    issued_at = int(claims["iat"])  # PyJWT accepted these as int()-able when it verified the token
    return issued_at <= at and int(claims.get("nbf", issued_at)) <= at < int(claims["exp"])


def denylist_key(jti: str) -> str:
    return f"denylist:{jti}"


def token_version_key(user_id: int | str) -> str:
    return f"token-version:{user_id}"


class TokenService:
    """Issue and verify access tokens; revoke one (denylist) or all of a user's (version)."""

    def __init__(
        self,
        secret: bytes,
        store: Store | None = None,
        *,
        lifetime: float = TOKEN_LIFETIME,
        cache_size: int = CACHE_SIZE,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
    ) -> None:
        self._secret = secret
        self.store = store
        self.lifetime = lifetime
        self.issuer = issuer
        self.audience = audience
        self.verified: VerifiedCache[dict[str, Any]] = VerifiedCache(cache_size)

    def create_access_token(
        self, user_id: int, role: str, *, version: int | None = None, extra_claims: dict[str, Any] | None = None
    ) -> str:
        """A signed token: by whom and for whom (`iss`, `aud`), who (`sub`, `role`), when (`iat`, `exp`),
        which one (`jti`), plus `extra_claims`.

        `extra_claims` add to these, never replace them: a caller cannot stretch `exp` or change
        `sub` through them (ValueError).
        """
        issued_at = int(now())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "role": role,
            "iat": issued_at,
            "exp": issued_at + int(self.lifetime),
            "jti": secrets.token_urlsafe(16),
        }
        if version is not None:
            claims["ver"] = version
        overriding = sorted(set(extra_claims or {}) & {*claims, "ver", "nbf", "iss", "aud"})
        if overriding:
            raise ValueError(f"extra_claims may not set {', '.join(overriding)}: registered claims are the token service's to set")
        claims.update(extra_claims or {})
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode_token(self, token: str) -> dict[str, Any]:
        """The claims of a token whose signature and times check out; else `jwt.InvalidTokenError`."""
        claims = self.verified.get(token)
        if claims is not None and _in_time_window(claims, now()):
            return dict(claims)
        # Unknown, or outside its time window now: PyJWT decides, and raises the precise error.
        claims = jwt.decode(
            token,
            self._secret,
            algorithms=[ALGORITHM],
            issuer=self.issuer,
            audience=self.audience,
            options={"require": REQUIRED_CLAIMS, "strict_aud": True},
        )
        self.verified.remember(token, claims)
        return dict(claims)

    # Revocation: both need the store -------------------------------------------------------

    def _require_store(self) -> Store:
        if self.store is None:
            raise ConfigurationError("revocation needs a store")
        return self.store

    def revoke_token(self, claims: dict[str, Any]) -> float:
        """Denylist this token until it would expire anyway; return that TTL in seconds."""
        ttl = int(claims["exp"]) - now()
        if ttl > 0:
            self._require_store().set(denylist_key(claims["jti"]), str(claims["exp"]), ttl=ttl)
        return max(ttl, 0.0)

    def is_revoked(self, claims: dict[str, Any]) -> bool:
        return self._require_store().get(denylist_key(claims["jti"])) is not None

    def current_version(self, user_id: int | str) -> int:
        stored = self._require_store().get(token_version_key(user_id))
        try:
            return int(stored or 0)
        except ValueError:
            raise StoreError(f"{token_version_key(user_id)} does not hold an integer") from None

    def revoke_all_for_user(self, user_id: int | str) -> int:
        """Bump the user's token version: every token issued before now is refused. Return it."""
        return self._require_store().incr(token_version_key(user_id))

    def is_current_version(self, claims: dict[str, Any]) -> bool:
        return claims.get("ver") == self.current_version(claims["sub"])


# API keys: opaque, long-lived, for programs rather than people ----------------------------

API_KEY_PREFIX = "ak_"
API_KEY_BYTES = 32  # 256 bits
_API_KEY_SHAPE = re.compile(r"^ak_[A-Za-z0-9_-]{43}$")


def api_key_key(stored: str) -> str:
    return f"api-key:{stored}"


def user_api_keys_key(user_id: int | str) -> str:
    return f"user-api-keys:{user_id}"


class ApiKeys:
    """API keys in a store, kept as SHA-256 hashes only: the key is shown once, when it is made.

    A fast hash is right here, as for session ids: the key is 256 random bits, not a password
    someone chose, so there is nothing to guess and no reason for bcrypt's cost.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def stored_form(api_key: str) -> str:
        digest = hashlib.sha256(api_key.encode("utf-8")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def create_key(self, user_id: int, name: str) -> str:
        """A new key for the user; the return value is the only time the key exists in clear."""
        api_key = API_KEY_PREFIX + secrets.token_urlsafe(API_KEY_BYTES)
        stored = self.stored_form(api_key)
        record = {"user_id": user_id, "name": name, "created_at": now()}
        self.store.set(api_key_key(stored), json.dumps(record))
        self.store.add_member(user_api_keys_key(user_id), stored)
        return api_key

    def user_of(self, api_key: str) -> int | None:
        """The id of the user the key belongs to, or None for anything else (never an exception)."""
        if len(api_key) > 100 or not _API_KEY_SHAPE.fullmatch(api_key):
            return None
        raw = self.store.get(api_key_key(self.stored_form(api_key)))
        try:
            user_id = json.loads(raw)["user_id"] if raw is not None else None
        except (ValueError, TypeError, KeyError):
            return None
        return user_id if type(user_id) is int else None

    def count(self, user_id: int) -> int:
        return len(self.store.members(user_api_keys_key(user_id)))
