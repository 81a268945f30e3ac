"""JSON Web Tokens (HS256, or RS256 / ES256 / EdDSA with a key set) and the two ways a server can take one back.

A token is `base64url(header).base64url(claims).base64url(HMAC-SHA256 signature)`. Verifying
it needs only the secret, which is why any server holding the secret accepts it and why no
server can forget it before `exp`, unless it keeps some state after all:

- a denylist: `logout` stores the token's `jti` until the token would have expired anyway;
- a per-user version: every token carries `ver`; bumping the user's version refuses all of
  that user's tokens at once (and cannot refuse just one).

The algorithm is pinned (`algorithms=["HS256"]`, or the one algorithm of the key set, never
read from the token), and `exp`,
`iat`, `sub`, `jti`, `iss` and `aud` are required (RFC 8725, sections 2.1, 3.1, 3.8, 3.9).
Every token names who issued it (`iss`) and the one service it is for (`aud`), and only a
token naming this service's issuer and audience is accepted: a sister service sharing the key
cannot hand out tokens this one takes, with a different `aud` or with none at all.

Checking a signature is a pure function of the token's exact bytes and the secret, so a
`TokenService` may remember the claims of tokens PyJWT has already verified (`cache_size`; 0
checks every signature every time, `Settings(signature_cache=False)`). A remembered token is
still held to its time window (`iat`, `nbf`, `exp`) on every use, and revocation is never
remembered: the denylist or the version is read from the store on every request.

HS256 signs and verifies with one secret, so every server that can check a token can also mint
one. With `algorithm="RS256"` (or ES256, EdDSA) a `KeySet` of private keys signs, each key named
by a `kid` in the token's header, and verifiers need only the public half, published as a JWK
Set (RFC 7517). Rotation: `add_key()` makes a new key the signer while the old one still
verifies; `retire()` then drops the old key, and its tokens are refused from that moment on,
remembered ones included. The algorithm stays pinned: an RS256 service accepts RS256 and
nothing else, whatever a token's header says.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import threading
from typing import Any, Literal, Union, get_args

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

from .clock import now
from .errors import ConfigurationError, StoreError
from .stores import Store
from .verified import CACHE_SIZE, VerifiedCache

ALGORITHM = "HS256"  # the default: one shared secret
Algorithm = Literal["HS256", "RS256", "ES256", "EdDSA"]
ALGORITHMS: tuple[str, ...] = get_args(Algorithm)
ASYMMETRIC: tuple[str, ...] = ALGORITHMS[1:]  # signed with a private key, verified with its public half
RSA_BITS = 2048  # RFC 7518 section 3.3: 2048 bits or more for RS256
PrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey]
KEY_TYPES: dict[str, type] = {
    "RS256": rsa.RSAPrivateKey, "ES256": ec.EllipticCurvePrivateKey, "EdDSA": ed25519.Ed25519PrivateKey
}
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})  # JWK members that must never be published
MIN_SECRET_BYTES = 32  # RFC 7518 section 3.2: an HS256 key at least as long as the hash
TOKEN_LIFETIME = 24 * 60 * 60  # seconds, the lesson's expiresIn: '24h'
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "iss", "aud"]
ISSUER = "authcourse"  # `iss`: who issued the token (RFC 7519 section 4.1.1)
AUDIENCE = "authcourse-api"  # `aud`: the service the token is for; a token for any other is refused
SECRET_ENV = "AUTHCOURSE_SECRET"
SIGNING_KEY_ENV = "AUTHCOURSE_SIGNING_KEY"  # a PEM private key file: servers that share it share their key set


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


def load_key_set(algorithm: str, path: str | os.PathLike[str] | None = None) -> KeySet:
    """The key set of an asymmetric algorithm: the PEM private key at `path`, else at $AUTHCOURSE_SIGNING_KEY,
    else a new random key for this process.

    Like a random HS256 secret, a random key is fine for one server and fatal for two behind one
    balancer: each refuses the other's tokens. Make one with, for example,
    `openssl genpkey -algorithm ed25519 -out signing.pem` (EdDSA),
    `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out signing.pem` (ES256) or
    `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out signing.pem` (RS256).
    """
    path = path if path is not None else os.environ.get(SIGNING_KEY_ENV)
    if path is None:
        return KeySet(algorithm)
    try:
        with open(path, "rb") as pem:
            key = serialization.load_pem_private_key(pem.read(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise ConfigurationError(
            f"cannot read a PEM private key (unencrypted) from {os.fspath(path)!r}: {error}"
        ) from None
    keys = KeySet(algorithm, generate=False)
    keys.add_key(key)  # type: ignore[arg-type]  # add_key says which key types the algorithm takes
    return keys


def _in_time_window(claims: dict[str, Any], at: float) -> bool:
    """PyJWT's own time rules, for a token it has already verified: issued, started, not expired."""
    issued_at = int(claims["iat"])  # PyJWT accepted these as int()-able when it verified the token
    return issued_at <= at and int(claims.get("nbf", issued_at)) <= at < int(claims["exp"])


def generate_private_key(algorithm: str) -> PrivateKey:
    """A new private key for an asymmetric algorithm: RSA 2048, P-256 or Ed25519."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ConfigurationError(f"no key pair for {algorithm!r}: the key set's algorithms are {', '.join(ASYMMETRIC)}")


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the key's required public members, in order, as base64url (the default `kid`)."""
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class KeySet:
    """The private signing keys of one asymmetric algorithm, by `kid`: the newest signs, every listed key verifies.

    `jwks()` is what may be published: public members only (tests/test_keys.py checks that no
    private member ever appears). `generation` counts retirements, so that a `TokenService`
    can forget signatures it remembered from a key that is gone.
    """

    def __init__(self, algorithm: str = "RS256", *, generate: bool = True) -> None:
        if algorithm not in ASYMMETRIC:
            raise ConfigurationError(f"a key set signs with {', '.join(ASYMMETRIC)}, not {algorithm!r}")
        self.algorithm = algorithm
        self._private: dict[str, PrivateKey] = {}
        self._public: dict[str, Any] = {}
        self._jwks: dict[str, dict[str, Any]] = {}
        self.signing_kid: str | None = None
        self.generation = 0
        self._lock = threading.Lock()
        if generate:
            self.add_key()

    @property
    def kids(self) -> list[str]:
        """The kids that verify, oldest first."""
        with self._lock:
            return list(self._private)

    def add_key(self, key: PrivateKey | None = None, *, kid: str | None = None, sign: bool = True) -> str:
        """Add `key` (a new one if None); the keys already here still verify. Its kid.

        `sign=True` makes it the signer at once. `sign=False` only publishes it: verifiers that cache
        the key set learn it before any token needs it, and `promote(kid)` makes it the signer later.
        """
        key = key if key is not None else generate_private_key(self.algorithm)
        if not isinstance(key, KEY_TYPES[self.algorithm]):
            raise ConfigurationError(f"a {self.algorithm} key set takes {KEY_TYPES[self.algorithm].__name__}, "
                                     f"not {type(key).__name__}")
        if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, ec.SECP256R1):
            raise ConfigurationError(f"ES256 signs with P-256 (RFC 7518 section 3.4), not {key.curve.name}")
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size < RSA_BITS:
            raise ConfigurationError(f"an RSA key of {key.key_size} bits; RS256 needs at least {RSA_BITS}")
        public_jwk = get_default_algorithms()[self.algorithm].to_jwk(key.public_key(), as_dict=True)
        kid = kid or thumbprint(public_jwk)
        public = jwt.PyJWK({**public_jwk, "kid": kid}, algorithm=self.algorithm).key
        with self._lock:
            if kid in self._private:
                raise ConfigurationError(f"the key set already has a key with kid {kid!r}")
            self._private[kid] = key
            self._public[kid] = public
            self._jwks[kid] = {**public_jwk, "kid": kid, "alg": self.algorithm, "use": "sig"}
            if sign or self.signing_kid is None:
                self.signing_kid = kid
        return kid

    def promote(self, kid: str) -> None:
        """Make a key already in the set the signer (after publishing it with `add_key(sign=False)`)."""
        with self._lock:
            if kid not in self._private:
                raise ConfigurationError(f"no key with kid {kid!r} in the key set")
            self.signing_kid = kid

    def retire(self, kid: str) -> None:
        """Remove a key: tokens it signed are refused from now on. The signing key cannot be retired."""
        with self._lock:
            if kid not in self._private:
                raise ConfigurationError(f"no key with kid {kid!r} in the key set")
            if kid == self.signing_kid:
                raise ConfigurationError("the signing key cannot be retired: add_key() a new signer first")
            for table in (self._private, self._public, self._jwks):
                del table[kid]
            self.generation += 1

    def signing_key(self) -> tuple[str, PrivateKey]:
        """The signer's kid and private key (read together, so a rotation cannot split them)."""
        with self._lock:
            assert self.signing_kid is not None
            return self.signing_kid, self._private[self.signing_kid]

    def public_key(self, kid: object) -> Any:
        """The public key named by a token's `kid`; `jwt.InvalidTokenError` for a missing or unknown one."""
        if not isinstance(kid, str):
            raise jwt.InvalidTokenError("the token names no key (kid)")
        public = self._public.get(kid)
        if public is None:
            raise jwt.InvalidTokenError("the token's kid is not in the key set (unknown or retired)")
        return public

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public JWK Set (RFC 7517 section 5): what `/.well-known/jwks.json` serves."""
        with self._lock:  # a key added or retired meanwhile must not change the dict under this loop
            return {"keys": [dict(jwk) for jwk in self._jwks.values()]}


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
        algorithm: str = ALGORITHM,
        keys: KeySet | None = None,
    ) -> None:
        """`algorithm` HS256 signs with `secret`; RS256, ES256 or EdDSA with `keys` (a new KeySet if None)."""
        if algorithm not in ALGORITHMS:
            raise ConfigurationError(f"algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}")
        if algorithm == ALGORITHM and keys is not None:
            raise ConfigurationError("HS256 signs with the secret; a key set needs RS256, ES256 or EdDSA")
        if keys is not None and keys.algorithm != algorithm:
            raise ConfigurationError(f"the key set is {keys.algorithm}, the service {algorithm}")
        self.algorithm = algorithm
        self.keys = keys if keys is not None or algorithm == ALGORITHM else load_key_set(algorithm)
        self._generation = self.keys.generation if self.keys else 0
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
        if self.keys is None:
            return jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        kid, key = self.keys.signing_key()
        return jwt.encode(claims, key, algorithm=self.algorithm, headers={"kid": kid})

    def verification_key(self, token: str) -> Any:
        """HS256: the secret. Otherwise the public key the token's `kid` names (the only thing read from its header)."""
        if self.keys is None:
            return self._secret
        return self.keys.public_key(jwt.get_unverified_header(token).get("kid"))

    def decode_token(self, token: str) -> dict[str, Any]:
        """The claims of a token whose signature and times check out; else `jwt.InvalidTokenError`."""
        generation = self.keys.generation if self.keys is not None else 0
        if generation != self._generation:
            self.verified.clear()  # a key was retired: what it signed must be checked again, and refused
            self._generation = generation
        claims = self.verified.get(token)
        if claims is not None and _in_time_window(claims, now()):
            return dict(claims)
        # Unknown, or outside its time window now: PyJWT decides, and raises the precise error.
        claims = jwt.decode(
            token,
            self.verification_key(token),
            algorithms=[self.algorithm],  # pinned: the header's `alg` is never what decides
            issuer=self.issuer,
            audience=self.audience,
            options={"require": REQUIRED_CLAIMS, "strict_aud": True},
        )
        if self.keys is None or self.keys.generation == generation:  # no key retired while we checked
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
